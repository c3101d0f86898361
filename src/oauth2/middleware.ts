/**
 * The OAuth2 middleware: Daml's auth middleware API in front of an OpenID provider. `/login` starts an
 * authorization-code flow with PKCE at the provider for the requested claims, `/cb` completes it, stores the
 * provider's tokens in a cookie and sends the browser back to the application; `/auth` tells an application
 * whether the credentials it forwards (that cookie, or a bearer token) satisfy the claims it needs, answering the
 * tokens when they do; `/refresh` trades a refresh token for fresh tokens; `/livez` answers liveness.
 *
 * The tokens are the provider's own access tokens (JWTs): the participant verifies them with the provider's JWKS,
 * and the user they name (`sub`) holds rights on the participant. `/auth` checks a token's signature, issuer and
 * expiry with the same keys, then the requested claims against the user's rights, read from the participant with
 * the token itself (a user may read its own rights).
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { RandomSource } from '../crypto/index.js';
import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import { isLoopback } from '../grpc/index.js';
import { LedgerApiClient } from '../ledger-api/index.js';
import type { Logger } from '../observability/index.js';
import type { Clock } from '../time/index.js';
import { type LedgerClaims, missingClaim, parseClaims, type UserRights } from './claims.js';
import type { OAuth2MiddlewareConfig } from './config.js';
import { OAuth2Errors } from './errors.js';

export interface OAuth2MiddlewareOptions {
  readonly config: OAuth2MiddlewareConfig;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
}

/** Daml's token answer (`/auth`, `/refresh`). */
interface TokenAnswer {
  readonly access_token: string;
  readonly refresh_token?: string;
}

interface PendingLogin {
  readonly verifier: string;
  readonly redirectUri: string | undefined;
  readonly clientState: string | undefined;
  readonly expiresAtMs: number;
}

const base64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function weftErrorOf(e: unknown): WeftError {
  if (isWeftError(e)) return e;
  const status = (e as { statusCode?: number }).statusCode;
  return status !== undefined && status < 500
    ? new WeftError(CommonErrors.INVALID_ARGUMENT, (e as Error).message)
    : new WeftError(CommonErrors.INTERNAL, (e as Error).message);
}

export class OAuth2Middleware {
  readonly #pending = new Map<string, PendingLogin>();
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;
  #app: FastifyInstance | undefined;
  #url = '';

  private constructor(
    private readonly o: OAuth2MiddlewareOptions,
    private readonly provider: oidc.Configuration,
  ) {
    const jwksUri = provider.serverMetadata().jwks_uri;
    if (jwksUri === undefined) {
      throw new WeftError(
        CommonErrors.FAILED_PRECONDITION,
        `the OpenID provider ${o.config.issuer} publishes no jwks_uri`,
      );
    }
    this.#jwks = createRemoteJWKSet(new URL(jwksUri));
  }

  /** Discovers the provider, then serves the API. */
  static async start(o: OAuth2MiddlewareOptions): Promise<OAuth2Middleware> {
    const { config } = o;
    const issuer = new URL(config.issuer);
    let provider: oidc.Configuration;
    try {
      provider = await oidc.discovery(
        issuer,
        config.clientId,
        config.clientSecret,
        config.clientSecret === undefined ? oidc.None() : undefined,
        // Plain HTTP to the provider only on loopback (a provider started next to the middleware, or tests).
        isLoopback(issuer.hostname.replace(/^\[|\]$/g, '')) ? { execute: [oidc.allowInsecureRequests] } : {},
      );
    } catch (e) {
      throw new WeftError(
        CommonErrors.UNAVAILABLE,
        `the OpenID provider ${config.issuer} could not be discovered: ${(e as Error).message}`,
      );
    }
    const m = new OAuth2Middleware(o, provider);
    await m.#listen();
    return m;
  }

  get url(): string {
    return this.#url;
  }

  async close(): Promise<void> {
    await this.#app?.close();
  }

