/**
 * Token transfers between two participants with every node in its own process, as deployed: `weft daemon` runs a
 * sequencer (high-throughput writer), a mediator and two participants, set up with `weft admin` (bootstrap,
 * connect, parties, DARs); this process drives transfers through the participants' Ledger API (CommandService
 * SubmitAndWait, which returns the durable completion) and reads the offers from bob's live update stream. Unlike bench/participant.bench.ts
 * (all four nodes on one event loop), the nodes use every core. Measures transactions/s, submit → completion
 * latency, and the CPU of all node processes per transaction (from /proc).
 *
 * Run: npm run build && npx tsx bench/network-daemons.bench.ts [--transfers 200] [--concurrency 1,8] [--runs 3]
 *   [--only sqlite|postgres]
 * PostgreSQL: WEFT_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test (fresh schemas per run).
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { AdminClient } from '../src/admin-api/index.js';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import { loadEngine } from '../src/daml/engine/testing.js';
import { TransactionShape } from '../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import { tokenCommands } from '../src/participant/testing.js';
import { DeploymentLedger } from '../test/deployment/ledger.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const TRANSFERS = Number(args.get('transfers') ?? 200);
const CONCURRENCY = (args.get('concurrency') ?? '1,8').split(',').map(Number);
const RUNS = Number(args.get('runs') ?? 3);
const ONLY = args.get('only');
const PG_URL = process.env.WEFT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

type Backend = 'sqlite' | 'postgres';

interface Node {
  readonly child: ChildProcess;
  readonly admin: string;
  readonly publicUrl: string;
  /** A participant's Ledger API. */
  readonly ledgerUrl: string;
}

function cli(cliArgs: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CLI, ...cliArgs], { timeout: 120_000 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`weft ${cliArgs.join(' ')}: ${stderr || error.message}`))
        : resolve(stdout.trim()),
    ),
  );
}

