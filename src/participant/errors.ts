import { defineErrorCode } from '../errors/index.js';

/**
 * Codes of the participant. The `LOCAL_VERDICT_*` codes are the reasons a participant puts into a LocalReject
 * (Canton's names); the submitter's command completion carries the decisive one.
 */
export const ParticipantErrors = {
  LOCAL_VERDICT_LOCKED_CONTRACTS: defineErrorCode(
    'LOCAL_VERDICT_LOCKED_CONTRACTS',
    'ContentionOnSharedResources',
    'The request uses contracts that an earlier request still in flight archives.',
    'Retry the command once the earlier request is decided; commands that contend for the same contracts should be serialised.',
  ),
  LOCAL_VERDICT_INACTIVE_CONTRACTS: defineErrorCode(
    'LOCAL_VERDICT_INACTIVE_CONTRACTS',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The request uses contracts that are archived or unknown to a participant hosting one of their stakeholders.',
    'Query the active contracts again and resubmit with contracts that are still active.',
  ),
  LOCAL_VERDICT_MALFORMED_REQUEST: defineErrorCode(
    'LOCAL_VERDICT_MALFORMED_REQUEST',
    'MaliciousOrFaultyBehaviour',
    'A confirmation request cannot be decrypted or decoded, or its views are inconsistent with each other or the Merkle tree.',
    'Check that all participants run compatible Weft versions; a repeated rejection points to a faulty or malicious submitting participant.',
  ),
  LOCAL_VERDICT_FAILED_MODEL_CONFORMANCE_CHECK: defineErrorCode(
    'LOCAL_VERDICT_FAILED_MODEL_CONFORMANCE_CHECK',
    'MaliciousOrFaultyBehaviour',
    'Reinterpreting a view with the Daml engine did not give the actions the request claims.',
    'Make sure every participant has the same packages (DARs) uploaded; otherwise report the submitting participant, which is faulty or malicious.',
  ),
  LOCAL_VERDICT_UNAUTHORIZED: defineErrorCode(
    'LOCAL_VERDICT_UNAUTHORIZED',
    'InvalidGivenCurrentSystemStateOther',
    'The submitting participant may not submit for the acting parties, or an action lacks the authority Daml requires.',
    'Submit as parties that this participant hosts with submission permission and that hold the authority the Daml model requires.',
  ),
  LOCAL_VERDICT_LEDGER_TIME_OUT_OF_BOUND: defineErrorCode(
    'LOCAL_VERDICT_LEDGER_TIME_OUT_OF_BOUND',
    'InvalidGivenCurrentSystemStateOther',
    'The ledger time of the request is too far from its sequencing time (ledger-time-record-time tolerance) or before the creation of an input contract.',
    'Resubmit the command (a fresh ledger time); if it recurs, check the clocks and the load of the submitting participant and the sequencer.',
  ),
  LOCAL_VERDICT_PACKAGE_NOT_VETTED: defineErrorCode(
    'LOCAL_VERDICT_PACKAGE_NOT_VETTED',
    'InvalidGivenCurrentSystemStateOther',
    'A view uses a Daml package that the validating participant has not uploaded or not vetted.',
    'Upload and vet the DAR on the validating participant (weft admin dars upload), then resubmit.',
  ),
  LOCAL_VERDICT_TIMEOUT: defineErrorCode(
    'LOCAL_VERDICT_TIMEOUT',
    'ContentionOnSharedResources',
    'No verdict arrived before the decision time of the request; its outcome is a rejection.',
    'Retry the command; if it recurs, check that the mediator and the confirming participants are connected and keeping up.',
  ),
  DUPLICATE_COMMAND: defineErrorCode(
    'DUPLICATE_COMMAND',
    'InvalidGivenCurrentSystemStateResourceExists',
    'A command with the same user, acting parties and command id was accepted within the deduplication window; the error carries its completion (offset, update id, submission id).',
    'Nothing to do if it is a resend of the accepted command: its outcome is in the error and in its completion; for a new command, use a new command id.',
  ),
  INVALID_DEDUPLICATION_PERIOD: defineErrorCode(
    'INVALID_DEDUPLICATION_PERIOD',
    'InvalidGivenCurrentSystemStateOther',
    "The command's deduplication period is longer than the participant's deduplication window (the longest it keeps accepted commands for), or negative.",
    'Submit with a shorter deduplication duration (the error names the longest), with a deduplication offset, or without a period; or have the operator raise deduplication-window-ms.',
  ),
  INVALID_DISCLOSED_CONTRACT: defineErrorCode(
    'INVALID_DISCLOSED_CONTRACT',
    'InvalidIndependentOfSystemState',
    'A disclosed contract of the command cannot be decoded, or does not match the template or contract id given with it.',
    "Pass the created_event_blob exactly as the Ledger API returned it (include_created_event_blob), with the contract's own template and contract id.",
  ),
  DISCLOSED_CONTRACT_AUTHENTICATION_FAILED: defineErrorCode(
    'DISCLOSED_CONTRACT_AUTHENTICATION_FAILED',
    'InvalidIndependentOfSystemState',
    "A disclosed contract's id is not the one its content and creation time give: the contract was altered.",
    'Pass the created_event_blob unmodified, as the Ledger API of a participant that knows the contract returned it.',
  ),
  SUBMISSION_ALREADY_IN_FLIGHT: defineErrorCode(
    'SUBMISSION_ALREADY_IN_FLIGHT',
    'ContentionOnSharedResources',
    'A command with the same user, acting parties and command id is still being processed.',
    'Wait for the completion of the command in flight instead of resubmitting it; use a new command id for a different command.',
  ),
  SUBMITTER_NOT_HOSTED: defineErrorCode(
    'SUBMITTER_NOT_HOSTED',
    'InvalidGivenCurrentSystemStateOther',
    'An acting party of the command is not hosted on this participant with submission permission.',
    'Submit as a party this participant hosts (weft admin parties list), or enable the party here with submission permission.',
  ),
  INFORMEES_NOT_HOSTED: defineErrorCode(
    'INFORMEES_NOT_HOSTED',
    'InvalidGivenCurrentSystemStateOther',
    'A party the transaction must inform is hosted by no participant of the synchronizer, or cannot confirm.',
    'Enable the missing parties on a participant connected to the synchronizer, with confirmation or submission permission.',
  ),
  PACKAGE_NOT_VETTED_BY_RECIPIENTS: defineErrorCode(
    'PACKAGE_NOT_VETTED_BY_RECIPIENTS',
    'InvalidGivenCurrentSystemStateOther',
    'A participant hosting an informee has not vetted a package the transaction uses.',
    'Upload and vet the DAR on the participants hosting the informees (weft admin dars upload), then resubmit.',
  ),
  NO_SYNCHRONIZER_FOR_SUBMISSION: defineErrorCode(
    'NO_SYNCHRONIZER_FOR_SUBMISSION',
    'InvalidGivenCurrentSystemStateOther',
    'No connected synchronizer can take the transaction: its input contracts are assigned to different synchronizers, or no synchronizer hosts every informee with the packages vetted.',
    "Connect to a synchronizer where every informee is hosted and the packages are vetted; a transaction's input contracts must all be on one synchronizer.",
  ),
  NOT_CONNECTED_TO_SYNCHRONIZER: defineErrorCode(
    'NOT_CONNECTED_TO_SYNCHRONIZER',
    'InvalidGivenCurrentSystemStateOther',
    'The participant is not connected to a synchronizer.',
    'Connect the participant (weft admin participant connect) and retry once it is connected.',
  ),
  SYNCHRONIZER_DISCONNECTED: defineErrorCode(
    'SYNCHRONIZER_DISCONNECTED',
    'DeadlineExceededRequestStateUnknown',
    'The participant disconnected from the synchronizer a command was sent to before the command completed; the command may still be committed.',
    "Reconnect the participant to the synchronizer: the command's completion is then published in the completion stream. Read it there before resubmitting; a resubmission with the same command id is deduplicated.",
  ),
  SUBMISSION_NOT_SEQUENCED: defineErrorCode(
    'SUBMISSION_NOT_SEQUENCED',
    'DeadlineExceededRequestStateUnknown',
    'The confirmation request was not sequenced before its max sequencing time; the command had no effect.',
    "Retry the command (it had no effect); if it recurs, check the participant's connection to the sequencer and the sequencer's load.",
  ),
  PARTICIPANT_OVERLOADED: defineErrorCode(
    'PARTICIPANT_OVERLOADED',
    'ContentionOnSharedResources',
    'The participant has as many submissions in flight as it admits (maxSubmissionsInFlight); the command was not interpreted and had no effect.',
    'Retry the command after a backoff, once earlier commands completed; if it persists, submit at a lower rate or raise maxSubmissionsInFlight.',
  ),
  PING_FAILED: defineErrorCode(
    'PING_FAILED',
    'DeadlineExceededRequestStateUnknown',
    'The ping got no answer in time.',
    'Check that the target participant is connected to the same synchronizer and has the ping workflow, then ping again, with a longer --timeout if it is busy.',
  ),
} as const;
