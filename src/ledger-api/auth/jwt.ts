/**
 * Canton's user-token payloads (`StandardJWTPayload`): which tokens name a user of this participant. The payload's
 * signature is verified before; these rules decide whether it is a Ledger API token at all.
 */

/** The `aud` prefix of audience-based tokens for one participant. */
export const PARTICIPANT_AUDIENCE_PREFIX = 'https://daml.com/jwt/aud/participant/';
/** The scope of scope-based Ledger API tokens. */
export const LEDGER_API_SCOPE = 'daml_ledger_api';

export interface TokenPayload {
  readonly userId: string;
  /** When set, the token is only valid on this participant. */
  readonly participantId: string | undefined;
  /** Seconds since the epoch. */
  readonly exp: number | undefined;
  readonly issuer: string | undefined;
}

/** How tokens of one verifier are told apart from other tokens of the same issuer. */
export type TokenFormat =
  | { readonly kind: 'standard' }
  | { readonly kind: 'audience'; readonly audience: string }
  | { readonly kind: 'scope'; readonly scope: string };

/** A payload that is not a Ledger API user token for us: why, for the UNAUTHENTICATED message. */
export class TokenPayloadError extends Error {}

function optionalString(payload: Record<string, unknown>, name: string): string | undefined {
  const v = payload[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new TokenPayloadError(`'${name}' must be a string`);
  return v;
}

function stringOrArray(payload: Record<string, unknown>, name: string): string[] {
  const v = payload[name];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return v as string[];
  throw new TokenPayloadError(`'${name}' must be a string or a list of strings`);
}

/** `scope` (space-separated) or else `scp` (a string or a list). */
function scopes(payload: Record<string, unknown>): string[] {
  const scope = payload.scope;
  const fromScope = typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
  return fromScope.length > 0 ? fromScope : stringOrArray(payload, 'scp');
}

function requiredSub(payload: Record<string, unknown>): string {
  const sub = payload.sub;
  if (typeof sub !== 'string') throw new TokenPayloadError("the token has no user ('sub' claim)");
  return sub;
}

function expiry(payload: Record<string, unknown>): number | undefined {
  const exp = payload.exp;
  if (exp === undefined || exp === null) return undefined;
  if (typeof exp !== 'number' || !Number.isFinite(exp))
    throw new TokenPayloadError("'exp' must be a number of seconds");
  return exp;
}

/** Reads a verified payload under `format`; throws TokenPayloadError when it is not a Ledger API user token. */
export function readTokenPayload(payload: Record<string, unknown>, format: TokenFormat): TokenPayload {
  const issuer = optionalString(payload, 'iss');
  const audiences = stringOrArray(payload, 'aud');
  const exp = expiry(payload);
  if (format.kind === 'audience') {
    if (!audiences.includes(format.audience))
      throw new TokenPayloadError("the token's audience is not the expected one");
    return { userId: requiredSub(payload), participantId: undefined, exp, issuer };
  }
  if (format.kind === 'scope') {
    if (!scopes(payload).includes(format.scope))
      throw new TokenPayloadError("the token's scope is not the expected one");
    return { userId: requiredSub(payload), participantId: undefined, exp, issuer };
  }
  const forParticipants = audiences.filter((a) => a.startsWith(PARTICIPANT_AUDIENCE_PREFIX));
  if (forParticipants.length > 0) {
    const ids = forParticipants
      .map((a) => a.slice(PARTICIPANT_AUDIENCE_PREFIX.length))
      .filter((id) => id !== '');
    if (ids.length !== 1) {
      throw new TokenPayloadError(
        `'aud' must include exactly one participant id prefixed by ${PARTICIPANT_AUDIENCE_PREFIX}`,
      );
    }
    return { userId: requiredSub(payload), participantId: ids[0], exp, issuer };
  }
  const found = scopes(payload);
  if (found.includes(LEDGER_API_SCOPE)) {
    if (audiences.length > 1) throw new TokenPayloadError("'aud' must be empty or a single participant id");
    return { userId: requiredSub(payload), participantId: audiences[0], exp, issuer };
  }
  throw new TokenPayloadError(
    `Access token with unknown scope "${found.join('')}": a Ledger API token needs 'aud' ${PARTICIPANT_AUDIENCE_PREFIX}<participant id> or scope ${LEDGER_API_SCOPE}`,
  );
}
