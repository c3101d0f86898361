export type StorageKind = 'sqlite' | 'postgres';

export interface SqliteConfig {
  readonly kind: 'sqlite';
  /** Database file (its directory is created), or `:memory:` for a private in-memory database. */
  readonly path: string;
  /**
   * How long a writer waits for a lock held by another connection or by a transaction of this storage before
   * failing with STORAGE_CONTENTION; default 5000 ms.
   */
  readonly busyTimeoutMs?: number;
}

export interface PostgresConfig {
  readonly kind: 'postgres';
  /** `postgres://user:password@host:port/database`; never logged (it may hold a password). */
  readonly url: string;
  /**
   * Schema holding this node's tables (created if missing; folded to lowercase); lets several nodes or test runs
   * share a database. Without it, tables go where the server's search_path says (normally `public`).
   */
  readonly schema?: string;
  /** Connections in the pool; default 10. */
  readonly poolSize?: number;
  /** How long to wait for a new connection or a free pooled one; default 10000 ms. */
  readonly connectionTimeoutMs?: number;
}

export type StorageConfig = SqliteConfig | PostgresConfig;

/**
 * A value bound to `$n` or read from a column. Reads return integers as `bigint` (every integer column and
 * integer expression), floating point as `number`, `BYTEA` as `Buffer`, `BOOLEAN` columns as `boolean`,
 * `TEXT` as `string`, and `null`.
 */
export type SqlValue = null | boolean | number | bigint | string | Uint8Array;

export type Row = Record<string, SqlValue>;

export interface InsertManyOptions {
  /** `'ignore'` skips rows whose primary or unique key exists already (`ON CONFLICT DO NOTHING`). */
  readonly onConflict?: 'ignore';
}

/** Statements a storage and a transaction both run. SQL uses `$1..$n` placeholders on every backend. */
export interface Queryable {
  readonly kind: StorageKind;
  /** Runs one statement and returns its rows (`SELECT`, or a write with `RETURNING`). */
  query<R = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** The only row of a statement, or `undefined`; more than one row is a STORAGE_QUERY_FAILED. */
  queryOne<R = Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /** Runs one statement and returns the number of rows it inserted, updated, deleted or returned. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Inserts `rows` (values in `columns` order) with multi-row `INSERT ... VALUES` statements, as many rows per
   * statement as the backend's parameter limit allows, atomically. Returns the number of rows inserted (fewer
   * than `rows.length` when conflicts are ignored).
   */
  insertMany(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly SqlValue[])[],
    options?: InsertManyOptions,
  ): Promise<number>;
  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back when it throws. On a transaction handle this
   * opens a nested transaction (a savepoint) that rolls back alone. After a statement fails inside a transaction,
   * the transaction accepts no more statements (as on PostgreSQL): let the error propagate, or run the statement
   * that may fail in a nested transaction.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

/**
 * A migration step SQL cannot express (re-encoding stored bytes, say): it runs in the migration's transaction,
 * through the handle it is given, and pages through large tables instead of reading them whole.
 */
export type MigrationCode = (tx: Queryable) => Promise<void>;

/** A component's schema change. Versions run 1, 2, 3… and an applied migration must never change. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /**
   * Statements in the portable SQL subset, without parameters (a string may hold several statements), or code.
   * The checksum covers a code step's name only: its source may be refactored, its effect must never change.
   */
  readonly up: string | readonly string[] | MigrationCode;
}

export interface MigrationResult {
  /** Versions applied by this call (empty when the schema was up to date). */
  readonly applied: readonly number[];
  /** The component's schema version now. */
  readonly version: number;
}

/** How busy a storage's connections are, for the node's metrics. */
export interface PoolStats {
  /** Connections the storage may open (1 for SQLite). */
  readonly max: number;
  /** Connections running a statement or a transaction. */
  readonly inUse: number;
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
}

export interface Storage extends Queryable {
  /** How busy the connections are now; absent where there is no pool (a test double). */
  pool?(): PoolStats;
  /** Brings `component`'s tables to the newest of `migrations`, each migration in its own transaction. */
  migrate(component: string, migrations: readonly Migration[]): Promise<MigrationResult>;
  /**
   * A cheap round trip for a node's readiness check; throws a WeftError (STORAGE_UNAVAILABLE when the database is
   * unreachable or the storage closed).
   */
  health(): Promise<void>;
  /** Waits for a running transaction, then closes the database; later calls fail with STORAGE_UNAVAILABLE. */
  close(): Promise<void>;
}
