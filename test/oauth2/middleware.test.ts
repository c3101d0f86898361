/**
 * The OAuth2 middleware against a real OpenID provider (oidc-provider on loopback), with a participant whose Ledger
 * API verifies the provider's tokens through its JWKS, driven through a real headless Chromium (Debian's chromium,
 * installed when missing): the browser starts a trigger at the trigger service, is sent to log in at the provider,
 * comes back and the trigger runs with the user's token and acts. Then the refusals: no or forged token, a claim
 * the user lacks, an open redirect, a forged callback state, a bad refresh token.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as autoAcceptPackage from '../../examples/triggers/token-auto-accept.js';
import { systemRandom } from '../../src/crypto/index.js';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { LedgerApiClient } from '../../src/ledger-api/index.js';
import { OAuth2Middleware, oauth2MiddlewareSettings } from '../../src/oauth2/index.js';
import { createLogger } from '../../src/observability/index.js';
import { tokenCommands } from '../../src/participant/testing.js';
import { type Clock, ManualClock, systemClock } from '../../src/time/index.js';
import { AuthMiddlewareClient, TriggerService, triggerServiceSettings } from '../../src/triggers/index.js';
import { freePort } from '../synchronizer/processes.js';
import {
  createdIn,
  eventually,
  type LedgerNetwork,
  ledgerNetwork,
  mintAndOffer,
  succeeded,
} from '../triggers/network.js';
import { launchChromium } from './chromium.js';
import { startProvider, type TestProvider } from './provider.js';

const RESOURCE = 'https://weft.test/ledger-api';
const ADMIN_SECRET = 'operator-secret-for-user-setup';
const USER = 'bob-user';

let provider: TestProvider;
let network: LedgerNetwork;
let middleware: OAuth2Middleware;
let service: TriggerService;
let admin: string;
let alice: string;
let bob: string;
let rules: string;
const logger = createLogger({ level: 'silent' });

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers, redirect: 'manual' });
  const text = await r.text();
  return {
    status: r.status,
    location: r.headers.get('location'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

beforeAll(async () => {
  const [middlewarePort, servicePort] = [await freePort(), await freePort()];
  const middlewareUrl = `http://127.0.0.1:${middlewarePort}`;
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  provider = await startProvider({
    clientId: 'weft-middleware',
    clientSecret: 'middleware-secret',
    redirectUri: `${middlewareUrl}/cb`,
    resource: RESOURCE,
  });
  network = await ledgerNetwork('oauth2-middleware', {
    dars: [TOKEN_DAR],
    auth: {
      'auth-services': [
        { type: 'jwt-jwks', url: provider.jwksUri, 'target-audience': RESOURCE },
        // The operator's own tokens, to create the user the provider logs in.
        { type: 'unsafe-jwt-hmac-256', secret: ADMIN_SECRET },
      ],
    },
  });
  const [p1, p2] = network.nodes as [(typeof network.nodes)[0], (typeof network.nodes)[0]];
  admin = await p1.allocateParty('admin');
  alice = await p1.allocateParty('alice');
  bob = await p2.allocateParty('bob');
  rules = (
    await createdIn(
      p1,
      admin,
      succeeded(
        await p1.submit({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' }),
      ).updateId!,
    )
  )[0]!;
  const operator = await new SignJWT({ scope: 'daml_ledger_api' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('participant_admin')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(ADMIN_SECRET));
  const c = new LedgerApiClient(network.urls[1]!, { token: operator });
  try {
    await c.unary(c.users, c.users.createUser, {
      user: { id: USER, primaryParty: bob, isDeactivated: false, identityProviderId: '' },
      rights: [
        { kind: { oneofKind: 'canActAs', canActAs: { party: bob } } },
        { kind: { oneofKind: 'canReadAs', canReadAs: { party: bob } } },
      ],
    });
  } finally {
    c.close();
  }
  middleware = await OAuth2Middleware.start({
    config: oauth2MiddlewareSettings({
      port: middlewarePort,
      issuer: provider.issuer,
      'client-id': 'weft-middleware',
      'client-secret': 'middleware-secret',
      'callback-uri': `${middlewareUrl}/cb`,
      'allowed-redirect-uris': [`${serviceUrl}/cb`],
      resource: RESOURCE,
      'ledger-api': network.urls[1],
      'cookie-secure': false,
    }),
    clock: systemClock,
    random: systemRandom,
    logger,
  });
  service = await TriggerService.start({
    config: triggerServiceSettings({
      port: servicePort,
      'ledger-api': network.urls[1],
      storage: { type: 'sqlite', file: ':memory:' },
      'auth-middleware': { url: middlewareUrl, 'callback-url': `${serviceUrl}/cb` },
    }),
    clock: systemClock,
    random: systemRandom,
    logger,
    modules: { 'token-auto-accept': autoAcceptPackage },
  });
}, 180_000);

afterAll(async () => {
  await service?.close();
  await middleware?.close();
  await network?.close();
  await provider?.close();
});

describe('OAuth2 middleware', () => {
  it('logs a user in through Chromium, starts a trigger with its token, and refuses bad credentials', async () => {
    const browser = await launchChromium();
    let cookie: string;
    try {
      const page = await browser.context.newPage();
      // A browser form starting a trigger: the service sends it to log in, then resumes the start.
      await page.setContent(
        `<form method="post" action="${service.url}/v1/triggers">
           <input name="triggerName" value="token-auto-accept:autoAccept">
           <input name="party" value="${bob}">
           <button id="start" type="submit">start</button>
         </form>`,
      );
      await page.click('#start');
      await page.waitForURL((u) => u.href.startsWith(provider.issuer));
      await page.fill('input[name=login]', USER);
      await page.fill('input[name=password]', 'any');
      await page.click('button[type=submit]');
      await page.waitForSelector('button[type=submit]');
      await page.click('button[type=submit]');
      await page.waitForURL((u) => u.href.startsWith(`${service.url}/cb`));
      const answer = JSON.parse((await page.textContent('body')) ?? '') as { result: { triggerId: string } };
      const triggerId = answer.result.triggerId;
      const cookies = await browser.context.cookies(middleware.url);
      const tokenCookie = cookies.find((c) => c.name === 'daml-ledger-token')!;
      expect(tokenCookie.httpOnly).toBe(true);
      cookie = `${tokenCookie.name}=${tokenCookie.value}`;

      // The trigger runs as bob with bob-user's token: an offer from alice (on the other participant) is accepted.
      await mintAndOffer(network.nodes[0]!, {
        admin,
        sender: alice,
        receiver: bob,
        rules,
        amount: '12.0',
        tag: 'browser',
      });
      await eventually(async () => {
        const s = await get(`${service.url}/v1/triggers/${triggerId}`, { cookie });
        const r = s.body.result as {
          submitted: number;
          inFlight: number;
          rejected: number;
          applicationId: string;
        };
        return r.submitted === 1 && r.inFlight === 0 ? r : undefined;
      }, 'the trigger to accept the offer');
      const bobsTokens = await eventually(async () => {
        const { contracts } = await network.nodes[1]!.activeContracts(bob);
        const tokens = contracts.filter((c) => c.contract.templateId.name.join('.') === 'Token');
        return tokens.length === 1 ? tokens : undefined;
      }, 'bob to hold the token');
      expect(bobsTokens).toHaveLength(1);
      const status = (await get(`${service.url}/v1/triggers/${triggerId}`, { cookie })).body.result as Record<
        string,
        unknown
      >;
      expect(status).toMatchObject({ status: 'running', party: bob, applicationId: USER, rejected: 0 });
    } finally {
      await browser.close();
    }

    // /auth: the cookie satisfies bob's claims, not alice's; no token and a forged one are refused.
    const claims = (c: string) => `${middleware.url}/auth?claims=${encodeURIComponent(c)}`;
    const ok = await get(claims(`actAs:${bob} applicationId:${USER}`), { cookie });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.access_token).toBe('string');
    expect((await get(claims(`actAs:${alice}`), { cookie })).body.error_description).toMatch(
      /^OAUTH2_UNAUTHORIZED.*does not have the claim actAs:alice/,
    );
    expect((await get(claims(`actAs:${bob}`))).status).toBe(401);
    const forged = await new SignJWT({ scope: 'daml_ledger_api', aud: RESOURCE })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(USER)
      .setIssuer(provider.issuer)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('not the provider key'));
    const refused = await get(claims(`actAs:${bob}`), { authorization: `Bearer ${forged}` });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('OAUTH2_UNAUTHORIZED');
    expect((await get(claims('actAs'))).body.error).toBe('OAUTH2_INVALID_CLAIMS');

    // /login refuses an open redirect; /cb refuses a forged state.
    const open = await get(
      `${middleware.url}/login?claims=actAs:${encodeURIComponent(bob)}&redirect_uri=${encodeURIComponent('http://127.0.0.1.evil.example/cb')}&state=x`,
    );
    expect([open.status, open.body.error]).toEqual([400, 'OAUTH2_REDIRECT_NOT_ALLOWED']);
    const login = await get(
      `${middleware.url}/login?claims=actAs:${encodeURIComponent(bob)}&redirect_uri=${encodeURIComponent(`${service.url}/cb`)}&state=x`,
    );
    expect(login.status).toBe(302);
    expect(login.location).toMatch(new RegExp(`^${provider.issuer}/auth\\?.*code_challenge_method=S256`));
    const forgedState = await get(`${middleware.url}/cb?code=stolen&state=forged`);
    expect([forgedState.status, forgedState.body.error]).toEqual([400, 'OAUTH2_LOGIN_STATE_UNKNOWN']);

    // /refresh: a real refresh token gives a fresh access token; a bad one is refused.
    const refreshToken = ok.body.refresh_token as string;
    expect(typeof refreshToken).toBe('string');
    const refresh = (token: string) =>
      fetch(`${middleware.url}/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      });
    const refreshed = await refresh(refreshToken);
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token?: string };
    expect(typeof next.access_token).toBe('string');
    // The trigger service's client keeps a token valid long enough, and refreshes one about to expire (seen from a
    // clock 20 minutes ahead of the token's 10-minute lifetime).
    const current = { accessToken: next.access_token, refreshToken: next.refresh_token ?? refreshToken };
    const clientAt = (clock: Clock) =>
      new AuthMiddlewareClient({
        url: middleware.url,
        publicUrl: middleware.url,
        callbackUrl: `${service.url}/cb`,
        clock,
      });
    expect(await clientAt(systemClock).fresh(current)).toBe(current);
    const renewed = await clientAt(new ManualClock(systemClock.now() + 20n * 60n * 1_000_000n)).fresh(
      current,
    );
    expect(renewed.accessToken).not.toBe(current.accessToken);
    const used = await refresh(refreshToken);
    expect(used.status).toBe(401);
    expect(((await used.json()) as { error_description: string }).error_description).toMatch(
      /^OAUTH2_LOGIN_FAILED.*refused the refresh token/,
    );
    const badRefresh = await refresh('not-a-refresh-token');
    expect(badRefresh.status).toBe(401);
    expect(((await badRefresh.json()) as { error: string }).error).toBe('OAUTH2_LOGIN_FAILED');

    // The trigger service without credentials: 401 naming the login URL (a non-browser client is not redirected).
    const unauthenticated = await fetch(`${service.url}/v1/triggers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ triggerName: 'token-auto-accept:autoAccept', party: bob }),
    });
    expect(unauthenticated.status).toBe(401);
    const body = (await unauthenticated.json()) as { errors: string[]; login: string };
    expect(body.errors[0]).toMatch(/^TRIGGER_AUTH_REQUIRED/);
    expect(body.login.startsWith(`${middleware.url}/login?`)).toBe(true);
    expect((await get(`${middleware.url}/livez`)).body).toEqual({ status: 'pass' });
  });
});
