/**
 * Time for protocol code (docs/architecture.md, 'Determinism at the edges'): the sequencer and its client
 * read the time and set timers only through a `Clock`, so tests and a simulator can drive them.
 */
export interface Clock {
  /** Microseconds since the Unix epoch. */
  now(): bigint;
  /** Calls `fn` after `ms` milliseconds; the returned function cancels the call. */
  schedule(ms: number, fn: () => void): () => void;
}

/** Wall-clock time and Node timers; timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => BigInt(Date.now()) * 1000n,
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
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
