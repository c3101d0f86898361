import type { MediatorId, SequencerId, SynchronizerId } from '../identity/index.js';
import {
  type DynamicSynchronizerParameters,
  type MemberIdentity,
  SignedTopologyTransaction,
} from '../topology/index.js';

/** The genesis topology of the synchronizer a sequencer belongs to. */
export interface SynchronizerGenesis {
  readonly name: string;
  readonly synchronizerId: SynchronizerId;
  /** The sequencing time every node processes the genesis batch at (µs). */
  readonly genesisTs: bigint;
  /** Encoded SignedTopologyTransactions, in processing order. */
  readonly batch: readonly Uint8Array[];
}

export interface BootstrapRequest {
  readonly name: string;
  /** Changes to the default dynamic parameters. */
  readonly parameters?: Partial<DynamicSynchronizerParameters>;
  /** The mediators of the genesis (mediator group 0, threshold 1), with their own identity transactions. */
  readonly mediators?: readonly MemberIdentity<MediatorId>[];
  /**
   * Distinct sequencers of the genesis besides the node's own, with their own identity transactions; they share
   * the node's ordering storage (`sequencer.ordering-storage`).
   */
  readonly sequencers?: readonly MemberIdentity<SequencerId>[];
  /** How many sequencers a member must trust; default 1. */
  readonly sequencerThreshold?: number;
}

export interface BootstrapOutcome {
  readonly genesis: SynchronizerGenesis;
  /** False when the node had been bootstrapped with this name before (nothing changed). */
  readonly created: boolean;
}

/** The sequencers (with their threshold) and the mediators of a genesis, from the genesis batch. */
export function genesisGroups(genesis: SynchronizerGenesis): {
  sequencers: string[];
  sequencerThreshold: number;
  mediators: string[];
} {
  const groups = { sequencers: [] as string[], sequencerThreshold: 0, mediators: [] as string[] };
  for (const bytes of genesis.batch) {
    const m = SignedTopologyTransaction.decode(bytes).mapping;
    if (m.kind === 'SequencerSynchronizerState') {
      groups.sequencers = m.active.map(String);
      groups.sequencerThreshold = m.threshold;
    } else if (m.kind === 'MediatorSynchronizerState') groups.mediators.push(...m.active.map(String));
  }
  return groups;
}
