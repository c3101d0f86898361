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
import { loadEngine } from '../../src/daml/engine/testing.js';
import type { CompletionStreamResponse } from '../../src/generated/com/daml/ledger/api/v2/command_completion_service.js';
import { Command } from '../../src/generated/com/daml/ledger/api/v2/commands.js';
import { TransactionShape } from '../../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import type { GetUpdatesResponse } from '../../src/generated/com/daml/ledger/api/v2/update_service.js';
import { LEDGER_API_VERSION, ledgerApiErrorOf } from '../../src/ledger-api/index.js';
import { tokenCommands } from '../../src/participant/testing.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  startDaemon,
  weft,
  weftOk,
} from '../synchronizer/processes.js';
import { TestLedgerClient } from './client.js';
import { protoCommands } from './commands.js';
import { ledgerApiDaemons, participantConfig } from './daemons.js';

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
    ({ p1, p2, p2Config } = await ledgerApiDaemons(
      dir,
      {
        ledgerApi: `port = 0, auth-services = [{ type = unsafe-jwt-hmac-256, secret = "${SECRET}" }]`,
        more: 'json-api.port = 0',
      },
      { ledgerApi: `port = ${await freePort()}` },
    ));
    p1Id = (await admin(p1).status()).memberId.replace(/^PAR::/, '');
    const a2 = admin(p2);
    await a2.uploadDar(readFileSync(TOKEN_DAR));
    alice = await a2.enableParty('alice');
  }, 90_000);

  /** Creates a TokenRules contract of alice on participant2 under `commandId` (CommandService.SubmitAndWait). */
  async function create(commandId: string): Promise<void> {
    const c = client(p2);
    const r = await c.unary(c.commands, c.commands.submitAndWait, {
      commands: {
        workflowId: '',
        userId: 'test-app',
        commandId,
        commands: protoCommands(loadEngine(TOKEN_DAR), [tokenCommands.rules(alice)]),
        actAs: [alice],
        readAs: [],
        submissionId: '',
        disclosedContracts: [],
        synchronizerId: '',
        packageIdSelectionPreference: [],
        prefetchContractKeys: [],
        deduplicationPeriod: { oneofKind: undefined },
      },
    });
    expect(r.completionOffset).toBeGreaterThan(0n);
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

  it('serves the JSON Ledger API beside gRPC, on the same handlers and tokens', async () => {
    const json = `http://127.0.0.1:${p1.ports.jsonApi}`;
    const version = await fetch(`${json}/v2/version`);
    expect(version.status).toBe(200);
    expect(((await version.json()) as { version: string }).version).toBe(LEDGER_API_VERSION);
    const anonymous = await fetch(`${json}/v2/parties/participant-id`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { code: string }).code).toBe('UNAUTHENTICATED');
    const asAdmin = await fetch(`${json}/v2/parties/participant-id`, {
      headers: { authorization: `Bearer ${await token('participant_admin', p1Id)}` },
    });
    expect(asAdmin.status).toBe(200);
    expect(await asAdmin.json()).toEqual({ participantId: p1Id });
    const c = client(p1, await token('participant_admin', p1Id));
    const grpc = await c.unary(c.parties, c.parties.getParticipantId, {});
    expect(grpc.participantId).toBe(p1Id);
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
    const commands = JSON.stringify(
      protoCommands(loadEngine(TOKEN_DAR), [tokenCommands.rules(alice)]).map((c) => Command.toJson(c)),
    );
    expect(
      await weftOk([
        'ledger',
        '-e',
        url,
        'submit',
        '--act-as',
        alice,
        '--command-id',
        'cli-2',
        '--user-id',
        'cli',
        commands,
      ]),
    ).toMatch(/^command cli-2 succeeded at offset \d+ \(update [0-9a-f]+\)$/);
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

  it('an application on two participants: parties, users and rights, DAR upload, a transfer across them, completions, deduplication, wrong-typed arguments', async () => {
    const dar = readFileSync(TOKEN_DAR);
    const operator = client(p1, await token('participant_admin', p1Id));
    const open = client(p2);
    for (const c of [operator, open]) {
      await c.unary(c.packageManagement, c.packageManagement.uploadDarFile, {
        darFile: dar,
        submissionId: '',
        vettingChange: 0,
        synchronizerId: '',
      });
    }
    const allocate = async (c: TestLedgerClient, hint: string) =>
      (
        await c.unary(c.parties, c.parties.allocateParty, {
          partyIdHint: hint,
          identityProviderId: '',
          synchronizerId: '',
          userId: '',
        })
      ).partyDetails!.party;
    const [issuer, holder] = [await allocate(operator, 'issuer'), await allocate(operator, 'holder')];
    const bob = await allocate(open, 'bob');

    // A user of participant1 acting as the issuer and the holder, with a token of its own.
    const actAs = (party: string) => ({ kind: { oneofKind: 'canActAs' as const, canActAs: { party } } });
    await operator.unary(operator.users, operator.users.createUser, {
      user: {
        id: 'token-app',
        primaryParty: holder,
        isDeactivated: false,
        identityProviderId: '',
      },
      rights: [actAs(issuer), actAs(holder)],
    });
    const app = client(p1, await token('token-app', p1Id));
    const engine = loadEngine(TOKEN_DAR);
    const submit = (
      c: TestLedgerClient,
      commandId: string,
      commands: unknown[],
      parties: { actAs: string[]; readAs?: string[]; userId?: string },
    ) =>
      c.unary(c.commands, c.commands.submitAndWaitForTransaction, {
        commands: {
          workflowId: '',
          userId: parties.userId ?? '',
          commandId,
          commands: protoCommands(engine, commands),
          actAs: parties.actAs,
          readAs: parties.readAs ?? [],
          submissionId: '',
          disclosedContracts: [],
          synchronizerId: '',
          packageIdSelectionPreference: [],
          prefetchContractKeys: [],
          deduplicationPeriod: { oneofKind: undefined },
        },
      });
    const createdOf = (r: Awaited<ReturnType<typeof submit>>, template: string): string[] =>
      (r.transaction?.events ?? []).flatMap((e) =>
        e.event.oneofKind === 'created' && e.event.created.templateId?.entityName === template
          ? [e.event.created.contractId]
          : [],
      );

    const rules = createdOf(
      await submit(app, 'rules', [tokenCommands.rules(issuer)], { actAs: [issuer] }),
      'TokenRules',
    )[0]!;
    const minted = createdOf(
      await submit(app, 'mint', [tokenCommands.mint(issuer, holder, '100.0')], { actAs: [issuer, holder] }),
      'Token',
    )[0]!;
    const offered = await submit(
      app,
      'offer',
      [
        tokenCommands.offer({
          rules,
          admin: issuer,
          sender: holder,
          receiver: bob,
          amount: '30.0',
          inputs: [minted],
        }),
      ],
      { actAs: [holder], readAs: [issuer] },
    );
    expect(offered.transaction?.commandId).toBe('offer');

    // Bob, on participant2, sees the offer and accepts it there.
    let offer: string | undefined;
    await eventually(
      'the offer to reach bob',
      async () => {
        const { offset } = await open.unary(open.state, open.state.getLedgerEnd, {});
        const acs = await open.collect(open.state, open.state.getActiveContracts, {
          activeAtOffset: offset,
          eventFormat: { filtersByParty: { [bob]: { cumulative: [] } }, verbose: false },
        });
        offer = acs
          .flatMap((r) =>
            r.contractEntry.oneofKind === 'activeContract'
              ? [r.contractEntry.activeContract.createdEvent!]
              : [],
          )
          .find((e) => e.templateId?.entityName === 'TokenTransferOffer')?.contractId;
        return offer !== undefined;
      },
      15_000,
    );
    const accepted = await submit(
      open,
      'accept',
      [tokenCommands.instruction(offer!, 'TransferInstruction_Accept')],
      {
        actAs: [bob],
        userId: 'bob-app',
      },
    );
    expect(createdOf(accepted, 'Token')).toHaveLength(1);

    // The same command again, within the deduplication period: DUPLICATE_COMMAND, nothing submitted.
    const duplicate = await failure(submit(app, 'rules', [tokenCommands.rules(issuer)], { actAs: [issuer] }));
    expect(ledgerApiErrorOf(duplicate)?.code).toBe('DUPLICATE_COMMAND');

    // The user's completions, from the start.
    const completions = app.stream(app.completions, app.completions.completionStream, {
      userId: '',
      parties: [holder],
      beginExclusive: 0n,
    });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      completions.on('data', (r: CompletionStreamResponse) => {
        if (r.completionResponse.oneofKind === 'completion')
          seen.push(r.completionResponse.completion.commandId);
        if (seen.includes('offer')) resolve();
      });
      completions.on('error', reject);
    });
    completions.cancel();
    expect(seen).toEqual(expect.arrayContaining(['mint', 'offer']));

    // A party the user may not act as, and a text where the template wants a party.
    const notMine = await failure(submit(app, 'as-bob', [tokenCommands.rules(bob)], { actAs: [bob] }));
    expect(ledgerApiErrorOf(notMine)?.code).toBe('PERMISSION_DENIED');
    expect(ledgerApiErrorOf(notMine)?.message).toMatch(/CanActAs/);
    const wrongType = await failure(
      app.unary(app.commands, app.commands.submitAndWait, {
        commands: {
          workflowId: '',
          userId: '',
          commandId: 'wrong-type',
          commands: [
            {
              command: {
                oneofKind: 'create',
                create: {
                  templateId: {
                    packageId: '#splice-test-token-v1',
                    moduleName: 'Splice.Testing.Tokens.TestTokenV1',
                    entityName: 'TokenRules',
                  },
                  createArguments: {
                    fields: [{ label: 'admin', value: { sum: { oneofKind: 'int64', int64: '42' } } }],
                  },
                },
              },
            },
          ],
          actAs: [issuer],
          readAs: [],
          submissionId: '',
          disclosedContracts: [],
          synchronizerId: '',
          packageIdSelectionPreference: [],
          prefetchContractKeys: [],
          deduplicationPeriod: { oneofKind: undefined },
        },
      }),
    );
    expect(wrongType.code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses to serve the Ledger API without auth on a non-loopback address', async () => {
    const r = await weft([
      'daemon',
      '-c',
      participantConfig(dir, 'exposed', { ledgerApi: 'address = "0.0.0.0", port = 0' }),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^weft daemon: LEDGER_API_AUTH_REQUIRED\(8\): the Ledger API on 0\.0\.0\.0 has no auth-services/,
    );
  });
});
