import { readFile } from 'node:fs/promises';
import {
  type CompactVerifyGetKey,
  compactVerify,
  createRemoteJWKSet,
  decodeJwt,
  importX509,
  type KeyInput,
  type RemoteJWKSet,
} from 'jose';
import { ConfigErrors } from '../../config/index.js';
import { CommonErrors, isWeftError, WeftError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import type { Clock } from '../../time/index.js';
import type { IdentityProviderConfig, UserChange, UserRight, UserStore } from '../users/index.js';
import { isUserId } from '../users/index.js';
import { WILDCARD_CLAIMS } from './checks.js';
import type { Claims } from './claims.js';
import type { AuthServiceConfig, LedgerApiAuthConfig } from './config.js';
import { LedgerApiAuthErrors } from './errors.js';
import { readTokenPayload, type TokenFormat, type TokenPayload, TokenPayloadError } from './jwt.js';

/** Who is calling, from the `authorization` metadata of a call, resolved against the participant's users. */
export interface Authenticator {
  /** False when no auth service is configured: every call gets the wildcard claims. */
  readonly enabled: boolean;
  /**
   * The claims of the caller. Throws UNAUTHENTICATED for a missing, malformed, badly signed, expired or foreign
   * token, PERMISSION_DENIED for an unknown or deactivated user or a token for another participant.
   */
  authenticate(authorization: string | undefined): Promise<Claims>;
  /**
   * Watches a stream opened with `claims` (Canton's ongoing authorization): calls `revoke` once, with
   * ACCESS_TOKEN_EXPIRED when the token expires, or STALE_STREAM_AUTHORIZATION when the user's rights change or
   * it is deactivated or deleted. Returns the function that stops watching (call it when the stream ends).
   */
  watchStream(claims: Claims, revoke: (error: WeftError) => void): () => void;
  /** Stops following the user store. */
  close(): void;
}

/** What the authenticator needs of the user store. */
export type AuthenticatorUsers = Pick<UserStore, 'lookup' | 'activeIdentityProviderByIssuer' | 'onChange'>;

export interface AuthenticatorDeps {
  /** The participant id as the Ledger API names it (`<name>::<namespace>`), which tokens may be bound to. */
  readonly participantId: string;
  readonly users: AuthenticatorUsers;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Users whose rights are cached between calls; changes through the store drop their entry at once. */
const USER_CACHE_SIZE = 1000;
/** How long a cached user is trusted without a change notification (a bound, should one be missed). */
const USER_CACHE_TTL_MS = 5_000;
/** Verified tokens remembered (clients reuse a token for many calls). */
const TOKEN_CACHE_SIZE = 1000;
/** Remote key sets of identity providers kept (providers are at most ten, but their URLs may change). */
const IDP_KEY_SETS = 100;
/** Longest delay a Node timer holds (about 24.8 days); longer ones would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;
/** How long a JWKS endpoint is not asked again after a fetch, even for an unknown key id. */
const JWKS_COOLDOWN_MS = 30_000;

interface Verifier {
  readonly describe: string;
  readonly key: KeyInput | CompactVerifyGetKey;
  readonly algorithms: string[];
  readonly format: TokenFormat;
  readonly maxLifetimeMs: number | undefined;
}

/** Why one verifier refused a token; `signed` when the signature was good and the payload was not. */
interface Rejection {
  readonly rejected: string;
  readonly signed: boolean;
}

/** A token that passed a verifier, with what its time checks need. */
interface VerifiedToken {
  readonly user: AuthenticatedUser;
  readonly raw: Record<string, unknown>;
  readonly maxLifetimeMs: number | undefined;
}

interface AuthenticatedUser {
  readonly payload: TokenPayload;
  /** The identity provider whose keys verified the token ('' = the configured auth services). */
  readonly identityProviderId: string;
}

/** A cached user look-up (undefined: no such user) and when it was made (ms). */
interface Resolved {
  readonly user: Awaited<ReturnType<AuthenticatorUsers['lookup']>>;
  readonly at: number;
}

function unauthenticated(reason: string): WeftError {
  return new WeftError(CommonErrors.UNAUTHENTICATED, `The command is missing a (valid) JWT token: ${reason}`);
}

function denied(reason: string): WeftError {
  return new WeftError(
    CommonErrors.PERMISSION_DENIED,
    `The provided authorization token is not sufficient to authorize the intended command: ${reason}`,
  );
}

function formatOf(c: AuthServiceConfig): TokenFormat {
  if (c.targetAudience !== undefined) return { kind: 'audience', audience: c.targetAudience };
  if (c.targetScope !== undefined) return { kind: 'scope', scope: c.targetScope };
  return { kind: 'standard' };
}

async function verifierOf(
  c: AuthServiceConfig,
  index: number,
  config: LedgerApiAuthConfig,
): Promise<Verifier> {
  const common = { format: formatOf(c), maxLifetimeMs: c.maxTokenLifetimeMs ?? config.maxTokenLifetimeMs };
  const path = `ledger-api.auth-services[${index}]`;
  switch (c.type) {
    case 'unsafe-jwt-hmac-256':
      return { ...common, describe: 'HS256', key: new TextEncoder().encode(c.secret), algorithms: ['HS256'] };
    case 'jwt-jwks':
      return {
        ...common,
        describe: `JWKS ${c.url}`,
        key: remoteKeySet(c.url, `${path}.url`, config),
        algorithms: ['RS256', 'ES256', 'ES512'],
      };
    default: {
      const alg = { 'jwt-rs-256': 'RS256', 'jwt-es-256': 'ES256', 'jwt-es-512': 'ES512' }[c.type];
      let pem: string;
      try {
        pem = await readFile(c.certificate, 'utf8');
      } catch (e) {
        throw new WeftError(
          ConfigErrors.CONFIG_INVALID,
          `${path}.certificate: cannot read ${c.certificate}: ${(e as Error).message}`,
        );
      }
      try {
        return {
          ...common,
          describe: `${alg} certificate`,
          key: await importX509(pem, alg),
          algorithms: [alg],
        };
      } catch (e) {
        throw new WeftError(
          ConfigErrors.CONFIG_INVALID,
          `${path}.certificate: ${c.certificate} is not a PEM X.509 certificate with an ${alg} key: ${(e as Error).message}`,
        );
      }
    }
  }
}

function remoteKeySet(url: string, path: string, config: LedgerApiAuthConfig): RemoteJWKSet {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WeftError(ConfigErrors.CONFIG_INVALID, `${path}: '${url}' is not a URL`);
  }
  return createRemoteJWKSet(parsed, {
    timeoutDuration: config.jwksTimeoutMs,
    cacheMaxAge: config.jwksCacheMaxAgeMs,
    cooldownDuration: JWKS_COOLDOWN_MS,
  });
}

const BEARER = /^Bearer (.+)$/;

/**
 * The Ledger API's authenticator for `config` (Canton's JWT auth services, identity provider configs and user
 * based claims): tokens verified by a configured auth service belong to the default identity provider; a token
 * whose `iss` is an active identity provider config's issuer is verified with that provider's JWKS.
 */
export async function createAuthenticator(
  config: LedgerApiAuthConfig,
  deps: AuthenticatorDeps,
): Promise<Authenticator> {
  if (config.authServices.length === 0) {
    return {
      enabled: false,
      authenticate: async () => WILDCARD_CLAIMS,
      watchStream: () => () => {},
      close() {},
    };
  }
  const verifiers = await Promise.all(config.authServices.map((c, i) => verifierOf(c, i, config)));
  return new JwtAuthenticator(config, verifiers, deps);
}

class JwtAuthenticator implements Authenticator {
  readonly enabled = true;
  readonly #users = new Map<string, Resolved>();
  readonly #idpKeys = new Map<string, RemoteJWKSet>();
  /** Tokens whose signature and payload were checked, so a client's next call with one skips the cryptography. */
  readonly #tokens = new Map<string, VerifiedToken>();
  readonly #watchers = new Set<(change: UserChange) => void>();
  readonly #unsubscribe: () => void;
  readonly #leeway: { exp: number; nbf: number; iat: number };

  constructor(
    private readonly config: LedgerApiAuthConfig,
    private readonly verifiers: readonly Verifier[],
    private readonly deps: AuthenticatorDeps,
  ) {
    const l = config.jwtTimestampLeeway;
    this.#leeway = {
      exp: l.expiresAt ?? l.default ?? 0,
      nbf: l.notBefore ?? l.default ?? 0,
      iat: l.issuedAt ?? l.default ?? 0,
    };
    this.#unsubscribe = deps.users.onChange((change) => {
      if ('userId' in change) this.#users.delete(change.userId);
      else {
        // Tokens of identity providers are valid only while their provider is.
        this.#idpKeys.clear();
        this.#tokens.clear();
      }
      for (const w of this.#watchers) w(change);
    });
  }

  close(): void {
    this.#unsubscribe();
    this.#users.clear();
    this.#tokens.clear();
  }

  #nowMs(): number {
    return Number(this.deps.clock.now() / 1000n);
  }

  async authenticate(authorization: string | undefined): Promise<Claims> {
    if (authorization === undefined || authorization === '') throw unauthenticated('no authorization header');
    const token = BEARER.exec(authorization)?.[1]?.trim();
    if (token === undefined) throw unauthenticated("the authorization header is not 'Bearer <token>'");
    let verified = this.#tokens.get(token);
    if (verified === undefined) {
      verified = await this.#verify(token);
      if (this.#tokens.size >= TOKEN_CACHE_SIZE)
        this.#tokens.delete(this.#tokens.keys().next().value as string);
      this.#tokens.set(token, verified);
    } else {
      // A token verified before: its signature holds, its times are checked anew.
      const problem = this.#timeProblem(verified.raw, verified.user.payload, verified.maxLifetimeMs);
      if (problem !== undefined) throw unauthenticated(problem);
    }
    return this.#resolve(verified.user);
  }

  /** The token verified by a configured auth service or by its issuer's identity provider. */
  async #verify(token: string): Promise<VerifiedToken> {
    const rejections: Rejection[] = [];
    for (const v of this.verifiers) {
      const result = await this.#verifyWith(token, v);
      if (!('rejected' in result)) {
        const user = { payload: result.payload, identityProviderId: '' };
        return { user, raw: result.raw, maxLifetimeMs: v.maxLifetimeMs };
      }
      rejections.push(result);
    }
    let issuer: string | undefined;
    try {
      const iss = decodeJwt(token).iss;
      issuer = typeof iss === 'string' ? iss : undefined;
    } catch {
      // Not a JWT at all: the verifiers' reasons say so.
    }
    const idp =
      issuer === undefined ? undefined : await this.deps.users.activeIdentityProviderByIssuer(issuer);
    if (idp !== undefined) {
      const v = this.#idpVerifier(idp);
      const result = await this.#verifyWith(token, v);
      if (!('rejected' in result)) {
        const user = { payload: result.payload, identityProviderId: idp.identityProviderId };
        return { user, raw: result.raw, maxLifetimeMs: v.maxLifetimeMs };
      }
      rejections.push(result);
    }
    // Why a correctly signed token is refused is what helps; otherwise each verifier's reason.
    const signed = rejections.find((r) => r.signed);
    throw unauthenticated(signed?.rejected ?? rejections.map((r) => r.rejected).join('; '));
  }

  #idpVerifier(idp: IdentityProviderConfig): Verifier {
    let key = this.#idpKeys.get(idp.jwksUrl);
    if (key === undefined) {
      key = remoteKeySet(idp.jwksUrl, `identity provider ${idp.identityProviderId} jwks_url`, this.config);
      if (this.#idpKeys.size >= IDP_KEY_SETS)
        this.#idpKeys.delete(this.#idpKeys.keys().next().value as string);
      this.#idpKeys.set(idp.jwksUrl, key);
    }
    return {
      describe: `identity provider ${idp.identityProviderId}`,
      key,
      algorithms: ['RS256', 'ES256', 'ES512'],
      format: idp.audience === '' ? { kind: 'standard' } : { kind: 'audience', audience: idp.audience },
      maxLifetimeMs: this.config.maxTokenLifetimeMs,
    };
  }

  /** The token's payload if `v` accepts it, else why not. */
  async #verifyWith(
    token: string,
    v: Verifier,
  ): Promise<{ payload: TokenPayload; raw: Record<string, unknown> } | Rejection> {
    let bytes: Uint8Array;
    try {
      bytes = (await compactVerify(token, v.key, { algorithms: v.algorithms })).payload;
    } catch (e) {
      return { rejected: `${v.describe}: ${(e as Error).message}`, signed: false };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      raw = undefined;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return { rejected: 'the token payload is not a JSON object', signed: true };
    }
    const claims = raw as Record<string, unknown>;
    try {
      const payload = readTokenPayload(claims, v.format);
      const problem = this.#timeProblem(claims, payload, v.maxLifetimeMs);
      return problem === undefined ? { payload, raw: claims } : { rejected: problem, signed: true };
    } catch (e) {
      if (e instanceof TokenPayloadError) return { rejected: e.message, signed: true };
      throw e;
    }
  }

  /** `exp`, `nbf` and `iat` against the clock with Canton's leeways, and the lifetime limit. */
  #timeProblem(
    raw: Record<string, unknown>,
    payload: TokenPayload,
    maxLifetimeMs: number | undefined,
  ): string | undefined {
    const now = this.#nowMs() / 1000;
    const iso = (s: number) => new Date(s * 1000).toISOString();
    if (payload.exp !== undefined && now >= payload.exp + this.#leeway.exp) {
      return `the token expired at ${iso(payload.exp)}`;
    }
    const nbf = raw.nbf;
    if (typeof nbf === 'number' && now < nbf - this.#leeway.nbf)
      return `the token is not valid before ${iso(nbf)}`;
    const iat = raw.iat;
    if (typeof iat === 'number' && now < iat - this.#leeway.iat)
      return `the token is issued in the future (${iso(iat)})`;
    if (maxLifetimeMs !== undefined) {
      if (payload.exp === undefined)
        return 'the token has no expiration time, which max-token-lifetime requires';
      if (payload.exp * 1000 - now * 1000 > maxLifetimeMs) {
        return `the token lifetime (until ${iso(payload.exp)}) is longer than max-token-lifetime (${maxLifetimeMs} ms)`;
      }
    }
    return undefined;
  }

  /** Canton's user-based claim resolution: the token's user, active, of the token's identity provider. */
  async #resolve(a: AuthenticatedUser, fresh = false): Promise<Claims> {
    const { payload, identityProviderId } = a;
    if (payload.participantId !== undefined && payload.participantId !== this.deps.participantId) {
      throw denied(
        `Claims are only valid for participantId '${payload.participantId}', actual participantId is '${this.deps.participantId}'`,
      );
    }
    if (!isUserId(payload.userId)) {
      throw new WeftError(
        LedgerApiAuthErrors.INVALID_TOKEN,
        `The submitted request is missing a user-id: token 'sub' '${payload.userId.slice(0, 128)}' is not a valid user id`,
      );
    }
    const found = await this.#lookup(payload.userId, fresh);
    if (found === undefined) {
      throw denied(
        `Could not resolve is_deactivated status for user '${payload.userId}' due to 'UserNotFound'`,
      );
    }
    const { user, rights } = found;
    if (user.isDeactivated) throw denied(`User ${user.id} is deactivated`);
    if (user.identityProviderId !== identityProviderId)
      throw denied('User is assigned to another identity provider');
    return claimsOf(user.id, identityProviderId, rights, payload.exp);
  }

  async #lookup(userId: string, fresh: boolean): Promise<Resolved['user']> {
    const now = this.#nowMs();
    const cached = this.#users.get(userId);
    if (!fresh && cached !== undefined && now - cached.at < USER_CACHE_TTL_MS) return cached.user;
    const user = await this.deps.users.lookup(userId);
    this.#users.delete(userId);
    if (this.#users.size >= USER_CACHE_SIZE) this.#users.delete(this.#users.keys().next().value as string);
    this.#users.set(userId, { user, at: now });
    return user;
  }

  watchStream(claims: Claims, revoke: (error: WeftError) => void): () => void {
    const userId = claims.userId;
    if (claims.wildcard || userId === undefined) return () => {};
    let done = false;
    const stop = () => {
      done = true;
      cancelTimer();
      this.#watchers.delete(onChange);
    };
    const end = (error: WeftError) => {
      if (done) return;
      stop();
      revoke(error);
    };
    let cancelTimer: () => void = () => {};
    const expiresAt = claims.expiresAt;
    if (expiresAt !== undefined) {
      // Timers hold at most MAX_TIMER_MS: a later expiry is approached in steps.
      const arm = () => {
        const ms = Number((expiresAt - this.deps.clock.now()) / 1000n) + this.#leeway.exp * 1000;
        cancelTimer = this.deps.clock.schedule(Math.min(Math.max(0, ms), MAX_TIMER_MS), () => {
          if (ms > MAX_TIMER_MS) arm();
          else end(new WeftError(LedgerApiAuthErrors.ACCESS_TOKEN_EXPIRED, 'JWT token has expired'));
        });
      };
      arm();
    }
    const stale = () =>
      end(
        new WeftError(
          LedgerApiAuthErrors.STALE_STREAM_AUTHORIZATION,
          'Stale stream authorization. Retry quickly.',
        ),
      );
    const onChange = (change: UserChange) => {
      // Identity provider changes matter only to the users of a non-default provider.
      if ('userId' in change ? change.userId !== userId : claims.identityProviderId === '') return;
      const payload: TokenPayload = {
        userId,
        participantId: undefined,
        exp: undefined,
        issuer: undefined,
      };
      this.#resolve({ payload, identityProviderId: claims.identityProviderId }, true).then(
        (now) => {
          if (!sameRights(claims, now)) stale();
        },
        (e: unknown) => {
          if (!isWeftError(e))
            this.deps.logger.warn({ err: e, userId }, 'rechecking the rights of a stream failed');
          stale();
        },
      );
    };
    this.#watchers.add(onChange);
    return stop;
  }
}

