/**
 * The participant: hosts parties, stores DARs and vets their packages, submits Daml transactions as encrypted views
 * through a synchronizer (two-phase confirmation with the mediator), validates the requests it is an informee of,
 * commits approved transactions, and serves per-party updates, active contracts, completions and `health.ping`.
 */
export type { KnownContract } from './acs.js';
export type {
  CommandStatus,
  CommandStatusState,
  CommandUpdates,
  RequestStatistics,
} from './command-status.js';
export type { CompletionFilter } from './completions.js';
export {
  DEFAULT_PARTICIPANT_SETTINGS,
  type ParticipantSettings,
  participantSectionSchema,
  participantSettings,
} from './config.js';
export type { ConnectOptions } from './connections.js';
export { absolutizeTransaction, isAuthentic, ParticipantHashPurpose } from './contracts.js';
export { ParticipantErrors } from './errors.js';
export { ParticipantMetrics } from './metrics.js';
export { ParticipantNode, type ParticipantNodeOptions } from './node.js';
export type { DarInfo, KnownPackage } from './packages.js';
export { PING_PACKAGE_NAME, PING_TEMPLATE } from './ping.js';
export type { Committed } from './protocol.js';
export { ParticipantPruning, PruningErrors } from './pruning.js';
export type { ActiveContract } from './reads.js';
export type { DeduplicationPeriod } from './store.js';
export {
  changeIdOf,
  type DisclosedContract,
  type SubmitRequest,
} from './submitter.js';
export type { HostedParty, VettingState } from './topology-requests.js';
export {
  type ArchivedEvent,
  type Completion,
  type CreatedEvent,
  type ExercisedEvent,
  eventsOf,
  type PhaseTimings,
  type TransactionUpdate,
  type UpdateEvent,
} from './updates.js';
export { type PlannedView, planViews, type ViewData } from './views.js';
