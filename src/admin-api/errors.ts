import { defineErrorCode } from '../errors/index.js';

/** Errors of the Admin API and its client. */
export const AdminErrors = {
  ADMIN_NODE_NOT_INITIALISED: defineErrorCode(
    'ADMIN_NODE_NOT_INITIALISED',
    'InvalidGivenCurrentSystemStateOther',
    'The node has no synchronizer yet: bootstrap one on a sequencer node (weft admin bootstrap) first.',
  ),
  ADMIN_NOT_SUPPORTED: defineErrorCode(
    'ADMIN_NOT_SUPPORTED',
    'InvalidGivenCurrentSystemStateOther',
    'Nodes of this kind do not offer the call (e.g. bootstrap on a node that is not a sequencer).',
  ),
  ADMIN_ALREADY_BOOTSTRAPPED: defineErrorCode(
    'ADMIN_ALREADY_BOOTSTRAPPED',
    'InvalidGivenCurrentSystemStateResourceExists',
    'The sequencer belongs to another synchronizer already; a node is bootstrapped once.',
  ),
  ADMIN_CONNECTION_FAILED: defineErrorCode(
    'ADMIN_CONNECTION_FAILED',
    'TransientServerFailure',
    "The node's admin endpoint cannot be reached, or the TLS handshake with it failed.",
  ),
  ADMIN_INSECURE_CONNECTION: defineErrorCode(
    'ADMIN_INSECURE_CONNECTION',
    'InvalidIndependentOfSystemState',
    'Plaintext admin connections are allowed on loopback only, unless explicitly made insecure.',
  ),
} as const;
