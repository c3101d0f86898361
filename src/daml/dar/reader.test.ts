import { readdirSync, readFileSync } from 'node:fs';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { validateDar } from '../typecheck/index.js';
import { DEFAULT_DAR_LIMITS, decodeDar, readDar, readDarFile } from './reader.js';
import { ILLFORMED_DAR, LEGACY_LF1_DAR, PING_DAR, TEST_DARS, testDar, zipBomb } from './testing.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isWeftError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a WeftError');
}

describe('DAR reader on the shared DARs', () => {
  it('decodes every valid DAR with package ids equal to the dalf name suffixes', () => {
    const valid = [
      PING_DAR,
      ...readdirSync(TEST_DARS)
        .filter((f) => f.endsWith('.dar') && !['dummy-lf1.15.dar', 'illformed.dar'].includes(f))
        .map(testDar),
    ];
    expect(valid.length).toBeGreaterThanOrEqual(3);
    for (const file of valid) {
      const d = readDarFile(file);
      expect(d.dalfs.length).toBeGreaterThan(25);
      for (const { path, packageId } of d.dalfs) {
        expect(packageId).toMatch(/^[0-9a-f]{64}$/);
        expect(path.endsWith(`-${packageId}.dalf`)).toBe(true);
      }
      expect(d.main).toBe(d.packages[0]);
      expect(d.manifest.mainDalf.endsWith(`-${d.main.id}.dalf`)).toBe(true);
      // Every module body decodes (lazily, so force it).
      for (const p of d.packages) expect(p.modules()).toHaveLength(p.moduleNames.length);
    }
  });

  it('reads the ping DAR (LF 2.2 main, daml-prim and daml-stdlib; LF 2.1 stable packages)', () => {
    const d = readDarFile(PING_DAR);
    expect(d.manifest.name).toBe('canton-builtin-admin-workflow-ping-3.4.0');
    expect(d.manifest.sdkVersion).toBe('3.4.0-snapshot.20251020.14338.0.v0c8ae53c');
    expect(d.main.id).toBe('de2cc2f90eb523414ff54e899951dadd8789a4c07e0f71f6d6c9eaf57d412a54');
    expect(d.main.metadata).toEqual({ name: 'canton-builtin-admin-workflow-ping', version: '3.4.0' });
    expect(d.main.moduleNames).toEqual([
      'Canton.Internal.Ping',
      'Canton.Internal.Bong',
      'CantonBuiltinAdminWorkflowPing',
    ]);
    const versions = new Map<string, number>();
    for (const p of d.packages) versions.set(p.languageVersion, (versions.get(p.languageVersion) ?? 0) + 1);
    expect(Object.fromEntries(versions)).toEqual({ '2.2': 3, '2.1': 27 });
    expect(d.main.imports).toHaveLength(2);
  });

  it('rejects the LF 1.15 DAR as unsupported', () => {
    expect(codeOf(() => readDarFile(LEGACY_LF1_DAR))).toBe(
      'DAML_LF_UNSUPPORTED_VERSION: archive.dalf: Daml-LF 1.15 is not supported (supported: 2.1, 2.2)',
    );
  });

  it('decodes illformed.dar, which package validation then rejects: Mod:x is declared Bool but is ()', () => {
    // Canton rejects this DAR at package validation (ETypeMismatch), not while decoding: the reader decodes it and
    // the type checker (src/daml/typecheck) refuses it.
    const d = readDarFile(ILLFORMED_DAR);
    expect(d.main.id).toBe('dc0563f935abf08b498003bcf8ec6b070a619ff05ae4a091572863947cc8901c');
    expect(d.main.metadata).toEqual({ name: 'encoder_binary', version: '1.0.0' });
    expect(codeOf(() => validateDar(d))).toBe(
      'DAML_LF_TYPE_ERROR: package dc0563f935abf08b498003bcf8ec6b070a619ff05ae4a091572863947cc8901c ' +
        '(encoder_binary 1.0.0) fails type checking: Mod:x: type mismatch: expected Bool, found Unit',
    );
  });
});

