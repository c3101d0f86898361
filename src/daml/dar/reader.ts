import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import { decodeArchive } from '../lf/archive.js';
import type { Package } from '../lf/ast.js';
import { type DarManifest, parseDarManifest } from './manifest.js';

const MANIFEST_PATH = 'META-INF/MANIFEST.MF';

/** A decoded DAR: its main package and the full dependency closure shipped with it. */
export interface Dar {
  readonly manifest: DarManifest;
  readonly main: Package;
  /** Every package of the DAR, main first, then in manifest order; one entry per distinct package id. */
  readonly packages: readonly Package[];
  /** Zip path of each dalf with the package id computed from it. */
  readonly dalfs: readonly { readonly path: string; readonly packageId: string }[];
}

/** DARs read lately, by the SHA-256 of their bytes (insertion order is recency): a bounded LRU. */
const recent = new Map<string, Dar>();
/** Nodes of one process (tests, the simulation) read the same few DARs; each decoded DAR holds megabytes. */
const RECENT_DARS = 8;

/**
 * Reads a DAR from its bytes: unzips the manifest and the dalfs it lists (`.daml`, `.hi`, `.hie` entries are
 * never inflated), checks every archive hash and decodes every package. Module bodies decode lazily. The same
 * bytes give the same (immutable) decoded DAR, so its packages are decoded and type checked once per process.
 */
export function readDar(bytes: Uint8Array): Dar {
  const key = createHash('sha256').update(bytes).digest('hex');
  const hit = recent.get(key);
  if (hit !== undefined) {
    recent.delete(key);
    recent.set(key, hit);
    return hit;
  }
  const dar = decodeDar(bytes);
  recent.set(key, dar);
  if (recent.size > RECENT_DARS) recent.delete(recent.keys().next().value!);
  return dar;
}

/** Reads a DAR without the cache of recent ones: a decoding no one else shares (its packages unchecked). */
export function decodeDar(bytes: Uint8Array): Dar {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => f.name === MANIFEST_PATH || f.name.endsWith('.dalf') });
  } catch (e) {
    throw new WeftError(
      DamlLfErrors.DAR_NOT_A_ZIP,
      `not a readable zip archive (${(e as Error).message})`,
      {},
      {
        cause: e,
      },
    );
  }
  const manifestBytes = files[MANIFEST_PATH];
  if (manifestBytes === undefined)
    throw new WeftError(DamlLfErrors.DAR_MANIFEST_MISSING, `the DAR has no ${MANIFEST_PATH}`);
  const manifest = parseDarManifest(new TextDecoder().decode(manifestBytes));

  const packages = new Map<string, Package>();
  const dalfs: { path: string; packageId: string }[] = [];
  for (const path of manifest.dalfs) {
    const bytes = files[path];
    if (bytes === undefined)
      throw new WeftError(
        DamlLfErrors.DAR_MANIFEST_INVALID,
        `the manifest lists ${path}, which the DAR lacks`,
      );
    const pkg = decodeArchive(bytes, path.slice(path.lastIndexOf('/') + 1));
    dalfs.push({ path, packageId: pkg.id });
    if (!packages.has(pkg.id)) packages.set(pkg.id, pkg);
  }
  const all = [...packages.values()];
  return { manifest, main: all[0]!, packages: all, dalfs };
}

/** Reads and decodes a DAR file. */
export function readDarFile(path: string): Dar {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WeftError(
      code === 'ENOENT' ? CommonErrors.NOT_FOUND : CommonErrors.INVALID_ARGUMENT,
      `cannot read ${path}: ${code ?? (e as Error).message}`,
      {},
      { cause: e },
    );
  }
  return readDar(bytes);
}
