import { EncryptionPublicKey, Fingerprint, Hash, HashPurpose, SigningPublicKey } from '../crypto/index.js';
import { isWeftError, WeftError } from '../errors/index.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import {
  MediatorId,
  type Member,
  Namespace,
  ParticipantId,
  PartyId,
  parseMember,
  SequencerId,
  SynchronizerId,
} from '../identity/index.js';
import { TopologyErrors } from './errors.js';

/*
 * The typed model of topology mappings over the generated `weft.topology.v1` messages: decoding validates every
 * field and invariant, encoding refuses a mapping that decoding would reject, so no invalid mapping is ever signed.
 */

export type ParticipantPermission = 'Submission' | 'Confirmation' | 'Observation';
export type OnboardingRestriction =
  | 'UnrestrictedOpen'
  | 'RestrictedOpen'
  | 'UnrestrictedLocked'
  | 'RestrictedLocked';

export type MappingKind =
  | 'NamespaceDelegation'
  | 'DecentralizedNamespaceDefinition'
  | 'OwnerToKeyMapping'
  | 'SynchronizerTrustCertificate'
  | 'ParticipantSynchronizerPermission'
  | 'VettedPackages'
  | 'PartyToParticipant'
  | 'SynchronizerParametersState'
  | 'MediatorSynchronizerState'
  | 'SequencerSynchronizerState';

/** Mapping codes as on the wire (Canton's `TopologyMapping.Code` numbering). */
export const MAPPING_CODES: Readonly<Record<MappingKind, pb.TopologyMappingCode>> = {
  NamespaceDelegation: pb.TopologyMappingCode.NAMESPACE_DELEGATION,
  DecentralizedNamespaceDefinition: pb.TopologyMappingCode.DECENTRALIZED_NAMESPACE_DEFINITION,
  OwnerToKeyMapping: pb.TopologyMappingCode.OWNER_TO_KEY_MAPPING,
  SynchronizerTrustCertificate: pb.TopologyMappingCode.SYNCHRONIZER_TRUST_CERTIFICATE,
  ParticipantSynchronizerPermission: pb.TopologyMappingCode.PARTICIPANT_SYNCHRONIZER_PERMISSION,
  VettedPackages: pb.TopologyMappingCode.VETTED_PACKAGES,
  PartyToParticipant: pb.TopologyMappingCode.PARTY_TO_PARTICIPANT,
  SynchronizerParametersState: pb.TopologyMappingCode.SYNCHRONIZER_PARAMETERS_STATE,
  MediatorSynchronizerState: pb.TopologyMappingCode.MEDIATOR_SYNCHRONIZER_STATE,
  SequencerSynchronizerState: pb.TopologyMappingCode.SEQUENCER_SYNCHRONIZER_STATE,
};

const KIND_OF_CODE = new Map<number, MappingKind>(
  Object.entries(MAPPING_CODES).map(([kind, code]) => [code, kind as MappingKind]),
);

export type DelegationRestriction =
  | { readonly kind: 'all' }
  | { readonly kind: 'allButNamespaceDelegations' }
  | { readonly kind: 'specific'; readonly mappings: readonly MappingKind[] };

export interface NamespaceDelegation {
  readonly kind: 'NamespaceDelegation';
  readonly namespace: Namespace;
  readonly target: SigningPublicKey;
  readonly restriction: DelegationRestriction;
}

export interface DecentralizedNamespaceDefinition {
  readonly kind: 'DecentralizedNamespaceDefinition';
  readonly namespace: Namespace;
  readonly threshold: number;
  readonly owners: readonly Namespace[];
}

export interface OwnerToKeyMapping {
  readonly kind: 'OwnerToKeyMapping';
  readonly member: Member;
  readonly signingKeys: readonly SigningPublicKey[];
  readonly encryptionKeys: readonly EncryptionPublicKey[];
}

export interface SynchronizerTrustCertificate {
  readonly kind: 'SynchronizerTrustCertificate';
  readonly participant: ParticipantId;
  readonly synchronizerId: SynchronizerId;
}

export interface ParticipantSynchronizerLimits {
  readonly confirmationRequestsMaxRate: number;
}

export interface ParticipantSynchronizerPermission {
  readonly kind: 'ParticipantSynchronizerPermission';
  readonly synchronizerId: SynchronizerId;
  readonly participant: ParticipantId;
  readonly permission: ParticipantPermission;
  /** Sequencer time (µs) before which the participant may not connect. */
  readonly loginAfter?: bigint;
  readonly limits?: ParticipantSynchronizerLimits;
}

