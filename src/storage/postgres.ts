import pg from 'pg';
import { CommonErrors, WeftError } from '../errors/index.js';
import type { Connection, Driver, Result } from './driver.js';
import { StorageErrors } from './errors.js';
import type { ParsedSql } from './sql.js';
import type { PoolStats, PostgresConfig, Row, SqlValue } from './types.js';

/** The row a lease holder bumps on takeover (see lease.ts). */
export const LEASE_TABLE = 'weft_storage_lease';

/** The Bind message counts parameters in 16 bits. */
const MAX_PARAMS = 65_535;
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
/** Unquoted in SQL, so PostgreSQL folds it to lowercase (as the configuration's SQL identifiers expect). */
const SCHEMA = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const OID = { int2: 21, int4: 23, int8: 20, numeric: 1700 } as const;

/**
 * Integers of every width come back as bigint, as they do from SQLite. NUMERIC only arises from aggregates
 * (SUM of integers, AVG): integral values become bigint and others number, which is what SQLite returns for them.
 */
export const types = {
  getTypeParser(oid: number, format?: string): unknown {
    if (oid === OID.int2 || oid === OID.int4 || oid === OID.int8) return BigInt;
    if (oid === OID.numeric) return (s: string) => (/^-?\d+$/.test(s) ? BigInt(s) : Number(s));
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const UNAVAILABLE_STATES = /^(08[0-9]{3}|53...|57P..|28...|3D000)$/;
const CONTENTION_STATES = new Set(['40001', '40P01', '55P03']);

export function mapError(e: unknown, where: string): WeftError {
  if (e instanceof WeftError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (!(e instanceof pg.DatabaseError)) {
    // Without a SQLSTATE the failure is the connection's: refused, reset, timed out, terminated.
    return new WeftError(
      StorageErrors.STORAGE_UNAVAILABLE,
      `PostgreSQL at ${where} is unavailable: ${message}`,
      {},
      {
        cause: e,
      },
    );
  }
  const state = e.code ?? '';
  if (state === '23505') {
    return new WeftError(
      StorageErrors.STORAGE_CONSTRAINT_VIOLATION,
      `duplicate key: ${message}`,
      {},
      { cause: e },
    );
  }
  if (CONTENTION_STATES.has(state)) {
    return new WeftError(
      StorageErrors.STORAGE_CONTENTION,
      `PostgreSQL: ${message}`,
      { sqlstate: state },
      {
        cause: e,
      },
    );
  }
  if (UNAVAILABLE_STATES.test(state)) {
    return new WeftError(
      StorageErrors.STORAGE_UNAVAILABLE,
      `PostgreSQL at ${where} is unavailable: ${message}`,
      {
        sqlstate: state,
      },
      { cause: e },
    );
  }
  return new WeftError(
    StorageErrors.STORAGE_QUERY_FAILED,
    `PostgreSQL: ${message}`,
    { sqlstate: state },
    {
      cause: e,
    },
  );
}

/**
 * What every transaction of a storage under a lease checks (see lease.ts): it takes `key` shared for the
 * transaction, which a node taking the lease over takes exclusively before it bumps the epoch, and then reads the
 * epoch. A transaction that began before a takeover commits before the new holder's first write; one that begins
 * after finds a newer epoch and fails.
 */
export interface PgFence {
  readonly key: bigint;
  readonly epoch: bigint;
  /** The error a transaction fails with once another node took over. */
  readonly lost: () => WeftError;
}

const BEGIN = 'BEGIN';

class PgConnection implements Connection {
  readonly #client: pg.PoolClient;
  readonly #where: string;
  readonly #fence: PgFence | undefined;
  broken = false;

  constructor(client: pg.PoolClient, where: string, fence: PgFence | undefined) {
    this.#client = client;
    this.#where = where;
    this.#fence = fence;
  }

  begin(): Promise<void> {
    const fence = this.#fence;
    if (!fence) return this.script(BEGIN);
    return this.#guard(async () => {
      // One round trip, as a plain BEGIN; each statement reads a fresh snapshot (READ COMMITTED), so the epoch is
      // read after the shared lock is granted.
      const results = (await this.#client.query(
        `BEGIN; SELECT pg_advisory_xact_lock_shared(${fence.key}); SELECT epoch FROM ${LEASE_TABLE} WHERE id = 1`,
      )) as unknown as pg.QueryResult<{ epoch: bigint }>[];
      if (results[2]?.rows[0]?.epoch !== fence.epoch) {
        await this.#client.query('ROLLBACK');
        throw fence.lost();
      }
    });
  }

  run(sql: string, _parsed: ParsedSql, params: readonly SqlValue[]): Promise<Result> {
    return this.#guard(async () => {
      const result = await this.#client.query<Row>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    });
  }

  script(sql: string): Promise<void> {
    return this.#guard(async () => void (await this.#client.query(sql)));
  }

  discard(): void {
    this.broken = true;
  }

  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const error = mapError(e, this.#where);
      if (error.code === StorageErrors.STORAGE_UNAVAILABLE.code) this.broken = true;
      if (error.code === StorageErrors.STORAGE_LEASE_LOST.code) this.broken = true;
      throw error;
    }
  }
}

/** Statements that cannot write, which a fenced storage runs without a transaction. */
const READ_ONLY = /^\s*SELECT\b/i;

class PostgresDriver implements Driver {
  readonly kind = 'postgres';
  readonly maxParams = MAX_PARAMS;
  readonly #pool: pg.Pool;
  readonly #where: string;
  readonly #fence: PgFence | undefined;
  #closed = false;

