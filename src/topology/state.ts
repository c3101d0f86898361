import type { EncryptionPublicKey, Fingerprint, Hash, SigningPublicKey } from '../crypto/index.js';
import {
  type MediatorId,
  type Member,
  type Namespace,
  ParticipantId,
  type PartyId,
  type SequencerId,
  type SynchronizerId,
} from '../identity/index.js';
import {
  canSign,
  DEFAULT_SYNCHRONIZER_PARAMETERS,
  type DelegationRestriction,
  type DynamicSynchronizerParameters,
  type HostingParticipant,
  type MappingKind,
  type MappingOf,
  minPermission,
  type ParticipantPermission,
  type TopologyMapping,
  UniqueKeys,
  uniqueKey,
  type VettedPackage,
} from './mapping.js';
import type { SignedTopologyTransaction, TopologyChangeOp } from './transaction.js';

/** A transaction a node accepted (or keeps as a proposal), with the sequencer time it was ordered at. */
export class StoredTopologyTransaction {
  #validUntil: bigint | undefined;

  constructor(
    /** Position in the node's processing order. */
    readonly id: bigint,
    readonly sequenced: bigint,
    /** Effective time: the transaction is part of snapshots at times after it. */
    readonly validFrom: bigint,
    validUntil: bigint | undefined,
    readonly status: 'accepted' | 'proposal',
    readonly signed: SignedTopologyTransaction,
  ) {
    this.#validUntil = validUntil;
  }

  /** Effective time of the transaction that replaced this one (or of the proposal's resolution). */
  get validUntil(): bigint | undefined {
    return this.#validUntil;
  }

  /** Ends the validity (package-internal: only the engine calls this when it applies the replacement). */
  expire(at: bigint): void {
    this.#validUntil = at;
  }

  /** Undoes {@link expire} when the batch that expired the transaction is rolled back (package-internal). */
  reopen(): void {
    this.#validUntil = undefined;
  }

