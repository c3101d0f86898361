/**
 * The network benchmark (`npm run bench:network -- --help`): token transfers between two participants on a
 * sequencer (high-throughput writer), a mediator and two participants, set up with `weft admin` (bootstrap,
 * connect, parties, DARs). The nodes run as daemons (`weft daemon`, one process each, as deployed) or all in this
 * process (`--mode in-process`, as the sandbox), on SQLite or PostgreSQL. This process drives transfers through
 * the participants' Ledger API (CommandService SubmitAndWait, which returns the durable completion) and reads the
 * offers from bob's live update stream, at a fixed concurrency or a fixed rate, or ramps the concurrency up until
 * the throughput stops growing (the saturation point) and then measures latency at half that rate.
 *
 * Per load step: transactions/s, submit → completion latency percentiles, the participants' protocol phases
 * (`weft_participant_phase_seconds`: percentiles at bucket resolution and exact means), CPU ms per transaction per
 * node (from /proc; in-process: the whole process, driver included), the driver's own CPU ms per transaction (it
 * shares the cores), and database commits and Ed25519 signatures per transaction (`weft_storage_commits_total`,
 * `weft_crypto_signed_total`, `weft_crypto_verified_total`).
 *
 * `--compare DIR` runs another build's daemons too, alternating with this one's, and prints the ratios of the medians.
 *
 * Needs `npm run build` first for the daemons (they run dist/cli/main.js).
 * PostgreSQL: WEFT_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test (fresh schemas per run).
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { AdminClient } from '../src/admin-api/index.js';
import { loadConfig, selectNode } from '../src/config/index.js';
import { DAEMON_SCHEMAS, type DaemonNode, startDaemonNode } from '../src/daemon/index.js';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import { loadEngine } from '../src/daml/engine/testing.js';
import { TransactionShape } from '../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import { tokenCommands } from '../src/participant/testing.js';
import { InProcessSequencers } from '../src/sequencer/index.js';
import { DeploymentLedger } from '../test/deployment/ledger.js';
import { formatMachineSpeed, measureMachineSpeed } from './machine-speed.js';

const HELP = `npm run bench:network -- [options]

  --mode daemons|in-process   one process per node (default), or all nodes in this process
  --members-via in-process|grpc
                              in-process mode: how the mediator and participants reach the sequencer, by method
                              calls as in the sandbox (default) or over gRPC on loopback as between daemons
  --backend sqlite|postgres   storage of every node; a comma list runs each (default sqlite,postgres)
  --concurrency 1,8           transfers in flight, one step each (default 1,8)
  --rate 50,100               instead: offered transactions/s, one step each (a transfer is 2 transactions)
  --ramp                      instead: concurrency 1,2,4,… (at most 256) until two doublings in a row raise the
                              best tx/s by < 5 %, then half the best rate (give each step several times as many
                              --transfers as it has in flight)
  --transfers 200             transfers per step, after the warm-up
  --warm-up 3000              transfers to warm every network up with before its first step, in rounds of 50 at
                              8 in flight (0: none; fewer leave one in flight ~20 % slower than warm)
  --runs 3                    networks per backend; the table shows medians over runs
  --json FILE                 also write every step and the medians as JSON
  --weft DIR                  run the daemons from DIR/dist (another build; default this checkout)
  --compare DIR               also run DIR/dist's daemons: each run is a network of each build, in turn (the first
                              build alternates), and a last table gives the ratios of the medians, this / DIR, and
                              in how many runs this build's CPU per transaction was the lower
  --profile DIR               write each daemon's CPU profile (node --cpu-prof) to DIR when it stops
  --node-options="--flag …"   Node.js/V8 options for every daemon (e.g. to compare heap settings)
  --group-commit-max-delay-ms N
                              every node's group-commit window (sequencer.writer.*, mediator.*, participant.*);
                              default: each node's own default
  --help                      this text

Before the first network and after the last, three probes measure the machine's speed of the day
(bench/machine-speed.ts); the table and the JSON carry them, as figures of different days compare only beside them.

PostgreSQL: WEFT_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), a fresh schema per node.
Run \`npm run build\` first: the daemons run dist/cli/main.js.`;

const { values: options } = (() => {
  try {
    return parseArgs({
      options: {
        mode: { type: 'string', default: 'daemons' },
        'members-via': { type: 'string', default: 'in-process' },
        backend: { type: 'string', default: 'sqlite,postgres' },
        concurrency: { type: 'string', default: '1,8' },
        rate: { type: 'string' },
        ramp: { type: 'boolean', default: false },
        transfers: { type: 'string', default: '200' },
        'warm-up': { type: 'string', default: '3000' },
        runs: { type: 'string', default: '3' },
        json: { type: 'string' },
        weft: { type: 'string' },
        compare: { type: 'string' },
        'group-commit-max-delay-ms': { type: 'string' },
        profile: { type: 'string' },
        'node-options': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
})();
if (options.help) {
  console.log(HELP);
  process.exit(0);
}
const numbers = (text: string) => text.split(',').map(Number);
const TRANSFERS = Number(options.transfers);
const WARM_UP = Number(options['warm-up']);
const RUNS = Number(options.runs);
const MODE = options.mode as 'daemons' | 'in-process';
/** The mode as reported: in-process says how members reach the sequencer. */
const MODE_LABEL = MODE === 'in-process' ? `in-process (members via ${options['members-via']})` : MODE;
/** In-process mode: the sequencers the nodes reach without gRPC, unless told to use gRPC. */
const IN_PROCESS =
  MODE === 'in-process' && options['members-via'] !== 'grpc' ? new InProcessSequencers() : undefined;
