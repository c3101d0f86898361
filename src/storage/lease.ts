import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CommonErrors, WeftError } from '../errors/index.js';
import { type Clock, sleep, systemClock } from '../time/index.js';
import { StorageErrors } from './errors.js';
import {
  createSchema,
  LEASE_TABLE,
  mapError as mapPgError,
  type PgFence,
  type PgSettings,
  pgSettings,
  types,
} from './postgres.js';
import { isBusy, mapError as mapSqliteError } from './sqlite.js';
import { isTransientStorageError } from './transient.js';
import type { PostgresConfig, SqliteConfig, StorageConfig } from './types.js';

export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 1000;
/**
 * How long a node taking over waits for the transactions its predecessor began before the takeover; then it
 * terminates their connections. A dead predecessor's connections are gone already, so this only delays a takeover
 * from a process that lost its lock connection but still has transactions open.
 */
const TAKEOVER_GRACE_MS = 2000;
const TAKEOVER_POLL_MS = 20;
/**
 * How long a PostgreSQL health check may take before the lease counts as lost: three intervals, at least 5 s. An
 * event loop busy with other work delays the answer's processing, which must not pass for a dead connection.
 */
const MIN_HEALTH_CHECK_TIMEOUT_MS = 5000;

export interface LeaseOptions {
  /** Who holds it, for the lease row and messages: node name, host and process id. */
  readonly holder: string;
  /**
   * How often the holder checks that it still holds the lease (a round trip on the PostgreSQL lock connection, a
   * look at the SQLite lease file); a check that fails, or gets no answer within three intervals (at least 5 s),
   * loses the lease.
   */
  readonly healthCheckIntervalMs?: number;
  readonly clock?: Clock;
  /**
   * Told when the holder's PostgreSQL lock connection is lost and it starts re-taking its lease (with why), and
   * when it has it again (with `undefined`).
   */
  readonly onSuspend?: (why: string | undefined) => void;
}

/**
 * The exclusive right to use a node's storage, held for as long as the process lives and its lock stays: on
 * PostgreSQL a session advisory lock on a connection of its own, keyed by the schema; on SQLite an exclusive lock
 * on the file's `.lease` companion. The operating system or the server releases it when the process dies.
 */
export interface StorageLease {
  /** What is leased, for messages (no credentials). */
  readonly target: string;
  /** What a PostgreSQL storage opened under this lease checks in every transaction. */
  readonly fence: PgFence | undefined;
  /** Why the lease was lost, once it is. */
  readonly lostReason: WeftError | undefined;
  /** While the holder re-takes its lease after its lock connection was lost: why (PostgreSQL only). */
  readonly suspended: string | undefined;
  /** Resolves with the reason when the lease is lost; never when it is released. */
  readonly lost: Promise<WeftError>;
  /** Gives the lease up (after the storage is closed). */
  release(): Promise<void>;
}

/** Who holds a lease another process could not take. */
export interface LeaseHeld {
  /** What is leased, for messages (no credentials). */
  readonly target: string;
  /** The holder as it described itself (PostgreSQL; a locked SQLite file cannot be read). */
  readonly holder: string | undefined;
}

export type LeaseAttempt = { readonly lease: StorageLease } | { readonly held: LeaseHeld };

/** Takes the lease on `config`'s storage unless another live process holds it. */
export async function tryAcquireLease(config: StorageConfig, options: LeaseOptions): Promise<LeaseAttempt> {
  const interval = options.healthCheckIntervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS;
  if (!Number.isInteger(interval) || interval < 1) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `the lease health check interval must be a positive integer, not ${interval}`,
    );
  }
  const resolved = {
    ...options,
    healthCheckIntervalMs: interval,
    clock: options.clock ?? systemClock,
    onSuspend: options.onSuspend ?? (() => {}),
  };
  return config.kind === 'sqlite' ? trySqlite(config, resolved) : tryPostgres(config, resolved);
}

