import type { FatContract, Party } from '../daml/index.js';

/** A usable contract: what it is, and which hosted parties may use it. */
export interface KnownContract {
  readonly contract: FatContract;
  /** The synchronizer it is assigned to: only requests there may use it. */
  readonly synchronizerId: string;
  /** Hosted stakeholders: the parties whose active contract set holds it. */
  readonly stakeholders: Set<Party>;
  /** Hosted parties that may use it: its hosted stakeholders and the hosted parties it was divulged to. */
  readonly readers: Set<Party>;
  /**
   * The offset of the transaction that created it here: undefined when it was only divulged, or while that
   * transaction waits for its turn in record order.
   */
  createdOffset: bigint | undefined;
}

/**
 * The participant's active contracts in memory, with the locks of requests in flight (conflict detection). The
 * database holds the same contracts; this index answers the hot-path questions (is it active, is it locked, may
 * these parties use it) without a query. Archived contracts live only in the database.
 */
export class ActiveContracts {
  readonly #active = new Map<string, KnownContract>();
  /** Contract id → the request that archives it, while that request is in flight. */
  readonly #locks = new Map<string, bigint>();

  get size(): number {
    return this.#active.size;
  }

  get(contractId: string): KnownContract | undefined {
    return this.#active.get(contractId);
  }

  /** Adds a contract, or adds readers to one already known. */
  add(
    contract: FatContract,
    synchronizerId: string,
    stakeholders: Iterable<Party>,
    readers: Iterable<Party>,
    createdOffset: bigint | undefined,
  ): void {
    const existing = this.#active.get(contract.contractId.coid);
    if (existing) {
      for (const p of stakeholders) existing.stakeholders.add(p);
      for (const p of readers) existing.readers.add(p);
      return;
    }
    this.#active.set(contract.contractId.coid, {
      contract,
      synchronizerId,
      stakeholders: new Set(stakeholders),
      readers: new Set(readers),
      createdOffset,
    });
  }

  archive(contractId: string): boolean {
    return this.#active.delete(contractId);
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

  /** The active contracts `party` is a hosted stakeholder of, in creation order. */
  ofParty(party: Party): KnownContract[] {
    return [...this.#active.values()].filter((c) => c.stakeholders.has(party));
  }
}
