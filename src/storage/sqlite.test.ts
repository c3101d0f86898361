import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { systemClock } from '../time/index.js';
import { Checkpointer } from './checkpointer.js';
import { StorageErrors } from './errors.js';
import { openStorage } from './storage.js';
import { describeBackend } from './testing.js';
import type { SqliteConfig } from './types.js';

describeBackend('sqlite', 'sqlite backend', (backend) => {
  it('uses WAL, synchronous=NORMAL, enforced foreign keys and in-memory statement journals', async () => {
    const s = await backend.open();
    expect(await s.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await s.query('PRAGMA synchronous')).toEqual([{ synchronous: 1n }]);
    expect(await s.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1n }]);
    expect(await s.query('PRAGMA temp_store')).toEqual([{ temp_store: 2n }]);
  });

  it('resolves a commit only once its WAL is synced, and lets no reader in before', async () => {
    const s = await backend.open();
    await s.execute('CREATE TABLE t (id BIGINT)');
    // Hold every WAL sync until released.
    const handle = await open(tmpdir(), 'r');
    const proto = Object.getPrototypeOf(handle) as { sync: () => Promise<void> };
    await handle.close();
    const real = proto.sync;
    const held: (() => void)[] = [];
    const spy = vi.spyOn(proto, 'sync').mockImplementation(function (this: unknown) {
      return new Promise<void>((resolve) => held.push(resolve)).then(() => real.call(this));
    });
    try {
      const settled: string[] = [];
      const write = s.execute('INSERT INTO t (id) VALUES (1)').then(() => settled.push('autocommit write'));
      const read = s.query('SELECT id FROM t').then(() => settled.push('read'));
      const tx = s
        .transaction((t) => t.execute('INSERT INTO t (id) VALUES (2)'))
        .then(() => settled.push('transaction'));
      for (let round = 0; round < 2; round++) {
        await vi.waitFor(() => expect(held.length).toBe(1));
        await new Promise((r) => setTimeout(r, 20));
        expect(settled).toEqual(round === 0 ? [] : ['autocommit write', 'read']);
        held.shift()!();
      }
      await Promise.all([write, read, tx]);
      expect(settled).toEqual(['autocommit write', 'read', 'transaction']);
      const syncs = spy.mock.calls.length;
      expect(await s.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 2n }]);
      expect(spy.mock.calls.length).toBe(syncs); // reads sync nothing
    } finally {
      spy.mockRestore();
    }
  });

  it('gives each :memory: storage its own database', async () => {
    const a = await backend.open({ kind: 'sqlite', path: ':memory:' });
    const b = await backend.open({ kind: 'sqlite', path: ':memory:' });
    await a.execute('CREATE TABLE t (id BIGINT)');
    expect(await a.execute('INSERT INTO t (id) VALUES (1)')).toBe(1);
    expect(
      isWeftError(await b.query('SELECT id FROM t').catch((e) => e), StorageErrors.STORAGE_QUERY_FAILED),
    ).toBe(true);
  });

  it('fails with STORAGE_CONTENTION, not a hang, when the storage is used inside its own transaction', async () => {
    const s = await backend.open({ kind: 'sqlite', path: ':memory:', busyTimeoutMs: 100 });
    const error = await s.transaction(() => s.query('SELECT 1 AS x')).catch((e) => e);
    expect(isWeftError(error, StorageErrors.STORAGE_CONTENTION)).toBe(true);
    expect((error as Error).message).toMatch(/use its tx handle/);
  });

  it('waits for another connection’s write lock without blocking the event loop', async () => {
    const config = backend.freshConfig();
    const a = await backend.open(config);
    const b = await backend.open(config);
    await a.execute('CREATE TABLE t (id BIGINT)');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const holding = a.transaction(async (tx) => {
      await tx.execute('INSERT INTO t (id) VALUES (1)');
      await new Promise((r) => setTimeout(r, 200));
    });
    await new Promise((r) => setTimeout(r, 20));
    // b needs the write lock a holds across an await; a synchronous busy wait would stall a forever.
    await b.execute('INSERT INTO t (id) VALUES (2)');
    clearInterval(timer);
    await holding;
    expect(ticks).toBeGreaterThan(10);
    expect(await b.query('SELECT id FROM t ORDER BY id')).toEqual([{ id: 1n }, { id: 2n }]);
  });

  it('gives up with STORAGE_CONTENTION after the busy timeout', async () => {
    const config = backend.freshConfig();
    const a = await backend.open(config);
    const b = await backend.open({ ...(config as SqliteConfig), busyTimeoutMs: 50 });
    await a.execute('CREATE TABLE t (id BIGINT)');
    let release!: () => void;
    const holding = a.transaction(async (tx) => {
      await tx.execute('INSERT INTO t (id) VALUES (1)');
      await new Promise<void>((r) => {
        release = r;
      });
    });
    await new Promise((r) => setTimeout(r, 20));
    const error = await b.transaction((tx) => tx.execute('INSERT INTO t (id) VALUES (2)')).catch((e) => e);
    release();
    await holding;
    expect(isWeftError(error, StorageErrors.STORAGE_CONTENTION)).toBe(true);
    expect((error as Error & { retryable: boolean }).retryable).toBe(true);
  });
});