  /** Whether the snapshot at `t` contains this transaction: `validFrom < t <= validUntil`. */
  isValidAt(t: bigint): boolean {
    return this.validFrom < t && (this.#validUntil === undefined || t <= this.#validUntil);
  }

  get mapping(): TopologyMapping {
    return this.signed.mapping;
  }

  get operation(): TopologyChangeOp {
    return this.signed.operation;
  }

  get serial(): number {
    return this.signed.serial;
  }

  get uniqueKey(): string {
    return this.signed.uniqueKey;
  }

  get hash(): Hash {
    return this.signed.hash;
  }
}

export interface MemberKeys {
  readonly signing: readonly SigningPublicKey[];
  readonly encryption: readonly EncryptionPublicKey[];
}

/** Whether a member may use the synchronizer; `permission` is set for participants. */
export type Activity =
  | { readonly active: true; readonly permission?: ParticipantPermission }
  | { readonly active: false; readonly reason: string };

export interface PartyHosting {
  readonly party: PartyId;
  readonly threshold: number;
  /** Hosting participants that are on the synchronizer, with the permission capped by their synchronizer permission. */
  readonly participants: readonly HostingParticipant[];
}

export interface MediatorGroup {
  readonly group: number;
  readonly threshold: number;
  readonly active: readonly MediatorId[];
  readonly observers: readonly MediatorId[];
}

export interface SequencerGroup {
  readonly threshold: number;
  readonly active: readonly SequencerId[];
  readonly observers: readonly SequencerId[];
}

export interface SynchronizerOwners {
  /** The decentralized namespace that owns the synchronizer (the namespace of the synchronizer id). */
  readonly namespace: Namespace;
  readonly threshold: number;
  readonly owners: readonly Namespace[];
}

/** A key that may sign for a namespace, through a chain of delegations from the namespace's root key. */
export interface AuthorizedKey {
  readonly key: SigningPublicKey;
  readonly restriction: DelegationRestriction;
}

/**
 * The topology of one synchronizer as of one time: the answers every member gives alike. Times are sequencer
 * microseconds; the snapshot at `t` contains the transactions that took effect strictly before `t`.
 */
export interface TopologySnapshot {
  readonly synchronizerId: SynchronizerId;
  /** The dynamic parameters, or Canton's defaults if none were ever set. */
  synchronizerParameters(): DynamicSynchronizerParameters;
  /** The owners of the synchronizer's namespace (after genesis always defined). */
  synchronizerOwners(): SynchronizerOwners | undefined;
  /** The member's registered keys, or undefined if it has none. */
  memberKeys(member: Member): MemberKeys | undefined;
  /** The member's signing key with this fingerprint, if registered. */
  signingKey(member: Member, fingerprint: Fingerprint | string): SigningPublicKey | undefined;
  /** The member's encryption key with this fingerprint, if registered. */
  encryptionKey(member: Member, fingerprint: Fingerprint | string): EncryptionPublicKey | undefined;
  /** Members that registered a signing or encryption key with this fingerprint. */
  keyOwners(fingerprint: Fingerprint | string): readonly Member[];
  /**
   * Whether the participant may use the synchronizer at time `at`: it has a trust certificate, and a permission
   * if onboarding is restricted, and `login_after <= at`. Otherwise the reason names the participant.
   */
  isParticipantActive(participant: ParticipantId, at: bigint): Activity;
  /** Participants as above; mediators and sequencers when they are in their group (active or observer) with keys. */
  isMemberActive(member: Member, at: bigint): Activity;
  /** Every member active at `at`, participants first, each group in id order. */
  activeMembers(at: bigint): readonly Member[];
  /** The participant's permission on the synchronizer, if it is active at `at`. */
  participantPermission(participant: ParticipantId, at: bigint): ParticipantPermission | undefined;
  /** The stored ParticipantSynchronizerPermission, if any. */
  participantSynchronizerPermission(
    participant: ParticipantId,
  ): MappingOf<'ParticipantSynchronizerPermission'> | undefined;
  /** Participants with a trust certificate, in id order. */
  participants(): readonly ParticipantId[];
  /**
   * Who hosts the party. A participant's admin party (same unique identifier) is hosted by that participant with
   * Submission unless a PartyToParticipant says otherwise.
   */
  partyHosting(party: PartyId): PartyHosting | undefined;
  vettedPackages(participant: ParticipantId): readonly VettedPackage[];
  /** Whether the participant vetted the package for use at ledger time `ledgerTime`. */
  isPackageVetted(participant: ParticipantId, packageId: string, ledgerTime: bigint): boolean;
  mediatorGroups(): readonly MediatorGroup[];
  mediatorGroup(group: number): MediatorGroup | undefined;
  sequencerGroup(): SequencerGroup | undefined;
  /** The active transactions, optionally of one kind, in processing order. */
  transactions(kind?: MappingKind): readonly StoredTopologyTransaction[];
}

/** The state the next transaction is validated against: every accepted transaction, effective or not yet. */
export interface HeadState extends TopologySnapshot {
  /** The last accepted transaction of a unique key, including a Remove. */
  latest(uniqueKey: string): StoredTopologyTransaction | undefined;
  /** The serial the next transaction for `mapping` must carry. */
  nextSerial(mapping: TopologyMapping): number;
  /** Pending proposals, in processing order. */
  proposals(): readonly StoredTopologyTransaction[];
  /** The pending proposal with this transaction hash (hex). */
  proposal(hash: string): StoredTopologyTransaction | undefined;
  /** The keys that may sign for a namespace (not for a decentralized one), by fingerprint. */
  authorizedKeys(namespace: string): ReadonlyMap<string, AuthorizedKey>;
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  const existing = map.get(key);
  if (existing !== undefined) return existing;
  const value = create();
  map.set(key, value);
  return value;
}

const byId = (a: StoredTopologyTransaction, b: StoredTopologyTransaction) =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
const byString = (a: { toString(): string }, b: { toString(): string }) => {
  const x = a.toString();
  const y = b.toString();
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * An indexed set of topology transactions. The processor keeps one as its head state and mutates it transaction by
 * transaction; snapshots at a time are built from the transactions valid then and never change.
 */
export class TopologyState implements HeadState {
  readonly #active = new Map<string, StoredTopologyTransaction>();
  readonly #latest = new Map<string, StoredTopologyTransaction>();
  readonly #proposals = new Map<string, StoredTopologyTransaction>();
  readonly #proposalsByKey = new Map<string, Set<string>>();
  readonly #byKind = new Map<MappingKind, Map<string, StoredTopologyTransaction>>();
  readonly #delegations = new Map<string, Map<string, MappingOf<'NamespaceDelegation'>>>();
  readonly #delegationSigners = new Map<string, readonly string[]>();
  #authorizedKeys = new Map<string, ReadonlyMap<string, AuthorizedKey>>();
  #keyOwners: Map<string, Member[]> | undefined;
  /**
   * Answers of the lookups every request repeats (member keys, party hosting, groups), kept until the state
   * changes: a snapshot serves many requests between topology changes. Bounded by the members and parties known.
   */
  #memo = new Map<string, unknown>();

  constructor(readonly synchronizerId: SynchronizerId) {}

  /** A state holding the accepted AddReplace transactions among `transactions` that are valid at `t`. */
  static at(synchronizerId: SynchronizerId, transactions: Iterable<StoredTopologyTransaction>, t: bigint) {
    const state = new TopologyState(synchronizerId);
    for (const tx of transactions) {
      if (tx.status === 'accepted' && tx.operation === 'AddReplace' && tx.isValidAt(t)) state.accept(tx);
    }
    return state;
  }

  // ---- mutation (processor only) ----

  /** Makes `tx` the latest version of its unique key; returns the version it replaces. */
  accept(tx: StoredTopologyTransaction): StoredTopologyTransaction | undefined {
    const key = tx.uniqueKey;
    const previous = this.#latest.get(key);
    this.#latest.set(key, tx);
    const wasActive = this.#active.get(key);
    if (wasActive) this.#deactivate(key, wasActive);
    if (tx.operation === 'AddReplace') this.#activate(key, tx);
    return previous;
  }

  /** Stores a proposal; returns the proposal for the same transaction it supersedes (fewer signatures). */
  addProposal(tx: StoredTopologyTransaction): StoredTopologyTransaction | undefined {
    const hash = tx.hash.toHex();
    const previous = this.#proposals.get(hash);
    this.#proposals.set(hash, tx);
    getOrCreate(this.#proposalsByKey, tx.uniqueKey, () => new Set<string>()).add(hash);
    return previous;
  }

  /** Removes the pending proposals of `uniqueKey` with serial up to `serial` (made obsolete by an acceptance). */
  removeProposalsUpTo(uniqueKey: string, serial: number): StoredTopologyTransaction[] {
    const hashes = this.#proposalsByKey.get(uniqueKey);
    const removed: StoredTopologyTransaction[] = [];
    for (const hash of hashes ?? []) {
      const p = this.#proposals.get(hash)!;
      if (p.serial > serial) continue;
      this.#proposals.delete(hash);
      hashes!.delete(hash);
      removed.push(p);
    }
    if (hashes?.size === 0) this.#proposalsByKey.delete(uniqueKey);
    return removed;
  }

  #activate(key: string, tx: StoredTopologyTransaction): void {
    this.#active.set(key, tx);
    getOrCreate(this.#byKind, tx.mapping.kind, () => new Map<string, StoredTopologyTransaction>()).set(
      key,
      tx,
    );
    this.#indexChanged(tx, true);
  }

  #deactivate(key: string, tx: StoredTopologyTransaction): void {
    this.#active.delete(key);
    this.#byKind.get(tx.mapping.kind)?.delete(key);
    this.#indexChanged(tx, false);
  }

  #indexChanged(tx: StoredTopologyTransaction, added: boolean): void {
    this.#memo.clear();
    const m = tx.mapping;
    if (m.kind === 'NamespaceDelegation') {
      const ns = String(m.namespace);
      const delegations = getOrCreate(
        this.#delegations,
        ns,
        () => new Map<string, MappingOf<'NamespaceDelegation'>>(),
      );
      if (added) {
        delegations.set(tx.uniqueKey, m);
        this.#delegationSigners.set(tx.uniqueKey, tx.signed.signers);
      } else {
        delegations.delete(tx.uniqueKey);
        this.#delegationSigners.delete(tx.uniqueKey);
      }
      this.#authorizedKeys = new Map();
    } else if (m.kind === 'OwnerToKeyMapping') {
      this.#keyOwners = undefined;
    }
  }