export interface HostingParticipant {
  readonly participant: ParticipantId;
  readonly permission: ParticipantPermission;
}

export interface PartyToParticipant {
  readonly kind: 'PartyToParticipant';
  readonly party: PartyId;
  readonly threshold: number;
  readonly participants: readonly HostingParticipant[];
}

export interface VettedPackage {
  readonly packageId: string;
  /** Ledger effective time (µs) from which the package may be used, inclusive. */
  readonly validFrom?: bigint;
  /** Ledger effective time (µs) until which the package may be used, exclusive. */
  readonly validUntil?: bigint;
}

export interface VettedPackages {
  readonly kind: 'VettedPackages';
  readonly participant: ParticipantId;
  readonly packages: readonly VettedPackage[];
}

/** Durations are microseconds. */
export interface DynamicSynchronizerParameters {
  readonly onboardingRestriction: OnboardingRestriction;
  readonly confirmationResponseTimeout: bigint;
  readonly mediatorReactionTimeout: bigint;
  readonly ledgerTimeRecordTimeTolerance: bigint;
  /** Bytes. */
  readonly maxRequestSize: number;
  readonly topologyChangeDelay: bigint;
}

/** In force while a synchronizer has no SynchronizerParametersState (Canton's defaults). */
export const DEFAULT_SYNCHRONIZER_PARAMETERS: DynamicSynchronizerParameters = Object.freeze({
  onboardingRestriction: 'UnrestrictedOpen',
  confirmationResponseTimeout: 30_000_000n,
  mediatorReactionTimeout: 30_000_000n,
  ledgerTimeRecordTimeTolerance: 60_000_000n,
  maxRequestSize: 10 * 1024 * 1024,
  topologyChangeDelay: 250_000n,
});

export interface SynchronizerParametersState {
  readonly kind: 'SynchronizerParametersState';
  readonly synchronizerId: SynchronizerId;
  readonly parameters: DynamicSynchronizerParameters;
}

export interface MediatorSynchronizerState {
  readonly kind: 'MediatorSynchronizerState';
  readonly synchronizerId: SynchronizerId;
  readonly group: number;
  readonly threshold: number;
  readonly active: readonly MediatorId[];
  readonly observers: readonly MediatorId[];
}

export interface SequencerSynchronizerState {
  readonly kind: 'SequencerSynchronizerState';
  readonly synchronizerId: SynchronizerId;
  readonly threshold: number;
  readonly active: readonly SequencerId[];
  readonly observers: readonly SequencerId[];
}

export type TopologyMapping =
  | NamespaceDelegation
  | DecentralizedNamespaceDefinition
  | OwnerToKeyMapping
  | SynchronizerTrustCertificate
  | ParticipantSynchronizerPermission
  | VettedPackages
  | PartyToParticipant
  | SynchronizerParametersState
  | MediatorSynchronizerState
  | SequencerSynchronizerState;

export type MappingOf<K extends MappingKind> = Extract<TopologyMapping, { kind: K }>;

const PERMISSION_RANK: Readonly<Record<ParticipantPermission, number>> = {
  Submission: 3,
  Confirmation: 2,
  Observation: 1,
};

/** The less capable of two permissions (a party's hosting permission is capped by the participant's). */
export function minPermission(a: ParticipantPermission, b: ParticipantPermission): ParticipantPermission {
  return PERMISSION_RANK[a] <= PERMISSION_RANK[b] ? a : b;
}

/** Positive when `a` allows more than `b`. */
export function comparePermissions(a: ParticipantPermission, b: ParticipantPermission): number {
  return PERMISSION_RANK[a] - PERMISSION_RANK[b];
}

/** Whether a restriction lets the delegated key sign mappings of `kind`. */
export function canSign(restriction: DelegationRestriction, kind: MappingKind): boolean {
  switch (restriction.kind) {
    case 'all':
      return true;
    case 'allButNamespaceDelegations':
      return kind !== 'NamespaceDelegation';
    case 'specific':
      return restriction.mappings.includes(kind);
  }
}

/** Whether `nsd` is its namespace's root certificate (it delegates to the key the namespace is named after). */
export function isRootDelegation(nsd: NamespaceDelegation): boolean {
  return nsd.target.fingerprint.value === nsd.namespace.toString();
}

/** The namespace of a decentralized namespace definition with these initial owners (order does not matter). */
export function decentralizedNamespaceOf(owners: readonly Namespace[]): Namespace {
  const builder = Hash.build(HashPurpose.DecentralizedNamespace);
  for (const owner of owners.map(String).sort()) builder.addString(owner);
  return Namespace.of(Fingerprint.parse(builder.finish().toHex()));
}

