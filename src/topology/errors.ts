import { defineErrorCode, type ErrorCode } from '../errors/index.js';

/**
 * Why a topology transaction was rejected. Rejections of sequenced transactions are part of the replicated state
 * (every member reaches the same one), so they are stored with their code and message.
 */
export const TopologyErrors = {
  TOPOLOGY_MALFORMED: defineErrorCode(
    'TOPOLOGY_MALFORMED',
    'InvalidIndependentOfSystemState',
    'The topology transaction cannot be decoded, is not canonically encoded, or lacks a required field.',
    "Build the transaction with Weft's or Canton's tooling; it must be canonically encoded protobuf with all required fields.",
  ),
  TOPOLOGY_INVALID_MAPPING: defineErrorCode(
    'TOPOLOGY_INVALID_MAPPING',
    'InvalidIndependentOfSystemState',
    'The topology mapping violates an invariant of its kind (threshold, duplicates, member type, key set).',
    'Fix the mapping as the message says (threshold within the number of keys or participants, no duplicates, the right member type).',
  ),
  TOPOLOGY_INVALID_SIGNATURE: defineErrorCode(
    'TOPOLOGY_INVALID_SIGNATURE',
    'InvalidIndependentOfSystemState',
    'A signature on the topology transaction does not verify under the key it names.',
    'Sign the exact transaction bytes with the key the signature names, or drop the bad signature.',
  ),
  TOPOLOGY_UNAUTHORIZED: defineErrorCode(
    'TOPOLOGY_UNAUTHORIZED',
    'InsufficientPermission',
    'The topology transaction lacks signatures by keys authorized for the namespaces it needs.',
    "Have the owners of the namespaces the change needs sign it (for a synchronizer-wide change, run it against the owner's node), or submit it as a proposal for them to co-sign.",
  ),
  TOPOLOGY_SERIAL_MISMATCH: defineErrorCode(
    'TOPOLOGY_SERIAL_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'The serial is not the previous serial of the mapping plus one (1 for a new mapping).',
    "Read the mapping's current serial (weft admin topology list) and submit the change with that serial plus one.",
  ),
  TOPOLOGY_NOT_FOUND: defineErrorCode(
    'TOPOLOGY_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The topology mapping to remove or change does not exist.',
    'List the current topology (weft admin topology list) and remove or change only mappings that exist.',
  ),
  TOPOLOGY_WRONG_SYNCHRONIZER: defineErrorCode(
    'TOPOLOGY_WRONG_SYNCHRONIZER',
    'InvalidIndependentOfSystemState',
    'The topology mapping refers to a different synchronizer than the one processing it.',
    'Submit the transaction to the synchronizer it names, or rebuild it for this one.',
  ),
  TOPOLOGY_ONBOARDING_RESTRICTED: defineErrorCode(
    'TOPOLOGY_ONBOARDING_RESTRICTED',
    'InsufficientPermission',
    "The synchronizer's onboarding restriction does not admit this participant.",
    'Ask a synchronizer owner for a permission (weft admin participants set-state), then onboard again.',
  ),
  TOPOLOGY_PRECONDITION_FAILED: defineErrorCode(
    'TOPOLOGY_PRECONDITION_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    'The topology mapping depends on state that is missing or conflicting (member keys, trust certificates, namespaces, prior removal).',
    "Submit the missing prerequisite first (the member's keys, its trust certificate, the namespace delegation), or remove the conflicting mapping.",
  ),
  TOPOLOGY_SNAPSHOT_MISMATCH: defineErrorCode(
    'TOPOLOGY_SNAPSHOT_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'A topology snapshot does not reproduce when its transactions are validated again; it was altered or comes from another synchronizer.',
    'Take the snapshot again from a node of the right synchronizer; do not use a snapshot that was edited.',
  ),
  TOPOLOGY_STORE_DIVERGED: defineErrorCode(
    'TOPOLOGY_STORE_DIVERGED',
    'SystemInternalAssumptionViolated',
    'Another node sharing the topology store recorded a different outcome for the same sequenced transaction; the nodes run different code or were fed different batches.',
    'Stop the nodes sharing the store, make sure they run the same Weft version, and report it with their logs.',
  ),
  TOPOLOGY_OUT_OF_ORDER: defineErrorCode(
    'TOPOLOGY_OUT_OF_ORDER',
    'SystemInternalAssumptionViolated',
    'Topology transactions were fed to a processor out of sequencing order.',
    "Report it with the node's log; restart the node, which replays its topology in order.",
  ),
  TOPOLOGY_BROADCAST_INVALID: defineErrorCode(
    'TOPOLOGY_BROADCAST_INVALID',
    'InvalidIndependentOfSystemState',
    'A topology broadcast cannot be decoded as a TopologyTransactionsBroadcast, or it is for another synchronizer.',
    'Send topology transactions as a TopologyTransactionsBroadcast naming the synchronizer they are sequenced on; members log and skip a broadcast they cannot read.',
  ),
  TOPOLOGY_CHANGE_TIMEOUT: defineErrorCode(
    'TOPOLOGY_CHANGE_TIMEOUT',
    'DeadlineExceededRequestStateUnknown',
    'A topology change was not processed, or not in force, within the time waited for it.',
    'List the topology to see whether the change took effect; a long topology change delay of the synchronizer needs a longer wait.',
  ),
  TOPOLOGY_CHANGE_LOST: defineErrorCode(
    'TOPOLOGY_CHANGE_LOST',
    'TransientServerFailure',
    'A submitted topology change was not sequenced: the node processed later topology without it (its sequencer node failed before the change became final).',
    'Submit the change again.',
  ),
  TOPOLOGY_TOO_MANY_WAITERS: defineErrorCode(
    'TOPOLOGY_TOO_MANY_WAITERS',
    'ContentionOnSharedResources',
    'Too many callers wait at once for topology changes of this node to take effect.',
    'Retry once the pending changes took effect; submit changes in fewer, larger batches.',
  ),
} as const;

const byCode = new Map<string, ErrorCode>(Object.values(TopologyErrors).map((e) => [e.code, e]));

/** The code definition for a stored rejection code. */
export function topologyErrorCode(code: string): ErrorCode {
  const def = byCode.get(code);
  if (def === undefined) throw new Error(`unknown topology error code ${code}`);
  return def;
}
