import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemRandom } from '../crypto/index.js';
import { WeftError } from '../errors/index.js';
import { StorageErrors } from '../storage/index.js';
import { describeBackend } from '../storage/testing.js';
import { sleep, systemClock } from '../time/index.js';
import { type SequencerSettings, sequencerSettings, writerGroupCommit } from './config.js';
import { SequencerErrors } from './errors.js';
import { EventsBuffer } from './events-buffer.js';
import { SequencerStore } from './store.js';
import { SequencerWriter, type WriteOutcome, type WriteRequest } from './writer.js';

const logger = pino({ level: 'silent' });
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const request = (messageId: string): WriteRequest => ({
  senderId: 1n,
  messageId,
  maxSequencingTime: systemClock.now() + 60_000_000n,
  isTopology: false,
  payload: new Uint8Array([1, 2, 3]),
  recipientIds: [1n, 2n],
});

describeBackend('sqlite', 'sequencer writer group commit', (backend) => {
  async function writer(writerSettings: Record<string, unknown>, fail = false, events?: EventsBuffer) {
    const store = new SequencerStore(await backend.open());
    await store.migrate();
    if (fail)
      store.writeEvents = async () => {
        throw new Error('disk on fire');
      };
    const batches: number[] = [];
    const settings: SequencerSettings = sequencerSettings({ writer: writerSettings });
    const w = new SequencerWriter({
      store,
      settings,
      nodeName: 'seq',
      clock: systemClock,
      random: systemRandom,
      logger,
      onWatermark: () => {},
      ...(events ? { events } : {}),
      metrics: { batch: (size) => batches.push(size), writerLag: () => {} },
    });
    await w.start();
    stops.push(() => w.stop(false));
    return { w, store, batches };
  }

  /** `n` requests, one every millisecond or so (a steady load), all committed. */
  /** `n` requests 1 ms apart, the first `burst` of them at once (work that overlaps, as from many members). */
  async function stream(w: SequencerWriter, n: number, prefix: string, burst = 0): Promise<WriteOutcome[]> {
    const outcomes: Promise<WriteOutcome>[] = [];
    for (let i = 0; i < n; i++) {
      outcomes.push(w.submit(request(`${prefix}${i}`)));
      if (i >= burst) await sleep(systemClock, 1);
    }
    return Promise.all(outcomes);
  }

  it('commits a lone request at once, and grows batches under load up to the batch size', async () => {
    const { w, batches } = await writer({
      preset: 'high-throughput',
      'event-batch-size': 20,
      'group-commit-max-delay-ms': 1000,
    });
    const started = performance.now();
    expect((await w.submit(request('lone'))).kind).toBe('sequenced');
    // The window would be a second long: a lone request does not wait for it.
    expect(performance.now() - started).toBeLessThan(500);
    batches.length = 0;
    const outcomes = await stream(w, 150, 'load', 5);
    expect(outcomes.every((o) => o.kind === 'sequenced')).toBe(true);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(150);
    expect(Math.max(...batches)).toBe(20);
    expect(batches.length).toBeLessThan(30);
  });

  it('commits each request on its own without a window (the low-latency preset)', async () => {
    const { w, batches } = await writer({ preset: 'low-latency' });
    await stream(w, 40, 'solo');
    expect(batches).toEqual(Array.from({ length: 40 }, () => 1));
  });

  it('fails every request of a batch whose commit failed, and sequences none of them', async () => {
    const { w, store } = await writer({ preset: 'high-throughput', 'group-commit-max-delay-ms': 50 }, true);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => w.submit(request(`f${i}`))),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 10 }, () => 'rejected'));
    for (const o of outcomes)
      expect((o as PromiseRejectedResult).reason.code).toBe(SequencerErrors.SEQUENCER_UNAVAILABLE.code);
    expect(await store.hasEventAbove(-1n)).toBe(false);
  });

  it('hands over what it committed, and not what a commit whose acknowledgement was lost stored', async () => {
    const buffer = new EventsBuffer({ maxEvents: 100, maxBytes: 1 << 20 });
    const { w, store } = await writer({ preset: 'low-latency' }, false, buffer);
    const start = buffer.localComplete;
    const first = await w.submit(request('first'));
    expect(first.kind).toBe('sequenced');
    const ts = (first as { ts: bigint }).ts;
    expect(buffer.localComplete).toBe(ts);
    expect(buffer.takeLocal(start, ts)?.map((e) => [e.ts, e.messageId, e.nodeIndex])).toEqual([
      [ts, 'first', w.nodeIndex],
    ]);
    // The commit goes through, its acknowledgement is lost: the repeat finds the events in place.
    const write = store.writeEvents.bind(store);
    let lose = true;
    store.writeEvents = async (...args) => {
      const duplicates = await write(...args);
      if (!lose) return duplicates;
      lose = false;
      const reset = Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      throw new WeftError(StorageErrors.STORAGE_UNAVAILABLE, 'lost the connection', {}, { cause: reset });
    };
    expect((await w.submit(request('lost ack'))).kind).toBe('duplicate');
    const unseen = buffer.localComplete;
    expect(unseen).toBeGreaterThan(ts);
    // Its range must come from the database.
    expect(buffer.takeLocal(ts, unseen)).toBeUndefined();
    const next = (await w.submit(request('next'))) as { ts: bigint };
    expect(buffer.takeLocal(unseen, next.ts)?.map((e) => e.messageId)).toEqual(['next']);
  });
});

describe('the writer group-commit window', () => {
  it('follows the preset, with the overrides', () => {
    expect(writerGroupCommit(sequencerSettings())).toEqual({ maxDelayMs: 0, maxBatch: 1 });
    expect(writerGroupCommit(sequencerSettings({ writer: { preset: 'high-throughput' } }))).toEqual({
      maxDelayMs: 5,
      maxBatch: 100,
    });
    const custom = sequencerSettings({
      writer: { preset: 'high-throughput', 'event-batch-size': 7, 'group-commit-max-delay-ms': 0 },
    });
    expect(writerGroupCommit(custom)).toEqual({ maxDelayMs: 0, maxBatch: 7 });
    expect(() => sequencerSettings({ writer: { 'group-commit-max-delay-ms': 1001 } })).toThrow(
      /group-commit-max-delay-ms/,
    );
  });
});
