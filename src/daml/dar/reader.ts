import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Inflate } from 'fflate';
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
  /** Zip path of each dalf with the package id computed from it, and its `Archive` bytes. */
  readonly dalfs: readonly {
    readonly path: string;
    readonly packageId: string;
    readonly archive: Uint8Array;
  }[];
}

/**
 * Bounds on what reading one DAR may inflate (see the participant's `max-dar-*` settings): a zip bomb of a few
 * megabytes otherwise inflates to gigabytes in memory.
 */
export interface DarLimits {
  /** Bytes the manifest and the dalfs may inflate to in total; inflating stops at the bound. */
  readonly maxInflatedBytes: number;
  /** Entries of the zip's central directory. */
  readonly maxEntries: number;
}

/** Ten times the largest DAR of test/dars (2.6 MB inflated, 50 entries) would still be far below these. */
export const DEFAULT_DAR_LIMITS: DarLimits = Object.freeze({
  maxInflatedBytes: 512 * 1024 * 1024,
  maxEntries: 10_000,
});

/** A decoded DAR with what reading it took, so that a cached one is held to the limits of each read. */
interface Read {
  readonly dar: Dar;
  readonly inflatedBytes: number;
  readonly entries: number;
}

/** DARs read lately, by the SHA-256 of their bytes (insertion order is recency): a bounded LRU. */
const recent = new Map<string, Read>();
/** Nodes of one process (tests, the simulation) read the same few DARs; each decoded DAR holds megabytes. */
const RECENT_DARS = 8;

/**
 * Reads a DAR from its bytes: unzips the manifest and the dalfs it lists (`.daml`, `.hi`, `.hie` entries are
 * never inflated), checks every archive hash and decodes every package. Module bodies decode lazily. The same
 * bytes give the same (immutable) decoded DAR, so its packages are decoded and type checked once per process.
 */
export function readDar(bytes: Uint8Array, limits: DarLimits = DEFAULT_DAR_LIMITS): Dar {
  const key = createHash('sha256').update(bytes).digest('hex');
  const hit = recent.get(key);
  if (hit !== undefined) {
    checkEntries(hit.entries, limits);
    checkInflated(hit.inflatedBytes, limits);
    recent.delete(key);
    recent.set(key, hit);
    return hit.dar;
  }
  const read = readEntries(bytes, limits);
  recent.set(key, read);
  if (recent.size > RECENT_DARS) recent.delete(recent.keys().next().value!);
  return read.dar;
}

/** Reads a DAR without the cache of recent ones: a decoding no one else shares (its packages unchecked). */
export function decodeDar(bytes: Uint8Array, limits: DarLimits = DEFAULT_DAR_LIMITS): Dar {
  return readEntries(bytes, limits).dar;
}

function readEntries(bytes: Uint8Array, limits: DarLimits): Read {
  const { files, inflatedBytes, entries } = unzip(bytes, limits);
  const manifestBytes = files.get(MANIFEST_PATH);
  if (manifestBytes === undefined)
    throw new WeftError(DamlLfErrors.DAR_MANIFEST_MISSING, `the DAR has no ${MANIFEST_PATH}`);
  const manifest = parseDarManifest(new TextDecoder().decode(manifestBytes));

  const packages = new Map<string, Package>();
  const dalfs: { path: string; packageId: string; archive: Uint8Array }[] = [];
  for (const path of manifest.dalfs) {
    const bytes = files.get(path);
    if (bytes === undefined)
      throw new WeftError(
        DamlLfErrors.DAR_MANIFEST_INVALID,
        `the manifest lists ${path}, which the DAR lacks`,
      );
    const pkg = decodeArchive(bytes, path.slice(path.lastIndexOf('/') + 1));
    dalfs.push({ path, packageId: pkg.id, archive: bytes });
    if (!packages.has(pkg.id)) packages.set(pkg.id, pkg);
  }
  const all = [...packages.values()];
  return { dar: { manifest, main: all[0]!, packages: all, dalfs }, inflatedBytes, entries };
}

// ---- Unzipping within the limits ----

/**
 * Compressed input per inflate step: deflate expands at most ~1032:1, so one step's output stays under ~17 MB
 * however the entry is crafted, and the bound is checked after each step.
 */
const INFLATE_STEP = 16 * 1024;

