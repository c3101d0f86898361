import { WeftError } from '../errors/index.js';
import type { Connection, Driver, Result } from './driver.js';
import { StorageErrors } from './errors.js';
import { type BuiltSql, checkIdentifier, checkParams, insertSql, parseSql } from './sql.js';
import type { InsertManyOptions, Queryable, Row, SqlValue, StorageKind } from './types.js';

function misuse(message: string): WeftError {
  return new WeftError(StorageErrors.STORAGE_QUERY_FAILED, message);
}

/** The statement API shared by a storage (autocommit) and a transaction (its own connection). */
export abstract class Executor implements Queryable {
  abstract readonly kind: StorageKind;
  protected abstract readonly maxParams: number;

  /** Runs a statement that passed the portable checks. */
  protected abstract run(built: BuiltSql, params: readonly SqlValue[]): Promise<Result>;

  abstract transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;

  async query<R = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return (await this.#statement(sql, params)).rows as R[];
  }

  async queryOne<R = Row>(sql: string, params: readonly SqlValue[] = []): Promise<R | undefined> {
    const { rows } = await this.#statement(sql, params);
    if (rows.length > 1)
      throw misuse(`queryOne expected at most one row, got ${rows.length}: ${sql.slice(0, 200)}`);
    return rows[0] as R | undefined;
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.#statement(sql, params)).rowCount;
  }

  async insertMany(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly SqlValue[])[],
    options: InsertManyOptions = {},
  ): Promise<number> {
    checkIdentifier(table, 'table');
    if (columns.length === 0) throw misuse('insertMany needs at least one column');
    for (const c of columns) checkIdentifier(c, 'column');
    for (const row of rows) {
      if (row.length !== columns.length) {
        throw misuse(
          `insertMany into ${table}: a row has ${row.length} values for ${columns.length} columns`,
        );
      }
    }
    if (rows.length === 0) return 0;
    const perChunk = Math.floor(this.maxParams / columns.length);
    const ignore = options.onConflict === 'ignore';
    const insertChunks = async (target: Executor): Promise<number> => {
      let inserted = 0;
      for (let start = 0; start < rows.length; start += perChunk) {
        const count = Math.min(perChunk, rows.length - start);
        const built = insertSql(table, columns, count, ignore);
        // Filled in place (a hot path: every batch of every node): no chunk copy, no intermediate arrays.
        const params = new Array<SqlValue>(count * columns.length);
        let p = 0;
        for (let r = start; r < start + count; r++) for (const v of rows[r]!) params[p++] = v;
        checkParams(built.sql, built.parsed.paramCount, params);
        inserted += (await target.run(built, params)).rowCount;
      }
      return inserted;
    };
    // One statement is atomic by itself; several share a transaction (a savepoint inside one).
    if (rows.length <= perChunk) return insertChunks(this);
    return this.transaction((tx) => insertChunks(tx as Executor));
  }

  #statement(sql: string, params: readonly SqlValue[]): Promise<Result> {
    const parsed = parseSql(sql);
    checkParams(sql, parsed.paramCount, params);
    return this.run({ sql, parsed }, params);
  }
}

export const statement = (sql: string): BuiltSql => ({ sql, parsed: parseSql(sql) });
const COMMIT = statement('COMMIT');
const ROLLBACK = statement('ROLLBACK');

/**
 * A transaction on one connection. Like PostgreSQL, it refuses statements after one failed, so code that works on
 * SQLite cannot rely on continuing after an error and then break on PostgreSQL.
 */
export class Transaction extends Executor {
  readonly kind: StorageKind;
  protected readonly maxParams: number;
  readonly #connection: Connection;
  readonly #depth: number;
  #state: 'open' | 'failed' | 'ended' = 'open';
  #nested = false;

  constructor(kind: StorageKind, maxParams: number, connection: Connection, depth: number) {
    super();
    this.kind = kind;
    this.maxParams = maxParams;
    this.#connection = connection;
    this.#depth = depth;
  }

  end(): void {
    this.#state = 'ended';
  }

  /** Runs a parameterless script (a migration's statements). */
  script(sql: string): Promise<void> {
    return this.#guard(() => this.#connection.script(sql));
  }

  protected run(built: BuiltSql, params: readonly SqlValue[]): Promise<Result> {
    return this.#guard(() => this.#connection.run(built.sql, built.parsed, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const savepoint = `weft_savepoint_${this.#depth}`;
    await this.#guard(() => this.#connection.script(`SAVEPOINT ${savepoint}`));
    const nested = new Transaction(this.kind, this.maxParams, this.#connection, this.#depth + 1);
    this.#nested = true;
    let result: T;
    try {
      result = await fn(nested);
    } catch (e) {
      nested.end();
      this.#nested = false;
      await this.#connection
        .script(`ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`)
        .catch(() => {
          this.#state = 'failed';
        });
      throw e;
    }
    nested.end();
    this.#nested = false;
    await this.#guard(() => this.#connection.script(`RELEASE SAVEPOINT ${savepoint}`));
    return result;
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state === 'ended')
      throw misuse('the transaction has ended; run statements inside its callback');
    if (this.#state === 'failed') {
      throw misuse(
        'the transaction is aborted by an earlier failed statement; let the error propagate, or run the statement that may fail in a nested transaction',
      );
    }
    if (this.#nested) throw misuse('a nested transaction is running; use its handle until it ends');
    try {
      return await fn();
    } catch (e) {
      this.#state = 'failed';
      throw e;
    }
  }
}

/** Runs `fn` in a transaction on `connection`: commit when it resolves, roll back when it throws. */
export async function inTransaction<T>(
  driver: Driver,
  connection: Connection,
  fn: (tx: Transaction) => Promise<T>,
): Promise<T> {
  await connection.begin();
  const tx = new Transaction(driver.kind, driver.maxParams, connection, 1);
  let result: T;
  try {
    result = await fn(tx);
  } catch (e) {
    tx.end();
    await connection.run(ROLLBACK.sql, ROLLBACK.parsed, []).catch(() => connection.discard());
    throw e;
  }
  tx.end();
  try {
    await connection.run(COMMIT.sql, COMMIT.parsed, []);
  } catch (e) {
    await connection.run(ROLLBACK.sql, ROLLBACK.parsed, []).catch(() => connection.discard());
    throw e;
  }
  return result;
}
