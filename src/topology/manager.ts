import { CommonErrors, WeftError } from '../errors/index.js';
import { ParticipantId, type SynchronizerId } from '../identity/index.js';
import { TopologyErrors } from './errors.js';
import type { ParticipantPermission, ParticipantSynchronizerLimits, TopologyMapping } from './mapping.js';
import type { HeadState } from './state.js';
import {
  SignedTopologyTransaction,
  type TopologyChangeOp,
  type TopologySigner,
  TopologyTransaction,
} from './transaction.js';
import type { Validation } from './validation.js';

/** What authoring validates against: a node's processor or an in-memory engine. */
export interface TopologyAuthoringContext {
  readonly synchronizerId: SynchronizerId;
  readonly head: HeadState;
  validate(tx: Uint8Array | SignedTopologyTransaction): Validation;
}

export interface ProposeOptions {
  /** Default AddReplace. */
  readonly op?: TopologyChangeOp;
  /** Default: the next serial of the mapping's unique key in the head state. */
  readonly serial?: number;
  readonly signWith: readonly TopologySigner[];
}

/** Canton 2.x trust levels, accepted for compatibility and ignored (Canton 3.x removed them). */
export type TrustLevel = 'Ordinary' | 'Vip';
const TRUST_LEVELS: readonly string[] = ['Ordinary', 'Vip'];

export interface ParticipantStateOptions {
  readonly signWith: readonly TopologySigner[];
  /** Sequencer time (µs) before which the participant may not connect. */
  readonly loginAfter?: bigint;
  readonly limits?: ParticipantSynchronizerLimits;
}

/**
 * Authors topology transactions: fills in the serial from the head state, signs, and checks the result with a dry
 * run so that mistakes surface before submission. A transaction whose signatures do not suffice yet is marked as a
 * proposal, for the other required signers to `authorize`.
 */
export class TopologyManager {
  constructor(private readonly topology: TopologyAuthoringContext) {}

  /** Builds and signs a transaction for `mapping`. Throws the rejection the head state would give. */
  propose(mapping: TopologyMapping, options: ProposeOptions): SignedTopologyTransaction {
    if (options.signWith.length === 0) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        'a topology transaction needs at least one signing key',
      );
    }
    const serial = options.serial ?? this.topology.head.nextSerial(mapping);
    const tx = TopologyTransaction.create(options.op ?? 'AddReplace', serial, mapping);
    return this.#checked(SignedTopologyTransaction.sign(tx, options.signWith, { proposal: true }));
  }

  /** Adds `signer`'s signature to a proposal (encoded or decoded). */
  authorize(
    proposal: Uint8Array | SignedTopologyTransaction,
    signer: TopologySigner,
  ): SignedTopologyTransaction {
    const signed =
      proposal instanceof SignedTopologyTransaction ? proposal : SignedTopologyTransaction.decode(proposal);
    return this.#checked(signed.withProposal(true).signWith(signer));
  }

  #checked(signed: SignedTopologyTransaction): SignedTopologyTransaction {
    const v = this.topology.validate(signed);
    switch (v.status) {
      case 'accepted':
        return signed.withProposal(false);
      case 'proposal':
        return signed;
      case 'duplicate':
        throw new WeftError(
          CommonErrors.ALREADY_EXISTS,
          `${signed.transaction} is already in force or pending with these signatures`,
        );
      case 'rejected':
        throw v.error;
    }
  }

  /**
   * The owners' allow-list entry for a participant: Canton 2.x's `participants.set_state(participantId,
   * ParticipantPermission.Submission, TrustLevel.Ordinary)`. The trust level is checked and ignored.
   */
  setParticipantState(
    participant: ParticipantId | string,
    permission: ParticipantPermission,
    trustLevel: TrustLevel,
    options: ParticipantStateOptions,
  ): SignedTopologyTransaction {
    if (!TRUST_LEVELS.includes(trustLevel)) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `trust level '${trustLevel}' is unknown; use Ordinary or Vip (both are accepted and have no effect)`,
      );
    }
    return this.propose(
      {
        kind: 'ParticipantSynchronizerPermission',
        synchronizerId: this.topology.synchronizerId,
        participant: typeof participant === 'string' ? ParticipantId.parse(participant) : participant,
        permission,
        ...(options.loginAfter !== undefined && { loginAfter: options.loginAfter }),
        ...(options.limits !== undefined && { limits: options.limits }),
      },
      { signWith: options.signWith },
    );
  }

  /** Removes the participant's permission: on a restricted synchronizer it is inactive from the effective time. */
  revokeParticipant(
    participant: ParticipantId | string,
    options: { readonly signWith: readonly TopologySigner[] },
  ): SignedTopologyTransaction {
    const pid = typeof participant === 'string' ? ParticipantId.parse(participant) : participant;
    const current = this.topology.head.participantSynchronizerPermission(pid);
    if (current === undefined) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_NOT_FOUND,
        `participant ${pid} has no permission on synchronizer ${this.topology.synchronizerId} to revoke`,
      );
    }
    return this.propose(current, { op: 'Remove', signWith: options.signWith });
  }
}