const BACKENDS = options.backend.split(',') as Backend[];
const RAMP = options.ramp;
const RATES = options.rate === undefined ? undefined : numbers(options.rate);
const CONCURRENCY = numbers(options.concurrency);
const JSON_FILE = options.json;
const NODE_OPTIONS = options['node-options']?.split(' ').filter((o) => o !== '') ?? [];
const WINDOW_MS =
  options['group-commit-max-delay-ms'] === undefined
    ? undefined
    : Number(options['group-commit-max-delay-ms']);
/** A config line setting a node's group-commit window (`section` its key's path), when `--group-commit-max-delay-ms`. */
const windowLine = (section: string) =>
  WINDOW_MS === undefined ? '' : `\n  ${section}.group-commit-max-delay-ms = ${WINDOW_MS}`;
if (
  !['daemons', 'in-process'].includes(MODE) ||
  !['in-process', 'grpc'].includes(options['members-via']) ||
  BACKENDS.some((b) => b !== 'sqlite' && b !== 'postgres') ||
  [TRANSFERS, RUNS, ...CONCURRENCY, ...(RATES ?? [])].some((x) => !(x > 0)) ||
  (options.compare !== undefined && MODE === 'in-process') ||
  (WINDOW_MS !== undefined && !(Number.isInteger(WINDOW_MS) && WINDOW_MS >= 0)) ||
  !(Number.isInteger(WARM_UP) && WARM_UP >= 0)
) {
  console.error(`bad option value\n\n${HELP}`);
  process.exit(2);
}
const PG_URL = process.env.WEFT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/**
 * The builds whose daemons the bench runs: this checkout's (or `--weft`'s) and, with `--compare`, another one.
 * Machines are noisy, so builds are compared within one run, alternating (docs/performance.md, 'Network benchmark').
 */
