import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WebSocketClient } from '@canton-network/core-asyncapi-client';
import { isJsCantonError, LedgerClient } from '@canton-network/core-ledger-client';
import { SignJWT } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parse } from 'yaml';
import { ADMIN_WORKFLOW_DAR } from '../../src/daemon/participant.js';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { TOKEN, tokenCommands } from '../../src/participant/testing.js';
import { eventually, killAll } from '../synchronizer/processes.js';
import { ledgerApiDaemons } from './daemons.js';

/**
 * The JSON Ledger API of two participant daemons (separate processes beside a sequencer and a mediator daemon, one
 * network for every case), driven by Canton's published TypeScript clients (@canton-network/core-ledger-client
 * over HTTP, core-asyncapi-client over websockets) and by plain fetch where a client has no call for it. Needs
 * `npm run build` (npm test builds first).
 */

// Node 20 has no global WebSocket; the asyncapi client expects one (ws implements the same interface).
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

// The package exports only its index; the generated types sit beside it.
const CLIENT_TYPES = join(
  dirname(createRequire(import.meta.url).resolve('@canton-network/core-ledger-client-types')),
  'generated-clients/openapi-3.4.12.d.ts',
);

const dir = mkdtempSync(join(tmpdir(), 'weft-json-api-'));
let base: string;
let client: LedgerClient;
let admin: string;
let alice: string;
let bob: string;
let mintOffset: number;
let tokenCid: string;
let rules: string;
let client2: LedgerClient;
let n = 0;

const noToken = { getAccessToken: async () => '', getAuthContext: async () => ({}) as never };
/** participant1 verifies HS256 tokens signed with this; participant2 has no auth services. */
const SECRET = 'a shared secret for the JSON API test';
/** participant1's `json-api.max-request-bytes`. */
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/** A scope-based token for `sub`, valid for ten minutes. */
const tokenFor = (sub: string) =>
  new SignJWT({ sub, scope: 'daml_ledger_api' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(SECRET));
/**
 * The token of participant1's application user json-app: ParticipantAdmin, and CanActAs the parties it allocates
 * (Canton accepts commands only for the token's own user).
 */
let appToken: string;
const asApp = { getAccessToken: async () => appToken, getAuthContext: async () => ({}) as never };
let base2: string;

async function http(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${appToken}` },
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined
      ? {}
      : { body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json: json as Record<string, unknown> & unknown[] };
}

const wildcard = (party: string) => ({
  filtersByParty: {
    [party]: {
      cumulative: [{ identifierFilter: { WildcardFilter: { value: { includeCreatedEventBlob: true } } } }],
    },
  },
});

/** Allocates `hint` on the participant `c` talks to (POST /v2/parties), granting `userId` CanActAs it. */
async function allocate(c: LedgerClient, hint: string, userId: string): Promise<string> {
  const r = await c.post('/v2/parties', {
    partyIdHint: hint,
    identityProviderId: '',
    synchronizerId: '',
    userId,
  } as never);
  return r.partyDetails!.party;
}

beforeAll(async () => {
  // participant1 verifies tokens; participant2 has no auth services (loopback): every caller has every right.
  const { p1, p2 } = await ledgerApiDaemons(
    dir,
    {
      ledgerApi: `port = 0, auth-services = [{ type = unsafe-jwt-hmac-256, secret = "${SECRET}" }]`,
      // A request limit above the largest DAR uploaded here, small enough to exceed quickly.
      more: `json-api { port = 0, max-request-bytes = ${MAX_REQUEST_BYTES} }`,
    },
    { ledgerApi: 'port = 0', more: 'json-api.port = 0' },
  );
  base = `http://127.0.0.1:${p1.ports.jsonApi}`;
  base2 = `http://127.0.0.1:${p2.ports.jsonApi}`;
  const appUser = await fetch(`${base}/v2/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await tokenFor('participant_admin')}` },
    body: JSON.stringify({
      user: { id: 'json-app', primaryParty: '', isDeactivated: false, identityProviderId: '' },
      rights: [{ kind: { ParticipantAdmin: { value: {} } } }],
    }),
  });
  expect(appUser.status).toBe(200);
  appToken = await tokenFor('json-app');
  client = new LedgerClient({
    baseUrl: new URL(base),
    logger: pino({ level: 'silent' }),
    accessTokenProvider: asApp,
  });
  client2 = new LedgerClient({
    baseUrl: new URL(base2),
    logger: pino({ level: 'silent' }),
    accessTokenProvider: noToken,
  });
  for (const url of [base, base2]) {
    const uploaded = await fetch(`${url}/v2/packages`, {
      method: 'POST',
      body: readFileSync(TOKEN_DAR),
      headers: { authorization: `Bearer ${appToken}` },
    });
    expect(uploaded.status).toBe(200);
  }
  admin = await allocate(client, 'admin', 'json-app');
  alice = await allocate(client, 'alice', 'json-app');
  bob = await allocate(client2, 'bob', '');
  // participant1 learns of bob's hosting from the synchronizer's topology.
  await eventually(
    'participant1 to know bob',
    async () => JSON.stringify(await client.get('/v2/parties')).includes(bob),
    15_000,
  );
  const created = await client.post('/v2/commands/submit-and-wait-for-transaction', {
    commands: {
      commands: [tokenCommands.rules(admin)],
      actAs: [admin],
      userId: 'json-app',
      commandId: `rules-${n++}`,
    },
  } as never);
  rules = (created.transaction.events[0] as { CreatedEvent: { contractId: string } }).CreatedEvent.contractId;
  const minted = await client.post('/v2/commands/submit-and-wait', {
    commands: [tokenCommands.mint(admin, alice, '10.0')],
    actAs: [admin, alice],
    userId: 'json-app',
    commandId: `mint-${n++}`,
  } as never);
  mintOffset = minted.completionOffset;
}, 120_000);

afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('version and state', () => {
  it('answers the version as Canton 3.4 does, which the published client accepts', async () => {
    await client.init();
    expect(client.getCurrentClientVersion()).toBe('3.4');
    const version = await client.get('/v2/version');
    expect(version.version).toMatch(/^3\.4/);
    expect(version.features?.userManagement?.supported).toBe(true);
  });

  it('reports the ledger end as a JSON number and the connected synchronizers', async () => {
    const end = await client.get('/v2/state/ledger-end');
    expect(typeof end.offset).toBe('number');
    expect(end.offset).toBeGreaterThanOrEqual(mintOffset);
    const synchronizers = await client.get('/v2/state/connected-synchronizers', { query: { party: alice } });
    expect(synchronizers.connectedSynchronizers?.length).toBe(1);
  });
});

describe('parties, users and packages', () => {
  it('allocates a party and finds it, as the published client checks it', async () => {
    const { participantId } = await client.get('/v2/parties/participant-id');
    const allocated = await client.post('/v2/parties', {
      partyIdHint: 'carol',
      identityProviderId: '',
      synchronizerId: '',
      userId: '',
    } as never);
    const carol = allocated.partyDetails!.party;
    expect(carol).toMatch(/^carol::1220[0-9a-f]{64}$/);
    expect(carol.split('::')[1]).toBe(participantId.split('::')[1]);
    expect(await client.checkIfPartyExists(carol as never)).toBe(true);
    const details = await http(
      'GET',
      `/v2/parties/${encodeURIComponent(carol)}?parties=${encodeURIComponent(alice)}`,
    );
    expect(details.status).toBe(200);
    expect(
      (details.json as unknown as { partyDetails: { party: string; isLocal: boolean }[] }).partyDetails
        .map((d) => d.party)
        .sort(),
    ).toEqual([alice, carol].sort());
    const listed = await client.get('/v2/parties');
    expect(listed.partyDetails?.some((d) => d.party === carol)).toBe(true);
    const byPrefix = await http('GET', '/v2/parties?filter-party=carol%3A%3A');
    expect(
      (byPrefix.json as unknown as { partyDetails: { party: string }[] }).partyDetails.map((d) => d.party),
    ).toEqual([carol]);
  });

  it('creates a user, grants and lists its rights, and deletes it', async () => {
    const created = await client.post('/v2/users', {
      user: { id: 'json-user', primaryParty: alice, isDeactivated: false, identityProviderId: '' },
      rights: [{ kind: { CanActAs: { value: { party: alice } } } }],
    } as never);
    expect(created.user).toMatchObject({ id: 'json-user', primaryParty: alice });
    await client.grantRights('json-user', { readAs: [admin] });
    const rights = await client.get('/v2/users/{user-id}/rights', { path: { 'user-id': 'json-user' } });
    expect(rights.rights).toEqual(
      expect.arrayContaining([
        { kind: { CanActAs: { value: { party: alice } } } },
        { kind: { CanReadAs: { value: { party: admin } } } },
      ]),
    );
    const user = await client.get('/v2/users/{user-id}', { path: { 'user-id': 'json-user' } });
    expect(user.user?.id).toBe('json-user');
    expect((await http('DELETE', '/v2/users/json-user')).status).toBe(200);
    const gone = await http('GET', '/v2/users/json-user');
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe('USER_NOT_FOUND');
  });

  it('uploads a DAR as raw bytes and lists and serves its packages', async () => {
    const dar = readFileSync(ADMIN_WORKFLOW_DAR);
    const uploaded = await fetch(`${base}/v2/packages`, {
      method: 'POST',
      body: dar,
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${appToken}` },
    });
    expect(uploaded.status).toBe(200);
    expect(await uploaded.json()).toEqual({});
    const { packageIds } = await client.get('/v2/packages');
    expect(packageIds?.length).toBeGreaterThan(1);
    const archive = await fetch(`${base}/v2/packages/${packageIds![0]}`, {
      headers: { authorization: `Bearer ${appToken}` },
    });
    expect(archive.headers.get('content-type')).toBe('application/octet-stream');
    expect((await archive.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const status = await client.get('/v2/packages/{package-id}/status', {
      path: { 'package-id': packageIds![0]! },
    });
    expect(status.packageStatus).toBe('PACKAGE_STATUS_REGISTERED');
  });
});

describe('active contracts and updates', () => {
  it('lists the active contracts with Canton JSON: Js* mirrors, package ids, LF JSON arguments', async () => {
    const acs = await client.post('/v2/state/active-contracts', {
      activeAtOffset: mintOffset,
      eventFormat: {
        filtersByParty: {
          [alice]: {
            cumulative: [
              {
                identifierFilter: {
                  TemplateFilter: { value: { templateId: `${TOKEN}:Token`, includeCreatedEventBlob: false } },
                },
              },
            ],
          },
        },
        verbose: false,
      },
    } as never);
    expect(acs.length).toBe(1);
    const entry = acs[0]!.contractEntry as { JsActiveContract: { createdEvent: Record<string, unknown> } };
    const created = entry.JsActiveContract.createdEvent;
    expect(created.packageName).toBe('splice-test-token-v1');
    expect(created.templateId).toMatch(/^[0-9a-f]{64}:Splice\.Testing\.Tokens\.TestTokenV1:Token$/);
    const holding = (created.createArgument as { holding: Record<string, unknown> }).holding;
    expect(holding.owner).toBe(alice);
    expect(holding.amount).toBe('10.0000000000');
    expect(holding.lock).toBeNull();
    expect(typeof created.offset).toBe('number');
    expect(created.createdAt).toMatch(/Z$/);
    tokenCid = created.contractId as string;
  });

  it('accepts the legacy filter and verbose fields, and refuses them beside the new form', async () => {
    const legacy = await http('POST', '/v2/state/active-contracts', {
      filter: wildcard(alice),
      verbose: false,
      activeAtOffset: mintOffset,
      eventFormat: null,
    });
    expect(legacy.status).toBe(200);
    expect(legacy.json.length).toBe(1);
    const both = await http('POST', '/v2/state/active-contracts', {
      filter: wildcard(alice),
      eventFormat: wildcard(alice),
      activeAtOffset: mintOffset,
    });
    expect(both.status).toBe(400);
    expect(both.json.code).toBe('INVALID_ARGUMENT');
  });

  it('lists updates in the ACS delta and ledger effects shapes, and as legacy trees', async () => {
    const flat = await client.post('/v2/updates', {
      beginExclusive: 0,
      endInclusive: mintOffset,
      updateFormat: {
        includeTransactions: {
          eventFormat: wildcard(alice),
          transactionShape: 'TRANSACTION_SHAPE_ACS_DELTA',
        },
      },
    } as never);
    const tx = flat.map((u) => u.update).find((u) => u !== undefined && 'Transaction' in u) as {
      Transaction: { value: { events: Record<string, unknown>[]; offset: number; updateId: string } };
    };
    expect(tx.Transaction.value.offset).toBe(mintOffset);
    expect(Object.keys(tx.Transaction.value.events[0]!)).toEqual(['CreatedEvent']);
    const trees = await http('POST', '/v2/updates/trees', {
      beginExclusive: 0,
      endInclusive: mintOffset,
      filter: wildcard(alice),
      verbose: true,
    });
    expect(trees.status).toBe(200);
    const tree = (
      trees.json as { update: { TransactionTree?: { value: { eventsById: Record<string, unknown> } } } }[]
    ).find((u) => u.update.TransactionTree)!;
    expect(Object.values(tree.update.TransactionTree!.value.eventsById)[0]).toHaveProperty(
      'CreatedTreeEvent.value.contractId',
    );
    const byId = await client.post('/v2/updates/update-by-id', {
      updateId: tx.Transaction.value.updateId,
      updateFormat: {
        includeTransactions: {
          eventFormat: wildcard(alice),
          transactionShape: 'TRANSACTION_SHAPE_LEDGER_EFFECTS',
        },
      },
    } as never);
    expect(byId.update).toHaveProperty('Transaction.value.updateId', tx.Transaction.value.updateId);
    const legacy = await http(
      'GET',
      `/v2/updates/transaction-tree-by-offset/${mintOffset}?parties=${encodeURIComponent(alice)}`,
    );
    expect(legacy.status).toBe(200);
    expect(legacy.json).toHaveProperty('transaction.offset', mintOffset);
  });

  it('ends an open-ended HTTP list after the idle time, and bounds it by limit', async () => {
    const open = await http('POST', '/v2/updates?stream_idle_timeout_ms=200', {
      beginExclusive: 0,
      filter: wildcard(alice),
    });
    expect(open.status).toBe(200);
    expect(open.json.length).toBeGreaterThan(0);
    const limited = await http('POST', '/v2/updates?limit=1', { beginExclusive: 0, filter: wildcard(alice) });
    expect(limited.json.length).toBe(1);
  });

  it('serves the legacy transaction lookups and submit-and-wait-for-transaction-tree', async () => {
    const byOffset = await http('POST', '/v2/updates/transaction-by-offset', {
      offset: mintOffset,
      requestingParties: [alice],
    });
    expect(byOffset.status).toBe(200);
    const updateId = (byOffset.json as unknown as { transaction: { updateId: string; events: unknown[] } })
      .transaction.updateId;
    const byId = await http('POST', '/v2/updates/transaction-by-id', {
      updateId,
      requestingParties: [alice],
    });
    expect(byId.json).toHaveProperty('transaction.offset', mintOffset);
    const tree = await client.post('/v2/commands/submit-and-wait-for-transaction-tree', {
      commands: [tokenCommands.mint(admin, alice, '2.0')],
      actAs: [admin, alice],
      userId: 'json-app',
      commandId: `tree-${n++}`,
    } as never);
    const events = Object.values(tree.transactionTree?.eventsById ?? {});
    expect(events[0]).toHaveProperty('CreatedTreeEvent.value.templateId');
  });

  it('finds the events of a contract by its id', async () => {
    const events = await client.post('/v2/events/events-by-contract-id', {
      contractId: tokenCid,
      eventFormat: wildcard(alice),
    } as never);
    expect(events.created?.createdEvent.contractId).toBe(tokenCid);
  });

  it('streams updates over a websocket with the published asyncapi client', async () => {
    const ws = new WebSocketClient({ baseUrl: base.replace(/^http/, 'ws'), accessTokenProvider: asApp });
    const read = async () => {
      const seen: unknown[] = [];
      for await (const u of ws.streamUpdates({
        beginExclusive: 0,
        endInclusive: mintOffset,
        partyId: alice as never,
        templateIds: [`${TOKEN}:Token`],
      })) {
        seen.push(u);
      }
      return seen;
    };
    const seen = await read();
    expect(seen.some((u) => JSON.stringify(u).includes(tokenCid))).toBe(true);
    // Again, now from the participant's cache of encoded updates: the same frames.
    expect(await read()).toEqual(seen);
  });

  it('streams completions over a websocket and as an HTTP list', async () => {
    const ws = new WebSocketClient({ baseUrl: base.replace(/^http/, 'ws'), accessTokenProvider: asApp });
    const iterator = ws.streamCompletions({
      beginExclusive: 0,
      userId: 'json-app',
      parties: [alice as never],
    });
    const first = (await iterator.next()).value as { completionResponse: Record<string, unknown> };
    await iterator.return?.(undefined);
    expect(first.completionResponse).toHaveProperty('Completion.value.status.code', 0);
    expect(first.completionResponse).toHaveProperty('Completion.value.offset', mintOffset);
    // The mint named no deduplication period: the participant applied its window (the default, 7 days).
    expect(first.completionResponse).toHaveProperty(
      'Completion.value.deduplicationPeriod.DeduplicationDuration.value',
      expect.objectContaining({ seconds: 7 * 86_400, nanos: 0 }),
    );
    const listed = await http('POST', '/v2/commands/completions?stream_idle_timeout_ms=200', {
      beginExclusive: 0,
      userId: 'json-app',
      parties: [alice],
    });
    expect(listed.status).toBe(200);
    expect(listed.json[0]).toHaveProperty('completionResponse.Completion.value.offset', mintOffset);
    expect(listed.json[0]).toHaveProperty(
      'completionResponse.Completion.value.deduplicationPeriod.DeduplicationDuration.value.seconds',
      7 * 86_400,
    );
  });

  it('without authentication, refuses a stream that names no user as Canton does (an error frame)', async () => {
    const ws = new WebSocketClient({ baseUrl: base2.replace(/^http/, 'ws'), accessTokenProvider: noToken });
    const frames: unknown[] = [];
    for await (const f of ws.streamCompletions({ beginExclusive: 0, userId: '', parties: [alice as never] }))
      frames.push(f);
    expect(frames).toEqual([expect.objectContaining({ code: 'INVALID_TOKEN', grpcCodeValue: 3 })]);
  });
});

describe('commands', () => {
  it('transfers a token to a party of the other participant: offer on p1, accept on p2', async () => {
    const holding = await client.post('/v2/commands/submit-and-wait-for-transaction', {
      commands: {
        commands: [tokenCommands.mint(admin, alice, '5.0')],
        actAs: [admin, alice],
        userId: 'json-app',
        commandId: `mint-${n++}`,
      },
    } as never);
    const input = (holding.transaction.events[0] as { CreatedEvent: { contractId: string } }).CreatedEvent
      .contractId;
    const offered = await client.post('/v2/commands/submit-and-wait-for-transaction', {
      commands: {
        commands: [
          tokenCommands.offer({ rules, admin, sender: alice, receiver: bob, amount: '5.0', inputs: [input] }),
        ],
        actAs: [alice],
        readAs: [admin],
        userId: 'json-app',
        commandId: `offer-${n++}`,
      },
    } as never);
    const offer = offered.transaction.events
      .map((e) => (e as { CreatedEvent?: { contractId: string; templateId: string } }).CreatedEvent)
      .find((c) => c?.templateId.endsWith(':TokenTransferOffer'))!.contractId;
    // Bob's participant learns of the offer when the transaction is committed there.
    let visible = false;
    for (let i = 0; i < 100 && !visible; i++) {
      const end = await client2.get('/v2/state/ledger-end');
      const acs = await client2.post('/v2/state/active-contracts', {
        activeAtOffset: end.offset,
        filter: wildcard(bob),
        verbose: false,
      } as never);
      visible = JSON.stringify(acs).includes(offer);
      if (!visible) await new Promise((r) => setTimeout(r, 100));
    }
    expect(visible).toBe(true);
    const accepted = await client2.post('/v2/commands/submit-and-wait', {
      commands: [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
      actAs: [bob],
      userId: 'json-app',
      commandId: `accept-${n++}`,
    } as never);
    expect(typeof accepted.completionOffset).toBe('number');
    const updates = await client2.post('/v2/updates', {
      beginExclusive: accepted.completionOffset - 1,
      endInclusive: accepted.completionOffset,
      updateFormat: {
        includeTransactions: {
          eventFormat: wildcard(bob),
          transactionShape: 'TRANSACTION_SHAPE_LEDGER_EFFECTS',
        },
      },
    } as never);
    const tx = JSON.stringify(updates);
    expect(tx).toContain('ExercisedEvent');
    expect(tx).toContain('"choice":"TransferInstruction_Accept"');
    expect(tx).toContain(`"owner":"${bob}"`);
  });

  it('submits asynchronously and reports the outcome as a completion', async () => {
    const end = await client.get('/v2/state/ledger-end');
    const commandId = `async-${n++}`;
    const submitted = await client.post('/v2/commands/async/submit', {
      commands: [tokenCommands.mint(admin, alice, '1.0')],
      actAs: [admin, alice],
      userId: 'json-app',
      commandId,
    } as never);
    expect(submitted).toEqual({});
    const ws = new WebSocketClient({ baseUrl: base.replace(/^http/, 'ws'), accessTokenProvider: asApp });
    for await (const c of ws.streamCompletions({
      beginExclusive: end.offset!,
      userId: 'json-app',
      parties: [alice as never],
    })) {
      const completion = (
        c.completionResponse as { Completion?: { value: { commandId: string; status: { code: number } } } }
      ).Completion;
      if (completion?.value.commandId === commandId) {
        expect(completion.value.status.code).toBe(0);
        break;
      }
    }
  });

  it('refuses a wrong-typed argument, naming the field, without a state change', async () => {
    const before = await client.get('/v2/state/ledger-end');
    const r = await http('POST', '/v2/commands/submit-and-wait', {
      commands: [{ CreateCommand: { templateId: `${TOKEN}:TokenRules`, createArguments: { admin: 42 } } }],
      actAs: [admin],
      userId: 'json-app',
      commandId: `bad-${n++}`,
    });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('DAML_COMMAND_INVALID');
    expect(r.json.cause).toContain('createArguments.admin');
    expect((await client.get('/v2/state/ledger-end')).offset).toBe(before.offset);
  });
});

describe('bad input', () => {
  it('refuses a bad token with 401 UNAUTHENTICATED and a missing right with 403 naming it', async () => {
    const bad = await http('GET', '/v2/state/ledger-end', undefined, { authorization: 'Bearer not-a-token' });
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ code: 'UNAUTHENTICATED', grpcCodeValue: 16 });
    await client.post('/v2/users', {
      user: { id: 'no-rights', primaryParty: '', isDeactivated: false, identityProviderId: '' },
      rights: [],
    } as never);
    const denied = await http(
      'POST',
      '/v2/state/active-contracts',
      { activeAtOffset: mintOffset, filter: wildcard(alice) },
      { authorization: `Bearer ${await tokenFor('no-rights')}` },
    );
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('PERMISSION_DENIED');
    expect(denied.json.cause).toMatch(/CanReadAs/);
  });

  it('answers malformed JSON with a JsCantonError and HTTP 400', async () => {
    const r = await http('POST', '/v2/updates', '{"beginExclusive": ');
    expect(r.status).toBe(400);
    expect(isJsCantonError(r.json)).toBe(true);
    expect(r.json).toMatchObject({ code: 'INVALID_ARGUMENT', errorCategory: 8, grpcCodeValue: 3 });
    expect(r.json.correlationId).toBeTruthy();
  });

  it('answers a wrong-typed field with the field named', async () => {
    const r = await http('POST', '/v2/updates', { beginExclusive: 'soon' });
    expect(r.status).toBe(400);
    expect(r.json.cause).toContain('beginExclusive');
  });

  it('accepts a body without a Content-Type (as real clients send) and numbers as strings', async () => {
    const r = await fetch(`${base}/v2/state/active-contracts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${appToken}` },
      body: new TextEncoder().encode(
        JSON.stringify({ activeAtOffset: String(mintOffset), filter: wildcard(alice) }),
      ),
    });
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.status).toBe(200);
  });

  it('refuses a body over the limit with 413 and stays up', async () => {
    const big = await http('POST', '/v2/updates', `{"pad":"${'x'.repeat(MAX_REQUEST_BYTES)}"}`);
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('JSON_API_REQUEST_TOO_LARGE');
    expect((await http('GET', '/livez')).status).toBe(200);
  });
});

describe('the contract', () => {
  const clientOperations = (): string[] => {
    const source = readFileSync(CLIENT_TYPES, 'utf8');
    const paths = source.slice(
      source.indexOf('export interface paths'),
      source.indexOf('export type webhooks'),
    );
    const ops: string[] = [];
    for (const m of paths.matchAll(/\n {4}'([^']+)': \{([\s\S]*?)\n {4}\};/g)) {
      for (const verb of m[2]!.matchAll(/\n {8}(get|post|patch|delete|put): operations/g))
        ops.push(`${verb[1]!.toUpperCase()} ${m[1]}`);
    }
    return ops.sort();
  };

  it('serves an OpenAPI document with exactly the paths and operations of the published client', async () => {
    const r = await fetch(`${base}/docs/openapi`);
    const doc = parse(await r.text()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const served = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((verb) => `${verb.toUpperCase()} ${path}`))
      .sort();
    expect(served).toEqual(clientOperations());
    expect(served.length).toBe(61);
    expect(doc.paths['/v2/users/{user-id}']!.get!.operationId).toBe('getV2UsersUser-id');
    const asyncapi = parse(await (await fetch(`${base}/docs/asyncapi`)).text()) as {
      channels: Record<string, unknown>;
    };
    expect(Object.keys(asyncapi.channels)).toEqual(
      expect.arrayContaining(['/v2/updates', '/v2/commands/completions', '/v2/state/active-contracts']),
    );
  });

  it("describes each operation's JSON body and answer with the client's schema names and fields", async () => {
    const source = readFileSync(CLIENT_TYPES, 'utf8');
    const schemasText = source.slice(
      source.indexOf('    schemas: {'),
      source.indexOf('\n    responses:', source.indexOf('    schemas: {')),
    );
    const fields = new Map<string, string[]>();
    for (const part of schemasText.split(/\n {8}(?=[A-Za-z_0-9]+: )/).slice(1)) {
      const name = /^([A-Za-z_0-9]+):/.exec(part)![1]!;
      fields.set(name, [...part.matchAll(/\n {12}([a-zA-Z0-9_]+)\??: /g)].map((m) => m[1]!).sort());
    }
    // Per operation id: the JSON body's and the JSON 200 answer's schema names, as the client's types name them.
    const theirs = new Map<string, { body?: string; answer?: string }>();
    const operationsText = source.slice(source.indexOf('export interface operations'));
    const jsonSchema = /^\s*'application\/json': (?:components\['schemas'\]\['([A-Za-z0-9_]+)'\])/m;
    for (const m of operationsText.matchAll(
      /\n {4}'?([A-Za-z0-9-]+)'?: \{\n {8}parameters([\s\S]*?)\n {4}\};/g,
    )) {
      const [request, responses] = m[2]!.split(/\n {8}responses: /) as [string, string];
      const ok = /200: \{[\s\S]*?content: \{([\s\S]*?)\n {16}\};/.exec(responses)?.[1] ?? '';
      const body = jsonSchema.exec(request.split('requestBody')[1] ?? '')?.[1];
      const answer = jsonSchema.exec(ok)?.[1];
      theirs.set(m[1]!, { ...(body ? { body } : {}), ...(answer ? { answer } : {}) });
    }
    const doc = parse(await (await fetch(`${base}/docs/openapi`)).text()) as {
      paths: Record<
        string,
        Record<string, { operationId: string; requestBody?: Content; responses: Record<string, Content> }>
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    type Content = { content?: Record<string, { schema: { $ref?: string; items?: { $ref?: string } } }> };
    const named = (c: Content | undefined) => {
      const schema = c?.content?.['application/json']?.schema;
      return (schema?.$ref ?? schema?.items?.$ref)?.split('/').pop();
    };
    const mismatches: string[] = [];
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        const expected = theirs.get(op.operationId)!;
        for (const [what, name, mine] of [
          ['body', expected.body, named(op.requestBody)],
          ['answer', expected.answer, named(op.responses['200'])],
        ] as const) {
          if (name === undefined) continue;
          const mineFields = Object.keys(doc.components.schemas[mine ?? '']?.properties ?? {}).sort();
          if (name !== mine || JSON.stringify(fields.get(name)) !== JSON.stringify(mineFields)) {
            mismatches.push(
              `${op.operationId} ${what}: ${name} ${fields.get(name)} vs ${mine} ${mineFields}`,
            );
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('answers every path and method of the published client with something other than 404 or 405', async () => {
    for (const op of clientOperations()) {
      const [verb, path] = op.split(' ') as [string, string];
      const url = path.replace(/\{[^}]+\}/g, (p) => (p === '{offset}' ? String(mintOffset) : 'x'));
      const r = await http(
        verb,
        `${url}${url.includes('updates') || url.includes('completions') || url.includes('active-contracts') ? '?stream_idle_timeout_ms=50' : ''}`,
        verb === 'GET' || verb === 'DELETE' ? undefined : {},
      );
      // A 404 of the service (an unknown user named x) proves the route; only a routing miss or 405 fails.
      const routed = r.status !== 405 && !(r.status === 404 && r.json.code === 'JSON_API_ENDPOINT_NOT_FOUND');
      expect(routed, `${op} answered ${r.status}: ${JSON.stringify(r.json)}`).toBe(true);
    }
  });
});
