import type { FatContract, Party, TransactionDecoder } from '../daml/index.js';
import { decodeContract } from './contracts.js';
import type { ParticipantMetrics } from './metrics.js';
import type { ParticipantStore } from './store.js';

/** A usable contract: what it is, and which hosted parties may use it. */
export interface KnownContract {
  readonly contract: FatContract;
  /** The synchronizer it is assigned to: only requests there may use it. */
  readonly synchronizerId: string;
  /** Hosted stakeholders: the parties whose active contract set holds it. */
  readonly stakeholders: ReadonlySet<Party>;
  /** Hosted parties that may use it: its hosted stakeholders and the hosted parties it was divulged to. */
  readonly readers: ReadonlySet<Party>;
}

/** Contract states read at one point in event order: the contract if it is active here, else undefined. */
export interface ContractStates {
  get(contractId: string): KnownContract | undefined;
}

/** What conflict detection reads: the states of the contracts a request uses, and the locks on them. */
export interface Activeness extends ContractStates {
  /** The request in flight that archives the contract. */
  lockedBy(contractId: string): bigint | undefined;
}

/**
 * The participant's active contract set (ACS), with the locks of requests in flight (conflict detection). The
 * database is the source; in memory are
 * - the contracts whose changes (creation, archival, new readers) are decided but not durable yet ("dirty": the
 *   database is behind them, so they cannot be evicted), held until the journal wrote them;
 * - a bounded cache of recently used active contracts (least recently used evicted first);
 * - the locks, one per contract a request in flight archives.
 * Readers {@link fetch} the states they need (a database read for what memory lacks) and then check them
 * synchronously, in event order. A database read overlapping a write that made a dirty contract clean (and the
 * cache evicted it meanwhile) may have read the state before that write: such contracts are read again.
 */
export class ActiveContracts {
  readonly #cache = new Map<string, KnownContract>();
  /** Contract id → its state (undefined: archived) and how many decisions not yet durable changed it. */
  readonly #dirty = new Map<string, { state: KnownContract | undefined; pending: number }>();
  /** Contract id → the request that archives it, while that request is in flight. */
  readonly #locks = new Map<string, bigint>();
  /** Database reads in flight, and for them: contract id → when (in {@link #cleaned} steps) it became clean. */
  #reads = 0;
  #cleaned = 0;
  readonly #cleanedAt = new Map<string, number>();

  constructor(
    private readonly store: ParticipantStore,
    private readonly decoder: TransactionDecoder,
    private readonly capacity: number,
    private readonly metrics: ParticipantMetrics,
  ) {}

  /** Contracts in the cache (the dirty ones besides). */
  get cached(): number {
    return this.#cache.size;
  }

