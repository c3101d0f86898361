import pg from 'pg';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { WeftError } from '../errors/index.js';
import { type GroupCommitSettings, StorageErrors } from '../storage/index.js';
import { describeBackends } from '../storage/testing.js';
import { sleep, systemClock } from '../time/index.js';
import { Journal } from './journal.js';
import { emptyBatch, ParticipantStore, type UpdateRow, type WriteBatch } from './store.js';
import { commandRow } from './testing.js';

const logger = pino({ level: 'silent' });

const update = (offset: bigint): UpdateRow => ({
  offset,
  updateId: `update-${offset}`,
  synchronizerId: 'sync',
  requestId: offset * 10n,
  ledgerTime: 1n,
  workflowId: '',
  transaction: new Uint8Array([1]),
  submission: undefined,
  parties: ['alice'],
});

/** A lost connection as the PostgreSQL driver reports it. */
function connectionLost(): WeftError {
  const cause = new pg.DatabaseError('terminating connection due to administrator command', 0, 'error');
  cause.code = '57P01';
  return new WeftError(StorageErrors.STORAGE_UNAVAILABLE, 'PostgreSQL is unavailable', {}, { cause });
}

/**
 * The participant's real store with faults injected into its batch writes: `before` fails an attempt before it
 * writes, `after` fails it once it committed (the answer lost with the connection).
 */
function faulty(store: ParticipantStore) {
  const faults: { when: 'before' | 'after'; error: WeftError }[] = [];
  let attempts = 0;
  const wrapped = Object.create(store) as ParticipantStore;
  wrapped.write = async (b: WriteBatch) => {
    attempts++;
    const fault = faults.shift();
    if (fault?.when === 'before') throw fault.error;
    await store.write(b);
    if (fault?.when === 'after') throw fault.error;
  };
  return {
    store: wrapped,
    inject: (when: 'before' | 'after', error: WeftError) => faults.push({ when, error }),
    get attempts() {
      return attempts;
    },
  };
}

function journalOn(store: ParticipantStore, groupCommit?: GroupCommitSettings) {
  const failures: unknown[] = [];
  const journal = new Journal(
    store,
    systemClock,
    logger,
    0n,
    1000,
    (e) => failures.push(e),
    { initialDelayMs: 5, maxDelayMs: 20 },
    groupCommit,
  );
  return { journal, failures };
}

