import {
  type Engine,
  type FatContract,
  forEachNode,
  type NodeId,
  project,
  type Transaction,
  type TransactionDecoder,
} from '../daml/index.js';
import { PartyId } from '../identity/index.js';
import { decodeContract } from './contracts.js';
import type { Journal } from './journal.js';
import type { Committed } from './protocol.js';
import {
  type EventEncoder,
  EventFilter,
  type EventFormat,
  type IndexedLedgerTransaction,
  indexTransaction,
  type LedgerArchivedEvent,
  type LedgerCreatedEvent,
  type LedgerTransaction,
  type OffsetCheckpoint,
  offsetCheckpoint,
  type StoredTransaction,
  type StoredTransactionHeader,
  type TransactionShape,
} from './read-model.js';
import { RecentUpdates } from './recent-updates.js';
import type { ParticipantStore, StoredUpdate } from './store.js';
import { type Completion, completionOf, eventsOf, type TransactionUpdate } from './updates.js';

export interface ActiveContract {
  readonly contract: FatContract;
  /** The synchronizer it is assigned to. */
  readonly synchronizerId: string;
  /** The offset of the transaction that created it here. */
  readonly createdOffset: bigint | undefined;
}

/** An active contract as the state service serves it: its create event, where it is, and its workflow. */
export interface ActiveContractEntry {
  readonly createdEvent: LedgerCreatedEvent;
  readonly synchronizerId: string;
  readonly workflowId: string;
}

/** The create and archive events of one contract (the event query service), each with its synchronizer. */
export interface ContractEvents {
  readonly created: { readonly event: LedgerCreatedEvent; readonly synchronizerId: string } | undefined;
  readonly archived: { readonly event: LedgerArchivedEvent; readonly synchronizerId: string } | undefined;
}

/** Where a stream starts (exclusive), where it ends (inclusive; open-ended without), and its cancellation. */
export interface StreamOptions {
  readonly after: bigint;
  readonly end?: bigint | undefined;
  readonly signal?: AbortSignal;
}

/** Rows per database read of a stream. */
const PAGE = 200;
/** Decoded transactions kept for the streams that read the same updates (tailing clients). */
const DECODED_CACHE = 512;
/**
 * Updates kept as written for the streams that follow the ledger end: a stream this far behind or closer reads from
 * memory (a few MB at most: an update's row is its transaction and pre-encoded events).
 */
const RECENT_UPDATES = 512;
/** Completions per `completionsUpTo`. */
const COMPLETIONS = 10_000;

/**
 * The participant's read side (what the Ledger API's update, completion and state services serve): everything up
 * to the journal's durable offset, read from the database, and the transactions as they become durable.
 */
export class ParticipantReads {
  readonly #commitListeners = new Set<(c: Committed) => void>();
  readonly #streamWaiters = new Set<() => void>();
  /** Offset → decoded transaction, oldest first; an update never changes once stored. */
  readonly #decoded = new Map<bigint, Transaction>();
  readonly #recent: RecentUpdates;
  #encoder: EventEncoder | undefined;

  constructor(
    private readonly store: ParticipantStore,
    private readonly decoder: TransactionDecoder,
    private readonly journal: Journal,
    /** Whether streams wait for more: false once the node failed or stopped. */
    private readonly live: () => boolean,
    private readonly engine: Engine,
  ) {
    this.#recent = new RecentUpdates(RECENT_UPDATES, journal.durableOffset);
    journal.onWritten((batch) => this.#recent.written(batch.updates));
    journal.onDurable(() => this.wake());
  }

  /** The stored updates as {@link ParticipantStore.updates} reads them, from memory when recent. */
  async #updatesPage(
    parties: string | readonly string[] | undefined,
    after: bigint,
    upTo: bigint,
    limit: number,
  ): Promise<StoredUpdate[]> {
    return (
      this.#recent.updates(parties, after, upTo, limit) ?? this.store.updates(parties, after, upTo, limit)
    );
  }

