/**
 * Daml interpreter throughput on real daml-stdlib code from the ping DAR:
 *   - DA.List.sort on 100 000 Ints (merge sort through the Ord dictionary),
 *   - a left fold summing 1 000 000 Ints with (+) from the Additive dictionary,
 *   - `show` of a nested record (NonEmpty of (Int, Text) pairs, 200 elements).
 * Run: npx tsx bench/daml-interpreter.bench.ts
 */
import { PING_DAR } from '../src/daml/dar/testing.js';
import { DarFixture } from '../src/daml/interpreter/testing.js';
import type { Identifier } from '../src/daml/lf/ast.js';
import { int64, listFromArray, text, type Value } from '../src/daml/values/value.js';

const RUNS = 5;

interface Measurement {
  readonly name: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly steps: number;
  readonly stepsPerSecond: number;
  readonly rssMb: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

function measure(name: string, runs: number, f: DarFixture, run: () => Value): Measurement {
  run(); // warm-up: compiles the code involved and caches top-level values
  const times: number[] = [];
  let steps = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
    steps = f.interpreter.lastSteps;
  }
  times.sort((a, b) => a - b);
  const medianMs = quantile(times, 0.5);
  return {
    name,
    runs,
    medianMs,
    p99Ms: quantile(times, 0.99),
    steps,
    stepsPerSecond: Math.round(steps / (medianMs / 1000)),
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

const f = new DarFixture(PING_DAR);
const stdlib = (module: string, name: string) => f.value(module, name, 'daml-stdlib');
const prim = (module: string, name: string) => f.value(module, name, 'daml-prim');
const ints = (n: number, at: (k: number) => number) =>
  listFromArray(Array.from({ length: n }, (_, k) => int64(BigInt(at(k)))));

const sortInput = ints(100_000, (k) => (k * 7919) % 100_000);
const sort = stdlib('DA.List', 'sort');
const ordInt = f.instance('Ord', 'Int');

const foldInput = ints(1_000_000, (k) => k);
const foldl = stdlib('DA.Internal.Prelude', 'foldl');
const plus = f.call(prim('GHC.Num', '+'), f.instance('Additive', 'Int'));

const tuple: Identifier = {
  packageId: f.package('daml-prim-DA-Types').id,
  module: ['DA', 'Types'],
  name: ['Tuple2'],
};
const pair = (k: number): Value => ({
  kind: 'Record',
  tycon: tuple,
  fields: ['_1', '_2'],
  values: [int64(BigInt(k)), text(`item ${k}`)],
});
const nonEmpty = f.record(f.tycon('DA.NonEmpty.Types', 'NonEmpty', 'daml-stdlib-DA-NonEmpty-Types'), {
  hd: pair(0),
  tl: listFromArray(Array.from({ length: 199 }, (_, k) => pair(k + 1))),
});
const showPair = f.call(f.instance('Show', '(,)'), f.instance('Show', 'Int'), f.instance('Show', 'Text'));
const showNonEmpty = f.call(f.instance('Show', 'NonEmpty'), showPair);
const show = prim('GHC.Show', 'show');

const results = [
  measure('DA.List.sort 100k Int', RUNS, f, () => f.call(sort, ordInt, sortInput)),
  measure('foldl (+) over 1M Int', RUNS, f, () => f.call(foldl, plus, int64(0n), foldInput)),
  measure('show NonEmpty of 200 (Int, Text)', 50, f, () => f.call(show, showNonEmpty, nonEmpty)),
];

console.log('\nDaml interpreter (ping DAR daml-stdlib)\n');
console.log(
  `${'benchmark'.padEnd(36)}${'median ms'.padStart(12)}${'p99 ms'.padStart(10)}${'steps'.padStart(14)}${'Msteps/s'.padStart(11)}${'RSS MB'.padStart(9)}`,
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(36)}${r.medianMs.toFixed(1).padStart(12)}${r.p99Ms.toFixed(1).padStart(10)}${r.steps.toLocaleString('en-US').padStart(14)}${(r.stepsPerSecond / 1e6).toFixed(2).padStart(11)}${String(r.rssMb).padStart(9)}`,
  );
}
console.log();
for (const r of results) console.log(JSON.stringify({ bench: 'daml-interpreter', ...r }));
