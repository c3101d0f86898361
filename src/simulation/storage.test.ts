import { describe, expect, it } from 'vitest';
import { openStorage, StorageErrors } from '../storage/index.js';
import { FaultyStorage } from './storage.js';

describe('FaultyStorage', () => {
  it('fails the armed write once, rolling its transaction back, and counts writes across transactions', async () => {
    const db = await openStorage({ kind: 'sqlite', path: ':memory:' });
    let writes = 0;
    const storage = new FaultyStorage(db, () => writes++);
    await storage.execute('CREATE TABLE t (k INTEGER PRIMARY KEY)');
    const faults: number[] = [];
    storage.arm(2, (write) => faults.push(write));
    expect(storage.armed).toBe(true);
    await storage.execute('INSERT INTO t VALUES (1)');
    await expect(
      storage.transaction(async (tx) => {
        await tx.execute('INSERT INTO t VALUES (2)');
        await tx.insertMany('t', ['k'], [[3n]]);
      }),
    ).rejects.toMatchObject({ code: StorageErrors.STORAGE_UNAVAILABLE.code });
    expect(faults).toEqual([3]);
    expect(storage.armed).toBe(false);
    expect((await storage.query<{ k: bigint }>('SELECT k FROM t ORDER BY k')).map((r) => r.k)).toEqual([1n]);
    await storage.transaction((tx) => tx.insertMany('t', ['k'], [[2n], [3n]]));
    expect(await storage.query('SELECT k FROM t')).toHaveLength(3);
    expect(writes).toBe(5);
    await db.close();
  });
});
