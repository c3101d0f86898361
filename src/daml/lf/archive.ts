import { createHash } from 'node:crypto';
import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import type { LanguageVersion, Package, PackageId } from './ast.js';
import { decodePackage } from './decode.js';
import { WireReader } from './wire.js';

/*
 * The dalf envelope (`daml_lf.proto`): `Archive { hash_function = 1; payload = 3; hash = 4 }` around
 * `ArchivePayload { minor = 3; patch = 5; oneof { daml_lf_1 = 2; daml_lf_2 = 4 } }`. The package id is the
 * lowercase hex SHA-256 of the raw payload bytes; it is recomputed here and must equal `Archive.hash`.
 */

export const SUPPORTED_LANGUAGE_VERSIONS: readonly LanguageVersion[] = ['2.1', '2.2'];

interface ParsedArchive {
  readonly packageId: PackageId;
  /** The `ArchivePayload` bytes the package id hashes. */
  readonly payload: Uint8Array;
  /** `major.minor` as written in the payload, e.g. `2.1`, `2.dev`, `1.15`. */
  readonly version: string;
  readonly patch: number;
  readonly major: 1 | 2 | undefined;
  readonly lf: Uint8Array | undefined;
}

function parseArchive(bytes: Uint8Array, context: string): ParsedArchive {
  const r = new WireReader(bytes, context);
  let hashFunction = 0;
  let payload: Uint8Array = new Uint8Array(0);
  let hash = '';
  while (r.pos < bytes.length) {
    switch (r.tag()) {
      case 1:
        hashFunction = r.int32();
        break;
      case 3:
        payload = r.bytes();
        break;
      case 4:
        hash = r.string();
        break;
      default:
        r.skip();
    }
  }
  if (hashFunction !== 0)
    throw new WeftError(
      DamlLfErrors.DAML_LF_UNKNOWN_ENUM,
      `${context}: unknown Archive.hash_function ${hashFunction}`,
    );
  const packageId = createHash('sha256').update(payload).digest('hex');
  if (packageId !== hash)
    throw new WeftError(
      DamlLfErrors.DAR_HASH_MISMATCH,
      `${context}: payload SHA-256 is ${packageId} but the archive records ${JSON.stringify(hash)}`,
      { packageId, recordedHash: hash },
    );

  const p = new WireReader(payload, `${context} (payload)`);
  let minor = '';
  let patch = 0;
  let major: 1 | 2 | undefined;
  let lf: Uint8Array | undefined;
  while (p.pos < payload.length) {
    switch (p.tag()) {
      case 3:
        minor = p.string();
        break;
      case 5:
        patch = p.int32();
        break;
      case 2:
        major = 1;
        lf = p.bytes();
        break;
      case 4:
        major = 2;
        lf = p.bytes();
        break;
      default:
        p.skip();
    }
  }
  return { packageId, payload, version: `${major ?? '?'}.${minor}`, patch, major, lf };
}

/** The `ArchivePayload` of a dalf (what the Ledger API's GetPackage serves), its hash verified. */
export function archivePayload(bytes: Uint8Array, context: string): Uint8Array {
  return parseArchive(bytes, context).payload;
}

/**
 * Decodes a dalf (`Archive` bytes): verifies the hash, gates the language version and decodes the package
 * (module bodies lazily). `context` names the archive in error messages.
 */
export function decodeArchive(bytes: Uint8Array, context: string): Package {
  const a = parseArchive(bytes, context);
  if (a.major === undefined || a.lf === undefined)
    throw new WeftError(
      DamlLfErrors.DAML_LF_MALFORMED,
      `${context}: ArchivePayload holds no Daml-LF package`,
      {
        packageId: a.packageId,
      },
    );
  const version = a.version as LanguageVersion;
  if (a.major !== 2 || !SUPPORTED_LANGUAGE_VERSIONS.includes(version))
    throw new WeftError(
      DamlLfErrors.DAML_LF_UNSUPPORTED_VERSION,
      `${context}: Daml-LF ${a.version} is not supported (supported: ${SUPPORTED_LANGUAGE_VERSIONS.join(', ')})`,
      { packageId: a.packageId, version: a.version },
    );
  if (a.patch !== 0)
    throw new WeftError(
      DamlLfErrors.DAML_LF_UNSUPPORTED_VERSION,
      `${context}: unknown patch version ${a.patch} for Daml-LF ${a.version}`,
      { packageId: a.packageId, version: a.version },
    );
  return decodePackage(a.packageId, version, a.lf, context);
}