describe('sqlite backend: opening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-storage-open-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates missing directories for the database file', async () => {
    const s = await openStorage({ kind: 'sqlite', path: join(dir, 'a', 'b', 'node.sqlite') });
    await s.health();
    await s.close();
  });

  it('reports a path it cannot open as STORAGE_UNAVAILABLE', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a directory');
    const error = await openStorage({ kind: 'sqlite', path: join(file, 'node.sqlite') }).catch((e) => e);
    expect(isWeftError(error, StorageErrors.STORAGE_UNAVAILABLE)).toBe(true);
    const notDb = join(dir, 'not-a-db.sqlite');
    writeFileSync(notDb, 'x'.repeat(4096));
    expect(
      isWeftError(
        await openStorage({ kind: 'sqlite', path: notDb }).catch((e) => e),
        StorageErrors.STORAGE_UNAVAILABLE,
      ),
    ).toBe(true);
  });

  it('rejects invalid settings', async () => {
    for (const config of [
      { kind: 'sqlite', path: '' },
      { kind: 'sqlite', path: ':memory:', busyTimeoutMs: -1 },
    ] as SqliteConfig[]) {
      expect(((await openStorage(config).catch((e) => e)) as { code: string }).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('rejects an unknown storage kind', async () => {
    const error = await openStorage({ kind: 'mysql' } as never).catch((e) => e);
    expect(isWeftError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('INVALID_ARGUMENT');
  });
});

describe('sqlite backend: WAL checkpoints on a thread of their own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-storage-checkpoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function commits(path: string, n: number) {
    const s = await openStorage({ kind: 'sqlite', path });
    await s.execute('CREATE TABLE t (id BIGINT PRIMARY KEY, payload BYTEA NOT NULL)');
    // 3 KB per row: every commit adds at least a page to the WAL.
    for (let i = 0; i < n; i++)
      await s.execute('INSERT INTO t (id, payload) VALUES ($1, $2)', [i, new Uint8Array(3000)]);
    return s;
  }

  it('takes checkpoints out of COMMIT once a database commits enough, and keeps its WAL small', async () => {
    const path = join(dir, 'busy.sqlite');
    const s = await commits(path, 2_000);
    // Autocheckpoint is off, yet 2,000 commits (33 MB of WAL frames: with no checkpoints the WAL keeps them all)
    // left the WAL at most a quarter of that: it started afresh again and again. (Usually it stays under SQLite's
    // autocheckpoint size, ~1,000 pages, but on a loaded machine a late checkpoint lets another round or two of
    // commits pile up: 1,140 pages seen.)
    expect(await s.query('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0n }]);
    expect(statSync(`${path}-wal`).size).toBeLessThan(2_000 * 4_120);
    expect(await s.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 2_000n }]);
    await s.close();
    // The thread's connection closed first, so the writer's was the last one: it checkpointed and removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = await openStorage({ kind: 'sqlite', path });
    expect(await reopened.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 2_000n }]);
    await reopened.close();
  });

  it('leaves a database that commits little to SQLite’s autocheckpoint, without a thread', async () => {
    const s = await commits(join(dir, 'quiet.sqlite'), 100);
    expect(await s.query('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 1000n }]);
    await s.close();
  });

  it('reports a thread that cannot work, so that the writer checkpoints again', async () => {
    const failed = new Promise<string>((resolve) => {
      new Checkpointer({
        path: join(dir, 'no-such-dir', 'x.sqlite'),
        clock: systemClock,
        onFailure: resolve,
      });
    });
    expect(await failed).toMatch(
      /checkpoint thread failed: Cannot open database because the directory does not exist/,
    );
  });
});
