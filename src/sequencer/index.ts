/**
 * The sequencer: a total order of member submissions shared by several nodes on one database, its public gRPC API
 * (`weft.sequencer.v1`), and the client members use to reach it over one or more endpoints, or to reach several
 * sequencers with a trust threshold.
 */
export { MemberAuthenticator, type Token } from './auth.js';
export { type EventProof, verifyEventProof } from './blocks.js';
export {
  type ClientState,
  type ReceivedEvent,
  type SendHandle,
  type SendOutcome,
  type SendRequest,
  SequencerClient,
  type SequencerClientOptions,
  type SequencerConnectionConfig,
  type SequencerConnectionStatus,
} from './client/client.js';
export type { SequencerConnectionState } from './client/connection.js';
export {
  type EventStream,
  type MemberToken,
  parseSequencerEndpoint,
  type SequencerChannel,
  type SequencerDialer,
  type TransportOptions,
} from './client/endpoint.js';
export {
  downloadTopologyStateForInit,
  registerOnboardingTransactions,
  synchronizerIdAt,
  type UntilActiveOptions,
  untilActive,
} from './client/onboarding.js';
export { type SendBatchSettings, sendBatchSchema, sendBatchSettings } from './client/send-queue.js';
export {
  eventBatchSize,
  type SequencerSettings,
  sequencerNodeSchema,
  sequencerSectionSchema,
  sequencerSettings,
  WRITER_PRESETS,
  type WriterPreset,
} from './config.js';
export { SequencerErrors } from './errors.js';
export { AUTHORIZATION_METADATA_KEY, MEMBER_METADATA_KEY } from './grpc-common.js';
export type { PublicApiOptions, PublicApiServer, ServerTls } from './grpc-server.js';
export { ChannelStream, InProcessSequencers, PublicApiChannel, type StreamLink } from './in-process.js';
export { type SequencerMetrics, sequencerMetrics } from './metrics.js';
export { publicApiOptions, SequencerNode, type SequencerNodeOptions } from './node.js';
export { type Caller, type PublicApiContext, SequencerPublicApi } from './public-api.js';
export { type PruningStatus, Sequencer, type SequencerOptions } from './sequencer.js';
export { authenticationHash, SignaturePurpose, signContent, verifyContent } from './signing.js';
export {
  type MemberStatus,
  type OnboardingCheck,
  PROTOCOL_VERSION,
  type SequencerTopology,
} from './topology.js';
export { sequencerTopologyOf } from './topology-adapter.js';
