import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isWeftError, WeftError } from '../errors/index.js';
import { StorageErrors } from './errors.js';
import { describeBackends } from './testing.js';
import type { Migration, Queryable, Storage } from './types.js';

/** The code of the WeftError `promise` rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof WeftError) return e.code;
    throw e;
  }
  throw new Error('expected a rejection');
}

const ITEMS = `CREATE TABLE items (
  id BIGINT NOT NULL PRIMARY KEY,
  amount BIGINT,
  label TEXT,
  payload BYTEA,
  flag BOOLEAN,
  ratio DOUBLE PRECISION
)`;

async function withItems(storage: Storage): Promise<Storage> {
  await storage.execute(ITEMS);
  return storage;
}

async function count(q: Queryable, table = 'items'): Promise<bigint> {
  const row = await q.queryOne<{ n: bigint }>(`SELECT COUNT(*) AS n FROM ${table}`);
  return row!.n;
}

describeBackends('storage contract', (backend) => {
  describe('statements and types', () => {
    it('creates, reads, updates and deletes rows, reporting row counts', async () => {
      const s = await withItems(await backend.open());
      expect(
        await s.execute('INSERT INTO items (id, label) VALUES ($1, $2), ($3, $4)', [1n, 'one', 2n, 'two']),
      ).toBe(2);
      expect(await s.query('SELECT id, label FROM items ORDER BY id')).toEqual([
        { id: 1n, label: 'one' },
        { id: 2n, label: 'two' },
      ]);
      expect(await s.execute('UPDATE items SET label = $1 WHERE id >= $2', ['many', 1n])).toBe(2);
      expect(await s.queryOne('SELECT label FROM items WHERE id = $1', [2n])).toEqual({ label: 'many' });
      expect(await s.execute('DELETE FROM items WHERE id = $1', [1n])).toBe(1);
      expect(await s.execute('DELETE FROM items WHERE id = $1', [1n])).toBe(0);
      expect(await s.queryOne('SELECT id FROM items WHERE id = $1', [1n])).toBeUndefined();
      expect(await count(s)).toBe(1n);
    });

    it('returns every integer as bigint, exactly beyond 2^53 and at the 64-bit limits', async () => {
      const s = await withItems(await backend.open());
      const values = [2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, 0n, 1_700_000_000_000_000n];
      for (const [i, v] of values.entries()) {
        await s.execute('INSERT INTO items (id, amount) VALUES ($1, $2)', [BigInt(i), v]);
      }
      const rows = await s.query<{ amount: bigint }>('SELECT amount FROM items ORDER BY id');
      expect(rows.map((r) => r.amount)).toEqual(values);
      // Plain numbers bind as integers and read back as bigint, like integer expressions and aggregates.
      await s.execute('INSERT INTO items (id, amount) VALUES ($1, $2)', [10, 7]);
      expect(await s.queryOne('SELECT amount, 1 + 1 AS two FROM items WHERE id = $1', [10])).toEqual({
        amount: 7n,
        two: 2n,
      });
      expect(
        await s.queryOne('SELECT SUM(amount) AS s, AVG(id) AS a FROM items WHERE id IN ($1, $2)', [4, 10]),
      ).toEqual({
        s: 1_700_000_000_000_007n,
        a: 7,
      });
    });

    it('round-trips bytes, text, booleans, doubles and NULLs', async () => {
      const s = await withItems(await backend.open());
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const view = new Uint8Array(randomBytes(600).buffer, 50, 500);
      await s.execute('INSERT INTO items (id, label, payload, flag, ratio) VALUES ($1, $2, $3, $4, $5)', [
        1n,
        'zoë — 日本 🧵',
        all,
        true,
        0.25,
      ]);
      await s.execute('INSERT INTO items (id, label, payload, flag, ratio) VALUES ($1, $2, $3, $4, $5)', [
        2n,
        '',
        view,
        false,
        -1e300,
      ]);
      await s.execute('INSERT INTO items (id, label, payload, flag, ratio) VALUES ($1, $2, $3, $4, $5)', [
        3n,
        null,
        new Uint8Array(0),
        null,
        null,
      ]);
      await s.execute('INSERT INTO items (id, ratio) VALUES ($1, $2)', [4n, 3]);
      const rows = await s.query('SELECT id, amount, label, payload, flag, ratio FROM items ORDER BY id');
      expect(rows).toEqual([
        { id: 1n, amount: null, label: 'zoë — 日本 🧵', payload: Buffer.from(all), flag: true, ratio: 0.25 },
        { id: 2n, amount: null, label: '', payload: Buffer.from(view), flag: false, ratio: -1e300 },
        { id: 3n, amount: null, label: null, payload: Buffer.alloc(0), flag: null, ratio: null },
        { id: 4n, amount: null, label: null, payload: null, flag: null, ratio: 3 },
      ]);
      expect(Buffer.isBuffer(rows[0]!.payload)).toBe(true);
      expect(await s.query('SELECT id FROM items WHERE flag = $1', [true])).toEqual([{ id: 1n }]);
      expect(await s.query('SELECT id FROM items WHERE payload = $1', [view])).toEqual([{ id: 2n }]);
      expect(await s.query('SELECT id FROM items WHERE label IS NULL ORDER BY id')).toEqual([
        { id: 3n },
        { id: 4n },
      ]);
    });

    it('orders by bigint numerically and by bytes bytewise', async () => {
      const s = await withItems(await backend.open());
      const ids = [2n ** 60n, -5n, 2n ** 53n + 1n, 0n, 2n ** 53n, -(2n ** 62n)];
      const payloads = [[0x02], [0x01, 0x00], [], [0xff], [0x01], [0x00, 0xff]].map((b) =>
        Uint8Array.from(b),
      );
      await s.insertMany(
        'items',
        ['id', 'payload'],
        ids.map((id, i) => [id, payloads[i]!]),
      );
      const byId = await s.query<{ id: bigint }>('SELECT id FROM items ORDER BY id');
      expect(byId.map((r) => r.id)).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      const byPayload = await s.query<{ payload: Buffer }>('SELECT payload FROM items ORDER BY payload DESC');
      expect(byPayload.map((r) => [...r.payload])).toEqual([
        [0xff],
        [0x02],
        [0x01, 0x00],
        [0x01],
        [0x00, 0xff],
        [],
      ]);
      const page = await s.query<{ id: bigint }>(
        'SELECT id FROM items ORDER BY id LIMIT $1 OFFSET $2',
        [2, 1],
      );
      expect(page.map((r) => r.id)).toEqual([-5n, 0n]);
    });

    it('supports RETURNING and upserts', async () => {
      const s = await withItems(await backend.open());
      expect(
        await s.query('INSERT INTO items (id, amount) VALUES ($1, $2) RETURNING id, amount', [1n, 5n]),
      ).toEqual([{ id: 1n, amount: 5n }]);
      const upsert =
        'INSERT INTO items (id, amount) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET amount = items.amount + excluded.amount RETURNING amount';
      expect(await s.query(upsert, [1n, 10n])).toEqual([{ amount: 15n }]);
      expect(await s.execute('INSERT INTO items (id) VALUES ($1) ON CONFLICT DO NOTHING', [1n])).toBe(0);
      expect(await s.execute('UPDATE items SET amount = 0 WHERE id = $1 RETURNING id', [1n])).toBe(1);
    });

    it('reuses a placeholder and accepts placeholders in any order', async () => {
      const s = await backend.open();
      expect(
        await s.queryOne(
          'SELECT CAST($2 AS BIGINT) AS b, CAST($1 AS TEXT) AS a, CAST($2 AS BIGINT) * 2 AS c',
          ['x', 21n],
        ),
      ).toEqual({ b: 21n, a: 'x', c: 42n });
      expect(await s.queryOne("SELECT '$1 -- ?' AS s /* $2; ? */")).toEqual({ s: '$1 -- ?' });
    });

    it('maps a duplicate key to STORAGE_CONSTRAINT_VIOLATION', async () => {
      const s = await withItems(await backend.open());
      await s.execute('CREATE UNIQUE INDEX items_label ON items (label)');
      await s.execute('INSERT INTO items (id, label) VALUES ($1, $2)', [1n, 'a']);
      const error = await s
        .execute('INSERT INTO items (id, label) VALUES ($1, $2)', [1n, 'b'])
        .catch((e) => e);
      expect(isWeftError(error, StorageErrors.STORAGE_CONSTRAINT_VIOLATION)).toBe(true);
      expect((error as WeftError).category).toBe('InvalidGivenCurrentSystemStateResourceExists');
      expect(await codeOf(s.execute('INSERT INTO items (id, label) VALUES ($1, $2)', [2n, 'a']))).toBe(
        'STORAGE_CONSTRAINT_VIOLATION',
      );
      expect(await codeOf(s.insertMany('items', ['id'], [[3n], [1n]]))).toBe('STORAGE_CONSTRAINT_VIOLATION');
      expect(await count(s)).toBe(1n);
    });

    it('rejects non-portable statements and parameters identically', async () => {
      const s = await withItems(await backend.open());
      const failed = 'STORAGE_QUERY_FAILED';
      expect(await codeOf(s.query('SELECT id FROM items WHERE id = $1', []))).toBe(failed);
      expect(await codeOf(s.query('SELECT id FROM items WHERE id = $1', [1n, 2n]))).toBe(failed);
      expect(await codeOf(s.query('SELECT id FROM items WHERE id = ?', [1n]))).toBe(failed);
      expect(await codeOf(s.query('SELECT 1; SELECT 2'))).toBe(failed);
      expect(await codeOf(s.query('SELECT CAST($2 AS BIGINT) AS x', [1n, 2n]))).toBe(failed);
      expect(await codeOf(s.query('SELECT CAST($1 AS BIGINT) AS x', [undefined as never]))).toBe(failed);
      expect(await codeOf(s.query('SELECT CAST($1 AS BIGINT) AS x', [2n ** 63n]))).toBe(failed);
      expect(await codeOf(s.query('SELECT CAST($1 AS BIGINT) AS x', [Number.NaN]))).toBe(failed);
      expect(await codeOf(s.query('SELEC 1'))).toBe(failed);
      expect(await codeOf(s.query('SELECT nope FROM items'))).toBe(failed);
      expect(await codeOf(s.execute('INSERT INTO items (id) VALUES (NULL)'))).toBe(failed);
      expect(await codeOf(s.queryOne('SELECT 1 AS x UNION ALL SELECT 2 AS x'))).toBe(failed);
      expect(await codeOf(s.insertMany('Items', ['id'], [[1n]]))).toBe(failed);
      expect(await codeOf(s.insertMany('items', ['id', 'label'], [[1n]]))).toBe(failed);
      expect(await s.query('SELECT 1 AS x;  -- trailing semicolon and comment')).toEqual([{ x: 1n }]);
    });
  });

  describe('transactions', () => {
    it('commits when the callback resolves and rolls back when it throws', async () => {
      const s = await withItems(await backend.open());
      const result = await s.transaction(async (tx) => {
        await tx.execute('INSERT INTO items (id) VALUES ($1)', [1n]);
        await tx.insertMany('items', ['id'], [[2n], [3n]]);
        return count(tx);
      });
      expect(result).toBe(3n);
      const boom = new Error('boom');
      await expect(
        s.transaction(async (tx) => {
          await tx.execute('INSERT INTO items (id) VALUES ($1)', [4n]);
          await tx.execute('DELETE FROM items WHERE id = $1', [1n]);
          expect(await count(tx)).toBe(3n);
          throw boom;
        }),
      ).rejects.toBe(boom);
      const ids = await s.query<{ id: bigint }>('SELECT id FROM items ORDER BY id');
      expect(ids.map((r) => r.id)).toEqual([1n, 2n, 3n]);
    });

    it('rolls back a nested transaction alone', async () => {
      const s = await withItems(await backend.open());
      await s.transaction(async (tx) => {
        await tx.execute('INSERT INTO items (id) VALUES ($1)', [1n]);
        // The typical use: try an insert that may conflict without losing the outer transaction.
        const code = await codeOf(
          tx.transaction((inner) => inner.execute('INSERT INTO items (id) VALUES ($1)', [1n])),
        );
        expect(code).toBe('STORAGE_CONSTRAINT_VIOLATION');
        await tx.transaction(async (inner) => {
          await inner.execute('INSERT INTO items (id) VALUES ($1)', [2n]);
          await inner.transaction((deeper) => deeper.execute('INSERT INTO items (id) VALUES ($1)', [3n]));
        });
        await expect(
          tx.transaction(async (inner) => {
            await inner.execute('INSERT INTO items (id) VALUES ($1)', [4n]);
            throw new Error('undo 4');
          }),
        ).rejects.toThrow('undo 4');
      });
      const ids = await s.query<{ id: bigint }>('SELECT id FROM items ORDER BY id');
      expect(ids.map((r) => r.id)).toEqual([1n, 2n, 3n]);
    });

    it('refuses statements after a failed one, and a handle used after its transaction', async () => {
      const s = await withItems(await backend.open());
      let leaked: Queryable | undefined;
      const error = await s
        .transaction(async (tx) => {
          leaked = tx;
          await tx.execute('INSERT INTO items (id) VALUES ($1)', [1n]);
          await tx.execute('INSERT INTO items (id) VALUES ($1)', [1n]).catch(() => {});
          return tx.execute('INSERT INTO items (id) VALUES ($1)', [2n]);
        })
        .catch((e) => e);
      expect(isWeftError(error, StorageErrors.STORAGE_QUERY_FAILED)).toBe(true);
      expect((error as Error).message).toMatch(/aborted by an earlier failed statement/);
      expect(await count(s)).toBe(0n);
      expect(await codeOf(leaked!.query('SELECT 1 AS x'))).toBe('STORAGE_QUERY_FAILED');
    });

    it('keeps concurrent transactions isolated and all of their effects', async () => {
      const s = await withItems(await backend.open());
      await s.execute('INSERT INTO items (id, amount) VALUES (0, 0)');
      const runs = Array.from({ length: 20 }, (_, i) =>
        s.transaction(async (tx) => {
          await tx.execute('UPDATE items SET amount = amount + 1 WHERE id = 0');
          await tx.insertMany(
            'items',
            ['id', 'amount'],
            Array.from({ length: 10 }, (_, j) => [BigInt(1 + i * 10 + j), BigInt(i)]),
          );
          if (i % 5 === 4) throw new Error(`transaction ${i} fails`);
          return i;
        }),
      );
      const outcomes = await Promise.allSettled(runs);
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(4);
      expect(await s.queryOne('SELECT amount FROM items WHERE id = 0')).toEqual({ amount: 16n });
      expect(await count(s)).toBe(1n + 16n * 10n);
      const perTx = await s.query<{ amount: bigint; n: bigint }>(
        'SELECT amount, COUNT(*) AS n FROM items WHERE id > 0 GROUP BY amount ORDER BY amount',
      );
      expect(perTx.every((r) => r.n === 10n && r.amount % 5n !== 4n)).toBe(true);
    });
  });

  describe('insertMany', () => {
    it('inserts 100k rows in several statements of one transaction', async () => {
      const s = await backend.open();
      await s.execute(
        'CREATE TABLE bulk (id BIGINT NOT NULL PRIMARY KEY, k BIGINT NOT NULL, payload BYTEA NOT NULL)',
      );
      const payload = randomBytes(16);
      const rows = Array.from({ length: 100_000 }, (_, i) => [BigInt(i), i % 7, payload]);
      expect(await s.insertMany('bulk', ['id', 'k', 'payload'], rows)).toBe(100_000);
      expect(await count(s, 'bulk')).toBe(100_000n);
      expect(await s.queryOne('SELECT k, payload FROM bulk WHERE id = $1', [99_999n])).toEqual({
        k: BigInt(99_999 % 7),
        payload,
      });
      // A duplicate in the last chunk undoes the earlier chunks too.
      const more = Array.from({ length: 60_000 }, (_, i) => [BigInt(100_000 + i), 0, payload]);
      more.push([5n, 0, payload]);
      expect(await codeOf(s.insertMany('bulk', ['id', 'k', 'payload'], more))).toBe(
        'STORAGE_CONSTRAINT_VIOLATION',
      );
      expect(await count(s, 'bulk')).toBe(100_000n);
      // Ignoring conflicts inserts only the new rows and says how many.
      expect(await s.insertMany('bulk', ['id', 'k', 'payload'], more, { onConflict: 'ignore' })).toBe(60_000);
      expect(await count(s, 'bulk')).toBe(160_000n);
      expect(await s.insertMany('bulk', ['id'], [])).toBe(0);
    });
  });

  describe('migrations', () => {
    const v1: Migration = {
      version: 1,
      name: 'accounts',
      up: 'CREATE TABLE test_accounts (id BIGINT NOT NULL PRIMARY KEY, owner TEXT NOT NULL)',
    };
    const v2: Migration = {
      version: 2,
      name: 'balances',
      up: [
        'CREATE TABLE test_balances (account BIGINT NOT NULL REFERENCES test_accounts (id), amount BIGINT NOT NULL)',
        'CREATE INDEX test_balances_account ON test_balances (account)',
      ],
    };
    const v3: Migration = {
      version: 3,
      name: 'memo',
      up: 'ALTER TABLE test_accounts ADD COLUMN memo TEXT; CREATE INDEX test_accounts_owner ON test_accounts (owner);',
    };

    async function applied(s: Storage, component = 'test'): Promise<bigint[]> {
      const rows = await s.query<{ version: bigint }>(
        'SELECT version FROM weft_schema_migrations WHERE component = $1 ORDER BY version',
        [component],
      );
      return rows.map((r) => r.version);
    }

    it('applies migrations in order, once, and later ones on a later run', async () => {
      const s = await backend.open();
      expect(await s.migrate('test', [v1, v2])).toEqual({ applied: [1, 2], version: 2 });
      expect(await s.migrate('test', [v1, v2])).toEqual({ applied: [], version: 2 });
      expect(await s.migrate('test', [v1, v2, v3])).toEqual({ applied: [3], version: 3 });
      await s.execute('INSERT INTO test_accounts (id, owner, memo) VALUES ($1, $2, $3)', [1n, 'alice', 'm']);
      await s.execute('INSERT INTO test_balances (account, amount) VALUES ($1, $2)', [1n, 10n]);
      // Foreign keys are enforced on both backends.
      expect(
        await codeOf(s.execute('INSERT INTO test_balances (account, amount) VALUES ($1, $2)', [9n, 1n])),
      ).toBe('STORAGE_QUERY_FAILED');
      const row = await s.queryOne<{ name: string; applied_at: bigint; checksum: string }>(
        'SELECT name, applied_at, checksum FROM weft_schema_migrations WHERE component = $1 AND version = $2',
        ['test', 2],
      );
      expect(row?.name).toBe('balances');
      expect(row?.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(typeof row?.applied_at).toBe('bigint');
      // Components are versioned independently.
      expect(
        await s.migrate('other', [{ version: 1, name: 'x', up: 'CREATE TABLE other_x (id BIGINT)' }]),
      ).toEqual({
        applied: [1],
        version: 1,
      });
    });

    it('survives a restart: a new storage on the same database applies nothing', async () => {
      const config = backend.freshConfig();
      const first = await backend.open(config);
      await first.migrate('test', [v1, v2]);
      await first.close();
      const second = await backend.open(config);
      expect(await second.migrate('test', [v1, v2])).toEqual({ applied: [], version: 2 });
    });

    it('refuses a migration changed after it was applied', async () => {
      const s = await backend.open();
      await s.migrate('test', [v1, v2]);
      const edited = { ...v2, up: [...(v2.up as string[]), 'CREATE INDEX x ON test_balances (amount)'] };
      const error = await s.migrate('test', [v1, edited, v3]).catch((e) => e);
      expect(isWeftError(error, StorageErrors.MIGRATION_FAILED)).toBe(true);
      expect((error as Error).message).toMatch(/test v2 .* was changed after it was applied/);
      expect(await applied(s)).toEqual([1n, 2n]);
    });

    it('refuses a database newer than the code', async () => {
      const s = await backend.open();
      await s.migrate('test', [v1, v2, v3]);
      const error = await s.migrate('test', [v1, v2]).catch((e) => e);
      expect(isWeftError(error, StorageErrors.MIGRATION_FAILED)).toBe(true);
      expect((error as Error).message).toMatch(/schema version 3, newer than version 2/);
    });

    it('rolls back a failing migration entirely and reports it', async () => {
      const s = await backend.open();
      const broken: Migration = {
        version: 2,
        name: 'broken',
        up: ['CREATE TABLE test_half (id BIGINT)', 'CREATE TABLE test_accounts (id BIGINT)'],
      };
      const error = await s.migrate('test', [v1, broken]).catch((e) => e);
      expect(isWeftError(error, StorageErrors.MIGRATION_FAILED)).toBe(true);
      expect((error as Error).message).toMatch(/test v2 \(broken\) failed and was rolled back/);
      expect(await applied(s)).toEqual([1n]);
      expect(await codeOf(s.query('SELECT id FROM test_half'))).toBe('STORAGE_QUERY_FAILED');
      expect(await s.migrate('test', [v1, v2])).toEqual({ applied: [2], version: 2 });
    });

    it('runs a code step in the migration transaction, once, and checks it by its name', async () => {
      const s = await backend.open();
      await s.migrate('test', [v1]);
      await s.insertMany(
        'test_accounts',
        ['id', 'owner'],
        [
          [1n, 'alice'],
          [2n, 'bob'],
        ],
      );
      let runs = 0;
      const upper: Migration = {
        version: 2,
        name: 'owners in capitals',
        up: async (tx) => {
          runs++;
          for (const r of await tx.query<{ id: bigint; owner: string }>(
            'SELECT id, owner FROM test_accounts',
          )) {
            await tx.execute('UPDATE test_accounts SET owner = $1 WHERE id = $2', [
              r.owner.toUpperCase(),
              r.id,
            ]);
          }
        },
      };
      expect(await s.migrate('test', [v1, upper])).toEqual({ applied: [2], version: 2 });
      expect(await s.migrate('test', [v1, { ...upper, up: async () => {} }])).toEqual({
        applied: [],
        version: 2,
      });
      expect(runs).toBe(1);
      expect(await s.query('SELECT owner FROM test_accounts ORDER BY id')).toEqual([
        { owner: 'ALICE' },
        { owner: 'BOB' },
      ]);
      const renamed = await s.migrate('test', [v1, { ...upper, name: 'renamed' }]).catch((e) => e);
      expect((renamed as Error).message).toMatch(/test v2 .* was changed after it was applied/);
      // A code step and a SQL migration of the same name differ.
      const asSql = await s.migrate('test', [v1, { ...upper, up: 'SELECT 1' }]).catch((e) => e);
      expect(isWeftError(asSql, StorageErrors.MIGRATION_FAILED)).toBe(true);
    });

    it('rolls back a failing code step with everything it wrote', async () => {
      const s = await backend.open();
      await s.migrate('test', [v1]);
      const broken: Migration = {
        version: 2,
        name: 'half done',
        up: async (tx) => {
          await tx.execute('INSERT INTO test_accounts (id, owner) VALUES ($1, $2)', [1n, 'alice']);
          throw new Error('row 2 is unreadable');
        },
      };
      const error = await s.migrate('test', [v1, broken]).catch((e) => e);
      expect(isWeftError(error, StorageErrors.MIGRATION_FAILED)).toBe(true);
      expect((error as Error).message).toMatch(
        /test v2 \(half done\) failed and was rolled back: row 2 is unreadable/,
      );
      expect(await applied(s)).toEqual([1n]);
      expect(await count(s, 'test_accounts')).toBe(0n);
    });

    it('rejects badly numbered migrations', async () => {
      const s = await backend.open();
      expect(await codeOf(s.migrate('test', [v2]))).toBe('MIGRATION_FAILED');
      expect(await codeOf(s.migrate('test', [v1, v3]))).toBe('MIGRATION_FAILED');
      expect(await codeOf(s.migrate('Bad-Name', [v1]))).toBe('MIGRATION_FAILED');
    });

    it('applies each migration once when two storages migrate the same database at once', async () => {
      const config = backend.freshConfig();
      const [a, b] = await Promise.all([backend.open(config), backend.open(config)]);
      // Without IF NOT EXISTS, running any migration twice would fail.
      const results = await Promise.all([a.migrate('test', [v1, v2, v3]), b.migrate('test', [v1, v2, v3])]);
      expect(results.map((r) => r.version)).toEqual([3, 3]);
      expect([...results[0]!.applied, ...results[1]!.applied].sort()).toEqual([1, 2, 3]);
      expect(await applied(a)).toEqual([1n, 2n, 3n]);
    });
  });

  describe('lifecycle', () => {
    it('answers health checks and fails cleanly once closed', async () => {
      const s = await backend.open();
      await expect(s.health()).resolves.toBeUndefined();
      await s.close();
      await s.close();
      const error = await s.query('SELECT 1 AS x').catch((e) => e);
      expect(isWeftError(error, StorageErrors.STORAGE_UNAVAILABLE)).toBe(true);
      expect((error as WeftError).retryable).toBe(true);
      expect(await codeOf(s.health())).toBe('STORAGE_UNAVAILABLE');
      expect(await codeOf(s.transaction(async () => 1))).toBe('STORAGE_UNAVAILABLE');
    });

    it('lets close wait for a running transaction', async () => {
      const config = backend.freshConfig();
      const s = await withItems(await backend.open(config));
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const running = s.transaction(async (tx) => {
        await tx.execute('INSERT INTO items (id) VALUES ($1)', [1n]);
        await gate;
        await tx.execute('INSERT INTO items (id) VALUES ($1)', [2n]);
      });
      await new Promise((r) => setTimeout(r, 20));
      const closing = s.close();
      release();
      await running;
      await closing;
      expect(await count(await backend.open(config))).toBe(2n);
    });
  });
});
