/**
 * Daml-LF package validation: for each shared DAR, the time to type-check every package (dependencies included)
 * after decoding, excluded from the timing (every module body is decoded first). Each pass decodes the DAR anew,
 * since results are cached per decoded package; *cached* is a second `validateDar` on the same packages.
 * Cold = first pass in a fresh process (what `weft dar inspect` pays), warm = median of later passes.
 * Run: npx tsx bench/daml-typecheck.bench.ts
 */

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readDar } from '../src/daml/dar/index.js';
import { PING_DAR, TOKEN_DAR, TRADING_DAR } from '../src/daml/dar/testing.js';
import { PackageRegistry } from '../src/daml/lf/index.js';
import { checkPackage, validateDar } from '../src/daml/typecheck/index.js';

const DARS = [PING_DAR, TOKEN_DAR, TRADING_DAR];
const RUNS = 7;

interface Result {
  dar: string;
  packages: number;
  modules: number;
  definitions: number;
  coldCheckMs: number;
  warmCheckMs: number;
  warmDefinitionsPerSec: number;
  cachedMs: number;
  rssMiB: number;
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function pass(bytes: Uint8Array): {
  checkMs: number;
  cachedMs: number;
  modules: number;
  definitions: number;
} {
  const dar = readDar(bytes);
  const registry = new PackageRegistry();
  registry.addAll(dar.packages);
  let modules = 0;
  let definitions = 0;
  for (const p of dar.packages)
    for (const m of p.modules()) {
      modules++;
      definitions +=
        m.synonyms.size +
        m.dataTypes.size +
        m.values.size +
        m.templates.size +
        m.exceptions.size +
        m.interfaces.size;
    }
  let t0 = process.hrtime.bigint();
  for (const p of dar.packages)
    if (checkPackage(registry, p.id).length > 0) throw new Error(`${p.metadata.name} does not type-check`);
  const checkMs = ms(t0);
  t0 = process.hrtime.bigint();
  validateDar(dar, registry);
  return { checkMs, cachedMs: ms(t0), modules, definitions };
}

const results: Result[] = [];
for (const path of DARS) {
  const name = basename(path, '.dar');
  const bytes = readFileSync(path);
  const cold = pass(bytes);
  const warm = Array.from({ length: RUNS }, () => pass(bytes));
  const warmCheckMs = median(warm.map((w) => w.checkMs));
  results.push({
    dar: name,
    packages: readDar(bytes).packages.length,
    modules: cold.modules,
    definitions: cold.definitions,
    coldCheckMs: cold.checkMs,
    warmCheckMs,
    warmDefinitionsPerSec: Math.round((cold.definitions / warmCheckMs) * 1000),
    cachedMs: median(warm.map((w) => w.cachedMs)),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  });
}

const f = (x: number, d = 1) => x.toFixed(d).padStart(9);
console.log(
  'DAR                                  pkgs modules  defs  cold check  warm check   defs/s   cached    RSS MiB',
);
for (const r of results)
  console.log(
    `${r.dar.padEnd(36)} ${String(r.packages).padStart(4)} ${String(r.modules).padStart(7)} ${String(r.definitions).padStart(5)}` +
      `${f(r.coldCheckMs)}ms ${f(r.warmCheckMs)}ms ${String(r.warmDefinitionsPerSec).padStart(8)}${f(r.cachedMs, 2)}ms${f(r.rssMiB)}`,
  );
for (const r of results) console.log(JSON.stringify({ bench: 'daml-typecheck', ...r }));
