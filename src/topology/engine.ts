import { WeftError } from '../errors/index.js';
import type { ParticipantId, SynchronizerId } from '../identity/index.js';
import { TopologyErrors } from './errors.js';
import { DEFAULT_SYNCHRONIZER_PARAMETERS, UniqueKeys } from './mapping.js';
import {
  type Activity,
  type HeadState,
  StoredTopologyTransaction,
  type TopologySnapshot,
  TopologyState,
} from './state.js';
import type { TopologyOutcome, TopologyRecord } from './store.js';
import type { SignedTopologyTransaction } from './transaction.js';
import { type Validation, validateTopologyTransaction } from './validation.js';

export interface ProcessedTransaction {
  readonly outcome: TopologyOutcome;
  /** As stored (accepted: only the authorizing signatures, proposals: merged), or as received if decodable. */
  readonly transaction?: SignedTopologyTransaction;
  /** Why the transaction was rejected. */
  readonly error?: WeftError;
}

export interface ProcessedBatch {
  readonly sequenced: bigint;
  /** When the accepted transactions take effect: snapshots at times after this contain them. */
  readonly effective: bigint;
  readonly results: readonly ProcessedTransaction[];
}

/** What a batch changed, for persisting it. */
export interface BatchChanges {
  readonly batch: ProcessedBatch;
  readonly records: readonly TopologyRecord[];
  /** Ids of earlier transactions whose validity ended at the batch's effective time. */
  readonly expired: readonly bigint[];
}

const DEFAULT_SNAPSHOT_CACHE = 16;

/**
 * The topology of one synchronizer in memory, built only from sequenced batches of topology transactions. It
 * validates each transaction against the head state (all transactions accepted before it, effective or not), so
 * every member that processes the same batches in the same order reaches the same state, and it answers snapshot
 * queries at any time from the validity intervals.
 *
 * Effective time: the first batch is the genesis and takes effect at its sequencing time; later batches take effect
 * at `sequenced + topologyChangeDelay` (the delay in force at `sequenced`), never before an earlier batch.
 */
export class TopologyEngine {
  #head: TopologyState;
  #history: StoredTopologyTransaction[] = [];
  /** Distinct effective times, ascending: a snapshot only changes at these. */
  #boundaries: bigint[] = [];
  #parameterHistory: StoredTopologyTransaction[] = [];
  readonly #snapshots = new Map<bigint, TopologyState>();
  /** What undoing the last applied batch restores. */
  #undo:
    | {
        readonly historyLength: number;
        readonly lastSequenced: bigint | undefined;
        readonly lastEffective: bigint | undefined;
        readonly nextId: bigint;
        readonly expired: StoredTopologyTransaction[];
      }
    | undefined;
  readonly #parametersKey: string;
  readonly #snapshotCacheSize: number;
  #lastSequenced: bigint | undefined;
  #lastEffective: bigint | undefined;
  #nextId: bigint;

  constructor(
    readonly synchronizerId: SynchronizerId,
    options: {
      /** Transactions a store holds, in processing order. */
      readonly transactions?: readonly StoredTopologyTransaction[];
      readonly lastSequenced?: bigint | undefined;
      readonly lastEffective?: bigint | undefined;
      readonly nextId?: bigint;
      readonly snapshotCacheSize?: number;
    } = {},
  ) {
    this.#parametersKey = UniqueKeys.synchronizerParameters(synchronizerId);
    this.#snapshotCacheSize = options.snapshotCacheSize ?? DEFAULT_SNAPSHOT_CACHE;
    this.#head = this.#rebuild(options.transactions ?? []);
    this.#lastSequenced = options.lastSequenced;
    this.#lastEffective = options.lastEffective;
    this.#nextId = options.nextId ?? 1n;
  }

