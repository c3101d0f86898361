import { describe, expect, it } from 'vitest';
import { EventsBuffer, eventBytes } from './events-buffer.js';
import type { BufferedEvent } from './store.js';
import { BROADCAST_RECIPIENT, type MemberRow } from './store.js';

const member = (id: bigint, registeredTs = 0n): MemberRow => ({ id, member: `m${id}`, registeredTs });

function event(ts: bigint, recipientIds: bigint[], size = 10, isTopology = false): BufferedEvent {
  return {
    ts,
    nodeIndex: 0,
    kind: 'deliver',
    senderId: recipientIds[0]!,
    messageId: `msg${ts}`,
    errorCode: null,
    errorMessage: null,
    traceparent: null,
    tracestate: null,
    content: new Uint8Array(size),
    recipientIds,
    isTopology,
  };
}

const roomy = { maxEvents: 100, maxBytes: 1 << 20 };
const ts = (rows: readonly { ts: bigint }[] | undefined) => rows?.map((r) => r.ts);

describe('the events buffer', () => {
  it("serves a member's events and broadcasts in the range, in timestamp order, as readEvents does", () => {
    const b = new EventsBuffer(roomy);
    b.reset(10n);
    b.append(
      [event(11n, [1n, 2n]), event(12n, [BROADCAST_RECIPIENT]), event(13n, [3n]), event(14n, [2n])],
      14n,
    );
    expect(ts(b.read(member(2n), 10n, 14n, 10))).toEqual([11n, 12n, 14n]);
    expect(ts(b.read(member(3n), 10n, 14n, 10))).toEqual([12n, 13n]);
    expect(ts(b.read(member(2n), 11n, 13n, 10))).toEqual([12n]);
    expect(ts(b.read(member(2n), 10n, 14n, 2))).toEqual([11n, 12n]);
    // Before its registration a member has no events, as in the database.
    expect(ts(b.read(member(2n, 13n), 10n, 14n, 10))).toEqual([14n]);
    expect(ts(b.read(member(2n, 13n), 0n, 14n, 10))).toEqual([14n]);
    // Outside the range it holds, it answers nothing rather than too little.
    expect(b.read(member(2n), 9n, 14n, 10)).toBeUndefined();
    expect(b.read(member(2n), 10n, 15n, 10)).toBeUndefined();
  });

  it('evicts the oldest beyond its event and byte bounds; readers behind it get nothing from it', () => {
    const byEvents = new EventsBuffer({ maxEvents: 2, maxBytes: 1 << 20 });
    byEvents.reset(0n);
    byEvents.append([event(1n, [1n]), event(2n, [1n]), event(3n, [1n])], 3n);
    expect([byEvents.size, byEvents.from, byEvents.upTo]).toEqual([2, 1n, 3n]);
    expect(byEvents.read(member(1n), 0n, 3n, 10)).toBeUndefined();
    expect(ts(byEvents.read(member(1n), 1n, 3n, 10))).toEqual([2n, 3n]);

    const big = event(5n, [1n], 1000);
    const byBytes = new EventsBuffer({
      maxEvents: 100,
      maxBytes: eventBytes(big) + eventBytes(event(4n, [1n])),
    });
    byBytes.reset(0n);
    byBytes.append([event(1n, [1n]), event(4n, [1n])], 4n);
    byBytes.append([big], 5n);
    expect([byBytes.size, byBytes.from]).toEqual([2, 1n]);
    expect(byBytes.bytes).toBe(eventBytes(big) + eventBytes(event(4n, [1n])));
    // An event larger than the whole bound is not held at all.
    byBytes.append([event(6n, [1n], 1 << 20)], 6n);
    expect([byBytes.size, byBytes.bytes, byBytes.from]).toEqual([0, 0, 6n]);
    expect(ts(byBytes.read(member(1n), 6n, 6n, 10))).toEqual([]);

    // Many evictions keep every held event readable.
    const churn = new EventsBuffer({ maxEvents: 3, maxBytes: 1 << 20 });
    churn.reset(0n);
    for (let t = 1n; t <= 50n; t++) churn.append([event(t, [1n])], t);
    expect(ts(churn.read(member(1n), 47n, 50n, 10))).toEqual([48n, 49n, 50n]);
  });

  it('holds nothing when off, and drops pruned events', () => {
    const off = new EventsBuffer({ maxEvents: 0, maxBytes: 1 << 20 });
    off.reset(0n);
    off.append([event(1n, [1n])], 1n);
    expect([off.size, off.from]).toEqual([0, 1n]);

    const b = new EventsBuffer(roomy);
    b.reset(0n);
    b.append([event(1n, [1n]), event(2n, [1n]), event(3n, [1n])], 3n);
    b.prune(3n);
    expect([b.size, b.from]).toEqual([1, 2n]);
    expect(ts(b.read(member(1n), 2n, 3n, 10))).toEqual([3n]);
    // Pruned (by another node) beyond what it holds: it holds nothing, and goes on from its end.
    b.prune(10n);
    expect([b.size, b.from, b.upTo]).toEqual([0, 3n, 3n]);
    b.append([event(5n, [1n])], 5n);
    expect(ts(b.read(member(1n), 3n, 5n, 10))).toEqual([5n]);
  });

  it("hands over the local writer's committed events up to the safe watermark, unless some may be missing", () => {
    const b = new EventsBuffer(roomy);
    b.joined(100n);
    expect([b.localComplete, b.localSince]).toEqual([100n, 100n]);
    b.committed([event(101n, [1n]), event(102n, [1n])], 102n);
    b.committed([event(103n, [1n])], 103n);
    b.committed([], 110n);
    expect(b.localComplete).toBe(110n);
    expect(ts(b.takeLocal(100n, 102n))).toEqual([101n, 102n]);
    expect(ts(b.takeLocal(102n, 110n))).toEqual([103n]);
    // A write whose outcome was not seen: the range up to its last timestamp comes from the database.
    b.committed([event(111n, [1n])], 111n);
    b.unknown(115n);
    b.committed([event(116n, [1n])], 116n);
    expect(b.takeLocal(110n, 116n)).toBeUndefined();
    b.committed([event(117n, [1n])], 117n);
    expect(ts(b.takeLocal(116n, 117n))).toEqual([117n]);
    // Dropping the pending events covers them, whatever range was named.
    b.committed([event(120n, [1n]), event(125n, [1n])], 125n);
    b.unknown(121n);
    expect(b.takeLocal(121n, 125n)).toBeUndefined();
    // Held back beyond the bounds, the pending events are dropped: their range comes from the database.
    const small = new EventsBuffer({ maxEvents: 2, maxBytes: 1 << 20 });
    small.committed([event(1n, [1n]), event(2n, [1n])], 2n);
    small.committed([event(3n, [1n])], 3n);
    expect(small.takeLocal(0n, 3n)).toBeUndefined();
    small.committed([event(4n, [1n])], 4n);
    expect(ts(small.takeLocal(3n, 4n))).toEqual([4n]);
  });
});
