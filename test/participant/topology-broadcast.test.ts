import { afterEach, expect, it } from 'vitest';
import { Envelope } from '../../src/generated/weft/sequencer/v1/sequencing.js';
import { StoredBatch } from '../../src/generated/weft/sequencer/v1/stored_batch.js';
import { PartyId } from '../../src/identity/index.js';
import { type ParticipantTestNetwork, participantTestNetwork } from '../../src/participant/testing.js';
import { sequencerSettings } from '../../src/sequencer/index.js';
import { waitFor } from '../../src/sequencer/testing.js';
import { describeBackend } from '../../src/storage/testing.js';

let net: ParticipantTestNetwork | undefined;

afterEach(async () => {
  await net?.close();
  net = undefined;
});

/**
 * Two sequencer nodes share one database (PostgreSQL); the participant that meets the fault reads from the node
 * that has not served the event yet, with the nodes' events buffers off: a node keeps the recent events of the
 * total order in memory, so only a reader served from the database meets a fault of the database.
 */
describeBackend(
  'postgres',
  'a participant that receives a topology broadcast it cannot decode',
  (backend) => {
    it('logs and skips it, and goes on processing the events after it', async () => {
      net = await participantTestNetwork({
        seed: 'participant-undecodable-broadcast',
        synchronizerStorage: () => backend.freshConfig(),
        sequencerNodes: 2,
        sequencerSettings: sequencerSettings({ 'events-buffer': { 'max-events': 0 } }),
      });
      const [a, b] = net.endpoints as [string, string];
      const reader = await net.startParticipant('reader', { endpoints: [b] });
      const host = (await net.startParticipant('host', { endpoints: [a] })).node;
      await net.stopParticipant(reader);

      const skipped = await host.allocateParty('skipped');
      // A storage fault: the broadcast that allocated `skipped` is corrupted in the sequencer's database after the
      // running members processed it and before the stopped participant reads it.
      const storage = net.sequencerStorage;
      const { ts } = (await storage.queryOne<{ ts: bigint }>(
        'SELECT MAX(ts) AS ts FROM sequencer_events WHERE is_topology = TRUE',
      ))!;
      const { content } = (await storage.queryOne<{ content: Uint8Array }>(
        'SELECT content FROM sequencer_payloads WHERE id = $1',
        [ts],
      ))!;
      const batch = StoredBatch.fromBinary(content);
      for (const stored of batch.envelopes) {
        const envelope = Envelope.fromBinary(stored.envelope);
        stored.envelope = Envelope.toBinary({
          ...envelope,
          content: Uint8Array.from([0xff, 0xff, 0xff, 0x01]),
        });
      }
      await storage.execute('UPDATE sequencer_payloads SET content = $1 WHERE id = $2', [
        StoredBatch.toBinary(batch),
        ts,
      ]);
      const next = await host.allocateParty('next');

      const restarted = (await net.startParticipant('reader', { config: reader.config, endpoints: [b] }))
        .node;
      const topology = restarted.topology(net.sync.synchronizerId)!;
      const hosted = (party: string) =>
        topology.snapshot(BigInt(Date.now()) * 1000n).partyHosting(PartyId.parse(party)) !== undefined;
      await waitFor('the participant to process the broadcast after the undecodable one', () => hosted(next));
      expect(hosted(skipped)).toBe(false);
      expect(topology.lastSequenced).toBeGreaterThan(ts);
      expect(restarted.readiness()).toBeUndefined();
    });
  },
);