  #nowMs(): number {
    return Number(this.o.clock.now() / 1000n);
  }

  #redirectAllowed(uri: string): boolean {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return this.o.config.allowedRedirectUris.some((prefix) => url.href.startsWith(new URL(prefix).href));
  }

  #extraParameters(): Record<string, string> {
    return this.o.config.resource === undefined ? {} : { resource: this.o.config.resource };
  }

  /** The user of a valid token from the provider; OAUTH2_UNAUTHORIZED otherwise. */
  async #verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, this.#jwks, {
        issuer: this.provider.serverMetadata().issuer,
        currentDate: new Date(this.#nowMs()),
        ...(this.o.config.resource === undefined ? {} : { audience: this.o.config.resource }),
      });
      if (typeof payload.sub !== 'string') throw new Error('the token names no user (sub)');
      return payload.sub;
    } catch (e) {
      throw new WeftError(
        OAuth2Errors.OAUTH2_UNAUTHORIZED,
        `the token is not valid: ${(e as Error).message}`,
      );
    }
  }

  /** The user's rights, read from the participant with the user's own token. */
  async #rights(userId: string, token: string): Promise<UserRights> {
    const c = new LedgerApiClient(this.o.config.ledgerApi, { token });
    try {
      const { rights } = await c.unary(c.users, c.users.listUserRights, { userId, identityProviderId: '' });
      const actAs = new Set<string>();
      const readAs = new Set<string>();
      let admin = false;
      let readAsAnyParty = false;
      for (const { kind: k } of rights) {
        if (k.oneofKind === 'participantAdmin') admin = true;
        else if (k.oneofKind === 'canActAs') actAs.add(k.canActAs.party);
        else if (k.oneofKind === 'canReadAs') readAs.add(k.canReadAs.party);
        else if (k.oneofKind === 'canReadAsAnyParty') readAsAnyParty = true;
      }
      return { admin, actAs, readAs, readAsAnyParty };
    } catch (e) {
      throw new WeftError(
        OAuth2Errors.OAUTH2_UNAUTHORIZED,
        `the participant did not tell the rights of user ${userId}: ${(e as Error).message}`,
      );
    } finally {
      c.close();
    }
  }

  /** The tokens of the request (cookie, else bearer header) when they satisfy `claims`; throws why not. */
  async #authorize(req: FastifyRequest, claims: LedgerClaims): Promise<TokenAnswer> {
    const cookie = cookieValue(req.headers.cookie, this.o.config.cookieName);
    let tokens: TokenAnswer | undefined;
    if (cookie !== undefined) {
      try {
        tokens = JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8')) as TokenAnswer;
      } catch {
        tokens = undefined;
      }
    } else if (req.headers.authorization?.startsWith('Bearer ')) {
      tokens = { access_token: req.headers.authorization.slice('Bearer '.length) };
    }
    if (tokens === undefined || typeof tokens.access_token !== 'string') {
      throw new WeftError(
        OAuth2Errors.OAUTH2_UNAUTHORIZED,
        'the request carries no token; log in through /login',
      );
    }
    const userId = await this.#verify(tokens.access_token);
    const missing = missingClaim(claims, userId, await this.#rights(userId, tokens.access_token));
    if (missing !== undefined) {
      throw new WeftError(
        OAuth2Errors.OAUTH2_UNAUTHORIZED,
        `user ${userId} does not have the claim ${missing}`,
        {
          userId,
        },
      );
    }
    return tokens;
  }

  async #listen(): Promise<void> {
    const { config } = this.o;
    const app = Fastify({ bodyLimit: 64 * 1024 });
    this.#app = app;
    app.setErrorHandler((e, _req, reply) => {
      const error = weftErrorOf(e);
      if (error.httpStatus >= 500) this.o.logger.error({ err: e }, 'oauth2 middleware request failed');
      return reply.code(error.httpStatus).send({ error: error.code, error_description: error.toString() });
    });

    app.get('/livez', async (_req, reply) => reply.send({ status: 'pass' }));

    app.get('/auth', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const tokens = await this.#authorize(req, parseClaims(q.claims ?? ''));
      return reply.send(tokens);
    });

    app.get('/login', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      parseClaims(q.claims ?? '');
      if (q.redirect_uri !== undefined && !this.#redirectAllowed(q.redirect_uri)) {
        throw new WeftError(
          OAuth2Errors.OAUTH2_REDIRECT_NOT_ALLOWED,
          `redirect_uri ${q.redirect_uri.slice(0, 200)} is not under an allowed redirect URI`,
        );
      }
      const now = this.#nowMs();
      for (const [k, p] of this.#pending) if (p.expiresAtMs <= now) this.#pending.delete(k);
      if (this.#pending.size >= config.maxPendingLogins) {
        throw new WeftError(
          CommonErrors.RESOURCE_EXHAUSTED,
          `${this.#pending.size} logins are in progress, the most allowed (max-pending-logins); retry later`,
        );
      }
      const state = base64url(this.o.random.bytes(24));
      const verifier = base64url(this.o.random.bytes(32));
      this.#pending.set(state, {
        verifier,
        redirectUri: q.redirect_uri,
        clientState: q.state,
        expiresAtMs: now + config.loginTimeoutMs,
      });
      const url = oidc.buildAuthorizationUrl(this.provider, {
        redirect_uri: config.callbackUri,
        scope: `openid ${config.scope}`,
        state,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ...this.#extraParameters(),
      });
      return reply.redirect(url.href, 302);
    });

    app.get('/cb', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const pending = q.state === undefined ? undefined : this.#pending.get(q.state);
      if (pending === undefined || pending.expiresAtMs <= this.#nowMs()) {
        throw new WeftError(
          OAuth2Errors.OAUTH2_LOGIN_STATE_UNKNOWN,
          'the callback names no login in progress (forged, used or expired state); log in again',
        );
      }
      this.#pending.delete(q.state!);
      const back = (params: Record<string, string>) => {
        if (pending.redirectUri === undefined) return undefined;
        const u = new URL(pending.redirectUri);
        for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
        if (pending.clientState !== undefined) u.searchParams.set('state', pending.clientState);
        return reply.redirect(u.href, 302);
      };
      let tokens: oidc.TokenEndpointResponse;
      try {
        if (q.error !== undefined)
          throw new Error(`${q.error}${q.error_description ? `: ${q.error_description}` : ''}`);
        tokens = await oidc.authorizationCodeGrant(
          this.provider,
          new URL(req.url, config.callbackUri),
          { pkceCodeVerifier: pending.verifier, expectedState: q.state! },
          this.#extraParameters(),
        );
      } catch (e) {
        const error = new WeftError(
          OAuth2Errors.OAUTH2_LOGIN_FAILED,
          `the login failed: ${(e as Error).message}`,
        );
        return (
          back({ error: 'access_denied', error_description: error.toString() }) ??
          reply.code(401).send({ error: error.code, error_description: error.toString() })
        );
      }
      const answer: TokenAnswer = {
        access_token: tokens.access_token,
        ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
      };
      reply.header('set-cookie', this.#cookie(answer));
      return back({}) ?? reply.send({ status: 'logged in' });
    });

    app.post('/refresh', async (req, reply) => {
      const body = req.body as { refresh_token?: unknown } | undefined;
      if (typeof body?.refresh_token !== 'string' || body.refresh_token === '') {
        throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'the request body needs refresh_token');
      }
      let tokens: oidc.TokenEndpointResponse;
      try {
        tokens = await oidc.refreshTokenGrant(this.provider, body.refresh_token, this.#extraParameters());
      } catch (e) {
        throw new WeftError(
          OAuth2Errors.OAUTH2_LOGIN_FAILED,
          `the provider refused the refresh token: ${(e as Error).message}`,
        );
      }
      return reply.send({
        access_token: tokens.access_token,
        ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
      });
    });

    this.#url = await app.listen({ host: config.address, port: config.port });
  }

  #cookie(tokens: TokenAnswer): string {
    const value = base64url(Buffer.from(JSON.stringify(tokens)));
    return `${this.o.config.cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax${this.o.config.cookieSecure ? '; Secure' : ''}`;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
