// The seed's deployment in separate processes, operated as its operators would: two sequencer daemons on one
// PostgreSQL schema (one HA sequencer), a mediator daemon, three participant daemons, each node on its own schema.
// The owners bootstrap a RestrictedOpen synchronizer with the mediator; participants send their ids, are
// allow-listed (one is refused until then), connect to both sequencer nodes (connect_multi), enable parties,
// upload the token and trading DARs and ping; token transfers run across the participants while one sequencer
// node is killed; a restarted participant reconnects by itself. Then the trading app settles a DvP across the
// three participants, and each participant's active contracts and each party's update stream are checked against
// Daml's privacy model. Applications reach the ledger through each participant's Ledger API. Needs `npm run build`
// and PostgreSQL.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, assert, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { TOKEN_DAR, TRADING_DAR } from '../../src/daml/dar/testing.js';
import { loadEngine } from '../../src/daml/engine/testing.js';
import { Event } from '../../src/generated/com/daml/ledger/api/v2/event.js';
import { TOKEN, tokenCommands } from '../../src/participant/testing.js';
import { pgTestUrl, postgresSkipReason } from '../../src/storage/testing.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  REPO,
  startDaemon,
  weft,
  weftOk,
  writeConfig,
} from '../synchronizer/processes.js';
import {
  type ActiveContract,
  createdArgument,
  DeploymentLedger,
  type LedgerTransaction,
  templateIdOf,
  templateName,
} from './ledger.js';

const unavailable = await postgresSkipReason();

const dir = mkdtempSync(join(tmpdir(), 'weft-deployment-'));
const prefix = `weft_seed_${randomBytes(4).toString('hex')}`;
const schemas = ['sequencer', 'mediator', 'p1', 'p2', 'p3'].map((s) => `${prefix}_${s}`);
const clients: AdminClient[] = [];
const ledgers: DeploymentLedger[] = [];
const engine = loadEngine(TOKEN_DAR, TRADING_DAR);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const l of ledgers) l.close();
  killAll();
  rmSync(dir, { recursive: true, force: true });
  if (unavailable) return;
  const client = new pg.Client({ connectionString: pgTestUrl() });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const env = { WEFT_DB_URL: pgTestUrl() };

const write = (name: string, text: string) => writeConfig(dir, name, text);

/** Node `x` of the HA sequencer: the example file with the test's ports, schema and quick HA timings. */
async function sequencerConfig(x: 'a' | 'b', publicPort: number): Promise<string> {
  const example = relative(dir, join(REPO, `examples/config/sequencer-ha-${x}.conf`));
  return write(
    `sequencer-${x}`,
    `include required("${example}")
weft.node {
  storage.schema = ${prefix}_sequencer
  public-api.port = ${publicPort}
  admin-api.port = 0
  monitoring.http-server.port = 0
  sequencer.high-availability {
    keep-alive-interval-ms = 20, offline-duration-ms = 1000, online-check-interval-ms = 200, poll-interval-ms = 10
  }
}
`,
  );
}

