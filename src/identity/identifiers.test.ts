import { describe, expect, it } from 'vitest';
import { DeterministicRandom, Fingerprint, generateSigningKeyPair } from '../crypto/index.js';
import { isWeftError } from '../errors/index.js';
import { IdentityErrors } from './errors.js';
import {
  MediatorId,
  Namespace,
  ParticipantId,
  PartyId,
  parseMember,
  SequencerId,
  SynchronizerId,
  UniqueIdentifier,
} from './identifiers.js';

const rootKey = generateSigningKeyPair(new DeterministicRandom('identity root')).publicKey;
const ns = Namespace.fromRootKey(rootKey);
const NS = ns.toString();

function invalid(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isWeftError(e, IdentityErrors.INVALID_IDENTIFIER), String(e)).toBe(true);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected INVALID_IDENTIFIER');
}

describe('Namespace', () => {
  it('is the fingerprint of the root key', () => {
    expect(ns.fingerprint.equals(rootKey.fingerprint)).toBe(true);
    expect(NS).toMatch(/^1220[0-9a-f]{64}$/);
    expect(Namespace.parse(NS).equals(ns)).toBe(true);
    expect(Namespace.of(Fingerprint.parse(NS)).equals(ns)).toBe(true);
  });

  it('rejects a malformed fingerprint', () => {
    expect(invalid(() => Namespace.parse('1220abc'))).toBe(
      "namespace '1220abc' is not a valid fingerprint: it must be 68 characters ('1220' + 64 hex digits), got 7",
    );
  });
});

describe('UniqueIdentifier', () => {
  it.each(['alice', 'Bank-1', 'a_b-c', '_x', 'x:y', 'a'.repeat(185)])('round-trips %s', (identifier) => {
    const uid = UniqueIdentifier.create(identifier, ns);
    const text = `${identifier}::${NS}`;
    expect(uid.toString()).toBe(text);
    expect(UniqueIdentifier.parse(text).equals(uid)).toBe(true);
    expect(UniqueIdentifier.parse(text).toString()).toBe(text);
    expect(JSON.stringify({ uid })).toBe(JSON.stringify({ uid: text }));
  });

  it.each([
    ['empty input', '', /unique identifier '' is empty; expected '<identifier>::<namespace>'/],
    ['missing ::', `alice${NS}`, /has no '::' between identifier and namespace/],
    ['a single colon', `alice:${NS}`, /has no '::'/],
    ['empty name', `::${NS}`, /has an empty identifier before '::'/],
    [
      'bad character',
      `al$ce::${NS}`,
      /identifier 'al\$ce' of unique identifier .* contains '\$' at position 2; allowed are ASCII letters/,
    ],
    ['non-ASCII character', `zoë::${NS}`, /contains U\+00EB at position 2/],
    ['a tab', `a\tb::${NS}`, /contains U\+0009 at position 1/],
    ['too long a name', `${'a'.repeat(186)}::${NS}`, /is 186 characters long; at most 185 are allowed/],
    ['a name ending in :', `alice:::${NS}`, /contains ':::'; an identifier must not end with ':'/],
    ['a second ::', `a::b::${NS}`, /more than one '::'.*member ids such as PAR::/],
    [
      'a short fingerprint',
      'alice::1220abcd',
      /namespace '1220abcd' of unique identifier 'alice::1220abcd' is not a valid fingerprint: it must be 68 characters/,
    ],
    [
      'a non-hex fingerprint',
      `alice::${NS.slice(0, 67)}x`,
      /must be lowercase hex, found 'x' at position 67/,
    ],
    ['an uppercase fingerprint', `alice::${NS.toUpperCase()}`, /must be lowercase hex/],
    ['a fingerprint without multihash prefix', `alice::${NS.slice(4)}0000`, /must start with '1220'/],
  ])('rejects %s', (_, text, reason) => {
    expect(invalid(() => UniqueIdentifier.parse(text))).toMatch(reason);
  });

  it.each([
    ['', /identifier '' is empty/],
    ['a::b', /identifier 'a::b' contains the reserved delimiter '::'/],
    ['trailing:', /identifier 'trailing:' ends with ':'/],
    ['tab\t', /contains U\+0009/],
    [
      'a b',
      /identifier 'a b' contains U\+0020 at position 1; allowed are ASCII letters, digits, '-', '_' and ':'/,
    ],
    ['-x', /identifier '-x' starts with '-'/],
    ['a'.repeat(186), /is 186 characters long; at most 185 are allowed/],
  ])('refuses to create identifier %j', (identifier, reason) => {
    expect(invalid(() => UniqueIdentifier.create(identifier, ns))).toMatch(reason);
  });
});

