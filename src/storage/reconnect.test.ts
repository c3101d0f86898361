import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { systemClock } from '../time/index.js';
import { describeBackend, pgTestUrl } from './testing.js';
import { isTransientStorageError, retryTransient } from './transient.js';
import type { PostgresConfig } from './types.js';

const logger = pino({ level: 'silent' });

describeBackend('postgres', 'a PostgreSQL storage whose connections are terminated', (backend) => {
  it('opens new connections: a failure is transient, and the next attempt succeeds', async () => {
    const tag = `weft_reconnect_${randomBytes(4).toString('hex')}`;
    const fresh = backend.freshConfig() as PostgresConfig;
    const url = new URL(fresh.url);
    url.searchParams.set('application_name', tag);
    const storage = await backend.open({ ...fresh, url: url.toString(), poolSize: 3 });
    await storage.execute('CREATE TABLE t (id BIGINT PRIMARY KEY)');
    // Fill the pool, then cut every connection of it (idle ones and one inside a transaction).
    await Promise.all([1, 2, 3].map(() => storage.query('SELECT pg_sleep(0.05)')));
    const killer = new pg.Client({ connectionString: pgTestUrl() });
    await killer.connect();
    const terminate = () =>
      killer.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
        [tag],
      );
    try {
      const inTransaction = storage.transaction(async (tx) => {
        await tx.execute('INSERT INTO t (id) VALUES (1)');
        await terminate();
        await tx.execute('INSERT INTO t (id) VALUES (2)');
      });
      const failure = await inTransaction.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTransientStorageError(failure)).toBe(true);
      await terminate();
      const rows = await retryTransient(() => storage.query<{ n: bigint }>('SELECT COUNT(*) AS n FROM t'), {
        clock: systemClock,
        logger,
        what: 'counting',
      });
      // The cut transaction rolled back.
      expect(rows[0]!.n).toBe(0n);
      // Healed for good: plain calls work again, without any reopening.
      await storage.health();
      await storage.transaction((tx) => tx.execute('INSERT INTO t (id) VALUES (3)'));
      expect(await storage.query('SELECT id FROM t')).toEqual([{ id: 3n }]);
    } finally {
      await killer.end();
    }
  });
});