type Resolved = Required<LeaseOptions>;

/** The lost/released bookkeeping both kinds share. */
abstract class BaseLease implements StorageLease {
  abstract readonly target: string;
  abstract readonly fence: PgFence | undefined;
  readonly lost: Promise<WeftError>;
  #lostReason: WeftError | undefined;
  #resolveLost!: (e: WeftError) => void;
  #cancelCheck: (() => void) | undefined;
  protected released = false;

  constructor(protected readonly options: Resolved) {
    this.lost = new Promise((resolve) => {
      this.#resolveLost = resolve;
    });
  }

  get lostReason(): WeftError | undefined {
    return this.#lostReason;
  }

  get suspended(): string | undefined {
    return undefined;
  }

  /**
   * Runs `check` every health check interval until it fails (then `onFail` is told why), or the lease is lost or
   * released.
   */
  protected watch(check: () => Promise<void>, onFail = (why: string) => this.lose(why)): void {
    const next = () => {
      this.#cancelCheck = this.options.clock.schedule(this.options.healthCheckIntervalMs, () => {
        check().then(
          () => {
            if (!this.released && !this.#lostReason) next();
          },
          (e: unknown) => onFail(e instanceof Error ? e.message : String(e)),
        );
      });
    };
    next();
  }

  protected stopWatching(): void {
    this.#cancelCheck?.();
  }

  protected lose(why: string): void {
    if (this.released || this.#lostReason) return;
    this.#cancelCheck?.();
    this.#lostReason = new WeftError(
      StorageErrors.STORAGE_LEASE_LOST,
      `lost the exclusive lease on ${this.target}: ${why}`,
    );
    this.#resolveLost(this.#lostReason);
    void this.close();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.#cancelCheck?.();
    await this.close();
  }

  protected abstract close(): Promise<void>;
}

// ---- SQLite ------------------------------------------------------------------------------------------------

/**
 * SQLite's file locks are POSIX record locks, which the kernel drops with the process, and SQLite also makes two
 * connections of one process exclude each other. A separate file keeps the database itself readable by tools.
 */
class SqliteLease extends BaseLease {
  readonly fence = undefined;

  constructor(
    readonly target: string,
    private readonly db: Database.Database,
    options: Resolved,
  ) {
    super(options);
    const held = statSync(target);
    // Someone deleting or replacing the file would let a second node lock a new one.
    this.watch(async () => {
      const now = statSync(target, { throwIfNoEntry: false });
      if (now?.ino !== held.ino || now.dev !== held.dev)
        throw new Error('the lease file was removed or replaced');
    });
  }

  protected async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function trySqlite(config: SqliteConfig, options: Resolved): LeaseAttempt {
  // A private in-memory database cannot be shared.
  if (config.path === ':memory:') return { lease: new MemoryLease(options) };
  const file = `${config.path}.lease`;
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // Never committed: the lock lasts as long as the connection.
    db.exec('BEGIN EXCLUSIVE');
    return { lease: new SqliteLease(file, db, options) };
  } catch (e) {
    db?.close();
    if (isBusy(e)) return { held: { target: file, holder: undefined } };
    const error = mapSqliteError(e, file);
    throw new WeftError(
      StorageErrors.STORAGE_UNAVAILABLE,
      `cannot lock ${file}: ${error.message}`,
      {},
      { cause: e },
    );
  }
}

class MemoryLease extends BaseLease {
  readonly target = 'an in-memory database';
  readonly fence = undefined;

  protected async close(): Promise<void> {}
}

// ---- PostgreSQL --------------------------------------------------------------------------------------------

/**
 * The lock lives in the lock connection's session. When that connection is lost (a network failure, the server
 * restarting, the backend terminated), the holder re-takes the lock on a new connection: if the epoch is still its
 * own, no other node took over in between (a takeover bumps it before anything else), and it goes on; if another
 * node bumped the epoch, the lease is lost. Meanwhile the node's transactions go on under the fence, which refuses
 * them once another node has taken over.
 */
