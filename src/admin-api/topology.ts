import { CommonErrors, WeftError } from '../errors/index.js';
import type { MediatorId, SynchronizerId } from '../identity/index.js';
import {
  type MappingKind,
  type MediatorSynchronizerState,
  type MemberIdentity,
  type ParticipantPermission,
  SignedTopologyTransaction,
  StoredTopologyTransaction,
  type TopologyChangeOp,
  TopologyEngine,
  TopologyErrors,
  TopologyManager,
  type TopologyMapping,
  type TopologyProcessor,
  type TopologySigner,
  TopologyTransaction,
  type TrustLevel,
} from '../topology/index.js';

/** The synchronizer a node belongs to, as the Admin API needs it. */
export interface AdminSynchronizer {
  readonly synchronizerId: SynchronizerId;
  readonly protocolVersion: number;
  readonly topology: TopologyProcessor;
  /** Has the encoded SignedTopologyTransactions sequenced as one topology broadcast; resolves with its time. */
  submitTopology(signedTransactions: readonly Uint8Array[]): Promise<bigint>;
}

export interface TopologyQuery {
  /** Only this kind; all kinds when absent. */
  readonly kind?: MappingKind;
  /** Only transactions mentioning an identifier that contains this text. */
  readonly filter?: string;
  /** Also pending proposals (head state only). */
  readonly includeProposals?: boolean;
  /** The state effective at this time (µs); the head state when absent. */
  readonly asOf?: bigint;
}

/** A transaction as the node holds it (a StoredTopologyTransaction is one). */
export interface TopologyEntry {
  readonly signed: SignedTopologyTransaction;
  readonly sequenced: bigint;
  readonly validFrom: bigint;
  readonly validUntil: bigint | undefined;
  readonly status: 'accepted' | 'proposal';
}

/** What onboarding a mediator did. */
export interface MediatorOnboarding {
  readonly mediator: MediatorId;
  /** The identity transactions not in force before, then the MediatorSynchronizerState; empty when already active. */
  readonly changes: readonly TopologyChange[];
  readonly alreadyActive: boolean;
}

/** A topology change once the node processed it. */
export interface TopologyChange {
  readonly transaction: TopologyEntry;
  readonly fullyAuthorized: boolean;
}

/** How long a change may take from submission until it is in force on the node (processed and effective). */
const EFFECTIVE_TIMEOUT_MS = 60_000;

/** The identifiers a mapping mentions, for the list filter. */
function identifiersOf(m: TopologyMapping): string[] {
  switch (m.kind) {
    case 'NamespaceDelegation':
      return [String(m.namespace), m.target.fingerprint.value];
    case 'DecentralizedNamespaceDefinition':
      return [String(m.namespace), ...m.owners.map(String)];
    case 'OwnerToKeyMapping':
      return [String(m.member), ...m.signingKeys.map((k) => k.fingerprint.value)];
    case 'SynchronizerTrustCertificate':
    case 'ParticipantSynchronizerPermission':
      return [String(m.participant), String(m.synchronizerId)];
    case 'VettedPackages':
      return [String(m.participant), ...m.packages.map((p) => p.packageId)];
    case 'PartyToParticipant':
      return [String(m.party), ...m.participants.map((p) => String(p.participant))];
    case 'SynchronizerParametersState':
      return [String(m.synchronizerId)];
    case 'MediatorSynchronizerState':
    case 'SequencerSynchronizerState':
      return [String(m.synchronizerId), ...m.active.map(String), ...m.observers.map(String)];
  }
}

/**
 * Reads a node's topology and makes changes signed by the node's namespace key: a change is checked against the
 * head state (dry run), sequenced as a topology broadcast, and reported once the node processed it and it took
 * effect, so a caller that goes on (say, connecting a participant it just allow-listed) sees it in force.
 */
export class TopologyAdmin {
  readonly #manager: TopologyManager;

  constructor(
    private readonly sync: AdminSynchronizer,
    private readonly signer: TopologySigner,
  ) {
    this.#manager = new TopologyManager(sync.topology);
  }

  list(query: TopologyQuery): TopologyEntry[] {
    const topology = this.sync.topology;
    const state = query.asOf === undefined ? topology.head : topology.snapshot(query.asOf);
    const found = [...state.transactions(query.kind)];
    if (query.includeProposals && query.asOf === undefined) {
      found.push(
        ...topology.head.proposals().filter((p) => query.kind === undefined || p.mapping.kind === query.kind),
      );
    }
    const filter = query.filter;
    return filter ? found.filter((t) => identifiersOf(t.mapping).some((id) => id.includes(filter))) : found;
  }

