/**
 * Topology benchmarks: validating and applying sequenced onboarding transactions (in memory, and persisted on
 * SQLite and PostgreSQL), building a snapshot, the per-request queries a sequencer makes, and re-validating an
 * onboarding snapshot. Run: npx tsx bench/topology.bench.ts [--participants N] [--batch N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type StorageConfig } from '../src/storage/index.js';
import { pgTestUrl, postgresUnavailableReason } from '../src/storage/testing.js';
import {
  exportState,
  replaySnapshot,
  TopologyEngine,
  TopologyProcessor,
  TopologyState,
} from '../src/topology/index.js';
import { onboardingTransactions, testSynchronizer } from '../src/topology/testing.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const PARTICIPANTS = arg('participants', 1000);
const BATCH = arg('batch', 100);
const GENESIS = 1_000_000n;

interface Result {
  name: string;
  ops: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  rssMiB: number;
}

const round = (n: number) => Math.round(n * 10) / 10;
const rss = () => round(process.memoryUsage().rss / 2 ** 20);

function result(name: string, samplesUs: number[], ops: number, totalSec: number): Result {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return {
    name,
    ops,
    opsPerSec: Math.round(ops / totalSec),
    p50Us: round(pct(0.5)),
    p99Us: round(pct(0.99)),
    rssMiB: rss(),
  };
}

const sync = testSynchronizer({ seed: 'bench', owners: 3, ownerThreshold: 2 });
const participants = Array.from({ length: PARTICIPANTS }, (_, i) => sync.participant(`p${i}`));
const onboarding = participants.map((p) => onboardingTransactions(p, sync.synchronizerId));
const batches: [bigint, Uint8Array[]][] = [];
for (let i = 0; i < PARTICIPANTS; i += BATCH) {
  batches.push([GENESIS + BigInt(batches.length + 1) * 1_000_000n, onboarding.slice(i, i + BATCH).flat()]);
}
const txCount = batches.reduce((n, [, txs]) => n + txs.length, 0);

/** Feeds every batch; one sample per batch, reported per transaction. */
async function feed(name: string, apply: (t: bigint, txs: Uint8Array[]) => unknown): Promise<Result> {
  await apply(GENESIS, [...sync.genesis.batch]);
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  for (const [t, txs] of batches) {
    const t0 = process.hrtime.bigint();
    await apply(t, txs);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000 / txs.length);
  }
  return result(name, samples, txCount, Number(process.hrtime.bigint() - start) / 1e9);
}

function measure(name: string, iterations: number, op: (i: number) => unknown): Result {
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    op(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return result(name, samples, iterations, Number(process.hrtime.bigint() - start) / 1e9);
}

const results: Result[] = [];
const engine = new TopologyEngine(sync.synchronizerId);
results.push(await feed(`apply in memory (batches of ${BATCH * 3} tx)`, (t, txs) => engine.apply(t, txs)));
const end = engine.lastEffective! + 1n;
results.push(
  measure(`build snapshot (${engine.history.length} tx)`, 20, () =>
    TopologyState.at(sync.synchronizerId, engine.history, end),
  ),
);
// Cached snapshot: what a sequencer does per request.
const snap = engine.snapshot(end);
results.push(
  measure('isParticipantActive (cached snapshot)', 100_000, (i) =>
    engine.isParticipantActive(participants[i % PARTICIPANTS]!.id, end),
  ),
);
results.push(
  measure('signingKey(member, fingerprint)', 100_000, (i) => {
    const p = participants[i % PARTICIPANTS]!;
    return snap.signingKey(p.id, p.signingKey.publicKey.fingerprint);
  }),
);
results.push(measure('synchronizerParameters', 100_000, () => engine.snapshot(end).synchronizerParameters()));

const exported = exportState(engine);
results.push(
  measure(`re-validate snapshot (${engine.history.length} tx)`, 3, () =>
    replaySnapshot(sync.synchronizerId, exported),
  ),
);

const dir = mkdtempSync(join(tmpdir(), 'weft-topology-bench-'));
const backends: [string, StorageConfig][] = [
  ['SQLite', { kind: 'sqlite', path: join(dir, 'topology.sqlite') }],
];
const pgReason = await postgresUnavailableReason();
if (pgReason === undefined)
  backends.push(['PostgreSQL', { kind: 'postgres', url: pgTestUrl(), schema: `weft_bench_${process.pid}` }]);
else console.warn(`skipping PostgreSQL: ${pgReason}`);
for (const [name, config] of backends) {
  const storage = await openStorage(config);
  try {
    const processor = await TopologyProcessor.create({ storage, synchronizerId: sync.synchronizerId });
    results.push(
      await feed(`process + persist, ${name} (batches of ${BATCH * 3} tx)`, (t, txs) =>
        processor.process(t, txs),
      ),
    );
    const t0 = process.hrtime.bigint();
    const reopened = await TopologyProcessor.create({ storage, synchronizerId: sync.synchronizerId });
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    results.push(result(`load ${reopened.history.length} tx on start, ${name}`, [sec * 1e6], 1, sec));
  } finally {
    if (config.kind === 'postgres') await storage.execute(`DROP SCHEMA ${config.schema} CASCADE`);
    await storage.close();
  }
}
rmSync(dir, { recursive: true, force: true });

console.log(
  `topology: ${PARTICIPANTS} participants, ${txCount} onboarding transactions (+${sync.genesis.batch.length} genesis)`,
);
console.log('| measurement | ops | ops/s | p50 µs | p99 µs | RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results)
  console.log(
    `| ${r.name} | ${r.ops} | ${r.opsPerSec.toLocaleString('en-US')} | ${r.p50Us} | ${r.p99Us} | ${r.rssMiB} |`,
  );
for (const r of results) console.log(JSON.stringify({ bench: 'topology', ...r }));
