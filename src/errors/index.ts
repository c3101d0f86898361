/**
 * The error catalogue: every error a Weft API returns has a stable code, a category and a message a user can act
 * on. Categories follow Canton's error categories; each maps to one gRPC status and one HTTP status so that the
 * Admin, Ledger and sequencer APIs report the same failure the same way.
 */

export type ErrorCategory =
  | 'InvalidIndependentOfSystemState'
  | 'InvalidGivenCurrentSystemStateOther'
  | 'InvalidGivenCurrentSystemStateResourceMissing'
  | 'InvalidGivenCurrentSystemStateResourceExists'
  | 'InvalidGivenCurrentSystemStateSeekAfterEnd'
  | 'AuthInterceptorInvalidAuthenticationCredentials'
  | 'InsufficientPermission'
  | 'ContentionOnSharedResources'
  | 'DeadlineExceededRequestStateUnknown'
  | 'TransientServerFailure'
  | 'SystemInternalAssumptionViolated'
  | 'MaliciousOrFaultyBehaviour'
  | 'InternalUnsupportedOperation';

/** gRPC status codes (numeric values of the gRPC spec), kept here so errors need no gRPC dependency. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

interface CategoryInfo {
  /** Canton's numeric category id, printed in error strings. */
  readonly id: number;
  readonly grpc: number;
  readonly http: number;
  /** Whether a client may retry the same request unchanged. */
  readonly retryable: boolean;
}

export const CATEGORIES: Readonly<Record<ErrorCategory, CategoryInfo>> = {
  InvalidIndependentOfSystemState: { id: 8, grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, retryable: false },
  InvalidGivenCurrentSystemStateOther: {
    id: 9,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    http: 400,
    retryable: false,
  },
  InvalidGivenCurrentSystemStateResourceMissing: {
    id: 11,
    grpc: GrpcStatus.NOT_FOUND,
    http: 404,
    retryable: false,
  },
  InvalidGivenCurrentSystemStateResourceExists: {
    id: 10,
    grpc: GrpcStatus.ALREADY_EXISTS,
    http: 409,
    retryable: false,
  },
  InvalidGivenCurrentSystemStateSeekAfterEnd: {
    id: 12,
    grpc: GrpcStatus.OUT_OF_RANGE,
    http: 400,
    retryable: false,
  },
  AuthInterceptorInvalidAuthenticationCredentials: {
    id: 6,
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    retryable: false,
  },
  InsufficientPermission: { id: 7, grpc: GrpcStatus.PERMISSION_DENIED, http: 403, retryable: false },
  ContentionOnSharedResources: { id: 2, grpc: GrpcStatus.ABORTED, http: 409, retryable: true },
  DeadlineExceededRequestStateUnknown: {
    id: 3,
    grpc: GrpcStatus.DEADLINE_EXCEEDED,
    http: 504,
    retryable: true,
  },
  TransientServerFailure: { id: 1, grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  SystemInternalAssumptionViolated: { id: 4, grpc: GrpcStatus.INTERNAL, http: 500, retryable: false },
  MaliciousOrFaultyBehaviour: { id: 5, grpc: GrpcStatus.UNKNOWN, http: 500, retryable: false },
  InternalUnsupportedOperation: { id: 14, grpc: GrpcStatus.UNIMPLEMENTED, http: 501, retryable: false },
};

/** A catalogued error code: stable name, category, a one-line explanation and what to do about it (for the docs). */
export interface ErrorCode {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly explanation: string;
  /** What the caller or operator should do when this error comes, as Canton's catalogue says per code. */
  readonly resolution: string;
}

const registry = new Map<string, ErrorCode>();

/** Registers a code once; components define their codes at module load, so duplicates are programming errors. */
export function defineErrorCode(
  code: string,
  category: ErrorCategory,
  explanation: string,
  resolution: string,
): ErrorCode {
  if (!/^[A-Z][A-Z0-9_]*$/.test(code)) throw new Error(`error code ${code} is not UPPER_SNAKE_CASE`);
  if (registry.has(code)) throw new Error(`error code ${code} is defined twice`);
  if (explanation.trim() === '' || resolution.trim() === '') {
    throw new Error(`error code ${code} needs an explanation and a resolution`);
  }
  const def = Object.freeze({ code, category, explanation, resolution });
  registry.set(code, def);
  return def;
}

/** All codes defined so far, sorted by name (for documentation and the admin API). */
export function errorCatalogue(): ErrorCode[] {
  return [...registry.values()].sort((a, b) => a.code.localeCompare(b.code));
}

export type ErrorContext = Readonly<Record<string, string | number | boolean | bigint | undefined>>;

/**
 * The one error type every Weft API throws. `toString()` follows Canton's shape
 * `CODE(categoryId,correlation): message`.
 */
export class WeftError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly context: ErrorContext;

  constructor(def: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeftError';
    this.code = def.code;
    this.category = def.category;
    this.context = context;
  }

  get grpcStatus(): number {
    return CATEGORIES[this.category].grpc;
  }

  get httpStatus(): number {
    return CATEGORIES[this.category].http;
  }

  get retryable(): boolean {
    return CATEGORIES[this.category].retryable;
  }

  override toString(): string {
    return `${this.code}(${CATEGORIES[this.category].id}): ${this.message}`;
  }

  /** A JSON-safe view for logs and API error bodies (bigints as strings). */
  toJSON(): { code: string; category: ErrorCategory; message: string; context: Record<string, string> } {
    const context: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.context)) if (v !== undefined) context[k] = String(v);
    return { code: this.code, category: this.category, message: this.message, context };
  }
}

