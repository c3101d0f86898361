import { CATEGORIES, isWeftError } from '../../errors/index.js';
import { JsonApiErrors } from './errors.js';

/** Canton's JsCantonError: the body of every failed JSON API call and the error frame of a websocket. */
export interface JsCantonError {
  readonly code: string;
  readonly cause: string;
  readonly correlationId?: string;
  readonly traceId?: string;
  readonly context: Record<string, string>;
  readonly resources: [string, string][];
  readonly errorCategory: number;
  readonly grpcCodeValue?: number;
  readonly retryInfo?: string;
  readonly definiteAnswer?: boolean;
}

/** Codes whose HTTP status is not their category's: too large (413, as Canton) and not served (gRPC UNIMPLEMENTED). */
const HTTP_STATUS: Readonly<Record<string, number>> = {
  [JsonApiErrors.JSON_API_MAXIMUM_LIST_ELEMENTS_NUMBER_REACHED.code]: 413,
  [JsonApiErrors.JSON_API_REQUEST_TOO_LARGE.code]: 413,
  [JsonApiErrors.JSON_API_SERVICE_NOT_SERVED.code]: 501,
};

/** How retryable categories advertise their delay (Canton's retry duration, as Scala prints it). */
const RETRY_INFO = '1 second';

/**
 * The HTTP status and JsCantonError of a failure: the catalogued code, its cause and context, the category's
 * numeric id and gRPC code, and the ids to quote. A failure that is not a catalogued error (a bug) is redacted as
 * Canton redacts it: the client learns only the ids; the log has the rest.
 */
export function jsCantonError(e: unknown, correlationId: string): { status: number; body: JsCantonError } {
  if (!isWeftError(e) || e.category === 'SystemInternalAssumptionViolated') {
    const category = CATEGORIES.SystemInternalAssumptionViolated;
    return {
      status: 500,
      body: {
        code: 'INTERNAL',
        cause: `An error occurred. Please contact the operator and inquire about the request ${correlationId} with tid ${correlationId}`,
        correlationId,
        traceId: correlationId,
        context: {},
        resources: [],
        errorCategory: category.id,
        grpcCodeValue: category.grpc,
      },
    };
  }
  const category = CATEGORIES[e.category];
  return {
    status: HTTP_STATUS[e.code] ?? category.http,
    body: {
      code: e.code,
      cause: e.message,
      correlationId,
      traceId: correlationId,
      context: { ...e.toJSON().context, category: String(category.id) },
      resources: [],
      errorCategory: category.id,
      grpcCodeValue: category.grpc,
      ...(category.retryable ? { retryInfo: RETRY_INFO } : {}),
      definiteAnswer: false,
    },
  };
}
