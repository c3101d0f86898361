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
} as const;
