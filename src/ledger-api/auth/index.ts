export {
  type Authenticator,
  type AuthenticatorDeps,
  type AuthenticatorUsers,
  createAuthenticator,
} from './authenticator.js';
export {
  callClaims,
  effectiveUserId,
  matchIdentityProviderId,
  requireActAs,
  requireAdmin,
  requireAdminOrIdpAdmin,
  requireAdminOrOperateAs,
  requireAdminOrSelf,
  requireAuthenticated,
  requireExecuteAs,
  requireExecuteAsAnyParty,
  requireIdpAdmin,
  requireReadAs,
  requireReadAsAnyParty,
  UNAUTHENTICATED_CLAIMS,
  userForUserManagement,
  WILDCARD_CLAIMS,
} from './checks.js';
export type { Claims } from './claims.js';
export {
  type AuthServiceConfig,
  authServicesSchema,
  type LedgerApiAuthConfig,
  ledgerApiAuthSchema,
  ledgerApiAuthShape,
} from './config.js';
export { LedgerApiAuthErrors } from './errors.js';
export { LEDGER_API_SCOPE, PARTICIPANT_AUDIENCE_PREFIX } from './jwt.js';
