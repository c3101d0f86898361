import { Fingerprint, type SigningPublicKey } from '../crypto/index.js';
import { WeftError } from '../errors/index.js';
import { IdentityErrors } from './errors.js';

/*
 * Canton's identity strings (`topology/Identifier.scala`, `Member.scala`):
 *   unique identifier  <identifier>::<namespace>       e.g. alice::1220d4…   (parties, synchronizers)
 *   member             <code>::<identifier>::<namespace> with code PAR, MED or SEQ
 * The namespace is the fingerprint of the root key. Canton's identifier (`SafeSimpleString`, a `String185`) is a
 * Daml-LF party string (ASCII letters, digits, ' ', '-', '_', ':') without '::', at most 185 characters so that a
 * unique identifier fits in 255 (185 + 2 + 68). Weft is stricter, so that every identifier survives a shell and a
 * command line unquoted: no ' ', no leading '-' (read as an option), no trailing ':' (the printed form `a:::1220…`
 * would not parse back); and the namespace must be a well-formed SHA-256 fingerprint.
 */

const DELIMITER = '::';
export const MAX_IDENTIFIER_LENGTH = 185;
const ALLOWED_CHARACTERS = "ASCII letters, digits, '-', '_' and ':'";

function fail(message: string): never {
  throw new WeftError(IdentityErrors.INVALID_IDENTIFIER, message);
}

function quote(s: string): string {
  return s.length > 120 ? `'${s.slice(0, 117)}...'` : `'${s}'`;
}

function isAllowed(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    c === 0x2d || // -
    c === 0x5f || // _
    c === 0x3a // :
  );
}

/** Why `id` is not a valid identifier (a phrase completing "identifier 'x' …"), or undefined. */
function identifierProblem(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > MAX_IDENTIFIER_LENGTH) {
    return `is ${id.length} characters long; at most ${MAX_IDENTIFIER_LENGTH} are allowed`;
  }
  for (let i = 0; i < id.length; i++) {
    const c = id.codePointAt(i)!;
    if (!isAllowed(c)) {
      const shown =
        c >= 0x21 && c <= 0x7e
          ? `'${String.fromCodePoint(c)}'`
          : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
      return `contains ${shown} at position ${i}; allowed are ${ALLOWED_CHARACTERS}`;
    }
  }
  if (id.startsWith('-')) return "starts with '-', which a command line would take for an option";
  if (id.includes(DELIMITER)) return `contains the reserved delimiter '${DELIMITER}'`;
  if (id.endsWith(':')) return `ends with ':', which would run into the '${DELIMITER}' delimiter`;
  return undefined;
}

/** A namespace: the fingerprint of the key that roots its authority. */
export class Namespace {
  private constructor(readonly fingerprint: Fingerprint) {}

  static of(fingerprint: Fingerprint): Namespace {
    return new Namespace(fingerprint);
  }

  /** The namespace whose root (namespace delegation) key is `rootKey`. */
  static fromRootKey(rootKey: SigningPublicKey): Namespace {
    return new Namespace(rootKey.fingerprint);
  }

  static parse(s: string): Namespace {
    const problem = Fingerprint.problem(s);
    if (problem) fail(`namespace ${quote(s)} is not a valid fingerprint: it ${problem}`);
    return new Namespace(Fingerprint.parse(s));
  }

  equals(other: Namespace): boolean {
    return this.fingerprint.equals(other.fingerprint);
  }

