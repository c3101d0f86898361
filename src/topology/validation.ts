import type { SigningPublicKey } from '../crypto/index.js';
import { isWeftError, WeftError } from '../errors/index.js';
import type { Member, SynchronizerId } from '../identity/index.js';
import { type MissingAuth, missingAuth, referencedAuth, requiredAuth } from './auth.js';
import { TopologyErrors } from './errors.js';
import {
  canSign,
  decentralizedNamespaceOf,
  describeMapping,
  isRootDelegation,
  type MappingOf,
  mappingsEqual,
  synchronizerOf,
} from './mapping.js';
import type { StoredTopologyTransaction, TopologyState } from './state.js';
import { SignedTopologyTransaction, signedMessage } from './transaction.js';

export interface ValidationContext {
  readonly synchronizerId: SynchronizerId;
  /** The effective time the transaction would get; undefined for a dry run against the head state. */
  readonly effective?: bigint;
}

/**
 * The result of validating one transaction against a state:
 * - `accepted`: fully authorized; `tx` keeps only the signatures that authorize it, proposal flag cleared.
 * - `proposal`: every signature is valid but they do not suffice yet; `tx` is merged with earlier signatures.
 * - `duplicate`: the same transaction is already accepted, or the proposal adds no signature; nothing changes.
 * - `rejected`: `error` says why.
 */
export type Validation =
  | { readonly status: 'accepted' | 'proposal' | 'duplicate'; readonly tx: SignedTopologyTransaction }
  | { readonly status: 'rejected'; readonly error: WeftError; readonly tx?: SignedTopologyTransaction };

function reject(def: (typeof TopologyErrors)[keyof typeof TopologyErrors], message: string): never {
  throw new WeftError(def, message);
}

/** Validates `input` against `state` without changing it. Pure: equal inputs give equal results on every node. */
export function validateTopologyTransaction(
  state: TopologyState,
  input: Uint8Array | SignedTopologyTransaction,
  context: ValidationContext,
): Validation {
  let tx: SignedTopologyTransaction | undefined;
  try {
    tx = input instanceof SignedTopologyTransaction ? input : SignedTopologyTransaction.decode(input);
    return validate(state, tx, context);
  } catch (e) {
    if (isWeftError(e)) return tx ? { status: 'rejected', error: e, tx } : { status: 'rejected', error: e };
    throw e;
  }
}

function validate(
  state: TopologyState,
  incoming: SignedTopologyTransaction,
  context: ValidationContext,
): Validation {
  const what = describeMapping(incoming.mapping);
  const scope = synchronizerOf(incoming.mapping);
  if (scope && !scope.equals(context.synchronizerId)) {
    reject(
      TopologyErrors.TOPOLOGY_WRONG_SYNCHRONIZER,
      `${what} is for synchronizer ${scope}, but this is synchronizer ${context.synchronizerId}`,
    );
  }
  const latest = state.latest(incoming.uniqueKey);
  const hash = incoming.hash.toHex();
  if (latest?.hash.toHex() === hash) return { status: 'duplicate', tx: latest.signed };

  const pending = state.proposal(hash);
  const tx = pending
    ? pending.signed.addSignatures(incoming.signatures).withProposal(incoming.proposal)
    : incoming;
  if (pending && incoming.proposal && tx.signatures.length === pending.signed.signatures.length) {
    return { status: 'duplicate', tx: pending.signed };
  }

  if (tx.operation === 'Remove') {
    if (latest === undefined || latest.operation === 'Remove') {
      reject(TopologyErrors.TOPOLOGY_NOT_FOUND, `cannot remove ${what}: it does not exist`);
    }
    if (!mappingsEqual(latest.mapping, tx.mapping)) {
      reject(
        TopologyErrors.TOPOLOGY_INVALID_MAPPING,
        `a Remove must carry the mapping it removes; ${what} differs from the current ${describeMapping(latest.mapping)}`,
      );
    }
  }
  const expected = latest === undefined ? 1 : latest.serial + 1;
  if (tx.serial !== expected) {
    reject(
      TopologyErrors.TOPOLOGY_SERIAL_MISMATCH,
      latest === undefined
        ? `${what} is new, so its serial must be 1, got ${tx.serial}`
        : `${what} must have serial ${expected} (the current one has ${latest.serial}), got ${tx.serial}`,
    );
  }
  checkAgainstState(state, tx, latest, context);

  const { authorized, missing } = authorize(state, tx, latest);
  if (missing === undefined) return { status: 'accepted', tx: authorized.withProposal(false) };
  if (tx.proposal) return { status: 'proposal', tx: authorized };
  return reject(
    TopologyErrors.TOPOLOGY_UNAUTHORIZED,
    `${what} is not authorized: ${describeMissing(state, missing)}`,
  );
}