  // ---- authorization support ----

  /**
   * The keys that may sign for a (non-decentralized) namespace: the root key, if the namespace's root delegation
   * exists, and every key reachable from it through delegations signed by keys that may sign delegations. A removed
   * delegation thereby also disables the delegations only it had signed.
   */
  authorizedKeys(namespace: string): ReadonlyMap<string, AuthorizedKey> {
    const cached = this.#authorizedKeys.get(namespace);
    if (cached) return cached;
    const authorized = new Map<string, AuthorizedKey>();
    const delegations = this.#delegations.get(namespace);
    const root =
      delegations && [...delegations.values()].find((d) => d.target.fingerprint.value === namespace);
    if (delegations && root) {
      const bySigner = new Map<string, MappingOf<'NamespaceDelegation'>[]>();
      for (const [key, d] of delegations) {
        for (const signer of this.#delegationSigners.get(key) ?? []) {
          const list = bySigner.get(signer);
          if (list) list.push(d);
          else bySigner.set(signer, [d]);
        }
      }
      authorized.set(namespace, { key: root.target, restriction: root.restriction });
      const queue = [namespace];
      for (let fp = queue.shift(); fp !== undefined; fp = queue.shift()) {
        if (!canSign(authorized.get(fp)!.restriction, 'NamespaceDelegation')) continue;
        for (const d of bySigner.get(fp) ?? []) {
          const target = d.target.fingerprint.value;
          if (authorized.has(target)) continue;
          authorized.set(target, { key: d.target, restriction: d.restriction });
          queue.push(target);
        }
      }
    }
    this.#authorizedKeys.set(namespace, authorized);
    return authorized;
  }

