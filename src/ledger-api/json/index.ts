/**
 * The JSON Ledger API v2 (Canton 3.4's HTTP + websocket encoding of the Ledger API), served over the same
 * transport-neutral service handlers as the gRPC Ledger API.
 */
export { formatInstant, identifierFromString, identifierToString, JsonCodec, parseInstant } from './codec.js';
export {
  DEFAULT_JSON_API_PORT,
  type JsonApiConfig,
  type JsonApiSettings,
  jsonApiSchema,
  jsonApiSettings,
} from './config.js';
export { type DamlTypes, damlValues, protoToJson } from './daml-values.js';
export { asyncApiDocument, JSON_API_VERSION, openApiDocument } from './docs.js';
export { JsonApiErrors } from './errors.js';
export { type JsCantonError, jsCantonError } from './errors-body.js';
export { OPERATIONS, type Operation } from './routes.js';
export {
  type Authenticator,
  JSON_API_DEFAULTS,
  type JsonApiOptions,
  type JsonApiServer,
  startJsonApi,
} from './server.js';
