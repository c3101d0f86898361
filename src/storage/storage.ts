import { CommonErrors, WeftError } from '../errors/index.js';
import { type Clock, systemClock } from '../time/index.js';
import type { Driver, Result } from './driver.js';
import { Executor, inTransaction, statement } from './executor.js';
import type { StorageLease } from './lease.js';
import { migrate } from './migrations.js';
import { openPostgres } from './postgres.js';
import type { BuiltSql } from './sql.js';
import { openSqlite } from './sqlite.js';
import type {
  Migration,
  MigrationResult,
  PoolStats,
  Queryable,
  SqlValue,
  Storage,
  StorageConfig,
  StorageKind,
} from './types.js';

const HEALTH = statement('SELECT 1');
/** A statement that reads only; anything else run outside a transaction commits on its own. */
const READ_ONLY = /^\s*select\b/i;

/**
 * Commits of this process since it started (every storage, every node in it): explicit transactions and writes
 * in autocommit. For the benchmark's commits per transaction and the nodes' `/metrics`.
 */
export const storageCounts: { commits: number } = { commits: 0 };

class SqlStorage extends Executor implements Storage {
  readonly kind: StorageKind;
  protected readonly maxParams: number;
  readonly #driver: Driver;
  readonly #clock: Clock;
  readonly #lease: StorageLease | undefined;

  constructor(driver: Driver, clock: Clock, lease: StorageLease | undefined) {
    super();
    this.#driver = driver;
    this.#clock = clock;
    this.#lease = lease;
    this.kind = driver.kind;
    this.maxParams = driver.maxParams;
  }

  protected run(built: BuiltSql, params: readonly SqlValue[]): Promise<Result> {
    if (!READ_ONLY.test(built.sql)) storageCounts.commits++;
    return this.#leased(() => this.#driver.run(built.sql, built.parsed, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const result = await this.#leased(() =>
      this.#driver.withConnection((connection) => inTransaction(this.#driver, connection, fn)),
    );
    storageCounts.commits++;
    return result;
  }

  migrate(component: string, migrations: readonly Migration[]): Promise<MigrationResult> {
    return this.#leased(() => migrate(this.#driver, component, migrations, this.#clock));
  }

  async health(): Promise<void> {
    await this.#leased(() => this.#driver.run(HEALTH.sql, HEALTH.parsed, []));
  }

  /** Once the lease is lost, nothing reaches the database any more. */
  #leased<T>(fn: () => Promise<T>): Promise<T> {
    const lost = this.#lease?.lostReason;
    return lost ? Promise.reject(lost) : fn();
  }

  pool(): PoolStats {
    return this.#driver.pool();
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

/**
 * Opens the storage a node's configuration names; the database is reachable when the promise resolves. `clock`
 * times lock waits and stamps applied migrations. Under a `lease` (taken on the same config), the storage refuses
 * every call once the lease is lost, and on PostgreSQL every transaction checks that no other node took it over.
 */
export async function openStorage(
  config: StorageConfig,
  clock: Clock = systemClock,
  lease?: StorageLease,
): Promise<Storage> {
  switch (config.kind) {
    case 'sqlite':
      return new SqlStorage(openSqlite(config, clock), clock, lease);
    case 'postgres':
      return new SqlStorage(await openPostgres(config, lease?.fence), clock, lease);
    default:
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `storage.kind must be 'sqlite' or 'postgres', not '${(config as { kind: unknown }).kind}'`,
      );
  }
}
