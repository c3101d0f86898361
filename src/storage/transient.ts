import { CommonErrors, WeftError } from '../errors/index.js';
import { type Clock, sleep } from '../time/index.js';
import { StorageErrors } from './errors.js';

/**
 * How a node waits between attempts of a storage operation that failed transiently. Attempts go on while the
 * failure is transient (a database restart takes as long as it takes); the delay doubles from `initialDelayMs`
 * up to `maxDelayMs`, which bounds how long a node stays idle after the database is back.
 */
export interface StorageRetryPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** Short first wait (a lost pooled connection is replaced at once), at most 2 s between attempts. */
export const DEFAULT_STORAGE_RETRY: StorageRetryPolicy = { initialDelayMs: 50, maxDelayMs: 2_000 };

/** Longest `maxDelayMs` accepted: a node idle longer than this after an outage looks dead to its operator. */
const MAX_RETRY_DELAY_MS = 60_000;

/** Checks a configured policy: 1 ≤ initialDelayMs ≤ maxDelayMs ≤ 60 s. */
export function storageRetryPolicy(
  policy: Partial<StorageRetryPolicy> = {},
  where = 'storage retry',
): StorageRetryPolicy {
  const p = { ...DEFAULT_STORAGE_RETRY, ...policy };
  const ok =
    Number.isInteger(p.initialDelayMs) &&
    Number.isInteger(p.maxDelayMs) &&
    p.initialDelayMs >= 1 &&
    p.initialDelayMs <= p.maxDelayMs &&
    p.maxDelayMs <= MAX_RETRY_DELAY_MS;
  if (!ok) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `${where}: need integers 1 <= initial-delay-ms (${p.initialDelayMs}) <= max-delay-ms (${p.maxDelayMs}) <= ${MAX_RETRY_DELAY_MS}`,
    );
  }
  return p;
}

/**
 * SQLSTATEs of failures that pass: connection exceptions (08), insufficient resources such as too many
 * connections (53), the server shutting down, restarting or starting up (57P01-57P03), and the conflicts a
 * repeated transaction resolves: serialization failure, deadlock, lock not available.
 */
const TRANSIENT_SQLSTATE = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[123]|40001|40P01|55P03)$/;
const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Another connection holds the lock (a second process on the file), or the disk is full until space is freed. */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL)/;
/** How deep a wrapped error's causes are searched for a storage error. */
const MAX_CAUSE_DEPTH = 8;

/** Whether the storage error `e` is one of a storage failure that passes (see {@link isTransientStorageError}). */
function transientCause(e: WeftError): boolean {
  if (e.code === StorageErrors.STORAGE_CONTENTION.code) return true;
  if (e.code !== StorageErrors.STORAGE_UNAVAILABLE.code) return false;
  const cause = e.cause;
  // Without a driver error behind it, the storage was closed: the node is stopping, waiting would not help.
  if (cause === undefined) return false;
  const code = (cause as { code?: unknown }).code;
  if (typeof code !== 'string') return true; // pg's own connection failures: "Connection terminated", timeouts
  if (code.startsWith('SQLITE_')) return TRANSIENT_SQLITE.test(code);
  if (SQLSTATE.test(code)) return TRANSIENT_SQLSTATE.test(code);
  return true; // a socket error (ECONNRESET, ECONNREFUSED, EPIPE, ...)
}

/**
 * Whether `e` (or an error it wraps) is a storage failure that passes by itself: a lost or refused connection, the
 * server restarting, a serialization failure or deadlock, a SQLite lock held by another connection. Repeating the
 * operation later can succeed. Anything else (corruption, a schema from the future, a constraint violation, a
 * closed storage, wrong credentials) is not: repeating it would fail the same way.
 */
export function isTransientStorageError(e: unknown): boolean {
  let current = e;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (current instanceof WeftError && current.code.startsWith('STORAGE_')) return transientCause(current);
    current = current.cause;
  }
  return false;
}

/** The part of a node's logger the retries write to (pino's shape); storage sits below observability. */
export interface RetryLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface StorageRetryOptions {
  readonly clock: Clock;
  readonly logger: RetryLogger;
  /** What is attempted, for the log ("writing a participant batch"). */
  readonly what: string;
  readonly policy?: StorageRetryPolicy;
  /** Ends the waiting: the last failure is thrown (the node is stopping). */
  readonly signal?: AbortSignal;
  /** Called with each transient failure before the wait (readiness, metrics). */
  readonly onRetry?: (e: unknown, attempt: number) => void;
  /** Called once the operation succeeded after failing. */
  readonly onRecovered?: () => void;
}

/** A warning for the first failure, then one every this many attempts: an outage is visible but not flooding. */
const LOG_EVERY = 20;

/**
 * Runs `attempt` until it succeeds or fails with an error that is not transient (thrown at once), waiting with
 * bounded exponential backoff between attempts. `attempt` is given its attempt number (0 first), so that it can
 * find out whether a failed attempt took effect after all (a commit whose answer was lost with the connection).
 */
export async function retryTransient<T>(
  attempt: (n: number) => Promise<T>,
  options: StorageRetryOptions,
): Promise<T> {
  const { clock, logger, what, signal } = options;
  const policy = options.policy ?? DEFAULT_STORAGE_RETRY;
  let delay = policy.initialDelayMs;
  for (let n = 0; ; n++) {
    try {
      const result = await attempt(n);
      if (n > 0) {
        logger.info({ attempts: n + 1 }, `${what} succeeded again after a storage failure`);
        options.onRecovered?.();
      }
      return result;
    } catch (e) {
      if (!isTransientStorageError(e) || signal?.aborted) throw e;
      if (n % LOG_EVERY === 0) {
        logger.warn({ err: e, attempt: n + 1, retryInMs: delay }, `${what} failed transiently; retrying`);
      }
      options.onRetry?.(e, n + 1);
      await sleep(clock, delay, signal);
      if (signal?.aborted) throw e;
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}
