import { defineErrorCode } from '../errors/index.js';

/** Errors of the sequencer's public API, its storage and HA layer, and the sequencer client. */
export const SequencerErrors = {
  SEQUENCER_MEMBER_NOT_ACTIVE: defineErrorCode(
    'SEQUENCER_MEMBER_NOT_ACTIVE',
    'InvalidGivenCurrentSystemStateOther',
    'The member is not active on the synchronizer (unknown, not yet onboarded or permissioned, or revoked); onboard or allow-list it, then reconnect.',
  ),
  SEQUENCER_UNKNOWN_RECIPIENTS: defineErrorCode(
    'SEQUENCER_UNKNOWN_RECIPIENTS',
    'InvalidGivenCurrentSystemStateOther',
    'A submission names recipients that are not active members (or an empty or unknown mediator group).',
  ),
  SEQUENCER_REQUEST_TOO_LARGE: defineErrorCode(
    'SEQUENCER_REQUEST_TOO_LARGE',
    'InvalidIndependentOfSystemState',
    "A submission exceeds the synchronizer's max request size; split it or raise the dynamic parameter.",
  ),
  SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED: defineErrorCode(
    'SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED',
    'InvalidGivenCurrentSystemStateOther',
    'The request reached the sequencer after its max sequencing time; it was not delivered to its recipients.',
  ),
  SEQUENCER_AUTHENTICATION_FAILED: defineErrorCode(
    'SEQUENCER_AUTHENTICATION_FAILED',
    'AuthInterceptorInvalidAuthenticationCredentials',
    'The challenge response is wrong (unknown or expired nonce, key not registered for the member, bad signature).',
  ),
  SEQUENCER_TOKEN_INVALID: defineErrorCode(
    'SEQUENCER_TOKEN_INVALID',
    'AuthInterceptorInvalidAuthenticationCredentials',
    'The call carries no token, an unknown or expired token, or a token of another member; authenticate again.',
  ),
  SEQUENCER_OVERLOADED: defineErrorCode(
    'SEQUENCER_OVERLOADED',
    'ContentionOnSharedResources',
    "The sequencer's write queue is full; retry later.",
  ),
  SEQUENCER_UNAVAILABLE: defineErrorCode(
    'SEQUENCER_UNAVAILABLE',
    'TransientServerFailure',
    'This sequencer node is starting, stopping or has lost its writer slot; retry or use another endpoint.',
  ),
  SEQUENCER_SUBSCRIPTION_PRUNED: defineErrorCode(
    'SEQUENCER_SUBSCRIPTION_PRUNED',
    'InvalidGivenCurrentSystemStateOther',
    'The requested events were pruned; the member must be restored from a later state.',
  ),
  SEQUENCER_PRUNING_NOT_SAFE: defineErrorCode(
    'SEQUENCER_PRUNING_NOT_SAFE',
    'InvalidGivenCurrentSystemStateOther',
    'Pruning would remove events that a member has not acknowledged yet or that are not yet delivered.',
  ),
  SEQUENCER_NO_FREE_NODE_INDEX: defineErrorCode(
    'SEQUENCER_NO_FREE_NODE_INDEX',
    'InvalidGivenCurrentSystemStateOther',
    'All writer slots (high-availability total-node-count) of the shared database are held by online nodes.',
  ),
  SEQUENCER_NODE_INDEX_LOST: defineErrorCode(
    'SEQUENCER_NODE_INDEX_LOST',
    'TransientServerFailure',
    'Another sequencer instance took over this node index, or peers marked this node offline; the writer rejoins.',
  ),
  SEQUENCER_HA_CONFIG_MISMATCH: defineErrorCode(
    'SEQUENCER_HA_CONFIG_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'Sequencer nodes sharing a database must use the same high-availability total-node-count.',
  ),
  SEQUENCER_NODE_NAME_TAKEN: defineErrorCode(
    'SEQUENCER_NODE_NAME_TAKEN',
    'InvalidGivenCurrentSystemStateOther',
    'Another sequencer uses this node name in the shared ordering storage; nodes sharing it need distinct names.',
  ),
  SEQUENCER_NOT_IN_SYNCHRONIZER: defineErrorCode(
    'SEQUENCER_NOT_IN_SYNCHRONIZER',
    'InvalidGivenCurrentSystemStateOther',
    'The synchronizer in the ordering storage does not have this sequencer among its active sequencers; it does not serve.',
  ),
  SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED: defineErrorCode(
    'SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED',
    'InvalidGivenCurrentSystemStateOther',
    'The client and the synchronizer share no protocol version; upgrade the client or connect to another synchronizer.',
  ),
  SEQUENCER_CONNECTION_MISMATCH: defineErrorCode(
    'SEQUENCER_CONNECTION_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'An endpoint serves another synchronizer or sequencer than expected; check the connection URLs.',
  ),
  SEQUENCER_CONNECTION_FAILED: defineErrorCode(
    'SEQUENCER_CONNECTION_FAILED',
    'TransientServerFailure',
    'No sequencer endpoint could be reached (refused, timed out, or TLS verification failed).',
  ),
  SEQUENCER_INSECURE_CONNECTION: defineErrorCode(
    'SEQUENCER_INSECURE_CONNECTION',
    'InvalidIndependentOfSystemState',
    'Plaintext gRPC is only allowed on loopback addresses; use TLS (https://) or set insecure explicitly.',
  ),
  SEQUENCER_EVENT_INVALID: defineErrorCode(
    'SEQUENCER_EVENT_INVALID',
    'MaliciousOrFaultyBehaviour',
    'A received event has a bad sequencer signature, a counter gap or a wrong previous timestamp.',
  ),
  SEQUENCER_CONNECTIONS_INVALID: defineErrorCode(
    'SEQUENCER_CONNECTIONS_INVALID',
    'InvalidIndependentOfSystemState',
    'The sequencer connections are misconfigured: both or neither of endpoints and connections, a trust threshold outside 1 to the number of connections, or a negative liveness margin.',
  ),
  SEQUENCER_AGGREGATION_FAILED: defineErrorCode(
    'SEQUENCER_AGGREGATION_FAILED',
    'MaliciousOrFaultyBehaviour',
    'The sequencers a member connects to delivered different events, or too few remain, so that no event can reach the sequencer trust threshold; investigate the faulty sequencers.',
  ),
  SEQUENCER_ONBOARDING_REJECTED: defineErrorCode(
    'SEQUENCER_ONBOARDING_REJECTED',
    'InsufficientPermission',
    "The onboarding topology transactions are not allowed by the synchronizer's onboarding restriction.",
  ),
  SEQUENCER_CLIENT_CLOSED: defineErrorCode(
    'SEQUENCER_CLIENT_CLOSED',
    'InvalidGivenCurrentSystemStateOther',
    'The sequencer client was closed or stopped after a fatal error; create a new one.',
  ),
} as const;
