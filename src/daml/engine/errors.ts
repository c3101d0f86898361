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
    "Fix the command at the field path the message names so that it matches the package's types (weft dar inspect shows them).",
  ),
  DAML_AUTHORIZATION_ERROR: defineErrorCode(
    'DAML_AUTHORIZATION_ERROR',
    'InvalidIndependentOfSystemState',
    'An action of the transaction lacks the authorization the Daml ledger model requires; the message names the missing parties.',
    'Submit with the missing parties among the acting parties, or change the workflow so that they authorized the action earlier (a proposal they accepted).',
  ),
  DAML_CONTRACT_NOT_FOUND: defineErrorCode(
    'DAML_CONTRACT_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The transaction uses a contract that the ledger does not know (or that the submitting parties cannot see).',
    'Check the contract id, and that a submitting party is a stakeholder of the contract.',
  ),
  DAML_CONTRACT_NOT_ACTIVE: defineErrorCode(
    'DAML_CONTRACT_NOT_ACTIVE',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The transaction uses a contract that is archived, or that an earlier action of the same transaction consumed.',
    'Query the active contracts again and resubmit with contracts that are still active.',
  ),
  DAML_CONTRACT_METADATA_MISMATCH: defineErrorCode(
    'DAML_CONTRACT_METADATA_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'The signatories or observers recomputed from a stored contract differ from those stored with it.',
    'Check that the package used to recompute the contract is the one it was created with; report it if the stored contract was not altered.',
  ),
  DAML_VALUE_NESTING_LIMIT: defineErrorCode(
    'DAML_VALUE_NESTING_LIMIT',
    'InvalidGivenCurrentSystemStateOther',
    'A contract argument, choice argument or choice result is nested deeper than the 100 levels Daml allows.',
    'Change the Daml model so that the value is nested at most 100 levels deep (flatten deep lists or recursive records).',
  ),
  DAML_TRANSACTION_MALFORMED: defineErrorCode(
    'DAML_TRANSACTION_MALFORMED',
    'InvalidIndependentOfSystemState',
    'An encoded transaction, node or value is truncated, uses an unknown format version, or does not match the package types.',
    'Check that all nodes run compatible Weft versions and have the same packages; report it with the message if they do.',
  ),
} as const;
