import { afterEach, expect, it } from 'vitest';
import { EnvelopeKind, SequencedEvent } from '../generated/weft/sequencer/v1/sequencing.js';
import type { Storage, StorageConfig } from '../storage/index.js';
import { describeBackend } from '../storage/testing.js';
import { systemClock } from '../time/index.js';
import { sequencerSettings } from './config.js';
import type { SequencerNode } from './node.js';
import {
  connect,
  envelope,
  type Recorder,
  soon,
  startSequencerNode,
  type TestSynchronizer,
  testSynchronizer,
  waitFor,
} from './testing.js';

// Delivery from the events buffer must be indistinguishable from delivery read back from the database: the same
// events, counters, timestamps and bytes, on every node sharing the database, after a crash and for a reader that
// catches up from far behind.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** Settings whose head refreshes only when the local writer commits, so that reads can be counted per commit. */
function settings(maxEvents: number, pokedOnly = false) {
  return sequencerSettings({
    'events-buffer': { 'max-events': maxEvents },
    'high-availability': pokedOnly
      ? {
          'keep-alive-interval-ms': 60_000,
          'poll-interval-ms': 60_000,
          'online-check-interval-ms': 60_000,
          'offline-duration-ms': 120_000,
        }
      : { 'keep-alive-interval-ms': 20, 'offline-duration-ms': 1000, 'online-check-interval-ms': 100 },
  });
}

/** The reads of the sequencer's event and watermark tables through `storage`, by what they read. */
function countingReads(storage: Storage): { storage: Storage; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const kind = (sql: string) =>
    /FROM sequencer_watermarks/.test(sql)
      ? 'watermarks'
      : /FROM sequencer_event_recipients r\s+JOIN sequencer_events/.test(sql)
        ? 'member events'
        : /FROM sequencer_events e\s+JOIN sequencer_event_recipients/.test(sql)
          ? 'range events'
          : /sequencer_events|sequencer_event_recipients/.test(sql)
            ? 'other events'
            : undefined;
  const proxy = new Proxy(storage, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop !== 'query' && prop !== 'queryOne') return value.bind(target);
      return (sql: string, params?: unknown[]) => {
        const k = kind(sql);
        if (k) reads.set(k, (reads.get(k) ?? 0) + 1);
        return value.call(target, sql, params);
      };
    },
  });
  return { storage: proxy, reads };
}

/** Streams `member`'s SequencedEvents from counter 0 off `node`, recording their bytes. */
function record(node: SequencerNode, member: string): Uint8Array[] {
  const events: Uint8Array[] = [];
  const stop = new AbortController();
  const done = node.sequencer
    .subscribe(
      member,
      0n,
      async (block) => {
        for (const e of block.events) events.push(e.event);
      },
      stop.signal,
    )
    .catch(() => {});
  cleanups.push(async () => {
    stop.abort();
    await done;
  });
  return events;
}

const decoded = (events: readonly Uint8Array[]) => events.map((e) => SequencedEvent.fromBinary(e));

async function untilAt(events: readonly Uint8Array[], ts: bigint, what: string): Promise<void> {
  await waitFor(what, () => events.length > 0 && decoded(events.slice(-1))[0]!.timestamp >= ts);
}

const broadcast = (text: string) => ({
  content: Buffer.from(text),
  recipients: [{ recipient: { oneofKind: 'allMembers' as const, allMembers: {} } }],
  kind: EnvelopeKind.PROTOCOL,
});

async function clients(sync: TestSynchronizer, endpoints: string[]): Promise<Recorder[]> {
  const all: Recorder[] = [];
  for (const p of sync.participants) {
    const r = await connect(sync, p, endpoints, { resendIntervalMs: 200 });
    cleanups.push(() => r.client.close());
    all.push(r);
  }
  return all;
}

/**
 * Rounds of sends from `senders` (in turn): to one member, to two, to all, and one too late (a deliver error);
 * then a broadcast, whose timestamp it returns: every member has all once it has that.
 */
