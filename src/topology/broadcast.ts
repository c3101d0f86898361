import { WeftError } from '../errors/index.js';
import { type Envelope, EnvelopeKind } from '../generated/weft/sequencer/v1/sequencing.js';
import { TopologyTransactionsBroadcast } from '../generated/weft/topology/v1/topology.js';
import type { SynchronizerId } from '../identity/index.js';
import type { Logger } from '../observability/index.js';
import { TopologyErrors } from './errors.js';
import type { ProcessorResult, TopologyProcessor } from './processor.js';

/**
 * Topology broadcasts: how signed topology transactions travel to every member of a synchronizer, as one
 * `TopologyTransactionsBroadcast` in an envelope of kind TOPOLOGY_BROADCAST addressed to all members. Every node
 * encodes, reads and processes them here, so that all of them skip what they cannot read in the same way.
 */

/** Encodes the encoded SignedTopologyTransactions `signedTransactions` as a broadcast on `synchronizerId`. */
export function encodeTopologyBroadcast(
  synchronizerId: SynchronizerId | string,
  signedTransactions: readonly Uint8Array[],
): Uint8Array {
  return TopologyTransactionsBroadcast.toBinary({
    synchronizerId: String(synchronizerId),
    signedTransactions: [...signedTransactions],
  });
}

/** The envelope that has `signedTransactions` sequenced as one topology broadcast to all members. */
export function topologyBroadcastEnvelope(
  synchronizerId: SynchronizerId | string,
  signedTransactions: readonly Uint8Array[],
): Envelope {
  return {
    content: encodeTopologyBroadcast(synchronizerId, signedTransactions),
    recipients: [{ recipient: { oneofKind: 'allMembers', allMembers: {} } }],
    kind: EnvelopeKind.TOPOLOGY_BROADCAST,
  };
}

/**
 * The encoded SignedTopologyTransactions of a broadcast; TOPOLOGY_BROADCAST_INVALID when `content` cannot be
 * decoded or, with `synchronizerId`, the broadcast is for another synchronizer. The transactions themselves are
 * validated when they are processed.
 */
export function decodeTopologyBroadcast(
  content: Uint8Array,
  synchronizerId?: SynchronizerId | string,
): Uint8Array[] {
  let broadcast: TopologyTransactionsBroadcast;
  try {
    broadcast = TopologyTransactionsBroadcast.fromBinary(content);
  } catch (e) {
    throw new WeftError(
      TopologyErrors.TOPOLOGY_BROADCAST_INVALID,
      `the topology broadcast cannot be decoded: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (synchronizerId !== undefined && broadcast.synchronizerId !== String(synchronizerId)) {
    throw new WeftError(
      TopologyErrors.TOPOLOGY_BROADCAST_INVALID,
      `the topology broadcast is for synchronizer ${broadcast.synchronizerId}, not ${synchronizerId}`,
      { synchronizerId: broadcast.synchronizerId },
    );
  }
  return broadcast.signedTransactions;
}

/**
 * The topology transactions broadcast in `envelopes` (one sequenced event) on `synchronizerId`, in order;
 * undefined when no envelope is a topology broadcast. A broadcast that cannot be decoded, or is for another
 * synchronizer, is logged and skipped: a member never stops processing because of one.
 */
export function topologyTransactionsOf(
  envelopes: readonly Envelope[],
  synchronizerId: SynchronizerId | string,
  logger: Logger,
): Uint8Array[] | undefined {
  let found: Uint8Array[] | undefined;
  for (const envelope of envelopes) {
    if (envelope.kind !== EnvelopeKind.TOPOLOGY_BROADCAST) continue;
    found ??= [];
    try {
      found.push(...decodeTopologyBroadcast(envelope.content, synchronizerId));
    } catch (e) {
      logger.warn({ err: e }, 'skipping a topology broadcast that cannot be processed');
    }
  }
  return found;
}

/**
 * Processes the topology transactions sequenced at `ts`, unless the processor has processed that time already: a
 * replay after a restart, or an event the imported onboarding state covers. Resolves with the outcome, or
 * undefined when there was nothing new to process.
 */
export async function processSequencedTopology(
  processor: TopologyProcessor,
  ts: bigint,
  transactions: readonly Uint8Array[],
): Promise<ProcessorResult | undefined> {
  if (transactions.length === 0 || ts <= (processor.lastSequenced ?? -1n)) return undefined;
  return processor.process(ts, transactions);
}
