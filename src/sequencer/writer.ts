import type { Logger } from 'pino';
import type { RandomSource } from '../crypto/index.js';
import { isWeftError, WeftError } from '../errors/index.js';
import { GroupCommitWindow, isTransientStorageError, retryTransient } from '../storage/index.js';
import { type Clock, realTime, type Stopwatch, sleep, startStopwatch } from '../time/index.js';
import { eventBatchSize, type SequencerSettings, writerGroupCommit } from './config.js';
import { SequencerErrors } from './errors.js';
import { bufferedEvent, type EventsBuffer } from './events-buffer.js';
import { type NewEvent, nameInUse, type SequencerStore } from './store.js';
import { PartitionedTimestamps } from './timestamps.js';

/** A validated request waiting for its sequencing timestamp. */
export interface WriteRequest {
  readonly senderId: bigint;
  readonly messageId: string;
  readonly maxSequencingTime: bigint;
  readonly isTopology: boolean;
  /** The encoded StoredBatch. */
  readonly payload: Uint8Array;
  /** Member ids of the recipients and the sender, or just BROADCAST_RECIPIENT. */
  readonly recipientIds: readonly bigint[];
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/** `sequenced`: stored with this timestamp; `duplicate`: an event for the same sender and message id exists. */
export type WriteOutcome =
  | { readonly kind: 'sequenced'; readonly ts: bigint }
  | { readonly kind: 'duplicate' };

interface Pending {
  readonly request: WriteRequest;
  /** Started when the request was queued: its writer lag (queue wait and write) when committed. */
  readonly queued: Stopwatch;
  readonly resolve: (outcome: WriteOutcome) => void;
  readonly reject: (e: unknown) => void;
}

export interface WriterOptions {
  readonly store: SequencerStore;
  readonly settings: SequencerSettings;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** Called after every commit that advanced the watermark. */
  readonly onWatermark: () => void;
  /**
   * Told what each commit stored, before `onWatermark`, so that no event is delivered from memory before it is
   * durable, and none the head counts on is missing there.
   */
  readonly events?: Pick<EventsBuffer, 'joined' | 'committed' | 'unknown'>;
  readonly metrics?: {
    batch(size: number, seconds: number): void;
    /** Seconds from a request's arrival at the writer to its commit. */
    writerLag(seconds: number): void;
  };
  /** Told of a storage failure that is not transient (corruption, a schema from the future): the node must stop. */
  readonly onFatal?: (error: WeftError) => void;
}

/**
 * The writer of one sequencer node: holds a writer slot (node index) of the shared database, gives requests
 * timestamps in its own partition, and commits them in batches together with its watermark (a batch gathers
 * what arrives within the group-commit window). When idle it advances the watermark every keep-alive interval, to
 * show its peers it is alive, and at once when other writers' events wait for it ({@link nudge}).
 */
export class SequencerWriter {
  readonly #o: WriterOptions;
  readonly #queue: Pending[] = [];
  readonly #batchSize: number;
  readonly #window: GroupCommitWindow;
  /** A fresh id per incarnation: the database rejects writes of an instance whose slot was taken over. */
  readonly #owner: string;
  #index = -1;
  #timestamps: PartitionedTimestamps | undefined;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #wake: (() => void) | undefined;
  #nudged = false;
  #loop: Promise<void> | undefined;
  #cancelOnlineCheck: (() => void) | undefined;
  /** Aborted by any stop: interrupts waits. */
  readonly #stopping = new AbortController();
  /** Set by a stop that simulates a crash: nothing more is written. */
  #killed = false;

  constructor(options: WriterOptions) {
    this.#o = options;
    this.#batchSize = eventBatchSize(options.settings);
    this.#window = new GroupCommitWindow(writerGroupCommit(options.settings), options.clock);
    this.#owner = Buffer.from(options.random.bytes(16)).toString('hex');
  }

  /** The writer slot this node holds. */
  get nodeIndex(): number {
    return this.#index;
  }

