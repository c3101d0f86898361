/**
 * End-to-end token transfers between two participants: p1 hosts the token admin and alice, p2 hosts bob; a
 * transfer is alice's offer (submitted on p1, confirmed by p1, seen by p2) followed by bob's acceptance (submitted
 * on p2, confirmed by p1 and p2). A real sequencer and mediator run in this process on gRPC loopback, every node on
 * its own database. Measures transfers/s and transactions/s, the latency of each transaction (submit → durable
 * completion) and of each protocol phase, at concurrency 1 (latency) and with several transfers in flight, the CPU
 * time of the whole process per transaction, and then `health.ping` round trips.
 *
 * Run: npx tsx bench/participant.bench.ts [--transfers 60] [--concurrency 1,8] [--runs 3] [--only sqlite|postgres]
 * PostgreSQL: WEFT_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test (fresh schemas per run).
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import type { ParticipantNode, PhaseTimings } from '../src/participant/index.js';
import { participantTestNetwork, tokenCommands } from '../src/participant/testing.js';
import { sequencerSettings } from '../src/sequencer/config.js';
import type { StorageConfig } from '../src/storage/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const TRANSFERS = Number(args.get('transfers') ?? 60);
const CONCURRENCY = (args.get('concurrency') ?? '1,8').split(',').map(Number);
const RUNS = Number(args.get('runs') ?? 3);
const ONLY = args.get('only');
const PG_URL = process.env.WEFT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Backend = 'sqlite' | 'postgres';
const PHASES = [
  'interpretation',
  'requestCreation',
  'sequencing',
  'validation',
  'verdict',
  'commit',
] as const;

interface Measurement {
  readonly backend: Backend;
  readonly concurrency: number;
  readonly transfers: number;
  readonly transfersPerSec: number;
  readonly transactionsPerSec: number;
  readonly latencyMs: { p50: number; p95: number; p99: number };
  readonly phasesMs: Record<(typeof PHASES)[number], { p50: number; p95: number; p99: number }>;
  /** health.ping p1 → p2 round trips (two transactions each), measured after the transfers. */
  readonly pingMs: { p50: number; p95: number; p99: number };
  /** CPU time of the whole process (all nodes) per transaction. */
  readonly cpuMsPerTx: number;
  readonly rssMiB: number;
}

const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const summary = (xs: readonly number[]) => ({ p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99) });
const median = (xs: readonly number[]) => pct(xs, 50);

