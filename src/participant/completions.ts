import type { Journal } from './journal.js';
import { type OffsetCheckpoint, offsetCheckpoint } from './read-model.js';
import type { ParticipantStore } from './store.js';
import { type Completion, completionOf } from './updates.js';

/** Completions per database read of a stream. */
const PAGE = 200;

export interface CompletionFilter {
  /** Only commands submitted with this user id (Canton's completion stream is per user). */
  readonly userId: string;
  /** Only commands with one of these among their acting parties. */
  readonly parties: ReadonlySet<string>;
}

export interface CompletionStreamOptions {
  readonly after: bigint;
  readonly signal?: AbortSignal;
}

/**
 * The completion stream of the participant's own commands (what CommandCompletionService serves): everything
 * durable after an offset, read from the database a page at a time, then each completion as it becomes durable.
 */
export class CompletionStreams {
  readonly #waiters = new Set<() => void>();

  constructor(
    private readonly store: ParticipantStore,
    private readonly journal: Journal,
    /** Whether streams wait for more: false once the node failed, stopped or has no connection. */
    private readonly live: () => boolean,
  ) {
    journal.onDurable(() => this.wake());
  }

  /** Lets the waiting streams read again (more is durable, or the node stopped). */
  wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  /**
   * The completions matching `filter` after offset `after` (exclusive), then each new one as it becomes durable,
   * until `signal` aborts or the node stops. With `checkpoints`, whenever the stream has caught up with the durable
   * end past the last completion it delivered (others' commands, transactions without a completion here), it says
   * so with an offset checkpoint, as Canton's completion stream does.
   */
  completions(
    filter: CompletionFilter,
    o: CompletionStreamOptions & { checkpoints?: false },
  ): AsyncGenerator<Completion>;
  completions(
    filter: CompletionFilter,
    o: CompletionStreamOptions & { checkpoints: boolean },
  ): AsyncGenerator<Completion | OffsetCheckpoint>;
  async *completions(
    filter: CompletionFilter,
    o: CompletionStreamOptions & { checkpoints?: boolean },
  ): AsyncGenerator<Completion | OffsetCheckpoint> {
    let after = o.after;
    let delivered = o.after;
    while (!o.signal?.aborted) {
      const end = this.journal.durableOffset;
      if (after < end) {
        const rows = await this.store.completions(after, end, PAGE);
        for (const row of rows) {
          if (o.signal?.aborted) return;
          if (row.userId === filter.userId && row.actAs.some((p) => filter.parties.has(p))) {
            delivered = row.offset;
            yield completionOf(row);
          }
        }
        after = rows.length < PAGE ? end : rows.at(-1)!.offset;
        continue;
      }
      if (!this.live()) return;
      if (o.checkpoints && delivered < after) {
        delivered = after;
        yield await offsetCheckpoint(this.store, after);
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          o.signal?.removeEventListener('abort', done);
          this.#waiters.delete(done);
          resolve();
        };
        this.#waiters.add(done);
        o.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
