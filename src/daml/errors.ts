import { defineErrorCode } from '../errors/index.js';

/** Errors of the DAR reader, the Daml-LF decoder and the package registry. */
export const DamlLfErrors = {
  DAR_NOT_A_ZIP: defineErrorCode(
    'DAR_NOT_A_ZIP',
    'InvalidIndependentOfSystemState',
    'The DAR file is not a readable zip archive (truncated, corrupted or another format).',
  ),
  DAR_MANIFEST_MISSING: defineErrorCode(
    'DAR_MANIFEST_MISSING',
    'InvalidIndependentOfSystemState',
    'The DAR has no META-INF/MANIFEST.MF entry.',
  ),
  DAR_MANIFEST_INVALID: defineErrorCode(
    'DAR_MANIFEST_INVALID',
    'InvalidIndependentOfSystemState',
    'The DAR manifest lacks a required attribute, has an unsupported Format, or lists a dalf the zip does not hold.',
  ),
  DAR_HASH_MISMATCH: defineErrorCode(
    'DAR_HASH_MISMATCH',
    'InvalidIndependentOfSystemState',
    'The SHA-256 of an archive payload differs from the hash recorded in the archive: the dalf was altered.',
  ),
  DAML_LF_UNSUPPORTED_VERSION: defineErrorCode(
    'DAML_LF_UNSUPPORTED_VERSION',
    'InvalidIndependentOfSystemState',
    'The archive uses a Daml-LF version Weft does not support (supported: 2.1 and 2.2).',
  ),
  DAML_LF_MALFORMED: defineErrorCode(
    'DAML_LF_MALFORMED',
    'InvalidIndependentOfSystemState',
    'The Daml-LF archive is not valid protobuf or violates a Daml-LF well-formedness rule.',
  ),
  DAML_LF_UNKNOWN_ENUM: defineErrorCode(
    'DAML_LF_UNKNOWN_ENUM',
    'InvalidIndependentOfSystemState',
    'The Daml-LF archive holds an enum value (builtin, type, hash function…) this decoder does not know.',
  ),
  DAML_LF_TYPE_ERROR: defineErrorCode(
    'DAML_LF_TYPE_ERROR',
    'InvalidIndependentOfSystemState',
    'A Daml-LF package fails validation (type checking, kinds, serializability): the message names the package, the definition and the mismatch.',
  ),
  DAML_LF_PACKAGE_NOT_FOUND: defineErrorCode(
    'DAML_LF_PACKAGE_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No package with this id or name is known to the package registry.',
  ),
  DAML_LF_DEFINITION_NOT_FOUND: defineErrorCode(
    'DAML_LF_DEFINITION_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The package exists but defines no module, template, interface, choice or value with this name.',
  ),
} as const;
