import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import type { SynchronizerId } from '../identity/index.js';
import { type Clock, sleep } from '../sequencer/clock.js';
import {
  type MappingKind,
  type ParticipantPermission,
  type ProcessorResult,
  type SignedTopologyTransaction,
  type TopologyChangeOp,
  TopologyErrors,
  TopologyManager,
  type TopologyMapping,
  type TopologyProcessor,
  type TopologySigner,
  type TrustLevel,
} from '../topology/index.js';
import { AdminErrors } from './errors.js';

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

/** A topology change once the node processed it. */
export interface TopologyChange {
  readonly transaction: TopologyEntry;
  readonly fullyAuthorized: boolean;
}

/** How long a change may take from submission until the node processed it. */
const PROCESSING_TIMEOUT_MS = 30_000;
const POLL_MS = 10;
/** Longest wait for a change to take effect; beyond it the call returns with the change still pending. */
const MAX_EFFECTIVE_WAIT_MS = 60_000;

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
    private readonly clock: Clock,
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

  async #submit(signed: SignedTopologyTransaction): Promise<TopologyChange> {
    const bytes = signed.toBytes();
    const sequenced = await this.sync.submitTopology([bytes]);
    const result = await this.#processed(sequenced, bytes);
    const processed = result.results[0]!;
    if (processed.outcome === 'rejected') {
      throw (
        processed.error ??
        new WeftError(CommonErrors.INTERNAL, `topology change ${signed.transaction} was rejected`)
      );
    }
    if (processed.outcome === 'duplicate') {
      throw new WeftError(
        CommonErrors.ALREADY_EXISTS,
        `${signed.transaction} was in force or pending already when it was sequenced`,
      );
    }
    const proposal = processed.outcome === 'proposal';
    const stored = processed.transaction ?? signed;
    if (!proposal) {
      // Snapshots at times after the effective time contain the change.
      const waitMs = Number((result.effective - this.clock.now()) / 1000n) + 1;
      if (waitMs > 0) await sleep(this.clock, Math.min(waitMs, MAX_EFFECTIVE_WAIT_MS));
    }
    return {
      transaction: {
        signed: stored,
        sequenced,
        validFrom: result.effective,
        validUntil: undefined,
        status: proposal ? 'proposal' : 'accepted',
      },
      fullyAuthorized: !proposal,
    };
  }

  /** Waits until the node processed the broadcast sequenced at `sequenced`, then reads back its outcome. */
  async #processed(sequenced: bigint, bytes: Uint8Array): Promise<ProcessorResult> {
    const topology = this.sync.topology;
    for (let waited = 0; (topology.lastSequenced ?? -1n) < sequenced; waited += POLL_MS) {
      if (waited >= PROCESSING_TIMEOUT_MS) {
        throw new WeftError(
          CommonErrors.DEADLINE_EXCEEDED,
          `the topology change sequenced at ${sequenced} was not processed within ${PROCESSING_TIMEOUT_MS / 1000} s; list the topology to see whether it took effect`,
        );
      }
      await sleep(this.clock, POLL_MS);
    }
    try {
      // A batch the processor has seen already is answered from its store: this reads the recorded outcome.
      return await topology.process(sequenced, [bytes]);
    } catch (e) {
      if (isWeftError(e, TopologyErrors.TOPOLOGY_OUT_OF_ORDER)) {
        throw new WeftError(
          AdminErrors.ADMIN_TOPOLOGY_CHANGE_LOST,
          `the topology change sequenced at ${sequenced} was dropped (its sequencer node failed before the change became final); submit it again`,
        );
      }
      throw e;
    }
  }
}