describeBackends('the participant journal', (backend) => {
  it('retries a batch whose write failed transiently, and writes it once', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const f = faulty(store);
    const { journal, failures } = journalOn(f.store);
    f.inject('before', connectionLost());
    f.inject('before', new WeftError(StorageErrors.STORAGE_CONTENTION, 'deadlock detected'));
    let durable = 0;
    const offset = journal.nextOffset();
    journal.write([{ offset, fill: (b) => b.updates.push(update(offset)), durable: () => durable++ }]);
    await journal.flush();
    expect(f.attempts).toBe(3);
    expect(durable).toBe(1);
    expect(failures).toEqual([]);
    expect(journal.stalled).toBeUndefined();
    expect(journal.durableOffset).toBe(1n);
    expect(await store.ledgerEnd()).toBe(1n);
  });

  it('does not write again a batch that committed although its answer was lost', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const f = faulty(store);
    const { journal, failures } = journalOn(f.store);
    f.inject('after', connectionLost());
    let durable = 0;
    const offset = journal.nextOffset();
    journal.write([{ offset, fill: (b) => b.updates.push(update(offset)), durable: () => durable++ }]);
    await journal.flush();
    // The retry found the batch's offset durable: writing its update again would have been a duplicate key.
    expect(f.attempts).toBe(1);
    expect(durable).toBe(1);
    expect(failures).toEqual([]);
    const next = journal.nextOffset();
    journal.write([{ offset: next, fill: (b) => b.updates.push(update(next)) }]);
    await journal.flush();
    expect(await store.ledgerEnd()).toBe(2n);
  });

  it('registers commands in flight in the batch of the effects written with them, once per change id', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const f = faulty(store);
    const { journal, failures } = journalOn(f.store);
    const command = (messageId: string) => commandRow('change', messageId);
    // Its commit's answer lost: the repeat finds the command's own entry, which counts as registered.
    f.inject('after', connectionLost());
    const [first, second] = await Promise.all([
      journal.startCommand(command('m1'), 0n),
      journal.startCommand(command('m2'), 0n),
    ]);
    expect([first, second]).toEqual([true, false]);
    expect(f.attempts).toBe(2);
    // Rejected, so that it may be submitted again; then with the effects of an event: one write for both.
    await store.write(
      (() => {
        const b = emptyBatch();
        b.commands.push({ changeId: 'change', completionOffset: 1n, completedAt: 20n });
        b.completions.push({
          offset: 1n,
          changeId: 'change',
          commandId: 'cmd-change',
          userId: 'u',
          submissionId: '',
          actAs: ['alice'],
          code: 'REJECTED',
          message: 'rejected',
          deduplicationPeriod: undefined,
          updateId: undefined,
          requestId: undefined,
          recordTime: 20n,
          synchronizerId: 'sync',
        });
        return b;
      })(),
    );
    const offset = journal.nextOffset() + 1n;
    journal.write([{ offset, fill: (b) => b.updates.push(update(offset)) }]);
    expect(await journal.startCommand(command('m3'), 0n)).toBe(true);
    expect(f.attempts).toBe(3);
    expect(failures).toEqual([]);
    expect((await store.commandsInFlight('sync')).map((c) => c.messageId)).toEqual(['m3']);
    expect(await store.ledgerEnd()).toBe(2n);
  });

  it('writes a lone effect at once, and gathers a stream of effects into few commits within its window', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const f = faulty(store);
    const { journal, failures } = journalOn(f.store, { maxDelayMs: 1000, maxBatch: 256 });
    const add = () => {
      const offset = journal.nextOffset();
      return new Promise<void>((resolve) =>
        journal.write([{ offset, fill: (b) => b.updates.push(update(offset)), durable: resolve }]),
      );
    };
    const started = performance.now();
    await add();
    // The window would be a second long: a lone effect does not wait for it.
    expect(performance.now() - started).toBeLessThan(500);
    expect(f.attempts).toBe(1);
    const durable: Promise<void>[] = [];
    // A burst first (work that overlaps), then a stream 1 ms apart.
    for (let i = 0; i < 200; i++) {
      durable.push(add());
      if (i >= 5) await sleep(systemClock, 1);
    }
    await Promise.all(durable);
    // A few commits until the moving average of the gaps says the load is there, then whole windows at once.
    expect(f.attempts - 1).toBeLessThan(25);
    expect(failures).toEqual([]);
    expect(await store.ledgerEnd()).toBe(201n);
  });

  it('does not hold a flush or a closed loop of writes for the window', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const { journal } = journalOn(store, { maxDelayMs: 1000, maxBatch: 256 });
    const started = performance.now();
    // Each write awaited before the next, as a script building a ledger: a one-second window would show.
    for (let i = 0; i < 20; i++) {
      const offset = journal.nextOffset();
      journal.write([{ offset, fill: (b) => b.updates.push(update(offset)) }]);
      await journal.flush();
    }
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await store.ledgerEnd()).toBe(20n);
  });

  it('stops the participant on a failure that is not transient', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const f = faulty(store);
    const { journal, failures } = journalOn(f.store);
    const corrupt = new WeftError(StorageErrors.STORAGE_QUERY_FAILED, 'database disk image is malformed');
    f.inject('before', corrupt);
    const offset = journal.nextOffset();
    journal.write([{ offset, fill: (b) => b.updates.push(update(offset)) }]);
    await expect(journal.flush()).rejects.toBe(corrupt);
    expect(f.attempts).toBe(1);
    expect(failures).toEqual([corrupt]);
    expect(await store.ledgerEnd()).toBe(0n);
  });
});
