import { defineErrorCode } from '../errors/index.js';

/**
 * Codes of the confirmation protocol. The `MEDIATOR_*` codes are the reasons a mediator puts into a MediatorReject
 * verdict; participants turn them into command completions, so they live here, beside the messages.
 */
export const ProtocolErrors = {
  PROTOCOL_MESSAGE_MALFORMED: defineErrorCode(
    'PROTOCOL_MESSAGE_MALFORMED',
    'MaliciousOrFaultyBehaviour',
    'A confirmation-protocol message cannot be decoded or violates its schema (a faulty or malicious sender).',
    'Nothing to do for the receiver, which ignores the message; find the sender in the log and check it runs a compatible Weft version.',
  ),
  MEDIATOR_REQUEST_MALFORMED: defineErrorCode(
    'MEDIATOR_REQUEST_MALFORMED',
    'MaliciousOrFaultyBehaviour',
    'The mediator rejected a confirmation request that is malformed: bad informee tree, signature, recipients or root hash messages.',
    'Check that the submitting participant runs a compatible Weft version; a repeated rejection points to a faulty or malicious participant.',
  ),
  MEDIATOR_REQUEST_INVALID: defineErrorCode(
    'MEDIATOR_REQUEST_INVALID',
    'InvalidGivenCurrentSystemStateOther',
    'The mediator rejected a confirmation request the topology does not allow: submitter not active, informees not hosted, or confirming parties unable to reach the threshold.',
    'Check the topology: the submitting participant is active, every informee party is hosted, and enough confirming participants are connected.',
  ),
  MEDIATOR_REQUEST_TIMED_OUT: defineErrorCode(
    'MEDIATOR_REQUEST_TIMED_OUT',
    'ContentionOnSharedResources',
    'Not enough confirmations arrived before the confirmation response timeout.',
    'Retry the command; if it times out again, check that the confirming participants are connected and keeping up.',
  ),
} as const;
