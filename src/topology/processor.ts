import { isWeftError, WeftError } from '../errors/index.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import type { ParticipantId, SynchronizerId } from '../identity/index.js';
import type { Logger } from '../observability/index.js';
import type { Storage } from '../storage/index.js';
import { type Clock, systemClock } from '../time/index.js';
import {
  type BatchChanges,
  type ProcessedBatch,
  type ProcessedTransaction,
  recordOf,
  TopologyEngine,
} from './engine.js';
import { TopologyErrors, topologyErrorCode } from './errors.js';
import type { Activity, HeadState, StoredTopologyTransaction, TopologySnapshot } from './state.js';
import { TopologyStore } from './store.js';
import { SignedTopologyTransaction } from './transaction.js';
import type { Validation } from './validation.js';

export interface TopologyProcessorOptions {
  readonly storage: Storage;
  readonly synchronizerId: SynchronizerId;
  /** Distinguishes stores sharing one database; default 'synchronizer'. */
  readonly storeId?: string;
  readonly logger?: Logger;
  /** How many snapshots (one per interval between effective times) stay built; default 16. */
  readonly snapshotCacheSize?: number;
  /** For {@link TopologyProcessor.whenEffective}: when a processed change is in force. */
  readonly clock?: Clock;
}

export interface ProcessorResult extends ProcessedBatch {
  /** True when the batch had been processed before and its results were read back from the store. */
  readonly replayed: boolean;
}

/**
 * How many callers may wait at once for a change to be processed ({@link TopologyProcessor.whenEffective}); each
 * holds a timer. Beyond it, TOPOLOGY_TOO_MANY_WAITERS.
 */
const MAX_WAITERS = 1024;
/**
 * How many outcomes of the last processed batches stay in memory, for callers that learn the sequencing time of
 * their change only after it was processed (a member's send receipt follows the processing of its event).
 * Older outcomes are read from the store.
 */
const RECENT_OUTCOMES = 64;

interface Waiter {
  readonly resolve: (result: ProcessorResult) => void;
  readonly reject: (error: WeftError) => void;
}

/**
 * A node's topology state: validates and persists the topology transactions sequenced on its synchronizer, batch by
 * batch in sequencing order, and answers queries at any time (see {@link TopologyEngine}). Batches are processed
 * one at a time even if `process` is called concurrently.
 */
export class TopologyProcessor {
  #engine: TopologyEngine;
  #queue: Promise<unknown> = Promise.resolve();
  /** Callers waiting for the batch sequenced at a time to be processed. */
  readonly #waiters = new Map<bigint, Set<Waiter>>();
  #waiting = 0;
  /** The outcomes of the last batches processed, by sequencing time, oldest first. */
  readonly #recent = new Map<bigint, ProcessorResult>();

  private constructor(
    private readonly store: TopologyStore,
    engine: TopologyEngine,
    private readonly options: TopologyProcessorOptions,
  ) {
    this.#engine = engine;
  }

  /** Opens (and migrates) the node's topology store and loads its state. */
  static async create(options: TopologyProcessorOptions): Promise<TopologyProcessor> {
    const store = await TopologyStore.open(options.storage, options.storeId);
    return new TopologyProcessor(store, await TopologyProcessor.#load(store, options), options);
  }

  static async #load(store: TopologyStore, options: TopologyProcessorOptions): Promise<TopologyEngine> {
    const loaded = await store.load();
    return new TopologyEngine(options.synchronizerId, {
      ...loaded,
      ...(options.snapshotCacheSize !== undefined && { snapshotCacheSize: options.snapshotCacheSize }),
    });
  }

  get synchronizerId(): SynchronizerId {
    return this.options.synchronizerId;
  }

  get lastSequenced(): bigint | undefined {
    return this.#engine.lastSequenced;
  }

  get lastEffective(): bigint | undefined {
    return this.#engine.lastEffective;
  }

  /** The state the next transaction is validated against (what an authoring node proposes against). */
  get head(): HeadState {
    return this.#engine.head;
  }

  get history(): readonly StoredTopologyTransaction[] {
    return this.#engine.history;
  }

