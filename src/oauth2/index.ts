/**
 * The OAuth2 middleware: Daml's auth middleware API (`/auth`, `/login`, `/cb`, `/refresh`, `/livez`) over an OpenID
 * provider, handing out tokens the participant's Ledger API verifies with the provider's JWKS.
 */
export { type LedgerClaims, missingClaim, parseClaims, type UserRights } from './claims.js';
export {
  loadOAuth2MiddlewareConfig,
  type OAuth2MiddlewareConfig,
  oauth2MiddlewareSchema,
  oauth2MiddlewareSettings,
} from './config.js';
export { OAuth2Errors } from './errors.js';
export { OAuth2Middleware, type OAuth2MiddlewareOptions } from './middleware.js';
