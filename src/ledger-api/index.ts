/**
 * The Ledger API v2 (Canton's `com.daml.ledger.api.v2`) a participant serves: transport-neutral service handlers
 * over the participant, the gRPC transport that binds them (Canton's error shape, authentication, back-pressure,
 * reflection), and its config section.
 */
export type { Claims } from './auth/claims.js';
export {
  LedgerApiClient,
  type LedgerApiClientOptions,
  type LedgerStream,
  type LedgerUnary,
} from './client.js';
export {
  DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
  DEFAULT_MAX_STREAMS,
  type LedgerApiConfig,
  type LedgerApiSettings,
  ledgerApiSchema,
  ledgerApiSettings,
} from './config.js';
export { LedgerApiErrors } from './errors.js';
export {
  LEDGER_API_DESCRIPTORS,
  type LedgerApiHost,
  type ParticipantLedgerApi,
  type ParticipantLedgerApiServers,
  participantLedgerApi,
  startLedgerApi,
} from './participant.js';
export { type LedgerApiServer, serveLedgerApi } from './server.js';
export type { CallContext, ServiceImpl, StreamHandler, UnaryHandler } from './service.js';
export { LEDGER_API_VERSION, type VersionFeatures, versionService } from './services/version.js';
export {
  type LedgerApiErrorDetails,
  ledgerApiErrorDetails,
  ledgerApiErrorOf,
  ledgerApiStatus,
  STATUS_DETAILS_KEY,
} from './status.js';
