import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SubscribeResponse } from '../generated/weft/sequencer/v1/sequencer_service.js';
import { NodeMetrics } from '../observability/index.js';
import { openStorage } from '../storage/index.js';
import { systemClock } from '../time/index.js';
import { parseSequencerEndpoint, type SequencerChannel } from './client/endpoint.js';
import { SequencerErrors } from './errors.js';
import { ChannelStream, InProcessSequencers } from './in-process.js';
import {
  connect,
  envelope,
  rejection,
  soon,
  startSequencerNode,
  testSynchronizer,
  texts,
  waitFor,
} from './testing.js';

let dir: string;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-in-process-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('in-process sequencers', () => {
  it('serve members of the process by method calls, with the same authentication and delivery as gRPC', async () => {
    const sync = testSynchronizer({ seed: 'in-process', participants: 2, now: systemClock.now() });
    const storage = await openStorage({ kind: 'sqlite', path: join(dir, 'seq.sqlite') });
    cleanups.push(() => storage.close());
    const inProcess = new InProcessSequencers();
    const metrics = new NodeMetrics({ node: 'seq', defaultMetrics: false });
    const { node } = await startSequencerNode(sync, { name: 'seq', storage, inProcess, metrics });
    cleanups.push(() => node.stop());
    let dialled = 0;
    const dial = (e: Parameters<typeof inProcess.dialer>[0]) => {
      const channel = inProcess.dialer(e);
      if (channel) dialled++;
      return channel;
    };
    const [alice, bob] = sync.participants as [(typeof sync.participants)[0], (typeof sync.participants)[0]];
    const a = await connect(sync, alice, [node.endpoint], { dial });
    const b = await connect(sync, bob, [node.endpoint], { dial });
    cleanups.push(
      async () => a.client.close(),
      async () => b.client.close(),
    );
    const sent = await a.client.send({
      envelopes: [envelope('hello', alice.id, bob.id)],
      maxSequencingTime: soon(),
    });
    expect((await sent.outcome).kind).toBe('delivered');
    await waitFor('both deliveries', () => a.events.length > 0 && b.events.length > 0);
    expect(texts(a.events[0]!)).toEqual(['hello']);
    expect(texts(b.events[0]!)).toEqual(['hello']);
    expect(dialled).toBeGreaterThanOrEqual(2);
    // Not one call went over gRPC.
    const calls =
      (await metrics.registry.getSingleMetric('weft_grpc_server_handled_total')?.get())?.values ?? [];
    expect(calls.filter((v) => v.labels.service === 'sequencer-public-api')).toEqual([]);

    // A stopped node refuses like a closed port, and its streams end.
    const channel = inProcess.dialer(parseSequencerEndpoint(node.endpoint)) as SequencerChannel;
    await node.stop();
    const refused = await rejection(channel.handshake({ clientProtocolVersions: [] }));
    expect(refused.code).toBe(SequencerErrors.SEQUENCER_CONNECTION_FAILED.code);
    expect(inProcess.dialer(parseSequencerEndpoint(node.endpoint))).toBeUndefined();
  });

  it('leaves endpoints of other hosts and ports to gRPC', () => {
    const inProcess = new InProcessSequencers();
    expect(inProcess.dialer(parseSequencerEndpoint('http://127.0.0.1:4401'))).toBeUndefined();
    expect(inProcess.dialer(parseSequencerEndpoint('https://sequencer.example.com:4401'))).toBeUndefined();
  });
});

describe('ChannelStream', () => {
  const response = (n: number): SubscribeResponse =>
    ({ block: { events: [{ event: new Uint8Array([n]) }] } }) as never;

  it('delivers in order over its link, holds messages while paused and makes the writer wait on a full window', async () => {
    const crossing: (() => void)[] = [];
    const stream = new ChannelStream({ carry: (arrived) => crossing.push(arrived) }, () => {});
    const got: number[] = [];
    stream.on('data', (r) => got.push((r as SubscribeResponse).block!.events[0]!.event[0]!));
    const signal = new AbortController().signal;
    stream.start();
    stream.pause();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) writes.push(stream.push(response(i), signal));
    for (const c of crossing.splice(0)) c();
    let full = false;
    void writes.at(-1)!.then(() => {
      full = true;
    });
    await Promise.resolve();
    expect(got).toEqual([]);
    expect(full).toBe(false);
    stream.resume();
    await Promise.resolve();
    expect(full).toBe(true);
    expect(got).toEqual(
      Array.from({ length: 63 }, (_, i) => i)
        .concat(63)
        .slice(0, 64),
    );
  });

  it('ends with the error of a broken connection and stops the writer', async () => {
    const stream = new ChannelStream({ carry: (arrived) => arrived() }, () => {});
    const errors: unknown[] = [];
    stream.on('error', (e) => errors.push(e));
    stream.cut(new Error('reset') as never);
    expect(errors).toHaveLength(1);
    expect(stream.cancelled.aborted).toBe(true);
  });
});