  toString(): string {
    return this.fingerprint.value;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** `<identifier>::<namespace>`: a name that only the namespace's key holders can claim. */
export class UniqueIdentifier {
  private constructor(
    readonly identifier: string,
    readonly namespace: Namespace,
  ) {}

  static create(identifier: string, namespace: Namespace): UniqueIdentifier {
    const problem = identifierProblem(identifier);
    if (problem) fail(`identifier ${quote(identifier)} ${problem}`);
    return new UniqueIdentifier(identifier, namespace);
  }

  static parse(s: string): UniqueIdentifier {
    return parseUid(s, s);
  }

  equals(other: UniqueIdentifier): boolean {
    return this.identifier === other.identifier && this.namespace.equals(other.namespace);
  }

  toString(): string {
    return `${this.identifier}${DELIMITER}${this.namespace}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Parses the unique identifier `s`, quoting `whole` (the full input, e.g. with a member prefix) in errors. */
function parseUid(s: string, whole: string): UniqueIdentifier {
  const where = whole === s ? `unique identifier ${quote(s)}` : `unique identifier in ${quote(whole)}`;
  if (s.length === 0) fail(`${where} is empty; expected '<identifier>::<namespace>'`);
  const pos = s.indexOf(DELIMITER);
  if (pos < 0) fail(`${where} has no '${DELIMITER}' between identifier and namespace`);
  if (pos === 0) fail(`${where} has an empty identifier before '${DELIMITER}'`);
  const identifier = s.slice(0, pos);
  const namespace = s.slice(pos + DELIMITER.length);
  const idProblem = identifierProblem(identifier);
  if (idProblem) fail(`identifier ${quote(identifier)} of ${where} ${idProblem}`);
  if (namespace.startsWith(':')) {
    fail(
      `${where} contains ':::'; an identifier must not end with ':', which would run into the '::' delimiter`,
    );
  }
  if (namespace.includes(DELIMITER)) {
    fail(
      `${where} has more than one '${DELIMITER}'; expected '<identifier>::<namespace>' ` +
        '(member ids such as PAR::<identifier>::<namespace> are not unique identifiers)',
    );
  }
  const nsProblem = Fingerprint.problem(namespace);
  if (nsProblem)
    fail(`namespace ${quote(namespace)} of ${where} is not a valid fingerprint: it ${nsProblem}`);
  return UniqueIdentifier.create(identifier, Namespace.parse(namespace));
}

/** Common shape of everything identified by a unique identifier. */
abstract class Identity {
  constructor(readonly uid: UniqueIdentifier) {}

  get identifier(): string {
    return this.uid.identifier;
  }

  get namespace(): Namespace {
    return this.uid.namespace;
  }

  equals(other: Identity): boolean {
    return this.constructor === other.constructor && this.uid.equals(other.uid);
  }

  toString(): string {
    return this.uid.toString();
  }

  toJSON(): string {
    return this.toString();
  }
}

/** A party: `<identifier>::<namespace>`, no prefix. */
export class PartyId extends Identity {
  static parse(s: string): PartyId {
    return new PartyId(parseUid(s, s));
  }
}

/** A synchronizer (logical id): `<identifier>::<namespace>`, no prefix. */
export class SynchronizerId extends Identity {
  static parse(s: string): SynchronizerId {
    return new SynchronizerId(parseUid(s, s));
  }
}

/** Three-letter codes that prefix member ids. */
export type MemberCode = 'PAR' | 'MED' | 'SEQ';

/** A synchronizer member, addressable through the sequencer: `<code>::<identifier>::<namespace>`. */
abstract class MemberBase extends Identity {
  abstract readonly code: MemberCode;

  override toString(): string {
    return `${this.code}${DELIMITER}${this.uid}`;
  }
}

export class ParticipantId extends MemberBase {
  readonly code = 'PAR';

  static parse(s: string): ParticipantId {
    return parseMemberAs(s, 'PAR');
  }

  /** The participant's admin party, which shares its unique identifier (as in Canton). */
  get adminParty(): PartyId {
    return new PartyId(this.uid);
  }
}

export class MediatorId extends MemberBase {
  readonly code = 'MED';

  static parse(s: string): MediatorId {
    return parseMemberAs(s, 'MED');
  }
}

export class SequencerId extends MemberBase {
  readonly code = 'SEQ';

  static parse(s: string): SequencerId {
    return parseMemberAs(s, 'SEQ');
  }
}

export type Member = ParticipantId | MediatorId | SequencerId;

const MEMBER_TYPES = {
  PAR: { make: (uid: UniqueIdentifier) => new ParticipantId(uid), name: 'participant' },
  MED: { make: (uid: UniqueIdentifier) => new MediatorId(uid), name: 'mediator' },
  SEQ: { make: (uid: UniqueIdentifier) => new SequencerId(uid), name: 'sequencer' },
} as const;

type MemberOf<C extends MemberCode> = ReturnType<(typeof MEMBER_TYPES)[C]['make']>;

const EXPECTED_CODES = 'PAR (participant), MED (mediator) or SEQ (sequencer)';

/** Parses any member id, dispatching on its prefix. */
export function parseMember(s: string): Member {
  const pos = s.indexOf(DELIMITER);
  if (pos < 0)
    fail(`member id ${quote(s)} has no '${DELIMITER}'; expected <code>::<identifier>::<namespace>`);
  const code = s.slice(0, pos);
  if (!Object.hasOwn(MEMBER_TYPES, code)) {
    fail(`member id ${quote(s)} has unknown type prefix ${quote(code)}; expected ${EXPECTED_CODES}`);
  }
  return MEMBER_TYPES[code as MemberCode].make(parseUid(s.slice(pos + DELIMITER.length), s));
}

function parseMemberAs<C extends MemberCode>(s: string, code: C): MemberOf<C> {
  const member = parseMember(s);
  if (member.code !== code) {
    fail(
      `expected a ${MEMBER_TYPES[code].name} id (${code}::…), got the ${MEMBER_TYPES[member.code].name} id ${quote(s)}`,
    );
  }
  return member as MemberOf<C>;
}
