import { AsyncLocalStorage } from 'node:async_hooks';
import { type RandomSource, systemRandom } from '../crypto/index.js';
import { type Clock, systemClock } from '../time/index.js';
import {
  assertValidSpanContext,
  formatTraceparent,
  parseTraceparent,
  SAMPLED_FLAG,
  type SpanContext,
} from './traceparent.js';

/**
 * A unit of work in a trace. Its ids label log lines and travel downstream; with an OTLP export configured
 * (otlp.ts), finished spans are also sent to a tracing backend.
 */
export interface Span extends SpanContext {
  readonly name: string;
  /** The span id of the parent, absent for the root span of a trace. */
  readonly parentSpanId?: string;
}

export interface SpanOptions {
  /**
   * The parent, e.g. the `traceparent` of an incoming request. Defaults to the current span. An invalid
   * `traceparent` string is ignored and a new trace starts, as the W3C spec asks of receivers.
   */
  readonly parent?: string | SpanContext;
}

/** A span once its work ended, as an exporter receives it. */
export interface FinishedSpan extends Span {
  /** Wall-clock start and end, ms since the epoch (fractional). */
  readonly startMs: number;
  readonly endMs: number;
  /** Why the work failed, if it threw or rejected. */
  readonly error?: string;
}

/** Where finished spans go (one per process: the OTLP exporter); absent, spans are not timed at all. */
let sink: ((span: FinishedSpan) => void) | undefined;

/** Sets (or with `undefined` removes) the receiver of finished spans. */
export function setSpanSink(receiver: ((span: FinishedSpan) => void) | undefined): void {
  sink = receiver;
}

// One store per process: several nodes in one process share it, but each async call chain sees only its own span.
const storage = new AsyncLocalStorage<Span>();

/**
 * Starts spans with ids drawn from an injected randomness source (docs/architecture.md, 'Determinism at the
 * edges'); protocol code receives a `Tracer` through its constructor, and tests give it a
 * `DeterministicRandom`.
 */
export class Tracer {
  readonly #ids: RandomSource;
  readonly #clock: Clock;

  /** `clock` times the spans handed to an exporter (docs/architecture.md: time is injected too). */
  constructor(ids: RandomSource = systemRandom, clock: Clock = systemClock) {
    this.#ids = ids;
    this.#clock = clock;
  }

  /** Runs `fn` inside a new span, a child of `options.parent` or else of the current span, or else a new trace. */
  withSpan<T>(name: string, fn: (span: Span) => T, options: SpanOptions = {}): T {
    const parent = resolveParent(options.parent);
    const span: Span = parent
      ? {
          name,
          traceId: parent.traceId,
          spanId: this.#id(8),
          parentSpanId: parent.spanId,
          traceFlags: parent.traceFlags,
        }
      : { name, traceId: this.#id(16), spanId: this.#id(8), traceFlags: SAMPLED_FLAG };
    const receiver = sink;
    if (receiver === undefined) return storage.run(span, fn, span);
    return timed(span, receiver, this.#clock, () => storage.run(span, fn, span));
  }

  /** A hex id of `size` bytes; an all-zero draw (invalid per W3C) is nudged to a valid one. */
  #id(size: number): string {
    const bytes = Uint8Array.from(this.#ids.bytes(size));
    if (bytes.length !== size)
      throw new RangeError(`id source returned ${bytes.length} bytes, expected ${size}`);
    if (bytes.every((b) => b === 0)) bytes[size - 1] = 1;
    return Buffer.from(bytes).toString('hex');
  }
}

/** Runs `run` and hands the span to `receiver` when it ends: at once, or when its promise settles. */
function timed<T>(span: Span, receiver: (span: FinishedSpan) => void, clock: Clock, run: () => T): T {
  const ms = () => Number(clock.now()) / 1000;
  const startMs = ms();
  const end = (error?: unknown) => {
    const endMs = ms();
    receiver({ ...span, startMs, endMs, ...(error === undefined ? {} : { error: String(error) }) });
  };
  let result: T;
  try {
    result = run();
  } catch (e) {
    end(e);
    throw e;
  }
  if (result instanceof Promise) {
    result.then(
      () => end(),
      (e: unknown) => end(e ?? 'rejected'),
    );
  } else end();
  return result;
}

function resolveParent(parent: string | SpanContext | undefined): SpanContext | undefined {
  if (parent === undefined) return storage.getStore();
  if (typeof parent !== 'string') {
    assertValidSpanContext(parent);
    return parent;
  }
  const parsed = parseTraceparent(parent);
  return parsed.ok ? parsed.context : undefined;
}

const defaultTracer = new Tracer();

/** {@link Tracer.withSpan} with ids from the system CSPRNG, for code outside the protocol core. */
export function withSpan<T>(name: string, fn: (span: Span) => T, options?: SpanOptions): T {
  return defaultTracer.withSpan(name, fn, options);
}

/** The span of the running async call chain, if any. */
export function currentSpan(): Span | undefined {
  return storage.getStore();
}

/** The `traceparent` to put on an outgoing gRPC/HTTP call so the callee continues the current trace. */
export function currentTraceparent(): string | undefined {
  const span = storage.getStore();
  return span && formatTraceparent(span);
}