describe('parties and synchronizers', () => {
  it('print as bare unique identifiers and parse back', () => {
    const party = PartyId.parse(`alice::${NS}`);
    expect(party.identifier).toBe('alice');
    expect(party.namespace.equals(ns)).toBe(true);
    expect(party.toString()).toBe(`alice::${NS}`);
    const sync = SynchronizerId.parse(`global::${NS}`);
    expect(String(sync)).toBe(`global::${NS}`);
    expect(sync.equals(SynchronizerId.parse(sync.toString()))).toBe(true);
    expect(sync.equals(new PartyId(sync.uid))).toBe(false);
  });

  it('rejects a member id where a party id is expected', () => {
    expect(invalid(() => PartyId.parse(`PAR::p1::${NS}`))).toMatch(/more than one '::'/);
  });
});

describe('members', () => {
  const uid = UniqueIdentifier.create('node1', ns);

  it.each([
    ['PAR', new ParticipantId(uid)],
    ['MED', new MediatorId(uid)],
    ['SEQ', new SequencerId(uid)],
  ] as const)('%s ids round-trip', (code, member) => {
    const text = `${code}::node1::${NS}`;
    expect(member.toString()).toBe(text);
    expect(member.code).toBe(code);
    const parsed = parseMember(text);
    expect(parsed.equals(member)).toBe(true);
    expect(parsed.constructor).toBe(member.constructor);
    expect(JSON.stringify(parsed)).toBe(`"${text}"`);
  });

  it('parses each type with its own parser', () => {
    expect(ParticipantId.parse(`PAR::p1::${NS}`)).toBeInstanceOf(ParticipantId);
    expect(MediatorId.parse(`MED::m1::${NS}`)).toBeInstanceOf(MediatorId);
    expect(SequencerId.parse(`SEQ::s1::${NS}`)).toBeInstanceOf(SequencerId);
    expect(new ParticipantId(uid).equals(new MediatorId(uid))).toBe(false);
  });

  it("gives a participant an admin party with the participant's unique identifier", () => {
    const admin = ParticipantId.parse(`PAR::p1::${NS}`).adminParty;
    expect(admin).toBeInstanceOf(PartyId);
    expect(admin.toString()).toBe(`p1::${NS}`);
  });

  it.each([
    [
      'an unknown prefix',
      `FOO::p1::${NS}`,
      /unknown type prefix 'FOO'; expected PAR \(participant\), MED \(mediator\) or SEQ \(sequencer\)/,
    ],
    ['a lowercase prefix', `par::p1::${NS}`, /unknown type prefix 'par'/],
    ['no prefix', `p1::${NS}`, /unknown type prefix 'p1'/],
    ['no delimiter at all', 'PARp1', /has no '::'/],
    ['a missing unique identifier', 'PAR::', /unique identifier in 'PAR::' is empty/],
    ['an empty name', `PAR::::${NS}`, /has an empty identifier before '::'/],
    [
      'a bad character',
      `MED::m#1::${NS}`,
      /identifier 'm#1' of unique identifier in 'MED::m#1::.*' contains '#' at position 1/,
    ],
    [
      'a bad fingerprint',
      'SEQ::s1::1220',
      /namespace '1220' of unique identifier in 'SEQ::s1::1220' is not a valid fingerprint/,
    ],
  ])('rejects %s', (_, text, reason) => {
    expect(invalid(() => parseMember(text))).toMatch(reason);
  });

  it('rejects a member of the wrong type', () => {
    expect(invalid(() => ParticipantId.parse(`MED::m1::${NS}`))).toMatch(
      /^expected a participant id \(PAR::…\), got the mediator id 'MED::m1::1220/,
    );
    expect(invalid(() => SequencerId.parse(`PAR::p1::${NS}`))).toMatch(/expected a sequencer id/);
  });
});