  constructor(pool: pg.Pool, where: string, fence: PgFence | undefined) {
    this.#pool = pool;
    this.#where = where;
    this.#fence = fence;
  }

  async run(sql: string, parsed: ParsedSql, params: readonly SqlValue[]): Promise<Result> {
    if (this.#closed) throw closedError();
    if (this.#fence && !READ_ONLY.test(sql)) {
      // A write outside a transaction gets one, so that the fence covers it.
      return this.withConnection(async (connection) => {
        await connection.begin();
        try {
          const result = await connection.run(sql, parsed, params);
          await connection.script('COMMIT');
          return result;
        } catch (e) {
          await connection.script('ROLLBACK').catch(() => connection.discard());
          throw e;
        }
      });
    }
    try {
      const result = await this.#pool.query<Row>(sql, params as unknown[]);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (e) {
      throw mapError(e, this.#where);
    }
  }

  async withConnection<T>(fn: (connection: Connection) => Promise<T>): Promise<T> {
    if (this.#closed) throw closedError();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw mapError(e, this.#where);
    }
    const connection = new PgConnection(client, this.#where, this.#fence);
    // A checked-out client that loses its connection emits 'error'; unhandled, that would crash the process.
    const onError = () => connection.discard();
    client.on('error', onError);
    try {
      return await fn(connection);
    } finally {
      client.off('error', onError);
      client.release(connection.broken);
    }
  }

  async withMigrationLock<T>(connection: Connection, fn: () => Promise<T>): Promise<T> {
    // Session-level advisory lock, keyed by the schema so nodes sharing a database in separate schemas do not wait
    // on each other; the server drops it if this process dies.
    const key = "hashtextextended('weft_schema_migrations.' || current_schema(), 0)";
    await connection.script(`SELECT pg_advisory_lock(${key})`);
    try {
      return await fn();
    } finally {
      await connection.script(`SELECT pg_advisory_unlock(${key})`).catch(() => connection.discard());
    }
  }

  pool(): PoolStats {
    const pool = this.#pool;
    return {
      max: pool.options.max ?? 10,
      inUse: pool.totalCount - pool.idleCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

function closedError(): WeftError {
  return new WeftError(StorageErrors.STORAGE_UNAVAILABLE, 'the storage is closed');
}

/** Where the database is, for messages: never the URL itself, which may carry a password. */
function location(url: URL): string {
  return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
}

export interface PgSettings {
  readonly connectionString: string;
  /** The `options` startup parameter (search_path), if any. */
  readonly options?: string;
  readonly connectionTimeoutMs: number;
  readonly poolSize: number;
  /** Where the database is, for messages. */
  readonly where: string;
  readonly schema?: string;
}

/** Checks a PostgreSQL storage config and derives what a pool or a single client connects with. */
export function pgSettings(config: PostgresConfig): PgSettings {
  const {
    schema,
    poolSize = DEFAULT_POOL_SIZE,
    connectionTimeoutMs = DEFAULT_CONNECTION_TIMEOUT_MS,
  } = config;
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'storage.url is not a valid postgres:// URL');
  }
  if (schema !== undefined && !SCHEMA.test(schema)) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `storage.schema '${schema}' is not a SQL identifier (letters, digits, _) of at most 63 characters`,
    );
  }
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `storage.poolSize must be a positive integer, not ${poolSize}`,
    );
  }
  if (!Number.isInteger(connectionTimeoutMs) || connectionTimeoutMs < 1) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `storage.connectionTimeoutMs must be a positive integer, not ${connectionTimeoutMs}`,
    );
  }
  const where = location(url);
  // search_path is a startup parameter, so every pooled connection starts in the schema without a round trip.
  // pg lets an `options` URL parameter override the config, so it is moved into the config and combined.
  const options = [url.searchParams.get('options'), schema && `-c search_path=${schema}`]
    .filter(Boolean)
    .join(' ');
  url.searchParams.delete('options');
  return {
    connectionString: url.toString(),
    ...(options && { options }),
    connectionTimeoutMs,
    poolSize,
    where,
    ...(schema === undefined ? {} : { schema }),
  };
}

/** Creates `schema` if it is missing; two processes creating it at once both succeed. */
export async function createSchema(client: pg.Pool | pg.Client, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((e: unknown) => {
    // The loser of a race sees a duplicate, which is what it wanted.
    if (!(e instanceof pg.DatabaseError && (e.code === '23505' || e.code === '42P06'))) throw e;
  });
}

/**
 * Opens a connection pool, checks that the server answers, and creates `schema` if it is missing. With a `fence`
 * (the storage is under a lease), every transaction checks it.
 */
export async function openPostgres(config: PostgresConfig, fence?: PgFence): Promise<Driver> {
  const { connectionString, options, poolSize, connectionTimeoutMs, where, schema } = pgSettings(config);
  const pool = new pg.Pool({
    connectionString,
    ...(options && { options }),
    max: poolSize,
    connectionTimeoutMillis: connectionTimeoutMs,
    types,
  });
  // Idle clients that lose their connection are dropped by the pool; the next query opens a new one.
  pool.on('error', () => {});
  const driver = new PostgresDriver(pool, where, fence);
  try {
    if (schema === undefined) await pool.query('SELECT 1');
    else await createSchema(pool, schema);
  } catch (e) {
    await pool.end();
    throw mapError(e, where);
  }
  return driver;
}