function mediatorConfig(endpoints: readonly string[]): string {
  return write(
    'mediator',
    `weft.node {
  name = mediator1
  kind = mediator
  storage { type = postgres, url = \${WEFT_DB_URL}, schema = ${prefix}_mediator }
  sequencer-connection { endpoints = ${JSON.stringify(endpoints)}, max-backoff-ms = 200 }
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
  );
}

const ok = weftOk;

/** A participant daemon on its own schema of the test database, with its Ledger API on a system-chosen port. */
const participantOnPostgres = (name: string, schema: string) =>
  write(
    name,
    `weft.node {
  name = ${name}
  kind = participant
  storage { type = postgres, url = \${WEFT_DB_URL}, schema = ${schema} }
  admin-api.port = 0
  ledger-api.port = 0
  monitoring.http-server.port = 0
  participant.max-backoff-ms = 200
}
`,
  );

function admin(daemon: Daemon): AdminClient {
  const client = new AdminClient(daemon.adminUrl);
  clients.push(client);
  return client;
}

const ledgerUrl = (daemon: Daemon) => `http://127.0.0.1:${daemon.ports.ledgerApi}`;

function ledger(daemon: Daemon): DeploymentLedger {
  const l = new DeploymentLedger(ledgerUrl(daemon), engine);
  ledgers.push(l);
  return l;
}

const submit = (
  l: DeploymentLedger,
  commandId: string,
  commands: unknown[],
  actAs: string[],
  readAs: string[] = [],
) => l.submit(commandId, commands, actAs, readAs);

const acs = async (l: DeploymentLedger, who: string, template: string) =>
  (await l.activeContracts(who)).filter((c) => templateName(c.templateId) === template);

/** Waits until `who`'s participant has exactly one active `template` matching `accept`, and returns it. */
async function awaitOne(
  client: DeploymentLedger,
  who: string,
  template: string,
  accept: (argument: Record<string, unknown>) => boolean = () => true,
): Promise<ActiveContract> {
  let found: ActiveContract[] = [];
  await eventually(
    `${template} for ${who}`,
    async () => {
      found = (await acs(client, who, template)).filter((c) => accept(c.argument));
      return found.length === 1;
    },
    20_000,
  );
  return found[0]!;
}

const shortParty = (p: string) => p.split('::')[0];

/**
 * An event as lines; a holding's with its owner, admin and amount; a consuming exercise followed by the archive a
 * stakeholder sees.
 */
function eventLines(event: Event, archived: ReadonlyMap<number, string>): string[] {
  const e = event.event;
  switch (e.oneofKind) {
    case 'created': {
      const template = templateName(templateIdOf(e.created.templateId));
      if (template !== 'Token') return [`created ${template}`];
      const { owner, instrumentId, amount } = createdArgument(event).holding;
      return [`created ${template} ${shortParty(owner)} ${shortParty(instrumentId.admin)} ${amount}`];
    }
    case 'exercised': {
      const x = e.exercised;
      const archive = archived.get(x.nodeId);
      return [
        `exercised ${x.choice} on ${templateName(templateIdOf(x.templateId))}`,
        ...(archive === undefined ? [] : [`archived ${templateName(archive)}`]),
      ];
    }
    default:
      return ['unexpected event'];
  }
}

/** The network the first test sets up and the second uses. */
let net: {
  p1: Daemon;
  seqB: Daemon;
  admins: [AdminClient, AdminClient, AdminClient];
  ledgers: [DeploymentLedger, DeploymentLedger, DeploymentLedger];
  parties: { alice: string; bob: string; carol: string };
  carolTokens: ActiveContract[];
};

describe.skipIf(unavailable !== undefined)('the seed deployment in separate processes', () => {
  it('allow-lists, connects, uploads, pings and transfers tokens across three participants; survives a sequencer node kill', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const [urlA, urlB] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    const [seqA, seqB, med, p1, p2, p3] = await Promise.all([
      sequencerConfig('a', portA).then((f) => startDaemon(f, join(dir, 'a.ports'), { env })),
      sequencerConfig('b', portB).then((f) => startDaemon(f, join(dir, 'b.ports'), { env })),
      startDaemon(mediatorConfig([urlA, urlB]), join(dir, 'mediator.ports'), { env }),
      startDaemon(participantOnPostgres('participant1', schemas[2]!), join(dir, 'p1.ports'), { env }),
      startDaemon(participantOnPostgres('participant2', schemas[3]!), join(dir, 'p2.ports'), { env }),
      startDaemon(participantOnPostgres('participant3', schemas[4]!), join(dir, 'p3.ports'), { env }),
    ]);

    // The owners bootstrap a permissioned synchronizer with the mediator in the genesis.
    const boot = await ok([
      'admin',
      '-e',
      seqA.adminUrl,
      'bootstrap',
      '--name',
      'seed',
      '--restricted',
      '--mediator',
      med.adminUrl,
    ]);
    const synchronizerId = /bootstrapped synchronizer (\S+)/.exec(boot)![1]!;
    await eventually('the mediator to process', async () => (await admin(med).status()).ready, 20_000);

    // Each participant operator sends the owners its id (weft admin id).
    const ids = await Promise.all([p1, p2, p3].map((p) => ok(['admin', '-e', p.adminUrl, 'id', '--member'])));
    for (const [i, id] of ids.entries())
      expect(id).toMatch(new RegExp(`^PAR::participant${i + 1}::1220[0-9a-f]{64}$`));
    const [, id2, id3] = ids as [string, string, string];
    const readiness = await fetch(`http://127.0.0.1:${p1.ports.monitoring}/ready`);
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as { checks: Record<string, string> }).checks.participant).toMatch(
      /not connected to a synchronizer/,
    );

    const connect = (p: Daemon, ...endpoints: string[]) =>
      weft([
        'admin',
        '-e',
        p.adminUrl,
        'participant',
        'connect',
        '--alias',
        'seed',
        ...endpoints.flatMap((e) => ['--sequencer', e]),
      ]);
    // participant3 is not allow-listed yet: refused, naming it.
    const refused = await connect(p3, urlB, urlA);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(id3);
    expect(refused.stderr).toMatch(/RestrictedOpen/);

    for (const id of ids) await ok(['admin', '-e', seqA.adminUrl, 'participants', 'set-state', id]);
    expect(await ok(['admin', '-e', p1.adminUrl, 'participant', 'list-connected'])).toBe(
      'not connected to a synchronizer',
    );
    const connected = await Promise.all([
      connect(p1, urlA, urlB),
      connect(p2, urlB, urlA),
      connect(p3, urlB, urlA), // the retry, now allow-listed
    ]);
    for (const [i, r] of connected.entries()) {
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`participant ${ids[i]} is connected to ${synchronizerId} (seed)`);
    }
    expect(await ok(['admin', '-e', p2.adminUrl, 'participant', 'list-connected'])).toBe(
      `seed  ${synchronizerId}  connected  ${urlB}, ${urlA}`,
    );
    await eventually('participant1 to be ready', async () => (await admin(p1).status()).ready);

    // Parties and DARs through the admin API; the ping DAR is there already as the admin workflow.
    const party = async (p: Daemon, name: string) =>
      ok(['admin', '-e', p.adminUrl, 'parties', 'enable', name]);
    const [tokenAdmin, alice, bob, carol] = await Promise.all([
      party(p1, 'tokenadmin'),
      party(p1, 'alice'),
      party(p2, 'bob'),
      party(p3, 'carol'),
    ]);
    expect(bob).toBe(`bob::${id2.split('::')[2]}`);
    expect(await ok(['admin', '-e', p2.adminUrl, 'parties', 'list'])).toContain(`${bob}  Submission`);
    for (const p of [p1, p2, p3]) {
      expect(await ok(['admin', '-e', p.adminUrl, 'dars', 'upload', TOKEN_DAR])).toMatch(
        /^uploaded .*: main package [0-9a-f]{64}$/,
      );
      await ok(['admin', '-e', p.adminUrl, 'dars', 'upload', TRADING_DAR]);
    }
    const dars = await ok(['admin', '-e', p3.adminUrl, 'dars', 'list']);
    expect(dars).toMatch(/canton-builtin-admin-workflow-ping-3\.4\.0 .* \(admin workflow\)/);
    expect(dars).toMatch(/splice-test-token-v1-1\.0\.0 /);
    expect(dars).toMatch(/splice-token-test-trading-app-1\.0\.2 /);
    expect(await ok(['admin', '-e', p1.adminUrl, 'ping', id3])).toMatch(
      new RegExp(`^ping ${id3}: [\\d.]+ ms$`),
    );

    // Token transfers across the participants, through their Ledger APIs.
    const [c1, c2, c3] = [ledger(p1), ledger(p2), ledger(p3)];
    await submit(c1, 'rules', [tokenCommands.rules(tokenAdmin)], [tokenAdmin]);
    const [rules] = await acs(c1, tokenAdmin, 'TokenRules');
    const TRANSFERS = 6;
    await submit(
      c1,
      'mint',
      Array.from({ length: TRANSFERS }, () => tokenCommands.mint(tokenAdmin, alice, '5.0')),
      [tokenAdmin, alice],
    );
    const holdings = await acs(c1, alice, 'Token');
    expect(holdings).toHaveLength(TRANSFERS);

    /** alice (participant1) offers a holding to `receiver`, who accepts it on its own participant. */
    const transfer = async (holding: string, i: number, receiver: string, client: DeploymentLedger) => {
      await submit(
        c1,
        `offer-${i}`,
        [
          tokenCommands.offer({
            rules: rules!.contractId,
            admin: tokenAdmin,
            sender: alice,
            receiver,
            amount: '5.0',
            inputs: [holding],
          }),
        ],
        [alice],
        [tokenAdmin],
      );
      let offer: ActiveContract | undefined;
      await eventually(
        `offer ${i} on the receiver's participant`,
        async () => {
          [offer] = await acs(client, receiver, 'TokenTransferOffer');
          return offer !== undefined;
        },
        20_000,
      );
      return submit(
        client,
        `accept-${i}`,
        [tokenCommands.instruction(offer!.contractId, 'TransferInstruction_Accept')],
        [receiver],
      );
    };
    // One transfer at a time per receiver (the receiver picks its single open offer); bob's run is cut by the kill.
    const toBob = (async () => {
      const done = [];
      for (let i = 0; i < TRANSFERS - 1; i++) done.push(await transfer(holdings[i]!.contractId, i, bob, c2));
      return done;
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(await seqA.stop('SIGKILL')).toBeNull();
    const accepted = await toBob;
    await transfer(holdings[TRANSFERS - 1]!.contractId, TRANSFERS - 1, carol, c3);
    expect(new Set(accepted.map((a) => a.updateId)).size).toBe(TRANSFERS - 1);

    // Every participant's active contracts: nothing lost, nothing twice.
    await eventually(
      'the holdings to settle',
      async () => (await acs(c2, bob, 'Token')).length === TRANSFERS - 1,
      20_000,
    );
    const bobTokens = await acs(c2, bob, 'Token');
    expect(new Set(bobTokens.map((c) => c.contractId)).size).toBe(TRANSFERS - 1);
    for (const t of bobTokens) expect(t.argument.holding.owner).toBe(bob);
    const carolTokens = await acs(c3, carol, 'Token');
    expect(carolTokens).toHaveLength(1);
    // bob's update stream: each offer he was shown and each acceptance, once.
    const bobStream = await c2.transactions(bob, 0n);
    expect(bobStream).toHaveLength(2 * (TRANSFERS - 1));
    expect(new Set(bobStream.map((t) => t.updateId)).size).toBe(2 * (TRANSFERS - 1));
    expect(bobStream.filter((t) => t.commandId.startsWith('accept-')).map((t) => t.updateId)).toEqual(
      accepted.map((a) => a.updateId),
    );
    expect(await acs(c1, alice, 'Token')).toEqual([]);
    expect(await acs(c2, bob, 'TokenTransferOffer')).toEqual([]);
    // participant3 hosts no stakeholder of bob's holdings: it never sees them.
    expect(await c3.activeContracts(bob)).toEqual([]);
    // A restarted participant reconnects by itself (the connection is remembered) through the surviving node,
    // and its holdings are still there: a ping across the participants.
    expect(await p3.stop()).toBe(0);
    const p3again = await startDaemon(join(dir, 'participant3.conf'), join(dir, 'p3.ports'), { env });
    const a3again = admin(p3again);
    await eventually('participant3 to reconnect', async () => (await a3again.status()).ready, 20_000);
    const c3again = ledger(p3again);
    expect(await acs(c3again, carol, 'Token')).toEqual(carolTokens);
    expect(await a3again.ping(id2)).toBeGreaterThan(0);
    net = {
      p1,
      seqB,
      admins: [admin(p1), admin(p2), a3again],
      ledgers: [c1, c2, c3again],
      parties: { alice, bob, carol },
      carolTokens,
    };
  }, 120_000);

  it("settles the trading app's DvP across the three participants; each party sees only its part", async () => {
    const {
      admins: [a1, a2, a3],
      ledgers: [c1, c2, c3],
      parties: { alice, bob, carol },
    } = net;
    // Each token admin sits with its holder (it co-signs holdings and its rules serve the holder's allocation);
    // the venue sits on participant3 beside carol, who has no part in the trade. All three participants confirm.
    const [bankA, bankB, venue] = await Promise.all([
      a1.enableParty('banka'),
      a2.enableParty('bankb'),
      a3.enableParty('venue'),
    ]);
    // Each participant's ledger end before the DvP: the update streams below start there.
    const begin = await Promise.all([c1, c2, c3].map((c) => c.end()));
    /** Update id → the step that committed it. */
    const steps = new Map<string, string>();
    const step = async (
      client: DeploymentLedger,
      name: string,
      command: unknown,
      actAs: string[],
      readAs: string[] = [],
    ) => {
      const r = await submit(client, `dvp-${name}`, [command], actAs, readAs);
      steps.set(r.updateId, name);
      return r;
    };
    const exercise = (templateId: string, contractId: string, choice: string, choiceArgument: unknown) => ({
      ExerciseCommand: { templateId, contractId, choice, choiceArgument },
    });
    const APP = '#splice-token-test-trading-app:Splice.Testing.Apps.TradingApp';
    const meta = { values: {} };
    const extraArgs = { context: meta, meta };
    const leg = (sender: string, receiver: string, amount: string, admin: string) => ({
      sender,
      receiver,
      amount,
      instrumentId: { admin, id: 'TOK' },
      meta,
    });
    const legs = { 'leg-a': leg(alice, bob, '10.0', bankA), 'leg-b': leg(bob, alice, '20.0', bankB) };

    // The banks issue: rules, and a holding for each trader.
    await Promise.all([
      step(c1, 'rules-a', tokenCommands.rules(bankA), [bankA]),
      step(c2, 'rules-b', tokenCommands.rules(bankB), [bankB]),
    ]);
    await Promise.all([
      step(c1, 'mint-a', tokenCommands.mint(bankA, alice, '100.0'), [bankA, alice]),
      step(c2, 'mint-b', tokenCommands.mint(bankB, bob, '50.0'), [bankB, bob]),
    ]);
    // alice proposes, bob accepts, the venue initiates the settlement: an OTCTrade signed by all three.
    const proposal = { venue, tradeCid: null, transferLegs: legs, approvers: [alice] };
    await step(
      c1,
      'propose',
      { CreateCommand: { templateId: `${APP}:OTCTradeProposal`, createArguments: proposal } },
      [alice],
    );
    const proposed = await awaitOne(c2, bob, 'OTCTradeProposal');
    await step(
      c2,
      'accept',
      exercise(`${APP}:OTCTradeProposal`, proposed.contractId, 'OTCTradeProposal_Accept', { approver: bob }),
      [bob],
    );
    const approved = await awaitOne(
      c3,
      venue,
      'OTCTradeProposal',
      (a) => (a.approvers as string[]).length === 2,
    );
    const iso = (ms: number) => new Date(ms).toISOString();
    await step(
      c3,
      'initiate',
      exercise(`${APP}:OTCTradeProposal`, approved.contractId, 'OTCTradeProposal_InitiateSettlement', {
        prepareUntil: iso(Date.now() + 3_600_000),
        settleBefore: iso(Date.now() + 7_200_000),
      }),
      [venue],
    );
    // Each trader allocates its leg from its holding, on its own participant, with its bank's rules.
    const allocate = async (
      client: DeploymentLedger,
      sender: string,
      bank: string,
      legId: 'leg-a' | 'leg-b',
    ) => {
      const terms = (await awaitOne(client, sender, 'OTCTrade')).argument;
      const [rules] = await acs(client, bank, 'TokenRules');
      const [holding] = (await acs(client, sender, 'Token')).filter(
        (c) => c.argument.holding.instrumentId.admin === bank,
      );
      const settlement = {
        executor: venue,
        settlementRef: { id: 'OTCTradeProposal', cid: terms.tradeCid },
        requestedAt: terms.createdAt,
        allocateBefore: terms.prepareUntil,
        settleBefore: terms.settleBefore,
        meta,
      };
      return step(
        client,
        `allocate-${legId.at(-1)}`,
        exercise(`${TOKEN}:TokenRules`, rules!.contractId, 'AllocationFactory_Allocate', {
          expectedAdmin: bank,
          allocation: { settlement, transferLegId: legId, transferLeg: legs[legId] },
          requestedAt: terms.createdAt,
          inputHoldingCids: [holding!.contractId],
          extraArgs,
        }),
        [sender],
        [bank],
      );
    };
    await Promise.all([allocate(c1, alice, bankA, 'leg-a'), allocate(c2, bob, bankB, 'leg-b')]);
    // The venue (an observer of both allocations) settles both legs atomically.
    const trade = await awaitOne(c3, venue, 'OTCTrade');
    const allocations = Object.fromEntries(
      await Promise.all(
        (['leg-a', 'leg-b'] as const).map(async (legId) => {
          const a = await awaitOne(
            c3,
            venue,
            'TokenAllocation',
            (x) => (x.allocation as { transferLegId: string }).transferLegId === legId,
          );
          return [legId, { _1: a.contractId, _2: extraArgs }];
        }),
      ),
    );
    const settled = await step(
      c3,
      'settle',
      exercise(`${APP}:OTCTrade`, trade.contractId, 'OTCTrade_Settle', {
        allocationsWithContext: allocations,
      }),
      [venue],
    );

    // Every participant's active contracts, exactly: the holdings moved, the trade and allocations are gone.
    const holdings = async (client: DeploymentLedger, who: string) =>
      (await client.activeContracts(who))
        .map((c) => {
          const template = templateName(c.templateId);
          if (template !== 'Token') return template;
          const { owner, instrumentId, amount } = c.argument.holding;
          return `Token ${shortParty(owner)} ${shortParty(instrumentId.admin)} ${amount}`;
        })
        .filter((c) => !c.includes(' tokenadmin '))
        .sort();
    await eventually(
      'the settlement on every participant',
      async () =>
        (await holdings(c1, alice)).includes('Token alice bankb 20.0000000000') &&
        (await holdings(c2, bob)).includes('Token bob banka 10.0000000000'),
      20_000,
    );
    expect(await holdings(c1, alice)).toEqual([
      'Token alice banka 90.0000000000',
      'Token alice bankb 20.0000000000',
    ]);
    expect(await holdings(c1, bankA)).toEqual([
      'Token alice banka 90.0000000000',
      'Token bob banka 10.0000000000',
      'TokenRules',
    ]);
    expect(await holdings(c2, bob)).toEqual([
      'Token bob banka 10.0000000000',
      'Token bob bankb 30.0000000000',
    ]);
    expect(await holdings(c2, bankB)).toEqual([
      'Token alice bankb 20.0000000000',
      'Token bob bankb 30.0000000000',
      'TokenRules',
    ]);
    expect(await c3.activeContracts(venue)).toEqual([]);
    expect(await acs(c3, carol, 'Token')).toEqual(net.carolTokens);
    // bob's earlier holdings (from tokenadmin) are untouched.
    expect(await acs(c2, bob, 'Token')).toHaveLength(2 + 5);

    // Each party's update stream since the DvP began, as the step and the events it may see.
    const stream = async (client: DeploymentLedger, who: string, from: bigint) => {
      const transactions = await client.transactions(who, from);
      expect(new Set(transactions.map((t) => t.updateId)).size, `${who}: unique update ids`).toBe(
        transactions.length,
      );
      return transactions;
    };
    const seen = (transactions: LedgerTransaction[]) =>
      transactions.map((t) => [
        steps.get(t.updateId) ?? t.updateId,
        ...t.events.flatMap((e) => eventLines(e, t.archived)),
      ]);
    const [aliceTx, bankATx, bobTx, bankBTx, venueTx, carolTx] = await Promise.all([
      stream(c1, alice, begin[0]!),
      stream(c1, bankA, begin[0]!),
      stream(c2, bob, begin[1]!),
      stream(c2, bankB, begin[1]!),
      stream(c3, venue, begin[2]!),
      stream(c3, carol, begin[2]!),
    ]);
    // What Daml's privacy model entitles each party to. The traders and the venue are informees of the trade and
    // of the whole settlement; a party sees an archive only of contracts it is a stakeholder of.
    const tradeSteps = [
      ['propose', 'created OTCTradeProposal'],
      [
        'accept',
        'exercised OTCTradeProposal_Accept on OTCTradeProposal',
        'archived OTCTradeProposal',
        'created OTCTradeProposal',
      ],
      [
        'initiate',
        'exercised OTCTradeProposal_InitiateSettlement on OTCTradeProposal',
        'archived OTCTradeProposal',
        'created OTCTrade',
      ],
    ];
    const mint = (owner: string, bank: string, amount: string) => [
      `mint-${bank.at(-1)}`,
      `created Token ${owner} ${bank} ${amount}`,
    ];
    const allocation = (owner: string, bank: string, change: string) => [
      `allocate-${bank.at(-1)}`,
      'exercised AllocationFactory_Allocate on TokenRules',
      'exercised Archive on Token',
      'archived Token',
      `created Token ${owner} ${bank} ${change}`,
      'created TokenAllocation',
    ];
    const legA = [
      'exercised Allocation_ExecuteTransfer on TokenAllocation',
      'created Token bob banka 10.0000000000',
    ];
    const legB = [
      'exercised Allocation_ExecuteTransfer on TokenAllocation',
      'created Token alice bankb 20.0000000000',
    ];
    const archivedAllocation = 'archived TokenAllocation';
    const settleTrade = ['settle', 'exercised OTCTrade_Settle on OTCTrade', 'archived OTCTrade'];
    expect(seen(aliceTx)).toEqual([
      mint('alice', 'banka', '100.0000000000'),
      ...tradeSteps,
      allocation('alice', 'banka', '90.0000000000'),
      [...settleTrade, legA[0], archivedAllocation, legA[1], ...legB],
    ]);
    expect(seen(bobTx)).toEqual([
      mint('bob', 'bankb', '50.0000000000'),
      ...tradeSteps,
      allocation('bob', 'bankb', '30.0000000000'),
      [...settleTrade, ...legA, legB[0], archivedAllocation, legB[1]],
    ]);
    // The venue observes each allocation (as the executor) but not how it was made; the two allocations commit
    // concurrently, in either order.
    const venueSeen = seen(venueTx);
    expect(venueSeen.slice(0, 3)).toEqual(tradeSteps);
    expect(venueSeen.slice(3, 5).sort()).toEqual([
      ['allocate-a', 'created TokenAllocation'],
      ['allocate-b', 'created TokenAllocation'],
    ]);
    expect(venueSeen.slice(5)).toEqual([
      [...settleTrade, legA[0], archivedAllocation, legA[1], legB[0], archivedAllocation, legB[1]],
    ]);
    // A token admin sees its own leg only: not the trade, not the other leg.
    expect(seen(bankATx)).toEqual([
      ['rules-a', 'created TokenRules'],
      mint('alice', 'banka', '100.0000000000'),
      allocation('alice', 'banka', '90.0000000000'),
      ['settle', legA[0], archivedAllocation, legA[1]],
    ]);
    expect(seen(bankBTx)).toEqual([
      ['rules-b', 'created TokenRules'],
      mint('bob', 'bankb', '50.0000000000'),
      allocation('bob', 'bankb', '30.0000000000'),
      ['settle', legB[0], archivedAllocation, legB[1]],
    ]);
    // The command id goes to the submitting parties only (bankA only lent its rules to alice's allocation).
    expect(aliceTx.map((t) => t.commandId)).toEqual([
      'dvp-mint-a',
      'dvp-propose',
      '',
      '',
      'dvp-allocate-a',
      '',
    ]);
    expect(bankATx.map((t) => t.commandId)).toEqual(['dvp-rules-a', 'dvp-mint-a', '', '']);
    // A read up to an offset and one after it: together the whole stream, without gaps or repeats.
    const middle = bobTx[3]!.offset;
    const upTo = await c2.transactions(bob, begin[1]!, middle);
    expect(upTo).toHaveLength(4);
    const after = await c2.transactions(bob, middle);
    expect([...upTo, ...after].map((t) => t.updateId)).toEqual(bobTx.map((t) => t.updateId));
    expect(await c2.transactions(bob, await c2.end())).toEqual([]);
    // The operator's view: weft ledger updates, a line per transaction and per event.
    const printed = (
      await ok([
        'ledger',
        '-e',
        ledgerUrl(net.p1),
        'updates',
        bankA,
        '--from',
        String(begin[0]),
        '--ledger-effects',
      ])
    ).split('\n');
    expect(printed[0]).toMatch(
      new RegExp(`^4 transactions of ${bankA} after offset ${begin[0]}, up to offset \\d+$`),
    );
    expect(printed.filter((l) => l.startsWith('offset ')).map((l) => l.split('  ')[1])).toEqual(
      bankATx.map((t) => `update ${t.updateId}`),
    );
    expect(printed).toHaveLength(1 + bankATx.length + bankATx.flatMap((t) => t.events).length);
    const executed = bankATx.at(-1)!.events[0]!.event;
    assert(executed.oneofKind === 'exercised');
    // The token standard's controllers of the transfer: the executor and both traders.
    expect(printed).toContain(
      `  exercised Allocation_ExecuteTransfer on ${templateIdOf(executed.exercised.templateId)} ${executed.exercised.contractId} by ${alice}, ${bob}, ${venue} (consuming)`,
    );
    // carol, on the venue's participant, sees nothing of a trade she has no part in.
    expect(carolTx).toEqual([]);
    // The settlement is one update, the same on the three participants.
    for (const t of [aliceTx, bankATx, bobTx, bankBTx, venueTx])
      expect(t.at(-1)!.updateId).toBe(settled.updateId);
    // A bank sees nothing of the other bank's leg.
    const eventsText = (transactions: LedgerTransaction[]) =>
      transactions.flatMap((t) => t.events.map((e) => Event.toJsonString(e))).join('\n');
    expect(eventsText(bankATx)).not.toContain(bankB);
    expect(eventsText(bankBTx)).not.toContain(bankA);
    await net.seqB.stop();
  }, 90_000);
});
