/**
 * The on-demand fault run (`npm run test:faults`, issue 13): a synchronizer (two HA sequencer nodes on one database,
 * a mediator) and three participants on PostgreSQL under a steady load of Ping commands and token transfers between
 * parties on different participants, while a schedule injects faults in turn — every node's connections terminated,
 * a sequencer node killed and restarted, the mediator killed and restarted, a participant killed and restarted,
 * PostgreSQL itself restarted. Afterwards an invariant checker reads every participant's store: every command
 * committed exactly once, each pair of participants agreeing on the contracts and transactions they share, tokens
 * conserved (supply unchanged, no holding spent twice, every participant's view of a holding the same), every node
 * ready again.
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
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import { valueToJson } from '../src/daml/index.js';
import { isWeftError } from '../src/errors/index.js';
import {
  type DisclosedContract,
  ParticipantErrors,
  type ParticipantNode,
  PING_TEMPLATE,
  type SubmitRequest,
} from '../src/participant/index.js';
import {
  participantTestNetwork,
  type StartedParticipant,
  tokenCommands,
} from '../src/participant/testing.js';
import { type SequencerNode, sequencerSettings } from '../src/sequencer/index.js';
import { startSequencerNode } from '../src/sequencer/testing.js';
import { openStorage, type Storage, type StorageConfig } from '../src/storage/index.js';
import { pgTestUrl, postgresUnavailableReason } from '../src/storage/testing.js';
import { systemClock } from '../src/time/index.js';

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
/** Holdings minted before the faults start, and the amount of each: the supply the checker expects at the end. */
const HOLDINGS = 6;
const HOLDING_AMOUNT = '10.0';
/** Offers a party's worker makes per round, so that accepting keeps pace. */
const OFFERS_PER_ROUND = 2;
/** Peers mark a killed sequencer node offline within a second, so its members' requests fail over soon. */
const HA_SETTINGS = sequencerSettings({
  'high-availability': {
    'keep-alive-interval-ms': 50,
    'offline-duration-ms': 1_000,
    'online-check-interval-ms': 100,
  },
});

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

// ---- the token workflow -------------------------------------------------------------------------------------------

/** Who holds tokens: the issuer and alice on p1, bob on p2, carol on p3; each transfers to the next one's party. */
const HOLDERS = [
  ['p1', 'alice'],
  ['p2', 'bob'],
  ['p3', 'carol'],
] as const;

interface Tokens {
  readonly admin: string;
  /** The issuer's TokenRules, disclosed to every sender (only the issuer's participant knows it). */
  readonly rules: DisclosedContract;
  /** The holder party of each participant. */
  readonly owners: ReadonlyMap<string, string>;
  /** The supply: every holding minted before the faults start. */
  readonly minted: bigint;
}

interface Holding {
  readonly id: string;
  readonly owner: string;
  /** The instrument, `admin/id`: conservation holds per issuer and instrument. */
  readonly instrument: string;
  readonly amount: string;
  readonly locked: boolean;
}

/** A decimal amount in units of 10⁻¹⁰ (Daml's Numeric 10), so that sums are exact. */
const units = (amount: string): bigint => {
  const [whole, fraction = ''] = amount.split('.');
  return BigInt(`${whole}${fraction.padEnd(10, '0').slice(0, 10)}`);
};
const decimal = (u: bigint) => `${u / 10_000_000_000n}.${(u % 10_000_000_000n).toString().padStart(10, '0')}`;

/** The holdings and pending transfer offers `party` sees on `node`. */
async function tokenView(
  node: ParticipantNode,
  party: string,
): Promise<{ holdings: Holding[]; offers: { id: string; receiver: string }[] }> {
  const holdings: Holding[] = [];
  const offers: { id: string; receiver: string }[] = [];
  for (const { contract } of (await node.activeContracts(party)).contracts) {
    const template = contract.templateId.name.join('.');
    const arg = valueToJson(contract.arg) as {
      holding?: { owner: string; amount: string; instrumentId: { admin: string; id: string }; lock: unknown };
      transfer?: { receiver: string };
    };
    const id = contract.contractId.coid;
    if (template === 'Token' && arg.holding) {
      const h = arg.holding;
      holdings.push({
        id,
        owner: h.owner,
        instrument: `${h.instrumentId.admin}/${h.instrumentId.id}`,
        amount: h.amount,
        locked: h.lock !== null,
      });
    } else if (template === 'TokenTransferOffer' && arg.transfer) {
      offers.push({ id, receiver: arg.transfer.receiver });
    }
  }
  return { holdings, offers };
}

