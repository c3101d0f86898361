/**
 * What a caller may do, resolved for one request from its token and the participant's user store (Canton's
 * ClaimSet). With authorization off every call is `wildcard`: it may do anything, and a command's user id comes
 * from the request, as in Canton.
 */
export interface Claims {
  /** Authorization is off: every right. */
  readonly wildcard: boolean;
  /** The authenticated user (the token's `sub`); undefined when `wildcard`. */
  readonly userId: string | undefined;
  /** The identity provider the user belongs to ('' = the participant's default one). */
  readonly identityProviderId: string;
  readonly participantAdmin: boolean;
  readonly identityProviderAdmin: boolean;
  /** Parties the user may submit as (CanActAs; implies reading and executing as them). */
  readonly actAs: ReadonlySet<string>;
  /** Parties the user may read as (CanReadAs). */
  readonly readAs: ReadonlySet<string>;
  readonly readAsAnyParty: boolean;
  /** Parties the user may execute prepared (interactive) submissions as (CanExecuteAs). */
  readonly executeAs: ReadonlySet<string>;
  readonly executeAsAnyParty: boolean;
  /**
   * When the token expires (microseconds since the epoch, the Clock's unit); streams opened with it end then.
   * Undefined for tokens without `exp` and for the wildcard.
   */
  readonly expiresAt?: bigint;
}