interface Build {
  readonly label: 'this' | 'compare';
  /** The build's `weft` CLI. */
  readonly cli: string;
}
const BUILDS: readonly Build[] = [
  {
    label: 'this',
    cli: options.weft
      ? join(options.weft, 'dist/cli/main.js')
      : new URL('../dist/cli/main.js', import.meta.url).pathname,
  },
  ...(options.compare ? [{ label: 'compare', cli: join(options.compare, 'dist/cli/main.js') } as const] : []),
];
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;
/**
 * Warm-up, in rounds of this many transfers (each round's CPU per transaction goes to stderr). V8 optimises code
 * that runs once per transaction only after some thousands of transactions (Turbofan still compiles on background
 * threads minutes in): after 400 transfers one in flight still cost ×1.3 the CPU and ×1.2 the latency it does after
 * 3 000 (docs/performance.md, 'Measured warm' and 'Warm at last: 3,000 transfers of warm-up').
 */
const WARM_UP_ROUND = 50;
const WARM_UP_CONCURRENCY = 8;
/** A fixed rate stops offering while this many transfers are outstanding (the network is past saturation). */
const MAX_OUTSTANDING = 256;
/** A doubling of the concurrency that raises the best tx/s by less than this is a flat step. */
const RAMP_GAIN = 1.05;
/**
 * The ramp stops after this many flat steps in a row: on a shared machine one step's throughput can be 10–15 % off
 * its neighbours', so a single flat step is no saturation point (docs/performance.md, 'A turn's submissions').
 */
const RAMP_PATIENCE = 2;
/** Beyond it latency is seconds: the ramp reports the bound instead of a saturation point. */
const RAMP_MAX_CONCURRENCY = 256;
const NODES = ['sequencer', 'mediator', 'participant1', 'participant2'] as const;

type Backend = 'sqlite' | 'postgres';
type Load = { readonly concurrency: number } | { readonly rate: number };

interface Node {
  readonly name: string;
  /** A daemon's process; absent in-process. */
  readonly child?: ChildProcess;
  readonly inProcess?: DaemonNode;
  readonly admin: string;
  readonly publicUrl: string;
  /** A participant's Ledger API. */
  readonly ledgerUrl: string;
  readonly metricsUrl: string;
}

function cli(build: Build, cliArgs: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [build.cli, ...cliArgs], { timeout: 120_000 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`weft ${cliArgs.join(' ')}: ${stderr || error.message}`))
        : resolve(stdout.trim()),
    ),
  );
}

interface Ports {
  admin: number;
  public?: number;
  ledgerApi?: number;
  monitoring: number;
}

function nodeOf(name: string, p: Ports, extra: Pick<Node, 'child' | 'inProcess'>): Node {
  return {
    name,
    ...extra,
    admin: `http://127.0.0.1:${p.admin}`,
    publicUrl: `http://127.0.0.1:${p.public ?? 0}`,
    ledgerUrl: `http://127.0.0.1:${p.ledgerApi ?? 0}`,
    metricsUrl: `http://127.0.0.1:${p.monitoring}/metrics`,
  };
}

async function startNode(build: Build, dir: string, name: string, body: string): Promise<Node> {
  const config = join(dir, `${name}.conf`);
  writeFileSync(
    config,
    `weft.node {\n  name = ${name}\n  admin-api.port = 0\n  monitoring.http-server.port = 0\n  monitoring.logging.level = warn\n  monitoring.logging.file = "${join(dir, `${name}.log`)}"\n${body}\n}\n`,
  );
  if (MODE === 'in-process') {
    const node = await startDaemonNode(
      selectNode(await loadConfig(config, { nodeSchemas: DAEMON_SCHEMAS })),
      'bench',
      IN_PROCESS ? { inProcess: IN_PROCESS } : {},
    );
    return nodeOf(name, node.node.ports as Ports, { inProcess: node });
  }
  const ports = join(dir, `${name}.ports`);
  writeFileSync(ports, '');
  const profile = options.profile
    ? ['--cpu-prof', '--cpu-prof-dir', options.profile, '--cpu-prof-name', `${name}.cpuprofile`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, ...NODE_OPTIONS, build.cli, 'daemon', '-c', config, '--port-file', ports],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = readFileSync(ports, 'utf8');
    if (text) return nodeOf(name, JSON.parse(text) as Ports, { child });
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon ${name} did not start`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** User + system CPU seconds of each node so far; in-process, the one process's, under the first node. */
function cpuSeconds(nodes: readonly Node[]): number[] {
  if (MODE === 'in-process') {
    const { user, system } = process.cpuUsage();
    return nodes.map((_, i) => (i === 0 ? (user + system) / 1e6 : 0));
  }
  return nodes.map(({ child }) => {
    const stat = readFileSync(`/proc/${child!.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  });
}

