import { CommonErrors, WeftError } from '../errors/index.js';
import { type ParticipantId, PartyId, type SynchronizerId, UniqueIdentifier } from '../identity/index.js';
import { identityTransactions, type NodeIdentity } from '../node/index.js';
import {
  downloadTopologyStateForInit,
  registerOnboardingTransactions,
  type SendHandle,
  type SendRequest,
  type TransportOptions,
  untilActive,
} from '../sequencer/index.js';
import type { Clock } from '../time/index.js';
import {
  SignedTopologyTransaction,
  TopologyManager,
  type TopologyMapping,
  type TopologyProcessor,
  type TopologySigner,
  TopologyTransaction,
  topologyBroadcastEnvelope,
  UniqueKeys,
  type VettedPackage,
} from '../topology/index.js';

/**
 * The participant's own topology requests: its onboarding transactions, and the changes it makes on a connected
 * synchronizer (party allocations, vettings), each submitted and awaited until in force through one path.
 */

export interface HostedParty {
  readonly party: string;
  readonly permission: 'Submission' | 'Confirmation' | 'Observation';
  /** The participant's own admin party. */
  readonly admin: boolean;
  /** The connected synchronizers where the participant hosts it. */
  readonly synchronizerIds: readonly string[];
}

/** The packages a participant vets on a synchronizer, with the serial of their VettedPackages transaction. */
export interface VettingState {
  readonly synchronizerId: string;
  readonly packages: readonly VettedPackage[];
  /** 0 when the participant never vetted anything there. */
  readonly serial: number;
}

/** A connected synchronizer as a topology request needs it: its topology state and a way to send. */
export interface TopologyRequestTarget {
  readonly synchronizerId: SynchronizerId;
  readonly topology: TopologyProcessor;
  readonly client: { send(request: SendRequest): Promise<SendHandle> };
}

/**
 * What a participant hands the sequencer to join a synchronizer: its identity transactions (root namespace
 * delegation, keys) and its SynchronizerTrustCertificate.
 */
function onboardingTransactions(identity: NodeIdentity, synchronizerId: SynchronizerId): Uint8Array[] {
  const trustCertificate = SignedTopologyTransaction.sign(
    TopologyTransaction.create('AddReplace', 1, {
      kind: 'SynchronizerTrustCertificate',
      participant: identity.member as ParticipantId,
      synchronizerId,
    }),
    [identity.namespaceKey.privateKey],
  ).toBytes();
  return [...identityTransactions(identity), trustCertificate];
}

/** How often onboarding asks the sequencer again whether the onboarding transactions took effect. */
const ACTIVATION_POLL_MS = 50;

/**
 * A participant's first connection to a synchronizer: registers its onboarding transactions with the sequencer
 * behind `endpoints`, waits until they are in force (the sequencer answers the topology download only then;
 * SEQUENCER_MEMBER_NOT_ACTIVE until `timeoutMs`), and imports the downloaded topology state into `topology`.
 */
export async function onboard(
  topology: TopologyProcessor,
  o: {
    identity: NodeIdentity;
    endpoints: readonly string[];
    transport: TransportOptions;
    clock: Clock;
    timeoutMs: number;
  },
): Promise<void> {
  const { identity, endpoints, transport, clock } = o;
  await registerOnboardingTransactions(
    endpoints,
    onboardingTransactions(identity, topology.synchronizerId),
    transport,
    clock,
  );
  const member = String(identity.member);
  const signingKey = identity.signingKey.privateKey;
  const state = await untilActive(
    () => downloadTopologyStateForInit(endpoints, member, signingKey, transport, clock),
    { clock, intervalMs: ACTIVATION_POLL_MS, timeoutMs: o.timeoutMs },
  );
  // Without a signal, untilActive resolves with the state or rejects.
  await topology.importState(state!);
}

/**
 * Proposes `mapping` signed by `signer` against the head state, has it sequenced as a topology broadcast on
 * `target`, and waits until it is in force ({@link TopologyProcessor.whenEffective}: no polling); `what` names the
 * change in errors. Fails with the processor's rejection, or TOPOLOGY_CHANGE_TIMEOUT after `timeoutMs`.
 */
