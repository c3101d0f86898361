import type { SqlValue } from '../../src/storage/index.js';

/** The table and rows shared by kill.test.ts and its child process. */
export const TABLE = 'kill_rows';
export const COLUMNS = ['id', 'payload'] as const;
export const COMMITTED = 1_000;
export const PER_STATEMENT = 4_000;
/** 4 MB per statement: by "mid" the transaction outgrows the 16 MB page cache and SQLite spills it into the WAL. */
export const PAYLOAD_BYTES = 1_000;

export const MIGRATIONS = [
  {
    version: 1,
    name: 'rows',
    up: `CREATE TABLE ${TABLE} (id BIGINT NOT NULL PRIMARY KEY, payload BYTEA NOT NULL)`,
  },
];

export function rows(first: number, n: number): SqlValue[][] {
  return Array.from({ length: n }, (_, i) => [
    BigInt(first + i),
    Buffer.alloc(PAYLOAD_BYTES, (first + i) & 0xff),
  ]);
}