/**
 * Unique keys by their parts: two mappings with the same unique key are versions of one mapping, ordered by serial
 * (Canton's `MappingHash`). Hex multihash of the purpose-tagged key fields followed by the mapping code.
 */
export const UniqueKeys = {
  namespaceDelegation: (namespace: Namespace, target: Fingerprint) =>
    keyOf('NamespaceDelegation', String(namespace), target.value),
  decentralizedNamespace: (namespace: Namespace | string) =>
    keyOf('DecentralizedNamespaceDefinition', String(namespace)),
  ownerToKey: (member: Member) => keyOf('OwnerToKeyMapping', String(member)),
  trustCertificate: (participant: ParticipantId, synchronizerId: SynchronizerId) =>
    keyOf('SynchronizerTrustCertificate', String(participant), String(synchronizerId)),
  participantPermission: (synchronizerId: SynchronizerId, participant: ParticipantId) =>
    keyOf('ParticipantSynchronizerPermission', String(synchronizerId), String(participant)),
  vettedPackages: (participant: ParticipantId) => keyOf('VettedPackages', String(participant)),
  partyToParticipant: (party: PartyId) => keyOf('PartyToParticipant', String(party)),
  synchronizerParameters: (synchronizerId: SynchronizerId) =>
    keyOf('SynchronizerParametersState', String(synchronizerId)),
  mediatorGroup: (synchronizerId: SynchronizerId, group: number) =>
    keyOf('MediatorSynchronizerState', String(synchronizerId), BigInt(group)),
  sequencers: (synchronizerId: SynchronizerId) => keyOf('SequencerSynchronizerState', String(synchronizerId)),
} as const;

/** The unique key of a mapping (see {@link UniqueKeys}). */
export function uniqueKey(mapping: TopologyMapping): string {
  switch (mapping.kind) {
    case 'NamespaceDelegation':
      return UniqueKeys.namespaceDelegation(mapping.namespace, mapping.target.fingerprint);
    case 'DecentralizedNamespaceDefinition':
      return UniqueKeys.decentralizedNamespace(mapping.namespace);
    case 'OwnerToKeyMapping':
      return UniqueKeys.ownerToKey(mapping.member);
    case 'SynchronizerTrustCertificate':
      return UniqueKeys.trustCertificate(mapping.participant, mapping.synchronizerId);
    case 'ParticipantSynchronizerPermission':
      return UniqueKeys.participantPermission(mapping.synchronizerId, mapping.participant);
    case 'VettedPackages':
      return UniqueKeys.vettedPackages(mapping.participant);
    case 'PartyToParticipant':
      return UniqueKeys.partyToParticipant(mapping.party);
    case 'SynchronizerParametersState':
      return UniqueKeys.synchronizerParameters(mapping.synchronizerId);
    case 'MediatorSynchronizerState':
      return UniqueKeys.mediatorGroup(mapping.synchronizerId, mapping.group);
    case 'SequencerSynchronizerState':
      return UniqueKeys.sequencers(mapping.synchronizerId);
  }
}

/**
 * Unique keys computed recently. State queries look keys up per request (a participant's certificate, its
 * permission, the parameters); remembering them turns a SHA-256 per lookup into a map hit. Bounded: cleared when full.
 */
const keyMemo = new Map<string, string>();
const KEY_MEMO_LIMIT = 100_000;

function keyOf(kind: MappingKind, ...parts: readonly (string | bigint)[]): string {
  // Parts never contain NUL (identifiers, fingerprints and numbers), so this join is unambiguous.
  const memoKey = `${kind}\0${parts.join('\0')}`;
  const memo = keyMemo.get(memoKey);
  if (memo !== undefined) return memo;
  const builder = Hash.build(HashPurpose.TopologyMappingUniqueKey);
  for (const part of parts) {
    if (typeof part === 'string') builder.addString(part);
    else builder.addInt64(part);
  }
  const key = builder.addInt32(MAPPING_CODES[kind]).finish().toHex();
  if (keyMemo.size >= KEY_MEMO_LIMIT) keyMemo.clear();
  keyMemo.set(memoKey, key);
  return key;
}

/** The synchronizer a mapping is scoped to, if it is synchronizer-specific. */
export function synchronizerOf(mapping: TopologyMapping): SynchronizerId | undefined {
  switch (mapping.kind) {
    case 'SynchronizerTrustCertificate':
    case 'ParticipantSynchronizerPermission':
    case 'SynchronizerParametersState':
    case 'MediatorSynchronizerState':
    case 'SequencerSynchronizerState':
      return mapping.synchronizerId;
    default:
      return undefined;
  }
}

