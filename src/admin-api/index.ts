/**
 * The Admin API (`weft.admin.v1`) every node serves on its `admin-api` endpoint: status and health, identity,
 * topology read and write, and synchronizer bootstrap on a sequencer node; and its client.
 */
export { AdminClient, type AdminClientOptions } from './client.js';
export { AdminErrors } from './errors.js';
export {
  type BootstrapOutcome,
  type BootstrapRequest,
  genesisGroups,
  type SynchronizerGenesis,
} from './genesis.js';
export { memberIdentityOf } from './identity.js';
export type { AdminNode, NodeEndpoint } from './node.js';
export {
  type ConnectedSynchronizerInfo,
  endpointsOf,
  type ParticipantHost,
  type SynchronizerConnectionConfig,
} from './participant.js';
export {
  ADMIN_MAX_MESSAGE_BYTES,
  type AdminApiConfig,
  type AdminApiOptions,
  type AdminApiServer,
  adminApiOptions,
  adminApiSchema,
  startAdminApi,
} from './server.js';
export {
  type AdminSynchronizer,
  type MediatorOnboarding,
  TopologyAdmin,
  type TopologyChange,
  type TopologyEntry,
  type TopologyQuery,
} from './topology.js';
