export {
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
  userForUserManagement,
  WILDCARD_CLAIMS,
} from './checks.js';
export type { Claims } from './claims.js';
export { LedgerApiAuthErrors } from './errors.js';