  /** A time no later than the timestamp of any request submitted from now on. */
  get now(): bigint {
    const now = this.#o.clock.now();
    const last = this.#timestamps?.last;
    if (last !== undefined && last > now) return last;
    return now;
  }

  async start(): Promise<void> {
    const { store, settings, nodeName } = this.#o;
    const ha = settings.highAvailability;
    await store.checkTotalNodeCount(ha.totalNodeCount);
    await this.#awaitNameFree();
    await this.#join(true);
    this.#state = 'running';
    this.#loop = this.#run();
    this.#scheduleOnlineCheck();
    this.#o.logger.info({ nodeIndex: this.#index, nodeName }, 'sequencer writer online');
  }

  /** Queues a request; resolves once it is committed (or found to be a duplicate). */
  submit(request: WriteRequest): Promise<WriteOutcome> {
    if (this.#state !== 'running') {
      return Promise.reject(
        new WeftError(SequencerErrors.SEQUENCER_UNAVAILABLE, 'this sequencer node is not accepting requests'),
      );
    }
    if (this.#queue.length >= this.#o.settings.writer.queueSize) {
      return Promise.reject(
        new WeftError(
          SequencerErrors.SEQUENCER_OVERLOADED,
          `the sequencer write queue is full (${this.#o.settings.writer.queueSize} requests); retry later`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, queued: startStopwatch(this.#o.clock), resolve, reject });
      this.#window.arrived();
      this.#wake?.();
    });
  }

  /**
   * Stops the writer. `graceful`: writes what is queued and marks the slot offline so that peers need not wait
   * for the offline duration. Otherwise it stops as a crashed process would: the queue is failed and the
   * database is left as it is.
   */
  async stop(graceful: boolean): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'new') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    this.#cancelOnlineCheck?.();
    this.#stopping.abort();
    if (!graceful) {
      this.#killed = true;
      this.#failQueue(new WeftError(SequencerErrors.SEQUENCER_UNAVAILABLE, 'the sequencer node stopped'));
    }
    this.#wake?.();
    await this.#loop;
    this.#state = 'stopped';
    if (graceful) {
      await this.#o.store
        .goOffline(this.#index, this.#owner)
        .catch((e) => this.#o.logger.warn({ err: e }, 'could not mark the writer slot offline'));
    }
  }

  /**
   * A slot under this node's name that is online with a recent watermark belongs to a live node, or to one that
   * crashed moments ago (a restart). A live writer advances its watermark at least every keep-alive interval, so
   * watching the slot for a while tells them apart: refuse if it advances or changes hands, reclaim if it stands
   * still or goes offline. The watch lasts 8 keep-alive intervals, at least a second (a loaded machine delays
   * keep-alives), at most the offline duration (after which peers would mark the slot offline anyway).
   */
  async #awaitNameFree(): Promise<void> {
    const { store, settings, clock, nodeName } = this.#o;
    const ha = settings.highAvailability;
    const find = async () => (await store.watermarks()).find((r) => r.nodeName === nodeName);
    const seen = await find();
    const staleBefore = clock.now() - BigInt(ha.offlineDurationMs) * 1000n;
    if (!seen?.online || seen.watermark < staleBefore) return;
    const watchMs = Math.min(ha.offlineDurationMs, Math.max(8 * ha.keepAliveIntervalMs, 1000));
    // The watch lasts real time: on static time the clock would never reach its end.
    const watch = realTime(clock);
    const deadline = watch.now() + BigInt(watchMs) * 1000n;
    while (watch.now() < deadline) {
      await sleep(clock, ha.keepAliveIntervalMs, this.#stopping.signal);
      const now = await find();
      if (!now?.online) return;
      if (now.owner !== seen.owner || now.watermark !== seen.watermark) throw nameInUse(nodeName, now);
    }
    this.#o.logger.info(
      { nodeIndex: seen.nodeIndex, nodeName },
      `the writer slot of node name ${nodeName} stood still for ${watchMs} ms: its previous holder is gone; reclaiming it`,
    );
  }

  async #join(reclaimOwnName: boolean): Promise<void> {
    const { store, settings, clock, nodeName } = this.#o;
    const ha = settings.highAvailability;
    const mine =
      this.#index >= 0 ? (await store.watermarks()).find((r) => r.nodeIndex === this.#index) : undefined;
    if (mine?.owner !== this.#owner) {
      const staleBefore = clock.now() - BigInt(ha.offlineDurationMs) * 1000n;
      this.#index = await store.acquireSlot(
        nodeName,
        this.#owner,
        ha.totalNodeCount,
        staleBefore,
        reclaimOwnName,
      );
    }
    const floor = await store.recoverAndGoOnline(this.#index, this.#owner, clock.now());
    this.#timestamps = new PartitionedTimestamps(this.#index, ha.totalNodeCount, floor);
    this.#o.events?.joined(floor);
    this.#o.onWatermark();
  }

