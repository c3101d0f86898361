/**
 * The trigger service's side of Daml's auth middleware protocol: ask `/auth` whether the request's credentials (its
 * cookie or bearer token, forwarded) satisfy the claims a trigger needs, build the `/login` URL a browser is sent
 * to, and `/refresh` a trigger's token before it expires.
 */
import { decodeJwt } from 'jose';
import { CommonErrors, WeftError } from '../errors/index.js';
import type { Clock } from '../time/index.js';

export interface MiddlewareTokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
}

export interface AuthMiddlewareClientOptions {
  /** Where this service calls the middleware. */
  readonly url: string;
  /** Where browsers reach the middleware's /login. */
  readonly publicUrl: string;
  /** This service's `/cb`, as browsers reach it. */
  readonly callbackUrl: string;
  readonly clock: Clock;
}

/** Daml's claims syntax: space-separated `actAs:P`, `readAs:P`, `admin`, `applicationId:A`. */
export function claimsOf(party: string, applicationId: string | undefined): string {
  return applicationId === undefined ? `actAs:${party}` : `actAs:${party} applicationId:${applicationId}`;
}

/** The middleware's answer (Daml's `{"access_token": …, "refresh_token": …}`). */
function tokensOf(json: unknown): MiddlewareTokens {
  const t = json as { access_token?: unknown; refresh_token?: unknown };
  if (typeof t.access_token !== 'string') {
    throw new WeftError(CommonErrors.UNAVAILABLE, 'the auth middleware answered no access_token');
  }
  return {
    accessToken: t.access_token,
    ...(typeof t.refresh_token === 'string' ? { refreshToken: t.refresh_token } : {}),
  };
}

/** A token is refreshed this long before it expires, so that a session never starts with a dying one. */
const REFRESH_MARGIN_MS = 30_000;

export class AuthMiddlewareClient {
  constructor(private readonly o: AuthMiddlewareClientOptions) {}

  /** The tokens `/auth` answers for the forwarded credentials, or undefined when they do not satisfy `claims`. */
  async auth(
    claims: string,
    headers: { cookie?: string; authorization?: string },
  ): Promise<MiddlewareTokens | undefined> {
    const forwarded: Record<string, string> = {};
    if (headers.cookie) forwarded.cookie = headers.cookie;
    if (headers.authorization) forwarded.authorization = headers.authorization;
    const r = await this.#call(`/auth?claims=${encodeURIComponent(claims)}`, { headers: forwarded });
    if (r.status === 401 || r.status === 403) return undefined;
    if (!r.ok) throw this.#unavailable(`/auth answered ${r.status}`);
    return tokensOf(await r.json());
  }

  /** The middleware's login for `claims`, back to this service's `/cb` with `state` when a request waits for it. */
  loginUrl(claims: string, state: string | undefined): string {
    const u = new URL('/login', this.o.publicUrl);
    u.searchParams.set('claims', claims);
    if (state !== undefined) {
      u.searchParams.set('redirect_uri', this.o.callbackUrl);
      u.searchParams.set('state', state);
    }
    return u.toString();
  }

  /** The tokens to run with now: `current` while it is valid long enough, else refreshed (or an error). */
  async fresh(current: MiddlewareTokens): Promise<MiddlewareTokens> {
    const exp = decodeJwt(current.accessToken).exp;
    const nowMs = Number(this.o.clock.now() / 1000n);
    if (exp === undefined || exp * 1000 - REFRESH_MARGIN_MS > nowMs) return current;
    if (current.refreshToken === undefined) {
      throw new WeftError(
        CommonErrors.UNAUTHENTICATED,
        'the trigger token expired and there is no refresh token; start the trigger again after logging in',
      );
    }
    const r = await this.#call('/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refreshToken }),
    });
    if (!r.ok) {
      throw new WeftError(
        CommonErrors.UNAUTHENTICATED,
        `the middleware refused to refresh the trigger token (${r.status}: ${await r.text()})`,
      );
    }
    return tokensOf(await r.json());
  }

  async #call(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.o.url), init);
    } catch (e) {
      throw this.#unavailable((e as Error).message);
    }
  }

  #unavailable(why: string): WeftError {
    return new WeftError(
      CommonErrors.UNAVAILABLE,
      `the auth middleware at ${this.o.url} is unavailable: ${why}`,
    );
  }
}