async function traffic(
  sync: TestSynchronizer,
  senders: readonly Recorder[],
  rounds: number,
): Promise<bigint> {
  const [a0, a1, a2] = sync.participants.map((p) => p.id) as [string, string, string];
  for (let i = 0; i < rounds; i++) {
    const sender = senders[i % senders.length]!;
    const handles = [
      await sender.client.send({ envelopes: [envelope(`one${i}`, a1)], maxSequencingTime: soon() }),
      await sender.client.send({
        envelopes: [envelope(`two${i}`, a0, a2), envelope(`only${i}`, a2)],
        maxSequencingTime: soon(),
      }),
      await sender.client.send({ envelopes: [broadcast(`all${i}`)], maxSequencingTime: soon() }),
      await sender.client.send({ envelopes: [envelope(`late${i}`, a1)], maxSequencingTime: soon(-1000) }),
    ];
    await Promise.all(handles.map((h) => h.outcome));
  }
  const end = await senders[0]!.client.send({ envelopes: [broadcast('end')], maxSequencingTime: soon() });
  return (await end.outcome).timestamp;
}

describeBackend('sqlite', 'delivery from the events buffer', (backend) => {
  async function node(sync: TestSynchronizer, config: StorageConfig, maxEvents: number, pokedOnly = false) {
    const counted = countingReads(await backend.open(config));
    const { node } = await startSequencerNode(sync, {
      name: 'seq-a',
      storage: counted.storage,
      settings: settings(maxEvents, pokedOnly),
    });
    cleanups.push(() => node.stop());
    return { node, reads: counted.reads };
  }

  it('is identical to delivery from the database, and nothing is lost in a crash', async () => {
    const sync = testSynchronizer({ seed: 'buffer-same', participants: 3, now: systemClock.now() });
    const config = backend.freshConfig();
    const members = [...sync.participants.map((p) => p.id), sync.mediator.id];
    const a = await node(sync, config, 10_000);
    const live = members.map((m) => record(a.node, m));
    const senders = await clients(sync, [a.node.endpoint]);
    // Every subscription starts behind the buffer (empty at the start): it reads its first page from the database.
    const warm = await (
      await senders[0]!.client.send({ envelopes: [broadcast('warm')], maxSequencingTime: soon() })
    ).outcome;
    for (const [i, events] of live.entries()) await untilAt(events, warm.timestamp, `${members[i]} warm`);
    a.reads.clear();
    const last = await traffic(sync, senders, 4);
    for (const [i, events] of live.entries()) await untilAt(events, last, `${members[i]} live`);
    // Served from memory: no member's events were read back.
    expect(a.reads.get('member events') ?? 0).toBe(0);
    const bySender = decoded(live[0]!);
    expect(bySender.map((e) => e.counter)).toEqual(bySender.map((_, i) => BigInt(i)));
    expect(bySender.some((e) => e.event.oneofKind === 'deliverError')).toBe(true);
    expect(live[3]!.length).toBe(6); // the mediator: the broadcasts only

    await a.node.kill();
    for (const c of senders) await c.client.close();
    // Restarted without the buffer, and again with it (empty after the crash): the same bytes from the database.
    for (const maxEvents of [0, 10_000]) {
      const b = await node(sync, config, maxEvents);
      const again = members.map((m) => record(b.node, m));
      for (const [i, events] of again.entries()) await untilAt(events, last, `${members[i]} again`);
      expect(b.reads.get('member events')).toBeGreaterThanOrEqual(members.length);
      expect(again).toEqual(live);
      await b.node.kill();
    }
  });

  it('serves a reader far behind from the database, then from the buffer', async () => {
    const sync = testSynchronizer({ seed: 'buffer-behind', participants: 3, now: systemClock.now() });
    const a = await node(sync, backend.freshConfig(), 5);
    const senders = await clients(sync, [a.node.endpoint]);
    const ahead = await traffic(sync, senders.slice(0, 1), 3);
    const p2 = sync.participants[2]!.id;
    const late = record(a.node, p2);
    await untilAt(late, ahead, 'catch-up');
    const caughtUp = a.reads.get('member events') ?? 0;
    expect(caughtUp).toBeGreaterThan(0);
    const last = await traffic(sync, senders.slice(0, 1), 3);
    await untilAt(late, last, 'the new events');
    expect(a.reads.get('member events')).toBe(caughtUp);
    const early = record(a.node, p2);
    await untilAt(early, last, 'a second subscription');
    expect(early).toEqual(late);
    expect(decoded(late).map((e) => e.counter)).toEqual(late.map((_, i) => BigInt(i)));
  });

  it('reads the database once per commit with one writer, where it read it for every touched member', async () => {
    const perCommit: Record<string, Record<string, number>> = {};
    for (const maxEvents of [0, 10_000]) {
      const sync = testSynchronizer({ seed: 'buffer-count', participants: 3, now: systemClock.now() });
      const a = await node(sync, backend.freshConfig(), maxEvents, true);
      const [p0] = await clients(sync, [a.node.endpoint]);
      const [, a1, a2] = sync.participants.map((p) => p.id) as [string, string, string];
      // Warm up: subscriptions started, members cached.
      await (await p0!.client.send({ envelopes: [envelope('warm', a1)], maxSequencingTime: soon() })).outcome;
      a.reads.clear();
      const commits = 20;
      for (let i = 0; i < commits; i++) {
        const to = i % 2 === 0 ? [a1] : [a1, a2];
        await (await p0!.client.send({ envelopes: [envelope(`m${i}`, ...to)], maxSequencingTime: soon() }))
          .outcome;
      }
      perCommit[maxEvents === 0 ? 'without' : 'with'] = Object.fromEntries(
        [...a.reads].map(([k, n]) => [k, n / commits]),
      );
      await a.node.stop();
    }
    const { with: buffered, without } = perCommit as Record<'with' | 'without', Record<string, number>>;
    // Without: the watermarks, who is touched, the last topology event, and every touched member's events.
    // (2.5 a commit here: the sender's receipt and one or two recipients; a reader that lags reads two at once.)
    expect(without['member events']).toBeGreaterThanOrEqual(2);
    expect(without['other events']).toBeGreaterThanOrEqual(2);
    // With: the watermarks only.
    expect(buffered['member events'] ?? 0).toBe(0);
    expect(buffered['range events'] ?? 0).toBe(0);
    expect(buffered['other events'] ?? 0).toBe(0);
    expect(buffered.watermarks).toBeLessThanOrEqual(1.2);
  });
});

