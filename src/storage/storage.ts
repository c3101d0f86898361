import { CommonErrors, WeftError } from '../errors/index.js';
import { type Clock, systemClock } from '../time/index.js';
import type { Driver, Result } from './driver.js';
import { Executor, inTransaction, statement } from './executor.js';
import { migrate } from './migrations.js';
import { openPostgres } from './postgres.js';
import type { BuiltSql } from './sql.js';
import { openSqlite } from './sqlite.js';
import type {
  Migration,
  MigrationResult,
  Queryable,
  SqlValue,
  Storage,
  StorageConfig,
  StorageKind,
} from './types.js';

const HEALTH = statement('SELECT 1');

class SqlStorage extends Executor implements Storage {
  readonly kind: StorageKind;
  protected readonly maxParams: number;
  readonly #driver: Driver;
  readonly #clock: Clock;

  constructor(driver: Driver, clock: Clock) {
    super();
    this.#driver = driver;
    this.#clock = clock;
    this.kind = driver.kind;
    this.maxParams = driver.maxParams;
  }

  protected run(built: BuiltSql, params: readonly SqlValue[]): Promise<Result> {
    return this.#driver.run(built.sql, built.parsed, params);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#driver.withConnection((connection) => inTransaction(this.#driver, connection, fn));
  }

  migrate(component: string, migrations: readonly Migration[]): Promise<MigrationResult> {
    return migrate(this.#driver, component, migrations, this.#clock);
  }

  async health(): Promise<void> {
    await this.#driver.run(HEALTH.sql, HEALTH.parsed, []);
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

/**
 * Opens the storage a node's configuration names; the database is reachable when the promise resolves. `clock`
 * times lock waits and stamps applied migrations.
 */
export async function openStorage(config: StorageConfig, clock: Clock = systemClock): Promise<Storage> {
  switch (config.kind) {
    case 'sqlite':
      return new SqlStorage(openSqlite(config, clock), clock);
    case 'postgres':
      return new SqlStorage(await openPostgres(config), clock);
    default:
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `storage.kind must be 'sqlite' or 'postgres', not '${(config as { kind: unknown }).kind}'`,
      );
  }
}