async function daemon(dir: string, name: string, body: string): Promise<Node> {
  const config = join(dir, `${name}.conf`);
  const ports = join(dir, `${name}.ports`);
  writeFileSync(
    config,
    `weft.node {\n  name = ${name}\n  admin-api.port = 0\n  monitoring.http-server.port = 0\n  monitoring.logging.level = warn\n${body}\n}\n`,
  );
  writeFileSync(ports, '');
  const child = spawn(process.execPath, [CLI, 'daemon', '-c', config, '--port-file', ports], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = readFileSync(ports, 'utf8');
    if (text) {
      const p = JSON.parse(text) as { admin: number; public?: number; ledgerApi?: number };
      return {
        child,
        admin: `http://127.0.0.1:${p.admin}`,
        publicUrl: `http://127.0.0.1:${p.public ?? 0}`,
        ledgerUrl: `http://127.0.0.1:${p.ledgerApi ?? 0}`,
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon ${name} did not start`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** User + system CPU seconds of each process so far. */
function cpuSeconds(children: readonly ChildProcess[]): number[] {
  return children.map((c) => {
    const stat = readFileSync(`/proc/${c.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  });
}

const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Measurement {
  readonly backend: Backend;
  readonly concurrency: number;
  readonly transactionsPerSec: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly cpuMsPerTx: number;
  /** By node: sequencer, mediator, participant1, participant2. */
  readonly cpuMsPerTxByNode: Record<string, number>;
  readonly loadavg: number;
}

async function run(backend: Backend, concurrency: number): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-net-bench-'));
  const schemas: string[] = [];
  const storage = (name: string) => {
    if (backend === 'sqlite') return `  storage { type = sqlite, file = "${join(dir, `${name}.db`)}" }`;
    const schema = `weft_bench_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
    return `  storage { type = postgres, url = "${PG_URL}", schema = ${schema} }`;
  };
  const nodes: Node[] = [];
  /** Clients and streams to close when the run ends. */
  const clients: { close(): void }[] = [];
  try {
    const seq = await daemon(
      dir,
      'sequencer',
      `  kind = sequencer\n${storage('sequencer')}\n  public-api.port = 0\n  sequencer.writer.preset = high-throughput`,
    );
    nodes.push(seq);
    const med = await daemon(
      dir,
      'mediator',
      `  kind = mediator\n${storage('mediator')}\n  sequencer-connection.endpoints = ["${seq.publicUrl}"]`,
    );
    nodes.push(med);
    const participant = (name: string) =>
      daemon(
        dir,
        name,
        `  kind = participant\n${storage(name)}\n  ledger-api.port = 0\n  participant.max-backoff-ms = 200`,
      );
    const [n1, n2] = [await participant('participant1'), await participant('participant2')];
    nodes.push(n1, n2);
    await cli(['admin', '-e', seq.admin, 'bootstrap', '--name', 'bench', '--mediator', med.admin]);
    const medClient = new AdminClient(med.admin);
    clients.push(medClient);
    while (!(await medClient.status()).ready) await new Promise((r) => setTimeout(r, 50));
    for (const n of [n1, n2]) {
      await cli([
        'admin',
        '-e',
        n.admin,
        'participant',
        'connect',
        '--alias',
        'bench',
        '--sequencer',
        seq.publicUrl,
      ]);
      await cli(['admin', '-e', n.admin, 'dars', 'upload', TOKEN_DAR]);
    }
    const enable = (n: Node, name: string) => cli(['admin', '-e', n.admin, 'parties', 'enable', name]);
    const [admin, alice, bob] = [
      await enable(n1, 'admin'),
      await enable(n1, 'alice'),
      await enable(n2, 'bob'),
    ];
    const engine = loadEngine(TOKEN_DAR);
    const [p1, p2] = [new DeploymentLedger(n1.ledgerUrl, engine), new DeploymentLedger(n2.ledgerUrl, engine)];
    clients.push(p1, p2);
    let n = 0;
    const submit = async (
      ledger: DeploymentLedger,
      actAs: string[],
      commands: unknown[],
      readAs: string[] = [],
    ) => {
      const t = performance.now();
      const r = await ledger.submit(`cmd-${n++}`, commands, actAs, readAs);
      return { ...r, ms: performance.now() - t };
    };
    /** The contracts of `template` a submission created, as `party` sees them. */
    const createdOf = async (
      ledger: DeploymentLedger,
      party: string,
      submitted: { offset: bigint },
      template: string,
    ) =>
      (await ledger.transactions(party, submitted.offset - 1n, submitted.offset)).flatMap((tx) =>
        tx.events.flatMap(({ event: e }) =>
          e.oneofKind === 'created' && e.created.templateId?.entityName === template
            ? [e.created.contractId]
            : [],
        ),
      );
    const rules = (
      await createdOf(p1, admin, await submit(p1, [admin], [tokenCommands.rules(admin)]), 'TokenRules')
    )[0]!;
    const holdings: string[] = [];
    for (let left = TRANSFERS + 20; left > 0; left -= 50) {
      const mint = Array.from({ length: Math.min(50, left) }, () => tokenCommands.mint(admin, alice, '10.0'));
      holdings.push(...(await createdOf(p1, alice, await submit(p1, [admin, alice], mint), 'Token')));
    }
    // bob's offers from his live update stream, by the update that created them, until a transfer takes one.
    const offers = new Map<string, string>();
    const waiting = new Map<string, (offer: string) => void>();
    const bobUpdates = p2.client.stream(p2.client.updates, p2.client.updates.getUpdates, {
      beginExclusive: await p2.end(),
      updateFormat: {
        includeTransactions: {
          eventFormat: { filtersByParty: { [bob]: { cumulative: [] } }, verbose: false },
          transactionShape: TransactionShape.ACS_DELTA,
        },
      },
    });
    bobUpdates.on('error', () => {}); // cancelled when the run ends
    clients.push({ close: () => bobUpdates.cancel() });
    bobUpdates.on('data', ({ update: u }) => {
      if (u.oneofKind !== 'transaction') return;
      for (const { event: e } of u.transaction.events) {
        if (e.oneofKind !== 'created' || e.created.templateId?.entityName !== 'TokenTransferOffer') continue;
        const take = waiting.get(u.transaction.updateId);
        waiting.delete(u.transaction.updateId);
        if (take) take(e.created.contractId);
        else offers.set(u.transaction.updateId, e.created.contractId);
      }
    });
    const offerFor = (updateId: string) =>
      new Promise<string>((resolve) => {
        const offer = offers.get(updateId);
        if (offer === undefined) waiting.set(updateId, resolve);
        else resolve(offer);
        offers.delete(updateId);
      });
    const latencies: number[] = [];
    const transfer = async (holding: string) => {
      const offered = await submit(
        p1,
        [alice],
        [
          tokenCommands.offer({
            rules,
            admin,
            sender: alice,
            receiver: bob,
            amount: '10.0',
            inputs: [holding],
          }),
        ],
        [admin],
      );
      const offer = await offerFor(offered.updateId);
      const accepted = await submit(
        p2,
        [bob],
        [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
      );
      latencies.push(offered.ms, accepted.ms);
    };
    // Each process compiles its hot code on its own: warm all four up.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 5; i++) await transfer(holdings.pop()!);
      }),
    );
    latencies.length = 0;
    const queue = holdings.slice(0, TRANSFERS);
    const children = nodes.map((x) => x.child);
    const cpu = cpuSeconds(children);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let h = queue.pop(); h !== undefined; h = queue.pop()) await transfer(h);
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const used = cpuSeconds(children).map((x, i) => x - cpu[i]!);
    const perTx = (seconds: number) => Math.round((seconds * 1000 * 10) / (2 * TRANSFERS)) / 10;
    return {
      backend,
      concurrency,
      transactionsPerSec: (2 * TRANSFERS) / seconds,
      p50: pct(latencies, 50),
      p95: pct(latencies, 95),
      p99: pct(latencies, 99),
      cpuMsPerTx: perTx(used.reduce((a, b) => a + b, 0)),
      cpuMsPerTxByNode: Object.fromEntries(
        ['sequencer', 'mediator', 'participant1', 'participant2'].map((name, i) => [name, perTx(used[i]!)]),
      ),
      loadavg: loadavg()[0]!,
    };
  } finally {
    for (const c of clients) c.close();
    await Promise.all(
      nodes.map(
        (x) =>
          new Promise<void>((resolve) =>
            x.child.exitCode === null ? x.child.once('exit', () => resolve()).kill() : resolve(),
          ),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
    if (schemas.length > 0) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await client.end();
    }
  }
}

const f = (x: number) => x.toFixed(1);
const rows: string[] = [];
for (const backend of ONLY ? [ONLY as Backend] : (['sqlite', 'postgres'] as const)) {
  for (const concurrency of CONCURRENCY) {
    const ms: Measurement[] = [];
    for (let r = 0; r < RUNS; r++) {
      const m = await run(backend, concurrency);
      console.log(JSON.stringify({ bench: 'network-daemons', run: r, ...m }));
      ms.push(m);
    }
    const med = (get: (m: Measurement) => number) => pct(ms.map(get), 50);
    rows.push(
      `| ${backend} | ${concurrency} | ${f(med((m) => m.transactionsPerSec))} (${f(Math.min(...ms.map((m) => m.transactionsPerSec)))}–${f(Math.max(...ms.map((m) => m.transactionsPerSec)))}) | ` +
        `${f(med((m) => m.p50))} / ${f(med((m) => m.p95))} / ${f(med((m) => m.p99))} | ${f(med((m) => m.cpuMsPerTx))} |`,
    );
  }
}
console.log(
  `\nmedians of ${RUNS} runs, ${TRANSFERS} transfers each (2 transactions per transfer), one process per node`,
);
console.log(
  '| backend | transfers in flight | tx/s (range) | latency p50 / p95 / p99 ms | CPU ms/tx (all nodes) |',
);
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
