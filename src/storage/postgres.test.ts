import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { StorageErrors } from './errors.js';
import { openStorage } from './storage.js';
import { describeBackend, pgTestUrl } from './testing.js';
import type { PostgresConfig } from './types.js';

describeBackend('postgres', 'postgres backend', (backend) => {
  it('keeps the tables of different schemas apart', async () => {
    const a = await backend.open();
    const b = await backend.open();
    const config = backend.freshConfig() as PostgresConfig;
    await a.execute('CREATE TABLE t (id BIGINT)');
    await b.execute('CREATE TABLE t (id BIGINT)');
    await a.execute('INSERT INTO t (id) VALUES (1)');
    expect(await b.query('SELECT id FROM t')).toEqual([]);
    const c = await backend.open(config);
    expect(await c.queryOne('SELECT current_schema() AS s')).toEqual({ s: config.schema });
  });

  it('queues transactions beyond the pool size', async () => {
    const s = await backend.open({ ...(backend.freshConfig() as PostgresConfig), poolSize: 2 });
    await s.execute('CREATE TABLE t (id BIGINT)');
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        s.transaction(async (tx) => {
          await tx.execute('INSERT INTO t (id) VALUES ($1)', [i]);
          await new Promise((r) => setTimeout(r, 20));
        }),
      ),
    );
    expect(await s.queryOne('SELECT COUNT(*) AS n FROM t')).toEqual({ n: 6n });
  });

  it('reports a connection lost mid-transaction as STORAGE_UNAVAILABLE and recovers', async () => {
    const s = await backend.open();
    await s.execute('CREATE TABLE t (id BIGINT)');
    const error = await s
      .transaction(async (tx) => {
        await tx.execute('INSERT INTO t (id) VALUES (1)');
        const { pid } = (await tx.queryOne<{ pid: bigint }>('SELECT pg_backend_pid() AS pid'))!;
        await s.query('SELECT pg_terminate_backend(CAST($1 AS INTEGER))', [pid]);
        await tx.execute('INSERT INTO t (id) VALUES (2)');
      })
      .catch((e) => e);
    expect(isWeftError(error, StorageErrors.STORAGE_UNAVAILABLE)).toBe(true);
    expect(await s.query('SELECT id FROM t')).toEqual([]);
    await s.health();
  });
});

describe('postgres backend: opening', () => {
  it('reports an unreachable server as STORAGE_UNAVAILABLE without revealing the password', async () => {
    const error = await openStorage({
      kind: 'postgres',
      url: 'postgres://weft:s3cret@127.0.0.1:1/weft',
    }).catch((e) => e);
    expect(isWeftError(error, StorageErrors.STORAGE_UNAVAILABLE)).toBe(true);
    expect((error as { category: string }).category).toBe('TransientServerFailure');
    expect((error as Error).message).toContain('127.0.0.1:1/weft');
    expect(JSON.stringify(error) + String(error)).not.toContain('s3cret');
  });

  it('rejects invalid settings before connecting', async () => {
    const url = pgTestUrl();
    for (const config of [
      { kind: 'postgres', url: 'not a url' },
      { kind: 'postgres', url, schema: 'bad-schema' },
      { kind: 'postgres', url, poolSize: 0 },
      { kind: 'postgres', url, connectionTimeoutMs: 0 },
    ] as PostgresConfig[]) {
      const error = await openStorage(config).catch((e) => e);
      expect((error as { code: string }).code).toBe('INVALID_ARGUMENT');
    }
  });
});
