import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, importPKCS8, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommonErrors, isWeftError, type WeftError } from '../../errors/index.js';
import { createLogger } from '../../observability/index.js';
import { openStorage } from '../../storage/index.js';
import { ManualClock } from '../../time/index.js';
import { PARTICIPANT_ADMIN_USER_ID, UserStore } from '../users/index.js';
import {
  type Authenticator,
  createAuthenticator,
  type LedgerApiAuthConfig,
  LedgerApiAuthErrors,
  ledgerApiAuthSchema,
  requireActAs,
  requireAdmin,
} from './index.js';

const PARTICIPANT = 'participant1::1220abcd';
const SECRET = 'a shared secret for tests only';
const alice = 'alice::1220aa';
const T0 = 1_800_000_000; // seconds

function testdata(name: string): string {
  return new URL(`./testdata/${name}`, import.meta.url).pathname;
}

function config(raw: unknown): LedgerApiAuthConfig {
  const parsed = ledgerApiAuthSchema.parse(raw);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

async function failure(p: Promise<unknown>): Promise<WeftError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isWeftError(e)) throw new Error(`expected a WeftError, got ${String(e)}`);
  return e;
}

const hs256 = (payload: JWTPayload, secret = SECRET) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

const aud = `https://daml.com/jwt/aud/participant/${PARTICIPANT}`;