/** Uploads the token DAR everywhere, allocates the holders, creates the rules and mints the supply to alice. */
async function tokenSetup(nodes: ReadonlyMap<string, StartedParticipant>): Promise<Tokens> {
  const p1 = nodes.get('p1')!.node;
  const dar = readFileSync(TOKEN_DAR);
  for (const p of nodes.values()) await p.node.uploadDar(dar);
  const admin = await p1.allocateParty('admin');
  const owners = new Map<string, string>();
  for (const [n, party] of HOLDERS) owners.set(n, await nodes.get(n)!.node.allocateParty(party));
  const alice = owners.get('p1')!;
  const setup = async (request: SubmitRequest) => {
    const c = await p1.submit(request);
    if (c.status !== 'succeeded') throw new Error(`token setup ${request.commandId}: ${c.code} ${c.message}`);
  };
  await setup({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' });
  await setup({
    commands: Array.from({ length: HOLDINGS }, () => tokenCommands.mint(admin, alice, HOLDING_AMOUNT)),
    actAs: [admin, alice],
    commandId: 'mint',
  });
  const rules = (await p1.activeContracts(admin)).contracts.find(
    (c) => c.contract.templateId.name.join('.') === 'TokenRules',
  )!;
  return {
    admin,
    owners,
    rules: { contract: rules.contract, synchronizerId: rules.synchronizerId },
    minted: units(HOLDING_AMOUNT) * BigInt(HOLDINGS),
  };
}

// ---- the run -------------------------------------------------------------------------------------------------------

const faults: Record<string, number> = {};
const count = (kind: string, n = 1) => {
  faults[kind] = (faults[kind] ?? 0) + n;
};

async function main(): Promise<number> {
  const unavailable = await postgresUnavailableReason(url);
  if (unavailable) throw new Error(unavailable);
  const started = Date.now();
  let sequencerConfig: StorageConfig | undefined;
  const net = await participantTestNetwork({
    seed: `faults-${tag}`,
    synchronizerStorage: (name) => {
      const c = config(name);
      if (name === 'sequencer') sequencerConfig = c;
      return c;
    },
    // Two nodes of one HA sequencer: while one is down, the other serves every member.
    sequencerNodes: 2,
    sequencerSettings: HA_SETTINGS,
  });
  /** The sequencer nodes as they run now, and the storage a restarted node opened itself. */
  const sequencers: SequencerNode[] = [...net.sequencers];
  const restartedStorage: (Storage | undefined)[] = sequencers.map(() => undefined);
  let sequencerVictims = 0;
  const names = ['p1', 'p2', 'p3'] as const;
  const configs = new Map(names.map((n) => [n, config(n)]));
  const nodes = new Map<string, StartedParticipant>();
  for (const n of names) nodes.set(n, await net.startParticipant(n, { config: configs.get(n)! }));
  const parties = new Map<string, string>();
  for (const n of names) parties.set(n, await nodes.get(n)!.node.allocateParty(`${n}-party`));
  const tokens = await tokenSetup(nodes);
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

  /** Submits once: whether the command is now committed (by this or an earlier submission of its command id). */
  const submitOnce = async (node: ParticipantNode, request: SubmitRequest): Promise<boolean> => {
    try {
      const completion = await node.submit(request);
      if (completion.status === 'succeeded') return true;
      failedCompletions[completion.code ?? '?'] = (failedCompletions[completion.code ?? '?'] ?? 0) + 1;
    } catch (e) {
      if (isWeftError(e, ParticipantErrors.DUPLICATE_COMMAND)) return true;
      const code = isWeftError(e) ? e.code : 'error';
      refusals[code] = (refusals[code] ?? 0) + 1;
    }
    return false;
  };

  const worker = async (name: string, w: number) => {
    for (let i = 0; loading; i++) {
      const commandId = `${name}-${w}-${i}`;
      const initiator = parties.get(name)!;
      const responder = parties.get(next(name))!;
      const request = {
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
      };
      // A client that cannot tell what happened resubmits under the same command id.
      while (!(await submitOnce(await current(name), request))) await sleep(200);
      accepted.set(name, accepted.get(name)! + 1);
    }
  };

  /** Offer rounds under way: once loading has stopped and none is, no new offer can appear. */
  let offering = 0;
  const offersPending = async () => {
    let pending = 0;
    for (const n of names)
      pending += (await tokenView(await current(n), tokens.owners.get(n)!)).offers.length;
    return pending;
  };
  /**
   * The holder on `name` accepts every offer made to it and offers each of its holdings to the next participant's
   * holder; command ids derive from the contract consumed, so a resubmission is deduplicated. After the load it
   * only accepts, until no offer is pending anywhere.
   */
  const tokenWorker = async (name: string) => {
    const me = tokens.owners.get(name)!;
    const receiver = tokens.owners.get(next(name))!;
    for (;;) {
      if (!loading && offering === 0 && (await offersPending()) === 0) return;
      const node = await current(name);
      try {
        const view = await tokenView(node, me);
        for (const offer of view.offers.filter((o) => o.receiver === me)) {
          const request = {
            commands: [tokenCommands.instruction(offer.id, 'TransferInstruction_Accept')],
            actAs: [me],
            commandId: `accept-${offer.id}`,
          };
          await submitOnce(node, request);
        }
        if (loading) {
          offering++;
          try {
            for (const h of view.holdings
              .filter((x) => x.owner === me && !x.locked)
              .slice(0, OFFERS_PER_ROUND)) {
              const offer = tokenCommands.offer({
                rules: tokens.rules.contract.contractId.coid,
                admin: tokens.admin,
                sender: me,
                receiver,
                amount: h.amount,
                inputs: [h.id],
              });
              const request = {
                commands: [offer],
                actAs: [me],
                commandId: `offer-${h.id}`,
                disclosedContracts: [tokens.rules],
              };
              await submitOnce(node, request);
            }
          } finally {
            offering--;
          }
        }
      } catch (e) {
        // The participant went down while this round read its store.
        const code = isWeftError(e) ? e.code : 'error';
        refusals[code] = (refusals[code] ?? 0) + 1;
      }
      await sleep(100);
    }
  };
  const workers = [
    ...names.flatMap((n) => Array.from({ length: CONCURRENCY }, (_, w) => worker(n, w))),
    ...names.map(tokenWorker),
  ];

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
      'sequencer node killed and restarted',
      async () => {
        const i = sequencerVictims++ % sequencers.length;
        const { port } = sequencers[i]!;
        await sequencers[i]!.kill();
        await restartedStorage[i]?.close();
        restartedStorage[i] = undefined;
        await sleep(500);
        // On its port again, so that members reach it at the endpoint they know; until it comes up.
        for (;;) {
          let storage: Storage | undefined;
          try {
            storage = await openStorage(sequencerConfig!);
            const { node } = await startSequencerNode(net.sync, {
              name: `sequencer-${i}`,
              storage,
              port,
              settings: HA_SETTINGS,
            });
            sequencers[i] = node;
            restartedStorage[i] = storage;
            return;
          } catch {
            await storage?.close().catch(() => {});
            await sleep(500);
          }
        }
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
  // The load runs for --seconds after the setup.
  const deadline = Date.now() + SECONDS * 1000;
  for (let i = 0; Date.now() < deadline; i++) {
    await sleep(INTERVAL_MS);
    const [kind, inject] = schedule[i % schedule.length]!;
    process.stdout.write(`${new Date().toISOString()} ${kind}\n`);
    await inject();
    count(kind);
  }
  loading = false;
  const loadEnded = systemClock.now();
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
    // A sequencer node serves again once its safe watermark, which every node advances, passes the end of the load.
    for (const [i, s] of sequencers.entries()) {
      if (s.sequencer.safeWatermark < loadEnded)
        reasons.push(`sequencer-${i} has not sequenced past the load`);
    }
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
  // Tokens: the supply per issuer and instrument unchanged, every holding created once and spent at most once, and
  // each holder's participant seeing the same holdings of its holder as the issuer's participant.
  const issuer = await tokenView(nodes.get('p1')!.node, tokens.admin);
  const supply = new Map<string, bigint>();
  for (const h of issuer.holdings)
    supply.set(h.instrument, (supply.get(h.instrument) ?? 0n) + units(h.amount));
  const tok = `${tokens.admin}/TOK`;
  check(
    'tokens: supply per issuer and instrument unchanged',
    supply.size === 1 && supply.get(tok) === tokens.minted,
    [...supply].map(([k, v]) => `${k.split('::')[0]}: ${decimal(v)} of ${decimal(tokens.minted)}`).join(', '),
  );
  const views = new Map<string, Awaited<ReturnType<typeof tokenView>>>();
  for (const n of names) views.set(n, await tokenView(nodes.get(n)!.node, tokens.owners.get(n)!));
  const pending = [...views.values()].reduce((a, v) => a + v.offers.length, issuer.offers.length);
  const locked = issuer.holdings.filter((h) => h.locked).length;
  check(
    'tokens: no offer pending, no holding locked',
    pending === 0 && locked === 0,
    `${pending} offers, ${locked} locked`,
  );
  for (const n of names) {
    const owner = tokens.owners.get(n)!;
    const show = (hs: readonly Holding[]) =>
      hs
        .filter((h) => h.owner === owner)
        .map((h) => `${h.id} ${h.amount} ${h.locked}`)
        .sort()
        .join();
    check(
      `tokens: ${n} sees the holdings of ${owner.split('::')[0]} as the issuer's participant does`,
      show(views.get(n)!.holdings) === show(issuer.holdings),
    );
  }
  const spent = new Map<string, number>();
  const minted = new Map<string, number>();
  for (const u of await nodes.get('p1')!.node.updatesUpTo(tokens.admin)) {
    for (const e of u.events) {
      if (e.templateId.name.join('.') !== 'Token') continue;
      if (e.kind === 'archived') spent.set(e.contractId, (spent.get(e.contractId) ?? 0) + 1);
      if (e.kind === 'created') minted.set(e.contractId, (minted.get(e.contractId) ?? 0) + 1);
    }
  }
  const active = new Set(issuer.holdings.map((h) => h.id));
  const twice = [...spent].filter(([id, k]) => k > 1 || active.has(id) || minted.get(id) !== 1);
  check(
    'tokens: no holding spent twice, every holding created once',
    twice.length === 0 && [...minted.values()].every((k) => k === 1),
    twice.map(([id]) => id).join(', '),
  );
  // The ledger's count of transfers: each offer, as its sender's participant saw it, created once and accepted once.
  const offers = new Map<string, { created: number; archived: number }>();
  for (const n of names) {
    for (const u of await nodes.get(n)!.node.updatesUpTo(tokens.owners.get(n)!)) {
      for (const e of u.events) {
        if (e.templateId.name.join('.') !== 'TokenTransferOffer' || e.kind === 'exercised') continue;
        const o = offers.get(e.contractId) ?? { created: 0, archived: 0 };
        o[e.kind]++;
        offers.set(e.contractId, o);
      }
    }
  }
  // Sender and receiver both see an offer: twice each, once on each side.
  const transfers = [...offers.values()].filter((o) => o.archived > 0).length;
  check(
    'tokens: every offer accepted exactly once',
    [...offers.values()].every((o) => o.created === 2 && o.archived === 2),
    JSON.stringify([...offers.values()].filter((o) => o.created !== 2 || o.archived !== 2).slice(0, 3)),
  );
  check(
    'no completion failed with a storage error',
    Object.keys(failedCompletions).every((c) => !c.startsWith('STORAGE_')),
    JSON.stringify(failedCompletions),
  );

  const lines = [
    `Fault run: ${Math.round((Date.now() - started) / 1000)} s, ${names.length} participants and ${sequencers.length} HA sequencer nodes on PostgreSQL, ${CONCURRENCY} commands in flight each, a fault every ${INTERVAL_MS} ms${RESTART_PG ? '' : ' (no PostgreSQL restart)'}.`,
    '',
    '| fault | injected |',
    '|---|---|',
    ...Object.entries(faults).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Token transfers (offered and accepted): ${transfers}, ${HOLDINGS} holdings of ${HOLDING_AMOUNT} TOK going round alice (p1) → bob (p2) → carol (p3) → alice.`,
    '',
    `Transactions committed: ${transactions} Pings. Resubmissions after a refusal: ${JSON.stringify(refusals)}; after a failed completion: ${JSON.stringify(failedCompletions)}.`,
    '',
    '| invariant | result |',
    '|---|---|',
    ...results.map(([name, ok, detail]) => `| ${name} | ${ok ? 'holds' : `FAILS ${detail}`} |`),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  await net.close().catch(() => {});
  for (const [i, storage] of restartedStorage.entries()) {
    if (!storage) continue;
    await sequencers[i]!.stop().catch(() => {});
    await storage.close();
  }
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
