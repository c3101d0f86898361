/**
 * Sequencer send→deliver benchmark: 10 connected participants; under `saturated` load each sends 1 KiB messages to
 * the next one in a ring with a window of outstanding messages, under `light` load one sends one message at a time,
 * all through the gRPC API on loopback. Measures delivered messages/s and the latency
 * from `send()` to the recipient's handler, on SQLite (one node) and PostgreSQL (one and two nodes sharing the
 * database, members split between them), with both writer presets.
 *
 * Run: npx tsx bench/sequencer.bench.ts [--seconds 5] [--runs 3] [--window 8] [--only sqlite|postgres]
 *   [--preset low-latency|high-throughput]
 * PostgreSQL: WEFT_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test (a fresh schema per run).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sequencerSettings, type WriterPreset } from '../src/sequencer/config.js';
import type { SequencerNode } from '../src/sequencer/node.js';
import {
  connect,
  envelope,
  type Recorder,
  startSequencerNode,
  testSynchronizer,
} from '../src/sequencer/testing.js';
import { openStorage, type Storage, type StorageConfig } from '../src/storage/index.js';
import { systemClock } from '../src/time/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const SECONDS = Number(args.get('seconds') ?? 5);
const RUNS = Number(args.get('runs') ?? 3);
const WINDOW = Number(args.get('window') ?? 8);
const ONLY = args.get('only');
const PRESET = args.get('preset');
const MEMBERS = 10;
const PAYLOAD = 1024;
const PG_URL = process.env.WEFT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Scenario {
  readonly backend: 'sqlite' | 'postgres';
  readonly nodes: 1 | 2;
  /** `light`: one member sends one message at a time (latency without queueing); `saturated`: all send. */
  readonly load: 'light' | 'saturated';
  readonly preset: WriterPreset;
}

interface Measurement extends Scenario {
  readonly delivered: number;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rssMiB: number;
}

async function database(
  backend: Scenario['backend'],
  dir: string,
): Promise<{ config: StorageConfig; drop(): Promise<void> }> {
  if (backend === 'sqlite')
    return {
      config: { kind: 'sqlite', path: join(dir, `${randomBytes(4).toString('hex')}.db`) },
      drop: async () => {},
    };
  const schema = `weft_bench_${randomBytes(6).toString('hex')}`;
  return {
    config: { kind: 'postgres', url: PG_URL, schema },
    async drop() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

async function run(scenario: Scenario, dir: string): Promise<Measurement> {
  const sync = testSynchronizer({ seed: 'bench', participants: MEMBERS, now: systemClock.now() });
  const db = await database(scenario.backend, dir);
  const storages: Storage[] = [];
  const nodes: SequencerNode[] = [];
  const clients: Recorder[] = [];
  const settings = sequencerSettings({ writer: { preset: scenario.preset } });
  try {
    for (let n = 0; n < scenario.nodes; n++) {
      const storage = await openStorage(db.config);
      storages.push(storage);
      nodes.push((await startSequencerNode(sync, { name: `seq-${n}`, storage, settings })).node);
    }
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let measuring = false;
    let delivered = 0;
    const wake = new Map<number, () => void>();
    const outstanding = new Array<number>(MEMBERS).fill(0);
    for (const [i, member] of sync.participants.entries()) {
      const node = nodes[i % nodes.length]!;
      const recorder = await connect(sync, member, [node.endpoint], {
        handler: (event) => {
          for (const e of event.envelopes) {
            const id = Buffer.from(e.content.subarray(0, 24)).toString().trim();
            const t0 = sentAt.get(id);
            if (t0 === undefined) continue;
            sentAt.delete(id);
            if (measuring) {
              latencies.push(performance.now() - t0);
              delivered++;
            }
            const from = Number(id.split('-')[0]);
            outstanding[from]!--;
            wake.get(from)?.();
          }
        },
      });
      clients.push(recorder);
    }
    const padding = Buffer.alloc(PAYLOAD - 24, 0x2e);
    let stop = false;
    const failures: unknown[] = [];
    const sender = async (i: number) => {
      const to = sync.participants[(i + 1) % MEMBERS]!.id;
      const client = clients[i]!.client;
      let seq = 0;
      for (;;) {
        // Each sender keeps WINDOW messages between send() and their delivery.
        while (!stop && outstanding[i]! >= (scenario.load === 'light' ? 1 : WINDOW)) {
          await new Promise<void>((r) => wake.set(i, r));
        }
        if (stop) return;
        const id = `${i}-${seq++}`;
        const content = Buffer.concat([Buffer.from(id.padEnd(24)), padding]);
        sentAt.set(id, performance.now());
        outstanding[i]!++;
        // Not awaited: the window bounds what is in flight, and the outcome arrives at the recipient.
        client
          .send({
            envelopes: [{ ...envelope('', to), content }],
            maxSequencingTime: systemClock.now() + 60_000_000n,
          })
          .catch((e) => {
            failures.push(e);
          });
      }
    };
    const senders = (scenario.load === 'light' ? [0] : sync.participants.map((_, i) => i)).map((i) =>
      sender(i),
    );
    await new Promise((r) => setTimeout(r, 1000)); // warm-up
    measuring = true;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    measuring = false;
    const elapsed = (performance.now() - started) / 1000;
    stop = true;
    for (const w of wake.values()) w();
    await Promise.all(senders);
    if (failures.length > 0) throw failures[0];
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
    return {
      ...scenario,
      delivered,
      perSec: Math.round(delivered / elapsed),
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
  } finally {
    for (const c of clients) await c.client.close();
    for (const n of nodes) await n.stop();
    for (const s of storages) await s.close();
    await db.drop();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const scenarios: Scenario[] = [];
for (const load of ['light', 'saturated'] as const) {
  for (const preset of ['low-latency', 'high-throughput'] as const) {
    if (PRESET !== undefined && PRESET !== preset) continue;
    if (ONLY !== 'postgres') scenarios.push({ backend: 'sqlite', nodes: 1, preset, load });
    if (ONLY !== 'sqlite') {
      scenarios.push({ backend: 'postgres', nodes: 1, preset, load });
      scenarios.push({ backend: 'postgres', nodes: 2, preset, load });
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'weft-sequencer-bench-'));
const rows: Measurement[] = [];
try {
  for (const scenario of scenarios) {
    const runs: Measurement[] = [];
    for (let r = 0; r < RUNS; r++) {
      const m = await run(scenario, dir);
      console.log(JSON.stringify({ bench: 'sequencer', run: r, ...m, loadavg: loadavg()[0] }));
      runs.push(m);
    }
    rows.push({
      ...scenario,
      delivered: median(runs.map((m) => m.delivered)),
      perSec: median(runs.map((m) => m.perSec)),
      p50Ms: median(runs.map((m) => m.p50Ms)),
      p99Ms: median(runs.map((m) => m.p99Ms)),
      rssMiB: median(runs.map((m) => m.rssMiB)),
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nsequencer send→deliver, ${MEMBERS} members, ${PAYLOAD} B, window ${WINDOW}/member, ${SECONDS} s, median of ${RUNS}`,
);
console.log('| load | backend | nodes | preset | msgs/s | p50 ms | p99 ms | RSS MiB |');
console.log('|---|---|---:|---|---:|---:|---:|---:|');
for (const m of rows) {
  console.log(
    `| ${m.load} | ${m.backend} | ${m.nodes} | ${m.preset} | ${m.perSec} | ${m.p50Ms} | ${m.p99Ms} | ${m.rssMiB} |`,
  );
}