describe('ledger api authenticator', () => {
  let store: UserStore;
  let clock: ManualClock;
  let jwks: Server;
  let jwksUrl: string;
  let jwksFetches = 0;
  let rsaPrivate: CryptoKey;
  const logger = createLogger({ level: 'silent' });
  const deps = () => ({ participantId: PARTICIPANT, users: store, clock, logger });

  beforeAll(async () => {
    store = await UserStore.open(await openStorage({ kind: 'sqlite', path: ':memory:' }));
    await store.createUser(
      { id: 'alice-app', primaryParty: alice, isDeactivated: false, annotations: {}, identityProviderId: '' },
      [{ kind: 'CanActAs', party: alice }],
    );
    await store.createUser(
      { id: 'gone', primaryParty: '', isDeactivated: true, annotations: {}, identityProviderId: '' },
      [],
    );
    const pair = await generateKeyPair('RS256');
    rsaPrivate = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_, res) => {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
  });

  afterAll(async () => {
    await new Promise((resolve) => jwks.close(resolve));
  });

  const fresh = () => {
    clock = new ManualClock(BigInt(T0) * 1_000_000n);
  };

  it('gives every caller the wildcard when no auth service is configured', async () => {
    fresh();
    const auth = await createAuthenticator(config({}), deps());
    expect(auth.enabled).toBe(false);
    const claims = await auth.authenticate(undefined);
    expect(claims.wildcard).toBe(true);
    requireAdmin(claims);
  });

  describe('with an HS256 auth service', () => {
    let auth: Authenticator;
    beforeAll(async () => {
      fresh();
      auth = await createAuthenticator(
        config({
          'auth-services': [{ type: 'unsafe-jwt-hmac-256', secret: SECRET }],
          'jwt-timestamp-leeway': { default: 5 },
        }),
        deps(),
      );
    });

    it("resolves an audience-based token to its user's rights", async () => {
      const claims = await auth.authenticate(
        `Bearer ${await hs256({ sub: 'alice-app', aud, exp: T0 + 60 })}`,
      );
      expect(claims).toMatchObject({
        wildcard: false,
        userId: 'alice-app',
        identityProviderId: '',
        participantAdmin: false,
      });
      expect(claims.expiresAt).toBe(BigInt(T0 + 60) * 1_000_000n);
      requireActAs(claims, [alice], []);
      expect(() => requireAdmin(claims)).toThrow(/ParticipantAdmin/);
    });

    it('accepts scope-based tokens, with or without this participant as audience', async () => {
      const admin = await auth.authenticate(
        `Bearer ${await hs256({ sub: PARTICIPANT_ADMIN_USER_ID, scope: 'openid daml_ledger_api' })}`,
      );
      requireAdmin(admin);
      await auth.authenticate(
        `Bearer ${await hs256({ sub: 'alice-app', scp: ['daml_ledger_api'], aud: PARTICIPANT })}`,
      );
      const other = await failure(
        auth.authenticate(
          `Bearer ${await hs256({ sub: 'alice-app', scope: 'daml_ledger_api', aud: 'participant2::1220ef' })}`,
        ),
      );
      expect(other.code).toBe(CommonErrors.PERMISSION_DENIED.code);
      expect(other.message).toContain("only valid for participantId 'participant2::1220ef'");
    });

    it('refuses missing, malformed, foreign and badly signed tokens as UNAUTHENTICATED', async () => {
      const cases: [string | undefined, RegExp][] = [
        [undefined, /no authorization header/],
        ['Basic abc', /not 'Bearer <token>'/],
        ['Bearer not-a-jwt', /HS256/],
        [
          `Bearer ${await hs256({ sub: 'alice-app', aud }, 'another secret')}`,
          /signature verification failed/,
        ],
        [`Bearer ${await hs256({ sub: 'alice-app', scope: 'email' })}`, /unknown scope "email"/],
        [`Bearer ${await hs256({ aud })}`, /no user \('sub' claim\)/],
        [
          `Bearer ${await hs256({ sub: 'alice-app', aud: 'https://daml.com/jwt/aud/participant/' })}`,
          /exactly one participant id/,
        ],
      ];
      for (const [header, reason] of cases) {
        const e = await failure(auth.authenticate(header));
        expect(e.code).toBe(CommonErrors.UNAUTHENTICATED.code);
        expect(e.message).toMatch(reason);
      }
    });

    it('honours exp and nbf with the leeway', async () => {
      const expired = await hs256({ sub: 'alice-app', aud, exp: T0 - 10 });
      expect((await failure(auth.authenticate(`Bearer ${expired}`))).message).toMatch(/expired at/);
      // Within the leeway; a token accepted before is checked again on each call, so it expires like any other.
      const soon = `Bearer ${await hs256({ sub: 'alice-app', aud, exp: T0 - 4 })}`;
      await auth.authenticate(soon);
      clock.advance(2_000);
      expect((await failure(auth.authenticate(soon))).message).toMatch(/expired at/);
      const early = await hs256({ sub: 'alice-app', aud, nbf: T0 + 60 });
      expect((await failure(auth.authenticate(`Bearer ${early}`))).message).toMatch(/not valid before/);
      const future = await hs256({ sub: 'alice-app', aud, iat: T0 + 60 });
      expect((await failure(auth.authenticate(`Bearer ${future}`))).message).toMatch(/issued in the future/);
    });

    it('refuses unknown and deactivated users and bad user ids', async () => {
      const unknown = await failure(auth.authenticate(`Bearer ${await hs256({ sub: 'nobody', aud })}`));
      expect(unknown.code).toBe(CommonErrors.PERMISSION_DENIED.code);
      const deactivated = await failure(auth.authenticate(`Bearer ${await hs256({ sub: 'gone', aud })}`));
      expect(deactivated.message).toContain('User gone is deactivated');
      const bad = await failure(auth.authenticate(`Bearer ${await hs256({ sub: 'white space', aud })}`));
      expect(bad.code).toBe(LedgerApiAuthErrors.INVALID_TOKEN.code);
    });

    it('sees rights change at once', async () => {
      await store.createUser(
        { id: 'later', primaryParty: '', isDeactivated: false, annotations: {}, identityProviderId: '' },
        [],
      );
      const header = `Bearer ${await hs256({ sub: 'later', aud })}`;
      expect((await auth.authenticate(header)).readAs.size).toBe(0);
      await store.grantRights('later', [{ kind: 'CanReadAs', party: alice }], '');
      expect((await auth.authenticate(header)).readAs).toEqual(new Set([alice]));
      await store.updateUser({ id: 'later', identityProviderId: '', isDeactivated: true });
      expect((await failure(auth.authenticate(header))).code).toBe(CommonErrors.PERMISSION_DENIED.code);
    });

    it('ends a stream when its token expires or its rights change', async () => {
      await store.createUser(
        { id: 'streamer', primaryParty: '', isDeactivated: false, annotations: {}, identityProviderId: '' },
        [{ kind: 'CanReadAs', party: alice }],
      );
      const claims = await auth.authenticate(`Bearer ${await hs256({ sub: 'streamer', aud, exp: T0 + 30 })}`);
      const ended: string[] = [];
      const stop = auth.watchStream(claims, (e) => ended.push(e.code));
      clock.advance(30_000);
      expect(ended).toEqual([]); // the leeway
      clock.advance(5_000);
      expect(ended).toEqual([LedgerApiAuthErrors.ACCESS_TOKEN_EXPIRED.code]);
      stop();

      // A token valid for a year outlives the longest timer: the stream still lives a month on.
      const yearLong = await auth.authenticate(
        `Bearer ${await hs256({ sub: 'streamer', aud, exp: T0 + 40 + 365 * 86_400 })}`,
      );
      const endedLate: string[] = [];
      const stopLate = auth.watchStream(yearLong, (e) => endedLate.push(e.code));
      clock.advance(30 * 86_400_000);
      expect(endedLate).toEqual([]);
      clock.advance(336 * 86_400_000);
      expect(endedLate).toEqual([LedgerApiAuthErrors.ACCESS_TOKEN_EXPIRED.code]);
      stopLate();

      const forever = await auth.authenticate(`Bearer ${await hs256({ sub: 'streamer', aud })}`);
      const revoked = new Promise<string>((resolve) => auth.watchStream(forever, (e) => resolve(e.code)));
      // A change that keeps the rights does not end the stream; revoking one does.
      await store.updateUser({ id: 'streamer', identityProviderId: '', annotations: { k: 'v' } });
      await store.revokeRights('streamer', [{ kind: 'CanReadAs', party: alice }], '');
      expect(await revoked).toBe(LedgerApiAuthErrors.STALE_STREAM_AUTHORIZATION.code);
    });
  });

  it('enforces max-token-lifetime and target audiences and scopes', async () => {
    fresh();
    const auth = await createAuthenticator(
      config({
        'auth-services': [
          { type: 'unsafe-jwt-hmac-256', secret: SECRET, 'target-audience': 'https://ledger.example' },
          { type: 'unsafe-jwt-hmac-256', secret: 'scope secret', 'target-scope': 'ledger:full' },
        ],
        'max-token-lifetime-ms': 600_000,
      }),
      deps(),
    );
    await auth.authenticate(
      `Bearer ${await hs256({ sub: 'alice-app', aud: ['x', 'https://ledger.example'], exp: T0 + 60 })}`,
    );
    await auth.authenticate(
      `Bearer ${await hs256({ sub: 'alice-app', scope: 'ledger:full', exp: T0 + 60 }, 'scope secret')}`,
    );
    const standard = await failure(
      auth.authenticate(`Bearer ${await hs256({ sub: 'alice-app', aud, exp: T0 + 60 })}`),
    );
    expect(standard.message).toMatch(/audience is not the expected one/);
    const long = await failure(
      auth.authenticate(
        `Bearer ${await hs256({ sub: 'alice-app', aud: 'https://ledger.example', exp: T0 + 3600 })}`,
      ),
    );
    expect(long.message).toMatch(/longer than max-token-lifetime/);
    const noExp = await failure(
      auth.authenticate(`Bearer ${await hs256({ sub: 'alice-app', aud: 'https://ledger.example' })}`),
    );
    expect(noExp.message).toMatch(/no expiration time/);
  });

  it('verifies RS256, ES256 and ES512 tokens with certificate files', async () => {
    fresh();
    const auth = await createAuthenticator(
      config({
        'auth-services': [
          { type: 'jwt-rs-256', certificate: testdata('rs256.crt') },
          { type: 'jwt-es-256', certificate: testdata('es256.crt') },
          { type: 'jwt-es-512', certificate: testdata('es512.crt') },
        ],
      }),
      deps(),
    );
    for (const [alg, file] of [
      ['RS256', 'rs256.key'],
      ['ES256', 'es256.key'],
      ['ES512', 'es512.key'],
    ] as const) {
      const key = await importPKCS8(readFileSync(testdata(file), 'utf8'), alg);
      const token = await new SignJWT({ sub: 'alice-app', aud }).setProtectedHeader({ alg }).sign(key);
      expect((await auth.authenticate(`Bearer ${token}`)).userId).toBe('alice-app');
    }
    const missing = await failure(
      createAuthenticator(
        config({ 'auth-services': [{ type: 'jwt-rs-256', certificate: testdata('nope.crt') }] }),
        deps(),
      ),
    );
    expect(missing.message).toMatch(/auth-services\[0\]\.certificate: cannot read/);
  });

  it('verifies tokens with a JWKS URL, fetching the keys once', async () => {
    fresh();
    const auth = await createAuthenticator(
      config({ 'auth-services': [{ type: 'jwt-jwks', url: jwksUrl }] }),
      deps(),
    );
    const before = jwksFetches;
    for (let i = 0; i < 3; i++) {
      const token = await new SignJWT({ sub: 'alice-app', scope: 'daml_ledger_api' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign(rsaPrivate);
      expect((await auth.authenticate(`Bearer ${token}`)).userId).toBe('alice-app');
    }
    expect(jwksFetches - before).toBe(1);
  });

  it("verifies an identity provider's tokens with its JWKS and keeps its users apart", async () => {
    fresh();
    const issuer = 'https://idp.example';
    await store.createIdentityProvider({
      identityProviderId: 'idp1',
      isDeactivated: false,
      jwksUrl,
      issuer,
      audience: '',
    });
    await store.createUser(
      { id: 'idp-user', primaryParty: '', isDeactivated: false, annotations: {}, identityProviderId: 'idp1' },
      [{ kind: 'IdentityProviderAdmin' }],
    );
    const auth = await createAuthenticator(
      config({ 'auth-services': [{ type: 'unsafe-jwt-hmac-256', secret: SECRET }] }),
      deps(),
    );
    const sign = (sub: string) =>
      new SignJWT({ sub, iss: issuer, scope: 'daml_ledger_api' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign(rsaPrivate);
    const claims = await auth.authenticate(`Bearer ${await sign('idp-user')}`);
    expect(claims).toMatchObject({
      userId: 'idp-user',
      identityProviderId: 'idp1',
      identityProviderAdmin: true,
    });
    // A default-provider user cannot log in through the identity provider, nor the other way round.
    expect((await failure(auth.authenticate(`Bearer ${await sign('alice-app')}`))).message).toContain(
      'another identity provider',
    );
    const viaDefault = await failure(auth.authenticate(`Bearer ${await hs256({ sub: 'idp-user', aud })}`));
    expect(viaDefault.message).toContain('another identity provider');
    // A deactivated provider's tokens are not accepted.
    await store.updateIdentityProvider({ identityProviderId: 'idp1', isDeactivated: true });
    expect((await failure(auth.authenticate(`Bearer ${await sign('idp-user')}`))).code).toBe(
      CommonErrors.UNAUTHENTICATED.code,
    );
  });
});