export function isWeftError(e: unknown, def?: ErrorCode): e is WeftError {
  return e instanceof WeftError && (def === undefined || e.code === def.code);
}

/** Codes shared across components. Component-specific codes live beside their component. */
export const CommonErrors = {
  INVALID_ARGUMENT: defineErrorCode(
    'INVALID_ARGUMENT',
    'InvalidIndependentOfSystemState',
    'The request is malformed or carries an invalid field.',
    'Correct the field the message names and send the request again; retrying it unchanged fails the same way.',
  ),
  NOT_FOUND: defineErrorCode(
    'NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The requested resource does not exist.',
    'Check the identifier in the request (a typo, another node or synchronizer) and list what exists before retrying.',
  ),
  ALREADY_EXISTS: defineErrorCode(
    'ALREADY_EXISTS',
    'InvalidGivenCurrentSystemStateResourceExists',
    'The resource to be created exists already.',
    'Nothing to do if the existing resource is the one you meant; otherwise choose another name or id.',
  ),
  FAILED_PRECONDITION: defineErrorCode(
    'FAILED_PRECONDITION',
    'InvalidGivenCurrentSystemStateOther',
    'The request is valid but not in the current state of the system.',
    'Bring the system into the state the message names (connect, onboard, bootstrap, …) and retry.',
  ),
  UNAUTHENTICATED: defineErrorCode(
    'UNAUTHENTICATED',
    'AuthInterceptorInvalidAuthenticationCredentials',
    'The caller did not present valid credentials.',
    'Present valid credentials (a client certificate the node trusts, a fresh token) and retry.',
  ),
  PERMISSION_DENIED: defineErrorCode(
    'PERMISSION_DENIED',
    'InsufficientPermission',
    'The caller is authenticated but not allowed to do this.',
    'Use an identity that holds the permission, or have an operator grant it.',
  ),
  PARTICIPANT_IS_NOT_ACTIVE: defineErrorCode(
    'PARTICIPANT_IS_NOT_ACTIVE',
    'InvalidGivenCurrentSystemStateOther',
    'The participant is not active on the synchronizer (not onboarded, not permissioned, or revoked).',
    'Have a synchronizer owner allow-list the participant (weft admin participants set-state), connect it, and retry once the change is in force.',
  ),
  UNAVAILABLE: defineErrorCode(
    'UNAVAILABLE',
    'TransientServerFailure',
    'A dependency (database, peer node) is temporarily unreachable.',
    'Retry with backoff; if it persists, check that the database or peer node named in the message is up and reachable.',
  ),
  RESOURCE_EXHAUSTED: defineErrorCode(
    'RESOURCE_EXHAUSTED',
    'ContentionOnSharedResources',
    'A configured limit was reached (queue size, in-flight requests, request size).',
    'Retry later with backoff; if it persists, reduce the load or raise the limit the message names.',
  ),
  DEADLINE_EXCEEDED: defineErrorCode(
    'DEADLINE_EXCEEDED',
    'DeadlineExceededRequestStateUnknown',
    'The operation did not finish in time; its outcome is unknown.',
    'Check whether the operation took effect (its completion, the state it changes) before retrying; retry only if it did not.',
  ),
  UNSUPPORTED_OPERATION: defineErrorCode(
    'UNSUPPORTED_OPERATION',
    'InternalUnsupportedOperation',
    'The request asks for something this version of Weft does not implement (reassignments, external parties, interactive submission).',
    'Do without the operation, or run a Weft version that implements it; retrying the same request fails the same way.',
  ),
  INTERNAL: defineErrorCode(
    'INTERNAL',
    'SystemInternalAssumptionViolated',
    'An internal invariant was violated; this is a bug.',
    "Report it with the node's log around the time of the error; restart the node if it stopped.",
  ),
} as const;
