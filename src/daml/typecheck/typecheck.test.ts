import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { type Dar, readDarFile } from '../dar/index.js';
import { decodeDar } from '../dar/reader.js';
import { ILLFORMED_DAR, PING_DAR, TOKEN_DAR, TRADING_DAR } from '../dar/testing.js';
import { PackageRegistry } from '../lf/index.js';
import {
  checkPackage,
  formatTypeCheckError,
  loadAndValidateDar,
  validateDar,
  validatePackage,
} from './index.js';

const VALID = [PING_DAR, TOKEN_DAR, TRADING_DAR];
const ILLFORMED_ID = 'dc0563f935abf08b498003bcf8ec6b070a619ff05ae4a091572863947cc8901c';
const ILLFORMED_REASON =
  `DAML_LF_TYPE_ERROR: package ${ILLFORMED_ID} (encoder_binary 1.0.0) fails type checking: ` +
  'Mod:x: type mismatch: expected Bool, found Unit';

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isWeftError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a WeftError');
}

describe('package validation on the shared DARs', () => {
  const dars = new Map<string, Dar>();
  beforeAll(() => {
    for (const f of VALID) dars.set(f, readDarFile(f));
  });

  it('type-checks every package of the valid DARs, dependencies included, with zero errors', () => {
    let checked = 0;
    for (const [file, dar] of dars) {
      const registry = new PackageRegistry();
      registry.addAll(dar.packages);
      for (const pkg of dar.packages) {
        const errors = checkPackage(registry, pkg.id).map(formatTypeCheckError);
        expect({ file, pkg: pkg.metadata.name, errors }).toEqual({
          file,
          pkg: pkg.metadata.name,
          errors: [],
        });
        checked++;
      }
    }
    expect(checked).toBe(30 + 45 + 36);
  });

  it('caches the result per package: a second check returns the same result without work', () => {
    const dar = dars.get(PING_DAR)!;
    const registry = new PackageRegistry();
    registry.addAll(dar.packages);
    const first = checkPackage(registry, dar.main.id);
    expect(checkPackage(registry, dar.main.id)).toBe(first);
    const t0 = performance.now();
    validateDar(dar, registry);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('rejects illformed.dar: Mod:x is declared Bool but defined as ()', () => {
    const dar = readDarFile(ILLFORMED_DAR);
    const registry = new PackageRegistry();
    registry.addAll(dar.packages);
    expect(checkPackage(registry, ILLFORMED_ID)).toEqual([
      { packageId: ILLFORMED_ID, definition: 'Mod:x', message: 'type mismatch: expected Bool, found Unit' },
    ]);
    expect(errorOf(() => validatePackage(registry, ILLFORMED_ID))).toBe(ILLFORMED_REASON);
    expect(errorOf(() => validateDar(dar))).toBe(ILLFORMED_REASON);
  });

  it('loadAndValidateDar adds a valid DAR to the registry and leaves it unchanged on failure', () => {
    const registry = new PackageRegistry();
    expect(errorOf(() => loadAndValidateDar(readFileSync(ILLFORMED_DAR), registry))).toBe(ILLFORMED_REASON);
    expect(registry.size).toBe(0);
    const dar = loadAndValidateDar(readFileSync(PING_DAR), registry);
    expect(registry.size).toBe(30);
    expect(registry.lookupPackage(dar.main.id)).toBe(dar.main);
    // A second DAR sharing dependencies validates against (and keeps) the packages already loaded.
    const stdlib = registry.packages().find((p) => p.metadata.name === 'daml-stdlib')!;
    loadAndValidateDar(readFileSync(PING_DAR), registry);
    expect(registry.size).toBe(30);
    expect(registry.lookupPackage(stdlib.id)).toBe(stdlib);
  });

  it('reports a dependency missing from the registry, and does not cache that result', () => {
    // A fresh decoding: results are cached per decoded package, and readDar's shared one was checked above.
    const dar = decodeDar(readFileSync(PING_DAR));
    const partial = new PackageRegistry();
    partial.add(dar.main);
    const errors = checkPackage(partial, dar.main.id).map(formatTypeCheckError);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => /unknown package [0-9a-f]{64}/.test(e))).toBe(true);
    const full = new PackageRegistry();
    full.addAll(dar.packages);
    expect(checkPackage(full, dar.main.id)).toEqual([]);
  });
});
