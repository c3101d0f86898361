/**
 * Test helpers that run a suite against both backends. Imported by tests only (it needs vitest); production code
 * imports `./index.js`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { openStorage } from './storage.js';
import type { PostgresConfig, Storage, StorageConfig, StorageKind } from './types.js';

/** The PostgreSQL server tests use: `WEFT_TEST_PG_URL`, else a local `test` database. */
export function pgTestUrl(): string {
  return process.env.WEFT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

let probe: Promise<string | undefined> | undefined;

/** Why the test server cannot be used, or `undefined` when it answers; asked once per process. */
export function postgresUnavailableReason(url = pgTestUrl()): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (e) {
      const host = new URL(url);
      return `PostgreSQL at ${host.hostname}:${host.port || 5432}${host.pathname} is unreachable (${e instanceof Error ? e.message : String(e)})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probe;
}

/**
 * Why PostgreSQL tests must be skipped here, or `undefined` to run them: an unreachable server skips them with the
 * reason printed, except under `CI=true`, where it fails them.
 */
export async function postgresSkipReason(url = pgTestUrl()): Promise<string | undefined> {
  const reason = await postgresUnavailableReason(url);
  if (reason === undefined) return undefined;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL tests must run in CI, but ${reason}`);
  console.warn(`skipping PostgreSQL tests: ${reason}`);
  return reason;
}

function randomSchema(): string {
  return `weft_test_${randomBytes(6).toString('hex')}`;
}

async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs `fn` with a config for a new schema on the test server, and drops the schema afterwards. */
export async function withPostgresSchema<T>(
  fn: (config: PostgresConfig) => Promise<T>,
  url = pgTestUrl(),
): Promise<T> {
  const schema = randomSchema();
  try {
    return await fn({ kind: 'postgres', url, schema });
  } finally {
    await dropSchemas(url, [schema]);
  }
}

/** One backend as a suite sees it. */
export interface TestBackend {
  readonly kind: StorageKind;
  /** A config for a new, empty database (a new file or schema), removed when the suite ends. */
  freshConfig(): StorageConfig;
  /** Opens a storage on `config`, by default a fresh database; it is closed after the test. */
  open(config?: StorageConfig): Promise<Storage>;
}

function tracking(kind: StorageKind, freshConfig: () => StorageConfig): TestBackend {
  const opened: Storage[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  return {
    kind,
    freshConfig,
    async open(config = freshConfig()) {
      const storage = await openStorage(config);
      opened.push(storage);
      return storage;
    },
  };
}

function sqliteBackend(): TestBackend {
  let dir: string | undefined;
  let n = 0;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return tracking('sqlite', () => {
    dir ??= mkdtempSync(join(tmpdir(), 'weft-storage-'));
    return { kind: 'sqlite', path: join(dir, `db${n++}.sqlite`) };
  });
}

function postgresBackend(): TestBackend {
  const url = pgTestUrl();
  const schemas: string[] = [];
  let skipReason: string | undefined;
  beforeAll(async () => {
    skipReason = await postgresSkipReason(url);
  });
  beforeEach((context) => {
    if (skipReason !== undefined) context.skip(skipReason);
  });
  afterAll(async () => {
    await dropSchemas(url, schemas.splice(0));
  });
  return tracking('postgres', () => {
    const schema = randomSchema();
    schemas.push(schema);
    return { kind: 'postgres', url, schema };
  });
}

/**
 * Declares `body` for one backend, as `name > kind`. PostgreSQL tests use {@link pgTestUrl} with a new schema per
 * database; when the server is unreachable they are skipped with the reason printed, except when `CI=true`, where
 * they fail.
 */
export function describeBackend(kind: StorageKind, name: string, body: (backend: TestBackend) => void): void {
  describe(name, () => {
    describe(kind, () => body(kind === 'sqlite' ? sqliteBackend() : postgresBackend()));
  });
}

/** Declares `body` once per backend, as `name > sqlite` and `name > postgres` (see {@link describeBackend}). */
export function describeBackends(name: string, body: (backend: TestBackend) => void): void {
  describeBackend('sqlite', name, body);
  describeBackend('postgres', name, body);
}

async function onSchema<T>(config: PostgresConfig, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: config.url, options: `-c search_path=${config.schema}` });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Cuts the connection holding the storage lease of `config`'s schema (see lease.ts for the key), as a network
 * failure or a database restart would.
 */
export async function terminateLeaseConnection(config: PostgresConfig): Promise<void> {
  const terminated = await onSchema(config, (client) =>
    client.query(
      `WITH k AS (SELECT hashtextextended('weft.storage-lease.' || $1, 0) AS key)
       SELECT pg_terminate_backend(l.pid) FROM pg_locks l, k
       WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
         AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295`,
      [config.schema],
    ),
  );
  if (terminated.rowCount !== 1) throw new Error(`no connection holds the lease of schema ${config.schema}`);
}

/**
 * Cuts the holder's lease connection while another connection waits for the lock, which it gets at once, so that
 * the holder cannot take it back: what another node grabbing the lease looks like. Resolves with that connection,
 * which holds the lock until it ends.
 */
export async function interceptLease(config: PostgresConfig): Promise<pg.Client> {
  const other = new pg.Client({ connectionString: config.url });
  other.on('error', () => {});
  await other.connect();
  const locked = other.query("SELECT pg_advisory_lock(hashtextextended('weft.storage-lease.' || $1, 0))", [
    config.schema,
  ]);
  // The lock request must be waiting before the holder's connection is cut.
  for (let i = 0; ; i++) {
    const waiting = await onSchema(config, (client) =>
      client.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"),
    );
    if ((waiting.rowCount ?? 0) > 0) break;
    if (i > 500) throw new Error('the lock request did not reach the server');
    await new Promise((r) => setTimeout(r, 10));
  }
  await terminateLeaseConnection(config);
  await locked;
  return other;
}
