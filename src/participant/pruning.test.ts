import { expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { createLogger } from '../observability/index.js';
import { describeBackends } from '../storage/testing.js';
import { ParticipantPruning, PruningErrors } from './pruning.js';
import { type CommandRow, emptyBatch, ParticipantStore, type WriteBatch } from './store.js';

const logger = createLogger({ level: 'silent' });
const SYNC = 'sync::1220aa';

/** A history of `n` transactions: transaction i (offset i, request 1000+i) creates c<i> and archives c<i-1>. */
function history(n: number): WriteBatch {
  const b = emptyBatch();
  for (let i = 1; i <= n; i++) {
    b.contracts.push({
      contractId: `c${i}`,
      synchronizerId: SYNC,
      templateId: 't',
      contract: Buffer.from(`contract ${i}`),
      createdAt: BigInt(i),
      createdOffset: BigInt(i),
    });
    b.contractParties.push({ party: 'alice', contractId: `c${i}`, stakeholder: true });
    if (i > 1) b.archivals.push({ contractId: `c${i - 1}`, offset: BigInt(i) });
    b.updates.push({
      offset: BigInt(i),
      updateId: `u${i}`,
      synchronizerId: SYNC,
      requestId: BigInt(1000 + i),
      ledgerTime: BigInt(i),
      workflowId: '',
      transaction: Buffer.from(`tx ${i}`),
      submission: { commandId: `cmd${i}`, actAs: ['alice'] },
      parties: ['alice'],
    });
    b.completions.push({
      offset: BigInt(i),
      changeId: `change${i}`,
      commandId: `cmd${i}`,
      userId: 'app',
      submissionId: `s${i}`,
      actAs: ['alice'],
      code: undefined,
      message: '',
      updateId: `u${i}`,
      requestId: BigInt(1000 + i),
      recordTime: BigInt(1000 + i),
      synchronizerId: SYNC,
      deduplicationPeriod: undefined,
    });
    b.requests.push({
      synchronizerId: SYNC,
      requestId: BigInt(1000 + i),
      rootHash: `r${i}`,
      outcome: 'approved',
      decidedAt: BigInt(1000 + i),
    });
  }
  // A divulged contract (no offset of its own), seen at ledger time 2.
  b.contracts.push({
    contractId: 'div',
    synchronizerId: SYNC,
    templateId: 't',
    contract: Buffer.from('d'),
    createdAt: 2n,
    createdOffset: undefined,
  });
  b.contractParties.push({ party: 'alice', contractId: 'div', stakeholder: false });
  // A contract created at offset 5 that alice only witnessed: immediately divulged, active.
  b.contracts.push({
    contractId: 'wit',
    synchronizerId: SYNC,
    templateId: 't',
    contract: Buffer.from('w'),
    createdAt: 5n,
    createdOffset: 5n,
  });
  b.contractParties.push({ party: 'alice', contractId: 'wit', stakeholder: false });
  b.cursors.set(SYNC, { counter: 10n, timestamp: 1000n + BigInt(n) - 2n });
  return b;
}

const command = (i: number): CommandRow => ({
  changeId: `change${i}`,
  commandId: `cmd${i}`,
  userId: 'app',
  submissionId: `s${i}`,
  actAs: ['alice'],
  messageId: `m${i}`,
  synchronizerId: SYNC,
  maxSequencingTime: 10_000n,
  submittedAt: BigInt(1000 + i),
  requestId: undefined,
  completionOffset: undefined,
  completedAt: undefined,
  deduplicationPeriod: undefined,
});

describeBackends('participant pruning', (backend) => {
  it('removes history at or below the offset, keeps what is live, and remembers how far', async () => {
    const storage = await backend.open();
    const store = await ParticipantStore.open(storage);
    await store.write(history(2500));
    // Command 3 is still inside its deduplication window: its completion must survive.
    await store.startCommand(command(3), 0n);
    const done = emptyBatch();
    done.commands.push({ changeId: 'change3', completionOffset: 3n, completedAt: 1003n });
    await store.write(done);

    const pruning = await ParticipantPruning.open(storage, logger);
    expect(pruning.prunedUpTo()).toBe(0n);
    await pruning.prune(2200n);
    expect(pruning.prunedUpTo()).toBe(2200n);

    const count = async (sql: string) => Number((await storage.queryOne<{ n: bigint }>(sql))?.n);
    expect(await count('SELECT COUNT(*) AS n FROM participant_updates')).toBe(300);
    expect(await count('SELECT MIN(update_offset) AS n FROM participant_updates')).toBe(2201);
    expect(
      await count('SELECT COUNT(*) AS n FROM participant_update_parties WHERE update_offset <= 2200'),
    ).toBe(0);
    expect(
      await count('SELECT COUNT(*) AS n FROM participant_completions WHERE completion_offset <= 2200'),
    ).toBe(1);
    expect((await store.commandState('change3'))?.completion?.offset).toBe(3n);
    // Contracts archived at or below the offset are gone, and so are the divulged ones (active or not); later and
    // active ones stay.
    expect(await count('SELECT COUNT(*) AS n FROM participant_contracts')).toBe(301);
    expect((await store.contracts(['c2500'])).length).toBe(1);
    expect(
      await count("SELECT COUNT(*) AS n FROM participant_contract_parties WHERE contract_id = 'c5'"),
    ).toBe(0);
    // Replay protection goes for the pruned requests (all before the clean cursor), stays for the later ones.
    expect(await store.decidedAfter(SYNC, 0n)).toEqual(
      Array.from({ length: 300 }, (_, i) => BigInt(3201 + i)),
    );
    expect(await store.ledgerEnd()).toBe(2500n);

    // The watermark survives a restart and never goes back.
    const reopened = await ParticipantPruning.open(storage, logger);
    expect(reopened.prunedUpTo()).toBe(2200n);
    await reopened.prune(100n);
    expect(reopened.prunedUpTo()).toBe(2200n);
    await reopened.prune(2300n);
    expect(reopened.prunedUpTo()).toBe(2300n);
    expect(await count('SELECT COUNT(*) AS n FROM participant_contracts')).toBe(201);
  });

  it('refuses offsets at or beyond the ledger end', async () => {
    const storage = await backend.open();
    const store = await ParticipantStore.open(storage);
    const pruning = await ParticipantPruning.open(storage, logger);
    await store.write(history(3));
    for (const offset of [3n, 4n]) {
      const e = await pruning.prune(offset).catch((err: unknown) => err);
      expect(isWeftError(e, PruningErrors.OFFSET_OUT_OF_RANGE)).toBe(true);
    }
    expect(pruning.prunedUpTo()).toBe(0n);
    await pruning.prune(2n);
    expect(pruning.prunedUpTo()).toBe(2n);
  });
});
