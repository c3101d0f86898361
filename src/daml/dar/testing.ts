/**
 * Where tests, benchmarks and examples find their DARs: vendored in the repository (`test/dars/README.md` says
 * where each comes from and under which licence) and resolved from this module, so a clone anywhere finds them.
 * Test and benchmark support; not shipped in the package.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import type { DefDataType, DefTemplate, Module, Package } from '../lf/ast.js';

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));

/** The folder of vendored test DARs. */
export const TEST_DARS = `${REPOSITORY}test/dars`;

/** A vendored test DAR by file name. */
export function testDar(file: string): string {
  return `${TEST_DARS}/${file}`;
}

/** Canton's admin workflow, used from where the package ships it rather than vendored twice. */
export const PING_DAR = `${REPOSITORY}resources/admin-workflow/ping-3.4.0.dar`;
/** A token implementing the token standard v1 interfaces. */
export const TOKEN_DAR = testDar('splice-test-token-v1-1.0.0.dar');
/** An OTC trading app settling multi-leg trades (DvP) over token-standard allocations. */
export const TRADING_DAR = testDar('splice-token-test-trading-app-1.0.2.dar');
/** The two smart-contract upgrade chains: one package name in several versions. */
export const DUMMY_HOLDING_DARS = ['0.0.1', '0.0.2', '0.0.3', '0.0.4'].map((v) =>
  testDar(`splice-token-test-dummy-holding-${v}.dar`),
);
export const TRADING_APP_DARS = ['1.0.0', '1.0.1', '1.0.2'].map((v) =>
  testDar(`splice-token-test-trading-app-${v}.dar`),
);

/**
 * A DAR whose main package is `file`'s with its version `from` relabelled `to` (same length), and so a new package
 * id: a real package claiming a place in an upgrade chain it does not fit (e.g. 0.0.1's content as 0.0.5, missing
 * what 0.0.2–0.0.4 added). Every occurrence of `from` in the main package's payload is replaced; the archive hash
 * is recomputed, so the DAR reads as well-formed.
 */
export function relabelledDar(file: string, from: string, to: string): Uint8Array {
  if (from.length !== to.length)
    throw new Error('the versions must have the same length (protobuf lengths stay)');
  const entries = unzipSync(readFileSync(file));
  const manifest = new TextDecoder().decode(entries['META-INF/MANIFEST.MF']!);
  const main = /^Main-Dalf: (.*)$/m.exec(manifest.replace(/\r?\n /g, ''))![1]!.trim();
  const archive = Buffer.from(entries[main]!);
  const replaceAll = (bytes: Buffer, a: string, b: string) => {
    const [x, y] = [Buffer.from(a), Buffer.from(b)];
    for (let i = bytes.indexOf(x); i >= 0; i = bytes.indexOf(x, i + 1)) y.copy(bytes, i);
  };
  const oldId = createHash('sha256').update(payloadOf(archive)).digest('hex');
  replaceAll(archive, from, to);
  const newId = createHash('sha256').update(payloadOf(archive)).digest('hex');
  replaceAll(archive, oldId, newId);
  entries[main] = archive;
  return zipSync(entries);
}

