/**
 * The daemons: a node's lifecycle as a process runs it (`weft daemon`, the sandbox, the tests). Each daemon owns
 * its node's runtime, its persisted daemon state (a sequencer's genesis, a mediator's membership, a participant's
 * synchronizer connections), the node itself once it can run, and the Admin API it serves; the Admin API sees it
 * only through the narrow interfaces it implements (`AdminNode`, `ParticipantHost`). See docs/architecture.md
 * (Daemons).
 */
export {
  DAEMON_SCHEMAS,
  type DaemonNodeConfig,
  type MediatorDaemonConfig,
  type ParticipantDaemonConfig,
  type SequencerDaemonConfig,
} from './config.js';
export { ConnectionStore, transportOf } from './connections.js';
export { bootstrapSequencer, GenesisStore } from './genesis.js';
export { MediatorDaemon } from './mediator.js';
export { MembershipStore } from './membership.js';
export { MONITORED_KINDS, type MonitoredKind, metricCatalog } from './metric-catalog.js';
export { type DaemonNode, startDaemonNode } from './node.js';
export { oneLine } from './one-line.js';
export { ADMIN_WORKFLOW_DAR, ParticipantDaemon } from './participant.js';
export { SequencerDaemon } from './sequencer.js';
