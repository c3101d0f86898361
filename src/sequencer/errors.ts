import { defineErrorCode } from '../errors/index.js';

/** Errors of the sequencer's public API, its storage and HA layer, and the sequencer client. */
export const SequencerErrors = {
  SEQUENCER_MEMBER_NOT_ACTIVE: defineErrorCode(
    'SEQUENCER_MEMBER_NOT_ACTIVE',
    'InvalidGivenCurrentSystemStateOther',
    'The member is not active on the synchronizer (unknown, not yet onboarded or permissioned, or revoked).',
    'Onboard the member or have a synchronizer owner allow-list it (weft admin participants set-state), then reconnect.',
  ),
  SEQUENCER_UNKNOWN_RECIPIENTS: defineErrorCode(
    'SEQUENCER_UNKNOWN_RECIPIENTS',
    'InvalidGivenCurrentSystemStateOther',
    'A submission names recipients that are not active members (or an empty or unknown mediator group).',
    "Wait until the recipients' onboarding is in force, or address only active members and existing mediator groups.",
  ),
  SEQUENCER_REQUEST_TOO_LARGE: defineErrorCode(
    'SEQUENCER_REQUEST_TOO_LARGE',
    'InvalidIndependentOfSystemState',
    "A submission exceeds the synchronizer's max request size.",
    "Split the submission (fewer commands per transaction) or have the owners raise the synchronizer's max-request-size.",
  ),
  SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED: defineErrorCode(
    'SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED',
    'InvalidGivenCurrentSystemStateOther',
    'The request reached the sequencer after its max sequencing time; it was not delivered to its recipients.',
    "Submit again with a later max sequencing time; if it keeps happening, the sequencer is overloaded or the submitter's clock is off.",
  ),
  SEQUENCER_AUTHENTICATION_FAILED: defineErrorCode(
    'SEQUENCER_AUTHENTICATION_FAILED',
    'AuthInterceptorInvalidAuthenticationCredentials',
    'The challenge response is wrong (unknown or expired nonce, key not registered for the member, bad signature).',
    "Check that the member's signing key registered in the topology is the one it uses; the client then requests a fresh challenge.",
  ),
  SEQUENCER_TOKEN_INVALID: defineErrorCode(
    'SEQUENCER_TOKEN_INVALID',
    'AuthInterceptorInvalidAuthenticationCredentials',
    'The call carries no token, an unknown or expired token, or a token of another member.',
    'Authenticate again for a fresh token (the sequencer client does this by itself).',
  ),
  SEQUENCER_OVERLOADED: defineErrorCode(
    'SEQUENCER_OVERLOADED',
    'ContentionOnSharedResources',
    "The sequencer's write queue is full.",
    'Retry with backoff; if it lasts, raise sequencer.writer.queue-size, choose the high-throughput writer preset, or spread members over more nodes.',
  ),
  SEQUENCER_UNAVAILABLE: defineErrorCode(
    'SEQUENCER_UNAVAILABLE',
    'TransientServerFailure',
    'This sequencer node is starting, stopping or has lost its writer slot.',
    "Retry, or connect to another node of the sequencer; check the node's /ready for why it does not serve.",
  ),
  SEQUENCER_SUBSCRIPTION_PRUNED: defineErrorCode(
    'SEQUENCER_SUBSCRIPTION_PRUNED',
    'InvalidGivenCurrentSystemStateOther',
    'The requested events were pruned.',
    'Restore the member from a state after the pruning point, or onboard it again; the sequencer no longer has the events it asks for.',
  ),
  SEQUENCER_PRUNING_NOT_SAFE: defineErrorCode(
    'SEQUENCER_PRUNING_NOT_SAFE',
    'InvalidGivenCurrentSystemStateOther',
    'Pruning would remove events that a member has not acknowledged yet or that are not yet delivered.',
    'Prune up to an earlier timestamp, or wait until every member has acknowledged the events to be pruned.',
  ),
  SEQUENCER_NO_FREE_NODE_INDEX: defineErrorCode(
    'SEQUENCER_NO_FREE_NODE_INDEX',
    'InvalidGivenCurrentSystemStateOther',
    'All writer slots (high-availability total-node-count) of the shared database are held by online nodes.',
    "Stop a node, wait until an offline node's slot is freed, or raise sequencer.high-availability.total-node-count on every node sharing the database.",
  ),
  SEQUENCER_NODE_INDEX_LOST: defineErrorCode(
    'SEQUENCER_NODE_INDEX_LOST',
    'TransientServerFailure',
    'Another sequencer instance took over this node index, or peers marked this node offline.',
    'Nothing to do if it recovers: the writer rejoins; if it recurs, make sure no two nodes run with the same name and that the node keeps up with its keep-alive.',
  ),
  SEQUENCER_HA_CONFIG_MISMATCH: defineErrorCode(
    'SEQUENCER_HA_CONFIG_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'Sequencer nodes sharing a database must use the same high-availability total-node-count.',
    'Set the same sequencer.high-availability.total-node-count on every node sharing the database.',
  ),
  SEQUENCER_NODE_NAME_TAKEN: defineErrorCode(
    'SEQUENCER_NODE_NAME_TAKEN',
    'InvalidGivenCurrentSystemStateOther',
    'Another sequencer uses this node name in the shared ordering storage.',
    "Give this node a name no other sequencer's node uses in the shared ordering storage.",
  ),
  SEQUENCER_NOT_IN_SYNCHRONIZER: defineErrorCode(
    'SEQUENCER_NOT_IN_SYNCHRONIZER',
    'InvalidGivenCurrentSystemStateOther',
    'The synchronizer in the ordering storage does not have this sequencer among its active sequencers, so it does not serve.',
    'Have the synchronizer owners add this sequencer (name it with --sequencer at bootstrap), or point the node at its own ordering storage.',
  ),
  SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED: defineErrorCode(
    'SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED',
    'InvalidGivenCurrentSystemStateOther',
    'The client and the synchronizer share no protocol version.',
    "Upgrade the client to a Weft version that speaks the synchronizer's protocol version, or connect to another synchronizer.",
  ),
  SEQUENCER_CONNECTION_MISMATCH: defineErrorCode(
    'SEQUENCER_CONNECTION_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    'An endpoint serves another synchronizer or sequencer than expected.',
    'Check the connection URLs: all endpoints of one connection must serve the same sequencer of the same synchronizer.',
  ),
  SEQUENCER_CONNECTION_FAILED: defineErrorCode(
    'SEQUENCER_CONNECTION_FAILED',
    'TransientServerFailure',
    'No sequencer endpoint could be reached (refused, timed out, or TLS verification failed).',
    'Check the endpoints (scheme, host, port), that a sequencer node runs there, and for https the root CA given (--sequencer-ca, trust-collection-file).',
  ),
  SEQUENCER_INSECURE_CONNECTION: defineErrorCode(
    'SEQUENCER_INSECURE_CONNECTION',
    'InvalidIndependentOfSystemState',
    'Plaintext gRPC is only allowed on loopback addresses.',
    "Use https:// with the sequencer's CA; behind a TLS-terminating proxy, set the connection's insecure option explicitly.",
  ),
  SEQUENCER_EVENT_INVALID: defineErrorCode(
    'SEQUENCER_EVENT_INVALID',
    'MaliciousOrFaultyBehaviour',
    'A received event has a bad sequencer signature, a counter gap or a wrong previous timestamp.',
    'Reconnect to another node or sequencer; report the sequencer node that sent the event, which is faulty or was tampered with.',
  ),
  SEQUENCER_CONNECTIONS_INVALID: defineErrorCode(
    'SEQUENCER_CONNECTIONS_INVALID',
    'InvalidIndependentOfSystemState',
    'The sequencer connections are misconfigured: both or neither of endpoints and connections, a trust threshold outside 1 to the number of connections, or a negative liveness margin.',
    'Give either endpoints or connections, a trust threshold between 1 and the number of connections, and a non-negative liveness margin.',
  ),
  SEQUENCER_AGGREGATION_FAILED: defineErrorCode(
    'SEQUENCER_AGGREGATION_FAILED',
    'MaliciousOrFaultyBehaviour',
    'The sequencers a member connects to delivered different events, or too few remain, so that no event can reach the sequencer trust threshold.',
    'Investigate the sequencers whose events differ (their logs and signing keys), and bring enough of them back for the trust threshold.',
  ),
  SEQUENCER_ONBOARDING_REJECTED: defineErrorCode(
    'SEQUENCER_ONBOARDING_REJECTED',
    'InsufficientPermission',
    "The onboarding topology transactions are not allowed by the synchronizer's onboarding restriction.",
    'Ask a synchronizer owner to allow-list the participant (weft admin participants set-state), then connect again.',
  ),
  SEQUENCER_CLIENT_CLOSED: defineErrorCode(
    'SEQUENCER_CLIENT_CLOSED',
    'InvalidGivenCurrentSystemStateOther',
    'The sequencer client was closed or stopped after a fatal error.',
    'Create a new sequencer client (reconnect the node); the log has the fatal error that closed it.',
  ),
} as const;