function describeMissing(state: TopologyState, missing: MissingAuth): string {
  const parts = missing.namespaces.map((ns) => {
    const dnd = state.decentralizedNamespace(ns);
    return dnd ? `${dnd.threshold} of the ${dnd.owners.length} owners of namespace ${ns}` : `namespace ${ns}`;
  });
  parts.push(...missing.extraKeys.map((k) => `key ${k} (proof of possession)`));
  return `missing signatures for ${parts.join(', ')}`;
}

interface Authorization {
  /** The transaction with only the signatures that count. */
  readonly authorized: SignedTopologyTransaction;
  readonly missing: MissingAuth | undefined;
}

/**
 * Determines which signatures authorize which namespaces, verifies exactly those signatures, and drops the others
 * (keys without a delegation for the namespaces involved carry no authority, and keeping them would let anyone
 * make a stored transaction larger).
 */
function authorize(
  state: TopologyState,
  tx: SignedTopologyTransaction,
  latest: StoredTopologyTransaction | undefined,
): Authorization {
  const m = tx.mapping;
  const kind = m.kind;
  const previous = latest?.operation === 'AddReplace' ? latest.signed.transaction : undefined;
  const required = requiredAuth(tx.transaction, previous);
  // Signatures for the parts `previous` makes unnecessary still count (Canton's permissible signatures).
  const permissible = referencedAuth(required);
  const unconditional = referencedAuth(requiredAuth(tx.transaction, undefined));
  for (const ns of unconditional.namespaces) permissible.namespaces.add(ns);
  for (const k of unconditional.extraKeys) permissible.extraKeys.add(k);

  const signers = new Set(tx.signers);
  const used = new Map<string, SigningPublicKey>();
  /** The signing keys valid for a normal namespace; the root key of a root delegation being added counts. */
  const keysOf = (ns: string): SigningPublicKey[] => {
    const keys: SigningPublicKey[] = [];
    for (const [fp, auth] of state.authorizedKeys(ns)) {
      if (signers.has(fp) && canSign(auth.restriction, kind)) keys.push(auth.key);
    }
    if (
      m.kind === 'NamespaceDelegation' &&
      String(m.namespace) === ns &&
      isRootDelegation(m) &&
      signers.has(ns)
    ) {
      keys.push(m.target);
    }
    return keys;
  };
  const namespaces = new Set<string>();
  for (const ns of permissible.namespaces) {
    const dnd = state.decentralizedNamespace(ns);
    if (dnd) {
      let owners = 0;
      for (const owner of dnd.owners) {
        const keys = keysOf(String(owner));
        for (const k of keys) used.set(k.fingerprint.value, k);
        if (keys.length > 0) owners++;
      }
      if (owners >= dnd.threshold) namespaces.add(ns);
    } else {
      const keys = keysOf(ns);
      for (const k of keys) used.set(k.fingerprint.value, k);
      if (keys.length > 0) namespaces.add(ns);
    }
  }
  const extraKeys = new Set<string>();
  if (m.kind === 'OwnerToKeyMapping') {
    for (const key of m.signingKeys) {
      const fp = key.fingerprint.value;
      if (permissible.extraKeys.has(fp) && signers.has(fp)) {
        used.set(fp, key);
        extraKeys.add(fp);
      }
    }
  }
  if (used.size === 0) {
    reject(
      TopologyErrors.TOPOLOGY_UNAUTHORIZED,
      `no signature on ${describeMapping(m)} is by a key authorized for namespace ${[...permissible.namespaces].join(', ')} (signed by ${tx.signers.join(', ')})`,
    );
  }
  const message = signedMessage(tx.transaction);
  for (const s of tx.signatures) {
    const key = used.get(s.signedBy.value);
    if (key && !key.verify(message, s.signature)) {
      reject(
        TopologyErrors.TOPOLOGY_INVALID_SIGNATURE,
        `the signature by key ${s.signedBy} on ${describeMapping(m)} does not verify`,
      );
    }
  }
  return {
    authorized: tx.retainSignatures(new Set(used.keys())),
    missing: missingAuth(required, { namespaces, extraKeys }),
  };
}

