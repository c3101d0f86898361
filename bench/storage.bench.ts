/**
 * Storage write throughput: rows of (BIGINT id, INTEGER k, 500-byte BYTEA) with a primary key and an index on k,
 * written with insertMany in batches of 1, 100 and 1000 rows (one commit per batch), against one row per
 * explicit transaction (BEGIN; INSERT; COMMIT). SQLite is a WAL file with synchronous=FULL in the temp directory;
 * PostgreSQL is WEFT_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) in a throwaway schema.
 * Run: npx tsx bench/storage.bench.ts [--seconds 3] [--backend sqlite|postgres]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type SqlValue, type Storage, type StorageConfig } from '../src/storage/index.js';
import { postgresUnavailableReason, withPostgresSchema } from '../src/storage/testing.js';

interface Result {
  backend: string;
  name: string;
  batch: number;
  rows: number;
  rowsPerSec: number;
  commitsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  rssMiB: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const seconds = Number(arg('seconds') ?? 3);
const only = arg('backend');
const payloads = Array.from({ length: 256 }, () => randomBytes(500));
let nextId = 2n ** 53n; // ids beyond 2^53, as sequencer timestamps are

function makeRows(n: number): SqlValue[][] {
  return Array.from({ length: n }, () => {
    const id = nextId++;
    return [id, Number(id % 1000n), payloads[Number(id % 256n)]!];
  });
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Writes batches of `batch` rows with `write` for `seconds` after a short warm-up, timing each batch. */
async function measure(
  storage: Storage,
  name: string,
  batch: number,
  write: (table: string, rows: SqlValue[][]) => Promise<unknown>,
): Promise<Result> {
  const table = `bench_${name.toLowerCase().replace(/\W+/g, '_')}_${batch}`;
  await storage.execute(
    `CREATE TABLE ${table} (id BIGINT NOT NULL PRIMARY KEY, k INTEGER NOT NULL, payload BYTEA NOT NULL)`,
  );
  await storage.execute(`CREATE INDEX ${table}_k ON ${table} (k)`);
  for (let i = 0; i < 5; i++) await write(table, makeRows(batch));
  const samples: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const rows = makeRows(batch);
    const t0 = performance.now();
    await write(table, rows);
    samples.push(performance.now() - t0);
  }
  const elapsedSec = (performance.now() - start) / 1000;
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  const result: Result = {
    backend: storage.kind,
    name,
    batch,
    rows: samples.length * batch,
    rowsPerSec: Math.round((samples.length * batch) / elapsedSec),
    commitsPerSec: Math.round(samples.length / elapsedSec),
    p50Ms: round(pct(0.5)),
    p99Ms: round(pct(0.99)),
    rssMiB: round(process.memoryUsage().rss / 2 ** 20),
  };
  await storage.execute(`DROP TABLE ${table}`);
  return result;
}

async function run(config: StorageConfig): Promise<Result[]> {
  const storage = await openStorage(config);
  try {
    const results = [
      await measure(storage, 'one row per transaction', 1, (table, rows) =>
        storage.transaction((tx) =>
          tx.execute(`INSERT INTO ${table} (id, k, payload) VALUES ($1, $2, $3)`, rows[0]!),
        ),
      ),
    ];
    for (const batch of [1, 100, 1000]) {
      results.push(
        await measure(storage, 'insertMany', batch, (table, rows) =>
          storage.insertMany(table, ['id', 'k', 'payload'], rows),
        ),
      );
    }
    return results;
  } finally {
    await storage.close();
  }
}

const results: Result[] = [];
if (only === undefined || only === 'sqlite') {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-storage-'));
  try {
    results.push(...(await run({ kind: 'sqlite', path: join(dir, 'bench.sqlite') })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (only === undefined || only === 'postgres') {
  const reason = await postgresUnavailableReason();
  if (reason) console.log(`PostgreSQL skipped: ${reason}`);
  else results.push(...(await withPostgresSchema(run)));
}

console.log(
  `${'backend'.padEnd(9)}${'write pattern'.padEnd(26)}${'batch'.padStart(6)}${'rows/s'.padStart(10)}${'commits/s'.padStart(11)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'RSS MiB'.padStart(9)}`,
);
for (const r of results) {
  console.log(
    `${r.backend.padEnd(9)}${r.name.padEnd(26)}${String(r.batch).padStart(6)}${String(r.rowsPerSec).padStart(10)}${String(r.commitsPerSec).padStart(11)}${r.p50Ms.toFixed(2).padStart(9)}${r.p99Ms.toFixed(2).padStart(9)}${r.rssMiB.toFixed(1).padStart(9)}`,
  );
}
for (const backend of new Set(results.map((r) => r.backend))) {
  const single = results.find((r) => r.backend === backend && r.name === 'one row per transaction')!;
  const batched = results.find((r) => r.backend === backend && r.batch === 1000)!;
  console.log(
    `${backend}: insertMany batch 1000 vs one row per transaction: ${(batched.rowsPerSec / single.rowsPerSec).toFixed(1)}x rows/s`,
  );
}
for (const r of results) console.log(JSON.stringify({ bench: 'storage', ...r }));