  /** A transaction is durable: tells the listeners. */
  committed(c: Committed): void {
    for (const l of this.#commitListeners) l(c);
  }

  /**
   * From now on, transactions are committed with their events pre-encoded by `encoder` (the Ledger API's), which
   * streams of an {@link EventFilter.indexable} format then serve without decoding (see {@link transactionPages}).
   */
  encodeEventsWith(encoder: EventEncoder): void {
    this.#encoder = encoder;
  }

  /** The pre-encoded events of a transaction being committed at `offset`; undefined without an encoder. */
  index(tx: Transaction, at: { offset: bigint; ledgerTime: bigint }): Uint8Array | undefined {
    return this.#encoder && indexTransaction(tx, at, this.#encoder);
  }

  /** Calls `listener` with every transaction once it is durable (in-process automation, e.g. the ping responder). */
  onCommitted(listener: (c: Committed) => void): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  /** Lets the waiting streams read again (more is durable, or the node stopped). */
  wake(): void {
    const waiters = [...this.#streamWaiters];
    this.#streamWaiters.clear();
    for (const w of waiters) w();
  }

  /** The stored update's transaction, decoded once for every stream that reads it while it is recent. */
  #decode(row: Pick<StoredUpdate, 'offset' | 'transaction'>): Transaction {
    let tx = this.#decoded.get(row.offset);
    if (tx === undefined) {
      tx = this.decoder.decodeTransaction(row.transaction);
      this.#decoded.set(row.offset, tx);
      if (this.#decoded.size > DECODED_CACHE) this.#decoded.delete(this.#decoded.keys().next().value!);
    }
    return tx;
  }

  #toUpdate(row: StoredUpdate, party: string): TransactionUpdate {
    const full = this.#decode(row);
    const tx: Transaction = project(full, [party]).transaction;
    return {
      offset: row.offset,
      updateId: row.updateId,
      synchronizerId: row.synchronizerId,
      recordTime: row.requestId,
      ledgerTime: row.ledgerTime,
      workflowId: row.workflowId,
      commandId: row.submission?.actAs.includes(party) ? row.submission.commandId : undefined,
      transaction: tx,
      events: eventsOf(tx, party),
    };
  }

  /**
   * The updates of `party` after offset `after` (exclusive) up to the durable end, at most `limit` of them. A
   * malformed party is refused (INVALID_IDENTIFIER) rather than answered with no updates.
   */
  async updatesUpTo(
    party: string,
    after = 0n,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<TransactionUpdate[]> {
    PartyId.parse(party);
    const out: TransactionUpdate[] = [];
    const end = this.journal.durableOffset;
    for (let from = after; ; ) {
      const page = Math.min(PAGE, limit - out.length);
      const rows = await this.#updatesPage(party, from, end, page);
      for (const row of rows) out.push(this.#toUpdate(row, party));
      if (rows.length < page || out.length >= limit) return out;
      from = rows.at(-1)!.offset;
    }
  }

  /**
   * The updates of `party` after offset `after`, then each new one as it becomes durable, until `signal` aborts; a
   * malformed party is refused (INVALID_IDENTIFIER) rather than waited on forever.
   */
  async *updates(
    party: string,
    o: { after?: bigint; signal?: AbortSignal } = {},
  ): AsyncGenerator<TransactionUpdate> {
    PartyId.parse(party);
    let after = o.after ?? 0n;
    while (!o.signal?.aborted) {
      const end = this.journal.durableOffset;
      if (after < end) {
        const rows = await this.#updatesPage(party, after, end, PAGE);
        for (const row of rows) {
          if (o.signal?.aborted) return;
          yield this.#toUpdate(row, party);
        }
        after = rows.length < PAGE ? end : rows.at(-1)!.offset;
        continue;
      }
      if (!this.live()) return;
      await this.#moreDurable(o.signal);
    }
  }

  /** Resolves once more is durable, the node stopped, or `signal` aborted. */
  #moreDurable(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      // An abort while the caller held a yielded value fires no event any more.
      if (signal?.aborted) return resolve();
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.#streamWaiters.delete(done);
        resolve();
      };
      this.#streamWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** The event filter of a (validated) event format, for the reads below. */
  eventFilter(format: EventFormat): EventFilter {
    return new EventFilter(format, this.engine);
  }

  #header(row: Omit<StoredUpdate, 'transaction' | 'events'>): StoredTransactionHeader {
    return {
      offset: row.offset,
      updateId: row.updateId,
      synchronizerId: row.synchronizerId,
      recordTime: row.requestId,
      ledgerTime: row.ledgerTime,
      workflowId: row.workflowId,
      submission: row.submission,
    };
  }

  #stored(row: Omit<StoredUpdate, 'events'>): StoredTransaction {
    return { ...this.#header(row), transaction: this.#decode(row) };
  }

  /**
   * The transactions after offset `after` (exclusive) as the filter's parties see them in `shape`, skipping those
   * with no event for them: up to `end` (inclusive) and then the stream ends; without `end`, each new one as it
   * becomes durable, until `signal` aborts or the node stops. Reads a page at a time: memory stays bounded
   * however far behind the reader is. With `checkpoints`, whenever the stream has caught up with the durable end
   * past what it delivered (updates of other parties, rejections), it says so with an offset checkpoint.
   */
  transactions(
    filter: EventFilter,
    shape: TransactionShape,
    o: StreamOptions & { checkpoints?: false },
  ): AsyncGenerator<LedgerTransaction>;
  transactions(
    filter: EventFilter,
    shape: TransactionShape,
    o: StreamOptions & { checkpoints: boolean },
  ): AsyncGenerator<LedgerTransaction | OffsetCheckpoint>;
  async *transactions(
    filter: EventFilter,
    shape: TransactionShape,
    o: StreamOptions & { checkpoints?: boolean },
  ): AsyncGenerator<LedgerTransaction | OffsetCheckpoint> {
    for await (const page of this.#decodedPages(filter, shape, o)) {
      if (Array.isArray(page)) yield* page;
      else yield page;
    }
  }

  /**
   * {@link transactions} a page of the database at a time (each page non-empty), for a transport that sends
   * them together. With `indexed`, each transaction stored with pre-encoded events comes as those (no decoding)
   * when the format is {@link EventFilter.indexable}; the others (stored before, or without an encoder) decoded.
   */
  transactionPages(
    filter: EventFilter,
    shape: TransactionShape,
    o: StreamOptions & { checkpoints: boolean; indexed: boolean },
  ): AsyncGenerator<readonly (LedgerTransaction | IndexedLedgerTransaction)[] | OffsetCheckpoint> {
    if (!o.indexed || !filter.indexable) return this.#decodedPages(filter, shape, o);
    // The transaction's bytes are read only for the updates stored without pre-encoded events.
    const read = async (after: bigint, upTo: bigint) =>
      this.#recent.indexedUpdates(filter.parties, after, upTo, PAGE) ??
      this.store.indexedUpdates(filter.parties, after, upTo, PAGE);
    return this.#pages(o, read, (row) =>
      row.events
        ? filter.indexedTransaction(this.#header(row), row.events, shape)
        : filter.transaction(this.#stored(row), shape),
    );
  }

  /** The pages of {@link transactions}: every stored transaction decoded. */
  #decodedPages(
    filter: EventFilter,
    shape: TransactionShape,
    o: StreamOptions & { checkpoints?: boolean },
  ): AsyncGenerator<LedgerTransaction[] | OffsetCheckpoint> {
    const read = (after: bigint, upTo: bigint) => this.#updatesPage(filter.parties, after, upTo, PAGE);
    return this.#pages(o, read, (row) => filter.transaction(this.#stored(row), shape));
  }

  async *#pages<R extends { readonly offset: bigint }, T extends { readonly offset: bigint }>(
    o: StreamOptions & { checkpoints?: boolean },
    read: (after: bigint, upTo: bigint) => Promise<R[]>,
    present: (row: R) => T | undefined,
  ): AsyncGenerator<T[] | OffsetCheckpoint> {
    let after = o.after;
    let delivered = o.after;
    while (!o.signal?.aborted) {
      const durable = this.journal.durableOffset;
      const upTo = o.end !== undefined && o.end < durable ? o.end : durable;
      if (after < upTo) {
        const rows = await read(after, upTo);
        const page: T[] = [];
        for (const row of rows) {
          if (o.signal?.aborted) return;
          const tx = present(row);
          if (tx) page.push(tx);
        }
        if (page.length > 0) {
          delivered = page.at(-1)!.offset;
          yield page;
        }
        after = rows.length < PAGE ? upTo : rows.at(-1)!.offset;
        continue;
      }
      if ((o.end !== undefined && after >= o.end) || !this.live()) return;
      if (o.checkpoints && delivered < after) {
        delivered = after;
        yield await offsetCheckpoint(this.store, after);
        continue;
      }
      await this.#moreDurable(o.signal);
    }
  }

