import type { ParsedSql } from './sql.js';
import type { PoolStats, Row, SqlValue, StorageKind } from './types.js';

/** What one statement returned. */
export interface Result {
  readonly rows: Row[];
  readonly rowCount: number;
}

/** One database connection, used by one caller at a time (a transaction). */
export interface Connection {
  /** Runs one checked statement; errors are WeftErrors. */
  run(sql: string, parsed: ParsedSql, params: readonly SqlValue[]): Promise<Result>;
  /** Runs a parameterless script that may hold several statements (migrations). */
  script(sql: string): Promise<void>;
  /**
   * Starts a transaction. SQLite takes the write lock up front so two writers never deadlock on upgrade; a
   * PostgreSQL storage under a lease also checks, in the same round trip, that no other node took the lease over.
   */
  begin(): Promise<void>;
  /** Marks the connection unusable after a failed rollback, so it is discarded instead of reused. */
  discard(): void;
}

/** The backend-specific part of a storage; the rest (transactions, batching, migrations) is shared. */
export interface Driver {
  readonly kind: StorageKind;
  /** Most parameters one statement may bind. */
  readonly maxParams: number;
  /** Runs one statement outside a transaction (autocommit). */
  run(sql: string, parsed: ParsedSql, params: readonly SqlValue[]): Promise<Result>;
  /** Gives `fn` exclusive use of one connection. */
  withConnection<T>(fn: (connection: Connection) => Promise<T>): Promise<T>;
  /** Holds a lock that serialises migrations of this database across processes while `fn` runs. */
  withMigrationLock<T>(connection: Connection, fn: () => Promise<T>): Promise<T>;
  /** How busy the connections are now. */
  pool(): PoolStats;
  close(): Promise<void>;
}