describe('DAR reader on corrupted input', () => {
  const ping = readFileSync(PING_DAR);
  const entries = unzipSync(ping);
  const mainPath = Object.keys(entries).find((p) =>
    p.endsWith('-de2cc2f90eb523414ff54e899951dadd8789a4c07e0f71f6d6c9eaf57d412a54.dalf'),
  )!;

  it('reports a tampered payload as a hash mismatch', () => {
    const tampered = Uint8Array.from(entries[mainPath]!);
    tampered[1000] = tampered[1000]! ^ 0x20;
    const message = codeOf(() => readDar(zipSync({ ...entries, [mainPath]: tampered })));
    expect(message).toMatch(
      /^DAR_HASH_MISMATCH: canton-builtin-admin-workflow-ping-3\.4\.0-de2c.*\.dalf: payload SHA-256 is [0-9a-f]{64} but the archive records "de2cc2f9/,
    );
  });

  it('reports truncated or foreign bytes as not a zip', () => {
    expect(codeOf(() => readDar(ping.subarray(0, ping.length >> 1)))).toMatch(/^DAR_NOT_A_ZIP: /);
    expect(codeOf(() => readDar(strToU8('just text')))).toMatch(/^DAR_NOT_A_ZIP: /);
  });

  it('requires the manifest and every dalf it lists', () => {
    const { 'META-INF/MANIFEST.MF': _, ...noManifest } = entries;
    expect(codeOf(() => readDar(zipSync(noManifest)))).toBe(
      'DAR_MANIFEST_MISSING: the DAR has no META-INF/MANIFEST.MF',
    );
    const { [mainPath]: __, ...noMain } = entries;
    expect(codeOf(() => readDar(zipSync(noMain)))).toBe(
      `DAR_MANIFEST_INVALID: the manifest lists ${mainPath}, which the DAR lacks`,
    );
  });

  it('reports a missing file as not found', () => {
    expect(codeOf(() => readDarFile(testDar('absent.dar')))).toBe(
      `NOT_FOUND: cannot read ${testDar('absent.dar')}: ENOENT`,
    );
  });
});

describe('DAR reader limits', () => {
  const ping = readFileSync(PING_DAR);
  const MiB = 1024 * 1024;

  it('stops inflating a zip bomb at the bound, whatever its headers declare, in bounded memory', () => {
    const bomb = zipBomb(1024 * MiB);
    const limits = { ...DEFAULT_DAR_LIMITS, maxInflatedBytes: 32 * MiB };
    const rss = process.memoryUsage().rss;
    const peak = process.resourceUsage().maxRSS * 1024;
    expect(codeOf(() => readDar(bomb, limits))).toBe(
      `DAR_TOO_LARGE: the DAR inflates to more than the limit of ${32 * MiB} bytes (reading stopped there)`,
    );
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * MiB);
    expect(process.resourceUsage().maxRSS * 1024 - peak).toBeLessThan(100 * MiB);
  });

  it('bounds the entries before inflating any', () => {
    const entries = unzipSync(ping);
    const count = Object.keys(entries).length;
    const limits = { ...DEFAULT_DAR_LIMITS, maxEntries: count - 1 };
    expect(codeOf(() => decodeDar(ping, limits))).toBe(
      `DAR_TOO_LARGE: the DAR has ${count} zip entries, more than the limit of ${count - 1}`,
    );
    expect(decodeDar(ping, { ...limits, maxEntries: count }).dalfs.length).toBeGreaterThan(0);
  });

  it('holds a DAR read before to the limits of each read', () => {
    expect(readDar(ping).main.id).toMatch(/^[0-9a-f]{64}$/);
    expect(codeOf(() => readDar(ping, { ...DEFAULT_DAR_LIMITS, maxInflatedBytes: 1000 }))).toBe(
      'DAR_TOO_LARGE: the DAR inflates to more than the limit of 1000 bytes (reading stopped there)',
    );
  });
});
