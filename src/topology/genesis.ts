import type { EncryptionPublicKey } from '../crypto/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import {
  type MediatorId,
  type Member,
  Namespace,
  type SequencerId,
  SynchronizerId,
  UniqueIdentifier,
} from '../identity/index.js';
import { TopologyEngine } from './engine.js';
import {
  DEFAULT_SYNCHRONIZER_PARAMETERS,
  type DynamicSynchronizerParameters,
  decentralizedNamespaceOf,
  type TopologyMapping,
  uniqueKey,
} from './mapping.js';
import { SignedTopologyTransaction, type TopologySigner, TopologyTransaction } from './transaction.js';

/** A sequencer or mediator of the genesis topology whose keys the caller holds: the genesis signs its identity. */
export interface GenesisNode<M extends Member> {
  readonly id: M;
  /** The root key of the node's namespace: `id`'s namespace must be its fingerprint. */
  readonly namespaceKey: TopologySigner;
  /** The node's protocol signing key; it signs its own registration (proof of possession). */
  readonly signingKey: TopologySigner;
  readonly encryptionKey?: EncryptionPublicKey;
}

/**
 * A member known by its identity transactions, signed by its own keys (root NamespaceDelegations of its namespace
 * and its OwnerToKeyMapping, as its node exports them): another operator's sequencer or mediator.
 */
export interface MemberIdentity<M extends Member> {
  readonly id: M;
  readonly transactions: readonly SignedTopologyTransaction[];
}

export interface GenesisOptions {
  /** The identifier part of the synchronizer id `<name>::<owners' namespace>`. */
  readonly synchronizerName: string;
  /** The owners' root keys; each owner is the namespace of its key. */
  readonly owners: readonly TopologySigner[];
  /** Owners that must sign later changes of the synchronizer; default all owners. */
  readonly ownerThreshold?: number;
  readonly sequencers: readonly (GenesisNode<SequencerId> | MemberIdentity<SequencerId>)[];
  readonly mediators: readonly (GenesisNode<MediatorId> | MemberIdentity<MediatorId>)[];
  /** Default 1. */
  readonly sequencerThreshold?: number;
  /** Default 1. */
  readonly mediatorThreshold?: number;
  /** Changes to the default parameters (e.g. `onboardingRestriction: 'RestrictedOpen'`). */
  readonly parameters?: Partial<DynamicSynchronizerParameters>;
}

export interface Genesis {
  readonly synchronizerId: SynchronizerId;
  /** The genesis transactions, in the order they must be processed. */
  readonly transactions: readonly SignedTopologyTransaction[];
  /** The same, encoded: the first batch every node's processor gets, at the genesis timestamp. */
  readonly batch: readonly Uint8Array[];
}

const hasKeys = (node: GenesisNode<Member> | MemberIdentity<Member>): node is GenesisNode<Member> =>
  'namespaceKey' in node;

/**
 * Builds and signs the genesis topology of a synchronizer: the owners' root delegations and their decentralized
 * namespace (which names the synchronizer), the sequencers' and mediators' namespaces and keys (signed here, or as
 * their own identity transactions), the sequencer and mediator groups, and the parameters. The result is checked
 * by processing it in memory, so a genesis that any node would reject (a bad signature, say) is never returned.
 * Processed as a first batch, it takes effect at its sequencing time.
 */
export function createGenesis(options: GenesisOptions): Genesis {
  if (options.owners.length === 0)
    throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'a synchronizer needs at least one owner');
  const ownerNamespaces = options.owners.map((o) => Namespace.fromRootKey(o.publicKey));
  const namespace = decentralizedNamespaceOf(ownerNamespaces);
  const synchronizerId = new SynchronizerId(UniqueIdentifier.create(options.synchronizerName, namespace));
  const members: readonly (GenesisNode<Member> | MemberIdentity<Member>)[] = [
    ...options.sequencers,
    ...options.mediators,
  ];
  const ids = members.map((m) => String(m.id));
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice)
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `${twice} is given twice among the sequencers and mediators of the genesis`,
    );
  const nodes = members.filter(hasKeys);
  for (const node of nodes) {
    if (!Namespace.fromRootKey(node.namespaceKey.publicKey).equals(node.id.namespace)) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `the namespace of ${node.id} is not the fingerprint of its namespace key ${node.namespaceKey.publicKey.fingerprint}`,
      );
    }
  }

  const transactions: SignedTopologyTransaction[] = [];
  const added = new Set<string>();
  const include = (signed: SignedTopologyTransaction) => {
    const key = uniqueKey(signed.mapping);
    if (added.has(key)) return;
    added.add(key);
    transactions.push(signed);
  };
  const add = (mapping: TopologyMapping, signers: readonly TopologySigner[]) => {
    if (added.has(uniqueKey(mapping))) return;
    include(SignedTopologyTransaction.sign(TopologyTransaction.create('AddReplace', 1, mapping), signers));
  };
  for (const root of [...options.owners, ...nodes.map((n) => n.namespaceKey)]) {
    add(
      {
        kind: 'NamespaceDelegation',
        namespace: Namespace.fromRootKey(root.publicKey),
        target: root.publicKey,
        restriction: { kind: 'all' },
      },
      [root],
    );
  }
  add(
    {
      kind: 'DecentralizedNamespaceDefinition',
      namespace,
      threshold: options.ownerThreshold ?? options.owners.length,
      owners: ownerNamespaces,
    },
    options.owners,
  );
  for (const node of nodes) {
    add(
      {
        kind: 'OwnerToKeyMapping',
        member: node.id,
        signingKeys: [node.signingKey.publicKey],
        encryptionKeys: node.encryptionKey ? [node.encryptionKey] : [],
      },
      [node.namespaceKey, node.signingKey],
    );
  }
  for (const member of members) if (!hasKeys(member)) member.transactions.forEach(include);
  add(
    {
      kind: 'SequencerSynchronizerState',
      synchronizerId,
      threshold: options.sequencerThreshold ?? 1,
      active: options.sequencers.map((s) => s.id),
      observers: [],
    },
    options.owners,
  );
  // A synchronizer may start without a mediator (a sequencer bootstrapped on its own): the owners add mediator
  // group 0 later with a MediatorSynchronizerState proposal.
  if (options.mediators.length > 0) {
    add(
      {
        kind: 'MediatorSynchronizerState',
        synchronizerId,
        group: 0,
        threshold: options.mediatorThreshold ?? 1,
        active: options.mediators.map((m) => m.id),
        observers: [],
      },
      options.owners,
    );
  }
  add(
    {
      kind: 'SynchronizerParametersState',
      synchronizerId,
      parameters: { ...DEFAULT_SYNCHRONIZER_PARAMETERS, ...options.parameters },
    },
    options.owners,
  );

  const batch = transactions.map((t) => t.toBytes());
  const check = new TopologyEngine(synchronizerId).apply(0n, batch).batch;
  check.results.forEach((r, i) => {
    if (r.outcome !== 'accepted') {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `genesis transaction ${transactions[i]} would be ${r.outcome}${r.error ? `: ${r.error.message}` : ''}`,
      );
    }
  });
  return { synchronizerId, transactions, batch };
}
