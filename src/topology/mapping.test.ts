import { describe, expect, it } from 'vitest';
import { Hash, HashPurpose } from '../crypto/index.js';
import { isWeftError } from '../errors/index.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import { PartyId, UniqueIdentifier } from '../identity/index.js';
import { missingAuth, referencedAuth, requiredAuth } from './auth.js';
import {
  DEFAULT_SYNCHRONIZER_PARAMETERS,
  decentralizedNamespaceOf,
  type MappingKind,
  type MappingOf,
  mappingFromProto,
  mappingsEqual,
  mappingToProto,
  type TopologyMapping,
  uniqueKey,
} from './mapping.js';
import { testSynchronizer } from './testing.js';
import { SignedTopologyTransaction, TopologyTransaction } from './transaction.js';

const sync = testSynchronizer({ owners: 2 });
const p1 = sync.participant('p1');
const p2 = sync.participant('p2');
const mediator = sync.mediators[0]!;
const sequencer = sync.sequencers[0]!;
const synchronizerId = sync.synchronizerId;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isWeftError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a WeftError');
}

const examples: TopologyMapping[] = [
  {
    kind: 'NamespaceDelegation',
    namespace: p1.id.namespace,
    target: p1.signingKey.publicKey,
    restriction: { kind: 'specific', mappings: ['VettedPackages', 'OwnerToKeyMapping'] },
  },
  {
    kind: 'DecentralizedNamespaceDefinition',
    namespace: decentralizedNamespaceOf([p1.id.namespace, p2.id.namespace]),
    threshold: 2,
    owners: [p1.id.namespace, p2.id.namespace],
  },
  {
    kind: 'OwnerToKeyMapping',
    member: p1.id,
    signingKeys: [p1.signingKey.publicKey],
    encryptionKeys: [p1.encryptionKey.publicKey],
  },
  { kind: 'SynchronizerTrustCertificate', participant: p1.id, synchronizerId },
  {
    kind: 'ParticipantSynchronizerPermission',
    synchronizerId,
    participant: p1.id,
    permission: 'Observation',
    loginAfter: 5n,
    limits: { confirmationRequestsMaxRate: 7 },
  },
  {
    kind: 'VettedPackages',
    participant: p1.id,
    packages: [{ packageId: 'a' }, { packageId: 'b', validFrom: 1n, validUntil: 2n }],
  },
  {
    kind: 'PartyToParticipant',
    party: p1.id.adminParty,
    threshold: 1,
    participants: [
      { participant: p1.id, permission: 'Submission' },
      { participant: p2.id, permission: 'Observation' },
    ],
  },
  {
    kind: 'SynchronizerParametersState',
    synchronizerId,
    parameters: { ...DEFAULT_SYNCHRONIZER_PARAMETERS, onboardingRestriction: 'RestrictedLocked' },
  },
  {
    kind: 'MediatorSynchronizerState',
    synchronizerId,
    group: 3,
    threshold: 1,
    active: [mediator.id],
    observers: [],
  },
  { kind: 'SequencerSynchronizerState', synchronizerId, threshold: 1, active: [sequencer.id], observers: [] },
];

function example<K extends MappingKind>(kind: K): MappingOf<K> {
  return examples.find((m) => m.kind === kind) as MappingOf<K>;
}

