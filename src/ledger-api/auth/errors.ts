import { defineErrorCode } from '../../errors/index.js';

/**
 * Codes of the Ledger API's authentication and authorization (Canton's AuthorizationChecksErrors). A missing or bad
 * token answers the shared `UNAUTHENTICATED`, a missing right the shared `PERMISSION_DENIED` (CommonErrors): Canton
 * names them the same.
 */
export const LedgerApiAuthErrors = {
  INVALID_TOKEN: defineErrorCode(
    'INVALID_TOKEN',
    'InvalidIndependentOfSystemState',
    'The request cannot be attributed to a user: it leaves user_id empty while the token names no user (authorization off or a token without `sub`), or the token carries an invalid field.',
    'Set user_id in the request, or authenticate with a user token whose `sub` is the user; correct the field the message names.',
  ),
  ACCESS_TOKEN_EXPIRED: defineErrorCode(
    'ACCESS_TOKEN_EXPIRED',
    'ContentionOnSharedResources',
    'The token a stream was opened with expired while the stream was running.',
    'Obtain a fresh token from your identity provider and open the stream again from the last offset you received.',
  ),
  STALE_STREAM_AUTHORIZATION: defineErrorCode(
    'STALE_STREAM_AUTHORIZATION',
    'ContentionOnSharedResources',
    "The stream was closed because its user's rights changed (or the user was deactivated or deleted) while it ran, so it might no longer be authorized.",
    'Open the stream again from the last offset you received: it either succeeds or fails with an explicit authentication or permission error.',
  ),
} as const;
