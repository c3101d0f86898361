import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { type Envelope, EnvelopeKind } from '../generated/weft/sequencer/v1/sequencing.js';
import { createLogger } from '../observability/index.js';
import { describeBackend } from '../storage/testing.js';
import {
  decodeTopologyBroadcast,
  encodeTopologyBroadcast,
  processSequencedTopology,
  topologyBroadcastEnvelope,
  topologyTransactionsOf,
} from './broadcast.js';
import { TopologyProcessor } from './processor.js';
import { onboardingTransactions, testSynchronizer } from './testing.js';

const sync = testSynchronizer({ seed: 'broadcast' });
const other = testSynchronizer({ seed: 'another synchronizer' });
const txs = onboardingTransactions(sync.participant('p1'), sync.synchronizerId);

function recordingLogger() {
  const lines: { level: string; msg: string; err?: { code?: string } }[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s) => lines.push(JSON.parse(s)) } });
  return { logger, lines };
}

const garbage: Envelope = {
  content: Uint8Array.from([0xff, 0xff, 0xff, 0x01]),
  recipients: [{ recipient: { oneofKind: 'allMembers', allMembers: {} } }],
  kind: EnvelopeKind.TOPOLOGY_BROADCAST,
};

describe('topology broadcasts', () => {
  it('encode the transactions for one synchronizer, addressed to all members', () => {
    const envelope = topologyBroadcastEnvelope(sync.synchronizerId, txs);
    expect(envelope.kind).toBe(EnvelopeKind.TOPOLOGY_BROADCAST);
    expect(envelope.recipients).toEqual([{ recipient: { oneofKind: 'allMembers', allMembers: {} } }]);
    expect(decodeTopologyBroadcast(envelope.content, sync.synchronizerId)).toEqual(txs);
    expect(decodeTopologyBroadcast(encodeTopologyBroadcast(sync.synchronizerId, txs))).toEqual(txs);
  });

  it('decoding refuses an undecodable broadcast and one of another synchronizer', () => {
    const code = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        if (isWeftError(e)) return e.code;
        throw e;
      }
      return undefined;
    };
    expect(code(() => decodeTopologyBroadcast(garbage.content))).toBe('TOPOLOGY_BROADCAST_INVALID');
    const foreign = encodeTopologyBroadcast(other.synchronizerId, txs);
    expect(code(() => decodeTopologyBroadcast(foreign, sync.synchronizerId))).toBe(
      'TOPOLOGY_BROADCAST_INVALID',
    );
  });

  it('reading an event skips, and logs, what cannot be processed and keeps the rest in order', () => {
    const { logger, lines } = recordingLogger();
    const protocol: Envelope = { ...garbage, kind: EnvelopeKind.PROTOCOL };
    expect(topologyTransactionsOf([protocol], sync.synchronizerId, logger)).toBeUndefined();
    const read = topologyTransactionsOf(
      [
        topologyBroadcastEnvelope(sync.synchronizerId, txs.slice(0, 1)),
        garbage,
        topologyBroadcastEnvelope(other.synchronizerId, txs),
        protocol,
        topologyBroadcastEnvelope(sync.synchronizerId, txs.slice(1)),
      ],
      sync.synchronizerId,
      logger,
    );
    expect(read).toEqual(txs);
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.err?.code)).toEqual([
      'TOPOLOGY_BROADCAST_INVALID',
      'TOPOLOGY_BROADCAST_INVALID',
    ]);
    // A broadcast that was skipped whole still marks the event as carrying topology.
    expect(topologyTransactionsOf([garbage], sync.synchronizerId, logger)).toEqual([]);
  });
});

describeBackend('sqlite', 'processing broadcast topology', (backend) => {
  it('processes a sequencing time once: replays and imported times are skipped', async () => {
    const processor = await TopologyProcessor.create({
      storage: await backend.open(),
      synchronizerId: sync.synchronizerId,
    });
    const genesis = await processSequencedTopology(processor, 1000n, sync.genesis.batch);
    expect(genesis?.results.every((r) => r.outcome === 'accepted')).toBe(true);
    expect(await processSequencedTopology(processor, 1000n, sync.genesis.batch)).toBeUndefined();
    expect(await processSequencedTopology(processor, 999n, txs)).toBeUndefined();
    expect(await processSequencedTopology(processor, 2000n, [])).toBeUndefined();
    const next = await processSequencedTopology(processor, 2000n, txs);
    expect(next?.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(processor.lastSequenced).toBe(2000n);
  });
});
