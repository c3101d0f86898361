import * as grpc from '@grpc/grpc-js';
import { CATEGORIES, type ErrorCode, errorCatalogue, isWeftError, WeftError } from '../errors/index.js';
import { Any } from '../generated/google/protobuf/any.js';
import { ErrorInfo, RequestInfo, RetryInfo } from '../generated/google/rpc/error_details.js';
import { Status } from '../generated/google/rpc/status.js';

/** gRPC's metadata key for the serialized google.rpc.Status of a failed call (the "rich error model"). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** Canton cuts an error's cause to this many characters on the wire. */
const MAX_CAUSE_LENGTH = 512;
/** Canton keeps the serialized Status within 4 KiB (gRPC's trailers are 8 KiB); context is cut to fit. */
const MAX_CONTEXT_BYTES = 3072;
/** The retry delay Canton advertises for every retryable category. */
const RETRY_DELAY_SECONDS = 1n;

export interface StatusIds {
  /** Canton's correlation id: printed (first 8 characters) in the message, and the RequestInfo's request_id. */
  readonly correlationId: string;
  /** The W3C trace id, in the ErrorInfo metadata as `tid`. */
  readonly traceId: string | undefined;
}

/**
 * The gRPC status of a failed Ledger API call, shaped as Canton's: the code of the error's category; the message
 * `CODE(category,corr-id): cause`; and in `grpc-status-details-bin` a google.rpc.Status with an ErrorInfo
 * (reason = the catalogue code, metadata = the error's context plus `category` and `tid`), a RetryInfo for
 * retryable categories and a RequestInfo carrying the correlation id. An internal error (a bug) is redacted as
 * Canton redacts it: the client learns only the ids to quote to the operator; the log has the rest.
 * (Canton also redacts authentication and permission errors; Weft names the reason and the missing right, which
 * says nothing the caller's own token does not.)
 */
export function ledgerApiStatus(e: unknown, ids: StatusIds): grpc.StatusObject {
  if (!isWeftError(e) || e.category === 'SystemInternalAssumptionViolated') return redacted(ids);
  const category = CATEGORIES[e.category];
  const cause =
    e.message.length > MAX_CAUSE_LENGTH ? `${e.message.slice(0, MAX_CAUSE_LENGTH)}...` : e.message;
  const message = `${e.code}(${category.id},${ids.correlationId.slice(0, 8)}): ${cause}`;
  const metadata: Record<string, string> = {};
  let budget = MAX_CONTEXT_BYTES;
  for (const [key, value] of Object.entries(e.toJSON().context)) {
    // Keys as gRPC metadata allows them (Canton's rule); empty entries say nothing.
    const k = key.replace(/[^a-zA-Z0-9\-_()]/g, '').slice(0, 63);
    const v = value.length > MAX_CAUSE_LENGTH ? `${value.slice(0, MAX_CAUSE_LENGTH)}...` : value;
    const size = Buffer.byteLength(k) + Buffer.byteLength(v);
    if (k === '' || v === '' || size > budget) continue;
    metadata[k] = v;
    budget -= size;
  }
  if (ids.traceId !== undefined) metadata.tid = ids.traceId;
  metadata.category = String(category.id);
  const details = [Any.pack({ reason: e.code, domain: '', metadata }, ErrorInfo)];
  if (category.retryable) {
    details.push(Any.pack({ retryDelay: { seconds: RETRY_DELAY_SECONDS, nanos: 0 } }, RetryInfo));
  }
  details.push(Any.pack({ requestId: ids.correlationId, servingData: '' }, RequestInfo));
  return withDetails(category.grpc, message, details);
}

function redacted(ids: StatusIds): grpc.StatusObject {
  const message = `An error occurred. Please contact the operator and inquire about the request ${ids.correlationId} with tid ${ids.traceId ?? '<no-tid>'}`;
  return withDetails(grpc.status.INTERNAL, message, [
    Any.pack({ requestId: ids.correlationId, servingData: '' }, RequestInfo),
  ]);
}

function withDetails(code: number, message: string, details: Any[]): grpc.StatusObject {
  const metadata = new grpc.Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.toBinary({ code, message, details })));
  return { code, details: message, metadata };
}

/** What a Ledger API error status says, decoded (for clients: the CLI, the tests). */
export interface LedgerApiErrorDetails {
  readonly code: number;
  readonly message: string;
  readonly errorInfo?: ErrorInfo;
  readonly retryInfo?: RetryInfo;
  readonly requestInfo?: RequestInfo;
}

/** Decodes the google.rpc.Status a failed call carries; undefined when it carries none. */
export function ledgerApiErrorDetails(e: unknown): LedgerApiErrorDetails | undefined {
  const bytes = (e as Partial<grpc.ServiceError>).metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!(bytes instanceof Buffer)) return undefined;
  let status: Status;
  try {
    status = Status.fromBinary(bytes);
  } catch {
    return undefined;
  }
  const unpack = <T extends object>(type: { typeName: string } & Parameters<typeof Any.unpack<T>>[1]) => {
    const any = status.details.find((d) => Any.contains(d, type));
    return any ? Any.unpack(any, type) : undefined;
  };
  const errorInfo = unpack(ErrorInfo);
  const retryInfo = unpack(RetryInfo);
  const requestInfo = unpack(RequestInfo);
  return {
    code: status.code,
    message: status.message,
    ...(errorInfo ? { errorInfo } : {}),
    ...(retryInfo ? { retryInfo } : {}),
    ...(requestInfo ? { requestInfo } : {}),
  };
}

/**
 * A failed Ledger API call as the WeftError the server threw: the catalogue code from the ErrorInfo's reason, the
 * cause from the message, the context from the metadata. Undefined when the failure carries no catalogued code
 * (a transport failure, a redacted internal error, a code this build does not know).
 */
export function ledgerApiErrorOf(e: unknown): WeftError | undefined {
  const details = ledgerApiErrorDetails(e);
  const info = details?.errorInfo;
  if (!details || !info) return undefined;
  const def = codeNamed(info.reason);
  if (!def) return undefined;
  const { category: _category, tid: _tid, ...context } = info.metadata;
  const cause = /^[A-Z][A-Z0-9_]*\(\d+,[^)]*\): (.*)$/s.exec(details.message)?.[1] ?? details.message;
  return new WeftError(def, cause, context, { cause: e });
}

function codeNamed(code: string): ErrorCode | undefined {
  return errorCatalogue().find((c) => c.code === code);
}
