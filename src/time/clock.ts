import { performance } from 'node:perf_hooks';

/**
 * Time for protocol code (docs/architecture.md, 'Determinism at the edges'): every node reads the time and sets
 * timers only through a `Clock`, so tests and the simulation drive them with a {@link ManualClock}.
 */
export interface Clock {
  /** Microseconds since the Unix epoch. */
  now(): bigint;
  /** Calls `fn` after `ms` milliseconds; the returned function cancels the call. */
  schedule(ms: number, fn: () => void): () => void;
  /**
   * Monotonic milliseconds (sub-millisecond resolution) for measuring durations of metrics; a clock without it
   * measures on {@link now}. Never a protocol decision.
   */
  monotonicMs?(): number;
}

/** Wall-clock time and Node timers; timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => BigInt(Date.now()) * 1000n,
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
  monotonicMs: () => performance.now(),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.schedule(ms, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Measures one duration, for metrics. */
export interface Stopwatch {
  /** Milliseconds since the stopwatch started. */
  elapsedMs(): number;
}

/** `clock`'s monotonic time in milliseconds (its `now()` if it has none), for marks that metrics subtract. */
export function monotonicMs(clock: Clock): number {
  return clock.monotonicMs ? clock.monotonicMs() : Number(clock.now()) / 1000;
}

/** Starts a stopwatch on `clock`'s monotonic time. */
export function startStopwatch(clock: Clock): Stopwatch {
  const started = monotonicMs(clock);
  return { elapsedMs: () => monotonicMs(clock) - started };
}

/**
 * Keeps the process running until the returned function is called: clocks' timers do not hold it open, so a run
 * that waits only on them (a console script's `utils.retry_until_true`) would end early without this.
 */
export function holdProcessOpen(): () => void {
  const timer = setInterval(() => undefined, 60_000);
  return () => clearInterval(timer);
}