/** A node's /metrics samples: series (name plus labels, as printed) → value. */
async function scrape(node: Node): Promise<Map<string, number>> {
  const text = await (await fetch(node.metricsUrl)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** A counter summed over its series; NaN when the node does not export it (an older build). */
const counterOf = (samples: Map<string, number>, name: string) =>
  [...samples].reduce(
    (sum, [series, v]) => (series.startsWith(`${name}{`) ? (Number.isNaN(sum) ? v : sum + v) : sum),
    Number.NaN,
  );

/**
 * Percentiles (ms) of each phase from the histogram deltas of the participants, at bucket resolution, and the mean
 * (exact: the histograms' sums), which shows the sub-bucket changes the percentiles cannot.
 */
function phasePercentiles(
  before: readonly Map<string, number>[],
  after: readonly Map<string, number>[],
): Record<string, PhaseFigures> {
  const buckets = new Map<string, Map<number, number>>();
  const sums = new Map<string, number>();
  after.forEach((samples, i) => {
    for (const [series, v] of samples) {
      if (series.startsWith('weft_participant_phase_seconds_sum{')) {
        const name = /phase="([^"]+)"/.exec(series)![1]!;
        sums.set(name, (sums.get(name) ?? 0) + v - (before[i]!.get(series) ?? 0));
        continue;
      }
      if (!series.startsWith('weft_participant_phase_seconds_bucket{')) continue;
      const name = /phase="([^"]+)"/.exec(series)![1]!;
      const bound = /le="([^"]+)"/.exec(series)![1]!;
      const le = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound);
      const phase = buckets.get(name) ?? new Map<number, number>();
      buckets.set(name, phase);
      phase.set(le, (phase.get(le) ?? 0) + v - (before[i]!.get(series) ?? 0));
    }
  });
  const result: Record<string, PhaseFigures> = {};
  for (const [phase, cumulative] of buckets) {
    const sorted = [...cumulative].sort((a, b) => a[0] - b[0]);
    const total = sorted[sorted.length - 1]![1];
    if (total === 0) continue;
    const at = (p: number) => 1000 * sorted.find(([, n]) => n >= (p / 100) * total)![0];
    result[phase] = { p50: at(50), p95: at(95), p99: at(99), mean: (1000 * (sums.get(phase) ?? 0)) / total };
  }
  return result;
}

interface PhaseFigures {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
}

const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Measurement {
  readonly mode: string;
  readonly build: Build['label'];
  readonly backend: Backend;
  readonly run: number;
  readonly load: Load;
  readonly transactions: number;
  readonly transactionsPerSec: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly phases: Record<string, PhaseFigures>;
  readonly cpuMsPerTx: number;
  /** By node (daemons); in-process only the total. */
  readonly cpuMsPerTxByNode: Record<string, number>;
  /**
   * This process's (the load driver's: Ledger API client, update stream), which shares the machine's cores; NaN
   * in-process, where it is in the total.
   */
  readonly driverCpuMsPerTx: number;
  readonly commitsPerTx: number;
  readonly commitsPerTxByNode: Record<string, number>;
  readonly signaturesPerTx: number;
  readonly signaturesPerTxByNode: Record<string, number>;
  readonly verificationsPerTx: number;
  readonly verificationsPerTxByNode: Record<string, number>;
  readonly loadavg: number;
}

const loadName = (l: Load) => ('rate' in l ? `${l.rate} tx/s offered` : `${l.concurrency} in flight`);

