// The Ledger API of participant daemons as applications reach it: a synchronizer (a sequencer and a mediator
// daemon) and two participant daemons, separate processes on SQLite, each serving the Ledger API on its own port
// (participant1 with JWT authorization, participant2 without); the client is built only from the project's protos
// (generated protobuf-ts clients over @grpc/grpc-js). Needs `npm run build` (npm test builds first).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServiceError, status } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { TransactionShape } from '../../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import type { GetUpdatesResponse } from '../../src/generated/com/daml/ledger/api/v2/update_service.js';
import { LEDGER_API_VERSION, ledgerApiErrorOf } from '../../src/ledger-api/index.js';
import { tokenCommands } from '../../src/participant/testing.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  mediatorConfig,
  startDaemon,
  weft,
  weftOk,
  writeConfig,
} from '../synchronizer/processes.js';
import { TestLedgerClient } from './client.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-ledger-api-'));
const clients: TestLedgerClient[] = [];
const admins: AdminClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  for (const a of admins) a.close();
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const SECRET = 'a shared secret for the daemon test';

const participantConfig = (name: string, ledgerApi: string) =>
  writeConfig(
    dir,
    name,
    `weft.node {
  name = ${name}
  kind = participant
  storage { type = sqlite, file = "${join(dir, `${name}.db`)}" }
  admin-api.port = 0
  ledger-api { ${ledgerApi} }
  monitoring.http-server.port = 0
  participant.max-backoff-ms = 200
}
`,
  );

function client(daemon: Daemon, token?: string): TestLedgerClient {
  const c = new TestLedgerClient(`127.0.0.1:${daemon.ports.ledgerApi}`, token);
  clients.push(c);
  return c;
}

function admin(daemon: Daemon): AdminClient {
  const a = new AdminClient(daemon.adminUrl);
  admins.push(a);
  return a;
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('the call succeeded');
}

/** An HS256 token for `sub`, bound to `participantId` by audience, valid for a minute. */
const token = (sub: string, participantId: string) =>
  new SignJWT({ sub, aud: `https://daml.com/jwt/aud/participant/${participantId}` })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + 60)
    .sign(new TextEncoder().encode(SECRET));

