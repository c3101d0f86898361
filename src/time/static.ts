import { type Clock, monotonicMs, systemClock } from './clock.js';

/**
 * Static time (the sandbox's `--static-time`, Canton's `sim-clock`): `now()` stands still until {@link advanceTo}
 * moves it forward (the Ledger API's testing TimeService), starting at the Unix epoch as Canton's sim clock does.
 * Timers run on `wall`: Weft's nodes time their polls, retries and keep-alives through their clock, and those must
 * go on while the ledger's time stands still. Protocol deadlines need no timer of their own: a node learns that
 * one passed from the sequencer's timestamps, which follow this time, so decision timeouts fire only once
 * SetTime moves it past them (docs/architecture.md, 'Static time').
 */
export class StaticClock implements Clock {
  #now: bigint;

  /** `start`: microseconds since the epoch. */
  constructor(
    start = 0n,
    readonly wall: Clock = systemClock,
  ) {
    this.#now = start;
  }

  now(): bigint {
    return this.#now;
  }

  /** Moves the time forward to `at` (µs); an earlier `at` is refused (time never goes back). */
  advanceTo(at: bigint): void {
    if (at < this.#now) throw new RangeError(`static time cannot go back from ${this.#now} to ${at} µs`);
    this.#now = at;
  }

  schedule(ms: number, fn: () => void): () => void {
    return this.wall.schedule(ms, fn);
  }

  monotonicMs(): number {
    return monotonicMs(this.wall);
  }
}

/**
 * The clock for what follows real time however the ledger's time runs: storage waits, leases, token lifetimes,
 * API timeouts. `clock` itself unless it is static time.
 */
export function realTime(clock: Clock): Clock {
  return clock instanceof StaticClock ? clock.wall : clock;
}

/** `clock` when it is static time (then a participant serves the testing TimeService over it). */
export function staticTimeOf(clock: Clock): StaticClock | undefined {
  return clock instanceof StaticClock ? clock : undefined;
}
