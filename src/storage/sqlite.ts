import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CommonErrors, WeftError } from '../errors/index.js';
import { type Clock, sleep, systemClock } from '../time/index.js';
import { Checkpointer } from './checkpointer.js';
import type { Connection, Driver, Result } from './driver.js';
import { StorageErrors } from './errors.js';
import type { ParsedSql } from './sql.js';
import type { PoolStats, Row, SqliteConfig, SqlValue } from './types.js';

/** SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32. */
const MAX_PARAMS = 32_766;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const MAX_BUSY_DELAY_MS = 50;
const MAX_CACHED_STATEMENTS = 500;
/**
 * Commits after which a database gets its checkpoint thread: one that commits less (a test, a tool) never starts a
 * thread, and SQLite's own autocheckpoint serves it until then.
 */
const CHECKPOINT_THREAD_AFTER_COMMITS = 256;
/**
 * Commits between checkpoints: about SQLite's own 1,000 pages of WAL at a participant's ~10 pages per commit (fewer
 * at the sequencer's ~3). Every 32 was no faster in the network benchmark (docs/performance.md, "Checkpoints off
 * the event loop, live streams from memory"), and copies pages written over and over (indexes, cursors) more often.
 */
const CHECKPOINT_EVERY_COMMITS = 128;
/** SQLite's default autocheckpoint (pages), restored if the checkpoint thread fails. */
const AUTOCHECKPOINT_PAGES = 1000;
/** Larger statements (big bulk-insert chunks) are prepared per use: caching them would pin megabytes. */
const MAX_CACHED_STATEMENT_LENGTH = 16_384;

interface Prepared {
  readonly statement: Database.Statement<unknown[]>;
  readonly reader: boolean;
  /** Columns declared BOOLEAN, whose 0/1 integers are read as booleans (PostgreSQL returns booleans). */
  readonly booleans: readonly string[];
}

/** Grants one holder at a time, in arrival order; a waiter gives up after `timeoutMs`. */
class Mutex {
  #held = false;
  readonly #waiters: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  get held(): boolean {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  acquire(timeoutMs?: number): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        cancel?.();
        resolve();
      };
      const cancel =
        timeoutMs === undefined
          ? undefined
          : this.clock.schedule(timeoutMs, () => {
              this.#waiters.splice(this.#waiters.indexOf(grant), 1);
              reject(
                new WeftError(
                  StorageErrors.STORAGE_CONTENTION,
                  `waited ${timeoutMs} ms for the SQLite connection, which a transaction holds (inside transaction() use its tx handle, not the storage)`,
                ),
              );
            });
      this.#waiters.push(grant);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}

export function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

export function mapError(e: unknown, path: string): WeftError {
  if (e instanceof WeftError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
      return new WeftError(
        StorageErrors.STORAGE_CONSTRAINT_VIOLATION,
        `duplicate key: ${message}`,
        {},
        { cause: e },
      );
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new WeftError(
        StorageErrors.STORAGE_CONTENTION,
        `SQLite database ${path} is locked: ${message}`,
        {},
        {
          cause: e,
        },
      );
    }
    if (/^SQLITE_(CANTOPEN|IOERR|FULL|READONLY|PERM|NOTADB|CORRUPT)/.test(code)) {
      return new WeftError(
        StorageErrors.STORAGE_UNAVAILABLE,
        `SQLite database ${path}: ${message}`,
        { code },
        {
          cause: e,
        },
      );
    }
  }
  return new WeftError(StorageErrors.STORAGE_QUERY_FAILED, `SQLite: ${message}`, {}, { cause: e });
}

/** The parameters as bound: the caller's array itself unless a value needs {@link bindValue} (no copy per statement). */
function bindAll(params: readonly SqlValue[]): readonly unknown[] {
  for (const v of params) if (typeof v === 'boolean' || typeof v === 'number') return params.map(bindValue);
  return params;
}

/** better-sqlite3 binds numbers as REAL and rejects booleans; bind what PostgreSQL would store instead. */
function bindValue(v: SqlValue): unknown {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return v;
}