/** A one-line description for logs and error messages. */
export function describeMapping(mapping: TopologyMapping): string {
  switch (mapping.kind) {
    case 'NamespaceDelegation':
      return `NamespaceDelegation(${mapping.namespace} -> ${mapping.target.fingerprint})`;
    case 'DecentralizedNamespaceDefinition':
      return `DecentralizedNamespaceDefinition(${mapping.namespace}, ${mapping.threshold} of ${mapping.owners.length})`;
    case 'OwnerToKeyMapping':
      return `OwnerToKeyMapping(${mapping.member})`;
    case 'SynchronizerTrustCertificate':
      return `SynchronizerTrustCertificate(${mapping.participant}, ${mapping.synchronizerId})`;
    case 'ParticipantSynchronizerPermission':
      return `ParticipantSynchronizerPermission(${mapping.participant}, ${mapping.permission})`;
    case 'VettedPackages':
      return `VettedPackages(${mapping.participant}, ${mapping.packages.length} packages)`;
    case 'PartyToParticipant':
      return `PartyToParticipant(${mapping.party})`;
    case 'SynchronizerParametersState':
      return `SynchronizerParametersState(${mapping.synchronizerId})`;
    case 'MediatorSynchronizerState':
      return `MediatorSynchronizerState(${mapping.synchronizerId}, group ${mapping.group})`;
    case 'SequencerSynchronizerState':
      return `SequencerSynchronizerState(${mapping.synchronizerId})`;
  }
}

function malformed(message: string): never {
  throw new WeftError(TopologyErrors.TOPOLOGY_MALFORMED, message);
}

function invalid(mapping: MappingKind, message: string): never {
  throw new WeftError(TopologyErrors.TOPOLOGY_INVALID_MAPPING, `${mapping}: ${message}`, { mapping });
}

/** Parses an identifier field, reporting identity errors as invalid mappings that name the field. */
function field<T>(kind: MappingKind, name: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (isWeftError(e)) invalid(kind, `field ${name}: ${e.message}`);
    throw e;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) malformed(`${what} is missing`);
  return value;
}

function signingKeyFromProto(kind: MappingKind, name: string, key: pb.SigningPublicKey): SigningPublicKey {
  if (key.scheme !== pb.SigningKeyScheme.ED25519)
    invalid(kind, `field ${name}: only Ed25519 signing keys are supported`);
  return field(kind, name, () => SigningPublicKey.fromRaw(key.key));
}

function encryptionKeyFromProto(
  kind: MappingKind,
  name: string,
  key: pb.EncryptionPublicKey,
): EncryptionPublicKey {
  if (key.scheme !== pb.EncryptionKeyScheme.X25519) {
    invalid(kind, `field ${name}: only X25519 encryption keys are supported`);
  }
  return field(kind, name, () => EncryptionPublicKey.fromRaw(key.key));
}

const PERMISSIONS_FROM_PROTO: ReadonlyMap<pb.ParticipantPermission, ParticipantPermission> = new Map([
  [pb.ParticipantPermission.SUBMISSION, 'Submission'],
  [pb.ParticipantPermission.CONFIRMATION, 'Confirmation'],
  [pb.ParticipantPermission.OBSERVATION, 'Observation'],
]);
const PERMISSIONS_TO_PROTO: Readonly<Record<ParticipantPermission, pb.ParticipantPermission>> = {
  Submission: pb.ParticipantPermission.SUBMISSION,
  Confirmation: pb.ParticipantPermission.CONFIRMATION,
  Observation: pb.ParticipantPermission.OBSERVATION,
};

function permissionFromProto(kind: MappingKind, p: pb.ParticipantPermission): ParticipantPermission {
  return (
    PERMISSIONS_FROM_PROTO.get(p) ?? invalid(kind, `participant permission ${p} is not specified or unknown`)
  );
}

