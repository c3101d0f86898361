/**
 * The on-demand fault run (`npm run test:faults`, issue 13): a synchronizer (sequencer, mediator) and three
 * participants on PostgreSQL under a steady load of commands, while a schedule injects faults in turn — every node's
 * connections terminated, the mediator killed and restarted, a participant killed and restarted, PostgreSQL itself
 * restarted. Afterwards an invariant checker reads every participant's store: every command committed exactly once,
 * each pair of participants agreeing on the contracts and transactions they share, every node ready again.
 *
 *   npm run test:faults -- [--seconds 60] [--interval-ms 4000] [--no-pg-restart]
 *
 * The server is `WEFT_TEST_PG_URL` (default the local `test` database). Restarting it (`pg_ctlcluster <version>
 * <cluster> restart` of the local cluster on the URL's port, as .ci/run starts it) disturbs everything else using
 * it: run the fault run when nothing else does, point it at a cluster of its own, or pass --no-pg-restart. Exits 1
 * when an invariant fails.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { isWeftError } from '../src/errors/index.js';
import { ParticipantErrors, type ParticipantNode, PING_TEMPLATE } from '../src/participant/index.js';
import { participantTestNetwork, type StartedParticipant } from '../src/participant/testing.js';
import type { StorageConfig } from '../src/storage/index.js';
import { pgTestUrl, postgresUnavailableReason } from '../src/storage/testing.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const SECONDS = option('--seconds', 60);
const INTERVAL_MS = option('--interval-ms', 4_000);
const RESTART_PG = !args.includes('--no-pg-restart');
/** Commands each participant keeps in flight. */
const CONCURRENCY = 2;
/** How long the checker waits for the last commands and for every node to be ready. */
const SETTLE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const url = pgTestUrl();
const tag = `weft_faults_${randomBytes(4).toString('hex')}`;
const schemas: string[] = [];

/** A schema of its own per node, and an application name the connection cutter finds it by. */
function config(name: string): StorageConfig {
  const schema = `${tag}_${name}`.replace(/-/g, '_');
  schemas.push(schema);
  const u = new URL(url);
  u.searchParams.set('application_name', `${tag}_${name}`);
  return { kind: 'postgres', url: u.toString(), schema };
}

