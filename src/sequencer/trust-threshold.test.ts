import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CryptoErrors } from '../crypto/index.js';
import { openStorage, type PostgresConfig } from '../storage/index.js';
import { postgresSkipReason, withPostgresSchema } from '../storage/testing.js';
import { systemClock } from '../time/index.js';
import type { SequencerClientOptions } from './client/client.js';
import { sequencerSettings } from './config.js';
import { SequencerErrors } from './errors.js';
import type { SequencerNode } from './node.js';
import {
  connect,
  envelope,
  type Recorder,
  rejection,
  soon,
  startSequencerNode,
  type TestMember,
  type TestSynchronizer,
  testSynchronizer,
  texts,
  waitFor,
} from './testing.js';

const unavailable = await postgresSkipReason();

const HA = sequencerSettings({
  'high-availability': {
    'keep-alive-interval-ms': 20,
    'offline-duration-ms': 1000,
    'online-check-interval-ms': 100,
    'poll-interval-ms': 10,
  },
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/**
 * Three distinct sequencers (own ids and keys, SequencerSynchronizerState threshold 2) whose nodes share one
 * database, so they serve the same order, each signing with its own key.
 */
function threeSequencers(seed: string): TestSynchronizer {
  return testSynchronizer({
    seed,
    participants: 2,
    sequencers: 3,
    sequencerThreshold: 2,
    now: systemClock.now(),
  });
}

async function startNode(
  sync: TestSynchronizer,
  config: PostgresConfig,
  index: number,
  options: { as?: TestMember; port?: number } = {},
): Promise<SequencerNode> {
  const storage = await openStorage(config);
  cleanups.push(() => storage.close());
  const { node } = await startSequencerNode(sync, {
    name: `seq-${index}`,
    storage,
    settings: HA,
    sequencer: options.as ?? sync.sequencers[index]!,
    ...(options.port ? { port: options.port } : {}),
  });
  cleanups.push(() => node.stop());
  return node;
}

async function client(
  sync: TestSynchronizer,
  member: TestMember,
  nodes: readonly SequencerNode[],
  options: Partial<SequencerClientOptions>,
): Promise<Recorder> {
  const r = await connect(sync, member, [], {
    connections: nodes.map((n) => ({ endpoints: [n.endpoint] })),
    resendIntervalMs: 300,
    ...options,
  });
  cleanups.push(() => r.client.close());
  return r;
}

const states = (r: Recorder) => r.client.sequencerConnections.map((c) => c.state);

describe.skipIf(unavailable !== undefined)(
  'a member connected to three sequencers with trust threshold 2',
  () => {
    it('delivers each event once while two sequencers serve it, stalls with one, and resumes without loss', async () => {
      await withPostgresSchema(async (config) => {
        const sync = threeSequencers('bft-deliver');
        const nodes = [
          await startNode(sync, config, 0),
          await startNode(sync, config, 1),
          await startNode(sync, config, 2),
        ];
        const [sender, receiver] = sync.participants as [TestMember, TestMember];
        // The sender trusts any one sequencer; the receiver needs two to agree.
        const p0 = await client(sync, sender, nodes, {});
        const p1 = await client(sync, receiver, nodes, { trustThreshold: 2 });
        expect(p1.client.state).toBe('connected');
        expect(new Set(p1.client.sequencerConnections.map((c) => c.sequencerId))).toEqual(
          new Set(sync.sequencers.map((s) => s.id)),
        );
        // threshold + liveness margin (0) subscriptions; the third sequencer stands by.
        expect(states(p1)).toEqual(['subscribed', 'subscribed', 'ready']);
        expect(p0.client.endpoint).toBe(nodes[0]!.endpoint);

        let sent = 0;
        const send = async (n: number) => {
          for (let i = 0; i < n; i++, sent++) {
            const handle = await p0.client.send({
              envelopes: [envelope(`m${sent}`, receiver.id)],
              maxSequencingTime: soon(),
            });
            expect((await handle.outcome).kind).toBe('delivered');
          }
        };
        const expectDelivered = async (n: number) => {
          await waitFor(`${n} events`, () => p1.events.length >= n);
          expect(p1.events.map((e) => [e.counter, texts(e)[0]])).toEqual(
            Array.from({ length: n }, (_, i) => [BigInt(i), `m${i}`]),
          );
        };
        await send(5);
        await expectDelivered(5);
        const keys = new Set(sync.sequencers.map((s) => s.key.publicKey.fingerprint.value));
        for (const e of p1.events) expect(keys.has(e.proof.root.signedBy)).toBe(true);

        // The node both clients use first dies: the spare takes over the subscription, sends move on.
        await nodes[0]!.kill();
        await send(5);
        await expectDelivered(10);
        expect(p0.client.endpoint).not.toBe(nodes[0]!.endpoint);
        expect(p1.client.state).toBe('connected');
        expect(states(p1)).toEqual(['connecting', 'subscribed', 'subscribed']);
        // A client connecting now, with that sequencer unreachable, subscribes to the other two.
        const late = await client(sync, receiver, nodes, { trustThreshold: 2 });
        expect(states(late)).toEqual(['connecting', 'subscribed', 'subscribed']);
        await waitFor('the late client to catch up', () => late.events.length === 10);
        expect(late.events.map((e) => texts(e)[0])).toEqual(p1.events.map((e) => texts(e)[0]));
        await late.client.close();

        // With a second sequencer gone, one is left: the sender (threshold 1) goes on, the receiver waits.
        const port = nodes[1]!.port;
        await nodes[1]!.stop();
        await waitFor('the receiver to notice', () => p1.client.state === 'reconnecting');
        await send(3);
        await new Promise((r) => setTimeout(r, 500));
        expect(p1.events).toHaveLength(10);
        expect(p1.client.state).toBe('reconnecting');

        // The second sequencer comes back where the receiver looks for it: the held back events arrive, once.
        nodes[1] = await startNode(sync, config, 1, { port });
        await waitFor('reconnection', () => p1.client.state === 'connected');
        await expectDelivered(13);
        await send(1);
        await expectDelivered(14);
        await new Promise((r) => setTimeout(r, 200));
        expect(p1.events).toHaveLength(14);

        // A new client resumes after the last event the first one received.
        const resumeAfter = p1.client.lastReceived!;
        expect(resumeAfter.counter).toBe(13n);
        await p1.client.close();
        await send(1);
        const again = await client(sync, receiver, [nodes[1]!, nodes[2]!], {
          trustThreshold: 2,
          resumeAfter,
        });
        await waitFor('the resumed event', () => again.events.length === 1);
        expect(again.events.map((e) => [e.counter, texts(e)[0]])).toEqual([[14n, 'm14']]);
      });
    });

    it('rejects what a sequencer signs with another key, and misconfigured connections', async () => {
      await withPostgresSchema(async (config) => {
        const sync = threeSequencers('bft-forged');
        const [a, b, c] = sync.sequencers as [TestMember, TestMember, TestMember];
        // The node of sequencer a signs with b's key: its events must not count for a.
        const nodes = [
          await startNode(sync, config, 0, { as: { id: a.id, key: b.key } }),
          await startNode(sync, config, 1),
          await startNode(sync, config, 2),
        ];
        const [sender, receiver] = sync.participants as [TestMember, TestMember];
        const p1 = await client(sync, receiver, nodes, { trustThreshold: 2 });
        const p0 = await client(sync, sender, [nodes[1]!], {});
        for (let i = 0; i < 3; i++) {
          await (
            await p0.client.send({ envelopes: [envelope(`m${i}`, receiver.id)], maxSequencingTime: soon() })
          ).outcome;
        }
        await waitFor('three events', () => p1.events.length === 3);
        expect(p1.events.map((e) => [e.counter, texts(e)[0]])).toEqual([
          [0n, 'm0'],
          [1n, 'm1'],
          [2n, 'm2'],
        ]);
        // a was given up; b and c agree, and what is handed on carries a signature of one of them.
        expect(states(p1)).toEqual(['failed', 'subscribed', 'subscribed']);
        expect(p1.client.state).toBe('connected');
        const honest = new Set([b.key, c.key].map((k) => k.publicKey.fingerprint.value));
        for (const e of p1.events) expect(honest.has(e.proof.root.signedBy)).toBe(true);

        // With a third of the sequencers faulty and a threshold of 3, delivery becomes impossible: a typed error.
        let fatal: unknown;
        const strict = await client(sync, receiver, nodes, {
          trustThreshold: 3,
          onFatal: (e) => {
            fatal = e;
          },
        });
        await waitFor('the strict client to fail', () => strict.client.state === 'failed');
        expect(fatal).toMatchObject({ code: SequencerErrors.SEQUENCER_AGGREGATION_FAILED.code });
        expect((fatal as Error).cause).toMatchObject({ code: CryptoErrors.SIGNATURE_INVALID.code });
        expect(strict.events).toHaveLength(0);

        const tooHigh = await rejection(client(sync, receiver, nodes, { trustThreshold: 4 }));
        expect(tooHigh.code).toBe(SequencerErrors.SEQUENCER_CONNECTIONS_INVALID.code);
        const twice = await rejection(
          connect(sync, receiver, [], {
            connections: [{ endpoints: [nodes[1]!.endpoint] }, { endpoints: [nodes[1]!.endpoint] }],
          }),
        );
        expect(twice.code).toBe(SequencerErrors.SEQUENCER_CONNECTION_MISMATCH.code);
        expect(twice.message).toContain('reaches already');
      });
    });
  },
);
