import type { Clock } from './clock.js';

interface Timer {
  /** Due time, µs. */
  readonly at: bigint;
  /** Scheduling order: timers due at the same time fire in the order they were scheduled. */
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to (tests and the simulation): {@link advance} fires the timers that fall due
 * in order of due time, then of scheduling, so one sequence of calls always fires the same timers in the same
 * order. Time never goes back.
 */
export class ManualClock implements Clock {
  #now: bigint;
  #seq = 0;
  /** Pending timers, a binary min-heap on (at, seq). */
  readonly #heap: Timer[] = [];
  /** Sequence numbers of the timers neither fired nor cancelled (cancelled ones leave the heap lazily). */
  readonly #live = new Set<number>();

  /** `start`: microseconds since the epoch. */
  constructor(start: bigint) {
    this.#now = start;
  }

  now(): bigint {
    return this.#now;
  }

  /** Schedules `fn` at now + `ms` (rounded to whole µs, at least now). */
  schedule(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + BigInt(Math.max(0, Math.round(ms * 1000))), seq: this.#seq++, fn };
    this.#push(timer);
    this.#live.add(timer.seq);
    return () => {
      this.#live.delete(timer.seq);
    };
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.#live.size;
  }

  /** When the next timer falls due (µs), if one is pending. */
  nextDue(): bigint | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  /**
   * Moves time forward by `ms`, firing every timer due by then (those the callbacks schedule too), each with the
   * clock set to its due time.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    this.advanceTo(this.#now + BigInt(Math.round(ms * 1000)));
  }

  /** Moves time forward to `at` (µs), firing the timers due by then; an earlier `at` leaves the clock as it is. */
  advanceTo(at: bigint): void {
    for (;;) {
      this.#dropCancelled();
      const next = this.#heap[0];
      if (!next || next.at > at) break;
      this.#pop();
      this.#live.delete(next.seq);
      if (next.at > this.#now) this.#now = next.at;
      next.fn();
    }
    if (at > this.#now) this.#now = at;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && !this.#live.has(this.#heap[0]!.seq)) this.#pop();
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Timer {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