class PgLease extends BaseLease {
  readonly fence: PgFence;
  #client: pg.Client;
  #suspended: string | undefined;

  constructor(
    readonly target: string,
    client: pg.Client,
    private readonly settings: PgSettings,
    private readonly leaseKey: bigint,
    fenceKey: bigint,
    private readonly epoch: bigint,
    options: Resolved,
  ) {
    super(options);
    this.fence = {
      key: fenceKey,
      epoch,
      lost: () =>
        new WeftError(
          StorageErrors.STORAGE_LEASE_LOST,
          `another node took over the lease on ${target} (epoch ${epoch} superseded); this node must not write`,
        ),
    };
    this.#client = client;
    this.#attach(client);
  }

  override get suspended(): string | undefined {
    return this.#suspended;
  }

  #attach(client: pg.Client): void {
    this.#client = client;
    client.on('error', (e) => this.#connectionLost(client, `the lock connection failed: ${e.message}`));
    client.on('end', () => this.#connectionLost(client, 'the lock connection closed'));
    this.watch(
      async () => void (await withTimeout(client.query('SELECT 1'), this.options, 'the lock connection')),
      (why) => this.#connectionLost(client, why),
    );
  }

  #connectionLost(client: pg.Client, why: string): void {
    if (client !== this.#client || this.released || this.lostReason || this.#suspended) return;
    this.#suspended = `re-taking the storage lease: ${why}`;
    this.stopWatching();
    void client.end().catch(() => {});
    this.options.onSuspend(this.#suspended);
    void this.#retake();
  }

  /** Tries at once, then every health check interval, for as long as the database is unreachable. */
  async #retake(): Promise<void> {
    for (;;) {
      if (this.released || this.lostReason) return;
      try {
        const outcome = await this.#tryRetake();
        if (outcome === 'retaken') {
          this.#suspended = undefined;
          this.options.onSuspend(undefined);
          return;
        }
        if (outcome !== 'held') return this.lose(outcome);
        this.#suspended =
          "re-taking the storage lease: another session holds the lock (this node's old one, or a node taking over)";
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        if (!isTransientStorageError(e)) return this.lose(why);
        this.#suspended = `re-taking the storage lease: ${why}`;
      }
      await sleep(this.options.clock, this.options.healthCheckIntervalMs);
    }
  }

  /**
   * `retaken`; `held` while the lock is held and the epoch is still this node's (by its old session, which the
   * server has not yet seen gone, or by a node about to bump it); otherwise why the lease is lost.
   */
  async #tryRetake(): Promise<string> {
    const client = connectClient(this.settings);
    const ignore = () => {};
    client.on('error', ignore);
    try {
      await client.connect();
      const got = await tryLock(client, this.leaseKey);
      const epoch = (await client.query<{ epoch: bigint }>(`SELECT epoch FROM ${LEASE_TABLE} WHERE id = 1`))
        .rows[0]?.epoch;
      if (epoch !== this.epoch) {
        await client.end();
        return `another node took the lease over meanwhile (epoch ${epoch}, this node's ${this.epoch})`;
      }
      if (!got || this.released) {
        await client.end();
        return 'held';
      }
      client.off('error', ignore);
      this.#attach(client);
      return 'retaken';
    } catch (e) {
      await client.end().catch(() => {});
      throw mapPgError(e, this.settings.where);
    }
  }

  protected async close(): Promise<void> {
    // Ending the session releases its advisory locks.
    await this.#client.end().catch(() => {});
  }
}

function connectClient(settings: PgSettings): pg.Client {
  return new pg.Client({
    connectionString: settings.connectionString,
    ...(settings.options && { options: settings.options }),
    connectionTimeoutMillis: settings.connectionTimeoutMs,
    keepAlive: true,
    types,
  });
}

async function tryLock(client: pg.Client, key: bigint): Promise<boolean> {
  return (await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [key])).rows[0]!.got;
}