  /** The transaction at `offset` as the filter's parties see it; undefined if none, not durable, or no events. */
  async transactionAt(
    offset: bigint,
    filter: EventFilter,
    shape: TransactionShape,
  ): Promise<LedgerTransaction | undefined> {
    if (offset > this.journal.durableOffset) return undefined;
    const row = await this.store.updateAt(offset);
    return row && filter.transaction(this.#stored(row), shape);
  }

  /** The transaction with update id `updateId` as the filter's parties see it (see {@link transactionAt}). */
  async transactionById(
    updateId: string,
    filter: EventFilter,
    shape: TransactionShape,
  ): Promise<LedgerTransaction | undefined> {
    const row = await this.store.update(updateId);
    if (!row || row.offset > this.journal.durableOffset) return undefined;
    return filter.transaction(this.#stored(row), shape);
  }

  /**
   * The contracts active as of offset `asOf` (at most the durable end) that the filter's parties are stakeholders
   * of, as created events in the ACS_DELTA presentation, by creation offset; read a page at a time.
   */
  async *activeContractsAt(
    filter: EventFilter,
    asOf: bigint,
    signal?: AbortSignal,
  ): AsyncGenerator<ActiveContractEntry> {
    let from: { offset: bigint; contractId: string } | undefined;
    while (!signal?.aborted) {
      const rows = await this.store.activeContractsPage(filter.parties, asOf, from, PAGE);
      const nodeIds = await this.#createNodeIds(rows.map((r) => r.createdOffset!));
      for (const row of rows) {
        if (signal?.aborted) return;
        const contract = decodeContract(row.contract, this.decoder);
        const seen = filter.matching(contract.stakeholders, contract.packageName, contract.templateId);
        if (!seen) continue;
        const nodeId = nodeIds.get(row.createdOffset!)?.get(row.contractId) ?? 0;
        yield {
          createdEvent: filter.createdEvent(
            contract,
            { offset: row.createdOffset!, nodeId, acsDelta: true },
            seen,
          ),
          synchronizerId: row.synchronizerId,
          workflowId: row.workflowId,
        };
      }
      if (rows.length < PAGE) return;
      const last = rows.at(-1)!;
      from = { offset: last.createdOffset!, contractId: last.contractId };
    }
  }

  /** The node ids of the creates of the transactions at `offsets`, by offset and contract id. */
  async #createNodeIds(offsets: readonly bigint[]): Promise<Map<bigint, Map<string, NodeId>>> {
    const out = new Map<bigint, Map<string, NodeId>>();
    for (const offset of new Set(offsets)) {
      const row = await this.store.updateAt(offset);
      const ids = new Map<string, NodeId>();
      if (row) {
        forEachNode(this.#decode(row), (nodeId, node) => {
          if (node.tag === 'Create') ids.set(node.contractId.coid, nodeId);
        });
      }
      out.set(offset, ids);
    }
    return out;
  }

