import { WeftError } from '../errors/index.js';
import { OAuth2Errors } from './errors.js';

/** Daml ledger claims as the auth middleware API requests them. */
export interface LedgerClaims {
  readonly admin: boolean;
  readonly actAs: readonly string[];
  readonly readAs: readonly string[];
  readonly applicationId: string | undefined;
}

/** Bounds a request's claims (each a party or an id) so that one request cannot ask for unbounded work. */
const MAX_CLAIMS = 100;

/** Parses `actAs:Alice readAs:Bob admin applicationId:app` (space-separated; `+` in a URL decodes to a space). */
export function parseClaims(text: string): LedgerClaims {
  const parts = text.split(' ').filter((p) => p !== '');
  const bad = (why: string) =>
    new WeftError(
      OAuth2Errors.OAUTH2_INVALID_CLAIMS,
      `the claims '${text.slice(0, 200)}' are invalid: ${why}`,
    );
  if (parts.length > MAX_CLAIMS) throw bad(`more than ${MAX_CLAIMS} claims`);
  const claims = {
    admin: false,
    actAs: [] as string[],
    readAs: [] as string[],
    applicationId: undefined as string | undefined,
  };
  for (const p of parts) {
    if (p === 'admin') {
      claims.admin = true;
      continue;
    }
    const at = p.indexOf(':');
    const [kind, value] = at < 0 ? [p, ''] : [p.slice(0, at), p.slice(at + 1)];
    if (value === '') throw bad(`'${p}' is not admin, actAs:<party>, readAs:<party> or applicationId:<id>`);
    if (kind === 'actAs') claims.actAs.push(value);
    else if (kind === 'readAs') claims.readAs.push(value);
    else if (kind === 'applicationId') {
      if (claims.applicationId !== undefined) throw bad('more than one applicationId');
      claims.applicationId = value;
    } else throw bad(`'${kind}' is not a claim (admin, actAs, readAs, applicationId)`);
  }
  return claims;
}

/** A user's rights on the participant, as UserManagementService lists them. */
export interface UserRights {
  readonly admin: boolean;
  readonly actAs: ReadonlySet<string>;
  readonly readAs: ReadonlySet<string>;
  readonly readAsAnyParty: boolean;
}

/** The first requested claim the user's rights do not give, or undefined when they give all. */
export function missingClaim(claims: LedgerClaims, userId: string, rights: UserRights): string | undefined {
  if (claims.admin && !rights.admin) return 'admin';
  for (const p of claims.actAs) if (!rights.actAs.has(p)) return `actAs:${p}`;
  for (const p of claims.readAs) {
    if (!rights.readAsAnyParty && !rights.readAs.has(p) && !rights.actAs.has(p)) return `readAs:${p}`;
  }
  // The Ledger API takes a command's user id from the token: an application id other than the user cannot act.
  if (claims.applicationId !== undefined && claims.applicationId !== userId) {
    return `applicationId:${claims.applicationId}`;
  }
  return undefined;
}