describe('the Ledger API of participant daemons', () => {
  let p1: Daemon;
  let p2: Daemon;
  let p2Config: string;
  let p1Id: string;
  let alice: string;

  beforeAll(async () => {
    const port = await freePort();
    const sequencer = await startDaemon(
      writeConfig(
        dir,
        'sequencer',
        `weft.node {
  name = sequencer
  kind = sequencer
  storage { type = sqlite, file = "${join(dir, 'sequencer.db')}" }
  public-api.port = ${port}
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
      ),
      join(dir, 'sequencer.ports'),
    );
    p2Config = participantConfig('participant2', `port = ${await freePort()}`);
    let mediator: Daemon;
    [mediator, p1, p2] = (await Promise.all([
      startDaemon(mediatorConfig(dir, 'mediator', port), join(dir, 'mediator.ports')),
      startDaemon(
        participantConfig(
          'participant1',
          `port = 0, auth-services = [{ type = unsafe-jwt-hmac-256, secret = "${SECRET}" }]`,
        ),
        join(dir, 'p1.ports'),
      ),
      startDaemon(p2Config, join(dir, 'p2.ports')),
    ])) as [Daemon, Daemon, Daemon];
    await weftOk([
      'admin',
      '-e',
      sequencer.adminUrl,
      'bootstrap',
      '--name',
      'ledger',
      '--mediator',
      mediator.adminUrl,
    ]);
    const mediatorAdmin = admin(mediator);
    await eventually('the mediator to serve', async () => (await mediatorAdmin.status()).ready, 15_000);
    for (const p of [p1, p2]) {
      await weftOk([
        'admin',
        '-e',
        p.adminUrl,
        'participant',
        'connect',
        '--alias',
        'ledger',
        '--sequencer',
        sequencer.publicUrl,
      ]);
    }
    p1Id = (await admin(p1).status()).memberId.replace(/^PAR::/, '');
    const a2 = admin(p2);
    await a2.uploadDar(readFileSync(TOKEN_DAR));
    alice = await a2.enableParty('alice');
  }, 90_000);

  /** Creates a TokenRules contract of alice on participant2 under `commandId` (through the Admin API). */
  async function create(commandId: string): Promise<void> {
    const r = await admin(p2).submit({
      commandsJson: JSON.stringify([tokenCommands.rules(alice)]),
      actAs: [alice],
      commandId,
    });
    expect(r.status).toBe('succeeded');
  }

  const aliceFormat = (shape: TransactionShape) => ({
    includeTransactions: {
      eventFormat: { filtersByParty: { [alice]: { cumulative: [] } }, verbose: true },
      transactionShape: shape,
    },
  });

  it('answers VersionService on each participant, with or without a token', async () => {
    for (const c of [client(p1), client(p1, 'not a token'), client(p2)]) {
      const r = await c.unary(c.version, c.version.getLedgerApiVersion, {});
      expect(r.version).toBe(LEDGER_API_VERSION);
      expect(r.features?.userManagement).toEqual({
        supported: true,
        maxRightsPerUser: 1000,
        maxUsersPageSize: 1000,
      });
    }
  });

  it('refuses a bad token with UNAUTHENTICATED and a missing right with PERMISSION_DENIED naming it', async () => {
    const bad = client(p1, 'not a token');
    const unauthenticated = await failure(bad.unary(bad.state, bad.state.getLedgerEnd, {}));
    expect(ledgerApiErrorOf(unauthenticated)?.code).toBe('UNAUTHENTICATED');
    expect(unauthenticated.details).toMatch(/^UNAUTHENTICATED\(6,[0-9a-f]{8}\): .+/);
    // A token bound to another participant.
    const foreign = client(p1, await token('participant_admin', 'participant9::1220ab'));
    expect(
      ledgerApiErrorOf(await failure(foreign.unary(foreign.state, foreign.state.getLedgerEnd, {})))?.code,
    ).toBe('PERMISSION_DENIED');

    const operator = client(p1, await token('participant_admin', p1Id));
    const end = await operator.unary(operator.state, operator.state.getLedgerEnd, {});
    expect(end.offset).toBeGreaterThanOrEqual(0n);
    // The participant's operator administers it but may not read a party's contracts without CanReadAs.
    const denied = await failure(
      operator.collect(operator.state, operator.state.getActiveContracts, {
        activeAtOffset: end.offset,
        eventFormat: { filtersByParty: { [alice]: { cumulative: [] } }, verbose: false },
      }),
    );
    const error = ledgerApiErrorOf(denied);
    expect(error?.code).toBe('PERMISSION_DENIED');
    expect(error?.message).toMatch(/CanReadAs/);
  });

  it('serves the active contracts and the updates of a party in both shapes; an offset beyond the end is OUT_OF_RANGE', async () => {
    await create('acs-1');
    const c = client(p2);
    const { offset } = await c.unary(c.state, c.state.getLedgerEnd, {});
    const acs = await c.collect(c.state, c.state.getActiveContracts, {
      activeAtOffset: offset,
      eventFormat: { filtersByParty: { [alice]: { cumulative: [] } }, verbose: true },
    });
    const created = acs.flatMap((r) =>
      r.contractEntry.oneofKind === 'activeContract' ? [r.contractEntry.activeContract.createdEvent!] : [],
    );
    expect(created.map((e) => e.templateId?.entityName)).toContain('TokenRules');
    expect(created[0]!.createArguments?.fields[0]).toMatchObject({
      label: 'admin',
      value: { sum: { party: alice } },
    });

    for (const shape of [TransactionShape.ACS_DELTA, TransactionShape.LEDGER_EFFECTS]) {
      const updates = await c.collect(c.updates, c.updates.getUpdates, {
        beginExclusive: 0n,
        endInclusive: offset,
        updateFormat: aliceFormat(shape),
      });
      const transactions = updates.flatMap((u) =>
        u.update.oneofKind === 'transaction' ? [u.update.transaction] : [],
      );
      expect(transactions.length).toBeGreaterThan(0);
      expect(transactions.at(-1)!.commandId).toBe('acs-1');
      expect(transactions.at(-1)!.offset).toBe(offset);
    }

    const beyond = await failure(
      c.collect(c.updates, c.updates.getUpdates, {
        beginExclusive: offset + 1000n,
        updateFormat: aliceFormat(TransactionShape.ACS_DELTA),
      }),
    );
    expect(beyond.code).toBe(status.OUT_OF_RANGE);
    expect(ledgerApiErrorOf(beyond)?.code).toBe('OFFSET_AFTER_LEDGER_END');
  });

  it('keeps an update stream across a participant restart: resuming from the last offset has no gap and no duplicate', async () => {
    const c = client(p2);
    const received: { offset: bigint; updateId: string }[] = [];
    const commands = new Set<string>();
    const stream = c.stream(c.updates, c.updates.getUpdates, {
      beginExclusive: 0n,
      updateFormat: aliceFormat(TransactionShape.ACS_DELTA),
    });
    const ended = new Promise<ServiceError | undefined>((resolve) => {
      stream.on('error', resolve);
      stream.on('end', () => resolve(undefined));
    });
    stream.on('data', (u: GetUpdatesResponse) => {
      if (u.update.oneofKind === 'transaction') {
        received.push({ offset: u.update.transaction.offset, updateId: u.update.transaction.updateId });
        commands.add(u.update.transaction.commandId);
      }
    });
    await create('restart-1');
    await create('restart-2');
    await eventually('the stream to deliver both', () => commands.has('restart-2'), 15_000);

    await p2.stop();
    // The participant ends the stream as it stops: the client learns it may resume (UNAVAILABLE, retryable).
    const error = await ended;
    expect(error?.code).toBe(status.UNAVAILABLE);
    const before = received.length;
    p2 = await startDaemon(p2Config, join(dir, 'p2.ports'));
    await eventually('participant2 to reconnect', async () => (await admin(p2).status()).ready, 30_000);
    await create('restart-3');
    const resumed = client(p2);
    const last = received.at(-1)!.offset;
    const { offset: end } = await resumed.unary(resumed.state, resumed.state.getLedgerEnd, {});
    const more = await resumed.collect(resumed.updates, resumed.updates.getUpdates, {
      beginExclusive: last,
      endInclusive: end,
      updateFormat: aliceFormat(TransactionShape.ACS_DELTA),
    });
    for (const u of more) {
      if (u.update.oneofKind === 'transaction') {
        received.push({ offset: u.update.transaction.offset, updateId: u.update.transaction.updateId });
      }
    }
    expect(received.length).toBeGreaterThan(before);
    const all = await resumed.collect(resumed.updates, resumed.updates.getUpdates, {
      beginExclusive: 0n,
      endInclusive: end,
      updateFormat: aliceFormat(TransactionShape.ACS_DELTA),
    });
    const expected = all.flatMap((u) =>
      u.update.oneofKind === 'transaction'
        ? [{ offset: u.update.transaction.offset, updateId: u.update.transaction.updateId }]
        : [],
    );
    expect(received).toEqual(expected);
  });

  it('weft ledger: version, ledger end, active contracts and transactions of a party, errors in one line', async () => {
    await create('cli-1');
    const url = `http://127.0.0.1:${p2.ports.ledgerApi}`;
    expect(await weftOk(['ledger', '-e', url, 'version'])).toBe(`Ledger API ${LEDGER_API_VERSION}`);
    const end = await weftOk(['ledger', '-e', url, 'end']);
    expect(end).toMatch(/^\d+$/);
    const acs = (await weftOk(['ledger', '-e', url, 'acs', alice])).split('\n');
    expect(acs[0]).toMatch(
      new RegExp(
        `^\\d+ active contracts of ${alice.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at offset ${end}$`,
      ),
    );
    expect(acs.slice(1).some((l) => l.includes(':TokenRules') && l.includes(`{"admin":"${alice}"}`))).toBe(
      true,
    );
    const updates = await weftOk(['ledger', '-e', url, 'updates', alice, '--ledger-effects']);
    expect(updates).toContain('command cli-1');
    const bad = await weft([
      'ledger',
      '-e',
      `http://127.0.0.1:${p1.ports.ledgerApi}`,
      '--token',
      'not a token',
      'end',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^weft ledger end: UNAUTHENTICATED\(6\): .+/);
  });

  it('refuses to serve the Ledger API without auth on a non-loopback address', async () => {
    const r = await weft(['daemon', '-c', participantConfig('exposed', 'address = "0.0.0.0", port = 0')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^weft daemon: LEDGER_API_AUTH_REQUIRED\(8\): the Ledger API on 0\.0\.0\.0 has no auth-services/,
    );
  });
});
