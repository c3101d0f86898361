import { defineErrorCode } from '../errors/index.js';

export const IdentityErrors = {
  INVALID_IDENTIFIER: defineErrorCode(
    'INVALID_IDENTIFIER',
    'InvalidIndependentOfSystemState',
    'An identifier (unique identifier, party, member or synchronizer id, namespace) is malformed.',
  ),
} as const;