function withTimeout<T>(promise: Promise<T>, options: Resolved, what: string): Promise<T> {
  const timeoutMs = Math.max(3 * options.healthCheckIntervalMs, MIN_HEALTH_CHECK_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    const cancel = options.clock.schedule(timeoutMs, () =>
      reject(new Error(`${what} did not answer within ${timeoutMs} ms`)),
    );
    promise.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        cancel();
        reject(e);
      },
    );
  });
}

/**
 * Advisory locks live in one database, so the key needs only the schema: `hashtextextended('weft.storage-lease.'
 * || schema, 0)`, with the configured schema folded to lowercase, or the connection's current schema (normally
 * `public`). The fence key is the same over `weft.storage-fence.`.
 */
async function tryPostgres(config: PostgresConfig, options: Resolved): Promise<LeaseAttempt> {
  const settings = pgSettings(config);
  const client = connectClient(settings);
  // Until the lease is built, a failing connection surfaces through the query that fails.
  const ignore = () => {};
  client.on('error', ignore);
  try {
    await client.connect();
    const schema =
      settings.schema?.toLowerCase() ??
      (await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s ??
      'public';
    const target = `PostgreSQL ${settings.where} schema ${schema}`;
    const keys = (
      await client.query<{ lease: bigint; fence: bigint }>(
        'SELECT hashtextextended($1, 0) AS lease, hashtextextended($2, 0) AS fence',
        [`weft.storage-lease.${schema}`, `weft.storage-fence.${schema}`],
      )
    ).rows[0]!;
    if (!(await tryLock(client, keys.lease))) {
      // The table is missing while the first holder is still creating it.
      const holder = await client
        .query<{ holder: string }>(`SELECT holder FROM ${LEASE_TABLE} WHERE id = 1`)
        .then((r) => r.rows[0]?.holder)
        .catch(() => undefined);
      await client.end();
      return { held: { target, holder } };
    }
    if (settings.schema !== undefined) await createSchema(client, settings.schema);
    await client.query(`CREATE TABLE IF NOT EXISTS ${LEASE_TABLE} (
      id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
      epoch BIGINT NOT NULL,
      holder TEXT NOT NULL,
      acquired_at BIGINT NOT NULL
    )`);
    const epoch = await takeOver(client, keys.fence, options);
    client.off('error', ignore);
    return { lease: new PgLease(target, client, settings, keys.lease, keys.fence, epoch, options) };
  } catch (e) {
    await client.end().catch(() => {});
    throw mapPgError(e, settings.where);
  }
}

/**
 * Waits out the transactions the previous holder began (they hold the fence key shared), terminating their
 * connections after a grace period, and bumps the epoch while holding the fence key exclusively: from then on the
 * previous holder's transactions fail their fence check.
 */
async function takeOver(client: pg.Client, fenceKey: bigint, options: Resolved): Promise<bigint> {
  const start = options.clock.now();
  for (;;) {
    if (await tryLock(client, fenceKey)) break;
    if (options.clock.now() - start > BigInt(TAKEOVER_GRACE_MS) * 1000n) {
      await client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
         WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND pid <> pg_backend_pid()
           AND classid::bigint = $1 AND objid::bigint = $2`,
        [(fenceKey >> 32n) & 0xffffffffn, fenceKey & 0xffffffffn],
      );
    }
    await sleep(options.clock, TAKEOVER_POLL_MS);
  }
  try {
    const row = await client.query<{ epoch: bigint }>(
      `INSERT INTO ${LEASE_TABLE} (id, epoch, holder, acquired_at) VALUES (1, 1, $1, $2)
       ON CONFLICT (id) DO UPDATE
         SET epoch = ${LEASE_TABLE}.epoch + 1, holder = excluded.holder, acquired_at = excluded.acquired_at
       RETURNING epoch`,
      [options.holder, options.clock.now()],
    );
    return row.rows[0]!.epoch;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [fenceKey]);
  }
}
