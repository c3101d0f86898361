/**
 * Daml-LF decoding: for each shared DAR, the time to read it (unzip the manifest and dalfs, check every
 * SHA-256, decode package metadata, module names and the type tables) and the time to decode every module
 * body of every package. Cold = first pass in a fresh process (what `weft dar inspect` pays), warm = median
 * of later passes. Run: npx tsx bench/daml-lf.bench.ts
 */

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { unzipSync } from 'fflate';
import { readDar } from '../src/daml/dar/index.js';
import { PING_DAR, TOKEN_DAR, TRADING_DAR } from '../src/daml/dar/testing.js';

const DARS = [PING_DAR, TOKEN_DAR, TRADING_DAR];
const RUNS = 7;

interface Result {
  dar: string;
  dalfs: number;
  dalfMiB: number;
  modules: number;
  coldReadMs: number;
  coldAllModulesMs: number;
  warmReadMs: number;
  warmAllModulesMs: number;
  rssMiB: number;
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function pass(bytes: Uint8Array): { readMs: number; modulesMs: number; dalfs: number; modules: number } {
  let t0 = process.hrtime.bigint();
  const dar = readDar(bytes);
  const readMs = ms(t0);
  t0 = process.hrtime.bigint();
  let modules = 0;
  for (const p of dar.packages) modules += p.modules().length;
  return { readMs, modulesMs: ms(t0), dalfs: dar.dalfs.length, modules };
}

const results: Result[] = [];
for (const path of DARS) {
  const name = basename(path, '.dar');
  const bytes = readFileSync(path);
  const cold = pass(bytes);
  const warm = Array.from({ length: RUNS }, () => pass(bytes));
  const dalfs = unzipSync(bytes, { filter: (e) => e.name.endsWith('.dalf') });
  const dalfBytes = Object.values(dalfs).reduce((n, d) => n + d.length, 0);
  results.push({
    dar: name,
    dalfs: cold.dalfs,
    dalfMiB: dalfBytes / 2 ** 20,
    modules: cold.modules,
    coldReadMs: cold.readMs,
    coldAllModulesMs: cold.modulesMs,
    warmReadMs: median(warm.map((w) => w.readMs)),
    warmAllModulesMs: median(warm.map((w) => w.modulesMs)),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  });
}

const f = (x: number) => x.toFixed(1).padStart(9);
console.log(
  'DAR                                  dalfs dalf MiB modules  cold read  cold mods  warm read  warm mods   RSS MiB',
);
for (const r of results)
  console.log(
    `${r.dar.padEnd(36)} ${String(r.dalfs).padStart(5)}${r.dalfMiB.toFixed(2).padStart(9)} ${String(r.modules).padStart(7)}${f(r.coldReadMs)}ms${f(r.coldAllModulesMs)}ms${f(r.warmReadMs)}ms${f(r.warmAllModulesMs)}ms${f(r.rssMiB)}`,
  );
for (const r of results) console.log(JSON.stringify({ bench: 'daml-lf-decode', ...r }));