function precondition(message: string): never {
  return reject(TopologyErrors.TOPOLOGY_PRECONDITION_FAILED, message);
}

function requireKeys(state: TopologyState, members: readonly Member[], role: string): void {
  const missing = members.filter((m) => state.memberKeys(m) === undefined);
  if (missing.length > 0) {
    precondition(`${role} ${missing.join(', ')} must register keys (OwnerToKeyMapping) first`);
  }
}

/** Checks that depend on other mappings (Canton's `TopologyMappingChecks`). */
function checkAgainstState(
  state: TopologyState,
  tx: SignedTopologyTransaction,
  latest: StoredTopologyTransaction | undefined,
  context: ValidationContext,
): void {
  const m = tx.mapping;
  const removedBefore = latest?.operation === 'Remove';
  const previous = latest?.operation === 'AddReplace' ? latest.mapping : undefined;
  if (tx.operation === 'Remove') {
    if (m.kind === 'SynchronizerParametersState') {
      reject(
        TopologyErrors.TOPOLOGY_INVALID_MAPPING,
        'the synchronizer parameters cannot be removed, only replaced',
      );
    }
    if (m.kind === 'OwnerToKeyMapping') checkKeysUnused(state, m.member);
    return;
  }
  switch (m.kind) {
    case 'NamespaceDelegation':
      if (state.decentralizedNamespace(m.namespace)) {
        precondition(`namespace ${m.namespace} is a decentralized namespace and takes no delegations`);
      }
      if (removedBefore) {
        precondition(
          `the delegation of namespace ${m.namespace} to key ${m.target.fingerprint} was revoked and cannot be re-created`,
        );
      }
      return;
    case 'DecentralizedNamespaceDefinition': {
      if (latest === undefined && !decentralizedNamespaceOf(m.owners).equals(m.namespace)) {
        reject(
          TopologyErrors.TOPOLOGY_INVALID_MAPPING,
          `decentralized namespace ${m.namespace} is not derived from its owners (expected ${decentralizedNamespaceOf(m.owners)})`,
        );
      }
      if (state.hasDelegations(String(m.namespace))) {
        precondition(`namespace ${m.namespace} has namespace delegations and cannot be decentralized`);
      }
      const rootless = m.owners.filter((o) => !state.authorizedKeys(String(o)).has(String(o)));
      if (rootless.length > 0)
        precondition(`owner namespace ${rootless.join(', ')} has no root namespace delegation`);
      return;
    }
    case 'OwnerToKeyMapping':
      if (removedBefore) precondition(`the keys of ${m.member} were removed and cannot be registered again`);
      return;
    case 'SynchronizerTrustCertificate':
      if (removedBefore) {
        precondition(`participant ${m.participant} left synchronizer ${m.synchronizerId} and cannot rejoin`);
      }
      requireKeys(state, [m.participant], 'participant');
      if (previous === undefined) checkOnboarding(state, m, context);
      return;
    case 'PartyToParticipant': {
      const before = new Set(
        previous?.kind === 'PartyToParticipant'
          ? previous.participants.map((h) => String(h.participant))
          : [],
      );
      const added = m.participants.map((h) => h.participant).filter((p) => !before.has(String(p)));
      const unknown = added.filter((p) => state.trustCertificate(p) === undefined);
      if (unknown.length > 0) {
        precondition(
          `participant ${unknown.join(', ')} cannot host party ${m.party}: it has no trust certificate for synchronizer ${context.synchronizerId}`,
        );
      }
      requireKeys(state, added, 'participant');
      return;
    }
    case 'MediatorSynchronizerState': {
      const before = new Set(
        previous?.kind === 'MediatorSynchronizerState'
          ? [...previous.active, ...previous.observers].map(String)
          : [],
      );
      const added = [...m.active, ...m.observers].filter((x) => !before.has(String(x)));
      requireKeys(state, added, 'mediator');
      for (const group of state.mediatorGroups()) {
        if (group.group === m.group) continue;
        const taken = added.filter((x) => [...group.active, ...group.observers].some((y) => y.equals(x)));
        if (taken.length > 0)
          precondition(`mediator ${taken.join(', ')} is already in mediator group ${group.group}`);
      }
      return;
    }
    case 'SequencerSynchronizerState': {
      const before = new Set(
        previous?.kind === 'SequencerSynchronizerState'
          ? [...previous.active, ...previous.observers].map(String)
          : [],
      );
      requireKeys(
        state,
        [...m.active, ...m.observers].filter((x) => !before.has(String(x))),
        'sequencer',
      );
      return;
    }
    default:
      return;
  }
}