const RESTRICTIONS_FROM_PROTO: ReadonlyMap<pb.OnboardingRestriction, OnboardingRestriction> = new Map([
  [pb.OnboardingRestriction.UNRESTRICTED_OPEN, 'UnrestrictedOpen'],
  [pb.OnboardingRestriction.UNRESTRICTED_LOCKED, 'UnrestrictedLocked'],
  [pb.OnboardingRestriction.RESTRICTED_OPEN, 'RestrictedOpen'],
  [pb.OnboardingRestriction.RESTRICTED_LOCKED, 'RestrictedLocked'],
]);
const RESTRICTIONS_TO_PROTO: Readonly<Record<OnboardingRestriction, pb.OnboardingRestriction>> = {
  UnrestrictedOpen: pb.OnboardingRestriction.UNRESTRICTED_OPEN,
  UnrestrictedLocked: pb.OnboardingRestriction.UNRESTRICTED_LOCKED,
  RestrictedOpen: pb.OnboardingRestriction.RESTRICTED_OPEN,
  RestrictedLocked: pb.OnboardingRestriction.RESTRICTED_LOCKED,
};

function restrictionFromProto(restriction: pb.NamespaceDelegation['restriction']): DelegationRestriction {
  switch (restriction.oneofKind) {
    case 'canSignAllMappings':
      return { kind: 'all' };
    case 'canSignAllButNamespaceDelegations':
      return { kind: 'allButNamespaceDelegations' };
    case 'canSignSpecificMappings':
      return {
        kind: 'specific',
        mappings: restriction.canSignSpecificMappings.mappings.map(
          (code) =>
            KIND_OF_CODE.get(code) ??
            invalid('NamespaceDelegation', `restriction names unknown mapping code ${code}`),
        ),
      };
    case undefined:
      return malformed('NamespaceDelegation: the restriction is missing');
  }
}

function restrictionToProto(r: DelegationRestriction): pb.NamespaceDelegation['restriction'] {
  switch (r.kind) {
    case 'all':
      return { oneofKind: 'canSignAllMappings', canSignAllMappings: {} };
    case 'allButNamespaceDelegations':
      return { oneofKind: 'canSignAllButNamespaceDelegations', canSignAllButNamespaceDelegations: {} };
    case 'specific':
      return {
        oneofKind: 'canSignSpecificMappings',
        canSignSpecificMappings: { mappings: r.mappings.map((k) => MAPPING_CODES[k]) },
      };
  }
}

function parametersFromProto(p: pb.DynamicSynchronizerParameters): DynamicSynchronizerParameters {
  return {
    onboardingRestriction:
      RESTRICTIONS_FROM_PROTO.get(p.onboardingRestriction) ??
      invalid('SynchronizerParametersState', 'onboarding_restriction is not specified or unknown'),
    confirmationResponseTimeout: p.confirmationResponseTimeoutMicros,
    mediatorReactionTimeout: p.mediatorReactionTimeoutMicros,
    ledgerTimeRecordTimeTolerance: p.ledgerTimeRecordTimeToleranceMicros,
    maxRequestSize: p.maxRequestSize,
    topologyChangeDelay: p.topologyChangeDelayMicros,
  };
}

