import { describe, expect, it } from 'vitest';
import { Hash, HashPurpose, type SigningPrivateKey } from '../crypto/index.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import { Namespace, PartyId, UniqueIdentifier } from '../identity/index.js';
import { TopologyEngine } from './engine.js';
import { createGenesis } from './genesis.js';
import { TopologyManager } from './manager.js';
import {
  DEFAULT_SYNCHRONIZER_PARAMETERS,
  type DelegationRestriction,
  type TopologyMapping,
} from './mapping.js';
import { exportState } from './processor.js';
import { onboardingTransactions, signed, testSynchronizer } from './testing.js';
import { SignedTopologyTransaction } from './transaction.js';

const GENESIS = 1_000_000n;
const DELAY = DEFAULT_SYNCHRONIZER_PARAMETERS.topologyChangeDelay;

/** A synchronizer after genesis at GENESIS, plus a helper to apply one batch and return its outcomes. */
function started(options: Parameters<typeof testSynchronizer>[0] = {}) {
  const sync = testSynchronizer(options);
  const engine = new TopologyEngine(sync.synchronizerId);
  const genesis = engine.apply(GENESIS, sync.genesis.batch);
  expect(genesis.batch.results.map((r) => r.outcome)).toEqual(sync.genesis.batch.map(() => 'accepted'));
  let clock = GENESIS;
  const apply = (...txs: Uint8Array[]) => {
    clock += 1_000_000n;
    return engine.apply(clock, txs).batch;
  };
  const one = (tx: Uint8Array) => apply(tx).results[0]!;
  /** The time right after everything applied so far took effect. */
  const now = () => (engine.lastEffective ?? GENESIS) + 1n;
  return { sync, engine, apply, one, now, manager: new TopologyManager(engine) };
}