describeBackend(
  'postgres',
  'delivery from the events buffers of two writers sharing one database',
  (backend) => {
    it("is identical on both nodes, and reads only the other writer's events", async () => {
      const sync = testSynchronizer({ seed: 'buffer-ha', participants: 3, now: systemClock.now() });
      const config = backend.freshConfig();
      const start = async (name: string) => {
        const counted = countingReads(await backend.open(config));
        const { node } = await startSequencerNode(sync, {
          name,
          storage: counted.storage,
          settings: settings(10_000),
        });
        cleanups.push(() => node.stop());
        return { node, reads: counted.reads };
      };
      const a = await start('seq-a');
      const b = await start('seq-b');
      expect(a.node.sequencer.nodeIndex).not.toBe(b.node.sequencer.nodeIndex);
      const members = [...sync.participants.map((p) => p.id), sync.mediator.id];
      const onA = members.map((m) => record(a.node, m));
      const onB = members.map((m) => record(b.node, m));
      const viaA = await clients(sync, [a.node.endpoint]);
      const [, , p2] = sync.participants;
      const viaB = await connect(sync, p2!, [b.node.endpoint], { resendIntervalMs: 200 });
      cleanups.push(() => viaB.client.close());
      const last = await traffic(sync, [viaA[0]!, viaB], 6);
      for (const [i, events] of [...onA, ...onB].entries()) await untilAt(events, last, `recorder ${i}`);
      expect(onB).toEqual(onA);
      // Both writers' events, in one order.
      const senders = new Set(decoded(onA[3]!).map((e) => e.timestamp % 10n));
      expect(senders.size).toBe(2);
      for (const n of [a, b]) {
        expect(n.reads.get('range events')).toBeGreaterThan(0);
        // Only the subscriptions' starts read members' events back (at most one page each).
        expect(n.reads.get('member events') ?? 0).toBeLessThanOrEqual(2 * members.length);
      }
      // The buffered streams are those the database gives a fresh subscription.
      const fresh = members.map((m) => record(b.node, m));
      for (const [i, events] of fresh.entries()) await untilAt(events, last, `fresh ${i}`);
      expect(fresh).toEqual(onA);
    });
  },
);