/** Decodes and validates a generated mapping message. Throws TOPOLOGY_MALFORMED or TOPOLOGY_INVALID_MAPPING. */
export function mappingFromProto(proto: pb.TopologyMapping): TopologyMapping {
  const m = proto.mapping;
  let mapping: TopologyMapping;
  switch (m.oneofKind) {
    case 'namespaceDelegation': {
      const k = 'NamespaceDelegation';
      const p = m.namespaceDelegation;
      mapping = {
        kind: k,
        namespace: field(k, 'namespace', () => Namespace.parse(p.namespace)),
        target: signingKeyFromProto(k, 'target_key', required(p.targetKey, `${k}.target_key`)),
        restriction: restrictionFromProto(p.restriction),
      };
      break;
    }
    case 'decentralizedNamespaceDefinition': {
      const k = 'DecentralizedNamespaceDefinition';
      const p = m.decentralizedNamespaceDefinition;
      mapping = {
        kind: k,
        namespace: field(k, 'decentralized_namespace', () => Namespace.parse(p.decentralizedNamespace)),
        threshold: p.threshold,
        owners: p.owners.map((o) => field(k, 'owners', () => Namespace.parse(o))),
      };
      break;
    }
    case 'ownerToKeyMapping': {
      const k = 'OwnerToKeyMapping';
      const p = m.ownerToKeyMapping;
      mapping = {
        kind: k,
        member: field(k, 'member', () => parseMember(p.member)),
        signingKeys: p.signingKeys.map((key) => signingKeyFromProto(k, 'signing_keys', key)),
        encryptionKeys: p.encryptionKeys.map((key) => encryptionKeyFromProto(k, 'encryption_keys', key)),
      };
      break;
    }
    case 'synchronizerTrustCertificate': {
      const k = 'SynchronizerTrustCertificate';
      const p = m.synchronizerTrustCertificate;
      mapping = {
        kind: k,
        participant: field(k, 'participant_id', () => ParticipantId.parse(p.participantId)),
        synchronizerId: field(k, 'synchronizer_id', () => SynchronizerId.parse(p.synchronizerId)),
      };
      break;
    }
    case 'participantSynchronizerPermission': {
      const k = 'ParticipantSynchronizerPermission';
      const p = m.participantSynchronizerPermission;
      mapping = {
        kind: k,
        synchronizerId: field(k, 'synchronizer_id', () => SynchronizerId.parse(p.synchronizerId)),
        participant: field(k, 'participant_id', () => ParticipantId.parse(p.participantId)),
        permission: permissionFromProto(k, p.permission),
        ...(p.loginAfter !== undefined && { loginAfter: p.loginAfter }),
        ...(p.limits !== undefined && {
          limits: { confirmationRequestsMaxRate: p.limits.confirmationRequestsMaxRate },
        }),
      };
      break;
    }
    case 'vettedPackages': {
      const k = 'VettedPackages';
      const p = m.vettedPackages;
      mapping = {
        kind: k,
        participant: field(k, 'participant_id', () => ParticipantId.parse(p.participantId)),
        packages: p.packages.map((v) => ({
          packageId: v.packageId,
          ...(v.validFrom !== undefined && { validFrom: v.validFrom }),
          ...(v.validUntil !== undefined && { validUntil: v.validUntil }),
        })),
      };
      break;
    }
    case 'partyToParticipant': {
      const k = 'PartyToParticipant';
      const p = m.partyToParticipant;
      mapping = {
        kind: k,
        party: field(k, 'party', () => PartyId.parse(p.party)),
        threshold: p.threshold,
        participants: p.participants.map((h) => ({
          participant: field(k, 'participants.participant_id', () => ParticipantId.parse(h.participantId)),
          permission: permissionFromProto(k, h.permission),
        })),
      };
      break;
    }
    case 'synchronizerParametersState': {
      const k = 'SynchronizerParametersState';
      const p = m.synchronizerParametersState;
      mapping = {
        kind: k,
        synchronizerId: field(k, 'synchronizer_id', () => SynchronizerId.parse(p.synchronizerId)),
        parameters: parametersFromProto(required(p.parameters, `${k}.parameters`)),
      };
      break;
    }
    case 'mediatorSynchronizerState': {
      const k = 'MediatorSynchronizerState';
      const p = m.mediatorSynchronizerState;
      mapping = {
        kind: k,
        synchronizerId: field(k, 'synchronizer_id', () => SynchronizerId.parse(p.synchronizerId)),
        group: p.group,
        threshold: p.threshold,
        active: p.active.map((s) => field(k, 'active', () => MediatorId.parse(s))),
        observers: p.observers.map((s) => field(k, 'observers', () => MediatorId.parse(s))),
      };
      break;
    }
    case 'sequencerSynchronizerState': {
      const k = 'SequencerSynchronizerState';
      const p = m.sequencerSynchronizerState;
      mapping = {
        kind: k,
        synchronizerId: field(k, 'synchronizer_id', () => SynchronizerId.parse(p.synchronizerId)),
        threshold: p.threshold,
        active: p.active.map((s) => field(k, 'active', () => SequencerId.parse(s))),
        observers: p.observers.map((s) => field(k, 'observers', () => SequencerId.parse(s))),
      };
      break;
    }
    case undefined:
      return malformed('the topology mapping is empty');
  }
  checkMapping(mapping);
  return mapping;
}

