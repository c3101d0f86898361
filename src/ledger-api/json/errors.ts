import { defineErrorCode } from '../../errors/index.js';

/** Codes of the JSON Ledger API itself (Canton's JsonApiErrors); request validation uses the shared codes. */
export const JsonApiErrors = {
  JSON_API_MAXIMUM_LIST_ELEMENTS_NUMBER_REACHED: defineErrorCode(
    'JSON_API_MAXIMUM_LIST_ELEMENTS_NUMBER_REACHED',
    'ContentionOnSharedResources',
    'An HTTP list endpoint (updates, active contracts, completions) matched more elements than the node returns in one response (`http-list-max-elements-limit`, or the smaller `limit` of the request); the HTTP status is 413.',
    'Read the stream over the websocket of the same path, which delivers it in frames; or narrow the request (offsets, filters); or have the operator raise json-api.http-list-max-elements-limit.',
  ),
  JSON_API_REQUEST_TOO_LARGE: defineErrorCode(
    'JSON_API_REQUEST_TOO_LARGE',
    'InvalidIndependentOfSystemState',
    'The request body is larger than the JSON API accepts (`json-api.max-request-bytes`); the HTTP status is 413.',
    'Send a smaller request (upload large DARs one at a time), or have the operator raise json-api.max-request-bytes.',
  ),
  JSON_API_ENDPOINT_NOT_FOUND: defineErrorCode(
    'JSON_API_ENDPOINT_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No JSON Ledger API endpoint has this path and method.',
    'Check the path and method against the OpenAPI document the participant serves at /docs/openapi.',
  ),
  JSON_API_SERVICE_NOT_SERVED: defineErrorCode(
    'JSON_API_SERVICE_NOT_SERVED',
    'InvalidGivenCurrentSystemStateOther',
    'The endpoint exists in the JSON Ledger API, but the participant does not serve the Ledger API service behind it (gRPC UNIMPLEMENTED); the HTTP status is 501.',
    'Use another endpoint for the purpose, or a participant version that serves this service.',
  ),
} as const;
