import type { Logger } from '../observability/index.js';
import {
  DEFAULT_STORAGE_RETRY,
  type GroupCommitSettings,
  GroupCommitWindow,
  groupCommitOf,
  retryTransient,
  type StorageRetryOptions,
  type StorageRetryPolicy,
} from '../storage/index.js';
import type { Clock } from '../time/index.js';
import { DEFAULT_PARTICIPANT_SETTINGS } from './config.js';
import { type CommandRow, type Cursor, emptyBatch, type ParticipantStore, type WriteBatch } from './store.js';

/** What one decision adds to a batch, and what runs once it is durable. */
export interface JournalEntry {
  /** The highest offset the entry assigns. */
  readonly offset?: bigint;
  readonly fill: (b: WriteBatch) => void;
  readonly durable?: () => void;
}

/**
 * The commit pipeline (docs/architecture.md, 'Batch every durable write'): effects of processed events are
 * added to the open batch at once (and to the in-memory state by the caller), and written in one database
 * transaction per batch while the next batch fills; under load a batch also waits for what arrives within the
 * group-commit window ({@link GroupCommitWindow}). A batch that holds only the resume cursor is written at
 * most every `cursorIntervalMs`. A write that fails transiently (the database restarting, a lost connection) is
 * retried with backoff until it succeeds, while the next batch keeps filling; only a failure that is not
 * transient stops the participant (`onFailure`).
 */
export class Journal {
  #open: WriteBatch = emptyBatch();
  #openWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #openHasData = false;
  #writing: Promise<void> | undefined;
  #cursorTimer: (() => void) | undefined;
  #failure: unknown;
  /** Offsets written so far (everything at or below is durable). */
  #durableOffset: bigint;
  #openOffset: bigint;
  /** The last offset assigned (updates and completions share one offset sequence). */
  #ledgerEnd: bigint;
  readonly #listeners = new Set<(durable: bigint) => void>();
  readonly #writtenListeners = new Set<(batch: WriteBatch) => void>();
  /** The transient failure of the batch being retried, while it is. */
  #stalled: unknown;
  /** Ends the retries of a batch when the participant stops. */
  readonly #stopping = new AbortController();
  readonly #window: GroupCommitWindow;
  /** The open batch waits in its group-commit window. */
  #gathering = false;

  constructor(
    private readonly store: ParticipantStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    durableOffset: bigint,
    private readonly cursorIntervalMs: number,
    private readonly onFailure: (e: unknown) => void,
    private readonly retry: StorageRetryPolicy = DEFAULT_STORAGE_RETRY,
    groupCommit: GroupCommitSettings = groupCommitOf(DEFAULT_PARTICIPANT_SETTINGS),
  ) {
    this.#window = new GroupCommitWindow(groupCommit, clock);
    this.#durableOffset = durableOffset;
    this.#openOffset = durableOffset;
    this.#ledgerEnd = durableOffset;
  }

  get durableOffset(): bigint {
    return this.#durableOffset;
  }

  get ledgerEnd(): bigint {
    return this.#ledgerEnd;
  }

  /** Assigns the next offset, to a decision published now (offsets grow in publication order). */
  nextOffset(): bigint {
    return ++this.#ledgerEnd;
  }

  /** Why writing is held up (a transient storage failure being retried), or undefined when it is not. */
  get stalled(): unknown {
    return this.#stalled;
  }

  /** Batches not yet durable (for backpressure). */
  get queued(): number {
    return this.#open.updates.length + this.#open.completions.length + this.#open.requests.length;
  }

  /**
   * Adds effects to the open batch; `offset` is the highest offset they assign. Resolves once they are durable.
   * `now`: the caller waits for everything open to be durable (a flush), so the batch does not wait for its window.
   */
  #add(fill: (b: WriteBatch) => void, offset?: bigint, now = false): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    fill(this.#open);
    if (offset !== undefined && offset > this.#openOffset) this.#openOffset = offset;
    this.#openHasData = true;
    const done = new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    if (now) this.#window.flush();
    else this.#window.arrived();
    this.#scheduleKick();
    return done;
  }

  /**
   * Records where a synchronizer's event stream resumes; written with the next batch, or on its own after the
   * interval.
   */
  setCursor(synchronizerId: string, cursor: Cursor): void {
    this.#open.cursors.set(synchronizerId, cursor);
    this.#scheduleCursor();
  }

