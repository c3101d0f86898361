import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { deferred } from '../time/index.js';
import { StorageErrors } from './errors.js';
import { type StorageLease, tryAcquireLease } from './lease.js';
import { openStorage } from './storage.js';
import { describeBackend, describeBackends } from './testing.js';
import type { PostgresConfig, SqliteConfig, Storage } from './types.js';

const held: Array<{ release(): Promise<void> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const h of held.splice(0).reverse()) await ('release' in h ? h.release() : h.close());
});

async function lease(config: Parameters<typeof tryAcquireLease>[0], healthCheckIntervalMs = 50) {
  const attempt = await tryAcquireLease(config, { holder: 'test', healthCheckIntervalMs });
  if (!('lease' in attempt)) return undefined;
  held.push(attempt.lease);
  return attempt.lease;
}

async function open(config: Parameters<typeof openStorage>[0], l: StorageLease): Promise<Storage> {
  const storage = await openStorage(config, undefined, l);
  held.push(storage);
  return storage;
}

describeBackends('storage lease', (backend) => {
  it('is exclusive while held and free again once released', async () => {
    const config = backend.freshConfig();
    const first = await lease(config);
    expect(first).toBeDefined();
    expect(await lease(config)).toBeUndefined();
    const attempt = await tryAcquireLease(config, { holder: 'second' });
    expect(attempt).toEqual({
      held: {
        target: expect.stringContaining(config.kind === 'sqlite' ? '.lease' : 'schema weft_test_'),
        holder: config.kind === 'sqlite' ? undefined : 'test',
      },
    });
    // Another database is another lease.
    expect(await lease(backend.freshConfig())).toBeDefined();
    await first!.release();
    expect(await lease(config)).toBeDefined();
  });

  it('serves a storage opened under it until it is lost, then refuses every call', async () => {
    const config = backend.freshConfig();
    const l = (await lease(config))!;
    const storage = await open(config, l);
    await storage.execute('CREATE TABLE t (id BIGINT)');
    await storage.execute('INSERT INTO t (id) VALUES (1)');
    let other: pg.Client | undefined;
    if (config.kind === 'sqlite') rmSync(`${(config as SqliteConfig).path}.lease`);
    else {
      // Another node gets the lock when the holder's connection is cut, and takes over.
      other = await interceptLock(config as PostgresConfig);
      await sql(config as PostgresConfig, 'UPDATE weft_storage_lease SET epoch = epoch + 1');
    }
    const reason = await l.lost;
    expect(reason.code).toBe(StorageErrors.STORAGE_LEASE_LOST.code);
    expect(l.lostReason).toBe(reason);
    await expect(storage.query('SELECT id FROM t')).rejects.toBe(reason);
    await expect(storage.transaction(async () => {})).rejects.toBe(reason);
    await other?.end();
    // The process gave the lease up with the lock: another node may take it.
    expect(await lease(config)).toBeDefined();
  });
});

