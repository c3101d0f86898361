/**
 * Test fixtures: a synchronizer with real keys (from a seeded random source), its genesis, and participants with
 * their onboarding transactions. Imported by tests only; production code imports `./index.js`.
 */
import {
  DeterministicRandom,
  type EncryptionKeyPair,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type SigningPrivateKey,
} from '../crypto/index.js';
import {
  MediatorId,
  type Member,
  Namespace,
  ParticipantId,
  SequencerId,
  type SynchronizerId,
  UniqueIdentifier,
} from '../identity/index.js';
import { createGenesis, type Genesis, type GenesisNode } from './genesis.js';
import type { DynamicSynchronizerParameters, TopologyMapping } from './mapping.js';
import { SignedTopologyTransaction, type TopologySigner, TopologyTransaction } from './transaction.js';

export interface TestNode<M extends Member> {
  readonly id: M;
  readonly namespaceKey: SigningPrivateKey;
  readonly signingKey: SigningPrivateKey;
  readonly encryptionKey: EncryptionKeyPair;
}

export interface TestSynchronizer {
  readonly synchronizerId: SynchronizerId;
  readonly genesis: Genesis;
  /** The owners' root keys. */
  readonly owners: readonly SigningPrivateKey[];
  readonly sequencers: readonly TestNode<SequencerId>[];
  readonly mediators: readonly TestNode<MediatorId>[];
  /** A fresh participant (its own namespace and keys), not yet onboarded. */
  participant(name: string): TestNode<ParticipantId>;
  /** A fresh signing key. */
  key(): SigningPrivateKey;
}

export interface TestSynchronizerOptions {
  readonly seed?: string;
  readonly owners?: number;
  readonly ownerThreshold?: number;
  readonly sequencers?: number;
  readonly mediators?: number;
  readonly parameters?: Partial<DynamicSynchronizerParameters>;
}

/** A synchronizer whose keys derive from `seed`: the same options always give the same keys and transactions. */
export function testSynchronizer(options: TestSynchronizerOptions = {}): TestSynchronizer {
  const random = new DeterministicRandom(options.seed ?? 'weft-topology-test');
  const key = () => generateSigningKeyPair(random).privateKey;
  function node<M extends Member>(make: (uid: UniqueIdentifier) => M, name: string): TestNode<M> {
    const namespaceKey = key();
    return {
      id: make(UniqueIdentifier.create(name, Namespace.fromRootKey(namespaceKey.publicKey))),
      namespaceKey,
      signingKey: key(),
      encryptionKey: generateEncryptionKeyPair(random),
    };
  }
  const owners = Array.from({ length: options.owners ?? 1 }, key);
  const sequencers = Array.from({ length: options.sequencers ?? 1 }, (_, i) =>
    node((uid) => new SequencerId(uid), `sequencer${i + 1}`),
  );
  const mediators = Array.from({ length: options.mediators ?? 1 }, (_, i) =>
    node((uid) => new MediatorId(uid), `mediator${i + 1}`),
  );
  const asGenesisNode = <M extends Member>(n: TestNode<M>): GenesisNode<M> => ({
    id: n.id,
    namespaceKey: n.namespaceKey,
    signingKey: n.signingKey,
  });
  const genesis = createGenesis({
    synchronizerName: 'test-synchronizer',
    owners,
    ...(options.ownerThreshold !== undefined && { ownerThreshold: options.ownerThreshold }),
    sequencers: sequencers.map(asGenesisNode),
    mediators: mediators.map(asGenesisNode),
    ...(options.parameters && { parameters: options.parameters }),
  });
  return {
    synchronizerId: genesis.synchronizerId,
    genesis,
    owners,
    sequencers,
    mediators,
    participant: (name) => node((uid) => new ParticipantId(uid), name),
    key,
  };
}

/** A signed transaction with an explicit serial (default 1), encoded. */
export function signed(
  mapping: TopologyMapping,
  signers: readonly TopologySigner[],
  options: { serial?: number; op?: 'AddReplace' | 'Remove'; proposal?: boolean } = {},
): Uint8Array {
  const tx = TopologyTransaction.create(options.op ?? 'AddReplace', options.serial ?? 1, mapping);
  return SignedTopologyTransaction.sign(tx, signers, { proposal: options.proposal ?? false }).toBytes();
}

/**
 * What a participant submits when it connects: its root delegation, its keys (signed by its namespace and its
 * signing key) and its trust certificate.
 */
export function onboardingTransactions(
  participant: TestNode<ParticipantId>,
  synchronizerId: SynchronizerId,
): Uint8Array[] {
  const root = participant.namespaceKey;
  return [
    signed(
      {
        kind: 'NamespaceDelegation',
        namespace: participant.id.namespace,
        target: root.publicKey,
        restriction: { kind: 'all' },
      },
      [root],
    ),
    signed(
      {
        kind: 'OwnerToKeyMapping',
        member: participant.id,
        signingKeys: [participant.signingKey.publicKey],
        encryptionKeys: [participant.encryptionKey.publicKey],
      },
      [root, participant.signingKey],
    ),
    signed({ kind: 'SynchronizerTrustCertificate', participant: participant.id, synchronizerId }, [root]),
  ];
}
