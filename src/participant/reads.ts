import { type FatContract, project, type Transaction, type TransactionDecoder } from '../daml/index.js';
import { PartyId } from '../identity/index.js';
import { decodeContract } from './contracts.js';
import type { Journal } from './journal.js';
import type { Committed } from './protocol.js';
import type { ParticipantStore, StoredUpdate } from './store.js';
import { type Completion, completionOf, eventsOf, type TransactionUpdate } from './updates.js';

export interface ActiveContract {
  readonly contract: FatContract;
  /** The synchronizer it is assigned to. */
  readonly synchronizerId: string;
  /** The offset of the transaction that created it here. */
  readonly createdOffset: bigint | undefined;
}

/** Rows per database read of a stream. */
const PAGE = 200;
/** Completions per `completionsUpTo`. */
const COMPLETIONS = 10_000;

/**
 * The participant's read side (what the Ledger API's update, completion and state services serve): everything up
 * to the journal's durable offset, read from the database, and the transactions as they become durable.
 */
export class ParticipantReads {
  readonly #commitListeners = new Set<(c: Committed) => void>();
  readonly #streamWaiters = new Set<() => void>();

  constructor(
    private readonly store: ParticipantStore,
    private readonly decoder: TransactionDecoder,
    private readonly journal: Journal,
    /** Whether streams wait for more: false once the node failed, stopped or has no connection. */
    private readonly live: () => boolean,
  ) {
    journal.onDurable(() => this.wake());
  }

  /** A transaction is durable: tells the listeners. */
  committed(c: Committed): void {
    for (const l of this.#commitListeners) l(c);
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

  #toUpdate(row: StoredUpdate, party: string): TransactionUpdate {
    const full = this.decoder.decodeTransaction(row.transaction);
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
      const rows = await this.store.updates(party, from, end, page);
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
        const rows = await this.store.updates(party, after, end, PAGE);
        for (const row of rows) {
          if (o.signal?.aborted) return;
          yield this.#toUpdate(row, party);
        }
        after = rows.length < PAGE ? end : rows.at(-1)!.offset;
        continue;
      }
      if (!this.live()) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          o.signal?.removeEventListener('abort', done);
          this.#streamWaiters.delete(done);
          resolve();
        };
        this.#streamWaiters.add(done);
        o.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** The participant's part of a transaction (the union of the views it received), by update id. */
  async transactionTree(updateId: string): Promise<Transaction | undefined> {
    const row = await this.store.update(updateId);
    return row && this.decoder.decodeTransaction(row.transaction);
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
