import { defineErrorCode } from '../errors/index.js';

export const IdentityErrors = {
  INVALID_IDENTIFIER: defineErrorCode(
    'INVALID_IDENTIFIER',
    'InvalidIndependentOfSystemState',
    'An identifier (unique identifier, party, member or synchronizer id, namespace) is malformed.',
    'Correct the identifier: `name::namespace`, the name of at most 185 ASCII letters, digits, `-`, `_` and `:` (no space, no leading `-`), the namespace a 1220-prefixed fingerprint; or `PAR::`/`MED::`/`SEQ::` followed by one for a member.',
  ),
} as const;
