import { defineErrorCode } from '../errors/index.js';

/** Errors of the DAR reader, the Daml-LF decoder and the package registry. */
export const DamlLfErrors = {
  DAR_NOT_A_ZIP: defineErrorCode(
    'DAR_NOT_A_ZIP',
    'InvalidIndependentOfSystemState',
    'The DAR file is not a readable zip archive (truncated, corrupted or another format).',
    'Check that the file is a DAR built by damlc and was copied completely.',
  ),
  DAR_TOO_LARGE: defineErrorCode(
    'DAR_TOO_LARGE',
    'InvalidIndependentOfSystemState',
    "The DAR has more zip entries, or its manifest and dalfs inflate to more bytes, than the participant's DAR limits allow; reading stopped at the bound (a zip bomb is refused this way).",
    'Split the package set into smaller DARs, or raise participant.max-dar-inflated-bytes or participant.max-dar-entries if the DAR is trusted.',
  ),
  DAR_MANIFEST_MISSING: defineErrorCode(
    'DAR_MANIFEST_MISSING',
    'InvalidIndependentOfSystemState',
    'The DAR has no META-INF/MANIFEST.MF entry.',
    'Rebuild the DAR with damlc; a DAR must carry META-INF/MANIFEST.MF.',
  ),
  DAR_MANIFEST_INVALID: defineErrorCode(
    'DAR_MANIFEST_INVALID',
    'InvalidIndependentOfSystemState',
    'The DAR manifest lacks a required attribute, has an unsupported Format, or lists a dalf the zip does not hold.',
    'Rebuild the DAR with damlc, or fix the manifest attribute the message names.',
  ),
  DAR_HASH_MISMATCH: defineErrorCode(
    'DAR_HASH_MISMATCH',
    'InvalidIndependentOfSystemState',
    'The SHA-256 of an archive payload differs from the hash recorded in the archive: the dalf was altered.',
    'Obtain an unaltered copy of the DAR, or rebuild it.',
  ),
  DAML_LF_UNSUPPORTED_VERSION: defineErrorCode(
    'DAML_LF_UNSUPPORTED_VERSION',
    'InvalidIndependentOfSystemState',
    'The archive uses a Daml-LF version Weft does not support (supported: 2.1 and 2.2).',
    'Build the package for Daml-LF 2.1 or 2.2 (a Daml 3.x SDK); Daml-LF 1 packages are not supported.',
  ),
  DAML_LF_MALFORMED: defineErrorCode(
    'DAML_LF_MALFORMED',
    'InvalidIndependentOfSystemState',
    'The Daml-LF archive is not valid protobuf or violates a Daml-LF well-formedness rule.',
    'Rebuild the DAR with damlc; an archive that fails this check was not produced by a compiler or was altered.',
  ),
  DAML_LF_UNKNOWN_ENUM: defineErrorCode(
    'DAML_LF_UNKNOWN_ENUM',
    'InvalidIndependentOfSystemState',
    'The Daml-LF archive holds an enum value (builtin, type, hash function…) this decoder does not know.',
    'Build the package with an SDK that targets Daml-LF 2.1 or 2.2, or report the unknown value if the SDK does.',
  ),
  DAML_LF_TYPE_ERROR: defineErrorCode(
    'DAML_LF_TYPE_ERROR',
    'InvalidIndependentOfSystemState',
    'A Daml-LF package fails validation (type checking, kinds, serializability): the message names the package, the definition and the mismatch.',
    "Fix the definition the message names and rebuild; an archive from damlc that fails here was altered, or hits a gap in Weft's checker worth reporting.",
  ),
  DAML_LF_PACKAGE_NOT_FOUND: defineErrorCode(
    'DAML_LF_PACKAGE_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No package with this id or name is known to the package registry.',
    'Upload the DAR holding the package (with its dependencies), or correct the package id or name.',
  ),
  DAML_LF_DEFINITION_NOT_FOUND: defineErrorCode(
    'DAML_LF_DEFINITION_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The package exists but defines no module, template, interface, choice or value with this name.',
    'Correct the module, template, interface, choice or value name (weft dar inspect lists them), or use the package version that defines it.',
  ),
  DAR_NOT_VALID_UPGRADE: defineErrorCode(
    'DAR_NOT_VALID_UPGRADE',
    'InvalidGivenCurrentSystemStateOther',
    'A package of the DAR is not a valid smart-contract upgrade of another version of its package name known to the participant (or that version is not a valid upgrade of it): the message names both packages and the first incompatibility (a missing template, choice or field, a changed type, a new non-Optional field…).',
    'Change the package so that it only appends Optional fields and constructors and keeps every template, choice and interface instance (see docs/daml-upgrades.md), give it a version that fits the chain, or upload it to a participant without the conflicting version.',
  ),
  KNOWN_PACKAGE_VERSION: defineErrorCode(
    'KNOWN_PACKAGE_VERSION',
    'InvalidGivenCurrentSystemStateOther',
    'A package of the DAR has the same package name and version as a different package already known to the participant; versions of a package name must be unique for upgrades to choose between them.',
    'Rebuild the package with a new version number.',
  ),
} as const;
