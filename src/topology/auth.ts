import { comparePermissions, type TopologyMapping } from './mapping.js';
import type { TopologyTransaction } from './transaction.js';

/**
 * Which authorizations a topology transaction needs (Canton's `requiredAuth`): namespaces whose keys must sign, and
 * extra keys that must sign themselves (proof that the owner of a newly registered signing key holds it).
 * Namespaces and keys are fingerprint strings.
 */
export type RequiredAuth =
  | { readonly kind: 'all'; readonly namespaces: readonly string[]; readonly extraKeys: readonly string[] }
  | { readonly kind: 'and' | 'or'; readonly parts: readonly RequiredAuth[] };

/** What the valid signatures of a transaction provide. */
export interface ProvidedAuth {
  readonly namespaces: ReadonlySet<string>;
  readonly extraKeys: ReadonlySet<string>;
}

export interface MissingAuth {
  readonly namespaces: readonly string[];
  readonly extraKeys: readonly string[];
}

function all(namespaces: Iterable<string>, extraKeys: Iterable<string> = []): RequiredAuth {
  return { kind: 'all', namespaces: [...new Set(namespaces)], extraKeys: [...new Set(extraKeys)] };
}

/** Conjunction; plain requirements are merged so that messages list them together. */
function and(parts: readonly RequiredAuth[]): RequiredAuth {
  const plain = parts.filter((p) => p.kind === 'all');
  const rest = parts.filter((p) => p.kind !== 'all');
  const merged = plain.length
    ? [
        all(
          plain.flatMap((p) => p.namespaces),
          plain.flatMap((p) => p.extraKeys),
        ),
      ]
    : [];
  const combined = [...merged, ...rest];
  return combined.length === 1 ? combined[0]! : { kind: 'and', parts: combined };
}

function or(a: RequiredAuth, b: RequiredAuth): RequiredAuth {
  return { kind: 'or', parts: [a, b] };
}

/**
 * The authorizations `tx` needs, given the transaction it replaces (`previous`, the current AddReplace of the same
 * unique key, if any). Changes that only take something away from a participant can be signed by either side.
 */
export function requiredAuth(
  tx: TopologyTransaction,
  previous: TopologyTransaction | undefined,
): RequiredAuth {
  const m = tx.mapping;
  const prev = previous?.operation === 'AddReplace' ? previous.mapping : undefined;
  switch (m.kind) {
    case 'NamespaceDelegation':
      return all([String(m.namespace)]);
    case 'DecentralizedNamespaceDefinition': {
      if (prev?.kind !== 'DecentralizedNamespaceDefinition') return all(m.owners.map(String));
      // A change needs the current owners' threshold (the namespace itself) and every owner being added.
      const before = new Set(prev.owners.map(String));
      return all([String(m.namespace), ...m.owners.map(String).filter((o) => !before.has(o))]);
    }
    case 'OwnerToKeyMapping': {
      // New signing keys must sign too, so that nobody registers a key they do not hold.
      const before = new Set(
        prev?.kind === 'OwnerToKeyMapping' ? prev.signingKeys.map((k) => k.fingerprint.value) : [],
      );
      const added = tx.operation === 'AddReplace' ? m.signingKeys.map((k) => k.fingerprint.value) : [];
      return all(
        [String(m.member.namespace)],
        added.filter((k) => !before.has(k)),
      );
    }
    case 'SynchronizerTrustCertificate':
    case 'VettedPackages':
      return all([String(m.participant.namespace)]);
    case 'ParticipantSynchronizerPermission':
    case 'SynchronizerParametersState':
    case 'MediatorSynchronizerState':
    case 'SequencerSynchronizerState':
      return all([String(m.synchronizerId.namespace)]);
    case 'PartyToParticipant':
      return partyToParticipantAuth(m, prev?.kind === 'PartyToParticipant' ? prev : undefined);
  }
}

type PartyToParticipant = Extract<TopologyMapping, { kind: 'PartyToParticipant' }>;

function partyToParticipantAuth(m: PartyToParticipant, prev: PartyToParticipant | undefined): RequiredAuth {
  const party = String(m.party.namespace);
  const hostings = (p: PartyToParticipant | undefined) =>
    new Map((p?.participants ?? []).map((h) => [String(h.participant), h]));
  const before = hostings(prev);
  const now = hostings(m);
  const parts: RequiredAuth[] = [];
  if (prev === undefined || prev.threshold !== m.threshold) parts.push(all([party]));
  const added = [...now.values()].filter((h) => !before.has(String(h.participant)));
  // Hosting a party commits the participant too: it must agree to every new or upgraded hosting.
  if (added.length > 0) parts.push(all([party, ...added.map((h) => String(h.participant.namespace))]));
  for (const [pid, h] of now) {
    const was = before.get(pid);
    if (was === undefined) continue;
    const change = comparePermissions(h.permission, was.permission);
    const participant = String(h.participant.namespace);
    if (change > 0) parts.push(all([party, participant]));
    else if (change < 0) parts.push(or(all([party]), all([participant])));
  }
  for (const [pid, h] of before) {
    if (!now.has(pid)) parts.push(or(all([party]), all([String(h.participant.namespace)])));
  }
  return parts.length > 0 ? and(parts) : all([party]);
}

/** Every namespace and key that can contribute to `auth` (signatures by other keys are superfluous). */
export function referencedAuth(auth: RequiredAuth): { namespaces: Set<string>; extraKeys: Set<string> } {
  const out = { namespaces: new Set<string>(), extraKeys: new Set<string>() };
  const visit = (a: RequiredAuth): void => {
    if (a.kind === 'all') {
      for (const n of a.namespaces) out.namespaces.add(n);
      for (const k of a.extraKeys) out.extraKeys.add(k);
    } else a.parts.forEach(visit);
  };
  visit(auth);
  return out;
}

/** What is still missing from `provided` to satisfy `auth`, or undefined when it is satisfied. */
export function missingAuth(auth: RequiredAuth, provided: ProvidedAuth): MissingAuth | undefined {
  switch (auth.kind) {
    case 'all': {
      const namespaces = auth.namespaces.filter((n) => !provided.namespaces.has(n));
      const extraKeys = auth.extraKeys.filter((k) => !provided.extraKeys.has(k));
      return namespaces.length + extraKeys.length === 0 ? undefined : { namespaces, extraKeys };
    }
    case 'and': {
      const missing = auth.parts.map((p) => missingAuth(p, provided)).filter((m) => m !== undefined);
      if (missing.length === 0) return undefined;
      return {
        namespaces: [...new Set(missing.flatMap((m) => m.namespaces))],
        extraKeys: [...new Set(missing.flatMap((m) => m.extraKeys))],
      };
    }
    case 'or': {
      const missing = auth.parts.map((p) => missingAuth(p, provided));
      if (missing.some((m) => m === undefined)) return undefined;
      // Report the alternative closest to being satisfied.
      return missing.reduce((best, m) =>
        m!.namespaces.length + m!.extraKeys.length < best!.namespaces.length + best!.extraKeys.length
          ? m
          : best,
      );
    }
  }
}