/** The local cluster (version, name) listening on the URL's port, as `pg_lsclusters` lists them. */
function clusterOf(serverUrl: string): [string, string] {
  const port = new URL(serverUrl).port || '5432';
  const line = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[2] === port);
  if (!line) throw new Error(`no local PostgreSQL cluster listens on port ${port} (pg_lsclusters)`);
  return [line[0]!, line[1]!];
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      return await fn(client);
    } catch (e) {
      if (attempt >= 30) throw e;
      await sleep(1_000);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

const faults: Record<string, number> = {};
const count = (kind: string, n = 1) => {
  faults[kind] = (faults[kind] ?? 0) + n;
};

async function main(): Promise<number> {
  const unavailable = await postgresUnavailableReason(url);
  if (unavailable) throw new Error(unavailable);
  const started = Date.now();
  const net = await participantTestNetwork({ seed: `faults-${tag}`, synchronizerStorage: config });
  const names = ['p1', 'p2', 'p3'] as const;
  const configs = new Map(names.map((n) => [n, config(n)]));
  const nodes = new Map<string, StartedParticipant>();
  for (const n of names) nodes.set(n, await net.startParticipant(n, { config: configs.get(n)! }));
  const parties = new Map<string, string>();
  for (const n of names) parties.set(n, await nodes.get(n)!.node.allocateParty(`${n}-party`));
  /** Each participant's party creates Pings for the next one's: every contract is shared by two participants. */
  const next = (n: string) => names[(names.indexOf(n as (typeof names)[number]) + 1) % names.length]!;
  const accepted = new Map<string, number>(names.map((n) => [n, 0]));
  const refusals: Record<string, number> = {};
  const failedCompletions: Record<string, number> = {};
  let loading = true;
  let victims = 0;

  /** The participant `name` as it runs now (a restart replaces it); waits while it is down. */
  const current = async (name: string): Promise<ParticipantNode> => {
    for (;;) {
      const p = nodes.get(name);
      if (p) return p.node;
      await sleep(50);
    }
  };

  const worker = async (name: string, w: number) => {
    for (let i = 0; loading; i++) {
      const commandId = `${name}-${w}-${i}`;
      const initiator = parties.get(name)!;
      const responder = parties.get(next(name))!;
      for (;;) {
        const node = await current(name);
        try {
          const completion = await node.submit({
            commands: [
              {
                CreateCommand: {
                  templateId: PING_TEMPLATE,
                  createArguments: { id: commandId, initiator, responder },
                },
              },
            ],
            actAs: [initiator],
            commandId,
          });
          if (completion.status === 'succeeded') break;
          failedCompletions[completion.code ?? '?'] = (failedCompletions[completion.code ?? '?'] ?? 0) + 1;
        } catch (e) {
          if (isWeftError(e, ParticipantErrors.DUPLICATE_COMMAND)) break;
          const code = isWeftError(e) ? e.code : 'error';
          refusals[code] = (refusals[code] ?? 0) + 1;
        }
        // A client that cannot tell what happened resubmits under the same command id.
        await sleep(200);
      }
      accepted.set(name, accepted.get(name)! + 1);
    }
  };
  const workers = names.flatMap((n) => Array.from({ length: CONCURRENCY }, (_, w) => worker(n, w)));

  const schedule: [string, () => Promise<void>][] = [
    [
      'connections terminated',
      async () => {
        const n = await admin(async (c) => {
          const { rows } = await c.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1',
            [`${tag}_%`],
          );
          return rows.length;
        });
        count('connections terminated (count)', n);
      },
    ],
    [
      'mediator killed and restarted',
      async () => {
        await net.stopMediator({ kill: true });
        await sleep(500);
        await net.startMediator();
      },
    ],
    [
      'participant killed and restarted',
      async () => {
        const victim = names[victims++ % names.length]!;
        const p = nodes.get(victim)!;
        nodes.delete(victim);
        await net.stopParticipant(p, { kill: true });
        await sleep(500);
        // As a supervisor would: start again until it comes up.
        for (;;) {
          try {
            nodes.set(victim, await net.startParticipant(victim, { config: configs.get(victim)! }));
            return;
          } catch {
            await sleep(500);
          }
        }
      },
    ],
    ...(RESTART_PG
      ? [
          [
            'PostgreSQL restarted',
            async () => {
              const [version, cluster] = clusterOf(url);
              execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, cluster, 'restart']);
            },
          ] as [string, () => Promise<void>],
        ]
      : []),
  ];
  const deadline = started + SECONDS * 1000;
  for (let i = 0; Date.now() < deadline; i++) {
    await sleep(INTERVAL_MS);
    const [kind, inject] = schedule[i % schedule.length]!;
    process.stdout.write(`${new Date().toISOString()} ${kind}\n`);
    await inject();
    count(kind);
  }
  loading = false;
  const settled = await Promise.race([
    Promise.all(workers).then(() => true),
    sleep(SETTLE_MS).then(() => false),
  ]);

  const results: [string, boolean, string][] = [];
  const check = (name: string, ok: boolean, detail = '') => results.push([name, ok, detail]);
  check('every command completed', settled);
  const until = Date.now() + SETTLE_MS;
  const readiness = async () => {
    const reasons: (string | undefined)[] = names.map((n) => {
      const p = nodes.get(n);
      return p ? p.node.readiness() : `${n} is not running`;
    });
    reasons.push(await net.mediator.readiness());
    return reasons.filter((r): r is string => r !== undefined);
  };
  let notReady = await readiness();
  while (notReady.length > 0 && Date.now() < until) {
    await sleep(200);
    notReady = await readiness();
  }
  check('every node ready again', notReady.length === 0, notReady.join('; '));
  // Each pair shares exactly the Pings its initiator's commands created, once each, and agrees on them.
  let transactions = 0;
  for (const n of names) {
    const m = next(n);
    const ids = async (node: string, party: string) =>
      (await nodes.get(node)!.node.activeContracts(party)).contracts
        .filter((c) => c.contract.signatories.includes(parties.get(n)!))
        .map((c) => c.contract.contractId.coid)
        .sort();
    const atInitiator = await ids(n, parties.get(n)!);
    const atResponder = await ids(m, parties.get(m)!);
    transactions += atInitiator.length;
    check(
      `${n} → ${m}: one contract per accepted command`,
      atInitiator.length === accepted.get(n),
      `${atInitiator.length} contracts, ${accepted.get(n)} commands`,
    );
    check(
      `${n} → ${m}: both participants hold the same contracts`,
      atInitiator.join() === atResponder.join(),
    );
  }
  for (const n of names) {
    const updates = await nodes.get(n)!.node.updatesUpTo(parties.get(n)!);
    const ids = updates.map((u) => u.updateId);
    check(`${n}: no transaction twice in its update stream`, new Set(ids).size === ids.length);
  }
  check(
    'no completion failed with a storage error',
    Object.keys(failedCompletions).every((c) => !c.startsWith('STORAGE_')),
    JSON.stringify(failedCompletions),
  );

  const lines = [
    `Fault run: ${Math.round((Date.now() - started) / 1000)} s, ${names.length} participants on PostgreSQL, ${CONCURRENCY} commands in flight each, a fault every ${INTERVAL_MS} ms${RESTART_PG ? '' : ' (no PostgreSQL restart)'}.`,
    '',
    '| fault | injected |',
    '|---|---|',
    ...Object.entries(faults).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Transactions committed: ${transactions}. Resubmissions after a refusal: ${JSON.stringify(refusals)}; after a failed completion: ${JSON.stringify(failedCompletions)}.`,
    '',
    '| invariant | result |',
    '|---|---|',
    ...results.map(([name, ok, detail]) => `| ${name} | ${ok ? 'holds' : `FAILS ${detail}`} |`),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  await net.close().catch(() => {});
  await admin(async (c) => {
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  });
  return results.every(([, ok]) => ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`fault run: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
