import { WebSocketClient } from '@canton-network/core-asyncapi-client';
import { type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ledgerApiAuthSchema } from '../../src/ledger-api/auth/index.js';
import { tokenCommands } from '../../src/participant/testing.js';
import { type JsonApiNetwork, jsonApiNetwork } from './json-harness.js';

/**
 * The JSON Ledger API authorizes as the gRPC Ledger API does, through the same authenticator: HS256 user tokens
 * (scope-based, Canton's `daml_ledger_api`), rights from the user store, by header or by websocket subprotocol.
 */

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const SECRET = 'a shared secret for the JSON API tests';
const token = (payload: JWTPayload, secret = SECRET) =>
  new SignJWT({ scope: 'daml_ledger_api', exp: Math.floor(Date.now() / 1000) + 600, ...payload })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));

let network: JsonApiNetwork;
let base: string;
let alice: string;
let bob: string;
let aliceToken: string;

async function http(method: string, path: string, bearer: string | undefined, body?: unknown) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> & unknown[] };
}

const wildcard = (party: string) => ({
  filtersByParty: {
    [party]: {
      cumulative: [{ identifierFilter: { WildcardFilter: { value: { includeCreatedEventBlob: false } } } }],
    },
  },
});

beforeAll(async () => {
  const parsed = ledgerApiAuthSchema.parse({
    'auth-services': [{ type: 'unsafe-jwt-hmac-256', secret: SECRET }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const config = parsed.value;
  network = await jsonApiNetwork('json-auth', { auth: config });
  base = network.apis[0]!.url;
  alice = await network.nodes[0]!.allocateParty('alice');
  bob = await network.nodes[0]!.allocateParty('bob');
  await network.users[0]!.createUser(
    { id: 'alice-app', primaryParty: alice, isDeactivated: false, annotations: {}, identityProviderId: '' },
    [{ kind: 'CanActAs', party: alice }],
  );
  aliceToken = await token({ sub: 'alice-app' });
}, 120_000);

afterAll(async () => {
  await network?.close();
});

describe('authorization', () => {
  it('refuses a call without a token or with a bad one: 401 UNAUTHENTICATED', async () => {
    for (const bearer of [undefined, 'not-a-jwt', await token({ sub: 'alice-app' }, 'another secret')]) {
      const r = await http('GET', '/v2/state/ledger-end', bearer);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ code: 'UNAUTHENTICATED', errorCategory: 6, grpcCodeValue: 16 });
    }
  });

  it("serves a user's own parties and refuses another's with 403 naming the right", async () => {
    const end = await http('GET', '/v2/state/ledger-end', aliceToken);
    expect(end.status).toBe(200);
    const own = await http('POST', '/v2/state/active-contracts', aliceToken, {
      activeAtOffset: end.json.offset,
      eventFormat: wildcard(alice),
    });
    expect(own.status).toBe(200);
    const other = await http('POST', '/v2/state/active-contracts', aliceToken, {
      activeAtOffset: end.json.offset,
      eventFormat: wildcard(bob),
    });
    expect(other.status).toBe(403);
    expect(other.json.code).toBe('PERMISSION_DENIED');
  });

  it('submits as the token user, and refuses acting as a party the user may not act as', async () => {
    const ok = await http('POST', '/v2/commands/submit-and-wait', aliceToken, {
      commands: [tokenCommands.rules(alice)],
      actAs: [alice],
      commandId: 'rules-alice',
    });
    expect(ok.status).toBe(200);
    expect(typeof ok.json.completionOffset).toBe('number');
    const denied = await http('POST', '/v2/commands/submit-and-wait', aliceToken, {
      commands: [tokenCommands.rules(bob)],
      actAs: [bob],
      commandId: 'rules-bob',
    });
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('PERMISSION_DENIED');
  });

  it("answers the token's user at /v2/authenticated-user, and lets only an admin list users", async () => {
    const me = await http('GET', '/v2/authenticated-user', aliceToken);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ user: { id: 'alice-app', primaryParty: alice } });
    const list = await http('GET', '/v2/users', aliceToken);
    expect(list.status).toBe(403);
    const admin = await http('GET', '/v2/users', await token({ sub: 'participant_admin' }));
    expect(admin.status).toBe(200);
    expect(JSON.stringify(admin.json)).toContain('alice-app');
  });

  it('takes the websocket token from the jwt.token subprotocol, and answers a bad one with an error frame', async () => {
    const good = new WebSocketClient({
      baseUrl: base.replace(/^http/, 'ws'),
      accessTokenProvider: {
        getAccessToken: async () => aliceToken,
        getAuthContext: async () => ({}) as never,
      },
    });
    const seen: unknown[] = [];
    for await (const c of good.streamCompletions({
      beginExclusive: 0,
      userId: '',
      parties: [alice as never],
    })) {
      seen.push(c);
      break;
    }
    expect(seen[0]).toHaveProperty('completionResponse.Completion.value.commandId', 'rules-alice');
    const bad = new WebSocketClient({
      baseUrl: base.replace(/^http/, 'ws'),
      accessTokenProvider: {
        getAccessToken: async () => 'forged',
        getAuthContext: async () => ({}) as never,
      },
    });
    const frames: unknown[] = [];
    for await (const f of bad.streamCompletions({ beginExclusive: 0, userId: '', parties: [alice as never] }))
      frames.push(f);
    expect(frames).toEqual([expect.objectContaining({ code: 'UNAUTHENTICATED' })]);
  });
});
