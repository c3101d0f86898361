import { WeftError } from '../errors/index.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import type { ParticipantId, SynchronizerId } from '../identity/index.js';
import type { Logger } from '../observability/index.js';
import type { Storage } from '../storage/index.js';
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
}

export interface ProcessorResult extends ProcessedBatch {
  /** True when the batch had been processed before and its results were read back from the store. */
  readonly replayed: boolean;
}

/**
 * A node's topology state: validates and persists the topology transactions sequenced on its synchronizer, batch by
 * batch in sequencing order, and answers queries at any time (see {@link TopologyEngine}). Batches are processed
 * one at a time even if `process` is called concurrently.
 */
export class TopologyProcessor {
  #engine: TopologyEngine;
  #queue: Promise<unknown> = Promise.resolve();

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
    return { ...changes.batch, replayed: false };
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
    });
    this.#queue = run.catch(() => {});
    return run;
  }
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
