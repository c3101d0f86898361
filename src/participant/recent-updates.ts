import type { IndexedStoredUpdate, StoredUpdate, UpdateRow } from './store.js';

/**
 * The updates this participant wrote last, as written, so that live streams (the Ledger API's GetUpdates, the JSON
 * API's, triggers) read a new update from memory instead of reading back from the database what was just committed
 * (docs/architecture.md, decision 17). It holds every update after {@link from}, up to what the journal wrote: a
 * read of a range that starts earlier goes to the database. Bounded by `capacity`: the oldest entries go first, and
 * `from` moves up with them.
 */
export class RecentUpdates {
  readonly #capacity: number;
  /** Oldest first, consecutive in offset order. */
  #entries: { readonly update: StoredUpdate; readonly parties: ReadonlySet<string> }[] = [];
  /** Index of the oldest live entry in #entries (dropped entries are compacted away in bulk). */
  #head = 0;
  #from: bigint;

  /** `from`: the durable offset when the journal's writes start coming here (nothing after it is written yet). */
  constructor(capacity: number, from: bigint) {
    this.#capacity = capacity;
    this.#from = from;
  }

  /** Every update with an offset above this is held (the ones written so far). */
  get from(): bigint {
    return this.#from;
  }

  /** A batch of the journal was written: its updates (in offset order) join, before its offset becomes durable. */
  written(updates: readonly UpdateRow[]): void {
    if (this.#capacity === 0) return;
    for (const u of updates) {
      const { parties, ...update } = u;
      const last = this.#entries.at(-1)?.update.offset ?? this.#from;
      if (u.offset <= last) {
        // Offsets only grow; should one not, what is held no longer says which range it covers: start over.
        this.#entries = [];
        this.#head = 0;
        this.#from = last;
        continue;
      }
      this.#entries.push({ update, parties: new Set(parties) });
    }
    const excess = this.#entries.length - this.#head - this.#capacity;
    if (excess > 0) {
      this.#head += excess;
      this.#from = this.#entries[this.#head - 1]!.update.offset;
      if (this.#head >= this.#capacity) {
        this.#entries = this.#entries.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  /**
   * The updates that `parties` (all when undefined) witness with offsets in (`after`, `upTo`], at most `limit`, in
   * offset order, as {@link ParticipantStore.updates} reads them; undefined when the range starts before what is
   * held.
   */
  updates(
    parties: string | readonly string[] | undefined,
    after: bigint,
    upTo: bigint,
    limit: number,
  ): StoredUpdate[] | undefined {
    if (this.#capacity === 0 || after < this.#from) return undefined;
    const wanted = typeof parties === 'string' ? [parties] : parties;
    const out: StoredUpdate[] = [];
    for (let i = this.#firstAfter(after); i < this.#entries.length && out.length < limit; i++) {
      const { update, parties: witnesses } = this.#entries[i]!;
      if (update.offset > upTo) break;
      if (wanted === undefined || wanted.some((p) => witnesses.has(p))) out.push(update);
    }
    return out;
  }

  /** {@link updates} as {@link ParticipantStore.indexedUpdates} reads them: the transaction only without events. */
  indexedUpdates(
    parties: string | readonly string[] | undefined,
    after: bigint,
    upTo: bigint,
    limit: number,
  ): IndexedStoredUpdate[] | undefined {
    return this.updates(parties, after, upTo, limit)?.map(({ transaction, events, ...header }) =>
      events === undefined ? { ...header, transaction } : { ...header, events },
    );
  }

  /** Index of the first held entry with an offset above `after` (binary search: offsets ascend). */
  #firstAfter(after: bigint): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.update.offset <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