  /**
   * Validates, applies and persists the encoded SignedTopologyTransactions sequenced together at `sequenced`. The
   * first batch of an empty store is the genesis. A batch at or before the last processed one must have been
   * processed already (a redelivery after a restart): its stored results are returned.
   */
  process(sequenced: bigint, transactions: readonly Uint8Array[]): Promise<ProcessorResult> {
    const run = this.#queue.then(() => this.#process(sequenced, transactions));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #process(sequenced: bigint, transactions: readonly Uint8Array[]): Promise<ProcessorResult> {
    const last = this.#engine.lastSequenced;
    if (last !== undefined && sequenced <= last) return this.#replay(sequenced, last);
    const changes = this.#engine.apply(sequenced, transactions);
    await this.#persist(changes);
    this.#log(changes);
    const result = { ...changes.batch, replayed: false };
    this.#settle(result);
    return result;
  }

  /** Remembers `result` and settles the callers waiting for it, or for a batch it shows will never come. */
  #settle(result: ProcessorResult): void {
    this.#recent.set(result.sequenced, result);
    if (this.#recent.size > RECENT_OUTCOMES) this.#recent.delete(this.#recent.keys().next().value!);
    for (const [sequenced, waiters] of this.#waiters) {
      if (sequenced > result.sequenced) continue;
      this.#waiters.delete(sequenced);
      for (const w of [...waiters]) {
        if (sequenced === result.sequenced) w.resolve(result);
        else w.reject(lost(sequenced, result.sequenced));
      }
    }
  }

