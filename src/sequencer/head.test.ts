import { pino } from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import { describeBackend } from '../storage/testing.js';
import { type Clock, ManualClock, sleep, systemClock } from '../time/index.js';
import { EventsBuffer, bufferedEvent as handed } from './events-buffer.js';
import { DeliveryHead } from './head.js';
import { BROADCAST_RECIPIENT, type NewEvent, SequencerStore } from './store.js';

const logger = pino({ level: 'silent' });
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const TOTAL = 10;
/** A read of the watermarks takes milliseconds; a loaded machine may take far longer. */
const WAIT = { timeout: 10_000 };
const member = { id: 1n, member: 'm1', registeredTs: 0n };

function newEvent(ts: bigint, recipientIds: bigint[], isTopology = false): NewEvent {
  return {
    ts,
    kind: 'deliver',
    senderId: 2n,
    messageId: `msg${ts}`,
    isTopology,
    payload: new Uint8Array([1, 2, 3]),
    recipientIds,
  };
}

describeBackend('sqlite', 'the delivery head', (backend) => {
  const base = (systemClock.now() / 10n) * 10n;
  /** The k-th timestamp of slot `index` after the start. */
  const t = (k: number, index: number) => base + BigInt(k * TOTAL + index);

  /** A head whose node shares the store with a second writer, online; it polls only once a minute by default. */
  async function setup(clock: Clock = systemClock, poll = { ms: 60_000, aloneMs: 60_000 }) {
    const store = new SequencerStore(await backend.open());
    await store.migrate();
    const own = await store.acquireSlot('own', 'o', TOTAL, 0n, true);
    const buffer = new EventsBuffer({ maxEvents: 100, maxBytes: 1 << 20 });
    buffer.joined(await store.recoverAndGoOnline(own, 'o', base));
    const other = await store.acquireSlot('other', 'x', TOTAL, 0n, true);
    await store.recoverAndGoOnline(other, 'x', base);
    const head = new DeliveryHead(
      store,
      buffer,
      clock,
      poll,
      logger,
      () => own,
      () => {},
    );
    await head.start();
    stops.push(() => head.stop());
    /** Lets the head read the watermarks again. */
    const refresh = async () => {
      head.poke();
      await sleep(systemClock, 50);
    };
    return { store, buffer, head, own, other, refresh };
  }

  it("goes no further than the local writer's events were handed over", async () => {
    const { store, buffer, head, own, other, refresh } = await setup();
    await store.goOffline(other, 'x');
    await refresh();
    expect(head.current.safe).toBe(base);
    const e = newEvent(t(1, own), [member.id]);
    await store.writeEvents(own, 'o', [e], e.ts);
    // Committed, not yet handed over: the database shows the watermark, the head does not take it.
    await refresh();
    expect(head.current.safe).toBe(base);
    buffer.committed([handed(e, own)], e.ts);
    await refresh();
    expect(head.current.safe).toBe(e.ts);
    expect(buffer.read(member, base, e.ts, 10)?.map((r) => r.ts)).toEqual([e.ts]);
    expect([...head.current.touched]).toEqual([member.id]);
  });

  it('reads a range from the database after a failed fill, not trusting the buffer with it', async () => {
    const { store, buffer, head, own, other, refresh } = await setup();
    const theirs = newEvent(t(1, other), [3n]);
    await store.writeEvents(other, 'x', [theirs], t(5, other));
    const mine = newEvent(t(2, own), [member.id]);
    await store.writeEvents(own, 'o', [mine], t(3, own));
    buffer.committed([handed(mine, own)], t(3, own));
    const read = store.readEventsBetween.bind(store);
    store.readEventsBetween = async () => {
      throw new Error('connection lost');
    };
    await refresh();
    expect(head.current.safe).toBe(base);
    store.readEventsBetween = read;
    await refresh();
    const h = head.current;
    expect(h.safe).toBe(t(3, own));
    // The local event taken by the failed fill is not lost: the range is the database's, and so is who it touches.
    expect(new Set(h.touched)).toEqual(new Set([member.id, 3n]));
    expect(buffer.read(member, base, h.safe, 10)).toBeUndefined();
    expect(buffer.from).toBe(h.safe);
  });

  it("merges the other writers' live events with the local ones, leaving dead ones out", async () => {
    const { store, buffer, head, own, other, refresh } = await setup();
    expect(head.current.safe).toBe(base);
    const live = newEvent(t(2, other), [BROADCAST_RECIPIENT], true);
    await store.writeEvents(other, 'x', [live], live.ts);
    // Written above its watermark, never confirmed: dead once its writer is offline.
    const dead = newEvent(t(3, other), [member.id]);
    await store.writeEvents(other, 'x', [dead], live.ts);
    await store.goOffline(other, 'x');
    const local = newEvent(t(4, own), [member.id, 3n]);
    await store.writeEvents(own, 'o', [local], local.ts);
    buffer.committed([handed(local, own)], local.ts);
    await refresh();
    const h = head.current;
    expect(h.safe).toBe(local.ts);
    expect(buffer.read(member, base, h.safe, 10)?.map((r) => r.ts)).toEqual([live.ts, local.ts]);
    expect(buffer.read({ ...member, id: 3n }, base, h.safe, 10)?.map((r) => r.ts)).toEqual([
      live.ts,
      local.ts,
    ]);
    expect(new Set(h.touched)).toEqual(new Set([BROADCAST_RECIPIENT, member.id, 3n]));
    expect(h.lastTopology).toBe(live.ts);
    // The database holds the dead event too; readers drop it by the head's deliverability, as they drop it here.
    expect((await store.readEvents(member, base, h.safe, 10)).map((r) => r.ts)).toEqual([
      live.ts,
      dead.ts,
      local.ts,
    ]);
  });

  it('polls at the alone interval while no other writer is online, at the usual one while another is', async () => {
    const clock = new ManualClock(base);
    const { store, head, other } = await setup(clock, { ms: 10, aloneMs: 250 });
    /** How far ahead the head's next poll is, once it has read the watermarks again. */
    const nextPollIn = async (ms: number) => {
      head.poke();
      await vi.waitFor(() => expect(clock.nextDue()! - clock.now()).toBe(BigInt(ms * 1000)), WAIT);
    };
    await nextPollIn(10);
    await store.goOffline(other, 'x');
    await nextPollIn(250);
    await store.recoverAndGoOnline(other, 'x', base);
    await nextPollIn(10);
    // The scheduled poll itself finds the other writer gone and slows down again.
    await store.goOffline(other, 'x');
    clock.advance(10);
    await vi.waitFor(() => expect(clock.nextDue()! - clock.now()).toBe(250_000n), WAIT);
  });
});