  decentralizedNamespace(
    namespace: Namespace | string,
  ): MappingOf<'DecentralizedNamespaceDefinition'> | undefined {
    return this.#find(UniqueKeys.decentralizedNamespace(namespace), 'DecentralizedNamespaceDefinition');
  }

  /** Whether any namespace delegation exists for the namespace. */
  hasDelegations(namespace: string): boolean {
    return (this.#delegations.get(namespace)?.size ?? 0) > 0;
  }

  // ---- HeadState ----

  latest(uniqueKey: string): StoredTopologyTransaction | undefined {
    return this.#latest.get(uniqueKey);
  }

  nextSerial(mapping: TopologyMapping): number {
    const latest = this.#latest.get(uniqueKey(mapping));
    return latest === undefined ? 1 : latest.serial + 1;
  }

  proposals(): readonly StoredTopologyTransaction[] {
    return [...this.#proposals.values()].sort(byId);
  }

  proposal(hash: string): StoredTopologyTransaction | undefined {
    return this.#proposals.get(hash);
  }

  // ---- TopologySnapshot ----

  #find<K extends MappingKind>(key: string, kind: K): MappingOf<K> | undefined {
    const tx = this.#active.get(key);
    return tx?.mapping.kind === kind ? (tx.mapping as MappingOf<K>) : undefined;
  }

  #ofKind<K extends MappingKind>(kind: K): MappingOf<K>[] {
    return [...(this.#byKind.get(kind)?.values() ?? [])].sort(byId).map((tx) => tx.mapping as MappingOf<K>);
  }

  synchronizerParameters(): DynamicSynchronizerParameters {
    return (
      this.#find(UniqueKeys.synchronizerParameters(this.synchronizerId), 'SynchronizerParametersState')
        ?.parameters ?? DEFAULT_SYNCHRONIZER_PARAMETERS
    );
  }

  synchronizerOwners(): SynchronizerOwners | undefined {
    const dnd = this.decentralizedNamespace(this.synchronizerId.namespace);
    return dnd && { namespace: dnd.namespace, threshold: dnd.threshold, owners: dnd.owners };
  }

  #memoized<T>(key: string, compute: () => T): T {
    if (this.#memo.has(key)) return this.#memo.get(key) as T;
    const value = compute();
    this.#memo.set(key, value);
    return value;
  }

  memberKeys(member: Member): MemberKeys | undefined {
    return this.#memoized(`keys ${member}`, () => {
      const otk = this.#find(UniqueKeys.ownerToKey(member), 'OwnerToKeyMapping');
      return otk && { signing: otk.signingKeys, encryption: otk.encryptionKeys };
    });
  }

