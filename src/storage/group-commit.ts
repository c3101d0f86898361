import { type Clock, holdProcessOpen, realTime } from '../time/index.js';

/** How long a write may wait for more work to share its commit, and how much work one commit takes at most. */
export interface GroupCommitSettings {
  /** 0: commit what is ready at once (the commit in progress is the only window). */
  readonly maxDelayMs: number;
  readonly maxBatch: number;
}

/**
 * Bounds of `group-commit-max-delay-ms` in every node's config. The default is about one SQLite fsync of this kind
 * of machine: the window sits on a transaction's critical path several times (sequencer, mediator, participants),
 * so at a fixed number in flight its wait is throughput lost. Measured on a quiet machine, 8 transfers in flight:
 * 20 ms took commits per transaction to ~1.0 but throughput from 56 to 36 tx/s (p50 135 → 216 ms); 5 ms keeps
 * ~2.0 commits at the throughput of no window (docs/performance.md, 'Group commit window').
 */
export const GROUP_COMMIT_MAX_DELAY_MS = { min: 0, max: 1000, default: 5 } as const;

/** The window out of a node's settings (`group-commit-max-delay-ms`, `group-commit-max-batch`). */
export const groupCommitOf = (s: {
  readonly groupCommitMaxDelayMs: number;
  readonly groupCommitMaxBatch: number;
}): GroupCommitSettings => ({ maxDelayMs: s.groupCommitMaxDelayMs, maxBatch: s.groupCommitMaxBatch });

/** Longest gap counted into the estimate: one idle minute must not hide the next burst for long. */
const GAP_CAP_MS = 1000;
/** Weight of the newest gap in the estimate: about the last eight arrivals count. */
const GAP_WEIGHT = 1 / 8;

/**
 * The group-commit window of one writer (docs/architecture.md, 'Batch every durable write'). A commit costs a
 * WAL fsync whatever it holds, so a writer that is about to commit a batch may wait for more work to join it — but
 * only while work arrives faster than the window is long: it keeps a moving average of the gaps between arrivals
 * and, while that is below `maxDelayMs` (at least one more item expected per window), waits until `maxDelayMs`
 * after the batch's oldest item arrived, and only once work overlaps (this batch or the last held more than one
 * item). A lone write, a trickle, or a closed loop such as one transaction in flight commits at once; under load
 * batches grow up to `maxBatch`, and a batch whose oldest item waited out the window already (behind a slow
 * commit) does not wait again.
 */
export class GroupCommitWindow {
  readonly #settings: GroupCommitSettings;
  readonly #clock: Clock;
  /** Moving average of the gaps between arrivals, ms; starts as if idle. */
  #gapMs = GAP_CAP_MS;
  #lastArrival: bigint | undefined;
  /** Items of the open batch. */
  #size = 0;
  /** When the open batch's oldest item arrived (µs). */
  #oldest: bigint | undefined;
  /** The open batch is wanted durable now. */
  #flushing = false;
  /** Items the last commit took. */
  #lastTaken = 0;
  /** Items stayed behind a full batch: the writer is behind, so waiting would only add latency. */
  #behind = false;
  /** Ends the wait under way: its window closed. */
  #close: (() => void) | undefined;

  /** `clock`'s real time is used (a batching delay, not a protocol time: static time must not stall it). */
  constructor(settings: GroupCommitSettings, clock: Clock) {
    this.#settings = settings;
    this.#clock = realTime(clock);
  }

  /** An item of work joined the open batch; ends a wait that has no reason to go on. */
  arrived(): void {
    const now = this.#clock.now();
    if (this.#lastArrival !== undefined) {
      const gap = Math.min(Number(now - this.#lastArrival) / 1000, GAP_CAP_MS);
      this.#gapMs += (gap - this.#gapMs) * GAP_WEIGHT;
    }
    this.#lastArrival = now;
    this.#size++;
    this.#oldest ??= now;
    if (this.#close && this.#delayMs() === 0) this.#close();
  }

  /**
   * Undefined when the open batch should be committed now; otherwise resolves when it should: its window closed,
   * it filled, an arrival after a long gap says the load has gone, or `signal` aborted. One
   * wait at a time (a writer has one commit loop).
   */
  wait(signal?: AbortSignal): Promise<void> | undefined {
    const ms = this.#delayMs();
    if (ms === 0 || signal?.aborted) return undefined;
    return new Promise((resolve) => {
      // Writes wait here to be committed: the process must not end under them (clocks' timers do not hold it).
      const release = holdProcessOpen();
      const close = () => {
        this.#close = undefined;
        release();
        cancel();
        signal?.removeEventListener('abort', close);
        resolve();
      };
      const cancel = this.#clock.schedule(ms, close);
      this.#close = close;
      signal?.addEventListener('abort', close, { once: true });
    });
  }

  /** Someone waits for the open batch to be durable (a flush): it commits now, ending a wait under way. */
  flush(): void {
    this.#flushing = true;
    this.#close?.();
  }

  /**
   * The open batch was taken for a commit; `left` items stayed behind (beyond `maxBatch`): the writer is behind,
   * so they are committed next without waiting.
   */
  taken(left = 0): void {
    this.#lastTaken = this.#size - left;
    this.#flushing = false;
    this.#size = left;
    this.#behind = left > 0;
    if (left === 0) this.#oldest = undefined;
  }

  #delayMs(): number {
    const { maxDelayMs, maxBatch } = this.#settings;
    if (maxDelayMs === 0 || this.#size === 0 || this.#size >= maxBatch || this.#behind || this.#flushing)
      return 0;
    if (this.#gapMs >= maxDelayMs) return 0;
    // A closed loop (one writer awaiting each commit before its next write, e.g. one transaction in flight) arrives
    // densely yet never shares a commit: only wait when work is seen to overlap, a batch of more than one.
    if (this.#size < 2 && this.#lastTaken < 2) return 0;
    const left = maxDelayMs - Number(this.#clock.now() - this.#oldest!) / 1000;
    return Math.max(left, 0);
  }
}