async function run(backend: Backend, concurrency: number): Promise<Measurement> {
  const schemas: string[] = [];
  const fresh = (): StorageConfig => {
    const schema = `weft_bench_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
    return { kind: 'postgres', url: PG_URL, schema };
  };
  const net = await participantTestNetwork({
    seed: `bench-${randomBytes(4).toString('hex')}`,
    sequencerSettings: sequencerSettings({ writer: { preset: 'high-throughput' } }),
    ...(backend === 'postgres' ? { synchronizerStorage: fresh } : {}),
  });
  try {
    const [p1, p2] = [
      (await net.startParticipant('p1', backend === 'postgres' ? { config: fresh() } : {})).node,
      (await net.startParticipant('p2', backend === 'postgres' ? { config: fresh() } : {})).node,
    ] as [ParticipantNode, ParticipantNode];
    const dar = readFileSync(TOKEN_DAR);
    await Promise.all([p1.uploadDar(dar), p2.uploadDar(dar)]);
    const admin = await p1.allocateParty('admin');
    const alice = await p1.allocateParty('alice');
    const bob = await p2.allocateParty('bob');
    // Contract ids the benchmark learns from committed transactions, by update id.
    const created = new Map<string, { template: string; contractId: string }[]>();
    const seen = new Map<string, () => void>();
    const watch = (node: ParticipantNode) =>
      node.onCommitted((c) => {
        const list: { template: string; contractId: string }[] = [];
        for (const n of c.opened.assembled.transaction.nodes.values()) {
          if (n.tag === 'Create')
            list.push({ template: n.templateId.name.join('.'), contractId: n.contractId.coid });
        }
        created.set(`${node.id} ${c.updateId}`, list);
        seen.get(`${node.id} ${c.updateId}`)?.();
      });
    watch(p1);
    watch(p2);
    const committedOn = (node: ParticipantNode, updateId: string) =>
      created.has(`${node.id} ${updateId}`)
        ? Promise.resolve()
        : new Promise<void>((resolve) => seen.set(`${node.id} ${updateId}`, resolve));
    let n = 0;
    const submit = async (node: ParticipantNode, r: Parameters<ParticipantNode['submit']>[0]) => {
      const c = await node.submit(r);
      if (c.status !== 'succeeded') throw new Error(`${r.commandId} failed: ${c.code}: ${c.message}`);
      return c;
    };
    const rulesTx = await submit(p1, {
      commands: [tokenCommands.rules(admin)],
      actAs: [admin],
      commandId: 'rules',
    });
    const rules = created.get(`${p1.id} ${rulesTx.updateId}`)![0]!.contractId;
    // One holding per transfer, minted 50 to a transaction.
    const holdings: string[] = [];
    for (let left = TRANSFERS + 10; left > 0; left -= 50) {
      const count = Math.min(50, left);
      const c = await submit(p1, {
        commands: Array.from({ length: count }, () => tokenCommands.mint(admin, alice, '10.0')),
        actAs: [admin, alice],
        commandId: `mint-${n++}`,
      });
      holdings.push(...created.get(`${p1.id} ${c.updateId}`)!.map((x) => x.contractId));
    }
    const latencies: number[] = [];
    const phases: PhaseTimings[] = [];
    const transfer = async (holding: string) => {
      const offerId = `offer-${n++}`;
      let t = performance.now();
      const offered = await submit(p1, {
        commands: [
          tokenCommands.offer({
            rules,
            admin,
            sender: alice,
            receiver: bob,
            amount: '10.0',
            inputs: [holding],
          }),
        ],
        actAs: [alice],
        readAs: [admin],
        commandId: offerId,
      });
      latencies.push(performance.now() - t);
      phases.push(offered.timings!);
      await committedOn(p2, offered.updateId!);
      const offer = created
        .get(`${p2.id} ${offered.updateId}`)!
        .find((x) => x.template === 'TokenTransferOffer')!;
      const acceptId = `accept-${n++}`;
      t = performance.now();
      const accepted = await submit(p2, {
        commands: [tokenCommands.instruction(offer.contractId, 'TransferInstruction_Accept')],
        actAs: [bob],
        commandId: acceptId,
      });
      latencies.push(performance.now() - t);
      phases.push(accepted.timings!);
    };
    // Warm up the engine's compiled code and the connections.
    for (let i = 0; i < 5; i++) await transfer(holdings.pop()!);
    latencies.length = 0;
    phases.length = 0;
    const queue = holdings.slice(0, TRANSFERS);
    const cpu = process.cpuUsage();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let h = queue.pop(); h !== undefined; h = queue.pop()) await transfer(h);
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const pings: number[] = [];
    for (let i = 0; i < 20; i++) pings.push(await p1.ping(p2.id));
    return {
      backend,
      concurrency,
      transfers: TRANSFERS,
      transfersPerSec: TRANSFERS / seconds,
      transactionsPerSec: (2 * TRANSFERS) / seconds,
      latencyMs: summary(latencies),
      phasesMs: Object.fromEntries(
        PHASES.map((p) => [p, summary(phases.map((x) => x[p]))]),
      ) as Measurement['phasesMs'],
      pingMs: summary(pings),
      cpuMsPerTx: (used.user + used.system) / 1000 / (2 * TRANSFERS),
      rssMiB: process.memoryUsage().rss / 2 ** 20,
    };
  } finally {
    await net.close();
    if (schemas.length > 0) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await client.end();
    }
  }
}

const backends: Backend[] = ONLY ? [ONLY as Backend] : ['sqlite', 'postgres'];
const f = (x: number) => x.toFixed(1);
const rows: string[] = [];
for (const backend of backends) {
  for (const concurrency of CONCURRENCY) {
    const ms: Measurement[] = [];
    for (let r = 0; r < RUNS; r++) {
      const m = await run(backend, concurrency);
      console.log(JSON.stringify({ bench: 'participant', run: r, ...m }));
      ms.push(m);
    }
    const med = (get: (m: Measurement) => number) => median(ms.map(get));
    rows.push(
      `| ${backend} | ${concurrency} | ${f(med((m) => m.transfersPerSec))} | ${f(med((m) => m.transactionsPerSec))} | ` +
        `${f(med((m) => m.latencyMs.p50))} / ${f(med((m) => m.latencyMs.p95))} / ${f(med((m) => m.latencyMs.p99))} | ` +
        PHASES.map((p) => f(med((m) => m.phasesMs[p].p50))).join(' / ') +
        ` | ${f(med((m) => m.pingMs.p50))} | ${f(med((m) => m.cpuMsPerTx))} | ${f(med((m) => m.rssMiB))} |`,
    );
  }
}
console.log(`\nmedians of ${RUNS} runs, ${TRANSFERS} transfers each (2 transactions per transfer)`);
console.log(
  '| backend | concurrency | transfers/s | tx/s | tx latency p50 / p95 / p99 ms | phases p50 ms: interpretation / request creation / sequencing / validation / verdict / commit | ping p50 ms | CPU ms/tx | RSS MiB |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
