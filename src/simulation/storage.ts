import { WeftError } from '../errors/index.js';
import {
  type InsertManyOptions,
  type Migration,
  type MigrationResult,
  type Queryable,
  type Row,
  type SqlValue,
  type Storage,
  StorageErrors,
} from '../storage/index.js';

/**
 * A node's storage with injected faults: the write the simulation arms fails (and, inside a transaction, rolls
 * the transaction back), as a database that is briefly unreachable would. Reads never fail.
 */
export class FaultyStorage implements Storage {
  readonly kind;
  /** Writes so far, counted across restarts of the node on this storage. */
  #writes = 0;
  #failAt: number | undefined;
  #onFault: ((write: number) => void) | undefined;

  constructor(
    private readonly inner: Storage,
    private readonly onWrite: () => void,
  ) {
    this.kind = inner.kind;
  }

  /** Makes the write `after` writes from now fail (0: the next one); `onFault` is told just before it fails. */
  arm(after: number, onFault: (write: number) => void): void {
    this.#failAt = this.#writes + after;
    this.#onFault = onFault;
  }

  /** Takes back an armed fault that has not struck yet. */
  disarm(): void {
    this.#failAt = undefined;
    this.#onFault = undefined;
  }

  get armed(): boolean {
    return this.#failAt !== undefined;
  }

  query<R = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.inner.query<R>(sql, params);
  }

  queryOne<R = Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.inner.queryOne<R>(sql, params);
  }

  async execute(sql: string, params?: readonly SqlValue[]): Promise<number> {
    this.#write();
    return this.inner.execute(sql, params);
  }

  async insertMany(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly SqlValue[])[],
    options?: InsertManyOptions,
  ): Promise<number> {
    this.#write();
    return this.inner.insertMany(table, columns, rows, options);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => fn(this.#wrap(tx)));
  }

  migrate(component: string, migrations: readonly Migration[]): Promise<MigrationResult> {
    return this.inner.migrate(component, migrations);
  }

  health(): Promise<void> {
    return this.inner.health();
  }

  /** The simulation keeps the database across a node's restarts and closes it at the end of the run. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #wrap(tx: Queryable): Queryable {
    return {
      kind: tx.kind,
      query: (sql, params) => tx.query(sql, params),
      queryOne: (sql, params) => tx.queryOne(sql, params),
      execute: async (sql, params) => {
        this.#write();
        return tx.execute(sql, params);
      },
      insertMany: async (table, columns, rows, options) => {
        this.#write();
        return tx.insertMany(table, columns, rows, options);
      },
      transaction: (fn) => tx.transaction((inner) => fn(this.#wrap(inner))),
    };
  }

  #write(): void {
    this.onWrite();
    const n = this.#writes++;
    if (this.#failAt !== n) return;
    this.#failAt = undefined;
    this.#onFault?.(n);
    throw new WeftError(StorageErrors.STORAGE_UNAVAILABLE, `simulated storage fault at write ${n}`);
  }
}