/** Encodes a mapping into its generated message after checking the same invariants as decoding. */
export function mappingToProto(mapping: TopologyMapping): pb.TopologyMapping {
  checkMapping(mapping);
  switch (mapping.kind) {
    case 'NamespaceDelegation':
      return {
        mapping: {
          oneofKind: 'namespaceDelegation',
          namespaceDelegation: {
            namespace: String(mapping.namespace),
            targetKey: { scheme: pb.SigningKeyScheme.ED25519, key: mapping.target.bytes },
            restriction: restrictionToProto(mapping.restriction),
          },
        },
      };
    case 'DecentralizedNamespaceDefinition':
      return {
        mapping: {
          oneofKind: 'decentralizedNamespaceDefinition',
          decentralizedNamespaceDefinition: {
            decentralizedNamespace: String(mapping.namespace),
            threshold: mapping.threshold,
            owners: mapping.owners.map(String),
          },
        },
      };
    case 'OwnerToKeyMapping':
      return {
        mapping: {
          oneofKind: 'ownerToKeyMapping',
          ownerToKeyMapping: {
            member: String(mapping.member),
            signingKeys: mapping.signingKeys.map((k) => ({
              scheme: pb.SigningKeyScheme.ED25519,
              key: k.bytes,
            })),
            encryptionKeys: mapping.encryptionKeys.map((k) => ({
              scheme: pb.EncryptionKeyScheme.X25519,
              key: k.bytes,
            })),
          },
        },
      };
    case 'SynchronizerTrustCertificate':
      return {
        mapping: {
          oneofKind: 'synchronizerTrustCertificate',
          synchronizerTrustCertificate: {
            participantId: String(mapping.participant),
            synchronizerId: String(mapping.synchronizerId),
          },
        },
      };
    case 'ParticipantSynchronizerPermission':
      return {
        mapping: {
          oneofKind: 'participantSynchronizerPermission',
          participantSynchronizerPermission: {
            synchronizerId: String(mapping.synchronizerId),
            participantId: String(mapping.participant),
            permission: PERMISSIONS_TO_PROTO[mapping.permission],
            ...(mapping.loginAfter !== undefined && { loginAfter: mapping.loginAfter }),
            ...(mapping.limits !== undefined && { limits: { ...mapping.limits } }),
          },
        },
      };
    case 'VettedPackages':
      return {
        mapping: {
          oneofKind: 'vettedPackages',
          vettedPackages: {
            participantId: String(mapping.participant),
            packages: mapping.packages.map((p) => ({ ...p })),
          },
        },
      };
    case 'PartyToParticipant':
      return {
        mapping: {
          oneofKind: 'partyToParticipant',
          partyToParticipant: {
            party: String(mapping.party),
            threshold: mapping.threshold,
            participants: mapping.participants.map((h) => ({
              participantId: String(h.participant),
              permission: PERMISSIONS_TO_PROTO[h.permission],
            })),
          },
        },
      };
    case 'SynchronizerParametersState': {
      const p = mapping.parameters;
      return {
        mapping: {
          oneofKind: 'synchronizerParametersState',
          synchronizerParametersState: {
            synchronizerId: String(mapping.synchronizerId),
            parameters: {
              onboardingRestriction: RESTRICTIONS_TO_PROTO[p.onboardingRestriction],
              confirmationResponseTimeoutMicros: p.confirmationResponseTimeout,
              mediatorReactionTimeoutMicros: p.mediatorReactionTimeout,
              ledgerTimeRecordTimeToleranceMicros: p.ledgerTimeRecordTimeTolerance,
              maxRequestSize: p.maxRequestSize,
              topologyChangeDelayMicros: p.topologyChangeDelay,
            },
          },
        },
      };
    }
    case 'MediatorSynchronizerState':
      return {
        mapping: {
          oneofKind: 'mediatorSynchronizerState',
          mediatorSynchronizerState: {
            synchronizerId: String(mapping.synchronizerId),
            group: mapping.group,
            threshold: mapping.threshold,
            active: mapping.active.map(String),
            observers: mapping.observers.map(String),
          },
        },
      };
    case 'SequencerSynchronizerState':
      return {
        mapping: {
          oneofKind: 'sequencerSynchronizerState',
          sequencerSynchronizerState: {
            synchronizerId: String(mapping.synchronizerId),
            threshold: mapping.threshold,
            active: mapping.active.map(String),
            observers: mapping.observers.map(String),
          },
        },
      };
  }
}

/** Whether two mappings are the same (same kind and identical encoding). */
export function mappingsEqual(a: TopologyMapping, b: TopologyMapping): boolean {
  if (a.kind !== b.kind) return false;
  return Buffer.from(pb.TopologyMapping.toBinary(mappingToProto(a))).equals(
    pb.TopologyMapping.toBinary(mappingToProto(b)),
  );
}

function duplicateOf(values: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return undefined;
}

function checkThreshold(kind: MappingKind, threshold: number, of: number, what: string): void {
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > of) {
    invalid(kind, `threshold ${threshold} must be between 1 and the number of ${what} (${of})`);
  }
}

function checkUint32(kind: MappingKind, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff)
    invalid(kind, `${name} ${n} is not a 32-bit unsigned integer`);
}

function checkMemberGroup(
  kind: MappingKind,
  threshold: number,
  active: readonly Member[],
  observers: readonly Member[],
  what: string,
): void {
  if (active.length === 0) invalid(kind, `at least one active ${what} is required`);
  checkThreshold(kind, threshold, active.length, `active ${what}s`);
  const dup = duplicateOf([...active, ...observers].map(String));
  if (dup) invalid(kind, `${dup} is listed more than once among active and observing ${what}s`);
}

