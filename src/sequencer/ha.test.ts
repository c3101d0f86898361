import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { Envelope } from '../generated/weft/sequencer/v1/sequencing.js';
import { StoredBatch } from '../generated/weft/sequencer/v1/stored_batch.js';
import type { Storage } from '../storage/index.js';
import { openStorage } from '../storage/index.js';
import { postgresSkipReason, withPostgresSchema } from '../storage/testing.js';
import { systemClock } from '../time/index.js';
import { sequencerSettings } from './config.js';
import { SequencerErrors } from './errors.js';
import {
  connect,
  envelope,
  type Recorder,
  soon,
  startSequencerNode,
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

async function storageOn(config: Parameters<typeof openStorage>[0]): Promise<Storage> {
  const storage = await openStorage(config);
  cleanups.push(() => storage.close());
  return storage;
}

describe.skipIf(unavailable !== undefined)('sequencer nodes sharing one PostgreSQL database', () => {
  async function startNode(sync: TestSynchronizer, name: string, config: Parameters<typeof openStorage>[0]) {
    const { node } = await startSequencerNode(sync, { name, storage: await storageOn(config), settings: HA });
    cleanups.push(() => node.stop());
    return node;
  }

  async function client(sync: TestSynchronizer, index: number, endpoints: string[]): Promise<Recorder> {
    const member = index < 0 ? sync.mediator : sync.participants[index]!;
    const r = await connect(sync, member, endpoints, { resendIntervalMs: 200 });
    cleanups.push(() => r.client.close());
    return r;
  }

  it('deliver one identical order to members connected to different nodes', async () => {
    await withPostgresSchema(async (config) => {
      const sync = testSynchronizer({ seed: 'ha-order', participants: 3, now: systemClock.now() });
      const a = await startNode(sync, 'seq-a', config);
      const b = await startNode(sync, 'seq-b', config);
      expect(a.sequencer.nodeIndex).not.toBe(b.sequencer.nodeIndex);
      const p0 = await client(sync, 0, [a.endpoint]);
      const p1 = await client(sync, 1, [a.endpoint]);
      const p2 = await client(sync, 2, [b.endpoint]);
      const everyone = sync.participants.map((p) => p.id);
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        for (const [r, name] of [
          [p0, 'a'],
          [p2, 'b'],
        ] as const) {
          const handle = await r.client.send({
            envelopes: [envelope(`${name}${i}`, ...everyone)],
            maxSequencingTime: soon(),
          });
          sends.push(handle.outcome);
        }
      }
      await Promise.all(sends);
      await waitFor('all deliveries', () => [p0, p1, p2].every((r) => r.events.length === 20));
      const order = (r: Recorder) => r.events.map((e) => [e.timestamp, texts(e)[0]]);
      expect(order(p1)).toEqual(order(p0));
      expect(order(p2)).toEqual(order(p0));
      // Each node's timestamps lie in its own residue class.
      const total = BigInt(HA.highAvailability.totalNodeCount);
      const residues = new Set(p0.events.map((e) => Number(e.timestamp % total)));
      expect(residues).toEqual(new Set([a.sequencer.nodeIndex, b.sequencer.nodeIndex]));
    });
  });

  it('survive a crashed writer: the other node continues, the restarted one recovers, nothing is lost or doubled', async () => {
    await withPostgresSchema(async (config) => {
      const sync = testSynchronizer({ seed: 'ha-crash', participants: 2, now: systemClock.now() });
      const a = await startNode(sync, 'seq-a', config);
      const b = await startNode(sync, 'seq-b', config);
      const p0 = await client(sync, 0, [a.endpoint, b.endpoint]);
      const p1 = await client(sync, 1, [b.endpoint]);
      const to = sync.participants[1]!.id;
      const send = async (i: number, text = `m${i}`) =>
        p0.client.send({ envelopes: [envelope(text, to)], maxSequencingTime: soon(), messageId: `m${i}` });
      for (let i = 0; i < 5; i++) await (await send(i)).outcome;
      expect(p0.client.endpoint).toBe(a.endpoint);

      await a.kill();
      // What a writer killed between writing events and advancing its watermark leaves behind: an event above its
      // watermark, for a request that its sender will resend.
      const db = await storageOn(config);
      const slot = (
        await db.query<{ node_index: bigint; watermark_ts: bigint }>(
          'SELECT node_index, watermark_ts FROM sequencer_watermarks',
        )
      ).find((r) => Number(r.node_index) === a.sequencer.nodeIndex)!;
      const ghostTs = slot.watermark_ts + 10n * 1000n * BigInt(HA.highAvailability.totalNodeCount);
      const ids = new Map(
        (await db.query<{ id: bigint; member: string }>('SELECT id, member FROM sequencer_members')).map(
          (r) => [r.member, r.id],
        ),
      );
      const ghost = async (ts: bigint, messageId: string) => {
        const content = StoredBatch.toBinary({
          envelopes: [
            {
              envelope: Envelope.toBinary(envelope('ghost', to)),
              memberIds: [ids.get(to)!],
              allMembers: false,
            },
          ],
        });
        const index = a.sequencer.nodeIndex;
        await db.execute('INSERT INTO sequencer_payloads (id, node_index, content) VALUES ($1, $2, $3)', [
          ts,
          index,
          content,
        ]);
        await db.execute(
          `INSERT INTO sequencer_events (ts, node_index, kind, sender_id, message_id, is_topology)
           VALUES ($1, $2, 'deliver', $3, $4, FALSE)`,
          [ts, index, ids.get(sync.participants[0]!.id)!, messageId],
        );
        for (const member of [to, sync.participants[0]!.id]) {
          await db.execute(
            'INSERT INTO sequencer_event_recipients (recipient_id, ts, node_index) VALUES ($1, $2, $3)',
            [ids.get(member)!, ts, index],
          );
        }
      };
      // m5 will be resent by p0; the other ghost's request is never resent.
      await ghost(ghostTs, 'm5');
      await ghost(ghostTs + 1000n * BigInt(HA.highAvailability.totalNodeCount), 'lost-before-its-watermark');

      // p0 fails over to b; m5 is first taken for the ghost's duplicate, then sequenced once a is offline.
      const sends = [];
      for (let i = 5; i < 10; i++) sends.push((await send(i)).outcome);
      await Promise.all(sends);
      expect(p0.client.endpoint).toBe(b.endpoint);
      await waitFor('all ten', () => p1.events.length === 10);
      // m5 was sequenced last: only once a was marked offline did its ghost count as dead.
      expect(p1.events.map((e) => texts(e)[0])).toEqual([
        'm0',
        'm1',
        'm2',
        'm3',
        'm4',
        'm6',
        'm7',
        'm8',
        'm9',
        'm5',
      ]);
      expect(p1.events.map((e) => e.counter)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));

      // The crashed node restarts under its name, reclaims its slot and serves again.
      const restarted = await startNode(sync, 'seq-a', config);
      expect(restarted.sequencer.nodeIndex).toBe(a.sequencer.nodeIndex);
      const p0again = await client(sync, 0, [restarted.endpoint]);
      await (
        await p0again.client.send({ envelopes: [envelope('after restart', to)], maxSequencingTime: soon() })
      ).outcome;
      await waitFor('the eleventh', () => p1.events.length === 11);
      expect(texts(p1.events[10]!)).toEqual(['after restart']);
      // Recovery deleted what the crashed incarnation left above its watermark.
      const ghosts = await db.query(
        "SELECT ts FROM sequencer_events WHERE message_id = 'lost-before-its-watermark'",
      );
      expect(ghosts).toEqual([]);
      expect(p1.events.flatMap(texts)).not.toContain('ghost');
    });
  });

  it('keep a node name exclusive while its owner is alive', async () => {
    await withPostgresSchema(async (config) => {
      const sync = testSynchronizer({ seed: 'ha-names', participants: 1, now: systemClock.now() });
      const a = await startNode(sync, 'seq-a', config);
      const error = await startNode(sync, 'seq-a', config).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWeftError(error, SequencerErrors.SEQUENCER_NODE_NAME_IN_USE)).toBe(true);
      expect(String(error)).toContain(
        `sequencer node name seq-a is in use by a live node (writer slot ${a.sequencer.nodeIndex}`,
      );
      // The live node kept its slot and serves.
      const p0 = await client(sync, 0, [a.endpoint]);
      const to = sync.participants[0]!.id;
      await (await p0.client.send({ envelopes: [envelope('still here', to)], maxSequencingTime: soon() }))
        .outcome;
      await waitFor('the delivery', () => p0.events.length === 1);
      // Stopped cleanly, its name is free at once.
      await a.stop();
      const again = await startNode(sync, 'seq-a', config);
      expect(again.sequencer.nodeIndex).toBe(a.sequencer.nodeIndex);
    });
  });
});