function claimsOf(
  userId: string,
  identityProviderId: string,
  rights: readonly UserRight[],
  exp: number | undefined,
): Claims {
  const actAs = new Set<string>();
  const readAs = new Set<string>();
  const executeAs = new Set<string>();
  const has = (kind: UserRight['kind']) => rights.some((r) => r.kind === kind);
  for (const r of rights) {
    if (r.kind === 'CanActAs') actAs.add(r.party);
    else if (r.kind === 'CanReadAs') readAs.add(r.party);
    else if (r.kind === 'CanExecuteAs') executeAs.add(r.party);
  }
  return {
    wildcard: false,
    userId,
    identityProviderId,
    participantAdmin: has('ParticipantAdmin'),
    identityProviderAdmin: has('IdentityProviderAdmin'),
    actAs,
    readAs,
    readAsAnyParty: has('CanReadAsAnyParty'),
    executeAs,
    executeAsAnyParty: has('CanExecuteAsAnyParty'),
    expiresAt: exp === undefined ? undefined : BigInt(Math.floor(exp * 1_000_000)),
  };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function sameRights(a: Claims, b: Claims): boolean {
  return (
    a.participantAdmin === b.participantAdmin &&
    a.identityProviderAdmin === b.identityProviderAdmin &&
    a.readAsAnyParty === b.readAsAnyParty &&
    a.executeAsAnyParty === b.executeAsAnyParty &&
    sameSet(a.actAs, b.actAs) &&
    sameSet(a.readAs, b.readAs) &&
    sameSet(a.executeAs, b.executeAs)
  );
}
