/**
 * What every Weft gRPC API shares: WeftError ↔ gRPC status, transport security (TLS credentials, plaintext only on
 * loopback), binding, endpoint URLs, and the audit line each call logs.
 */
export {
  type ClientCertificate,
  callUnary,
  channelCredentials,
  type ParsedEndpoint,
  parseEndpoint,
  type Unary,
} from './client.js';
export { logGrpcTo } from './logging.js';
export { withFastSerializers } from './serialization.js';
export {
  auditedCall,
  auditedUnary,
  bindServer,
  type CallLogging,
  type CallOutcome,
  endpointUrl,
  failingService,
  isLoopback,
  readServerTls,
  requireTransportSecurity,
  type ServerTls,
  serverCredentials,
} from './server.js';
export { endpointsFailed, toStatus, transportError, weftErrorNamed, weftErrorOf } from './status.js';