  async propose(mapping: TopologyMapping, op: TopologyChangeOp, serial?: number): Promise<TopologyChange> {
    return this.#submit(
      this.#manager.propose(mapping, {
        op,
        signWith: [this.signer],
        ...(serial === undefined ? {} : { serial }),
      }),
    );
  }

  async authorize(hash: string): Promise<TopologyChange> {
    const proposal = this.sync.topology.head.proposal(hash);
    if (!proposal) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_NOT_FOUND,
        `there is no pending proposal with hash ${hash} on synchronizer ${this.sync.synchronizerId}`,
      );
    }
    return this.#submit(this.#manager.authorize(proposal.signed, this.signer));
  }

  async setParticipantState(
    participant: string,
    permission: ParticipantPermission,
    trustLevel: TrustLevel,
    loginAfter?: bigint,
  ): Promise<TopologyChange> {
    return this.#submit(
      this.#manager.setParticipantState(participant, permission, trustLevel, {
        signWith: [this.signer],
        ...(loginAfter === undefined ? {} : { loginAfter }),
      }),
    );
  }

  async revokeParticipant(participant: string): Promise<TopologyChange> {
    return this.#submit(this.#manager.revokeParticipant(participant, { signWith: [this.signer] }));
  }

  /**
   * Onboards a mediator: its identity transactions and a MediatorSynchronizerState adding it to `group` (a new
   * group gets threshold 1), signed by this node's key, as one broadcast, so the mediator is a member with keys at
   * once. The batch is checked first on a scratch copy of the head state. Nothing is submitted when the mediator
   * is in the group already.
   */
  async addMediator(identity: MemberIdentity<MediatorId>, group = 0): Promise<MediatorOnboarding> {
    const mediator = identity.id;
    const head = this.sync.topology.head;
    const current = head.mediatorGroup(group);
    if (current && [...current.active, ...current.observers].some((m) => m.equals(mediator))) {
      return { mediator, changes: [], alreadyActive: true };
    }
    const state: MediatorSynchronizerState = {
      kind: 'MediatorSynchronizerState',
      synchronizerId: this.sync.synchronizerId,
      group,
      threshold: current?.threshold ?? 1,
      active: [...(current?.active ?? []), mediator],
      observers: [...(current?.observers ?? [])],
    };
    const groupChange = SignedTopologyTransaction.sign(
      TopologyTransaction.create('AddReplace', head.nextSerial(state), state),
      [this.signer],
    );
    // Identity transactions the state holds already (a mediator that left a group and comes back) are skipped.
    const identityTxs = identity.transactions.filter(
      (t) => this.sync.topology.validate(t).status !== 'duplicate',
    );
    const batch = [...identityTxs, groupChange];
    this.#dryRun(batch);
    const known = new Set(identityTxs.map((t) => t.hash.toHex()));
    const changes = await this.#submitAll(batch, (t) => known.has(t.hash.toHex()));
    return { mediator, changes, alreadyActive: false };
  }

  /** Applies `batch` to a copy of the head state; throws the first rejection, as processing would. */
  #dryRun(batch: readonly SignedTopologyTransaction[]): void {
    const topology = this.sync.topology;
    // Copies of the transactions in force: applying the batch expires replaced ones, which must not touch the node's.
    const current = topology.history
      .filter((t) => t.validUntil === undefined)
      .map(
        (t) => new StoredTopologyTransaction(t.id, t.sequenced, t.validFrom, undefined, t.status, t.signed),
      );
    const last = topology.lastSequenced ?? 0n;
    const scratch = new TopologyEngine(this.sync.synchronizerId, {
      transactions: current,
      lastSequenced: last,
      ...(topology.lastEffective === undefined ? {} : { lastEffective: topology.lastEffective }),
    });
    const { results } = scratch.apply(
      last + 1n,
      batch.map((t) => t.toBytes()),
    ).batch;
    results.forEach((r, i) => {
      if (r.outcome === 'rejected') {
        throw (
          r.error ??
          new WeftError(CommonErrors.INVALID_ARGUMENT, `${batch[i]!.transaction} would be rejected`)
        );
      }
    });
  }

  async #submit(signed: SignedTopologyTransaction): Promise<TopologyChange> {
    return (await this.#submitAll([signed]))[0]!;
  }

  /**
   * Has `batch` sequenced as one topology broadcast and reports each transaction once processed and effective.
   * Identity transactions the state holds already (`tolerateDuplicates`) are reported as they are in force.
   */
  async #submitAll(
    batch: readonly SignedTopologyTransaction[],
    tolerateDuplicates: (signed: SignedTopologyTransaction) => boolean = () => false,
  ): Promise<TopologyChange[]> {
    const sequenced = await this.sync.submitTopology(batch.map((t) => t.toBytes()));
    // The node's processor settles the wait when it processes the broadcast and the change is in force.
    const result = await this.sync.topology.whenEffective(sequenced, EFFECTIVE_TIMEOUT_MS);
    return batch.map((signed, i): TopologyChange => {
      const processed = result.results[i]!;
      if (processed.outcome === 'rejected') {
        throw (
          processed.error ??
          new WeftError(CommonErrors.INTERNAL, `topology change ${signed.transaction} was rejected`)
        );
      }
      if (processed.outcome === 'duplicate' && !tolerateDuplicates(signed)) {
        throw new WeftError(
          CommonErrors.ALREADY_EXISTS,
          `${signed.transaction} was in force or pending already when it was sequenced`,
        );
      }
      const proposal = processed.outcome === 'proposal';
      return {
        transaction: {
          signed: processed.transaction ?? signed,
          sequenced,
          validFrom: result.effective,
          validUntil: undefined,
          status: proposal ? 'proposal' : 'accepted',
        },
        fullyAuthorized: !proposal,
      };
    });
  }
}