/** Drives the load steps of one network: the given steps, or a ramp. */
async function network(build: Build, backend: Backend, run: number, out: Measurement[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-net-bench-'));
  const name = `${backend} run ${run}${BUILDS.length > 1 ? ` (${build.label})` : ''}`;
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
    const seq = await startNode(
      build,
      dir,
      'sequencer',
      `  kind = sequencer\n${storage('sequencer')}\n  public-api.port = 0\n  sequencer.writer.preset = high-throughput${windowLine('sequencer.writer')}`,
    );
    nodes.push(seq);
    const med = await startNode(
      build,
      dir,
      'mediator',
      `  kind = mediator\n${storage('mediator')}\n  sequencer-connection.endpoints = ["${seq.publicUrl}"]${windowLine('mediator')}`,
    );
    nodes.push(med);
    const participant = (name: string) =>
      startNode(
        build,
        dir,
        name,
        `  kind = participant\n${storage(name)}\n  ledger-api.port = 0\n  participant.max-backoff-ms = 200${windowLine('participant')}`,
      );
    const [n1, n2] = [await participant('participant1'), await participant('participant2')];
    nodes.push(n1, n2);
    await cli(build, ['admin', '-e', seq.admin, 'bootstrap', '--name', 'bench', '--mediator', med.admin]);
    const medClient = new AdminClient(med.admin);
    clients.push(medClient);
    while (!(await medClient.status()).ready) await new Promise((r) => setTimeout(r, 50));
    for (const n of [n1, n2]) {
      await cli(build, [
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
      await cli(build, ['admin', '-e', n.admin, 'dars', 'upload', TOKEN_DAR]);
    }
    const enable = (n: Node, name: string) => cli(build, ['admin', '-e', n.admin, 'parties', 'enable', name]);
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
    const steps = RAMP ? Math.log2(RAMP_MAX_CONCURRENCY) + 2 : (RATES ?? CONCURRENCY).length;
    const holdings: string[] = [];
    const mint = async (count: number) => {
      for (let left = count; left > 0; left -= 50) {
        const tokens = Array.from({ length: Math.min(50, left) }, () =>
          tokenCommands.mint(admin, alice, '10.0'),
        );
        holdings.push(...(await createdOf(p1, alice, await submit(p1, [admin, alice], tokens), 'Token')));
      }
    };
    await mint(Math.min(WARM_UP, WARM_UP_ROUND) + Math.min(steps, 3) * TRANSFERS);
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
    let latencies: number[] = [];
    let done = 0;
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
      done += 2;
    };
    /** Transfers every holding of `queue`, `concurrency` at a time. */
    const drive = (queue: string[], concurrency: number) =>
      Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let h = queue.pop(); h !== undefined; h = queue.pop()) await transfer(h);
        }),
      );
    // Each process compiles its hot code on its own: warm all four up.
    for (let warmed = 0; warmed < WARM_UP; ) {
      const round = Math.min(WARM_UP_ROUND, WARM_UP - warmed);
      if (holdings.length < round) await mint(round - holdings.length);
      const cpu = cpuSeconds(nodes);
      await drive(holdings.splice(0, round), WARM_UP_CONCURRENCY);
      warmed += round;
      const byNode = cpuSeconds(nodes).map((x, i) => ((x - cpu[i]!) * 1000) / (2 * round));
      const ms = byNode.reduce((a, b) => a + b, 0);
      process.stderr.write(
        `${name} warm-up: ${warmed} transfers, ${ms.toFixed(1)} CPU ms/tx (${byNode.map((x) => x.toFixed(1)).join(' / ')})\n`,
      );
    }
    const step = async (load: Load): Promise<Measurement> => {
      if (holdings.length < TRANSFERS) await mint(TRANSFERS - holdings.length);
      latencies = [];
      done = 0;
      const queue = holdings.splice(0, TRANSFERS);
      const [cpu, scraped] = [cpuSeconds(nodes), await Promise.all(nodes.map(scrape))];
      const driverCpu = process.cpuUsage();
      const start = performance.now();
      const progress = setInterval(() => {
        const s = (performance.now() - start) / 1000;
        process.stderr.write(
          `\r${name} ${loadName(load)}: ${done}/${2 * TRANSFERS} tx, ${(done / s).toFixed(1)} tx/s, p50 ${pct(latencies, 50).toFixed(1)} ms   `,
        );
      }, 1000);
      if ('concurrency' in load) await drive(queue, load.concurrency);
      else {
        // A transfer (two transactions) every 2/rate seconds, on schedule, whatever is still outstanding.
        const running = new Set<Promise<void>>();
        const interval = 2000 / load.rate;
        for (let i = 0, h = queue.pop(); h !== undefined; i++, h = queue.pop()) {
          const wait = start + i * interval - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          while (running.size >= MAX_OUTSTANDING) await Promise.race(running);
          const t: Promise<void> = transfer(h).finally(() => running.delete(t));
          running.add(t);
        }
        await Promise.all(running);
      }
      clearInterval(progress);
      process.stderr.write('\n');
      const seconds = (performance.now() - start) / 1000;
      const used = cpuSeconds(nodes).map((x, i) => x - cpu[i]!);
      const driverUsed = process.cpuUsage(driverCpu);
      const after = await Promise.all(nodes.map(scrape));
      const tx = 2 * TRANSFERS;
      const perTx = (x: number) => Math.round((x * 100) / tx) / 100;
      // In-process every node reports the process's counters: count them once.
      const counted = MODE === 'in-process' ? [0] : nodes.map((_, i) => i);
      const delta = (name: string, i: number) => counterOf(after[i]!, name) - counterOf(scraped[i]!, name);
      const total = (name: string) => counted.reduce((sum, i) => sum + delta(name, i), 0);
      const byNode = (values: readonly number[]) =>
        Object.fromEntries(
          counted.map((i) => [MODE === 'in-process' ? 'process' : NODES[i]!, perTx(values[i]!)]),
        );
      return {
        mode: MODE_LABEL,
        build: build.label,
        backend,
        run,
        load,
        transactions: tx,
        transactionsPerSec: tx / seconds,
        p50: pct(latencies, 50),
        p95: pct(latencies, 95),
        p99: pct(latencies, 99),
        phases: phasePercentiles(
          [2, 3].map((i) => scraped[i]!),
          [2, 3].map((i) => after[i]!),
        ),
        cpuMsPerTx: perTx(used.reduce((a, b) => a + b, 0) * 1000),
        cpuMsPerTxByNode: byNode(used.map((x) => x * 1000)),
        driverCpuMsPerTx:
          MODE === 'in-process' ? Number.NaN : perTx((driverUsed.user + driverUsed.system) / 1000),
        commitsPerTx: perTx(total('weft_storage_commits_total')),
        commitsPerTxByNode: byNode(nodes.map((_, i) => delta('weft_storage_commits_total', i))),
        signaturesPerTx: perTx(total('weft_crypto_signed_total')),
        signaturesPerTxByNode: byNode(nodes.map((_, i) => delta('weft_crypto_signed_total', i))),
        verificationsPerTx: perTx(total('weft_crypto_verified_total')),
        verificationsPerTxByNode: byNode(nodes.map((_, i) => delta('weft_crypto_verified_total', i))),
        loadavg: loadavg()[0]!,
      };
    };
    const record = (m: Measurement) => {
      console.log(JSON.stringify({ bench: 'network', ...m }));
      out.push(m);
      return m;
    };
    if (!RAMP) {
      for (const load of RATES
        ? RATES.map((rate) => ({ rate }))
        : CONCURRENCY.map((concurrency) => ({ concurrency })))
        record(await step(load));
      return;
    }
    let best = record(await step({ concurrency: 1 }));
    let flat = 0;
    for (let c = 2; flat < RAMP_PATIENCE && c <= RAMP_MAX_CONCURRENCY; c *= 2) {
      const m = record(await step({ concurrency: c }));
      flat = m.transactionsPerSec >= best.transactionsPerSec * RAMP_GAIN ? 0 : flat + 1;
      if (m.transactionsPerSec > best.transactionsPerSec) best = m;
    }
    const grew = flat < RAMP_PATIENCE;
    console.log(
      `${grew ? `not saturated at ${RAMP_MAX_CONCURRENCY} in flight, the ramp's bound; best` : 'saturation:'} ` +
        `${best.transactionsPerSec.toFixed(1)} tx/s at ${loadName(best.load)}; now at half that rate`,
    );
    record(await step({ rate: Math.round(best.transactionsPerSec / 2) }));
  } finally {
    for (const c of clients) c.close();
    // Participants first, the sequencer last: members leave before their synchronizer.
    for (const x of [...nodes].reverse()) {
      if (x.inProcess) await x.inProcess.runtime.stop();
      else if (x.child!.exitCode === null)
        await new Promise<void>((resolve) => x.child!.once('exit', () => resolve()).kill());
    }
    rmSync(dir, { recursive: true, force: true });
    if (schemas.length > 0) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await client.end();
    }
  }
}