  /**
   * Reads the states of `ids`: from memory, else from the database. The answer is for the caller's synchronous use
   * right after the await (conflict detection, a commit): changes it makes meanwhile are in memory, which the
   * answer consults first, and none of them can have become durable and left memory yet.
   */
  async fetch(ids: Iterable<string>): Promise<ContractStates> {
    const loaded = new Map<string, KnownContract | undefined>();
    const wanted = [...new Set(ids)];
    let missing: string[] = [];
    for (const id of wanted) {
      const m = this.#memory(id);
      // Kept: loading the others may evict it from the cache.
      if (m) loaded.set(id, m.state);
      else missing.push(id);
    }
    this.metrics.contractLookups.inc({ source: 'memory' }, wanted.length - missing.length);
    this.metrics.contractLookups.inc({ source: 'database' }, missing.length);
    while (missing.length > 0) {
      const started = this.#cleaned;
      this.#reads++;
      let stored: Awaited<ReturnType<ParticipantStore['contracts']>>;
      try {
        stored = await this.store.contracts(missing);
      } finally {
        this.#reads--;
      }
      const byId = new Map(stored.map((s) => [s.row.contractId, s]));
      const stale: string[] = [];
      for (const id of missing) {
        if (this.#memory(id) !== undefined) continue;
        if ((this.#cleanedAt.get(id) ?? -1) > started) {
          stale.push(id);
          continue;
        }
        const s = byId.get(id);
        const known = s && {
          contract: decodeContract(s.row.contract, this.decoder),
          synchronizerId: s.row.synchronizerId,
          stakeholders: new Set(s.parties.filter((p) => p.stakeholder).map((p) => p.party)),
          readers: new Set(s.parties.map((p) => p.party)),
        };
        loaded.set(id, known);
        if (known) this.#remember(id, known);
      }
      if (this.#reads === 0) this.#cleanedAt.clear();
      missing = stale;
    }
    return {
      get: (id) => {
        const m = this.#memory(id);
        return m ? m.state : loaded.get(id);
      },
    };
  }

  /** The states of `ids` (see {@link fetch}) and their locks, for conflict detection. */
  async activeness(ids: Iterable<string>): Promise<Activeness> {
    const states = await this.fetch(ids);
    return { get: states.get, lockedBy: (id) => this.lockedBy(id) };
  }

  /** The state of one contract (see {@link fetch}). */
  async lookup(contractId: string): Promise<KnownContract | undefined> {
    return (await this.fetch([contractId])).get(contractId);
  }

  /**
   * Adds a contract, or readers to one already active (its state as of `states`, or in memory); dirty until
   * {@link durable}.
   */
  add(
    contract: FatContract,
    synchronizerId: string,
    stakeholders: Iterable<Party>,
    readers: Iterable<Party>,
    states?: ContractStates,
  ): void {
    const id = contract.contractId.coid;
    const existing = states ? states.get(id) : this.#memory(id)?.state;
    this.#change(
      id,
      existing
        ? {
            ...existing,
            stakeholders: new Set([...existing.stakeholders, ...stakeholders]),
            readers: new Set([...existing.readers, ...readers]),
          }
        : { contract, synchronizerId, stakeholders: new Set(stakeholders), readers: new Set(readers) },
    );
  }

  /** Archives a contract; dirty until {@link durable}. */
  archive(contractId: string): void {
    this.#change(contractId, undefined);
  }

  /** The changes of one decision to `contractIds` are written: once no later change waits, they are clean. */
  durable(contractIds: readonly string[]): void {
    for (const id of contractIds) {
      const d = this.#dirty.get(id);
      if (!d || --d.pending > 0) continue;
      this.#dirty.delete(id);
      if (d.state) this.#remember(id, d.state);
      if (this.#reads > 0) this.#cleanedAt.set(id, ++this.#cleaned);
    }
  }

  lockedBy(contractId: string): bigint | undefined {
    return this.#locks.get(contractId);
  }

  lock(contractId: string, requestId: bigint): void {
    this.#locks.set(contractId, requestId);
  }

  /** Releases the locks `requestId` holds on `contractIds`. */
  unlock(contractIds: readonly string[], requestId: bigint): void {
    for (const c of contractIds) if (this.#locks.get(c) === requestId) this.#locks.delete(c);
  }

  get lockCount(): number {
    return this.#locks.size;
  }

  #change(id: string, state: KnownContract | undefined): void {
    this.#cache.delete(id);
    const d = this.#dirty.get(id);
    if (d) {
      d.state = state;
      d.pending++;
    } else this.#dirty.set(id, { state, pending: 1 });
    this.metrics.cachedContracts.set(this.#cache.size);
  }

  /** The state in memory: `{ state }` (undefined state: archived), or undefined when memory does not know. */
  #memory(id: string): { state: KnownContract | undefined } | undefined {
    const d = this.#dirty.get(id);
    if (d) return d;
    const k = this.#cache.get(id);
    if (!k) return undefined;
    // Most recently used last.
    this.#cache.delete(id);
    this.#cache.set(id, k);
    return { state: k };
  }

  #remember(id: string, k: KnownContract): void {
    this.#cache.delete(id);
    this.#cache.set(id, k);
    if (this.#cache.size > this.capacity) this.#cache.delete(this.#cache.keys().next().value!);
    this.metrics.cachedContracts.set(this.#cache.size);
  }
}