  #scheduleCursor(): void {
    if (this.#cursorTimer || this.#openHasData) return;
    this.#cursorTimer = this.clock.schedule(this.cursorIntervalMs, () => {
      this.#cursorTimer = undefined;
      this.#kick(true);
    });
  }

  /** Adds the entries to the open batch in one go; each one's `durable` runs once they are written. */
  write(entries: readonly JournalEntry[]): void {
    let offset: bigint | undefined;
    for (const e of entries)
      if (e.offset !== undefined && (offset === undefined || e.offset > offset)) offset = e.offset;
    this.#add((b) => {
      for (const e of entries) e.fill(b);
    }, offset).then(
      () => {
        for (const e of entries) e.durable?.();
      },
      // A write that failed for good stops the participant (onFailure); nothing waits for these entries any more.
      () => {},
    );
  }

  /**
   * Registers a command in flight (its deduplication record) with the open batch, so that it shares a commit with
   * the effects of events being processed; resolves once durable, with whether it was registered (see
   * `ParticipantStore.startCommand`).
   */
  async startCommand(row: CommandRow, dedupFrom: bigint): Promise<boolean> {
    const entry: WriteBatch['startedCommands'][number] = { row, dedupFrom };
    await this.#add((b) => b.startedCommands.push(entry));
    return entry.registered === true;
  }

  /** Called with the durable offset after every write that advanced it. */
  onDurable(listener: (durable: bigint) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Called with every batch once it is written, before its offset becomes durable: whoever serves reads up to the
   * durable offset from what was written has it by then.
   */
  onWritten(listener: (batch: WriteBatch) => void): () => void {
    this.#writtenListeners.add(listener);
    return () => this.#writtenListeners.delete(listener);
  }

  /** Resolves once everything added so far is durable. */
  async flush(): Promise<void> {
    if (this.#openHasData || this.#open.cursors.size > 0) {
      await this.#add(() => {}, undefined, true);
      return;
    }
    await this.#writing;
  }

  /** Stops the cursor timer and the retries of a failing write; what is open is dropped unless flushed before. */
  close(): void {
    this.#cursorTimer?.();
    this.#cursorTimer = undefined;
    this.#stopping.abort();
  }

  /** Drops everything not written and refuses further writes, as if the process died (crash tests). */
  kill(): void {
    this.close();
    this.#failure ??= new Error('the participant was killed');
    this.#open = emptyBatch();
    this.#openHasData = false;
  }

  #kickScheduled = false;

  /**
   * Writes once the events already received are processed (after pending I/O callbacks), so that the effects of a
   * burst of events share one database commit.
   */
  #scheduleKick(): void {
    if (this.#kickScheduled) return;
    this.#kickScheduled = true;
    setImmediate(() => {
      this.#kickScheduled = false;
      this.#kick();
    });
  }

  /** `gathered`: the open batch waited out its window already. */
  #kick(cursorOnly = false, gathered = false): void {
    if (this.#writing || this.#failure || this.#gathering) return;
    if (!this.#openHasData && !(cursorOnly && this.#open.cursors.size > 0)) return;
    const gather = gathered ? undefined : this.#window.wait(this.#stopping.signal);
    if (gather) {
      this.#gathering = true;
      void gather.then(() => {
        this.#gathering = false;
        this.#kick(false, true);
      });
      return;
    }
    this.#window.taken();
    const batch = this.#open;
    const waiters = this.#openWaiters;
    const offset = this.#openOffset;
    this.#open = emptyBatch();
    this.#openWaiters = [];
    this.#openHasData = false;
    this.#cursorTimer?.();
    this.#cursorTimer = undefined;
    this.#writing = this.#write(batch, offset)
      .then(
        () => {
          for (const l of this.#writtenListeners) l(batch);
          const advanced = offset > this.#durableOffset;
          this.#durableOffset = offset;
          for (const w of waiters) w.resolve();
          if (advanced) for (const l of this.#listeners) l(offset);
        },
        (e) => {
          this.#stalled = undefined;
          this.#failure ??= e;
          for (const w of waiters) w.reject(e);
          // Stopping ended the retries: the batch stays unwritten, as if the process had died before it.
          if (this.#stopping.signal.aborted) return;
          this.logger.error(
            { err: e },
            'writing a participant batch failed with an error that is not transient; the participant stops',
          );
          this.onFailure(e);
        },
      )
      .finally(() => {
        this.#writing = undefined;
        if (this.#openHasData) this.#kick();
        else if (this.#open.cursors.size > 0) this.#scheduleCursor();
      });
  }

  /**
   * Writes `batch` (whose highest offset is `offset`), retrying transient failures. A retry first checks whether the
   * failed attempt committed after all (its answer lost with the connection): every part of a batch is idempotent
   * except the rows keyed by offset (updates, completions), and those are durable exactly when the ledger end
   * reached `offset`, since nothing else writes offsets above the durable one.
   */
  #write(batch: WriteBatch, offset: bigint): Promise<void> {
    return retryTransient(async (attempt) => {
      const inDoubt = attempt > 0 && offset > this.#durableOffset;
      if (inDoubt && (await this.store.ledgerEnd()) >= offset) return;
      await this.store.write(batch);
    }, this.retryOptions('writing a participant batch'));
  }

  /**
   * How the participant's storage operations wait out transient failures: with the journal's policy, ending when
   * the participant stops, and reported by {@link stalled} meanwhile.
   */
  retryOptions(what: string): StorageRetryOptions {
    return {
      clock: this.clock,
      logger: this.logger,
      what,
      policy: this.retry,
      signal: this.#stopping.signal,
      onRetry: (e) => {
        this.#stalled = e;
      },
      onRecovered: () => {
        this.#stalled = undefined;
      },
    };
  }
}