export async function requestTopologyChange(
  target: TopologyRequestTarget,
  mapping: TopologyMapping,
  o: { signer: TopologySigner; clock: Clock; timeoutMs: number; what: string },
): Promise<void> {
  const tx = new TopologyManager(target.topology).propose(mapping, { signWith: [o.signer] });
  const handle = await target.client.send({
    envelopes: [topologyBroadcastEnvelope(target.synchronizerId, [tx.toBytes()])],
    maxSequencingTime: o.clock.now() + BigInt(o.timeoutMs) * 1000n,
  });
  const outcome = await handle.outcome;
  if (outcome.kind === 'error') {
    throw new WeftError(
      CommonErrors.UNAVAILABLE,
      `${o.what} was not sequenced: ${outcome.code}: ${outcome.reason}`,
    );
  }
  const { results } = await target.topology.whenEffective(outcome.timestamp, o.timeoutMs);
  const result = results[0];
  if (result?.outcome === 'rejected') {
    throw (
      result.error ??
      new WeftError(CommonErrors.INTERNAL, `${o.what} was rejected by the topology processing`)
    );
  }
  if (result?.outcome === 'proposal') {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `${o.what} needs signatures of other namespaces; it stays a proposal until they authorize it`,
    );
  }
}

export interface TopologyRequestsOptions {
  /** The participant's identity: its id, and its namespace key, which signs its changes. */
  readonly identity: NodeIdentity;
  readonly clock: Clock;
  /** How long a change may take until it is in force (the `activation-timeout-ms` setting). */
  readonly timeoutMs: number;
  /** The connection to `synchronizerId`, or the only one; throws as the node does when there is none. */
  readonly connection: (synchronizerId?: string) => TopologyRequestTarget;
  /** Every connection; throws when there is none. */
  readonly connections: () => readonly TopologyRequestTarget[];
  /** The package ids of the stored DARs: what the participant vets. */
  readonly packageIds: () => readonly string[];
}

/** The participant's parties and vetting on its connected synchronizers. */
export class TopologyRequests {
  readonly #id: ParticipantId;

  constructor(private readonly o: TopologyRequestsOptions) {
    this.#id = o.identity.member as ParticipantId;
  }

