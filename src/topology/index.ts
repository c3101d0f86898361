/**
 * Topology: signed topology transactions (`weft.topology.v1`), their authorization rules, and each node's topology
 * state built from the transactions sequenced on its synchronizer, queried by effective time.
 */
export {
  type MissingAuth,
  missingAuth,
  type ProvidedAuth,
  type RequiredAuth,
  referencedAuth,
  requiredAuth,
} from './auth.js';
export {
  decodeTopologyBroadcast,
  encodeTopologyBroadcast,
  processSequencedTopology,
  topologyBroadcastEnvelope,
  topologyTransactionsOf,
} from './broadcast.js';
export {
  type BatchChanges,
  type ProcessedBatch,
  type ProcessedTransaction,
  TopologyEngine,
} from './engine.js';
export { TopologyErrors } from './errors.js';
export {
  createGenesis,
  type Genesis,
  type GenesisNode,
  type GenesisOptions,
  type MemberIdentity,
} from './genesis.js';
export {
  type ParticipantStateOptions,
  type ProposeOptions,
  type TopologyAuthoringContext,
  TopologyManager,
  type TrustLevel,
} from './manager.js';
export {
  canSign,
  comparePermissions,
  DEFAULT_SYNCHRONIZER_PARAMETERS,
  type DecentralizedNamespaceDefinition,
  type DelegationRestriction,
  type DynamicSynchronizerParameters,
  decentralizedNamespaceOf,
  describeMapping,
  type HostingParticipant,
  isRootDelegation,
  MAPPING_CODES,
  type MappingKind,
  type MappingOf,
  type MediatorSynchronizerState,
  mappingFromProto,
  mappingsEqual,
  mappingToProto,
  minPermission,
  type NamespaceDelegation,
  type OnboardingRestriction,
  type OwnerToKeyMapping,
  type ParticipantPermission,
  type ParticipantSynchronizerLimits,
  type ParticipantSynchronizerPermission,
  type PartyToParticipant,
  type SequencerSynchronizerState,
  type SynchronizerParametersState,
  type SynchronizerTrustCertificate,
  type TopologyMapping,
  UniqueKeys,
  uniqueKey,
  type VettedPackage,
  type VettedPackages,
} from './mapping.js';
export {
  exportState,
  type ProcessorResult,
  replaySnapshot,
  TopologyProcessor,
  type TopologyProcessorOptions,
} from './processor.js';
export {
  type Activity,
  type AuthorizedKey,
  type HeadState,
  type MediatorGroup,
  type MemberKeys,
  type PartyHosting,
  type SequencerGroup,
  StoredTopologyTransaction,
  type SynchronizerOwners,
  type TopologySnapshot,
  TopologyState,
} from './state.js';
export { type TopologyOutcome, type TopologyRecord, TopologyStore } from './store.js';
export {
  SignedTopologyTransaction,
  signedMessage,
  type TopologyChangeOp,
  type TopologySignature,
  type TopologySigner,
  TopologyTransaction,
} from './transaction.js';
export { type Validation, type ValidationContext, validateTopologyTransaction } from './validation.js';
