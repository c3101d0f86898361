import { describe, expect, it } from 'vitest';
import { type IndexedEvent, IndexedTransaction } from '../generated/weft/participant/v1/event_index.js';
import { decodeSelector, readEventIndex } from './event-index.js';

const event = (nodeId: number, o: Partial<IndexedEvent> = {}): IndexedEvent => ({
  nodeId,
  informees: ['alice::1220ab', 'bob::1220ab'],
  stakeholders: ['alice::1220ab'],
  packageName: 'token',
  qualifiedName: 'Token:Holding',
  netChange: true,
  event: { oneofKind: 'created', created: new Uint8Array([10, 3, 1, 2, 3]) },
  archived: new Uint8Array(0),
  ...o,
});

describe('readEventIndex', () => {
  it('reads what the generated decoder reads, with the encodings as views of the index', () => {
    const events = [
      event(0),
      event(3, {
        informees: ['ünïcødé::1220ab', 'alice::1220ab', 'carol::1220cd'],
        netChange: false,
        event: { oneofKind: 'exercised', exercised: new Uint8Array(300).fill(7) },
        archived: new Uint8Array([1, 2]),
      }),
      event(200, { informees: [], stakeholders: [], packageName: '', qualifiedName: '' }),
    ];
    const index = Buffer.from(IndexedTransaction.toBinary({ events }));
    const expected = IndexedTransaction.fromBinary(index).events;
    const read = readEventIndex(index);
    expect(read).toHaveLength(3);
    read.forEach((e, i) => {
      const x = expected[i]!;
      expect(e.nodeId).toBe(x.nodeId);
      expect(e.netChange).toBe(x.netChange);
      expect(e.kind).toBe(x.event.oneofKind);
      const bytes =
        x.event.oneofKind === 'created' ? x.event.created : (x.event as { exercised: Uint8Array }).exercised;
      expect([...e.event]).toEqual([...bytes]);
      expect([...e.archived]).toEqual([...x.archived]);
      expect(e.event.buffer).toBe(index.buffer);
      expect(decodeSelector(index, e)).toEqual({
        informees: x.informees,
        stakeholders: x.stakeholders,
        packageName: x.packageName,
        qualifiedName: x.qualifiedName,
      });
    });
  });

  it('keys events by their selector: the same parties and template, the same key', () => {
    const index = IndexedTransaction.toBinary({
      events: [
        event(0),
        event(1, { netChange: false }),
        event(2, { stakeholders: ['bob::1220ab'] }),
        event(3, { qualifiedName: 'Token:Other' }),
      ],
    });
    const [a, b, c, d] = readEventIndex(index).map((e) => e.selectorKey);
    expect(a).toBe(b);
    expect(new Set([a, c, d]).size).toBe(3);
  });

  it('refuses a truncated index', () => {
    const index = IndexedTransaction.toBinary({ events: [event(0)] });
    expect(() => readEventIndex(index.subarray(0, index.length - 2))).toThrow(/malformed/);
    expect(() =>
      readEventIndex(
        IndexedTransaction.toBinary({ events: [event(1, { event: { oneofKind: undefined } })] }),
      ),
    ).toThrow(/no encoding/);
  });
});