describeBackend('postgres', 'storage lease fence', (backend) => {
  it('takes the lease back when only its lock connection was cut', async () => {
    const config = backend.freshConfig() as PostgresConfig;
    const told: (string | undefined)[] = [];
    const attempt = await tryAcquireLease(config, {
      holder: 'test',
      healthCheckIntervalMs: 50,
      onSuspend: (why) => told.push(why),
    });
    const l = 'lease' in attempt ? attempt.lease : undefined;
    held.push(l!);
    const storage = await open(config, l!);
    await storage.execute('CREATE TABLE t (id BIGINT)');
    await terminateLockConnection(config);
    while (told.length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(told).toEqual([
      expect.stringMatching(/^re-taking the storage lease: the lock connection/),
      undefined,
    ]);
    expect(l!.suspended).toBeUndefined();
    expect(l!.lostReason).toBeUndefined();
    await storage.execute('INSERT INTO t (id) VALUES (1)');
    expect(await lease(config)).toBeUndefined();
  });

  it('lets a transaction begun before a takeover commit before the new holder goes on', async () => {
    const config = backend.freshConfig() as PostgresConfig;
    const a = await open(config, (await lease(config, 60_000))!);
    await a.execute('CREATE TABLE t (id BIGINT)');
    const release = deferred<void>();
    const began = deferred<void>();
    const inFlight = a.transaction(async (tx) => {
      began.resolve();
      await release.promise;
      await tx.execute('INSERT INTO t (id) VALUES (1)');
    });
    await began.promise;
    // The holder's connection is cut and its first attempt to take the lock back fails; it would try again in a
    // minute, long after the takeover below.
    await (await interceptLock(config)).end();
    // A takeover waits for the open transaction, which holds the fence key shared.
    let taken: StorageLease | undefined;
    const takeover = lease(config).then((l) => {
      taken = l;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(taken).toBeUndefined();
    release.resolve();
    await inFlight;
    await takeover;
    const b = await open(config, taken!);
    expect(await b.query('SELECT id FROM t')).toEqual([{ id: 1n }]);
  });

  it('terminates what the old holder keeps open past the grace period', async () => {
    const config = backend.freshConfig() as PostgresConfig;
    const a = await open(config, (await lease(config, 60_000))!);
    await a.execute('CREATE TABLE t (id BIGINT)');
    const release = deferred<void>();
    const began = deferred<void>();
    const inFlight = a
      .transaction(async (tx) => {
        began.resolve();
        await release.promise;
        await tx.execute('INSERT INTO t (id) VALUES (1)');
      })
      .catch((e: unknown) => e);
    await began.promise;
    await (await interceptLock(config)).end();
    const b = await open(config, (await lease(config))!);
    release.resolve();
    expect(isWeftError(await inFlight, StorageErrors.STORAGE_UNAVAILABLE)).toBe(true);
    expect(await b.query('SELECT id FROM t')).toEqual([]);
  }, 15_000);

  it('refuses transactions and writes once the epoch moved on, while reads still run', async () => {
    const config = backend.freshConfig() as PostgresConfig;
    const a = await open(config, (await lease(config, 60_000))!);
    await a.execute('CREATE TABLE t (id BIGINT)');
    // What a takeover this node has not noticed yet leaves behind.
    await sql(config, 'UPDATE weft_storage_lease SET epoch = epoch + 1');
    const lost = (e: unknown) => isWeftError(e, StorageErrors.STORAGE_LEASE_LOST);
    expect(lost(await a.execute('INSERT INTO t (id) VALUES (1)').catch((e: unknown) => e))).toBe(true);
    expect(lost(await a.transaction(async () => {}).catch((e: unknown) => e))).toBe(true);
    expect(await a.query('SELECT id FROM t')).toEqual([]);
  });
});

async function sql(config: PostgresConfig, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: config.url, options: `-c search_path=${config.schema}` });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Cuts the holder's lock connection while another connection waits for the lock, which it gets at once: the
 * holder cannot take it back. Resolves with that connection, which holds the lock until it ends.
 */
async function interceptLock(config: PostgresConfig): Promise<pg.Client> {
  const other = new pg.Client({ connectionString: config.url });
  await other.connect();
  const locked = other.query(
    `SELECT pg_advisory_lock(hashtextextended('weft.storage-lease.${config.schema}', 0))`,
  );
  // Waiting for the lock before the holder's connection is cut.
  while (
    ((await sql(config, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rowCount ??
      0) === 0
  ) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await terminateLockConnection(config);
  await locked;
  return other;
}

/** Cuts the connection that holds the advisory lock of `config`'s schema, as a network failure would. */
async function terminateLockConnection(config: PostgresConfig): Promise<void> {
  const result = await sql(
    config,
    `WITH k AS (SELECT hashtextextended('weft.storage-lease.${config.schema}', 0) AS key)
     SELECT pg_terminate_backend(l.pid) FROM pg_locks l, k
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295`,
  );
  expect(result.rowCount).toBe(1);
}