function restricted(message: string): never {
  return reject(TopologyErrors.TOPOLOGY_ONBOARDING_RESTRICTED, message);
}

/** A new trust certificate must pass the synchronizer's onboarding restriction. */
function checkOnboarding(
  state: TopologyState,
  certificate: MappingOf<'SynchronizerTrustCertificate'>,
  context: ValidationContext,
): void {
  const participant = certificate.participant;
  const restriction = state.synchronizerParameters().onboardingRestriction;
  if (restriction.endsWith('Locked')) {
    restricted(
      `participant ${participant} cannot join synchronizer ${context.synchronizerId}: onboarding is ${restriction}`,
    );
  }
  if (restriction === 'RestrictedOpen') {
    const permission = state.participantSynchronizerPermission(participant);
    if (permission === undefined) {
      restricted(
        `participant ${participant} cannot join synchronizer ${context.synchronizerId}: onboarding is RestrictedOpen and the owners have not granted it a ParticipantSynchronizerPermission`,
      );
    }
    if (
      permission.loginAfter !== undefined &&
      context.effective !== undefined &&
      permission.loginAfter > context.effective
    ) {
      restricted(
        `participant ${participant} cannot join synchronizer ${context.synchronizerId} before login_after ${permission.loginAfter}`,
      );
    }
  }
}

/** Keys of a member the synchronizer relies on cannot be removed. */
function checkKeysUnused(state: TopologyState, member: Member): void {
  const user =
    member.code === 'PAR'
      ? state.trustCertificate(member) && 'it has a trust certificate'
      : member.code === 'MED'
        ? state.mediatorGroups().some((g) => [...g.active, ...g.observers].some((x) => x.equals(member))) &&
          'it is in a mediator group'
        : [...(state.sequencerGroup()?.active ?? []), ...(state.sequencerGroup()?.observers ?? [])].some(
            (x) => x.equals(member),
          ) && 'it is in the sequencer group';
  if (user) precondition(`the keys of ${member} cannot be removed while ${user}`);
}