function onboard(s: ReturnType<typeof started>, name: string) {
  const p = s.sync.participant(name);
  const results = s.apply(...onboardingTransactions(p, s.sync.synchronizerId)).results;
  expect(results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
  return p;
}

function rootDelegation(key: SigningPrivateKey): TopologyMapping {
  return {
    kind: 'NamespaceDelegation',
    namespace: Namespace.fromRootKey(key.publicKey),
    target: key.publicKey,
    restriction: { kind: 'all' },
  };
}

/** Signs a mapping given as a raw generated message, bypassing the model's invariant checks. */
function rawSigned(
  mapping: pb.TopologyMapping,
  signers: readonly SigningPrivateKey[],
  serial = 1,
): Uint8Array {
  const transaction = pb.TopologyTransaction.toBinary({
    operation: pb.TopologyChangeOp.ADD_REPLACE,
    serial,
    mapping,
  });
  const hash = Hash.digest(HashPurpose.TopologyTransactionSignature, transaction);
  return pb.SignedTopologyTransaction.toBinary({
    transaction,
    signatures: signers.map((k) => ({
      signedBy: k.publicKey.fingerprint.value,
      signature: k.sign(hash.toMultihash()),
    })),
    proposal: false,
  });
}

describe('genesis', () => {
  it('takes effect at its sequencing time and defines owners, groups, keys and parameters', () => {
    const { sync, engine } = started({
      owners: 3,
      ownerThreshold: 2,
      sequencers: 2,
      mediators: 2,
      parameters: { onboardingRestriction: 'RestrictedOpen' },
    });
    expect(engine.lastEffective).toBe(GENESIS);
    const before = engine.snapshot(GENESIS);
    expect(before.synchronizerOwners()).toBeUndefined();
    expect(before.synchronizerParameters()).toBe(DEFAULT_SYNCHRONIZER_PARAMETERS);

    const snap = engine.snapshot(GENESIS + 1n);
    const owners = snap.synchronizerOwners()!;
    expect(owners.threshold).toBe(2);
    expect(owners.owners.map(String).sort()).toEqual(
      sync.owners.map((o) => o.publicKey.fingerprint.value).sort(),
    );
    expect(String(owners.namespace)).toBe(String(sync.synchronizerId.namespace));
    expect(snap.sequencerGroup()?.active.map(String)).toEqual(sync.sequencers.map((s) => String(s.id)));
    expect(snap.mediatorGroups()).toHaveLength(1);
    expect(snap.mediatorGroup(0)?.active).toHaveLength(2);
    expect(snap.synchronizerParameters()).toEqual({
      ...DEFAULT_SYNCHRONIZER_PARAMETERS,
      onboardingRestriction: 'RestrictedOpen',
    });
    const seq = sync.sequencers[0]!;
    const fp = seq.signingKey.publicKey.fingerprint;
    expect(snap.signingKey(seq.id, fp)?.equals(seq.signingKey.publicKey)).toBe(true);
    expect(snap.signingKey(sync.mediators[0]!.id, fp)).toBeUndefined();
    expect(snap.keyOwners(fp).map(String)).toEqual([String(seq.id)]);
    expect(snap.isMemberActive(seq.id, GENESIS + 1n)).toEqual({ active: true });
    expect(snap.activeMembers(GENESIS + 1n).map(String)).toEqual([
      ...sync.mediators.map((n) => String(n.id)).sort(),
      ...sync.sequencers.map((n) => String(n.id)).sort(),
    ]);
  });

  it('rejects a genesis that names a node under a foreign namespace', () => {
    const sync = testSynchronizer();
    const other = sync.key();
    expect(() =>
      createGenesis({
        synchronizerName: 'x',
        owners: sync.owners,
        sequencers: [{ id: sync.sequencers[0]!.id, namespaceKey: other, signingKey: other }],
        mediators: [],
      }),
    ).toThrow(/not the fingerprint of its namespace key/);
  });

  it('is reproducible: the same keys give the same synchronizer id and transactions', () => {
    const a = testSynchronizer({ seed: 's', owners: 2 });
    const b = testSynchronizer({ seed: 's', owners: 2 });
    expect(String(a.synchronizerId)).toBe(String(b.synchronizerId));
    expect(a.genesis.batch.map((t) => Buffer.from(t).toString('hex'))).toEqual(
      b.genesis.batch.map((t) => Buffer.from(t).toString('hex')),
    );
  });
});

describe('authorization', () => {
  it('accepts a root delegation only when the root key signs it', () => {
    const s = started();
    const key = s.sync.key();
    const mapping = {
      kind: 'NamespaceDelegation',
      namespace: s.sync.participant('x').id.namespace,
      target: key.publicKey,
      restriction: { kind: 'all' },
    } as const;
    // Not a root delegation (target is not the namespace key) and no root exists: nobody can authorize it.
    expect(s.one(signed(mapping, [key])).error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    const self = s.sync.key();
    const root = { ...mapping, namespace: Namespace.fromRootKey(self.publicKey), target: self.publicKey };
    expect(s.one(signed(root, [key])).error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(s.one(signed(root, [self])).outcome).toBe('accepted');
  });

  it('follows delegation chains, honours restrictions and cascades revocations', () => {
    const s = started();
    const p = s.sync.participant('p1');
    const root = p.namespaceKey;
    const intermediate = s.sync.key();
    const leaf = s.sync.key();
    const vetter = s.sync.key();
    const ns = p.id.namespace;
    const delegation = (target: SigningPrivateKey, restriction: DelegationRestriction) =>
      ({ kind: 'NamespaceDelegation', namespace: ns, target: target.publicKey, restriction }) as const;
    expect(s.one(signed(rootDelegation(root), [root])).outcome).toBe('accepted');
    const toIntermediate = delegation(intermediate, { kind: 'all' });
    expect(s.one(signed(toIntermediate, [root])).outcome).toBe('accepted');
    expect(
      s.one(signed(delegation(leaf, { kind: 'allButNamespaceDelegations' }), [intermediate])).outcome,
    ).toBe('accepted');
    // The leaf may sign everything but further delegations.
    expect(s.one(signed(delegation(vetter, { kind: 'all' }), [leaf])).error?.code).toBe(
      'TOPOLOGY_UNAUTHORIZED',
    );
    expect(
      s.one(signed(delegation(vetter, { kind: 'specific', mappings: ['VettedPackages'] }), [intermediate]))
        .outcome,
    ).toBe('accepted');
    const keys = {
      kind: 'OwnerToKeyMapping',
      member: p.id,
      signingKeys: [p.signingKey.publicKey],
      encryptionKeys: [p.encryptionKey.publicKey],
    } as const;
    expect(s.one(signed(keys, [vetter, p.signingKey])).error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(s.one(signed(keys, [leaf, p.signingKey])).outcome).toBe('accepted');
    const vetting = { kind: 'VettedPackages', participant: p.id, packages: [{ packageId: 'pkg1' }] } as const;
    expect(s.one(signed(vetting, [vetter])).outcome).toBe('accepted');

    // Revoking the intermediate delegation also disables the leaf it signed, but not the root.
    expect(s.one(signed(toIntermediate, [root], { op: 'Remove', serial: 2 })).outcome).toBe('accepted');
    const cert = {
      kind: 'SynchronizerTrustCertificate',
      participant: p.id,
      synchronizerId: s.sync.synchronizerId,
    } as const;
    expect(s.one(signed(cert, [leaf])).error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(s.one(signed(cert, [root])).outcome).toBe('accepted');
    // A revoked delegation cannot come back.
    expect(s.one(signed(toIntermediate, [root], { serial: 3 })).error?.code).toBe(
      'TOPOLOGY_PRECONDITION_FAILED',
    );
  });

  it('disables the delegations a key signed once it may no longer sign delegations', () => {
    const s = started();
    const p = s.sync.participant('p1');
    const [root, intermediate, leaf] = [p.namespaceKey, s.sync.key(), s.sync.key()];
    const delegation = (target: SigningPrivateKey, restriction: DelegationRestriction) =>
      ({
        kind: 'NamespaceDelegation',
        namespace: p.id.namespace,
        target: target.publicKey,
        restriction,
      }) as const;
    s.one(signed(rootDelegation(root), [root]));
    s.one(signed(delegation(intermediate, { kind: 'all' }), [root]));
    s.one(signed(delegation(leaf, { kind: 'all' }), [intermediate]));
    expect([...s.engine.head.authorizedKeys(String(p.id.namespace)).keys()]).toHaveLength(3);
    const narrowed = delegation(intermediate, { kind: 'allButNamespaceDelegations' });
    expect(s.one(signed(narrowed, [root], { serial: 2 })).outcome).toBe('accepted');
    const keys = s.engine.head.authorizedKeys(String(p.id.namespace));
    expect([...keys.keys()].sort()).toEqual(
      [root, intermediate].map((k) => k.publicKey.fingerprint.value).sort(),
    );
    const vetting = { kind: 'VettedPackages', participant: p.id, packages: [] } as const;
    expect(s.one(signed(vetting, [leaf])).error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(s.one(signed(vetting, [intermediate])).outcome).toBe('accepted');
  });

  it('requires new signing keys to sign their registration', () => {
    const s = started();
    const p = s.sync.participant('p1');
    const [nsd, , cert] = onboardingTransactions(p, s.sync.synchronizerId);
    s.one(nsd!);
    const keys = {
      kind: 'OwnerToKeyMapping',
      member: p.id,
      signingKeys: [p.signingKey.publicKey],
      encryptionKeys: [p.encryptionKey.publicKey],
    } as const;
    const missing = s.one(signed(keys, [p.namespaceKey]));
    expect(missing.error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(missing.error?.message).toContain(
      `key ${p.signingKey.publicKey.fingerprint} (proof of possession)`,
    );
    // Without keys the participant cannot join.
    expect(s.one(cert!).error?.code).toBe('TOPOLOGY_PRECONDITION_FAILED');
    expect(s.one(signed(keys, [p.namespaceKey], { proposal: true })).outcome).toBe('proposal');
    // The key holder adds its signature to the proposal: it becomes effective.
    expect(s.one(signed(keys, [p.signingKey], { proposal: true })).outcome).toBe('accepted');
    expect(s.engine.head.proposals()).toHaveLength(0);
    expect(s.engine.head.memberKeys(p.id)?.signing).toHaveLength(1);
  });

  it('rejects signatures that do not verify and drops signatures by unrelated keys', () => {
    const s = started();
    const p = s.sync.participant('p1');
    const [nsd] = onboardingTransactions(p, s.sync.synchronizerId);
    const decoded = SignedTopologyTransaction.decode(nsd!);
    const sig = decoded.signatures[0]!;
    const bad = Uint8Array.from(sig.signature);
    bad[0]! ^= 1;
    const forged = SignedTopologyTransaction.sign(decoded.transaction, []).addSignatures([
      { signedBy: sig.signedBy, signature: bad },
    ]);
    expect(s.one(forged.toBytes()).error?.code).toBe('TOPOLOGY_INVALID_SIGNATURE');
    const stranger = s.sync.key();
    const result = s.one(decoded.signWith(stranger).toBytes());
    expect(result.outcome).toBe('accepted');
    expect(result.transaction?.signers).toEqual([p.namespaceKey.publicKey.fingerprint.value]);
  });

  it('needs a threshold of the owners for synchronizer mappings, collected through proposals', () => {
    const s = started({ owners: 3, ownerThreshold: 2 });
    const p = onboard(s, 'p1');
    const [o1, o2, o3] = s.sync.owners as [SigningPrivateKey, SigningPrivateKey, SigningPrivateKey];
    const permission = {
      kind: 'ParticipantSynchronizerPermission',
      synchronizerId: s.sync.synchronizerId,
      participant: p.id,
      permission: 'Confirmation',
    } as const;
    const alone = s.one(signed(permission, [o1]));
    expect(alone.error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(alone.error?.message).toContain('2 of the 3 owners');
    expect(s.one(signed(permission, [o1], { proposal: true })).outcome).toBe('proposal');
    expect(s.engine.head.participantSynchronizerPermission(p.id)).toBeUndefined();
    // The same signature again adds nothing.
    expect(s.one(signed(permission, [o1], { proposal: true })).outcome).toBe('duplicate');
    const second = s.one(signed(permission, [o3], { proposal: true }));
    expect(second.outcome).toBe('accepted');
    expect(new Set(second.transaction?.signers)).toEqual(
      new Set([o1, o3].map((o) => o.publicKey.fingerprint.value)),
    );
    expect(s.engine.snapshot(s.now()).participantPermission(p.id, s.now())).toBe('Confirmation');
    // A late third signature changes nothing.
    expect(s.one(signed(permission, [o2])).outcome).toBe('duplicate');
    // Parameters need the owners too.
    const params = {
      kind: 'SynchronizerParametersState',
      synchronizerId: s.sync.synchronizerId,
      parameters: { ...DEFAULT_SYNCHRONIZER_PARAMETERS, maxRequestSize: 1000 },
    } as const;
    expect(s.one(signed(params, [o2], { serial: 2 })).error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(s.one(signed(params, [o2, o3], { serial: 2 })).outcome).toBe('accepted');
    expect(s.engine.snapshot(s.now()).synchronizerParameters().maxRequestSize).toBe(1000);
  });

  it('drops a pending proposal once another version with its serial is accepted', () => {
    const s = started({ owners: 2, ownerThreshold: 2 });
    const p = onboard(s, 'p1');
    const [o1, o2] = s.sync.owners as [SigningPrivateKey, SigningPrivateKey];
    const permission = (permission: 'Submission' | 'Observation') =>
      ({
        kind: 'ParticipantSynchronizerPermission',
        synchronizerId: s.sync.synchronizerId,
        participant: p.id,
        permission,
      }) as const;
    expect(s.one(signed(permission('Observation'), [o1], { proposal: true })).outcome).toBe('proposal');
    expect(s.engine.head.proposals()).toHaveLength(1);
    expect(s.one(signed(permission('Submission'), [o1, o2])).outcome).toBe('accepted');
    expect(s.engine.head.proposals()).toHaveLength(0);
    // The stale proposal cannot be completed any more.
    expect(s.one(signed(permission('Observation'), [o2], { proposal: true })).error?.code).toBe(
      'TOPOLOGY_SERIAL_MISMATCH',
    );
  });

  it('needs the party and every newly hosting participant for party hosting; either side may end it', () => {
    const s = started();
    const p1 = onboard(s, 'p1');
    const p2 = onboard(s, 'p2');
    const partyKey = s.sync.key();
    s.one(signed(rootDelegation(partyKey), [partyKey]));
    const party = new PartyId(UniqueIdentifier.create('alice', Namespace.fromRootKey(partyKey.publicKey)));
    const hosting = (
      participants: {
        participant: typeof p1.id;
        permission: 'Submission' | 'Confirmation' | 'Observation';
      }[],
      threshold = 1,
    ) => ({ kind: 'PartyToParticipant', party, threshold, participants }) as const;
    const both = hosting([
      { participant: p1.id, permission: 'Confirmation' },
      { participant: p2.id, permission: 'Confirmation' },
    ]);
    const partial = s.one(signed(both, [partyKey, p1.namespaceKey]));
    expect(partial.error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(partial.error?.message).toContain(`namespace ${p2.id.namespace}`);
    expect(s.one(signed(both, [partyKey, p1.namespaceKey, p2.namespaceKey])).outcome).toBe('accepted');
    const hosted = s.engine.snapshot(s.now()).partyHosting(party)!;
    expect(hosted.participants.map((h) => String(h.participant))).toEqual([String(p1.id), String(p2.id)]);
    // p2 leaves on its own.
    const withoutP2 = hosting([{ participant: p1.id, permission: 'Confirmation' }]);
    expect(s.one(signed(withoutP2, [p2.namespaceKey], { serial: 2 })).outcome).toBe('accepted');
    // Upgrading p1 needs p1 too; a threshold above the confirming participants is invalid.
    const upgrade = hosting([{ participant: p1.id, permission: 'Submission' }]);
    expect(s.one(signed(upgrade, [partyKey], { serial: 3 })).error?.code).toBe('TOPOLOGY_UNAUTHORIZED');
    expect(s.one(signed(upgrade, [partyKey, p1.namespaceKey], { serial: 3 })).outcome).toBe('accepted');
    const tooHigh = s.one(
      rawSigned(
        {
          mapping: {
            oneofKind: 'partyToParticipant',
            partyToParticipant: {
              party: String(party),
              threshold: 2,
              participants: [
                { participantId: String(p1.id), permission: pb.ParticipantPermission.SUBMISSION },
                { participantId: String(p2.id), permission: pb.ParticipantPermission.OBSERVATION },
              ],
            },
          },
        },
        [partyKey, p1.namespaceKey, p2.namespaceKey],
        4,
      ),
    );
    expect(tooHigh.error?.code).toBe('TOPOLOGY_INVALID_MAPPING');
    expect(tooHigh.error?.message).toContain(
      'threshold 2 must be between 1 and the number of confirming participants (1)',
    );
    // A participant's admin party is hosted by it implicitly.
    expect(s.engine.snapshot(s.now()).partyHosting(p2.id.adminParty)?.participants[0]?.permission).toBe(
      'Submission',
    );
  });

  it('rejects mappings for another synchronizer', () => {
    const s = started();
    const other = testSynchronizer({ seed: 'other' });
    const p = s.sync.participant('p1');
    const [nsd, otk] = onboardingTransactions(p, s.sync.synchronizerId);
    s.apply(nsd!, otk!);
    const cert = signed(
      { kind: 'SynchronizerTrustCertificate', participant: p.id, synchronizerId: other.synchronizerId },
      [p.namespaceKey],
    );
    expect(s.one(cert).error?.code).toBe('TOPOLOGY_WRONG_SYNCHRONIZER');
  });
});

describe('serials and removals', () => {
  it('requires serial 1 first, then previous + 1, and removes only what exists', () => {
    const s = started();
    const p = onboard(s, 'p1');
    const vetted = (packageId: string) =>
      ({ kind: 'VettedPackages', participant: p.id, packages: [{ packageId }] }) as const;
    const root = [p.namespaceKey];
    expect(s.one(signed(vetted('a'), root, { serial: 2 })).error?.code).toBe('TOPOLOGY_SERIAL_MISMATCH');
    expect(s.one(signed(vetted('a'), root, { op: 'Remove' })).error?.code).toBe('TOPOLOGY_NOT_FOUND');
    expect(s.one(signed(vetted('a'), root)).outcome).toBe('accepted');
    expect(s.one(signed(vetted('a'), root)).outcome).toBe('duplicate');
    const stale = s.one(signed(vetted('b'), root));
    expect(stale.error?.code).toBe('TOPOLOGY_SERIAL_MISMATCH');
    expect(stale.error?.message).toContain('must have serial 2');
    expect(s.one(signed(vetted('b'), root, { serial: 3 })).error?.code).toBe('TOPOLOGY_SERIAL_MISMATCH');
    expect(s.one(signed(vetted('b'), root, { serial: 2 })).outcome).toBe('accepted');
    expect(s.one(signed(vetted('a'), root, { serial: 3, op: 'Remove' })).error?.code).toBe(
      'TOPOLOGY_INVALID_MAPPING',
    );
    expect(s.one(signed(vetted('b'), root, { serial: 3, op: 'Remove' })).outcome).toBe('accepted');
    expect(s.one(signed(vetted('b'), root, { serial: 4, op: 'Remove' })).error?.code).toBe(
      'TOPOLOGY_NOT_FOUND',
    );
    expect(s.engine.snapshot(s.now()).vettedPackages(p.id)).toEqual([]);
    // After a removal the mapping may be added again, continuing the serials.
    expect(s.one(signed(vetted('c'), root, { serial: 4 })).outcome).toBe('accepted');
    expect(s.engine.head.nextSerial(vetted('x'))).toBe(5);
  });

  it('keeps mapping invariants and the synchronizer parameters', () => {
    const s = started();
    const [owner] = s.sync.owners;
    const params = {
      kind: 'SynchronizerParametersState',
      synchronizerId: s.sync.synchronizerId,
      parameters: DEFAULT_SYNCHRONIZER_PARAMETERS,
    } as const;
    expect(s.one(signed(params, [owner!], { op: 'Remove', serial: 2 })).error?.code).toBe(
      'TOPOLOGY_INVALID_MAPPING',
    );
    const mediator = s.sync.mediators[0]!;
    // Keys of a mediator in its group cannot be removed.
    const mediatorKeys = {
      kind: 'OwnerToKeyMapping',
      member: mediator.id,
      signingKeys: [mediator.signingKey.publicKey],
      encryptionKeys: [],
    } as const;
    expect(
      s.one(signed(mediatorKeys, [mediator.namespaceKey], { op: 'Remove', serial: 2 })).error?.code,
    ).toBe('TOPOLOGY_PRECONDITION_FAILED');
  });
});

describe('effective time', () => {
  it('makes a change visible only after sequenced + topologyChangeDelay', () => {
    const s = started();
    const p = s.sync.participant('p1');
    const sequenced = GENESIS + 5_000_000n;
    const { effective } = s.engine.apply(sequenced, onboardingTransactions(p, s.sync.synchronizerId)).batch;
    expect(effective).toBe(sequenced + DELAY);
    expect(s.engine.isParticipantActive(p.id, effective).active).toBe(false);
    expect(s.engine.snapshot(effective).memberKeys(p.id)).toBeUndefined();
    expect(s.engine.isParticipantActive(p.id, effective + 1n)).toEqual({
      active: true,
      permission: 'Submission',
    });
    // The head state sees it at once.
    expect(s.engine.head.memberKeys(p.id)).toBeDefined();
    expect(s.engine.knownUntil()).toBe(sequenced + DELAY + 1n);
  });

  it('uses the delay in force at sequencing time and never goes back in effective time', () => {
    const s = started();
    const owners = s.sync.owners;
    const params = (topologyChangeDelay: bigint, serial: number) =>
      signed(
        {
          kind: 'SynchronizerParametersState',
          synchronizerId: s.sync.synchronizerId,
          parameters: { ...DEFAULT_SYNCHRONIZER_PARAMETERS, topologyChangeDelay },
        },
        owners,
        { serial },
      );
    const t1 = GENESIS + 10_000_000n;
    // A longer delay applies only to transactions sequenced after it took effect.
    expect(s.engine.apply(t1, [params(5_000_000n, 2)]).batch.effective).toBe(t1 + DELAY);
    const p1 = s.sync.participant('p1');
    expect(
      s.engine.apply(t1 + DELAY, onboardingTransactions(p1, s.sync.synchronizerId)).batch.effective,
    ).toBe(t1 + 2n * DELAY);
    const t2 = t1 + DELAY + 1n;
    expect(s.engine.apply(t2, [params(0n, 3)]).batch.effective).toBe(t2 + 5_000_000n);
    // While the 5 s delay is in force a shorter one is pending, so only 0 s ahead is certain.
    expect(s.engine.knownUntil()).toBe(t2 + 1n);
    // Sequenced while the 5 s delay is still in force: 5 s.
    const p2 = s.sync.participant('p2');
    const t3 = t2 + 1_000_000n;
    expect(s.engine.apply(t3, onboardingTransactions(p2, s.sync.synchronizerId)).batch.effective).toBe(
      t3 + 5_000_000n,
    );
    // Right after the 0 s delay took effect: not before the previous batch's effective time.
    const p3 = s.sync.participant('p3');
    const t4 = t2 + 5_000_001n;
    expect(s.engine.apply(t4, onboardingTransactions(p3, s.sync.synchronizerId)).batch.effective).toBe(
      t3 + 5_000_000n,
    );
    expect(s.engine.isParticipantActive(p3.id, t3 + 5_000_000n).active).toBe(false);
    expect(s.engine.isParticipantActive(p3.id, t3 + 5_000_001n).active).toBe(true);
    const p4 = s.sync.participant('p4');
    const t5 = t2 + 7_000_000n;
    expect(s.engine.apply(t5, onboardingTransactions(p4, s.sync.synchronizerId)).batch.effective).toBe(t5);
  });
});

describe('permissioned onboarding', () => {
  const restricted = () =>
    started({ owners: 3, ownerThreshold: 2, parameters: { onboardingRestriction: 'RestrictedOpen' } });

  it('rejects a trust certificate until the owners grant a permission, and revocation deactivates', () => {
    const s = restricted();
    const p = s.sync.participant('p1');
    const [nsd, otk, cert] = onboardingTransactions(p, s.sync.synchronizerId);
    const first = s.apply(nsd!, otk!, cert!).results;
    expect(first.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'rejected']);
    expect(first[2]!.error?.code).toBe('TOPOLOGY_ONBOARDING_RESTRICTED');
    expect(first[2]!.error?.message).toContain(String(p.id));
    expect(s.engine.isParticipantActive(p.id, s.now()).active).toBe(false);

    const [o1, o2] = s.sync.owners as [SigningPrivateKey, SigningPrivateKey];
    const proposal = s.manager.setParticipantState(String(p.id), 'Submission', 'Ordinary', {
      signWith: [o1],
    });
    expect(proposal.proposal).toBe(true);
    const complete = s.manager.authorize(proposal.toBytes(), o2);
    expect(complete.proposal).toBe(false);
    expect(s.one(complete.toBytes()).outcome).toBe('accepted');
    const joined = s.apply(cert!);
    expect(joined.results[0]!.outcome).toBe('accepted');
    expect(s.engine.isParticipantActive(p.id, joined.effective).active).toBe(false);
    expect(s.engine.isParticipantActive(p.id, joined.effective + 1n)).toEqual({
      active: true,
      permission: 'Submission',
    });

    const revoke = s.manager.revokeParticipant(p.id, { signWith: [o1, o2] });
    const revoked = s.apply(revoke.toBytes());
    expect(revoked.results[0]!.outcome).toBe('accepted');
    expect(s.engine.isParticipantActive(p.id, revoked.effective).active).toBe(true);
    const after = s.engine.isParticipantActive(p.id, revoked.effective + 1n);
    expect(after.active).toBe(false);
    expect(after.active === false && after.reason).toContain(`participant ${p.id} has no permission`);
  });

  it('locks participants out until login_after', () => {
    const s = restricted();
    const p = s.sync.participant('p1');
    const [nsd, otk, cert] = onboardingTransactions(p, s.sync.synchronizerId);
    s.apply(nsd!, otk!);
    const loginAfter = GENESIS + 100_000_000n;
    const [o1, o2] = s.sync.owners as [SigningPrivateKey, SigningPrivateKey];
    s.one(
      s.manager
        .setParticipantState(p.id, 'Confirmation', 'Vip', { signWith: [o1, o2], loginAfter })
        .toBytes(),
    );
    // Joining before login_after is refused.
    expect(s.one(cert!).error?.message).toContain('before login_after');
    const late = s.engine.apply(loginAfter, [cert!]).batch;
    expect(late.results[0]!.outcome).toBe('accepted');
    expect(s.engine.isParticipantActive(p.id, late.effective + 1n)).toEqual({
      active: true,
      permission: 'Confirmation',
    });
    // A later lock-out.
    const until = late.effective + 50_000_000n;
    const lock = s.manager.setParticipantState(p.id, 'Confirmation', 'Ordinary', {
      signWith: [o1, o2],
      loginAfter: until,
    });
    const locked = s.engine.apply(late.effective + 1_000_000n, [lock.toBytes()]).batch;
    const during = s.engine.isParticipantActive(p.id, locked.effective + 1n);
    expect(during.active === false && during.reason).toContain('may not log in before');
    expect(s.engine.isParticipantActive(p.id, until).active).toBe(true);
    expect(() =>
      s.manager.setParticipantState(p.id, 'Submission', 'Gold' as never, { signWith: [o1] }),
    ).toThrow(/trust level 'Gold' is unknown/);
  });

  it('refuses new participants while onboarding is locked', () => {
    for (const onboardingRestriction of ['RestrictedLocked', 'UnrestrictedLocked'] as const) {
      const s = started({ parameters: { onboardingRestriction } });
      const p = s.sync.participant('p1');
      const [nsd, otk, cert] = onboardingTransactions(p, s.sync.synchronizerId);
      s.apply(nsd!, otk!);
      s.one(
        s.manager.setParticipantState(p.id, 'Submission', 'Ordinary', { signWith: s.sync.owners }).toBytes(),
      );
      const result = s.one(cert!);
      expect(result.error?.code).toBe('TOPOLOGY_ONBOARDING_RESTRICTED');
      expect(result.error?.message).toContain(`onboarding is ${onboardingRestriction}`);
    }
  });

  it('admits anyone while onboarding is unrestricted and open', () => {
    const s = started();
    const p = onboard(s, 'p1');
    expect(s.engine.isParticipantActive(p.id, s.now())).toEqual({ active: true, permission: 'Submission' });
    expect(s.engine.snapshot(s.now()).participants().map(String)).toEqual([String(p.id)]);
  });
});

describe('determinism', () => {
  it('gives identical state to independent engines fed the same batches', () => {
    const sync = testSynchronizer({
      owners: 3,
      ownerThreshold: 2,
      parameters: { onboardingRestriction: 'RestrictedOpen' },
    });
    const batches: [bigint, Uint8Array[]][] = [[GENESIS, [...sync.genesis.batch]]];
    const ps = ['p1', 'p2', 'p3'].map((n) => sync.participant(n));
    let t = GENESIS;
    for (const p of ps) {
      t += 1_000_000n;
      const [nsd, otk, cert] = onboardingTransactions(p, sync.synchronizerId);
      const grant = signed(
        {
          kind: 'ParticipantSynchronizerPermission',
          synchronizerId: sync.synchronizerId,
          participant: p.id,
          permission: 'Submission',
        },
        sync.owners.slice(0, 2),
      );
      batches.push([t, [nsd!, otk!, cert!, grant, cert!]]);
    }
    const run = () => {
      const engine = new TopologyEngine(sync.synchronizerId);
      const outcomes = batches.map(([at, txs]) => engine.apply(at, txs).batch.results.map((r) => r.outcome));
      return { engine, outcomes };
    };
    const a = run();
    const b = run();
    expect(a.outcomes).toEqual(b.outcomes);
    expect(a.outcomes[1]).toEqual(['accepted', 'accepted', 'rejected', 'accepted', 'accepted']);
    expect(Buffer.from(exportState(a.engine)).equals(exportState(b.engine))).toBe(true);
    for (let at = GENESIS; at <= t + DELAY + 1n; at += 125_000n) {
      const x = a.engine.snapshot(at);
      const y = b.engine.snapshot(at);
      expect(x.activeMembers(at).map(String)).toEqual(y.activeMembers(at).map(String));
      expect(x.transactions().map((tx) => tx.hash.toHex())).toEqual(
        y.transactions().map((tx) => tx.hash.toHex()),
      );
    }
  });
});
