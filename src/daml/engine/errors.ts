import { defineErrorCode } from '../../errors/index.js';

/**
 * Errors of the Daml engine: command preprocessing, the ledger checks it makes while building a transaction
 * (authorization, contract activeness, value limits) and the transaction codec. Failures of Daml code itself
 * (`error`, unhandled exceptions, failed `ensure` clauses) are `DAML_INTERPRETATION_ERROR` from the interpreter.
 */
export const DamlEngineErrors = {
  DAML_COMMAND_INVALID: defineErrorCode(
    'DAML_COMMAND_INVALID',
    'InvalidIndependentOfSystemState',
    'A command names an unknown template, interface or choice, or its argument does not have the type the package declares (the message names the field path).',
  ),
  DAML_AUTHORIZATION_ERROR: defineErrorCode(
    'DAML_AUTHORIZATION_ERROR',
    'InvalidIndependentOfSystemState',
    'An action of the transaction lacks the authorization the Daml ledger model requires; the message names the missing parties.',
  ),
  DAML_CONTRACT_NOT_FOUND: defineErrorCode(
    'DAML_CONTRACT_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The transaction uses a contract that the ledger does not know (or that the submitting parties cannot see).',
  ),
  DAML_CONTRACT_NOT_ACTIVE: defineErrorCode(
    'DAML_CONTRACT_NOT_ACTIVE',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The transaction uses a contract that is archived, or that an earlier action of the same transaction consumed.',
  ),
  DAML_CONTRACT_METADATA_MISMATCH: defineErrorCode(
    'DAML_CONTRACT_METADATA_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'The signatories or observers recomputed from a stored contract differ from those stored with it.',
  ),
  DAML_VALUE_NESTING_LIMIT: defineErrorCode(
    'DAML_VALUE_NESTING_LIMIT',
    'InvalidGivenCurrentSystemStateOther',
    'A contract argument, choice argument or choice result is nested deeper than the 100 levels Daml allows.',
  ),
  DAML_TRANSACTION_MALFORMED: defineErrorCode(
    'DAML_TRANSACTION_MALFORMED',
    'InvalidIndependentOfSystemState',
    'An encoded transaction, node or value is truncated, uses an unknown format version, or does not match the package types.',
  ),
} as const;