// The machine's speed of the day, before and after: figures of different days compare only beside it.
const speedBefore = measureMachineSpeed();
process.stderr.write(`machine speed: ${formatMachineSpeed(speedBefore)}\n`);
const all: Measurement[] = [];
for (const backend of BACKENDS)
  for (let r = 0; r < RUNS; r++)
    // Each run starts with the other build, so that neither always runs on a machine the other just warmed.
    for (const build of r % 2 === 0 ? BUILDS : [...BUILDS].reverse()) await network(build, backend, r, all);

const machineSpeed = { before: speedBefore, after: measureMachineSpeed() };

// Medians over runs of each (build, backend, load); a ramp's steps line up by their load.
const groupKey = (m: Measurement) =>
  `${BUILDS.length > 1 ? `${m.build}: ` : ''}${m.backend} ${loadName(m.load)}`;
const groups = new Map<string, Measurement[]>();
for (const m of all) groups.set(groupKey(m), [...(groups.get(groupKey(m)) ?? []), m]);
const f = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(1));
const medians = [...groups].map(([key, ms]) => {
  const med = (get: (m: Measurement) => number) => pct(ms.map(get), 50);
  const phases = Object.keys(ms[0]!.phases);
  return {
    key,
    runs: ms.length,
    transactionsPerSec: med((m) => m.transactionsPerSec),
    range: [
      Math.min(...ms.map((m) => m.transactionsPerSec)),
      Math.max(...ms.map((m) => m.transactionsPerSec)),
    ],
    p50: med((m) => m.p50),
    p95: med((m) => m.p95),
    p99: med((m) => m.p99),
    phases: Object.fromEntries(
      phases.map((p) => [
        p,
        {
          p50: med((m) => m.phases[p]?.p50 ?? Number.NaN),
          mean: med((m) => m.phases[p]?.mean ?? Number.NaN),
        },
      ]),
    ),
    cpuMsPerTx: med((m) => m.cpuMsPerTx),
    cpuMsPerTxByNode: Object.fromEntries(
      Object.keys(ms[0]!.cpuMsPerTxByNode).map((node) => [node, med((m) => m.cpuMsPerTxByNode[node]!)]),
    ),
    driverCpuMsPerTx: med((m) => m.driverCpuMsPerTx),
    commitsPerTx: med((m) => m.commitsPerTx),
    signaturesPerTx: med((m) => m.signaturesPerTx),
    verificationsPerTx: med((m) => m.verificationsPerTx),
  };
});
console.log(
  `\n${MODE_LABEL}, ${TRANSFERS} transfers per step (2 transactions each) after ${WARM_UP} of warm-up, medians of ${RUNS} run(s); phases are p50 ms at bucket resolution / mean ms`,
);
console.log(
  '| backend, load | tx/s (range) | latency p50 / p95 / p99 ms | phases p50 / mean ms | CPU ms/tx (by node) | driver CPU ms/tx | commits/tx | signed / verified per tx |',
);
console.log('|---|---:|---:|---|---:|---:|---:|---:|');
for (const m of medians) {
  const phases = Object.entries(m.phases)
    .map(([p, v]) => `${p} ${f(v.p50)} / ${f(v.mean)}`)
    .join(', ');
  const cpu = `${f(m.cpuMsPerTx)} (${Object.values(m.cpuMsPerTxByNode).map(f).join(' / ')})`;
  console.log(
    `| ${m.key} | ${f(m.transactionsPerSec)} (${f(m.range[0]!)}–${f(m.range[1]!)}) | ${f(m.p50)} / ${f(m.p95)} / ${f(m.p99)} | ` +
      `${phases} | ${cpu} | ${f(m.driverCpuMsPerTx)} | ` +
      `${m.commitsPerTx.toFixed(2)} | ${m.signaturesPerTx.toFixed(1)} / ${m.verificationsPerTx.toFixed(1)} |`,
  );
}

