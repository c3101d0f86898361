import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeBackends } from '../../src/storage/testing.js';
import { COLUMNS, COMMITTED, MIGRATIONS, PER_STATEMENT, rows, TABLE } from './kill-rows.js';

const CHILD = fileURLToPath(new URL('./kill-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Resolves when the child prints `line`; rejects if it exits first. */
function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(line)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited early (${code ?? signal})`)));
  });
}

describeBackends('storage kill test', (backend) => {
  it('keeps committed rows and none of a transaction whose process was SIGKILLed mid-way', async () => {
    const config = backend.freshConfig();
    const setup = await backend.open(config);
    await setup.migrate('killtest', MIGRATIONS);
    await setup.close();

    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    await waitForLine(child, 'mid');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    if (config.kind === 'sqlite') {
      // The killed transaction reached the disk: the WAL holds its uncommitted frames, which recovery must ignore.
      expect(statSync(`${config.path}-wal`).size).toBeGreaterThan(4_000_000);
    }
    // Reopening recovers the database (SQLite: a WAL holding uncommitted frames; PostgreSQL: an aborted session).
    const s = await backend.open(config);
    await s.health();
    expect(await s.queryOne(`SELECT COUNT(*) AS n, MAX(id) AS top FROM ${TABLE}`)).toEqual({
      n: BigInt(COMMITTED),
      top: BigInt(COMMITTED - 1),
    });
    // The killed transaction's keys are free again and its locks are gone.
    const again = rows(COMMITTED, 2 * PER_STATEMENT);
    expect(await s.insertMany(TABLE, COLUMNS, again)).toBe(again.length);
    expect(await s.queryOne(`SELECT COUNT(*) AS n FROM ${TABLE}`)).toEqual({
      n: BigInt(COMMITTED + again.length),
    });
    if (s.kind === 'sqlite')
      expect(await s.query('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(await s.migrate('killtest', MIGRATIONS)).toEqual({ applied: [], version: 1 });
  });
});