/** The invariants of each mapping kind that hold independently of the topology state. */
export function checkMapping(mapping: TopologyMapping): void {
  const k = mapping.kind;
  switch (mapping.kind) {
    case 'NamespaceDelegation': {
      const r = mapping.restriction;
      if (r.kind === 'specific') {
        if (r.mappings.length === 0)
          invalid(k, 'a specific-mappings restriction must name at least one mapping');
        const dup = duplicateOf(r.mappings);
        if (dup) invalid(k, `restriction lists ${dup} twice`);
      }
      if (isRootDelegation(mapping) && r.kind !== 'all') {
        invalid(k, `the root delegation of ${mapping.namespace} must be allowed to sign all mappings`);
      }
      return;
    }
    case 'DecentralizedNamespaceDefinition': {
      if (mapping.owners.length === 0) invalid(k, 'at least one owner is required');
      const dup = duplicateOf(mapping.owners.map(String));
      if (dup) invalid(k, `owner ${dup} is listed twice`);
      if (mapping.owners.some((o) => o.equals(mapping.namespace)))
        invalid(k, 'a namespace cannot own itself');
      checkThreshold(k, mapping.threshold, mapping.owners.length, 'owners');
      return;
    }
    case 'OwnerToKeyMapping': {
      if (mapping.signingKeys.length === 0) invalid(k, `${mapping.member} needs at least one signing key`);
      if (mapping.member.code === 'PAR' && mapping.encryptionKeys.length === 0) {
        invalid(k, `participant ${mapping.member} needs at least one encryption key`);
      }
      const dup = duplicateOf(
        [...mapping.signingKeys, ...mapping.encryptionKeys].map((key) => key.fingerprint.value),
      );
      if (dup) invalid(k, `key ${dup} is listed twice`);
      return;
    }
    case 'SynchronizerTrustCertificate':
      return;
    case 'ParticipantSynchronizerPermission':
      if (mapping.limits)
        checkUint32(k, 'confirmation_requests_max_rate', mapping.limits.confirmationRequestsMaxRate);
      return;
    case 'VettedPackages': {
      const dup = duplicateOf(mapping.packages.map((p) => p.packageId));
      if (dup) invalid(k, `package ${dup} is listed twice`);
      for (const p of mapping.packages) {
        if (p.packageId.length === 0) invalid(k, 'a package id is empty');
        if (p.validFrom !== undefined && p.validUntil !== undefined && p.validFrom >= p.validUntil) {
          invalid(
            k,
            `package ${p.packageId} has an empty validity (valid_from ${p.validFrom} >= valid_until ${p.validUntil})`,
          );
        }
      }
      return;
    }
    case 'PartyToParticipant': {
      if (mapping.participants.length === 0)
        invalid(k, `party ${mapping.party} needs at least one hosting participant`);
      const dup = duplicateOf(mapping.participants.map((h) => String(h.participant)));
      if (dup) invalid(k, `participant ${dup} is listed twice`);
      const confirming = mapping.participants.filter((h) => h.permission !== 'Observation').length;
      checkThreshold(k, mapping.threshold, Math.max(confirming, 1), 'confirming participants');
      return;
    }
    case 'SynchronizerParametersState': {
      const p = mapping.parameters;
      if (p.confirmationResponseTimeout <= 0n) invalid(k, 'confirmation_response_timeout must be positive');
      if (p.mediatorReactionTimeout <= 0n) invalid(k, 'mediator_reaction_timeout must be positive');
      if (p.ledgerTimeRecordTimeTolerance < 0n)
        invalid(k, 'ledger_time_record_time_tolerance must not be negative');
      if (p.topologyChangeDelay < 0n) invalid(k, 'topology_change_delay must not be negative');
      if (!Number.isInteger(p.maxRequestSize) || p.maxRequestSize <= 0 || p.maxRequestSize > 0xffff_ffff) {
        invalid(k, `max_request_size ${p.maxRequestSize} must be a positive 32-bit integer`);
      }
      return;
    }
    case 'MediatorSynchronizerState':
      checkUint32(k, 'group', mapping.group);
      checkMemberGroup(k, mapping.threshold, mapping.active, mapping.observers, 'mediator');
      return;
    case 'SequencerSynchronizerState':
      checkMemberGroup(k, mapping.threshold, mapping.active, mapping.observers, 'sequencer');
      return;
  }
}
