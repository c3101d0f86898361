import { defineErrorCode } from '../errors/index.js';

/** Errors of the Admin API and its client. */
export const AdminErrors = {
  ADMIN_NODE_NOT_INITIALISED: defineErrorCode(
    'ADMIN_NODE_NOT_INITIALISED',
    'InvalidGivenCurrentSystemStateOther',
    'The node has no synchronizer yet.',
    'Bootstrap a synchronizer on a sequencer node (weft admin bootstrap), or onboard this node to one, then retry.',
  ),
  ADMIN_NOT_SUPPORTED: defineErrorCode(
    'ADMIN_NOT_SUPPORTED',
    'InvalidGivenCurrentSystemStateOther',
    'Nodes of this kind do not offer the call (e.g. bootstrap on a node that is not a sequencer).',
    "Send the call to a node of the right kind (`weft admin status` shows a node's kind).",
  ),
  ADMIN_ALREADY_BOOTSTRAPPED: defineErrorCode(
    'ADMIN_ALREADY_BOOTSTRAPPED',
    'InvalidGivenCurrentSystemStateResourceExists',
    'The sequencer belongs to another synchronizer already; a node is bootstrapped once.',
    'Use the synchronizer the node has (weft admin status); a sequencer bootstraps once, so another synchronizer needs another sequencer.',
  ),
  ADMIN_CONNECTION_FAILED: defineErrorCode(
    'ADMIN_CONNECTION_FAILED',
    'TransientServerFailure',
    "The node's admin endpoint cannot be reached, or the TLS handshake with it failed.",
    'Check the -e endpoint (scheme, host, port), that the node is running, and for https the CA and client certificate given.',
  ),
  ADMIN_MESSAGE_TOO_LARGE: defineErrorCode(
    'ADMIN_MESSAGE_TOO_LARGE',
    'InvalidIndependentOfSystemState',
    "A request or response exceeds the Admin API's message size limit (256 MiB by default), so it was not sent or not accepted.",
    'Send less at once (e.g. a smaller DAR), or raise the limit of both the client and the node if the message is legitimate.',
  ),
  ADMIN_INSECURE_CONNECTION: defineErrorCode(
    'ADMIN_INSECURE_CONNECTION',
    'InvalidIndependentOfSystemState',
    'Plaintext admin connections are allowed on loopback only, unless explicitly made insecure.',
    "Use https with the node's CA, connect from the node's host over loopback, or pass --insecure (plaintext through a trusted network or a TLS-terminating proxy).",
  ),
} as const;
