import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../daml/dar/testing.js';
import { loadEngine } from '../daml/engine/testing.js';
import type { Engine } from '../daml/index.js';
import { describeBackends } from '../storage/testing.js';
import { tokenReadLedger } from './reads-testing.js';
import { RecentUpdates } from './recent-updates.js';
import type { UpdateRow } from './store.js';
import { tokenCommands } from './testing.js';

const row = (offset: bigint, parties: string[], events?: Uint8Array): UpdateRow => ({
  offset,
  updateId: `u${offset}`,
  synchronizerId: 'sync::1220aa',
  requestId: 100n + offset,
  ledgerTime: 7n,
  workflowId: '',
  transaction: Uint8Array.of(Number(offset)),
  events,
  submission: undefined,
  parties,
});
/** The rows with plain byte arrays: the database hands back Buffers, the journal's rows hold Uint8Arrays. */
const plain = <T extends object>(rows: readonly T[] | undefined) =>
  rows?.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? new Uint8Array(v) : v]),
    ),
  );
const offsets = (rows: readonly { offset: bigint }[] | undefined) => rows?.map((r) => r.offset);

describe('recent updates', () => {
  it('serves ranges by witness, in offset order and up to a limit, from the durable offset it started at', () => {
    const recent = new RecentUpdates(10, 3n);
    recent.written([row(4n, ['alice']), row(6n, ['bob'])]);
    recent.written([row(7n, ['alice', 'bob'])]);
    expect(offsets(recent.updates('alice', 3n, 7n, 10))).toEqual([4n, 7n]);
    expect(offsets(recent.updates(['bob', 'carol'], 3n, 7n, 10))).toEqual([6n, 7n]);
    expect(offsets(recent.updates(undefined, 4n, 6n, 10))).toEqual([6n]);
    expect(offsets(recent.updates(undefined, 3n, 7n, 2))).toEqual([4n, 6n]);
    expect(offsets(recent.updates('carol', 3n, 7n, 10))).toEqual([]);
    // Before where it started, it cannot know what it misses.
    expect(recent.updates('alice', 2n, 7n, 10)).toBeUndefined();
  });

  it('forgets the oldest beyond its capacity and says from where it holds everything', () => {
    const recent = new RecentUpdates(3, 0n);
    for (let o = 1n; o <= 8n; o++) recent.written([row(o, ['alice'])]);
    expect(recent.from).toBe(5n);
    expect(recent.updates('alice', 4n, 8n, 10)).toBeUndefined();
    expect(offsets(recent.updates('alice', 5n, 8n, 10))).toEqual([6n, 7n, 8n]);
    expect(offsets(recent.updates('alice', 7n, 8n, 10))).toEqual([8n]);
  });

  it('gives the transaction to indexed readers only where there are no pre-encoded events', () => {
    const recent = new RecentUpdates(10, 0n);
    recent.written([row(1n, ['alice'], Uint8Array.of(9)), row(2n, ['alice'])]);
    const [indexed, plain] = recent.indexedUpdates('alice', 0n, 2n, 10)!;
    expect(indexed).toMatchObject({ offset: 1n, events: Uint8Array.of(9) });
    expect(indexed!.transaction).toBeUndefined();
    expect(plain).toMatchObject({ offset: 2n, transaction: Uint8Array.of(2) });
    expect(plain!.events).toBeUndefined();
  });

  it('holds nothing at capacity 0, and starts over should offsets ever not grow', () => {
    const none = new RecentUpdates(0, 0n);
    none.written([row(1n, ['alice'])]);
    expect(none.updates('alice', 0n, 1n, 10)).toBeUndefined();
    const recent = new RecentUpdates(10, 0n);
    recent.written([row(1n, ['alice']), row(5n, ['alice'])]);
    recent.written([row(3n, ['alice'])]);
    expect(recent.updates('alice', 0n, 5n, 10)).toBeUndefined();
    expect(offsets(recent.updates('alice', 5n, 5n, 10))).toEqual([]);
  });
});

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

describeBackends('recent updates against the store', (backend) => {
  it('reads exactly what the store reads back, for every party, range and limit', async () => {
    const bytes = () => Uint8Array.of(1);
    const ledger = await tokenReadLedger(await backend.open(), engine, undefined, {
      created: bytes,
      exercised: bytes,
      archived: bytes,
    });
    // From here on it sees every batch, as the participant's read side does from its start.
    const start = ledger.journal.durableOffset;
    const recent = new RecentUpdates(64, start);
    ledger.journal.onWritten((batch) => recent.written(batch.updates));
    await ledger.accept();
    for (const [owner, id] of [
      ['alice', 'm2'],
      ['bob', 'm3'],
      ['alice', 'm4'],
    ] as const) {
      const mint = await ledger.model.submit(
        ['admin', owner],
        [tokenCommands.mint('admin', owner, '1.0', id)],
      );
      await ledger.commit(mint.tx, { commandId: id, actAs: ['admin', owner] });
    }
    const end = ledger.journal.durableOffset;
    expect(end - start).toBe(4n);
    for (const parties of ['admin', 'alice', 'bob', 'carol', ['alice', 'bob'], undefined] as const) {
      for (let after = start; after <= end; after++) {
        for (const limit of [1, 2, 100]) {
          expect(plain(recent.updates(parties, after, end, limit))).toEqual(
            plain(await ledger.store.updates(parties, after, end, limit)),
          );
          expect(plain(recent.indexedUpdates(parties, after, end, limit))).toEqual(
            plain(await ledger.store.indexedUpdates(parties, after, end, limit)),
          );
        }
      }
    }
    expect(recent.updates('alice', start - 1n, end, 100)).toBeUndefined();
  });
});
