import { defineErrorCode } from '../../errors/index.js';
import { PruningErrors } from '../../participant/index.js';

/**
 * Canton's request-validation codes of the Ledger API (`RequestValidationErrors`), shared by every service: a
 * request that is malformed, names what does not exist, or reads offsets the participant cannot serve.
 */
export const RequestValidationErrors = {
  MISSING_FIELD: defineErrorCode(
    'MISSING_FIELD',
    'InvalidIndependentOfSystemState',
    'A mandatory field of the request is not set.',
    'Set the field the message names and send the request again.',
  ),
  INVALID_FIELD: defineErrorCode(
    'INVALID_FIELD',
    'InvalidIndependentOfSystemState',
    'A field of the request has a value that is not valid (syntax or range).',
    'Correct the field the message names and send the request again.',
  ),
  NEGATIVE_OFFSET: defineErrorCode(
    'NEGATIVE_OFFSET',
    'InvalidIndependentOfSystemState',
    'An offset field that must be zero or positive is negative.',
    'Send a non-negative offset (0 = the ledger begin).',
  ),
  NON_POSITIVE_OFFSET: defineErrorCode(
    'NON_POSITIVE_OFFSET',
    'InvalidIndependentOfSystemState',
    'An offset field that must be positive is zero or negative.',
    'Send a positive offset, as the ledger end or an update returned it.',
  ),
  OFFSET_AFTER_LEDGER_END: defineErrorCode(
    'OFFSET_AFTER_LEDGER_END',
    'InvalidGivenCurrentSystemStateSeekAfterEnd',
    'The request reads from or up to an offset beyond the ledger end of this participant.',
    'Ask for the ledger end (StateService.GetLedgerEnd) and use an offset at or before it.',
  ),
  /** One code with pruning's offset check, as in Canton. */
  OFFSET_OUT_OF_RANGE: PruningErrors.OFFSET_OUT_OF_RANGE,
  PARTICIPANT_PRUNED_DATA_ACCESSED: defineErrorCode(
    'PARTICIPANT_PRUNED_DATA_ACCESSED',
    'InvalidGivenCurrentSystemStateOther',
    'The request reads data at or below the offset this participant has been pruned up to.',
    'Read from an offset after the pruning offset (StateService.GetLatestPrunedOffsets); take a fresh snapshot of the active contracts to restart.',
  ),
  UPDATE_NOT_FOUND: defineErrorCode(
    'UPDATE_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No update with this offset or id is visible to the requesting parties (unknown, filtered out, or not yet committed).',
    'Check the offset or update id and the parties of the format; an update without an event for them is not served.',
  ),
  CONTRACT_EVENTS_NOT_FOUND: defineErrorCode(
    'CONTRACT_EVENTS_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No create or archive event of this contract is visible to the requesting parties (unknown, pruned, or they are not stakeholders).',
    'Check the contract id and that a requesting party is a stakeholder of the contract.',
  ),
  CONTRACT_PAYLOAD_NOT_FOUND: defineErrorCode(
    'CONTRACT_PAYLOAD_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The participant knows no contract with this id whose stakeholders include a querying party.',
    'Check the contract id and the querying parties.',
  ),
  PACKAGE_NAMES_NOT_FOUND: defineErrorCode(
    'PACKAGE_NAMES_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'A filter names a package (by package name) that no uploaded package has.',
    'Upload the DAR of the package first, or correct the package name.',
  ),
  NO_TEMPLATES_FOR_PACKAGE_NAME_AND_QUALIFIED_NAME: defineErrorCode(
    'NO_TEMPLATES_FOR_PACKAGE_NAME_AND_QUALIFIED_NAME',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'A template filter names a template that no package of that package name defines.',
    'Correct the module or entity name of the template, or upload the package version that defines it.',
  ),
  NO_INTERFACES_FOR_PACKAGE_NAME_AND_QUALIFIED_NAME: defineErrorCode(
    'NO_INTERFACES_FOR_PACKAGE_NAME_AND_QUALIFIED_NAME',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'An interface filter names an interface that no package of that package name defines.',
    'Correct the module or entity name of the interface, or upload the package version that defines it.',
  ),
  TEMPLATES_OR_INTERFACES_NOT_FOUND: defineErrorCode(
    'TEMPLATES_OR_INTERFACES_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'A filter names a template or interface by package id that the package does not define, or an unknown package id.',
    'Correct the identifier; prefer package-name references (#name:Module:Entity), which cover every version.',
  ),
} as const;
