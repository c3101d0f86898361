import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { deferred } from '../time/index.js';
import { StorageErrors } from './errors.js';
import { type StorageLease, tryAcquireLease } from './lease.js';
import { openStorage } from './storage.js';
import { describeBackend, describeBackends, interceptLease, terminateLeaseConnection } from './testing.js';
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

/** Cuts the holder's lock connection and keeps the lock from it until its first attempt to take it back failed. */
async function cutOff(config: PostgresConfig, holder: StorageLease): Promise<void> {
  const other = await interceptLease(config);
  while (!holder.suspended?.includes('another session holds the lock'))
    await new Promise((r) => setTimeout(r, 10));
  await other.end();
}

/** The server releases the lock of a closed connection a moment after the client saw it close. */
async function leaseOnceFree(config: PostgresConfig): Promise<StorageLease> {
  for (let i = 0; i < 250; i++) {
    const l = await lease(config);
    if (l) return l;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the lease stayed held');
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
      other = await interceptLease(config as PostgresConfig);
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
    await terminateLeaseConnection(config);
    while (told.length < 2) await new Promise((r) => setTimeout(r, 20));
    // The cut is seen either by the connection's error event (the server's termination message) or by the health
    // check (the lock connection went away), whichever comes first.
    expect(told).toEqual([expect.stringMatching(/^re-taking the storage lease: /), undefined]);
    expect(l!.suspended).toBeUndefined();
    expect(l!.lostReason).toBeUndefined();
    await storage.execute('INSERT INTO t (id) VALUES (1)');
    expect(await lease(config)).toBeUndefined();
  });

  it('lets a transaction begun before a takeover commit before the new holder goes on', async () => {
    const config = backend.freshConfig() as PostgresConfig;
    const aLease = (await lease(config, 60_000))!;
    const a = await open(config, aLease);
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
    await cutOff(config, aLease);
    // A takeover waits for the open transaction, which holds the fence key shared.
    let taken: StorageLease | undefined;
    const takeover = leaseOnceFree(config).then((l) => {
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
    const aLease = (await lease(config, 60_000))!;
    const a = await open(config, aLease);
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
    await cutOff(config, aLease);
    const b = await open(config, await leaseOnceFree(config));
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
