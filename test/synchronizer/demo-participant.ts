/**
 * A demo participant for synchronizer tests: a bare member with its own keys that joins through the sequencer's
 * public API and exchanges raw messages (no participant node), and how to connect it once it is active.
 */
import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type RandomSource,
  type SigningPrivateKey,
  systemRandom,
} from '../../src/crypto/index.js';
import { isWeftError } from '../../src/errors/index.js';
import { Namespace, ParticipantId, SynchronizerId, UniqueIdentifier } from '../../src/identity/index.js';
import { SequencerClient, type SequencerClientOptions, SequencerErrors } from '../../src/sequencer/index.js';
import { sleep, systemClock } from '../../src/time/index.js';
import {
  SignedTopologyTransaction,
  type TopologyMapping,
  TopologyTransaction,
} from '../../src/topology/index.js';

/** A participant member of the demo: its own namespace key, signing key and encryption key. */
export interface DemoParticipant {
  readonly id: string;
  /** The root key of its namespace, which signs its topology transactions. */
  readonly namespaceKey: SigningPrivateKey;
  readonly signingKey: SigningPrivateKey;
  /** Its onboarding transactions: root delegation, keys, trust certificate for the synchronizer. */
  readonly onboarding: readonly Uint8Array[];
}

/** A new participant identity `PAR::name::<namespace>` with the transactions it joins `synchronizerId` with. */
export function demoParticipant(
  name: string,
  synchronizerId: string,
  random: RandomSource = systemRandom,
): DemoParticipant {
  const namespaceKey = generateSigningKeyPair(random).privateKey;
  const signingKey = generateSigningKeyPair(random).privateKey;
  const namespace = Namespace.fromRootKey(namespaceKey.publicKey);
  const participant = new ParticipantId(UniqueIdentifier.create(name, namespace));
  const sign = (mapping: TopologyMapping, signers: readonly SigningPrivateKey[]) =>
    SignedTopologyTransaction.sign(TopologyTransaction.create('AddReplace', 1, mapping), signers).toBytes();
  return {
    id: String(participant),
    namespaceKey,
    signingKey,
    onboarding: [
      sign(
        {
          kind: 'NamespaceDelegation',
          namespace,
          target: namespaceKey.publicKey,
          restriction: { kind: 'all' },
        },
        [namespaceKey],
      ),
      // Signed by the signing key too: proof that the participant holds the key it publishes.
      sign(
        {
          kind: 'OwnerToKeyMapping',
          member: participant,
          signingKeys: [signingKey.publicKey],
          encryptionKeys: [generateEncryptionKeyPair(random).publicKey],
        },
        [namespaceKey, signingKey],
      ),
      sign(
        {
          kind: 'SynchronizerTrustCertificate',
          participant,
          synchronizerId: SynchronizerId.parse(synchronizerId),
        },
        [namespaceKey],
      ),
    ],
  };
}

/**
 * Connects a member that has just been onboarded: its onboarding takes effect after the topology change delay,
 * so SEQUENCER_MEMBER_NOT_ACTIVE is retried until `timeoutMs`.
 */
export async function connectWhenActive(
  options: SequencerClientOptions,
  timeoutMs = 10_000,
): Promise<SequencerClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await SequencerClient.connect(options);
    } catch (e) {
      if (!isWeftError(e, SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE) || Date.now() > deadline) throw e;
      await sleep(systemClock, 50);
    }
  }
}
