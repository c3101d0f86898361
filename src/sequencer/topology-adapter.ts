import { isWeftError } from '../errors/index.js';
import type { DynamicSynchronizerParameters } from '../generated/weft/topology/v1/topology.js';
import { OnboardingRestriction } from '../generated/weft/topology/v1/topology.js';
import { type Member, parseMember } from '../identity/index.js';
import {
  processSequencedTopology,
  SignedTopologyTransaction,
  type TopologyMapping,
  type TopologyProcessor,
  type TopologySnapshot,
} from '../topology/index.js';
import { type OnboardingCheck, PROTOCOL_VERSION, type SequencerTopology } from './topology.js';

const RESTRICTIONS = {
  UnrestrictedOpen: OnboardingRestriction.UNRESTRICTED_OPEN,
  UnrestrictedLocked: OnboardingRestriction.UNRESTRICTED_LOCKED,
  RestrictedOpen: OnboardingRestriction.RESTRICTED_OPEN,
  RestrictedLocked: OnboardingRestriction.RESTRICTED_LOCKED,
} as const;

/** Member ids whose parse the adapter remembers (see `member` below). */
const PARSED_MEMBERS = 4096;

/** The member a mapping of a joining participant concerns; undefined for mappings a joiner may not submit. */
function subjectOf(mapping: TopologyMapping): string | undefined {
  switch (mapping.kind) {
    case 'NamespaceDelegation':
      return String(mapping.namespace);
    case 'OwnerToKeyMapping':
      return String(mapping.member.namespace);
    case 'SynchronizerTrustCertificate':
      return String(mapping.participant.namespace);
    default:
      return undefined;
  }
}

/**
 * The sequencer's view of a node's topology processor (`src/topology`): "now" queries use the current snapshot
 * (at the processor's approximate time, which static time needs), member registration uses the head state
 * (accepted, possibly not yet effective).
 */
export function sequencerTopologyOf(
  processor: TopologyProcessor,
  protocolVersion: number = PROTOCOL_VERSION,
): SequencerTopology {
  // Every recipient of every submission is parsed here, mostly the same few ids. Bounded because senders choose the
  // ids; cleared when full, which costs one re-parse per id and never happens while the members fit.
  const parsed = new Map<string, Member>();
  const member = (id: string): Member | undefined => {
    const memo = parsed.get(id);
    if (memo) return memo;
    let m: Member;
    try {
      m = parseMember(id);
    } catch (e) {
      if (isWeftError(e)) return undefined;
      throw e;
    }
    if (parsed.size >= PARSED_MEMBERS) parsed.clear();
    parsed.set(id, m);
    return m;
  };
  const at = (now: bigint): TopologySnapshot => processor.currentSnapshot(now);
  return {
    protocolVersion,
    isMemberActive(id, now) {
      const m = member(id);
      if (!m) return { active: false, reason: `'${id}' is not a member id (PAR::, MED:: or SEQ::)` };
      const activity = at(now).isMemberActive(m, processor.approximateTime(now));
      return activity.active ? { active: true } : { active: false, reason: activity.reason };
    },
    signingKeys(id, now) {
      const m = member(id);
      return (m && at(now).memberKeys(m)?.signing) ?? [];
    },
    mediatorGroup(group, now) {
      return (at(now).mediatorGroup(group)?.active ?? []).map(String);
    },
    parameters(now): DynamicSynchronizerParameters {
      const p = at(now).synchronizerParameters();
      return {
        onboardingRestriction: RESTRICTIONS[p.onboardingRestriction],
        confirmationResponseTimeoutMicros: p.confirmationResponseTimeout,
        mediatorReactionTimeoutMicros: p.mediatorReactionTimeout,
        ledgerTimeRecordTimeToleranceMicros: p.ledgerTimeRecordTimeTolerance,
        maxRequestSize: p.maxRequestSize,
        topologyChangeDelayMicros: p.topologyChangeDelay,
      };
    },
    async knownMembers() {
      const head = processor.head;
      const sequencers = head.sequencerGroup();
      return [
        ...head.participants(),
        ...head.mediatorGroups().flatMap((g) => [...g.active, ...g.observers]),
        ...(sequencers ? [...sequencers.active, ...sequencers.observers] : []),
      ].map(String);
    },
    async checkOnboarding(signedTransactions): Promise<OnboardingCheck> {
      let mappings: TopologyMapping[];
      try {
        mappings = signedTransactions.map((b) => SignedTopologyTransaction.decode(b).mapping);
      } catch (e) {
        return { ok: false, reason: `an onboarding transaction cannot be decoded: ${(e as Error).message}` };
      }
      const certificate = mappings.find((m) => m.kind === 'SynchronizerTrustCertificate');
      if (certificate?.kind !== 'SynchronizerTrustCertificate') {
        return { ok: false, reason: 'the onboarding transactions contain no SynchronizerTrustCertificate' };
      }
      const participant = certificate.participant;
      const namespace = String(participant.namespace);
      if (mappings.some((m) => subjectOf(m) !== namespace)) {
        return {
          ok: false,
          reason: `onboarding transactions of ${participant} may only be its NamespaceDelegations, OwnerToKeyMapping and SynchronizerTrustCertificate`,
        };
      }
      const head = processor.head;
      const restriction = head.synchronizerParameters().onboardingRestriction;
      if (restriction.endsWith('Locked')) {
        return {
          ok: false,
          reason: `synchronizer ${processor.synchronizerId} accepts no new participants (onboarding ${restriction}); ${participant} cannot join`,
        };
      }
      if (restriction === 'RestrictedOpen' && !head.participantSynchronizerPermission(participant)) {
        return {
          ok: false,
          reason: `participant ${participant} is not permissioned on synchronizer ${processor.synchronizerId} (onboarding RestrictedOpen); ask an owner to allow-list it`,
        };
      }
      return { ok: true };
    },
    async processSequencedTopology(ts, signedTransactions) {
      await processSequencedTopology(processor, ts, signedTransactions);
    },
    async lastProcessed() {
      return processor.lastSequenced;
    },
    async exportState() {
      return processor.exportState();
    },
  };
}