describe('mappings', () => {
  it('round-trip through the generated messages for every kind', () => {
    for (const m of examples) {
      const back = mappingFromProto(
        pb.TopologyMapping.fromBinary(pb.TopologyMapping.toBinary(mappingToProto(m))),
      );
      expect(back.kind).toBe(m.kind);
      expect(mappingsEqual(back, m)).toBe(true);
      expect(uniqueKey(back)).toBe(uniqueKey(m));
    }
  });

  it('give versions of one mapping the same unique key and distinct mappings distinct keys', () => {
    const permission = examples[4] as TopologyMapping & { kind: 'ParticipantSynchronizerPermission' };
    expect(uniqueKey({ ...permission, permission: 'Submission', loginAfter: 9n })).toBe(
      uniqueKey(permission),
    );
    expect(uniqueKey({ ...permission, participant: p2.id })).not.toBe(uniqueKey(permission));
    // Same fields, different kind.
    expect(uniqueKey({ kind: 'SynchronizerTrustCertificate', participant: p1.id, synchronizerId })).not.toBe(
      uniqueKey(permission),
    );
    expect(new Set(examples.map(uniqueKey)).size).toBe(examples.length);
  });

  it('reject invariant violations with a message naming the problem', () => {
    const permission = mappingToProto(examples[4]!);
    if (permission.mapping.oneofKind !== 'participantSynchronizerPermission') throw new Error('unreachable');
    permission.mapping.participantSynchronizerPermission.participantId = String(mediator.id);
    expect(codeOf(() => mappingFromProto(permission))).toMatch(
      /^TOPOLOGY_INVALID_MAPPING: ParticipantSynchronizerPermission: field participant_id: expected a participant id/,
    );
    const cases: [TopologyMapping, RegExp][] = [
      [
        { ...example('PartyToParticipant'), threshold: 2 },
        /threshold 2 must be between 1 and the number of confirming participants \(1\)/,
      ],
      [{ ...example('PartyToParticipant'), participants: [] }, /needs at least one hosting participant/],
      [{ ...example('OwnerToKeyMapping'), encryptionKeys: [] }, /needs at least one encryption key/],
      [
        { ...example('OwnerToKeyMapping'), signingKeys: [p1.signingKey.publicKey, p1.signingKey.publicKey] },
        /is listed twice/,
      ],
      [
        { ...example('VettedPackages'), packages: [{ packageId: 'x', validFrom: 2n, validUntil: 2n }] },
        /empty validity/,
      ],
      [
        { ...example('MediatorSynchronizerState'), threshold: 2 },
        /threshold 2 must be between 1 and the number of active mediators \(1\)/,
      ],
      [{ ...example('MediatorSynchronizerState'), observers: [mediator.id] }, /listed more than once/],
      [
        {
          ...example('SynchronizerParametersState'),
          parameters: { ...DEFAULT_SYNCHRONIZER_PARAMETERS, confirmationResponseTimeout: 0n },
        },
        /must be positive/,
      ],
      [
        {
          kind: 'NamespaceDelegation',
          namespace: p1.id.namespace,
          target: p1.namespaceKey.publicKey,
          restriction: { kind: 'allButNamespaceDelegations' },
        },
        /root delegation .* must be allowed to sign all mappings/,
      ],
    ];
    for (const [mapping, message] of cases) {
      expect(codeOf(() => mappingToProto(mapping))).toMatch(message);
    }
  });

  it('derive a decentralized namespace from the owners in any order', () => {
    const a = p1.id.namespace;
    const b = p2.id.namespace;
    expect(String(decentralizedNamespaceOf([a, b]))).toBe(String(decentralizedNamespaceOf([b, a])));
    expect(String(decentralizedNamespaceOf([a, b]))).not.toBe(String(decentralizedNamespaceOf([a])));
    expect(String(decentralizedNamespaceOf([a, b]))).toMatch(/^1220[0-9a-f]{64}$/);
  });
});

describe('transactions', () => {
  const mapping = examples[3]!;

  it('hash the exact bytes with the topology purpose tag and sign the hash', () => {
    const tx = TopologyTransaction.create('AddReplace', 1, mapping);
    expect(tx.hash.equals(Hash.digest(HashPurpose.TopologyTransactionSignature, tx.bytes))).toBe(true);
    const signed = SignedTopologyTransaction.sign(tx, [p1.namespaceKey, p1.namespaceKey]);
    expect(signed.signatures).toHaveLength(1);
    expect(p1.namespaceKey.publicKey.verify(tx.hash.toMultihash(), signed.signatures[0]!.signature)).toBe(
      true,
    );
    const decoded = SignedTopologyTransaction.decode(signed.toBytes());
    expect(Buffer.from(decoded.transaction.bytes).equals(tx.bytes)).toBe(true);
    expect(decoded.hash.equals(tx.hash)).toBe(true);
  });

  it('accept only canonical, complete encodings', () => {
    const tx = TopologyTransaction.create('Remove', 2, mapping);
    const withUnknownField = Buffer.concat([tx.bytes, Buffer.from([0x78, 0x01])]);
    expect(codeOf(() => TopologyTransaction.decode(withUnknownField))).toMatch(/^TOPOLOGY_MALFORMED/);
    // A default value written explicitly decodes to the same content but is not the canonical form.
    const explicitProposal = Buffer.concat([
      SignedTopologyTransaction.sign(tx, [p1.namespaceKey]).toBytes(),
      Buffer.from([0x18, 0x00]),
    ]);
    expect(SignedTopologyTransaction.decode(explicitProposal).proposal).toBe(false);
    const padded = Buffer.concat([Buffer.from([0x08, 0x02]), tx.bytes]);
    expect(codeOf(() => TopologyTransaction.decode(padded))).toMatch(/not canonically encoded/);
    const noMapping = pb.TopologyTransaction.toBinary({
      operation: pb.TopologyChangeOp.ADD_REPLACE,
      serial: 1,
    });
    expect(codeOf(() => TopologyTransaction.decode(noMapping))).toMatch(/has no mapping/);
    const noOp = pb.TopologyTransaction.toBinary({
      operation: 0,
      serial: 1,
      mapping: mappingToProto(mapping),
    });
    expect(codeOf(() => TopologyTransaction.decode(noOp))).toMatch(/operation 0 is not specified/);
    const unsigned = pb.SignedTopologyTransaction.toBinary({
      transaction: tx.bytes,
      signatures: [],
      proposal: false,
    });
    expect(codeOf(() => SignedTopologyTransaction.decode(unsigned))).toMatch(/carries no signature/);
    expect(codeOf(() => SignedTopologyTransaction.decode(Uint8Array.of(0xff)))).toMatch(
      /^TOPOLOGY_MALFORMED/,
    );
  });
});

