import { CommonErrors, WeftError } from '../errors/index.js';
import type { ParticipantId, SynchronizerId } from '../identity/index.js';
import { identityTransactions, type NodeIdentity } from '../node/index.js';
import type { SendHandle, SendRequest } from '../sequencer/index.js';
import type { Clock } from '../time/index.js';
import {
  SignedTopologyTransaction,
  TopologyManager,
  type TopologyMapping,
  type TopologyProcessor,
  type TopologySigner,
  TopologyTransaction,
  topologyBroadcastEnvelope,
} from '../topology/index.js';

/**
 * The participant's own topology requests: its onboarding transactions, and the changes it makes on a connected
 * synchronizer (party allocations, vettings), each submitted and awaited until in force through one path.
 */

/** A connected synchronizer as a topology request needs it: its topology state and a way to send. */
export interface TopologyRequestTarget {
  readonly synchronizerId: SynchronizerId;
  readonly topology: TopologyProcessor;
  readonly client: { send(request: SendRequest): Promise<SendHandle> };
}

/**
 * What a participant hands the sequencer to join a synchronizer: its identity transactions (root namespace
 * delegation, keys) and its SynchronizerTrustCertificate.
 */
export function onboardingTransactions(identity: NodeIdentity, synchronizerId: SynchronizerId): Uint8Array[] {
  const trustCertificate = SignedTopologyTransaction.sign(
    TopologyTransaction.create('AddReplace', 1, {
      kind: 'SynchronizerTrustCertificate',
      participant: identity.member as ParticipantId,
      synchronizerId,
    }),
    [identity.namespaceKey.privateKey],
  ).toBytes();
  return [...identityTransactions(identity), trustCertificate];
}

/**
 * Proposes `mapping` signed by `signer` against the head state, has it sequenced as a topology broadcast on
 * `target`, and waits until it is in force ({@link TopologyProcessor.whenEffective}: no polling); `what` names the
 * change in errors. Fails with the processor's rejection, or TOPOLOGY_CHANGE_TIMEOUT after `timeoutMs`.
 */
export async function requestTopologyChange(
  target: TopologyRequestTarget,
  mapping: TopologyMapping,
  o: { signer: TopologySigner; clock: Clock; timeoutMs: number; what: string },
): Promise<void> {
  const tx = new TopologyManager(target.topology).propose(mapping, { signWith: [o.signer] });
  const handle = await target.client.send({
    envelopes: [topologyBroadcastEnvelope(target.synchronizerId, [tx.toBytes()])],
    maxSequencingTime: o.clock.now() + BigInt(o.timeoutMs) * 1000n,
  });
  const outcome = await handle.outcome;
  if (outcome.kind === 'error') {
    throw new WeftError(
      CommonErrors.UNAVAILABLE,
      `${o.what} was not sequenced: ${outcome.code}: ${outcome.reason}`,
    );
  }
  const { results } = await target.topology.whenEffective(outcome.timestamp, o.timeoutMs);
  const result = results[0];
  if (result?.outcome === 'rejected') {
    throw (
      result.error ??
      new WeftError(CommonErrors.INTERNAL, `${o.what} was rejected by the topology processing`)
    );
  }
  if (result?.outcome === 'proposal') {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `${o.what} needs signatures of other namespaces; it stays a proposal until they authorize it`,
    );
  }
}
