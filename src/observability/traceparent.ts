/**
 * W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `version-traceid-parentid-flags`, all lowercase hex. Weft emits version 00 and accepts later versions the way the
 * spec asks (read the version-00 fields, ignore what follows).
 */

import { CommonErrors, WeftError } from '../errors/index.js';

/** The part of a span that crosses process boundaries. */
export interface SpanContext {
  /** 32 lowercase hex characters, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex characters, not all zero. */
  readonly spanId: string;
  /** The 8 trace flags; bit 0 is `sampled`. */
  readonly traceFlags: number;
}

export type TraceparentResult =
  | { readonly ok: true; readonly context: SpanContext }
  | { readonly ok: false; readonly reason: string };

const VERSION_00_LENGTH = 55;
const FIELDS = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZERO = /^0+$/;
const HEX_ID = (length: number) => new RegExp(`^[0-9a-f]{${length}}$`);
const TRACE_ID = HEX_ID(32);
const SPAN_ID = HEX_ID(16);

/** The trace flag that marks a trace as sampled (recorded). */
export const SAMPLED_FLAG = 0x01;

/**
 * Parses a `traceparent` header value. Per the spec a receiver ignores an invalid header and starts a new trace, so
 * this returns a result rather than throwing; `reason` says what is wrong.
 */
export function parseTraceparent(header: string): TraceparentResult {
  const version = header.slice(0, 2);
  if (!/^[0-9a-f]{2}$/.test(version)) return fail('version is not two lowercase hex digits');
  if (version === 'ff') return fail('version ff is forbidden');
  if (version === '00' && header.length !== VERSION_00_LENGTH) {
    return fail(`version 00 must be ${VERSION_00_LENGTH} characters, got ${header.length}`);
  }
  // A future version may append fields after another dash; its first four fields keep the version-00 layout.
  if (header.length > VERSION_00_LENGTH && header[VERSION_00_LENGTH] !== '-') {
    return fail('fields after the flags must be separated by a dash');
  }
  const match = FIELDS.exec(header.slice(0, VERSION_00_LENGTH));
  if (!match) return fail('expected 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags> in lowercase');
  const traceId = match[2]!;
  const spanId = match[3]!;
  if (ALL_ZERO.test(traceId)) return fail('trace id is all zeros');
  if (ALL_ZERO.test(spanId)) return fail('parent id is all zeros');
  return { ok: true, context: { traceId, spanId, traceFlags: Number.parseInt(match[4]!, 16) } };
}

/** Formats a span context as a version-00 `traceparent` value; an invalid context is an INVALID_ARGUMENT. */
export function formatTraceparent(context: SpanContext): string {
  assertValidSpanContext(context);
  return `00-${context.traceId}-${context.spanId}-${context.traceFlags.toString(16).padStart(2, '0')}`;
}

/** Throws INVALID_ARGUMENT unless the ids and flags are ones a `traceparent` can carry. */
export function assertValidSpanContext(context: SpanContext): void {
  const { traceId, spanId, traceFlags } = context;
  if (!TRACE_ID.test(traceId) || ALL_ZERO.test(traceId)) {
    invalid(`trace id '${traceId}' must be 32 lowercase hex digits, not all zero`);
  }
  if (!SPAN_ID.test(spanId) || ALL_ZERO.test(spanId)) {
    invalid(`span id '${spanId}' must be 16 lowercase hex digits, not all zero`);
  }
  if (!Number.isInteger(traceFlags) || traceFlags < 0 || traceFlags > 0xff) {
    invalid(`trace flags ${traceFlags} must be an integer in 0..255`);
  }
}

function invalid(message: string): never {
  throw new WeftError(CommonErrors.INVALID_ARGUMENT, `invalid span context: ${message}`);
}

function fail(reason: string): TraceparentResult {
  return { ok: false, reason };
}
