/**
 * The mediator: registers confirmation requests, aggregates the participants' responses against the confirmation
 * thresholds of the topology, decides approve, reject or timeout, and sends signed verdicts; restarts resume
 * from its own storage and the replayed event stream without deciding any request twice.
 */
export {
  type AggregationFactory,
  type AggregationView,
  type PartyConfirmers,
  ResponseAggregation,
  type ResponseInput,
} from './aggregation.js';
export {
  type MediatorSettings,
  mediatorNodeSchema,
  mediatorSectionSchema,
  mediatorSettings,
  memberSequencerConnection,
  type SequencerConnectionConfig,
  sequencerConnectionSchema,
} from './config.js';
export { MediatorErrors } from './errors.js';
export { Mediator, type MediatorOptions, type MediatorTransport, verdictMessageId } from './mediator.js';
export { MediatorMetrics } from './metrics.js';
export { MediatorNode, type MediatorNodeOptions, type MediatorSequencerConnection } from './node.js';
export {
  type EventPosition,
  type LoadedMediatorState,
  type MediatorCursor,
  MediatorStore,
  type MediatorWrite,
  type StoredVerdict,
  type VerdictDelivery,
  type VerdictRecord,
} from './store.js';
export {
  type RequestEnvelopes,
  type RequestValidation,
  type ValidRequest,
  validateRequest,
} from './validation.js';