  /**
   * Resolves with what processing made of the batch sequenced at `sequenced` (a change this node submitted), once
   * it is in force: the processor has processed the batch and, when it accepted a transaction of it, the clock has
   * passed its effective time, so snapshots from now on contain it. Nothing is processed again: the processor
   * settles the wait when it processes the batch, and a batch processed before is answered from memory or the
   * store. TOPOLOGY_CHANGE_LOST when the processor went past `sequenced` without a batch there (its sequencer
   * node failed before the change became final); TOPOLOGY_CHANGE_TIMEOUT after `timeoutMs`.
   */
  async whenEffective(sequenced: bigint, timeoutMs: number): Promise<ProcessorResult> {
    const clock = this.options.clock ?? systemClock;
    const deadline = clock.now() + BigInt(timeoutMs) * 1000n;
    const result = await this.#processed(sequenced, timeoutMs);
    if (!result.results.some((r) => r.outcome === 'accepted')) return result;
    const now = clock.now();
    if (now > result.effective) return result;
    if (result.effective >= deadline) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_CHANGE_TIMEOUT,
        `the topology change sequenced at ${sequenced} takes effect at ${result.effective}, after the ${timeoutMs} ms waited for it`,
        { sequenced, effective: result.effective },
      );
    }
    // Snapshots at times after the effective time contain the change.
    await new Promise<void>((resolve) =>
      clock.schedule(Number((result.effective - now) / 1000n) + 1, resolve),
    );
    return result;
  }

  /**
   * The outcome of the batch sequenced at `sequenced`, waiting up to `timeoutMs` for it to be processed. Looked up
   * behind the batches being processed, whose outcomes are recorded only once they are stored.
   */
  async #processed(sequenced: bigint, timeoutMs: number): Promise<ProcessorResult> {
    await this.#queue;
    const recent = this.#recent.get(sequenced);
    if (recent) return recent;
    const last = this.#engine.lastSequenced;
    if (last !== undefined && sequenced <= last) {
      return this.#replay(sequenced, last).catch((e) => {
        throw isWeftError(e, TopologyErrors.TOPOLOGY_OUT_OF_ORDER) ? lost(sequenced, last) : e;
      });
    }
    if (this.#waiting >= MAX_WAITERS) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_TOO_MANY_WAITERS,
        `${this.#waiting} callers wait for topology changes of ${this.synchronizerId} already`,
        { limit: MAX_WAITERS },
      );
    }
    const clock = this.options.clock ?? systemClock;
    return new Promise<ProcessorResult>((resolve, reject) => {
      const waiters = this.#waiters.get(sequenced) ?? new Set<Waiter>();
      this.#waiters.set(sequenced, waiters);
      this.#waiting++;
      const done = () => {
        cancel();
        waiters.delete(waiter);
        if (waiters.size === 0 && this.#waiters.get(sequenced) === waiters) this.#waiters.delete(sequenced);
        this.#waiting--;
      };
      const waiter: Waiter = {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      waiters.add(waiter);
      const cancel = clock.schedule(timeoutMs, () =>
        waiter.reject(
          new WeftError(
            TopologyErrors.TOPOLOGY_CHANGE_TIMEOUT,
            `the topology change sequenced at ${sequenced} was not processed within ${timeoutMs} ms; list the topology to see whether it took effect`,
            { sequenced },
          ),
        ),
      );
    });
  }

  async #persist(changes: BatchChanges): Promise<void> {
    if (changes.records.length === 0) return;
    try {
      await this.store.append(
        changes.records,
        changes.expired,
        changes.batch.effective,
        changes.batch.sequenced,
      );
    } catch (e) {
      // The engine already applied the batch; go back to what the database holds.
      this.#engine.undoLastBatch();
      throw e;
    }
  }

  async #replay(sequenced: bigint, last: bigint): Promise<ProcessorResult> {
    const records = await this.store.batch(sequenced);
    if (records.length === 0) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_OUT_OF_ORDER,
        `topology batch sequenced at ${sequenced} is older than the last processed batch (${last}) and unknown to this node`,
      );
    }
    const results = records.map((r): ProcessedTransaction => {
      const transaction = r.transaction && SignedTopologyTransaction.decode(r.signedTransaction);
      return {
        outcome: r.outcome,
        ...(transaction && { transaction }),
        ...(r.rejection && {
          error: new WeftError(topologyErrorCode(r.rejection.code), r.rejection.message),
        }),
      };
    });
    return { sequenced, effective: records[0]!.validFrom, results, replayed: true };
  }

  #log(changes: BatchChanges): void {
    const logger = this.options.logger;
    if (!logger) return;
    const { sequenced, effective, results } = changes.batch;
    for (const r of results) {
      const hash = r.transaction?.hash.toHex();
      if (r.outcome === 'rejected') {
        logger.info(
          { sequenced, hash, code: r.error?.code },
          `rejected topology transaction: ${r.error?.message}`,
        );
      } else {
        logger.debug(
          { sequenced, effective, hash, outcome: r.outcome },
          `topology transaction ${r.transaction}`,
        );
      }
    }
  }

  /** Dry run against the head state: what processing `tx` now would do. */
  validate(tx: Uint8Array | SignedTopologyTransaction): Validation {
    return this.#engine.validate(tx);
  }

  /** The topology as of `t` (transactions effective strictly before `t`). */
  snapshot(t: bigint): TopologySnapshot {
    return this.#engine.snapshot(t);
  }

  /**
   * The time "now" queries read the topology at, `now` being the node's clock: the later of `now` and just after
   * the last batch processed (Canton's current snapshot approximation), so that every change already effective is
   * seen even when the clock is behind the sequencer's timestamps. On static time it always is: the sequencer's
   * timestamps move past the standing clock by a microsecond per event.
   */
  approximateTime(now: bigint): bigint {
    const last = this.#engine.lastSequenced;
    return last !== undefined && last >= now ? last + 1n : now;
  }

  /** The topology now: the snapshot at {@link approximateTime}. */
  currentSnapshot(now: bigint): TopologySnapshot {
    return this.snapshot(this.approximateTime(now));
  }

  isParticipantActive(participant: ParticipantId, t: bigint): Activity {
    return this.#engine.isParticipantActive(participant, t);
  }

  /** Snapshots at times up to this one are final (see {@link TopologyEngine.knownUntil}). */
  knownUntil(): bigint | undefined {
    return this.#engine.knownUntil();
  }

  /** The topology history as an onboarding snapshot for a new node (encoded `TopologyStateSnapshot`). */
  exportState(): Uint8Array {
    return exportState(this.#engine);
  }

  /**
   * Initialises an empty store from an exported snapshot. Every transaction is validated again, batch by batch,
   * and the result must reproduce the snapshot exactly; only then is anything written (in one database
   * transaction).
   */
  importState(snapshot: Uint8Array): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#engine.lastSequenced !== undefined) {
        throw new WeftError(
          TopologyErrors.TOPOLOGY_SNAPSHOT_MISMATCH,
          `the topology store of ${this.synchronizerId} is not empty; import a snapshot only into a new node`,
        );
      }
      const engine = replaySnapshot(this.synchronizerId, snapshot, this.options.snapshotCacheSize);
      const last = engine.lastSequenced;
      if (last === undefined) return;
      await this.store.append(engine.history.map(recordOf), [], 0n, last);
      this.#engine = engine;
      // The imported history answers the waits for batches it covers.
      for (const sequenced of [...this.#waiters.keys()].filter((t) => t <= last)) {
        const waiters = [...this.#waiters.get(sequenced)!];
        this.#waiters.delete(sequenced);
        const result = await this.#replay(sequenced, last).catch((e: WeftError) => e);
        for (const w of waiters) {
          if (result instanceof WeftError) w.reject(lost(sequenced, last));
          else w.resolve(result);
        }
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }
}

function lost(sequenced: bigint, processed: bigint): WeftError {
  return new WeftError(
    TopologyErrors.TOPOLOGY_CHANGE_LOST,
    `the topology change sequenced at ${sequenced} was dropped: the node processed topology up to ${processed} without it (its sequencer node failed before the change became final); submit it again`,
    { sequenced },
  );
}

/** Encodes an engine's history as a `TopologyStateSnapshot`. */
export function exportState(engine: TopologyEngine): Uint8Array {
  return pb.TopologyStateSnapshot.toBinary({
    synchronizerId: String(engine.synchronizerId),
    transactions: engine.history.map((tx) => ({
      signedTransaction: tx.signed.toBytes(),
      sequenced: tx.sequenced,
      validFrom: tx.validFrom,
      ...(tx.validUntil !== undefined && { validUntil: tx.validUntil }),
    })),
    lastSequenced: engine.lastSequenced ?? 0n,
  });
}

/** Rebuilds an engine from a snapshot by validating every batch again; throws unless it reproduces the snapshot. */
export function replaySnapshot(
  synchronizerId: SynchronizerId,
  snapshot: Uint8Array,
  snapshotCacheSize?: number,
): TopologyEngine {
  const mismatch = (message: string): never => {
    throw new WeftError(TopologyErrors.TOPOLOGY_SNAPSHOT_MISMATCH, message);
  };
  let proto: pb.TopologyStateSnapshot;
  try {
    proto = pb.TopologyStateSnapshot.fromBinary(snapshot);
  } catch (cause) {
    return mismatch(
      `the topology snapshot cannot be decoded: ${cause instanceof Error ? cause.message : cause}`,
    );
  }
  if (proto.synchronizerId !== String(synchronizerId)) {
    mismatch(`the topology snapshot is for synchronizer ${proto.synchronizerId}, not ${synchronizerId}`);
  }
  const engine = new TopologyEngine(
    synchronizerId,
    snapshotCacheSize === undefined ? {} : { snapshotCacheSize },
  );
  const rows = proto.transactions;
  for (let i = 0; i < rows.length; ) {
    const sequenced = rows[i]!.sequenced;
    let j = i;
    while (j < rows.length && rows[j]!.sequenced === sequenced) j++;
    const { batch } = engine.apply(
      sequenced,
      rows.slice(i, j).map((r) => r.signedTransaction),
    );
    batch.results.forEach((r, k) => {
      if (r.outcome !== 'accepted' && r.outcome !== 'proposal') {
        mismatch(
          `transaction ${i + k + 1} of the topology snapshot (sequenced at ${sequenced}) is ${r.outcome}${r.error ? `: ${r.error.message}` : ''}`,
        );
      }
    });
    i = j;
  }
  if (rows.length > 0 || proto.lastSequenced !== 0n) engine.advanceTo(proto.lastSequenced);
  const history = engine.history;
  if (history.length !== rows.length) mismatch('the topology snapshot does not reproduce');
  history.forEach((tx, k) => {
    const row = rows[k]!;
    if (
      tx.validFrom !== row.validFrom ||
      tx.validUntil !== row.validUntil ||
      !Buffer.from(tx.signed.toBytes()).equals(row.signedTransaction)
    ) {
      mismatch(
        `transaction ${k + 1} of the topology snapshot (sequenced at ${row.sequenced}) does not reproduce: stored validity [${row.validFrom}, ${row.validUntil ?? '∞'}), recomputed [${tx.validFrom}, ${tx.validUntil ?? '∞'})`,
      );
    }
  });
  return engine;
}
