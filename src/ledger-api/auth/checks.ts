import { CommonErrors, WeftError } from '../../errors/index.js';
import type { Claims } from './claims.js';
import { LedgerApiAuthErrors } from './errors.js';

/**
 * The authorization checks every Ledger API handler runs on its caller's claims before doing anything, one per
 * kind of requirement Canton's services state (its `RequiredClaim`s). A failed check throws: `UNAUTHENTICATED`
 * when there is no caller, `PERMISSION_DENIED` naming the missing right, `INVALID_TOKEN` when the request cannot be
 * attributed to a user. As in Canton, ParticipantAdmin does not imply reading or acting as parties.
 */

/** Authorization off: every right, and commands name their user themselves. */
export const WILDCARD_CLAIMS: Claims = Object.freeze({
  wildcard: true,
  userId: undefined,
  identityProviderId: '',
  participantAdmin: true,
  identityProviderAdmin: true,
  actAs: new Set<string>(),
  readAs: new Set<string>(),
  readAsAnyParty: true,
  executeAs: new Set<string>(),
  executeAsAnyParty: true,
});

/** Canton's ClaimSet.Unauthenticated: the claims of a caller whose token was refused; no right at all. */
export const UNAUTHENTICATED_CLAIMS: Claims = Object.freeze({
  wildcard: false,
  userId: undefined,
  identityProviderId: '',
  participantAdmin: false,
  identityProviderAdmin: false,
  actAs: new Set<string>(),
  readAs: new Set<string>(),
  readAsAnyParty: false,
  executeAs: new Set<string>(),
  executeAsAnyParty: false,
});

/** Methods Canton answers without any authorization check (`service type name/method name`). */
const UNCHECKED_METHODS = new Set(['com.daml.ledger.api.v2.VersionService/GetLedgerApiVersion']);

/**
 * The claims a call of `method` runs with, whatever the transport: Canton authenticates in an interceptor that only
 * records who is calling, so a method without checks (the version) answers any caller, with or without a valid
 * token; every other method fails with the authenticator's error.
 */
export async function callClaims(
  authenticator: { authenticate(authorization: string | undefined): Promise<Claims> },
  authorization: string | undefined,
  method: string,
): Promise<Claims> {
  return authenticator.authenticate(authorization).catch((e: unknown) => {
    if (UNCHECKED_METHODS.has(method)) return UNAUTHENTICATED_CLAIMS;
    throw e;
  });
}

function denied(reason: string, right: string, party?: string): WeftError {
  return new WeftError(
    CommonErrors.PERMISSION_DENIED,
    `The provided authorization token is not sufficient to authorize the intended command: ${reason} (requires ${right})`,
    { right, party },
  );
}

/** Any authenticated caller (Canton's public claim): every resolved user and the wildcard have it. */
export function requireAuthenticated(claims: Claims): void {
  if (!claims.wildcard && claims.userId === undefined) {
    throw new WeftError(CommonErrors.UNAUTHENTICATED, 'The command is missing a (valid) JWT token');
  }
}

/** ParticipantAdmin. */
export function requireAdmin(claims: Claims): void {
  requireAuthenticated(claims);
  if (!claims.wildcard && !claims.participantAdmin) {
    throw denied('Claims do not authorize the use of administrative services', 'ParticipantAdmin');
  }
}

/** ParticipantAdmin or IdentityProviderAdmin, whatever the identity provider (Canton's AdminOrIdpAdmin). */
export function requireAdminOrIdpAdmin(claims: Claims): void {
  requireAuthenticated(claims);
  if (!claims.wildcard && !claims.participantAdmin && !claims.identityProviderAdmin) {
    throw denied(
      'Claims do not authorize the use of administrative services',
      'ParticipantAdmin or IdentityProviderAdmin',
    );
  }
}

/**
 * The identity provider a request may address (Canton's MatchIdentityProviderId): an empty id means the caller's
 * own one unless the caller is a participant admin; a token issued by a non-default identity provider only reaches
 * that provider. Returns the effective id ('' = the default identity provider).
 */
export function matchIdentityProviderId(claims: Claims, identityProviderId: string): string {
  requireAuthenticated(claims);
  const admin = claims.wildcard || claims.participantAdmin;
  const effective = identityProviderId === '' && !admin ? claims.identityProviderId : identityProviderId;
  if (claims.identityProviderId !== '' && effective !== claims.identityProviderId) {
    throw denied(
      `identity_provider_id from the request \`${effective === '' ? '<empty>' : effective}\` does not match the one provided in the authorization claims`,
      `IdentityProviderAdmin of ${claims.identityProviderId}`,
    );
  }
  return effective;
}

/**
 * ParticipantAdmin, or IdentityProviderAdmin of the identity provider the request addresses (Canton's
 * `idpAdminClaimsAndMatchingRequestIdpId`). Returns the effective identity provider id.
 */
export function requireIdpAdmin(claims: Claims, identityProviderId: string): string {
  requireAdminOrIdpAdmin(claims);
  return matchIdentityProviderId(claims, identityProviderId);
}

/** CanReadAs (or CanActAs) each party, or CanReadAsAnyParty. */
export function requireReadAs(claims: Claims, parties: Iterable<string>): void {
  requireAuthenticated(claims);
  if (claims.wildcard || claims.readAsAnyParty) return;
  for (const party of parties) {
    if (!claims.readAs.has(party) && !claims.actAs.has(party)) {
      throw denied(`Claims do not authorize to read data for party '${party}'`, `CanReadAs ${party}`, party);
    }
  }
}

