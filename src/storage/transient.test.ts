import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CommonErrors, WeftError } from '../errors/index.js';
import { ManualClock } from '../time/index.js';
import { StorageErrors } from './errors.js';
import { isTransientStorageError, retryTransient, storageRetryPolicy } from './transient.js';

const logger = pino({ level: 'silent' });

function pgError(code: string): pg.DatabaseError {
  const e = new pg.DatabaseError('server says no', 0, 'error');
  e.code = code;
  return e;
}

const unavailable = (cause?: unknown) =>
  new WeftError(StorageErrors.STORAGE_UNAVAILABLE, 'down', {}, cause === undefined ? undefined : { cause });

describe('isTransientStorageError', () => {
  it.each([
    ['a terminated backend', unavailable(pgError('57P01'))],
    ['a server starting up', unavailable(pgError('57P03'))],
    ['a connection failure', unavailable(pgError('08006'))],
    ['too many connections', unavailable(pgError('53300'))],
    ['a reset socket', unavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))],
    ['a terminated connection', unavailable(new Error('Connection terminated unexpectedly'))],
    ['a full disk', unavailable(Object.assign(new Error('full'), { code: 'SQLITE_FULL' }))],
    ['a serialization failure', new WeftError(StorageErrors.STORAGE_CONTENTION, 'conflict')],
    [
      'a storage error wrapped by a component',
      new WeftError(CommonErrors.INTERNAL, 'topology', {}, { cause: unavailable(pgError('57P01')) }),
    ],
  ])('%s is transient', (_, e) => {
    expect(isTransientStorageError(e)).toBe(true);
  });

  it.each([
    ['a closed storage', unavailable()],
    ['wrong credentials', unavailable(pgError('28P01'))],
    ['a missing database', unavailable(pgError('3D000'))],
    ['a corrupt SQLite file', unavailable(Object.assign(new Error('malformed'), { code: 'SQLITE_CORRUPT' }))],
    ['a duplicate key', new WeftError(StorageErrors.STORAGE_CONSTRAINT_VIOLATION, 'dup')],
    ['a schema from the future', new WeftError(StorageErrors.MIGRATION_FAILED, 'newer')],
    ['a bug', new Error('undefined is not a function')],
    ['a non-error', 'down'],
  ])('%s is not transient', (_, e) => {
    expect(isTransientStorageError(e)).toBe(false);
  });
});

describe('retryTransient', () => {
  /** Lets the retry loop reach its next sleep. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('retries transient failures with doubling delays up to the bound, then returns the result', async () => {
    const clock = new ManualClock(0n);
    const attempts: bigint[] = [];
    const retries: number[] = [];
    let recovered = 0;
    const result = retryTransient(
      async (n) => {
        attempts.push(clock.now() / 1000n);
        if (n < 5) throw unavailable(pgError('57P01'));
        return 'done';
      },
      {
        clock,
        logger,
        what: 'a test write',
        policy: storageRetryPolicy({ initialDelayMs: 10, maxDelayMs: 40 }),
        onRetry: (_, attempt) => retries.push(attempt),
        onRecovered: () => recovered++,
      },
    );
    for (let i = 0; i < 5; i++) {
      await settle();
      clock.advance(clock.nextDue() === undefined ? 0 : Number(clock.nextDue()! - clock.now()) / 1000);
    }
    await expect(result).resolves.toBe('done');
    // Waits of 10, 20, 40, 40, 40 ms.
    expect(attempts).toEqual([0n, 10n, 30n, 70n, 110n, 150n]);
    expect(retries).toEqual([1, 2, 3, 4, 5]);
    expect(recovered).toBe(1);
  });

  it('throws a non-transient failure at once', async () => {
    const clock = new ManualClock(0n);
    let calls = 0;
    const duplicate = new WeftError(StorageErrors.STORAGE_CONSTRAINT_VIOLATION, 'dup');
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw duplicate;
        },
        { clock, logger, what: 'a test write' },
      ),
    ).rejects.toBe(duplicate);
    expect(calls).toBe(1);
  });

  it('stops waiting when its signal aborts, with the last failure', async () => {
    const clock = new ManualClock(0n);
    const stop = new AbortController();
    const failure = unavailable(pgError('08006'));
    const result = retryTransient(
      async () => {
        throw failure;
      },
      { clock, logger, what: 'a test read', signal: stop.signal },
    );
    await settle();
    stop.abort();
    await expect(result).rejects.toBe(failure);
  });

  it('refuses policies without bounds', () => {
    expect(() => storageRetryPolicy({ initialDelayMs: 0 })).toThrow(/initial-delay-ms/);
    expect(() => storageRetryPolicy({ initialDelayMs: 100, maxDelayMs: 50 })).toThrow(/max-delay-ms/);
    expect(() => storageRetryPolicy({ maxDelayMs: 600_000 })).toThrow(/60000/);
    expect(storageRetryPolicy()).toEqual({ initialDelayMs: 50, maxDelayMs: 2_000 });
  });
});
