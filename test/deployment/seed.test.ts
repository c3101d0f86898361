// The seed's deployment in separate processes, operated as its operators would: two sequencer daemons on one
// PostgreSQL schema (one HA sequencer), a mediator daemon, three participant daemons, each node on its own schema.
// The owners bootstrap a RestrictedOpen synchronizer with the mediator; participants send their ids, are
// allow-listed (one is refused until then), connect to both sequencer nodes (connect_multi), enable parties,
// upload the token and trading DARs and ping; token transfers run across the participants while one sequencer
// node is killed; a restarted participant reconnects by itself. Needs `npm run build` and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import type { ActiveContract } from '../../src/generated/weft/admin/v1/participant_admin_service.js';
import { TOKEN_DAR_PATH, tokenCommands } from '../../src/participant/testing.js';
import { pgTestUrl, postgresUnavailableReason } from '../../src/storage/testing.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  REPO,
  startDaemon,
  weft,
} from '../synchronizer/processes.js';

const TRADING_DAR_PATH = '/work/shared/dars/splice-token-test-trading-app-1.0.2.dar';

const unavailable = await postgresUnavailableReason(pgTestUrl());
if (unavailable && process.env.CI === 'true') {
  throw new Error(`PostgreSQL tests must run in CI, but ${unavailable}`);
}

const dir = mkdtempSync(join(tmpdir(), 'weft-deployment-'));
const prefix = `weft_seed_${randomBytes(4).toString('hex')}`;
const schemas = ['sequencer', 'mediator', 'p1', 'p2', 'p3'].map((s) => `${prefix}_${s}`);
const clients: AdminClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  killAll();
  rmSync(dir, { recursive: true, force: true });
  if (unavailable) return;
  const client = new pg.Client({ connectionString: pgTestUrl() });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const env = { WEFT_DB_URL: pgTestUrl() };

function write(name: string, text: string): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, text);
  return file;
}

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

function participantConfig(name: string, schema: string): string {
  return write(
    name,
    `weft.node {
  name = ${name}
  kind = participant
  storage { type = postgres, url = \${WEFT_DB_URL}, schema = ${schema} }
  admin-api.port = 0
  monitoring.http-server.port = 0
  participant.max-backoff-ms = 200
}
`,
  );
}

async function ok(args: string[]): Promise<string> {
  const r = await weft(args);
  expect(r.stderr, `weft ${args.join(' ')}`).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

function admin(daemon: Daemon): AdminClient {
  const client = new AdminClient(daemon.adminUrl);
  clients.push(client);
  return client;
}

/** The template's name without package and module. */
const templateName = (c: ActiveContract) => c.templateId.split(':').at(-1);

describe.skipIf(unavailable !== undefined)('the seed deployment in separate processes', () => {
  it('allow-lists, connects, uploads, pings and transfers tokens across three participants; survives a sequencer node kill', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const [urlA, urlB] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    const [seqA, seqB, med, p1, p2, p3] = await Promise.all([
      sequencerConfig('a', portA).then((f) => startDaemon(f, join(dir, 'a.ports'), { env })),
      sequencerConfig('b', portB).then((f) => startDaemon(f, join(dir, 'b.ports'), { env })),
      startDaemon(mediatorConfig([urlA, urlB]), join(dir, 'mediator.ports'), { env }),
      startDaemon(participantConfig('participant1', schemas[2]!), join(dir, 'p1.ports'), { env }),
      startDaemon(participantConfig('participant2', schemas[3]!), join(dir, 'p2.ports'), { env }),
      startDaemon(participantConfig('participant3', schemas[4]!), join(dir, 'p3.ports'), { env }),
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
      expect(await ok(['admin', '-e', p.adminUrl, 'dars', 'upload', TOKEN_DAR_PATH])).toMatch(
        /^uploaded .*: main package [0-9a-f]{64}$/,
      );
      await ok(['admin', '-e', p.adminUrl, 'dars', 'upload', TRADING_DAR_PATH]);
    }
    const dars = await ok(['admin', '-e', p3.adminUrl, 'dars', 'list']);
    expect(dars).toMatch(/canton-builtin-admin-workflow-ping-3\.4\.0 .* \(admin workflow\)/);
    expect(dars).toMatch(/splice-test-token-v1-1\.0\.0 /);
    expect(dars).toMatch(/splice-token-test-trading-app-1\.0\.2 /);
    expect(await ok(['admin', '-e', p1.adminUrl, 'ping', id3])).toMatch(
      new RegExp(`^ping ${id3}: [\\d.]+ ms$`),
    );

    // Token transfers across the participants, through the interim ledger access of the admin API.
    const [c1, c2, c3] = [admin(p1), admin(p2), admin(p3)];
    const submit = async (
      client: AdminClient,
      commandId: string,
      commands: unknown[],
      actAs: string[],
      readAs: string[] = [],
    ) => {
      const r = await client.submit({ commandsJson: JSON.stringify(commands), actAs, readAs, commandId });
      expect(r.status, `${commandId}: ${r.code} ${r.message}`).toBe('succeeded');
      return r;
    };
    const acs = async (client: AdminClient, who: string, template: string) =>
      (await client.activeContracts(who)).contracts.filter((c) => templateName(c) === template);
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
    const transfer = async (holding: string, i: number, receiver: string, client: AdminClient) => {
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
    for (const t of bobTokens) expect(JSON.parse(t.argumentJson).holding.owner).toBe(bob);
    const carolTokens = await acs(c3, carol, 'Token');
    expect(carolTokens).toHaveLength(1);
    expect(await acs(c1, alice, 'Token')).toEqual([]);
    expect(await acs(c2, bob, 'TokenTransferOffer')).toEqual([]);
    // participant3 hosts no stakeholder of bob's holdings: it never sees them.
    expect((await c3.activeContracts(bob)).contracts).toEqual([]);
    // A restarted participant reconnects by itself (the connection is remembered) through the surviving node,
    // and its holdings are still there: a ping across the participants.
    expect(await p3.stop()).toBe(0);
    const p3again = await startDaemon(join(dir, 'participant3.conf'), join(dir, 'p3.ports'), { env });
    const c3again = admin(p3again);
    await eventually('participant3 to reconnect', async () => (await c3again.status()).ready, 20_000);
    expect(await acs(c3again, carol, 'Token')).toEqual(carolTokens);
    expect(await c3again.ping(id2)).toBeGreaterThan(0);
    await seqB.stop();
  }, 120_000);
});
