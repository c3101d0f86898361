import { defineErrorCode } from '../errors/index.js';

/** Codes of the OAuth2 middleware (Daml's auth middleware protocol in front of an OpenID provider). */
export const OAuth2Errors = {
  OAUTH2_INVALID_CLAIMS: defineErrorCode(
    'OAUTH2_INVALID_CLAIMS',
    'InvalidIndependentOfSystemState',
    "The claims parameter is not a space-separated list of Daml ledger claims ('admin', 'actAs:P', 'readAs:P', 'applicationId:A').",
    'Send the claims in the syntax of the auth middleware API, e.g. claims=actAs:Alice%20applicationId:my-app.',
  ),
  OAUTH2_REDIRECT_NOT_ALLOWED: defineErrorCode(
    'OAUTH2_REDIRECT_NOT_ALLOWED',
    'InvalidIndependentOfSystemState',
    "The redirect_uri of a login is not under one of the middleware's allowed-redirect-uris (an open redirect is refused).",
    "Use the application's registered callback URL, or add its prefix to allowed-redirect-uris in the middleware config.",
  ),
  OAUTH2_LOGIN_STATE_UNKNOWN: defineErrorCode(
    'OAUTH2_LOGIN_STATE_UNKNOWN',
    'InvalidGivenCurrentSystemStateOther',
    'The callback names no login in progress: its state is forged, was used already or expired.',
    'Start the login again from /login; a callback can be used once, within login-timeout-ms.',
  ),
  OAUTH2_LOGIN_FAILED: defineErrorCode(
    'OAUTH2_LOGIN_FAILED',
    'AuthInterceptorInvalidAuthenticationCredentials',
    'The OpenID provider refused the authorization code or refresh token (wrong, used, or expired), or answered with an error.',
    'Log in again through /login; if it keeps failing, check the client id and secret and the provider logs.',
  ),
  OAUTH2_UNAUTHORIZED: defineErrorCode(
    'OAUTH2_UNAUTHORIZED',
    'AuthInterceptorInvalidAuthenticationCredentials',
    "The request carries no token, a token the provider's keys do not verify, an expired one, or one whose user lacks a requested claim.",
    'Log in through /login with the claims needed; have an operator grant the user the missing right on the participant.',
  ),
} as const;