  /**
   * The create and the archive of a contract as the filter's parties (stakeholders) see them; both undefined
   * when the contract is unknown here (never stored, transient, or pruned) or none of them is a stakeholder.
   */
  async contractEvents(contractId: string, filter: EventFilter): Promise<ContractEvents> {
    const none = { created: undefined, archived: undefined };
    const row = await this.store.contractEvents(contractId);
    const durable = this.journal.durableOffset;
    if (!row || row.createdOffset === undefined || row.createdOffset > durable) return none;
    const contract = decodeContract(row.contract, this.decoder);
    const seen = filter.matching(contract.stakeholders, contract.packageName, contract.templateId);
    if (!seen) return none;
    const nodeId =
      (await this.#createNodeIds([row.createdOffset])).get(row.createdOffset)?.get(contractId) ?? 0;
    const created = {
      event: filter.createdEvent(contract, { offset: row.createdOffset, nodeId, acsDelta: true }, seen),
      synchronizerId: row.synchronizerId,
    };
    if (row.archivedOffset === undefined || row.archivedOffset > durable)
      return { created, archived: undefined };
    const archive = await this.store.updateAt(row.archivedOffset);
    let archived: ContractEvents['archived'];
    if (archive) {
      forEachNode(this.#decode(archive), (nodeId, node, rolledBack) => {
        if (archived || rolledBack || node.tag !== 'Exercise' || !node.consuming) return;
        if (node.contractId.coid !== contractId) return;
        const event = filter.archivedEvent(node, { offset: archive.offset, nodeId });
        if (event) archived = { event, synchronizerId: archive.synchronizerId };
      });
    }
    return { created, archived };
  }