/** CanReadAsAnyParty. */
export function requireReadAsAnyParty(claims: Claims): void {
  requireAuthenticated(claims);
  if (!claims.wildcard && !claims.readAsAnyParty) {
    throw denied(
      'Claims do not authorize to read data as any party (super-reader wildcard)',
      'CanReadAsAnyParty',
    );
  }
}

/** A submission's parties: CanActAs each `actAs` party, and reading rights on each `readAs` party. */
export function requireActAs(claims: Claims, actAs: Iterable<string>, readAs: Iterable<string>): void {
  requireAuthenticated(claims);
  if (!claims.wildcard) {
    for (const party of actAs) {
      if (!claims.actAs.has(party)) {
        throw denied(`Claims do not authorize to act as party '${party}'`, `CanActAs ${party}`, party);
      }
    }
  }
  requireReadAs(claims, readAs);
}

/** CanExecuteAs (or CanActAs) each party, or CanExecuteAsAnyParty. */
export function requireExecuteAs(claims: Claims, parties: Iterable<string>): void {
  requireAuthenticated(claims);
  if (claims.wildcard || claims.executeAsAnyParty) return;
  for (const party of parties) {
    if (!claims.executeAs.has(party) && !claims.actAs.has(party)) {
      throw denied(`Claims do not authorize to execute for party '${party}'`, `CanExecuteAs ${party}`, party);
    }
  }
}

/** CanExecuteAsAnyParty. */
export function requireExecuteAsAnyParty(claims: Claims): void {
  requireAuthenticated(claims);
  if (!claims.wildcard && !claims.executeAsAnyParty) {
    throw denied(
      'Claims do not authorize to execute as any party (super-executor wildcard)',
      'CanExecuteAsAnyParty',
    );
  }
}

/**
 * An admin, or a caller with any right on each of `parties` (Canton's AdminOrIdpAdminOrOperateAsParty, e.g.
 * GetParties and GetConnectedSynchronizers for a party). With no parties, an admin is required.
 */
export function requireAdminOrOperateAs(claims: Claims, parties: readonly string[]): void {
  requireAuthenticated(claims);
  if (claims.wildcard || claims.participantAdmin || claims.identityProviderAdmin) return;
  if (parties.length === 0) requireAdminOrIdpAdmin(claims);
  const anyParty = claims.readAsAnyParty || claims.executeAsAnyParty;
  for (const party of parties) {
    if (!anyParty && !claims.actAs.has(party) && !claims.readAs.has(party) && !claims.executeAs.has(party)) {
      throw denied(
        `Claims do not authorize the use of administrative services nor authorize to operate for party '${party}'`,
        `ParticipantAdmin, IdentityProviderAdmin or a right on ${party}`,
        party,
      );
    }
  }
}

/**
 * An admin, or the user the request names itself (Canton's AdminOrIdpAdminOrSelfAdmin, e.g. AllocateParty with a
 * user id).
 */
export function requireAdminOrSelf(claims: Claims, userId: string): void {
  requireAuthenticated(claims);
  if (claims.wildcard || claims.participantAdmin || claims.identityProviderAdmin) return;
  if (claims.userId === undefined || claims.userId !== userId) {
    throw denied(
      'Claims do not authorize the use of administrative services',
      'ParticipantAdmin or IdentityProviderAdmin',
    );
  }
}

/**
 * The user a command, completion stream or inspection acts for (Canton's MatchUserId): an empty request takes the
 * token's user; a token for one user may not name another, unless `anyPartyReaderMayNameOthers` and the caller
 * holds CanReadAsAnyParty (completion streams). With authorization off (wildcard) the request must name the user.
 */
export function effectiveUserId(
  claims: Claims,
  requested: string,
  options: { readonly anyPartyReaderMayNameOthers?: boolean } = {},
): string {
  requireAuthenticated(claims);
  let userId = requested;
  if (userId === '') {
    if (claims.userId === undefined || claims.userId === '') {
      throw new WeftError(
        LedgerApiAuthErrors.INVALID_TOKEN,
        'The submitted request is missing a user-id: Cannot default user_id field because claims do not specify an user-id. Is authentication turned on?',
        { field: 'user_id' },
      );
    }
    userId = claims.userId;
  }
  const skip = options.anyPartyReaderMayNameOthers === true && claims.readAsAnyParty;
  if (!skip && claims.userId !== undefined && claims.userId !== userId) {
    throw denied(
      `Claims are only valid for userId '${claims.userId}', actual userId is '${userId}'`,
      `a token for user ${userId}`,
    );
  }
  return userId;
}

/**
 * The user a user-management read addresses (Canton's MatchUserIdForUserManagement): an empty id or the caller's
 * own id means the caller, which needs no admin right to read itself; any other user needs ParticipantAdmin or
 * IdentityProviderAdmin. Returns the effective user id.
 */
export function userForUserManagement(claims: Claims, requested: string): string {
  requireAuthenticated(claims);
  const self = claims.userId;
  if (self !== undefined && (requested === '' || requested === self)) return self;
  if (self === undefined && requested === '') {
    throw new WeftError(
      LedgerApiAuthErrors.INVALID_TOKEN,
      'The submitted request is missing a user-id: requests with an empty user-id are only supported if there is an authenticated user',
      { field: 'user_id' },
    );
  }
  requireAdminOrIdpAdmin(claims);
  return requested;
}
