import type { SigningPublicKey } from '../crypto/index.js';
import type { DynamicSynchronizerParameters } from '../generated/weft/topology/v1/topology.js';

/** The protocol version this code implements; the client offers it in the handshake. */
export const PROTOCOL_VERSION = 1;

/**
 * Requests one SendAsync may carry: enough that a member's backlog goes in one call, few enough that one call does
 * not fill the sequencer's write queue by itself. A member's client batches at most this many.
 */
export const MAX_REQUESTS_PER_SEND = 1000;

/** Whether a member may use the sequencer; `reason` says why not, in words a user can act on. */
export interface MemberStatus {
  readonly active: boolean;
  readonly reason?: string;
}

export type OnboardingCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * What the sequencer needs from the synchronizer's topology state. Times are sequencer times (µs); the sequencer
 * asks about "now", and the topology answers from the state effective then.
 */
export interface SequencerTopology {
  /** The protocol version the synchronizer runs (a static parameter). */
  readonly protocolVersion: number;
  // The queries below answer from the topology state in memory: synchronous, as they run for every recipient.
  isMemberActive(member: string, ts: bigint): MemberStatus;
  /** The member's signing keys; empty when it has none. */
  signingKeys(member: string, ts: bigint): readonly SigningPublicKey[];
  /** The active mediators of a mediator group; empty when the group does not exist. */
  mediatorGroup(group: number, ts: bigint): readonly string[];
  parameters(ts: bigint): DynamicSynchronizerParameters;
  /**
   * Every member the state knows, including those whose transactions are sequenced but not yet effective: the
   * sequencer registers a member at the sequencing time of the transaction that introduced it, so the member
   * receives every broadcast from then on.
   */
  knownMembers(): Promise<readonly string[]>;
  /** Checks a joining participant's own transactions against the onboarding restriction. */
  checkOnboarding(signedTransactions: readonly Uint8Array[], ts: bigint): Promise<OnboardingCheck>;
  /**
   * Applies a sequenced topology broadcast (encoded SignedTopologyTransactions), in sequencing order. Called once
   * per broadcast by each sequencer node; nodes sharing a database call it with the same arguments.
   */
  processSequencedTopology(ts: bigint, signedTransactions: readonly Uint8Array[]): Promise<void>;
  /** The sequencing time of the last broadcast applied, so a restarted node resumes after it. */
  lastProcessed(): Promise<bigint | undefined>;
  /** The whole topology state as an encoded TopologyStateSnapshot, for a member that just joined. */
  exportState(): Promise<Uint8Array>;
}
