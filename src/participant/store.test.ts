import { expect, it } from 'vitest';
import { SerializedContract } from '../generated/weft/protocol/v1/transaction_tree.js';
import { describeBackends } from '../storage/testing.js';
import { emptyBatch, PARTICIPANT_MIGRATIONS, ParticipantStore, type WriteBatch } from './store.js';
import { commandRow } from './testing.js';

const command = commandRow;

function batch(fill: (b: WriteBatch) => void): WriteBatch {
  const b = emptyBatch();
  fill(b);
  return b;
}

describeBackends('participant store', (backend) => {
  it('writes a group commit in one transaction and reads it back', async () => {
    const store = await ParticipantStore.open(await backend.open());
    expect(await store.ledgerEnd()).toBe(0n);
    await store.write(
      batch((b) => {
        b.contracts.push(
          {
            contractId: 'c1',
            synchronizerId: 'sync',
            templateId: 't',
            contract: Buffer.from('one'),
            createdAt: 5n,
            createdOffset: 1n,
          },
          {
            contractId: 'c2',
            synchronizerId: 'sync',
            templateId: 't',
            contract: Buffer.from('two'),
            createdAt: 5n,
            createdOffset: 1n,
          },
        );
        b.contractParties.push(
          { party: 'alice', contractId: 'c1', stakeholder: true },
          { party: 'bob', contractId: 'c1', stakeholder: false },
          { party: 'alice', contractId: 'c2', stakeholder: true },
        );
        b.updates.push(
          {
            offset: 1n,
            updateId: 'u1',
            synchronizerId: 'sync',
            requestId: 1000n,
            ledgerTime: 5n,
            workflowId: 'w',
            transaction: Buffer.from('tx1'),
            submission: { commandId: 'cmd', actAs: ['alice'] },
            parties: ['alice', 'bob'],
          },
          {
            offset: 2n,
            updateId: 'u2',
            synchronizerId: 'other',
            requestId: 1001n,
            ledgerTime: 6n,
            workflowId: '',
            transaction: Buffer.from('tx2'),
            submission: undefined,
            parties: ['bob'],
          },
        );
        b.archivals.push({ contractId: 'c2', offset: 2n });
        b.requests.push(
          { synchronizerId: 'sync', requestId: 1000n, rootHash: 'r1', outcome: 'approved', decidedAt: 1000n },
          // Request ids are sequencing times of one synchronizer: another synchronizer may use the same.
          {
            synchronizerId: 'other',
            requestId: 1000n,
            rootHash: 'r2',
            outcome: 'rejected',
            decidedAt: 1000n,
          },
        );
        b.completions.push({
          offset: 3n,
          changeId: 'x',
          commandId: 'cmd-x',
          userId: 'u',
          submissionId: 's',
          actAs: ['alice'],
          code: 'LOCAL_VERDICT_LOCKED_CONTRACTS',
          message: 'locked',
          updateId: undefined,
          requestId: 1002n,
          recordTime: 1002n,
          synchronizerId: 'sync',
          deduplicationPeriod: { kind: 'duration', micros: 30_000_000n },
        });
        b.cursors.set('sync', { counter: 7n, timestamp: 1002n });
        b.cursors.set('other', { counter: 3n, timestamp: 1001n });
      }),
    );
    expect(await store.ledgerEnd()).toBe(3n);
    const active = await store.contracts(['c1', 'c2', 'unknown']);
    expect(
      active.map((a) => [
        a.row.contractId,
        a.row.synchronizerId,
        a.parties.map((p) => `${p.party}:${p.stakeholder}`).sort(),
      ]),
    ).toEqual([['c1', 'sync', ['alice:true', 'bob:false']]]);
    // As of an offset: c2 was active before its archival at offset 2; bob is no stakeholder of c1.
    const ids = async (party: string, asOf: bigint) =>
      (await store.activeContractsOf(party, asOf)).map((a) => a.row.contractId);
    expect(await ids('alice', 1n)).toEqual(['c1', 'c2']);
    expect(await ids('alice', 2n)).toEqual(['c1']);
    expect(await ids('alice', 0n)).toEqual([]);
    expect(await ids('bob', 2n)).toEqual([]);
    expect(await store.isArchived('c2', ['alice'])).toBe(true);
    expect(await store.isArchived('c2', ['bob'])).toBe(false);
    expect(await store.isArchived('c1', ['alice'])).toBe(false);
    expect((await store.updates('bob', 0n, 10n, 10)).map((u) => u.updateId)).toEqual(['u1', 'u2']);
    expect((await store.updates('bob', 1n, 10n, 10)).map((u) => u.updateId)).toEqual(['u2']);
    expect((await store.updates('bob', 0n, 1n, 10)).map((u) => u.updateId)).toEqual(['u1']);
    expect(await store.updates('alice', 0n, 10n, 1)).toMatchObject([
      { offset: 1n, submission: { commandId: 'cmd', actAs: ['alice'] }, transaction: Buffer.from('tx1') },
    ]);
    expect(await store.update('u2')).toMatchObject({ synchronizerId: 'other', submission: undefined });
    expect(await store.completions(0n, 10n, 10)).toMatchObject([
      {
        offset: 3n,
        code: 'LOCAL_VERDICT_LOCKED_CONTRACTS',
        actAs: ['alice'],
        updateId: undefined,
        synchronizerId: 'sync',
        deduplicationPeriod: { kind: 'duration', micros: 30_000_000n },
      },
    ]);
    expect(await store.decidedAfter('sync', 999n)).toEqual([1000n]);
    expect(await store.decidedAfter('sync', 1000n)).toEqual([]);
    expect(await store.decidedAfter('third', 0n)).toEqual([]);
    expect(await store.cursor('sync')).toEqual({ counter: 7n, timestamp: 1002n });
    expect(await store.cursor('other')).toEqual({ counter: 3n, timestamp: 1001n });
    await store.write(batch((b) => b.cursors.set('sync', { counter: 9n, timestamp: 1003n })));
    expect(await store.cursor('sync')).toEqual({ counter: 9n, timestamp: 1003n });
    expect(await store.cursor('other')).toEqual({ counter: 3n, timestamp: 1001n });
  });

  it('keeps a command id in flight, then blocks it for the deduplication window', async () => {
    const store = await ParticipantStore.open(await backend.open());
    expect(await store.startCommand(command('a', 'm1'), 0n)).toBe(true);
    expect(await store.startCommand(command('a', 'm2'), 0n)).toBe(false);
    expect((await store.commandsInFlight('sync')).map((c) => c.messageId)).toEqual(['m1']);
    expect(await store.commandsInFlight('other')).toEqual([]);
    await store.write(batch((b) => b.commands.push({ changeId: 'a', requestId: 50n })));
    expect((await store.command('a'))?.requestId).toBe(50n);
    await store.write(
      batch((b) => b.commands.push({ changeId: 'a', completionOffset: 4n, completedAt: 60n })),
    );
    expect(await store.commandsInFlight('sync')).toEqual([]);
    expect(await store.command('a')).toMatchObject({
      requestId: 50n,
      completionOffset: 4n,
      completedAt: 60n,
    });
    // Completed at 60: blocked while the window reaches back before 60, free once it does not.
    expect(await store.startCommand(command('a', 'm3'), 60n)).toBe(false);
    expect(await store.startCommand(command('a', 'm3'), 61n)).toBe(true);
    // A command never sent is forgotten.
    await store.dropCommand('a', 'm3');
    expect(await store.command('a')).toBeUndefined();
  });

  it('deduplicates only accepted commands, and gives a change id its latest completion', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const complete = (changeId: string, offset: bigint, code: string | undefined) =>
      store.write(
        batch((b) => {
          b.completions.push({
            offset,
            changeId,
            commandId: `cmd-${changeId}`,
            userId: 'u',
            submissionId: '',
            actAs: ['alice'],
            code,
            message: code ? 'rejected' : '',
            updateId: code ? undefined : `update-${offset}`,
            requestId: 50n,
            recordTime: 60n,
            synchronizerId: 'sync',
            deduplicationPeriod: { kind: 'offset', offset: 2n },
          });
          b.commands.push({ changeId, completionOffset: offset, completedAt: 60n });
        }),
      );
    expect(await store.commandState('a')).toBeUndefined();
    expect(await store.startCommand(command('a', 'm1'), 0n)).toBe(true);
    expect(await store.commandState('a')).toMatchObject({
      command: {
        messageId: 'm1',
        completionOffset: undefined,
        deduplicationPeriod: { kind: 'offset', offset: 3n },
      },
      completion: undefined,
    });
    await complete('a', 4n, 'LOCAL_VERDICT_LOCKED_CONTRACTS');
    expect((await store.commandState('a'))?.completion).toMatchObject({
      offset: 4n,
      code: 'LOCAL_VERDICT_LOCKED_CONTRACTS',
      deduplicationPeriod: { kind: 'offset', offset: 2n },
    });
    // Rejected: free at once, within the window.
    expect(await store.startCommand(command('a', 'm2'), 0n)).toBe(true);
    expect(await store.commandState('a')).toMatchObject({
      command: { messageId: 'm2' },
      completion: undefined,
    });
    await complete('a', 5n, undefined);
    expect((await store.commandState('a'))?.completion).toMatchObject({ offset: 5n, updateId: 'update-5' });
    // Accepted: blocked within the window.
    expect(await store.startCommand(command('a', 'm3'), 0n)).toBe(false);
    expect((await store.commandState('a'))?.command.messageId).toBe('m2');
  });

  it('assigns what a store of one synchronizer holds to that synchronizer when it upgrades', async () => {
    const storage = await backend.open();
    await storage.migrate('participant', PARTICIPANT_MIGRATIONS.slice(0, 1));
    await storage.execute(
      `INSERT INTO participant_contracts (contract_id, template_id, contract, created_at, created_offset)
       VALUES ('c1', 't', $1, 5, 1)`,
      // The framing before v3: creation time 5 (zig-zag 10), then the create node's 3 bytes with their length.
      [Buffer.from([10, 3, ...Buffer.from('one')])],
    );
    await storage.execute(
      "INSERT INTO participant_requests (request_id, root_hash, outcome, decided_at) VALUES (1000, 'r', 'approved', 1000)",
    );
    await storage.execute(
      "INSERT INTO participant_cursor (synchronizer_id, clean_counter, clean_timestamp) VALUES ('sync', 7, 1002)",
    );
    const store = await ParticipantStore.open(storage);
    const [contract] = await store.contracts(['c1']);
    expect(contract?.row.synchronizerId).toBe('sync');
    const { createdAt, createNode } = SerializedContract.fromBinary(contract!.row.contract);
    expect([createdAt, Buffer.from(createNode).toString()]).toEqual([5n, 'one']);
    expect(await store.decidedAfter('sync', 0n)).toEqual([1000n]);
  });

  it('reads the commands and completions stored before v4 as without a recorded deduplication period', async () => {
    const storage = await backend.open();
    await storage.migrate('participant', PARTICIPANT_MIGRATIONS.slice(0, 3));
    await storage.execute(
      `INSERT INTO participant_commands (change_id, command_id, user_id, submission_id, act_as, message_id,
         max_sequencing_time, submitted_at, completion_offset, completed_at, synchronizer_id)
       VALUES ('a', 'cmd-a', 'u', 's', '["alice"]', 'm1', 100, 10, 1, 20, 'sync')`,
    );
    await storage.execute(
      `INSERT INTO participant_completions (completion_offset, change_id, command_id, user_id, submission_id, act_as,
         message, update_id, record_time, synchronizer_id)
       VALUES (1, 'a', 'cmd-a', 'u', 's', '["alice"]', '', 'upd', 20, 'sync')`,
    );
    const store = await ParticipantStore.open(storage);
    expect(await store.commandState('a')).toMatchObject({
      command: { messageId: 'm1', deduplicationPeriod: undefined },
      completion: { offset: 1n, updateId: 'upd', deduplicationPeriod: undefined },
    });
  });

  it('stores the pre-encoded events of updates, and reads those stored before v5 as without them', async () => {
    const storage = await backend.open();
    await storage.migrate('participant', PARTICIPANT_MIGRATIONS.slice(0, 4));
    await storage.execute(
      `INSERT INTO participant_updates (update_offset, update_id, request_id, ledger_time, workflow_id,
         transaction_bytes, synchronizer_id)
       VALUES (1, 'upd-1', 1000, 5, '', $1, 'sync')`,
      [Buffer.from('tx1')],
    );
    const store = await ParticipantStore.open(storage);
    const update = (offset: bigint, events: Uint8Array | undefined) => ({
      offset,
      updateId: `upd-${offset}`,
      synchronizerId: 'sync',
      requestId: 1000n + offset,
      ledgerTime: 5n,
      workflowId: '',
      transaction: Buffer.from(`tx${offset}`),
      events,
      submission: undefined,
      parties: ['alice'],
    });
    await store.write(batch((b) => b.updates.push(update(2n, Buffer.from('events')), update(3n, undefined))));
    const rows = await store.updates(undefined, 0n, 3n, 10);
    expect(rows.map((r) => [r.offset, r.events && Buffer.from(r.events).toString()])).toEqual([
      [1n, undefined],
      [2n, 'events'],
      [3n, undefined],
    ]);
  });

  it('keeps DARs with their admin-workflow flag', async () => {
    const store = await ParticipantStore.open(await backend.open());
    const dar = { name: 'n', version: '1.0.0', dar: Buffer.from('zip'), uploadedAt: 1n };
    await store.saveDar({ ...dar, mainPackageId: 'p1', adminWorkflow: true });
    await store.saveDar({ ...dar, mainPackageId: 'p2', adminWorkflow: false, uploadedAt: 2n });
    await store.saveDar({ ...dar, mainPackageId: 'p1', adminWorkflow: true });
    expect((await store.dars()).map((d) => [d.mainPackageId, d.adminWorkflow])).toEqual([
      ['p1', true],
      ['p2', false],
    ]);
  });
});
