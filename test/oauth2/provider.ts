/**
 * A real OpenID provider for the tests (`oidc-provider`, on loopback): its development login and consent pages
 * (any login name is a user; the password is not checked), authorization code with PKCE, refresh tokens, and
 * access tokens as RS256 JWTs for one resource (RFC 8707) with the Ledger API scope, signed with a key published
 * at its JWKS URI.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientLike } from 'oidc-provider';
import { freePort } from '../synchronizer/processes.js';

export interface TestProvider {
  readonly issuer: string;
  readonly jwksUri: string;
  close(): Promise<void>;
}

export async function startProvider(o: {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** The resource (token audience) the participant expects. */
  readonly resource: string;
}): Promise<TestProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: o.clientId,
        client_secret: o.clientSecret,
        redirect_uris: [o.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['weft-test-cookie-key'] },
    pkce: { required: () => true },
    scopes: ['openid', 'daml_ledger_api'],
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => o.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== o.resource) throw new Error(`unknown resource ${resource}`);
          return {
            scope: 'daml_ledger_api',
            audience: o.resource,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // Any login name is an account whose subject is that name (the users the participant knows by id).
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, RefreshToken: 3600, IdToken: 600 },
    // Each refresh replaces the refresh token: a used one is refused (as an expired one is).
    rotateRefreshToken: true,
    // Refresh tokens for every client allowed the grant (not only with offline_access).
    issueRefreshToken: async (_ctx: unknown, client: ClientLike) => client.grantTypeAllowed('refresh_token'),
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider', err));
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