/** `Archive.payload` (field 3), the bytes a package id hashes: the archive's second field, after hash_function. */
function payloadOf(archive: Uint8Array): Uint8Array {
  let at = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = archive[at++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (at < archive.length) {
    const tag = varint();
    if ((tag & 7) === 0) varint();
    else if ((tag & 7) === 2) {
      const length = varint();
      if (tag >> 3 === 3) return archive.subarray(at, at + length);
      at += length;
    } else throw new Error(`unexpected wire type in an Archive: tag ${tag}`);
  }
  throw new Error('no payload in the Archive');
}

const DUMMY_HOLDING_MODULE = 'Splice.Api.Token.Test.DummyHolding';

/**
 * The dummy-holding package `v1` (0.0.1) as version 0.0.9 under `id`, its `DummyHolding` data type and template
 * edited: a later version that upgrades it validly or not, for upgrade tests at upload and at run time.
 */
export function editedDummyHolding(
  v1: Package,
  id: string,
  edit: { data?: (d: DefDataType) => DefDataType; template?: (t: DefTemplate) => DefTemplate },
): Package {
  const m = v1.module(DUMMY_HOLDING_MODULE)!;
  const module: Module = {
    ...m,
    dataTypes: new Map(
      [...m.dataTypes].map(([k, d]) => [k, k === 'DummyHolding' && edit.data ? edit.data(d) : d]),
    ),
    templates: new Map(
      [...m.templates].map(([k, t]) => [k, k === 'DummyHolding' && edit.template ? edit.template(t) : t]),
    ),
  };
  return {
    ...v1,
    id,
    metadata: { ...v1.metadata, version: '0.0.9' },
    moduleNames: v1.moduleNames,
    module: (name) => (name === DUMMY_HOLDING_MODULE ? module : v1.module(name)),
    modules: () => v1.modules().map((x) => (x.name.join('.') === DUMMY_HOLDING_MODULE ? module : x)),
  };
}

/** Rejected by validation: a value whose body does not have its declared type. */
export const ILLFORMED_DAR = testDar('illformed.dar');
/** Rejected as an unsupported version: legacy Daml-LF 1.15. */
export const LEGACY_LF1_DAR = testDar('dummy-lf1.15.dar');

/**
 * A zip bomb: a DAR-shaped zip whose one dalf is a deflate stream of at least `inflatedBytes` zeros (one fixed
 * Huffman block of length-258, distance-1 copies: ~6.5 MB per GiB), built in memory. Its headers declare 1 KiB
 * inflated, so a reader that trusts them is fooled; CRCs are zero.
 */
export function zipBomb(inflatedBytes: number): Uint8Array {
  const copies = Math.ceil((inflatedBytes - 1) / 258);
  const deflate = new Uint8Array(Math.ceil((3 + 8 + copies * 13 + 7) / 8));
  let bit = 0;
  const write = (code: number, length: number, lsbFirst = false) => {
    for (let i = 0; i < length; i++) {
      const b = lsbFirst ? (code >> i) & 1 : (code >> (length - 1 - i)) & 1;
      deflate[bit >> 3]! |= b << (bit & 7);
      bit++;
    }
  };
  write(0b011, 3, true); // BFINAL, fixed Huffman codes
  write(0x30, 8); // literal 0
  for (let i = 0; i < copies; i++) write(0xc5 << 5, 13); // length 258 (code 285), distance 1 (code 0)
  write(0, 7); // end of block
  return zipOf([
    { name: 'META-INF/MANIFEST.MF', data: new TextEncoder().encode('Main-Dalf: bomb.dalf\n'), method: 0 },
    { name: 'bomb.dalf', data: deflate, method: 8 },
  ]);
}

/** A zip of the given entries, already compressed by `method`; every size it declares for inflating is 1 KiB. */
function zipOf(entries: readonly { name: string; data: Uint8Array; method: number }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const header = (signature: number, fields: readonly [number, 2 | 4][]) => {
    const out = new DataView(new ArrayBuffer(4 + fields.reduce((n, [, size]) => n + size, 0)));
    out.setUint32(0, signature, true);
    let at = 4;
    for (const [value, size] of fields) {
      if (size === 2) out.setUint16(at, value, true);
      else out.setUint32(at, value, true);
      at += size;
    }
    return new Uint8Array(out.buffer);
  };
  for (const { name, data, method } of entries) {
    const nameBytes = new TextEncoder().encode(name);
    // version, flags, method, time, date, crc, compressed size, declared size, name length, extra length
    const common: [number, 2 | 4][] = [
      [20, 2],
      [0, 2],
      [method, 2],
      [0, 2],
      [0, 2],
      [0, 4],
      [data.length, 4],
      [1024, 4],
      [nameBytes.length, 2],
      [0, 2],
    ];
    parts.push(header(0x04034b50, common), nameBytes, data);
    // version made by, common fields, comment length, disk, internal and external attributes, local header offset
    central.push(
      header(0x02014b50, [[20, 2], ...common, [0, 2], [0, 2], [0, 2], [0, 4], [offset, 4]]),
      nameBytes,
    );
    offset += 30 + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((n, p) => n + p.length, 0);
  const end = header(0x06054b50, [
    [0, 2],
    [0, 2],
    [entries.length, 2],
    [entries.length, 2],
    [centralSize, 4],
    [offset, 4],
    [0, 2],
  ]);
  const all = [...parts, ...central, end];
  const zip = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    zip.set(p, at);
    at += p.length;
  }
  return zip;
}