  signingKey(member: Member, fingerprint: Fingerprint | string): SigningPublicKey | undefined {
    const fp = String(fingerprint);
    return this.memberKeys(member)?.signing.find((k) => k.fingerprint.value === fp);
  }

  encryptionKey(member: Member, fingerprint: Fingerprint | string): EncryptionPublicKey | undefined {
    const fp = String(fingerprint);
    return this.memberKeys(member)?.encryption.find((k) => k.fingerprint.value === fp);
  }

  keyOwners(fingerprint: Fingerprint | string): readonly Member[] {
    if (!this.#keyOwners) {
      this.#keyOwners = new Map();
      for (const otk of this.#ofKind('OwnerToKeyMapping')) {
        for (const key of [...otk.signingKeys, ...otk.encryptionKeys]) {
          const owners = this.#keyOwners.get(key.fingerprint.value);
          if (owners) owners.push(otk.member);
          else this.#keyOwners.set(key.fingerprint.value, [otk.member]);
        }
      }
    }
    return this.#keyOwners.get(String(fingerprint)) ?? [];
  }

  trustCertificate(participant: ParticipantId): MappingOf<'SynchronizerTrustCertificate'> | undefined {
    return this.#find(
      UniqueKeys.trustCertificate(participant, this.synchronizerId),
      'SynchronizerTrustCertificate',
    );
  }

  participantSynchronizerPermission(
    participant: ParticipantId,
  ): MappingOf<'ParticipantSynchronizerPermission'> | undefined {
    return this.#find(
      UniqueKeys.participantPermission(this.synchronizerId, participant),
      'ParticipantSynchronizerPermission',
    );
  }

  /** Activity ignoring `login_after`, which is the only time-dependent condition. */
  #onboarded(participant: ParticipantId): Activity {
    return this.#memoized(`onboarded ${participant}`, () => this.#onboardedNow(participant));
  }

  #onboardedNow(participant: ParticipantId): Activity {
    if (!this.trustCertificate(participant)) {
      return {
        active: false,
        reason: `participant ${participant} has no trust certificate for synchronizer ${this.synchronizerId}`,
      };
    }
    const restriction = this.synchronizerParameters().onboardingRestriction;
    const permission = this.participantSynchronizerPermission(participant);
    if (!permission && restriction.startsWith('Restricted')) {
      return {
        active: false,
        reason: `participant ${participant} has no permission on synchronizer ${this.synchronizerId}, whose onboarding is ${restriction}`,
      };
    }
    return { active: true, permission: permission?.permission ?? 'Submission' };
  }

  isParticipantActive(participant: ParticipantId, at: bigint): Activity {
    const onboarded = this.#onboarded(participant);
    const loginAfter = this.participantSynchronizerPermission(participant)?.loginAfter;
    if (onboarded.active && loginAfter !== undefined && at < loginAfter) {
      return {
        active: false,
        reason: `participant ${participant} may not log in before ${loginAfter} (now ${at})`,
      };
    }
    return onboarded;
  }

  isMemberActive(member: Member, at: bigint): Activity {
    if (member.code === 'PAR') return this.isParticipantActive(member, at);
    const inGroup =
      member.code === 'MED'
        ? this.mediatorGroups().some((g) => [...g.active, ...g.observers].some((m) => m.equals(member)))
        : [...(this.sequencerGroup()?.active ?? []), ...(this.sequencerGroup()?.observers ?? [])].some((s) =>
            s.equals(member),
          );
    const what = member.code === 'MED' ? 'a mediator group' : 'the sequencer group';
    if (!inGroup)
      return { active: false, reason: `${member} is not in ${what} of synchronizer ${this.synchronizerId}` };
    if (!this.memberKeys(member)) return { active: false, reason: `${member} has no registered keys` };
    return { active: true };
  }

  activeMembers(at: bigint): readonly Member[] {
    const participants = this.participants().filter((p) => this.isParticipantActive(p, at).active);
    const mediators = this.mediatorGroups()
      .flatMap((g) => [...g.active, ...g.observers])
      .sort(byString);
    const group = this.sequencerGroup();
    const sequencers = [...(group?.active ?? []), ...(group?.observers ?? [])].sort(byString);
    return [
      ...participants,
      ...mediators.filter((m) => this.memberKeys(m)),
      ...sequencers.filter((s) => this.memberKeys(s)),
    ];
  }

  participantPermission(participant: ParticipantId, at: bigint): ParticipantPermission | undefined {
    const activity = this.isParticipantActive(participant, at);
    return activity.active ? activity.permission : undefined;
  }

  participants(): readonly ParticipantId[] {
    return this.#ofKind('SynchronizerTrustCertificate')
      .filter((c) => c.synchronizerId.equals(this.synchronizerId))
      .map((c) => c.participant)
      .sort(byString);
  }

  partyHosting(party: PartyId): PartyHosting | undefined {
    return this.#memoized(`hosting ${party}`, () => this.#partyHosting(party));
  }

  #partyHosting(party: PartyId): PartyHosting | undefined {
    const ptp = this.#find(UniqueKeys.partyToParticipant(party), 'PartyToParticipant');
    // Without a PartyToParticipant, only a participant's admin party (same unique identifier) is hosted.
    const hosting: readonly HostingParticipant[] = ptp
      ? ptp.participants
      : [{ participant: new ParticipantId(party.uid), permission: 'Submission' }];
    const participants = hosting.flatMap((h) => {
      const onboarded = this.#onboarded(h.participant);
      return onboarded.active
        ? [{ participant: h.participant, permission: minPermission(h.permission, onboarded.permission!) }]
        : [];
    });
    if (participants.length === 0) return undefined;
    return { party, threshold: ptp?.threshold ?? 1, participants };
  }

  vettedPackages(participant: ParticipantId): readonly VettedPackage[] {
    return this.#find(UniqueKeys.vettedPackages(participant), 'VettedPackages')?.packages ?? [];
  }

  isPackageVetted(participant: ParticipantId, packageId: string, ledgerTime: bigint): boolean {
    return this.vettedPackages(participant).some(
      (p) =>
        p.packageId === packageId &&
        (p.validFrom === undefined || p.validFrom <= ledgerTime) &&
        (p.validUntil === undefined || ledgerTime < p.validUntil),
    );
  }

  mediatorGroups(): readonly MediatorGroup[] {
    return this.#memoized('mediator groups', () => this.#mediatorGroups());
  }

  #mediatorGroups(): readonly MediatorGroup[] {
    return this.#ofKind('MediatorSynchronizerState')
      .filter((m) => m.synchronizerId.equals(this.synchronizerId))
      .map(({ group, threshold, active, observers }) => ({ group, threshold, active, observers }))
      .sort((a, b) => a.group - b.group);
  }

  mediatorGroup(group: number): MediatorGroup | undefined {
    return this.mediatorGroups().find((g) => g.group === group);
  }

  sequencerGroup(): SequencerGroup | undefined {
    const s = this.#find(UniqueKeys.sequencers(this.synchronizerId), 'SequencerSynchronizerState');
    return s && { threshold: s.threshold, active: s.active, observers: s.observers };
  }

  transactions(kind?: MappingKind): readonly StoredTopologyTransaction[] {
    const source = kind === undefined ? this.#active.values() : (this.#byKind.get(kind)?.values() ?? []);
    return [...source].sort(byId);
  }
}