  async #run(): Promise<void> {
    const keepAliveMs = this.#o.settings.highAvailability.keepAliveIntervalMs;
    while (this.#state === 'running' || (this.#state === 'stopping' && this.#queue.length > 0)) {
      if (this.#killed) return;
      if (this.#queue.length === 0) {
        const woken = await this.#idle(keepAliveMs);
        const tick = !woken || this.#nudged;
        this.#nudged = false;
        if (tick && this.#state === 'running' && this.#queue.length === 0) {
          await this.#guard([], () => this.#keepAlive());
        }
        continue;
      }
      // Batching: let requests that already arrived reach the queue first (a synchronous SQLite commit keeps
      // them waiting in the event loop while it runs).
      if (this.#batchSize > 1 && this.#queue.length < this.#batchSize) {
        await new Promise((r) => setImmediate(r));
        await this.#window.wait(this.#stopping.signal);
        if (this.#killed) return;
      }
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#window.taken(this.#queue.length);
      await this.#guard(batch, () => this.#write(batch));
    }
  }

  /**
   * Advances the watermark now instead of at the next keep-alive, when this idle writer is the one holding back
   * the delivery of other writers' events.
   */
  nudge(): void {
    if (this.#state !== 'running' || this.#queue.length > 0) return;
    this.#nudged = true;
    this.#wake?.();
  }

  /** Waits for a request or the keep-alive interval; true when woken early (a request, a nudge, a stop). */
  #idle(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = this.#o.clock.schedule(ms, () => {
        this.#wake = undefined;
        resolve(false);
      });
      this.#wake = () => {
        this.#wake = undefined;
        cancel();
        resolve(true);
      };
    });
  }

  async #keepAlive(): Promise<void> {
    const ts = this.#timestamps!.next(this.#o.clock.now());
    await this.#o.store.advanceWatermark(this.#index, this.#owner, ts);
    this.#o.events?.committed([], ts);
    this.#o.onWatermark();
  }

  async #write(batch: readonly Pending[]): Promise<void> {
    const watch = startStopwatch(this.#o.clock);
    const events = batch.map(({ request: r }): NewEvent => {
      const ts = this.#timestamps!.next(this.#o.clock.now());
      const trace = { traceparent: r.traceparent, tracestate: r.tracestate };
      if (ts <= r.maxSequencingTime) {
        return {
          ts,
          kind: 'deliver',
          senderId: r.senderId,
          messageId: r.messageId,
          isTopology: r.isTopology,
          payload: r.payload,
          recipientIds: r.recipientIds,
          ...trace,
        };
      }
      return {
        ts,
        kind: 'error',
        senderId: r.senderId,
        messageId: r.messageId,
        isTopology: false,
        recipientIds: [r.senderId],
        errorCode: SequencerErrors.SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED.code,
        errorMessage: `request ${r.messageId} reached the sequencer at ${ts}, after its max sequencing time ${r.maxSequencingTime}`,
        ...trace,
      };
    });
    const last = events[events.length - 1]!.ts;
    // A transient storage failure is waited out with the batch's timestamps kept: if the failed attempt committed
    // after all, the repeat finds every event a duplicate of itself (same sender and message id), which the
    // senders are told as success too. Events of an attempt whose outcome was not seen are not handed over: the
    // head reads that range from the database.
    let attempts = 0;
    const duplicates = await retryTransient(
      () => {
        attempts++;
        return this.#o.store.writeEvents(this.#index, this.#owner, events, last);
      },
      {
        clock: this.#o.clock,
        logger: this.#o.logger,
        what: 'writing sequenced events',
        signal: this.#stopping.signal,
      },
    ).catch((e) => {
      this.#o.events?.unknown(last);
      throw e;
    });
    if (attempts > 1) this.#o.events?.unknown(last);
    const index = this.#index;
    this.#o.events?.committed(
      attempts > 1 ? [] : events.flatMap((e, i) => (duplicates.has(i) ? [] : [bufferedEvent(e, index)])),
      last,
    );
    const metrics = this.#o.metrics;
    if (metrics) {
      metrics.batch(batch.length, watch.elapsedMs() / 1000);
      for (const p of batch) metrics.writerLag(p.queued.elapsedMs() / 1000);
    }
    this.#o.onWatermark();
    batch.forEach((p, i) => {
      p.resolve(duplicates.has(i) ? { kind: 'duplicate' } : { kind: 'sequenced', ts: events[i]!.ts });
    });
  }

  /**
   * Runs a database step. When it fails, the batch's requests fail (their senders resend; message ids make that
   * safe even if the commit went through); when the slot was lost, the writer rejoins before going on.
   */
  async #guard(batch: readonly Pending[], step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      const error = isWeftError(e)
        ? e
        : new WeftError(SequencerErrors.SEQUENCER_UNAVAILABLE, `sequencer write failed: ${String(e)}`);
      for (const p of batch) p.reject(error);
      if (this.#killed) return;
      this.#o.logger.warn({ err: e, nodeIndex: this.#index }, 'sequencer write failed');
      // Transient failures were waited out in the step; a storage failure that is not transient will not pass.
      if (error.code.startsWith('STORAGE_') && !isTransientStorageError(e)) this.#o.onFatal?.(error);
      if (isWeftError(e, SequencerErrors.SEQUENCER_NODE_INDEX_LOST)) await this.#rejoin();
      else
        await sleep(
          this.#o.clock,
          this.#o.settings.highAvailability.keepAliveIntervalMs,
          this.#stopping.signal,
        );
    }
  }

  async #rejoin(): Promise<void> {
    for (let delay = 50; !this.#stopping.signal.aborted; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.#join(false);
        this.#o.logger.info({ nodeIndex: this.#index }, 'sequencer writer rejoined');
        return;
      } catch (e) {
        if (isWeftError(e, SequencerErrors.SEQUENCER_NODE_NAME_IN_USE)) {
          // Another live node has this name now: this one must not write under it.
          this.#o.logger.error(
            { err: e },
            'sequencer writer lost its slot to a node of the same name; it stops',
          );
          this.#state = 'stopped';
          this.#failQueue(e);
          return;
        }
        this.#o.logger.warn({ err: e }, 'sequencer writer could not rejoin; retrying');
        await sleep(this.#o.clock, delay, this.#stopping.signal);
      }
    }
  }

  #failQueue(error: WeftError): void {
    for (const p of this.#queue.splice(0)) p.reject(error);
    this.#window.taken();
  }

  #scheduleOnlineCheck(): void {
    const ha = this.#o.settings.highAvailability;
    this.#cancelOnlineCheck = this.#o.clock.schedule(ha.onlineCheckIntervalMs, () => {
      if (this.#state !== 'running') return;
      const cutoff = this.#o.clock.now() - BigInt(ha.offlineDurationMs) * 1000n;
      this.#o.store
        .markLaggingOffline(cutoff, this.#index)
        .then((marked) => {
          if (marked.length > 0) {
            this.#o.logger.warn({ nodeIndexes: marked }, 'marked lagging sequencer writers offline');
            this.#o.onWatermark();
          }
        })
        .catch((e) => this.#o.logger.warn({ err: e }, 'online check failed'))
        .finally(() => this.#scheduleOnlineCheck());
    });
  }
}