/**
 * With `--compare`: per (backend, load) both builds measured, the ratios of their medians (this / compare) and the
 * runs in which this build spent less CPU per transaction (runs pair up by their number).
 */
const ratios = [...groups]
  // Only with --compare do the keys name their build (see groupKey).
  .filter(([key]) => key.startsWith('this: '))
  .flatMap(([key, ms]) => {
    const other = groups.get(key.replace(/^this: /, 'compare: '));
    if (!other) return [];
    const med = (xs: readonly Measurement[], get: (m: Measurement) => number) => pct(xs.map(get), 50);
    const ratio = (get: (m: Measurement) => number) => med(ms, get) / med(other, get);
    const pairs = ms.flatMap((m) => other.filter((o) => o.run === m.run).map((o) => [m, o] as const));
    return [
      {
        key: key.replace(/^this: /, ''),
        transactionsPerSec: ratio((m) => m.transactionsPerSec),
        p50: ratio((m) => m.p50),
        p99: ratio((m) => m.p99),
        cpuMsPerTx: ratio((m) => m.cpuMsPerTx),
        cpuMsPerTxByNode: Object.fromEntries(
          Object.keys(ms[0]!.cpuMsPerTxByNode).map((node) => [node, ratio((m) => m.cpuMsPerTxByNode[node]!)]),
        ),
        cpuLowerInRuns: pairs.filter(([m, o]) => m.cpuMsPerTx < o.cpuMsPerTx).length,
        runs: pairs.length,
      },
    ];
  });
if (ratios.length > 0) {
  console.log(`\nthis build / ${options.compare}: ratios of the medians`);
  console.log(
    '| backend, load | tx/s | latency p50 | p99 | CPU ms/tx (by node) | runs with less CPU per tx |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  const x = (r: number) => `×${r.toFixed(2)}`;
  for (const r of ratios) {
    console.log(
      `| ${r.key} | ${x(r.transactionsPerSec)} | ${x(r.p50)} | ${x(r.p99)} | ${x(r.cpuMsPerTx)} ` +
        `(${Object.values(r.cpuMsPerTxByNode).map(x).join(' / ')}) | ${r.cpuLowerInRuns} of ${r.runs} |`,
    );
  }
}
console.log(
  `\nmachine speed (bench/machine-speed.ts), before → after: ${formatMachineSpeed(machineSpeed.before)} → ${formatMachineSpeed(machineSpeed.after)}`,
);
if (JSON_FILE)
  writeFileSync(
    JSON_FILE,
    `${JSON.stringify({ mode: MODE_LABEL, transfers: TRANSFERS, warmUp: WARM_UP, groupCommitMaxDelayMs: WINDOW_MS ?? 'default', machineSpeed, runs: all, medians, ratios }, null, 2)}\n`,
  );