  /**
   * A contract known here, active or archived, if one of `parties` is a stakeholder (any party when empty), with
   * those parties as its witnesses (the contract service).
   */
  async contract(
    contractId: string,
    parties: readonly string[],
  ): Promise<{ contract: FatContract; witnesses: string[] } | undefined> {
    const row = await this.store.contractEvents(contractId);
    if (!row || (row.createdOffset ?? 0n) > this.journal.durableOffset) return undefined;
    const contract = decodeContract(row.contract, this.decoder);
    const witnesses =
      parties.length === 0
        ? [...contract.stakeholders]
        : contract.stakeholders.filter((p) => parties.includes(p));
    return witnesses.length === 0 ? undefined : { contract, witnesses };
  }

  /** The participant's part of a transaction (the union of the views it received), by update id. */
  async transactionTree(updateId: string): Promise<Transaction | undefined> {
    const row = await this.store.update(updateId);
    return row && this.#decode(row);
  }

  /** The completions of this participant's commands after offset `after`, up to the durable end. */
  async completionsUpTo(after = 0n): Promise<Completion[]> {
    return (await this.store.completions(after, this.journal.durableOffset, COMPLETIONS)).map(completionOf);
  }

  /**
   * The completion of the latest submission of change id `changeId` (see `changeIdOf`), as Canton's command
   * deduplication keeps it; undefined while that submission is in flight, or when the change id is unknown.
   */
  async commandCompletion(changeId: string): Promise<Completion | undefined> {
    const completion = (await this.store.commandState(changeId))?.completion;
    return completion && completion.offset <= this.journal.durableOffset
      ? completionOf(completion)
      : undefined;
  }

  /**
   * The active contracts `party` is a stakeholder of, as of the returned offset (every transaction published before
   * the call, written first), read from the database. A malformed party is refused (INVALID_IDENTIFIER) rather than
   * answered with no contracts.
   */
  async activeContracts(party: string): Promise<{ offset: bigint; contracts: ActiveContract[] }> {
    PartyId.parse(party);
    await this.journal.flush();
    const offset = this.journal.durableOffset;
    const stored = await this.store.activeContractsOf(party, offset);
    return {
      offset,
      contracts: stored.map((s) => ({
        contract: decodeContract(s.row.contract, this.decoder),
        synchronizerId: s.row.synchronizerId,
        createdOffset: s.row.createdOffset,
      })),
    };
  }
}