/**
 * Inflates the manifest and the dalfs, found through the central directory (which, unlike the local headers,
 * locates every entry even when its sizes follow it in a data descriptor). The sizes the zip declares are not
 * trusted: inflating counts the bytes it produces and stops at `limits.maxInflatedBytes`.
 */
function unzip(
  bytes: Uint8Array,
  limits: DarLimits,
): { files: Map<string, Uint8Array>; inflatedBytes: number; entries: number } {
  const zip = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => (at + 2 <= bytes.length ? zip.getUint16(at, true) : notAZip('truncated'));
  const u32 = (at: number) => (at + 4 <= bytes.length ? zip.getUint32(at, true) : notAZip('truncated'));
  // The end of central directory record ends the zip, followed only by a comment of at most 64 KiB.
  const earliest = Math.max(0, bytes.length - 22 - 0xffff);
  let end = bytes.length - 22;
  while (end >= earliest && zip.getUint32(end, true) !== 0x06054b50) end -= 1;
  if (end < earliest) notAZip('no end of central directory');
  const entries = u16(end + 10);
  if (entries === 0xffff || u32(end + 16) === 0xffffffff) notAZip('zip64 archives are not DARs');
  checkEntries(entries, limits);
  const files = new Map<string, Uint8Array>();
  let inflatedBytes = 0;
  let header = u32(end + 16);
  for (let i = 0; i < entries; i++) {
    if (u32(header) !== 0x02014b50) notAZip(`central directory entry ${i} is malformed`);
    const method = u16(header + 10);
    const compressedSize = u32(header + 20);
    const nameLength = u16(header + 28);
    const local = u32(header + 42);
    if (header + 46 + nameLength > bytes.length) notAZip('truncated');
    const name = new TextDecoder().decode(bytes.subarray(header + 46, header + 46 + nameLength));
    header += 46 + nameLength + u16(header + 30) + u16(header + 32);
    if (name !== MANIFEST_PATH && !name.endsWith('.dalf')) continue;
    if (u32(local) !== 0x04034b50) notAZip(`${name} has no local header`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (compressedSize === 0xffffffff || start + compressedSize > bytes.length)
      notAZip(`${name} is truncated`);
    const compressed = bytes.subarray(start, start + compressedSize);
    const counted = (size: number) => {
      inflatedBytes += size;
      checkInflated(inflatedBytes, limits);
    };
    if (method === 0) {
      counted(compressed.length);
      files.set(name, compressed);
    } else if (method === 8) {
      files.set(name, inflate(compressed, name, counted));
    } else notAZip(`${name} uses compression method ${method}`);
  }
  return { files, inflatedBytes, entries };
}

/** Inflates in steps of {@link INFLATE_STEP}, reporting each step's output to `counted` (which throws at the bound). */
function inflate(compressed: Uint8Array, name: string, counted: (size: number) => void): Uint8Array {
  const chunks: Uint8Array[] = [];
  let ended = false;
  const inflater = new Inflate((chunk, final) => {
    counted(chunk.length);
    chunks.push(chunk);
    ended ||= final;
  });
  try {
    for (let at = 0; at < compressed.length || at === 0; at += INFLATE_STEP) {
      inflater.push(compressed.subarray(at, at + INFLATE_STEP), at + INFLATE_STEP >= compressed.length);
    }
  } catch (e) {
    if (e instanceof WeftError) throw e;
    return notAZip(`${name} does not inflate (${(e as Error).message})`, e);
  }
  if (!ended) notAZip(`${name} ends before its deflate stream does`);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function checkEntries(entries: number, limits: DarLimits): void {
  if (entries > limits.maxEntries)
    throw new WeftError(
      DamlLfErrors.DAR_TOO_LARGE,
      `the DAR has ${entries} zip entries, more than the limit of ${limits.maxEntries}`,
      { entries: String(entries), limit: String(limits.maxEntries) },
    );
}

function checkInflated(inflatedBytes: number, limits: DarLimits): void {
  if (inflatedBytes > limits.maxInflatedBytes)
    throw new WeftError(
      DamlLfErrors.DAR_TOO_LARGE,
      `the DAR inflates to more than the limit of ${limits.maxInflatedBytes} bytes (reading stopped there)`,
      { limit: String(limits.maxInflatedBytes) },
    );
}

function notAZip(reason: string, cause?: unknown): never {
  throw new WeftError(DamlLfErrors.DAR_NOT_A_ZIP, `not a readable zip archive (${reason})`, {}, { cause });
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
