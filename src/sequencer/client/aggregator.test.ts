import { describe, expect, it } from 'vitest';
import { SequencerErrors } from '../errors.js';
import { type Disagreement, SequencerAggregator } from './aggregator.js';

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

/** An aggregator whose values name the sequencer and counter, recording disagreements. */
function aggregator(threshold: number, sequencers: number, next = 0n) {
  const disagreements: Disagreement[] = [];
  const a = new SequencerAggregator<string>({
    threshold,
    sequencers,
    next,
    onDisagreement: (d) => disagreements.push(d),
  });
  const offer = (sequencer: string, counter: bigint, content = `e${counter}`) =>
    a.offer(sequencer, counter, bytes(content), `${sequencer}:${counter}`);
  const takeAll = () => {
    const taken: { counter: bigint; content: string; from: string[] }[] = [];
    for (let e = a.take(); e; e = a.take()) {
      taken.push({
        counter: e.counter,
        content: Buffer.from(e.content).toString(),
        from: e.votes.map((v) => v.sequencerId),
      });
    }
    return taken;
  };
  return { a, offer, takeAll, disagreements };
}

describe('sequencer aggregator', () => {
  it('releases each counter once, in order, when the threshold of sequencers delivered it', () => {
    const { a, offer, takeAll } = aggregator(2, 3);
    // A runs ahead; nothing is released on its word alone.
    for (let c = 0n; c < 5n; c++) offer('A', c);
    expect(a.peek()).toBeUndefined();
    expect(takeAll()).toEqual([]);
    for (let c = 0n; c < 3n; c++) offer('B', c);
    expect(a.latest()?.counter).toBe(2n);
    expect(takeAll()).toEqual([
      { counter: 0n, content: 'e0', from: ['A', 'B'] },
      { counter: 1n, content: 'e1', from: ['A', 'B'] },
      { counter: 2n, content: 'e2', from: ['A', 'B'] },
    ]);
    expect(a.latest()).toBeUndefined();
    // C lags behind: its copies of released counters are dropped, not counted again.
    offer('C', 0n);
    offer('C', 1n);
    expect(a.pending).toBe(2);
    expect(takeAll()).toEqual([]);
    offer('C', 3n);
    expect(takeAll()).toEqual([{ counter: 3n, content: 'e3', from: ['A', 'C'] }]);
    expect(a.next).toBe(4n);
    expect(a.pending).toBe(1);
  });

  it('starts at the given counter and forgets released counters', () => {
    const { a, offer, takeAll } = aggregator(1, 1, 10n);
    offer('A', 9n);
    expect(a.pending).toBe(0);
    offer('A', 10n);
    offer('A', 11n);
    expect(takeAll().map((e) => e.counter)).toEqual([10n, 11n]);
    expect(a.pending).toBe(0);
  });

  it('outvotes a forged event from one sequencer and reports it', () => {
    const { offer, takeAll, disagreements } = aggregator(2, 3);
    offer('A', 0n, 'forged');
    offer('B', 0n);
    expect(takeAll()).toEqual([]);
    expect(disagreements).toEqual([
      { counter: 0n, sequencerId: 'B', kind: 'differs', candidates: [['A'], ['B']] },
    ]);
    offer('C', 0n);
    expect(takeAll()).toEqual([{ counter: 0n, content: 'e0', from: ['B', 'C'] }]);
  });

  it('holds a later agreed counter back until the earlier one is agreed', () => {
    const { offer, takeAll } = aggregator(2, 3);
    offer('A', 0n, 'x');
    offer('B', 0n, 'y');
    offer('A', 1n);
    offer('B', 1n);
    expect(takeAll()).toEqual([]);
    offer('C', 0n, 'y');
    expect(takeAll().map((e) => [e.counter, e.content])).toEqual([
      [0n, 'y'],
      [1n, 'e1'],
    ]);
  });

  it('fails with a typed error when the sequencers disagree and no event can reach the threshold', () => {
    const { offer } = aggregator(2, 2);
    offer('A', 0n);
    expect(() => offer('B', 0n, 'other')).toThrow(
      expect.objectContaining({
        code: SequencerErrors.SEQUENCER_AGGREGATION_FAILED.code,
        message: expect.stringMatching(/disagree on event 0: \[A\] vs \[B\]/),
      }),
    );
    // Three different events from three sequencers cannot give two of them either.
    const three = aggregator(2, 3);
    three.offer('A', 0n, 'a');
    three.offer('B', 0n, 'b');
    expect(() => three.offer('C', 0n, 'c')).toThrow(
      expect.objectContaining({ code: SequencerErrors.SEQUENCER_AGGREGATION_FAILED.code }),
    );
  });

  it("counts a sequencer's repeated copy once and ignores a different second copy of the same counter", () => {
    const { offer, takeAll, disagreements } = aggregator(2, 3);
    offer('A', 0n);
    offer('A', 0n);
    expect(takeAll()).toEqual([]);
    offer('A', 0n, 'changed its mind');
    expect(disagreements).toEqual([
      { counter: 0n, sequencerId: 'A', kind: 'equivocates', candidates: [['A']] },
    ]);
    offer('B', 0n);
    expect(takeAll()).toEqual([{ counter: 0n, content: 'e0', from: ['A', 'B'] }]);
  });

  it('drops the copies of an excluded sequencer and fails once too few sequencers remain', () => {
    const { a, offer, takeAll } = aggregator(2, 3);
    offer('A', 0n);
    offer('B', 0n);
    expect(a.peek()?.votes.map((v) => v.sequencerId)).toEqual(['A', 'B']);
    // A's signature did not verify: its copy no longer counts, nor does anything it sends later.
    a.exclude('A');
    expect(a.peek()).toBeUndefined();
    offer('A', 1n);
    offer('C', 0n);
    expect(takeAll()).toEqual([{ counter: 0n, content: 'e0', from: ['B', 'C'] }]);
    offer('B', 1n);
    expect(takeAll()).toEqual([]);
    expect(() => a.exclude(undefined)).toThrow(
      expect.objectContaining({
        code: SequencerErrors.SEQUENCER_AGGREGATION_FAILED.code,
        message: expect.stringMatching(/only 1 sequencer\(s\) remain, fewer than the trust threshold 2/),
      }),
    );
  });

  it('refuses a threshold outside 1 to the number of sequencers', () => {
    for (const threshold of [0, 4, 1.5]) {
      expect(() => new SequencerAggregator({ threshold, sequencers: 3, next: 0n })).toThrow(
        expect.objectContaining({ code: SequencerErrors.SEQUENCER_CONNECTIONS_INVALID.code }),
      );
    }
  });
});
