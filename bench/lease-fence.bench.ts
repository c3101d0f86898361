/**
 * What the storage lease's fence costs on PostgreSQL (docs/reliability.md, docs/architecture.md decision on the
 * fence): a storage opened under a lease begins every transaction with `BEGIN; SELECT
 * pg_advisory_xact_lock_shared(fence); SELECT epoch …` in one round trip, and runs a write outside a transaction in
 * one. Measured against the same storage without a lease: one-row INSERT transactions (BEGIN; INSERT; COMMIT),
 * one at a time and 8 concurrently (pool of 10), and autocommit one-row INSERTs, one at a time.
 * PostgreSQL is WEFT_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) in throwaway schemas.
 * Run: npx tsx bench/lease-fence.bench.ts [--seconds 3]
 */
import { openStorage, type Storage, type StorageConfig, tryAcquireLease } from '../src/storage/index.js';
import { postgresUnavailableReason, withPostgresSchema } from '../src/storage/testing.js';

const i = process.argv.indexOf('--seconds');
const seconds = i < 0 ? 3 : Number(process.argv[i + 1]);

interface Result {
  readonly storage: string;
  readonly workload: string;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `op` from `concurrency` loops for `seconds` after a short warm-up, timing each call. */
async function measure(concurrency: number, op: () => Promise<unknown>): Promise<[number, number, number]> {
  for (let w = 0; w < 20; w++) await op();
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        times.push(performance.now() - t);
      }
    }),
  );
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.floor(q * (times.length - 1))]! * 1000) / 1000;
  return [Math.round(times.length / seconds), at(0.5), at(0.99)];
}

async function run(name: string, storage: Storage): Promise<Result[]> {
  await storage.execute('CREATE TABLE bench (id BIGINT NOT NULL PRIMARY KEY, v TEXT NOT NULL)');
  let id = 0n;
  const insert = (q: Pick<Storage, 'execute'>) =>
    q.execute('INSERT INTO bench (id, v) VALUES ($1, $2)', [id++, 'x']);
  const results: Result[] = [];
  for (const [workload, concurrency, op] of [
    ['transaction, 1 at a time', 1, () => storage.transaction(insert)],
    ['transaction, 8 concurrent', 8, () => storage.transaction(insert)],
    ['autocommit insert, 1 at a time', 1, () => insert(storage)],
  ] as const) {
    const [perSec, p50Ms, p99Ms] = await measure(concurrency, op);
    results.push({ storage: name, workload, perSec, p50Ms, p99Ms });
  }
  return results;
}

const reason = await postgresUnavailableReason();
if (reason) {
  console.error(`skipped: ${reason}`);
  process.exit(1);
}
const results: Result[] = [];
await withPostgresSchema(async (config: StorageConfig) => {
  const storage = await openStorage(config);
  results.push(...(await run('plain', storage)));
  await storage.close();
});
await withPostgresSchema(async (config: StorageConfig) => {
  const attempt = await tryAcquireLease(config, { holder: 'bench' });
  if (!('lease' in attempt)) throw new Error('the fresh schema is leased already');
  const storage = await openStorage(config, undefined, attempt.lease);
  results.push(...(await run('leased (fenced)', storage)));
  await storage.close();
  await attempt.lease.release();
});
console.table(results);