  /** Resets the indexes to `transactions` and returns the head state they define. */
  #rebuild(transactions: readonly StoredTopologyTransaction[]): TopologyState {
    this.#history = [];
    this.#boundaries = [];
    this.#parameterHistory = [];
    this.#snapshots.clear();
    for (const tx of transactions) this.#remember(tx);
    const head = new TopologyState(this.synchronizerId);
    for (const tx of this.#history) {
      if (tx.validUntil !== undefined) continue;
      if (tx.status === 'accepted') head.accept(tx);
      else head.addProposal(tx);
    }
    return head;
  }

  /** Reverts the last {@link apply} (when persisting it failed), so the engine matches the store again. */
  undoLastBatch(): void {
    const undo = this.#undo;
    if (undo === undefined) throw new Error('no topology batch to undo');
    for (const tx of undo.expired) tx.reopen();
    this.#head = this.#rebuild(this.#history.slice(0, undo.historyLength));
    this.#lastSequenced = undo.lastSequenced;
    this.#lastEffective = undo.lastEffective;
    this.#nextId = undo.nextId;
    this.#undo = undefined;
  }

  get lastSequenced(): bigint | undefined {
    return this.#lastSequenced;
  }

  get lastEffective(): bigint | undefined {
    return this.#lastEffective;
  }

  /** The state new transactions are validated against; it changes as batches are applied. */
  get head(): HeadState {
    return this.#head;
  }

  /** Validates `tx` against the head state without applying it (a dry run, e.g. before submitting). */
  validate(tx: Uint8Array | SignedTopologyTransaction): Validation {
    return validateTopologyTransaction(this.#head, tx, { synchronizerId: this.synchronizerId });
  }

  /** Accepted transactions and proposals, in processing order, with their validity. */
  get history(): readonly StoredTopologyTransaction[] {
    return this.#history;
  }

  /** Records that every batch up to `sequenced` was processed (a snapshot import covers batches it omits). */
  advanceTo(sequenced: bigint): void {
    if (this.#lastSequenced === undefined || sequenced > this.#lastSequenced) this.#lastSequenced = sequenced;
  }

  /**
   * Validates and applies the transactions sequenced together at `sequenced`, in order. Rejections do not stop
   * the batch: each transaction gets its own outcome.
   */
  apply(sequenced: bigint, transactions: readonly Uint8Array[]): BatchChanges {
    if (this.#lastSequenced !== undefined && sequenced <= this.#lastSequenced) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_OUT_OF_ORDER,
        `topology batch sequenced at ${sequenced} arrived after the batch sequenced at ${this.#lastSequenced}`,
      );
    }
    this.#undo = undefined;
    const genesis = this.#history.length === 0;
    const delay = genesis ? 0n : this.#delayAt(sequenced);
    const candidate = sequenced + delay;
    const effective =
      this.#lastEffective !== undefined && this.#lastEffective > candidate ? this.#lastEffective : candidate;
    // An empty batch changes nothing, not even which batch counts as the genesis.
    if (transactions.length === 0)
      return { batch: { sequenced, effective, results: [] }, records: [], expired: [] };
    const context = { synchronizerId: this.synchronizerId, effective };

    const created: (TopologyRecord | StoredTopologyTransaction)[] = [];
    const undo = {
      historyLength: this.#history.length,
      lastSequenced: this.#lastSequenced,
      lastEffective: this.#lastEffective,
      nextId: this.#nextId,
      expired: [] as StoredTopologyTransaction[],
    };
    this.#undo = undo;
    const expire = (tx: StoredTopologyTransaction) => {
      tx.expire(effective);
      if (tx.id < undo.nextId) undo.expired.push(tx);
    };
    const results: ProcessedTransaction[] = [];
    for (const bytes of transactions) {
      const id = this.#nextId++;
      const v = validateTopologyTransaction(this.#head, bytes, context);
      let stored: StoredTopologyTransaction | undefined;
      if (v.status === 'accepted') {
        stored = new StoredTopologyTransaction(id, sequenced, effective, undefined, 'accepted', v.tx);
        const replaced = this.#head.accept(stored);
        if (replaced) expire(replaced);
        for (const p of this.#head.removeProposalsUpTo(stored.uniqueKey, stored.serial)) expire(p);
      } else if (v.status === 'proposal') {
        stored = new StoredTopologyTransaction(id, sequenced, effective, undefined, 'proposal', v.tx);
        const superseded = this.#head.addProposal(stored);
        if (superseded) expire(superseded);
      }
      results.push(
        v.status === 'rejected'
          ? { outcome: v.status, ...(v.tx && { transaction: v.tx }), error: v.error }
          : { outcome: v.status, transaction: v.tx },
      );
      created.push(
        stored ?? {
          id,
          sequenced,
          validFrom: effective,
          // Rejected and duplicate transactions are never part of a snapshot.
          validUntil: effective,
          outcome: v.status,
          signedTransaction: bytes,
          ...(v.tx && { transaction: transactionFields(v.tx) }),
          ...(v.status === 'rejected' && { rejection: { code: v.error.code, message: v.error.message } }),
        },
      );
    }

    const records = created.map((c) => (c instanceof StoredTopologyTransaction ? recordOf(c) : c));
    for (const c of created) if (c instanceof StoredTopologyTransaction) this.#remember(c);
    for (const [key] of this.#snapshots) if (key >= effective) this.#snapshots.delete(key);
    this.#lastSequenced = sequenced;
    // Only stored transactions bound later effective times, so a replay of the stored history computes the same.
    if (created.some((c) => c instanceof StoredTopologyTransaction)) this.#lastEffective = effective;
    return { batch: { sequenced, effective, results }, records, expired: undo.expired.map((tx) => tx.id) };
  }

  #remember(tx: StoredTopologyTransaction): void {
    this.#history.push(tx);
    if (this.#boundaries.at(-1) !== tx.validFrom) this.#boundaries.push(tx.validFrom);
    if (tx.status === 'accepted' && tx.uniqueKey === this.#parametersKey) this.#parameterHistory.push(tx);
  }

  /** The topology change delay in force at `t`. */
  #delayAt(t: bigint): bigint {
    for (let i = this.#parameterHistory.length - 1; i >= 0; i--) {
      const tx = this.#parameterHistory[i]!;
      if (tx.isValidAt(t) && tx.mapping.kind === 'SynchronizerParametersState') {
        return tx.mapping.parameters.topologyChangeDelay;
      }
    }
    return DEFAULT_SYNCHRONIZER_PARAMETERS.topologyChangeDelay;
  }

  /**
   * The topology as of time `t`: the transactions that took effect strictly before `t` and were not replaced by
   * then. Snapshots are cached per interval between effective times.
   */
  snapshot(t: bigint): TopologySnapshot {
    const b = this.#boundaries;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    // Every t in (b[lo-1], b[lo]] sees the same transactions.
    const key = lo === 0 ? -1n << 63n : b[lo - 1]!;
    let state = this.#snapshots.get(key);
    if (state) {
      this.#snapshots.delete(key);
    } else {
      state = TopologyState.at(this.synchronizerId, this.#history, t);
      if (this.#snapshots.size >= this.#snapshotCacheSize)
        this.#snapshots.delete(this.#snapshots.keys().next().value!);
    }
    this.#snapshots.set(key, state);
    return state;
  }

  isParticipantActive(participant: ParticipantId, t: bigint): Activity {
    return this.snapshot(t).isParticipantActive(participant, t);
  }

  /**
   * The latest time whose snapshot is final: no batch sequenced later can take effect at or before it. Undefined
   * before the genesis.
   */
  knownUntil(): bigint | undefined {
    const last = this.#lastSequenced;
    if (last === undefined) return undefined;
    let delay = this.#delayAt(last + 1n);
    for (const tx of this.#parameterHistory) {
      if (tx.validFrom >= last + 1n && tx.mapping.kind === 'SynchronizerParametersState') {
        const d = tx.mapping.parameters.topologyChangeDelay;
        if (d < delay) delay = d;
      }
    }
    return last + delay + 1n;
  }
}

function transactionFields(tx: SignedTopologyTransaction): NonNullable<TopologyRecord['transaction']> {
  return {
    uniqueKey: tx.uniqueKey,
    mappingKind: tx.mapping.kind,
    operation: tx.operation,
    serial: tx.serial,
    hash: tx.hash.toHex(),
  };
}

/** The record of an accepted transaction or proposal, with its current validity. */
export function recordOf(tx: StoredTopologyTransaction): TopologyRecord {
  return {
    id: tx.id,
    sequenced: tx.sequenced,
    validFrom: tx.validFrom,
    validUntil: tx.validUntil,
    outcome: tx.status,
    signedTransaction: tx.signed.toBytes(),
    transaction: transactionFields(tx.signed),
  };
}