/**
 * One better-sqlite3 connection. better-sqlite3 is synchronous, so a statement runs to completion before the
 * returned promise settles; the mutex keeps other callers out while a transaction awaits between statements, and
 * while a commit's WAL is synced.
 *
 * Durability: `synchronous = FULL` would fsync the WAL inside COMMIT, blocking the event loop for the whole fsync
 * (measured: about half of a busy sequencer's event loop). Instead the database runs with `synchronous = NORMAL`
 * and the driver fsyncs the WAL file on the thread pool after every commit (a transaction's, or an autocommit
 * write's), holding the connection meanwhile: the statement resolves only once its commit is on disk, as with
 * FULL, no caller of this storage reads it before, and the event loop does other work (the next batch gathers)
 * while the disk syncs. What NORMAL leaves out is exactly that per-commit WAL sync; checkpoints sync as before, on
 * a {@link Checkpointer} thread once the database is busy (docs/storage.md, "Checkpoints").
 */
class SqliteDriver implements Driver {
  readonly kind = 'sqlite';
  readonly maxParams = MAX_PARAMS;
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  readonly #clock: Clock;
  readonly #mutex: Mutex;
  readonly #statements = new Map<string, Prepared>();
  #closed = false;
  /** The WAL file, synced after commits; undefined in memory. */
  readonly #walPath: string | undefined;
  #wal: FileHandle | undefined;
  /** A write ran whose commit is not synced yet. */
  #unsynced = false;
  /** Synced commits so far. */
  #commits = 0;
  /** Checkpoints the WAL off the event loop, once the database has committed enough to need it. */
  #checkpointer: Checkpointer | undefined;
  /** The checkpoint thread failed: SQLite's autocheckpoint is back on the writer's connection. */
  #checkpointsInline = false;
  /** A checkpoint is under way. */
  #checkpointing = false;

  constructor(db: Database.Database, path: string, busyTimeoutMs: number, clock: Clock) {
    this.#db = db;
    this.#path = path;
    this.#walPath = path === ':memory:' ? undefined : `${path}-wal`;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#clock = clock;
    this.#mutex = new Mutex(clock);
  }