describe('required authorizations', () => {
  const ns = (n: { toString(): string }) => String(n);
  const tx = (m: TopologyMapping, op: 'AddReplace' | 'Remove' = 'AddReplace') =>
    TopologyTransaction.create(op, 1, m);

  it('name the namespaces each kind needs', () => {
    const [, , keys, cert, permission, vetted, , params, mediators] = examples;
    expect(requiredAuth(tx(cert!), undefined)).toEqual({
      kind: 'all',
      namespaces: [ns(p1.id.namespace)],
      extraKeys: [],
    });
    expect(requiredAuth(tx(vetted!), undefined)).toEqual({
      kind: 'all',
      namespaces: [ns(p1.id.namespace)],
      extraKeys: [],
    });
    for (const m of [permission!, params!, mediators!]) {
      expect(requiredAuth(tx(m), undefined)).toEqual({
        kind: 'all',
        namespaces: [ns(synchronizerId.namespace)],
        extraKeys: [],
      });
    }
    // New signing keys prove possession; keys registered before do not sign again, nor on removal.
    const fp = p1.signingKey.publicKey.fingerprint.value;
    expect(requiredAuth(tx(keys!), undefined)).toEqual({
      kind: 'all',
      namespaces: [ns(p1.id.namespace)],
      extraKeys: [fp],
    });
    expect(requiredAuth(tx(keys!), tx(keys!))).toEqual({
      kind: 'all',
      namespaces: [ns(p1.id.namespace)],
      extraKeys: [],
    });
    expect(requiredAuth(tx(keys!, 'Remove'), tx(keys!))).toEqual({
      kind: 'all',
      namespaces: [ns(p1.id.namespace)],
      extraKeys: [],
    });
  });

  it('need all owners for a new decentralized namespace, then its threshold and every added owner', () => {
    const [a, b, c] = [p1.id.namespace, p2.id.namespace, sequencer.id.namespace];
    const dns = decentralizedNamespaceOf([a, b]);
    const first = {
      kind: 'DecentralizedNamespaceDefinition',
      namespace: dns,
      threshold: 1,
      owners: [a, b],
    } as const;
    expect(requiredAuth(tx(first), undefined)).toEqual({
      kind: 'all',
      namespaces: [ns(a), ns(b)],
      extraKeys: [],
    });
    const grown = { ...first, owners: [a, b, c] };
    expect(requiredAuth(tx(grown), tx(first))).toEqual({
      kind: 'all',
      namespaces: [ns(dns), ns(c)],
      extraKeys: [],
    });
  });

  it('let either the party or the participant end or downgrade a hosting', () => {
    const party = new PartyId(UniqueIdentifier.create('alice', mediator.id.namespace));
    const hosting = (permission: 'Submission' | 'Observation', withP2: boolean) =>
      ({
        kind: 'PartyToParticipant',
        party,
        threshold: 1,
        participants: [
          { participant: p1.id, permission },
          ...(withP2 ? [{ participant: p2.id, permission: 'Observation' as const }] : []),
        ],
      }) as const;
    const provided = (...namespaces: { toString(): string }[]) => ({
      namespaces: new Set(namespaces.map(String)),
      extraKeys: new Set<string>(),
    });
    const shrink = requiredAuth(tx(hosting('Observation', false)), tx(hosting('Submission', true)));
    expect(referencedAuth(shrink).namespaces).toEqual(
      new Set([ns(party.namespace), ns(p1.id.namespace), ns(p2.id.namespace)]),
    );
    expect(missingAuth(shrink, provided(p1.id.namespace))).toEqual({
      namespaces: [ns(party.namespace)],
      extraKeys: [],
    });
    expect(missingAuth(shrink, provided(p1.id.namespace, p2.id.namespace))).toBeUndefined();
    expect(missingAuth(shrink, provided(party.namespace))).toBeUndefined();
    // Adding or upgrading a participant needs the party and the participant.
    const grow = requiredAuth(tx(hosting('Submission', true)), tx(hosting('Observation', false)));
    expect(missingAuth(grow, provided(party.namespace))).toEqual({
      namespaces: [ns(p2.id.namespace), ns(p1.id.namespace)],
      extraKeys: [],
    });
    expect(missingAuth(grow, provided(party.namespace, p1.id.namespace, p2.id.namespace))).toBeUndefined();
  });
});