  /**
   * Allocates a party `hint::<participant namespace>` hosted here with submission permission (a PartyToParticipant
   * transaction) on a synchronizer — the one named, or the only one connected — and waits until it is in force.
   */
  async allocateParty(hint: string, o: { synchronizerId?: string } = {}): Promise<string> {
    const c = this.o.connection(o.synchronizerId);
    const party = new PartyId(UniqueIdentifier.create(hint, this.o.identity.namespace));
    await this.#request(
      c,
      {
        kind: 'PartyToParticipant',
        party,
        threshold: 1,
        participants: [{ participant: this.#id, permission: 'Submission' }],
      },
      `the hosting of party ${party} on ${c.synchronizerId}`,
    );
    return String(party);
  }

  /** The parties this participant hosts on its synchronizers, its admin party first. */
  parties(): HostedParty[] {
    const connections = this.o.connections();
    const now = this.o.clock.now();
    const adminParty = this.#id.adminParty;
    const byParty = new Map<string, HostedParty & { synchronizerIds: string[] }>();
    const add = (party: string, permission: HostedParty['permission'], synchronizerId: string) => {
      const known = byParty.get(party);
      if (known) known.synchronizerIds.push(synchronizerId);
      else {
        const admin = party === String(adminParty);
        byParty.set(party, { party, permission, admin, synchronizerIds: [synchronizerId] });
      }
    };
    for (const c of connections) {
      const synchronizerId = String(c.synchronizerId);
      const snapshot = c.topology.currentSnapshot(now);
      add(String(adminParty), 'Submission', synchronizerId);
      for (const tx of snapshot.transactions('PartyToParticipant')) {
        const m = tx.mapping;
        if (m.kind !== 'PartyToParticipant' || m.party.equals(adminParty)) continue;
        const host = m.participants.find((h) => h.participant.equals(this.#id));
        if (host) add(String(m.party), host.permission, synchronizerId);
      }
    }
    return [...byParty.values()];
  }

  /** Vets on `c` every package of the stored DARs that is not vetted there yet (one VettedPackages transaction). */
  async vet(c: TopologyRequestTarget): Promise<void> {
    const vetted = c.topology.head.vettedPackages(this.#id);
    const have = new Set(vetted.map((p) => p.packageId));
    const missing = this.o.packageIds().filter((id) => !have.has(id));
    if (missing.length === 0) return;
    const packages = [...vetted, ...missing.map((packageId) => ({ packageId }))];
    await this.#request(
      c,
      { kind: 'VettedPackages', participant: this.#id, packages },
      `the vetting of ${missing.length} packages on ${c.synchronizerId}`,
    );
  }

  /**
   * The parties known on the connected synchronizers (hosted by any participant, the participants' admin parties
   * among them), sorted, each with whether this participant hosts it.
   */
  knownParties(): { party: string; local: boolean }[] {
    const now = this.o.clock.now();
    const known = new Map<string, boolean>();
    const add = (party: string, local: boolean) => known.set(party, (known.get(party) ?? false) || local);
    for (const c of this.o.connections()) {
      const snapshot = c.topology.currentSnapshot(now);
      for (const p of snapshot.participants()) add(String(p.adminParty), p.equals(this.#id));
      for (const tx of snapshot.transactions('PartyToParticipant')) {
        const m = tx.mapping;
        if (m.kind !== 'PartyToParticipant') continue;
        add(
          String(m.party),
          m.participants.some((h) => h.participant.equals(this.#id)),
        );
      }
    }
    return [...known]
      .map(([party, local]) => ({ party, local }))
      .sort((a, b) => (a.party < b.party ? -1 : a.party > b.party ? 1 : 0));
  }

  /** What this participant vets on a synchronizer — the one named, or the only one connected — as of the head state. */
  vetting(synchronizerId?: string): VettingState {
    const c = this.o.connection(synchronizerId);
    const latest = c.topology.head.latest(UniqueKeys.vettedPackages(this.#id));
    return {
      synchronizerId: String(c.synchronizerId),
      packages: c.topology.head.vettedPackages(this.#id),
      serial: latest?.serial ?? 0,
    };
  }

  /**
   * What every participant vets on the connected synchronizers, in force now: by synchronizer id, then participant
   * (named by its unique identifier, without `PAR::`, as the Ledger API names participants).
   */
  allVetting(): (VettingState & { readonly participantId: string })[] {
    const now = this.o.clock.now();
    const out: (VettingState & { participantId: string })[] = [];
    for (const c of this.o.connections()) {
      for (const tx of c.topology.currentSnapshot(now).transactions('VettedPackages')) {
        const m = tx.mapping;
        if (m.kind !== 'VettedPackages') continue;
        out.push({
          synchronizerId: String(c.synchronizerId),
          participantId: m.participant.uid.toString(),
          packages: m.packages,
          serial: tx.serial,
        });
      }
    }
    const key = (v: { synchronizerId: string; participantId: string }) =>
      `${v.synchronizerId}\n${v.participantId}`;
    return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /**
   * Replaces the packages this participant vets on a synchronizer (one VettedPackages transaction) and waits until
   * that is in force; with `dryRun`, only checks it. `expectedSerial` (Canton's PriorTopologySerial: 0 for none)
   * guards against a concurrent change. Returns the state before and after.
   */
  async updateVetting(
    packages: readonly VettedPackage[],
    o: { synchronizerId?: string; dryRun: boolean; expectedSerial?: number },
  ): Promise<{ before: VettingState; after: VettingState }> {
    const c = this.o.connection(o.synchronizerId);
    const before = this.vetting(String(c.synchronizerId));
    if (o.expectedSerial !== undefined && o.expectedSerial !== before.serial) {
      throw new WeftError(
        CommonErrors.FAILED_PRECONDITION,
        `the last vetting transaction of ${this.#id} on ${c.synchronizerId} has serial ${before.serial}, not the expected ${o.expectedSerial}`,
        { serial: before.serial },
      );
    }
    const mapping: TopologyMapping = { kind: 'VettedPackages', participant: this.#id, packages };
    const after = { synchronizerId: before.synchronizerId, packages, serial: before.serial + 1 };
    if (o.dryRun) {
      // Proposing validates the transaction against the head state without sending it.
      new TopologyManager(c.topology).propose(mapping, {
        signWith: [this.o.identity.namespaceKey.privateKey],
      });
      return { before, after };
    }
    await this.#request(c, mapping, `the vetting of ${packages.length} packages on ${c.synchronizerId}`);
    return { before, after: this.vetting(before.synchronizerId) };
  }

  #request(c: TopologyRequestTarget, mapping: TopologyMapping, what: string): Promise<void> {
    return requestTopologyChange(c, mapping, {
      signer: this.o.identity.namespaceKey.privateKey,
      clock: this.o.clock,
      timeoutMs: this.o.timeoutMs,
      what,
    });
  }
}