  pool(): PoolStats {
    const held = this.#mutex.held ? 1 : 0;
    return { max: 1, inUse: held, idle: 1 - held, waiting: this.#mutex.waiting };
  }

  run(sql: string, parsed: ParsedSql, params: readonly SqlValue[]): Promise<Result> {
    if (!this.#mutex.held) {
      if (this.#closed) return Promise.reject(closedError());
      try {
        // A write holds the connection below until its commit is synced.
        if (this.#prepare(parsed.positional).statement.readonly)
          return Promise.resolve(this.#runNow(parsed, params));
      } catch (e) {
        if (!isBusy(e)) return Promise.reject(mapError(e, this.#path));
      }
    }
    // Waits and retries hold the connection, so that no transaction of this storage can start in between.
    return this.withConnection((c) => c.run(sql, parsed, params));
  }

  async withConnection<T>(fn: (connection: Connection) => Promise<T>): Promise<T> {
    await this.#mutex.acquire(this.#busyTimeoutMs);
    try {
      if (this.#closed) throw closedError();
      return await fn({
        run: async (_sql, parsed, params) => {
          const result = await this.#settle(() => this.#runNow(parsed, params));
          await this.#syncCommitted();
          return result;
        },
        script: async (sql) => {
          await this.#settle(() => {
            this.#db.exec(sql);
            this.#unsynced = this.#walPath !== undefined;
          });
          await this.#syncCommitted();
        },
        begin: () => this.#settle(() => void this.#db.exec('BEGIN IMMEDIATE')),
        discard: () => {},
      });
    } finally {
      try {
        // A transaction whose COMMIT and ROLLBACK both failed must not leak into the next caller.
        if (!this.#closed && this.#db.inTransaction) this.#db.exec('ROLLBACK');
      } finally {
        this.#mutex.release();
      }
    }
  }

  // Another process migrating holds the write lock that BEGIN IMMEDIATE waits for, which is serialisation enough.
  withMigrationLock<T>(_connection: Connection, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#mutex.acquire();
    try {
      if (this.#closed) return;
      this.#closed = true;
      this.#statements.clear();
      // Its connection first: the writer's, closed last, checkpoints what is left and removes the WAL.
      await this.#checkpointer?.close();
      this.#db.close();
      await this.#wal?.close();
    } finally {
      this.#mutex.release();
    }
  }

  #settle<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return isBusy(e) ? this.#retryWhileBusy(fn) : Promise.reject(mapError(e, this.#path));
    }
  }

  /**
   * SQLite's own busy handler sleeps inside the synchronous call, which would freeze the event loop, and with it
   * any other connection of this process that holds the lock and waits to run its next statement. So the busy
   * timeout is 0 and the wait happens here, between attempts. A statement that failed as busy had no effect.
   */
  async #retryWhileBusy<T>(fn: () => T): Promise<T> {
    const deadline = this.#clock.now() + BigInt(this.#busyTimeoutMs) * 1000n;
    for (let delay = 1; ; delay = Math.min(delay * 2, MAX_BUSY_DELAY_MS)) {
      await sleep(this.#clock, delay);
      try {
        return fn();
      } catch (e) {
        if (!isBusy(e) || this.#clock.now() + BigInt(delay) * 1000n > deadline) throw mapError(e, this.#path);
      }
    }
  }

  /** Once the writes run are committed (no transaction open), waits until their WAL frames are on disk. */
  async #syncCommitted(): Promise<void> {
    if (!this.#unsynced || this.#db.inTransaction) return;
    this.#unsynced = false;
    try {
      if (!this.#wal) {
        const wal = await open(this.#walPath!, 'r').catch((e: NodeJS.ErrnoException) => {
          // No WAL yet: the statement wrote nothing (a pragma); every write of WAL mode goes through it.
          if (e.code === 'ENOENT') return undefined;
          throw e;
        });
        if (!wal) return;
        this.#wal = wal;
        // The WAL file's directory entry too, once: a file created since the last directory sync may be lost.
        const dir = await open(dirname(this.#path), 'r');
        await dir.sync().finally(() => dir.close());
      }
      await this.#wal.sync();
      this.#committed();
    } catch (e) {
      // Not transient: what the commit wrote may not be on disk, so nothing may be acknowledged on top of it.
      throw new WeftError(
        StorageErrors.STORAGE_UNAVAILABLE,
        `SQLite database ${this.#path}: syncing the WAL failed: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
  }

  /** Counts a synced commit and starts a checkpoint every {@link CHECKPOINT_EVERY_COMMITS}. */
  #committed(): void {
    if (this.#checkpointsInline || ++this.#commits % CHECKPOINT_EVERY_COMMITS !== 0) return;
    if (this.#commits < CHECKPOINT_THREAD_AFTER_COMMITS || this.#checkpointing || this.#closed) return;
    this.#checkpointing = true;
    void this.#checkpoint().finally(() => {
      this.#checkpointing = false;
    });
  }

  /**
   * Copies the WAL into the database file on the checkpoint thread while writes go on, then once more with this
   * storage's writes held back, so that the WAL is wholly copied and the next write transaction starts it afresh.
   * The second pass copies only what came in during the first, plus the two syncs every checkpoint makes.
   */
  async #checkpoint(): Promise<void> {
    if (!this.#checkpointer) {
      this.#checkpointer = new Checkpointer({
        path: this.#path,
        clock: this.#clock,
        onFailure: (reason) => {
          this.#checkpointsInline = true;
          this.#checkpointer = undefined;
          if (!this.#closed) this.#db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
          process.emitWarning(`SQLite database ${this.#path}: ${reason}; checkpointing in COMMIT again`, {
            code: 'WEFT_SQLITE_CHECKPOINT',
          });
        },
      });
      this.#db.pragma('wal_autocheckpoint = 0');
    }
    const checkpointer = this.#checkpointer;
    // Complete only as of its start: the writes since were not copied.
    if (!(await checkpointer.run())) return;
    try {
      await this.#mutex.acquire(this.#busyTimeoutMs);
    } catch {
      return; // Writers kept the storage busy: the next checkpoint tries again.
    }
    try {
      if (!this.#closed) await checkpointer.run();
    } finally {
      this.#mutex.release();
    }
  }

  #runNow(parsed: ParsedSql, params: readonly SqlValue[]): Result {
    const { statement, reader, booleans } = this.#prepare(parsed.positional);
    const order = parsed.order;
    const args = order ? order.map((k) => bindValue(params[k]!)) : bindAll(params);
    // (Transaction control reads as read-only: the writes before COMMIT marked it.)
    if (!statement.readonly && this.#walPath !== undefined) this.#unsynced = true;
    if (!reader) return { rows: [], rowCount: statement.run(args).changes };
    const rows = statement.all(args) as Row[];
    for (const name of booleans) {
      for (const row of rows) if (row[name] !== null) row[name] = row[name] !== 0n;
    }
    return { rows, rowCount: rows.length };
  }

  #prepare(sql: string): Prepared {
    const cached = this.#statements.get(sql);
    if (cached) return cached;
    const statement = this.#db.prepare<unknown[]>(sql);
    const reader = statement.reader;
    if (reader) statement.safeIntegers(true);
    const booleans = reader
      ? statement
          .columns()
          .filter((c) => c.type?.toUpperCase() === 'BOOLEAN')
          .map((c) => c.name)
      : [];
    const prepared: Prepared = { statement, reader, booleans };
    if (sql.length <= MAX_CACHED_STATEMENT_LENGTH) {
      // First in, first out: a hot statement evicted now and then is simply prepared again.
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) {
        this.#statements.delete(this.#statements.keys().next().value as string);
      }
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }
}

function closedError(): WeftError {
  return new WeftError(StorageErrors.STORAGE_UNAVAILABLE, 'the storage is closed');
}

/**
 * Opens (creating if needed) a SQLite database in WAL mode: a commit is on disk when its statement resolves (the
 * driver syncs the WAL off the event loop, see {@link SqliteDriver}), so a node never acknowledges a write that a
 * power failure could take back. `foreign_keys` is on to enforce what PostgreSQL enforces. Temporary files (the
 * statement and savepoint journals) are kept in memory.
 */
export function openSqlite(config: SqliteConfig, clock: Clock = systemClock): Driver {
  const { path, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS } = config;
  if (typeof path !== 'string' || path === '') {
    throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'storage.path must name a SQLite file or be :memory:');
  }
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `storage.busyTimeoutMs must be a non-negative integer, not ${busyTimeoutMs}`,
    );
  }
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // Blocking waits are acceptable while opening only; afterwards the driver waits without blocking.
    const db = new Database(path, { timeout: busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL: the driver syncs the WAL after each commit itself, without blocking the event loop.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 0');
      // Statement and savepoint journals in memory: a batch's nested transactions and multi-row inserts journal
      // every page they touch, and past 64 KiB SQLite spills that to a temporary file with a write syscall per page
      // (2-4 % of a busy node's main thread). They are undo logs of the open transaction only, never needed after a
      // crash, and bounded by what one batch changes (docs/performance.md, 'Statement journals in memory').
      db.pragma('temp_store = MEMORY');
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteDriver(db, path, busyTimeoutMs, clock);
  } catch (e) {
    const error = mapError(e, path);
    if (error.code === StorageErrors.STORAGE_QUERY_FAILED.code) {
      throw new WeftError(
        StorageErrors.STORAGE_UNAVAILABLE,
        `cannot open SQLite database ${path}: ${error.message}`,
        {},
        {
          cause: e,
        },
      );
    }
    throw error;
  }
}
