import { WeftError } from '../../errors/index.js';
import type { Identifier, Type } from '../lf/ast.js';
import { compareValues } from '../values/compare.js';
import { type ContractId, parseContractId } from '../values/contract-id.js';
import { mapEntries, mapFromSorted } from '../values/sorted-map.js';
import {
  bool,
  contractId,
  date,
  identifierToString,
  int64,
  listFromArray,
  NONE,
  numeric,
  party,
  some,
  text,
  timestamp,
  UNIT,
  type Value,
} from '../values/value.js';
import { DamlEngineErrors } from './errors.js';
import { type Node, type NodeId, TRANSACTION_VERSION, type Transaction } from './transaction.js';
import type { TypeResolver } from './types.js';
import { MAX_VALUE_NESTING } from './values.js';

/**
 * The canonical binary encoding of values, nodes and transactions: one byte sequence per value (so equal
 * transactions have equal bytes and can be hashed and compared as bytes). Like Daml's `value.proto`, values are
 * untyped on the wire (records carry their field values in definition order, variants and enums their constructor
 * name) and are decoded against the package types, which also validates them.
 *
 * Integers are unsigned LEB128 varints (signed ones zig-zag encoded, Int64 and Numeric through bigint); text is
 * its UTF-8 length and bytes; parties are text; contract ids are their bytes, length-prefixed; sets of parties are
 * sorted. A transaction starts with the byte `0x57` ('W') and its format version, then its roots and its nodes in
 * ascending id order, each with its id.
 */

const MAGIC = 0x57;

enum V {
  Unit = 0,
  False = 1,
  True = 2,
  Int64 = 3,
  Numeric = 4,
  Text = 5,
  Date = 6,
  Timestamp = 7,
  Party = 8,
  ContractId = 9,
  Record = 10,
  Variant = 11,
  Enum = 12,
  List = 13,
  None = 14,
  Some = 15,
  TextMap = 16,
  GenMap = 17,
}

enum N {
  Create = 0,
  Fetch = 1,
  Exercise = 2,
  Rollback = 3,
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Encoding is synchronous, so one growable scratch buffer serves every Writer; `result` copies out of it. */
let scratch = new Uint8Array(4096);

class Writer {
  private buf = scratch;
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    scratch = next;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  uint(n: number): void {
    this.ensure(5);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  int(n: number): void {
    this.uint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  bigint(n: bigint): void {
    let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    while (z >= 0x80n) {
      this.byte(Number(z & 0x7fn) | 0x80);
      z >>= 7n;
    }
    this.byte(Number(z));
  }

  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string): void {
    const n = s.length;
    // Fast path: short ASCII text (parties, names, identifiers) is its own UTF-8 encoding.
    if (n < 0x80) {
      this.ensure(1 + n);
      const start = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.buf[start + 1 + i] = c;
      }
      if (i === n) {
        this.buf[start] = n;
        this.pos = start + 1 + n;
        return;
      }
    }
    // Worst case 3 bytes per UTF-16 unit; write after a 5-byte length slot, then move if the length is shorter.
    this.ensure(5 + n * 3);
    const start = this.pos + 5;
    const { written } = utf8.encodeInto(s, this.buf.subarray(start));
    const lenBytes =
      written < 0x80 ? 1 : written < 0x4000 ? 2 : written < 0x200000 ? 3 : written < 0x10000000 ? 4 : 5;
    this.uint(written);
    if (lenBytes !== 5) this.buf.copyWithin(this.pos, start, start + written);
    this.pos += written;
  }

  strings(ss: readonly string[]): void {
    this.uint(ss.length);
    for (const s of ss) this.string(s);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function malformed(message: string): never {
  throw new WeftError(DamlEngineErrors.DAML_TRANSACTION_MALFORMED, message);
}

class Reader {
  pos = 0;
  readonly #buf: Uint8Array;

  constructor(bytes: Uint8Array) {
    // A plain view even of a Buffer: slicing a Buffer constructs a Buffer, dearer per text and id read.
    this.#buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos === this.#buf.length;
  }

  byte(): number {
    if (this.pos >= this.#buf.length) malformed('truncated encoding');
    return this.#buf[this.pos++]!;
  }

  uint(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 35) malformed('varint too long');
    }
    return n;
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  bigint(): bigint {
    let z = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      z |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
      if (shift > 140n) malformed('varint too long');
    }
    return z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
  }

  bytes(): Uint8Array {
    const n = this.uint();
    if (this.pos + n > this.#buf.length) malformed('truncated encoding');
    const b = this.#buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    try {
      return fromUtf8.decode(this.bytes());
    } catch (e) {
      if (e instanceof WeftError) throw e;
      return malformed('invalid UTF-8 text');
    }
  }

  strings(): string[] {
    const n = this.uint();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

function writeValue(w: Writer, v: Value): void {
  switch (v.kind) {
    case 'Unit':
      w.byte(V.Unit);
      return;
    case 'Bool':
      w.byte(v.value ? V.True : V.False);
      return;
    case 'Int64':
      w.byte(V.Int64);
      w.bigint(v.value);
      return;
    case 'Numeric':
      w.byte(V.Numeric);
      w.uint(v.scale);
      w.bigint(v.unscaled);
      return;
    case 'Text':
      w.byte(V.Text);
      w.string(v.value);
      return;
    case 'Date':
      w.byte(V.Date);
      w.int(v.days);
      return;
    case 'Timestamp':
      w.byte(V.Timestamp);
      w.bigint(v.micros);
      return;
    case 'Party':
      w.byte(V.Party);
      w.string(v.value);
      return;
    case 'ContractId':
      w.byte(V.ContractId);
      w.bytes(Buffer.from(v.cid.coid, 'hex'));
      return;
    case 'Record':
      w.byte(V.Record);
      w.uint(v.values.length);
      for (const x of v.values) writeValue(w, x);
      return;
    case 'Variant':
      w.byte(V.Variant);
      w.string(v.constructor);
      writeValue(w, v.value);
      return;
    case 'Enum':
      w.byte(V.Enum);
      w.string(v.constructor);
      return;
    case 'List':
      w.byte(V.List);
      w.uint(v.length);
      for (let l = v; l.tail !== undefined; l = l.tail) writeValue(w, l.head!);
      return;
    case 'Optional':
      if (v.value === undefined) {
        w.byte(V.None);
        return;
      }
      w.byte(V.Some);
      writeValue(w, v.value);
      return;
    case 'TextMap':
    case 'GenMap': {
      const entries = mapEntries(v.map);
      w.byte(v.kind === 'TextMap' ? V.TextMap : V.GenMap);
      w.uint(entries.length);
      for (const e of entries) {
        writeValue(w, e.key);
        writeValue(w, e.value);
      }
      return;
    }
    default:
      malformed(`a ${v.kind} value cannot be serialized`);
  }
}

function writeIdentifier(w: Writer, id: Identifier): void {
  w.string(id.packageId);
  w.strings(id.module);
  w.strings(id.name);
}

function writeOptionalIdentifier(w: Writer, id: Identifier | undefined): void {
  if (id === undefined) w.byte(0);
  else {
    w.byte(1);
    writeIdentifier(w, id);
  }
}

function writeContractId(w: Writer, cid: ContractId): void {
  w.bytes(Buffer.from(cid.coid, 'hex'));
}

function writeIds(w: Writer, ids: readonly NodeId[]): void {
  w.uint(ids.length);
  for (const id of ids) w.uint(id);
}

function writeNode(w: Writer, node: Node, withChildren: boolean): void {
  switch (node.tag) {
    case 'Create':
      w.byte(N.Create);
      writeContractId(w, node.contractId);
      w.string(node.packageName);
      writeIdentifier(w, node.templateId);
      writeValue(w, node.arg);
      w.strings(node.signatories);
      w.strings(node.stakeholders);
      return;
    case 'Fetch':
      w.byte(N.Fetch);
      writeContractId(w, node.contractId);
      w.string(node.packageName);
      writeIdentifier(w, node.templateId);
      writeOptionalIdentifier(w, node.interfaceId);
      w.strings(node.actingParties);
      w.strings(node.signatories);
      w.strings(node.stakeholders);
      return;
    case 'Exercise':
      w.byte(N.Exercise);
      writeContractId(w, node.contractId);
      w.string(node.packageName);
      writeIdentifier(w, node.templateId);
      writeOptionalIdentifier(w, node.interfaceId);
      w.string(node.choice);
      w.byte(node.consuming ? 1 : 0);
      w.strings(node.actingParties);
      writeValue(w, node.chosenValue);
      w.strings(node.signatories);
      w.strings(node.stakeholders);
      w.strings(node.choiceObservers);
      if (withChildren) writeIds(w, node.children);
      else w.uint(node.children.length);
      if (node.exerciseResult === undefined) w.byte(0);
      else {
        w.byte(1);
        writeValue(w, node.exerciseResult);
      }
      return;
    case 'Rollback':
      w.byte(N.Rollback);
      if (withChildren) writeIds(w, node.children);
      else w.uint(node.children.length);
      return;
  }
}

export function encodeValue(v: Value): Uint8Array {
  const w = new Writer();
  writeValue(w, v);
  return w.result();
}

/**
 * One node, its children as node ids. With `withChildren: false` only the number of children is written: the
 * node's own content, for comparing nodes of two transactions whose ids differ.
 */
export function encodeNode(node: Node, withChildren = true): Uint8Array {
  const w = new Writer();
  writeNode(w, node, withChildren);
  return w.result();
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  const w = new Writer();
  w.byte(MAGIC);
  w.uint(tx.version);
  writeIds(w, tx.roots);
  const ids = [...tx.nodes.keys()].sort((a, b) => a - b);
  w.uint(ids.length);
  for (const id of ids) {
    w.uint(id);
    writeNode(w, tx.nodes.get(id)!, true);
  }
  return w.result();
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** Map entries must come in ascending key order, each key once: there is one encoding per map. */
function checkAscending(entries: readonly [Value, Value][], cmp: (a: Value, b: Value) => number) {
  for (let i = 1; i < entries.length; i++)
    if (cmp(entries[i - 1]![0], entries[i]![0]) >= 0) bad('map keys are not in ascending order');
}

/**
 * A malformed value, found while decoding inside a node or value. Its `path` (".field", "[3]") grows while the
 * error propagates up the value, so that decoding builds no path unless a value is malformed.
 */
class BadValue {
  constructor(
    public path: string,
    readonly reason: string,
  ) {}
}

function bad(reason: string): never {
  throw new BadValue('', reason);
}

/** Rethrows `e`, a malformed value, as found under `segment` of the value being decoded. */
function under(e: unknown, segment: string): never {
  if (e instanceof BadValue) e.path = segment + e.path;
  throw e;
}

/** How errors name a node: by id within a transaction, or just "node" when decoded alone. */
function nodeName(id: NodeId | undefined): string {
  return id === undefined ? 'node' : `node ${id}`;
}

function unexpected(tag: number, what: string): never {
  return bad(`expected ${what}, found value tag ${tag}`);
}

/** Template argument types kept by a decoder (more templates than any set of packages here has). */
const TEMPLATE_TYPES = 10_000;

/** Decodes values, nodes and transactions against the package types. */
export class TransactionDecoder {
  /**
   * The type of each template's argument, by template: one object per template, so that the resolver's shape
   * cache (by type object) serves every create of it. Bounded by {@link TEMPLATE_TYPES}.
   */
  readonly #templateTypes = new Map<string, Type>();

  constructor(private readonly types: TypeResolver) {}

  #templateType(templateId: Identifier): Type {
    const key = identifierToString(templateId);
    let type = this.#templateTypes.get(key);
    if (type === undefined) {
      if (this.#templateTypes.size >= TEMPLATE_TYPES) this.#templateTypes.clear();
      type = { tag: 'Con', tycon: templateId, args: [] };
      this.#templateTypes.set(key, type);
    }
    return type;
  }

  decodeValue(bytes: Uint8Array, type: Type): Value {
    const r = new Reader(bytes);
    const v = this.valueAt(r, type, undefined);
    if (!r.done) malformed('trailing bytes after the value');
    return v;
  }

  /** One node as {@link encodeNode} wrote it (with its children's ids), decoded against the package types. */
  decodeNode(bytes: Uint8Array): Node {
    const r = new Reader(bytes);
    const node = this.node(r, undefined);
    if (!r.done) malformed('trailing bytes after the node');
    return node;
  }

  decodeTransaction(bytes: Uint8Array): Transaction {
    const r = new Reader(bytes);
    if (r.byte() !== MAGIC) malformed('not an encoded transaction');
    const version = r.uint();
    if (version !== TRANSACTION_VERSION) malformed(`unsupported transaction format version ${version}`);
    const roots = this.ids(r);
    const count = r.uint();
    const nodes = new Map<NodeId, Node>();
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const id = r.uint();
      if (id <= previous) malformed('node ids are not in ascending order');
      previous = id;
      nodes.set(id, this.node(r, id));
    }
    if (!r.done) malformed('trailing bytes after the transaction');
    for (const id of roots) if (!nodes.has(id)) malformed(`root ${id} is not a node of the transaction`);
    for (const [id, node] of nodes)
      if (node.tag === 'Exercise' || node.tag === 'Rollback')
        for (const c of node.children) if (!nodes.has(c)) malformed(`child ${c} of node ${id} is missing`);
    return { version, roots, nodes };
  }

  private ids(r: Reader): NodeId[] {
    const n = r.uint();
    const out: NodeId[] = [];
    for (let i = 0; i < n; i++) out.push(r.uint());
    return out;
  }

  private identifier(r: Reader): Identifier {
    return { packageId: r.string(), module: r.strings(), name: r.strings() };
  }

  private optionalIdentifier(r: Reader): Identifier | undefined {
    return r.byte() === 0 ? undefined : this.identifier(r);
  }

  /** A contract id, or undefined when its bytes are not one. */
  private contractId(r: Reader): ContractId | undefined {
    const b = r.bytes();
    return parseContractId(Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
  }

  private nodeContractId(r: Reader, id: NodeId | undefined): ContractId {
    return this.contractId(r) ?? malformed(`${nodeName(id)}: invalid contract id`);
  }

  /** A node; `id` (when known) only names it in errors. */
  private node(r: Reader, id: NodeId | undefined): Node {
    const tag = r.byte();
    switch (tag) {
      case N.Create: {
        const contractId = this.nodeContractId(r, id);
        const packageName = r.string();
        const templateId = this.identifier(r);
        const arg = this.valueAt(r, this.#templateType(templateId), id, ' argument');
        return {
          tag: 'Create',
          contractId,
          packageName,
          templateId,
          arg,
          signatories: r.strings(),
          stakeholders: r.strings(),
        };
      }
      case N.Fetch:
        return {
          tag: 'Fetch',
          contractId: this.nodeContractId(r, id),
          packageName: r.string(),
          templateId: this.identifier(r),
          interfaceId: this.optionalIdentifier(r),
          actingParties: r.strings(),
          signatories: r.strings(),
          stakeholders: r.strings(),
        };
      case N.Exercise: {
        const contractId = this.nodeContractId(r, id);
        const packageName = r.string();
        const templateId = this.identifier(r);
        const interfaceId = this.optionalIdentifier(r);
        const choiceName = r.string();
        const owner = interfaceId ?? templateId;
        const choice = this.types.registry.lookupChoice(owner, choiceName)?.choice;
        if (choice === undefined)
          malformed(`${nodeName(id)}: ${identifierToString(owner)} has no choice ${choiceName}`);
        const consuming = r.byte() === 1;
        const actingParties = r.strings();
        const chosenValue = this.valueAt(r, choice.argBinder.type, id, ' choice argument');
        const signatories = r.strings();
        const stakeholders = r.strings();
        const choiceObservers = r.strings();
        const children = this.ids(r);
        const exerciseResult =
          r.byte() === 0 ? undefined : this.valueAt(r, choice.returnType, id, ' exercise result');
        return {
          tag: 'Exercise',
          contractId,
          packageName,
          templateId,
          interfaceId,
          choice: choiceName,
          consuming,
          actingParties,
          chosenValue,
          signatories,
          stakeholders,
          choiceObservers,
          children,
          exerciseResult,
        };
      }
      case N.Rollback:
        return { tag: 'Rollback', children: this.ids(r) };
      default:
        return malformed(`${nodeName(id)}: unknown node tag ${tag}`);
    }
  }

  /**
   * A value of `type`; a malformed one is reported at the path below the value, named `what` of node `id` (the
   * whole value being decoded when `what` is undefined).
   */
  private valueAt(r: Reader, type: Type, id: NodeId | undefined, what?: string): Value {
    try {
      return this.value(r, type, 1);
    } catch (e) {
      if (e instanceof BadValue)
        malformed(`${what === undefined ? 'value' : nodeName(id) + what}${e.path}: ${e.reason}`);
      throw e;
    }
  }

  private value(r: Reader, type: Type, depth: number): Value {
    if (depth > MAX_VALUE_NESTING) bad(`nested deeper than ${MAX_VALUE_NESTING} levels`);
    const shape = this.types.resolve(type);
    if (typeof shape === 'string') return bad(shape);
    const tag = r.byte();
    switch (shape.kind) {
      case 'Unit':
        if (tag !== V.Unit) unexpected(tag, 'Unit');
        return UNIT;
      case 'Bool':
        if (tag !== V.True && tag !== V.False) unexpected(tag, 'a Bool');
        return bool(tag === V.True);
      case 'Int64':
        if (tag !== V.Int64) unexpected(tag, 'an Int64');
        return int64(r.bigint());
      case 'Numeric': {
        if (tag !== V.Numeric) unexpected(tag, 'a Numeric');
        const scale = r.uint();
        if (scale !== shape.scale) bad(`expected scale ${shape.scale}, found ${scale}`);
        return numeric(r.bigint(), scale);
      }
      case 'Text':
        if (tag !== V.Text) unexpected(tag, 'a Text');
        return text(r.string());
      case 'Date':
        if (tag !== V.Date) unexpected(tag, 'a Date');
        return date(r.int());
      case 'Timestamp':
        if (tag !== V.Timestamp) unexpected(tag, 'a Timestamp');
        return timestamp(r.bigint());
      case 'Party':
        if (tag !== V.Party) unexpected(tag, 'a Party');
        return party(r.string());
      case 'ContractId':
        if (tag !== V.ContractId) unexpected(tag, 'a ContractId');
        return contractId(this.contractId(r) ?? bad('invalid contract id'));
      case 'Optional':
        if (tag === V.None) return NONE;
        if (tag !== V.Some) unexpected(tag, 'an Optional');
        return some(this.value(r, shape.elem, depth + 1));
      case 'List': {
        if (tag !== V.List) unexpected(tag, 'a List');
        const n = r.uint();
        const items: Value[] = [];
        let i = 0;
        try {
          for (; i < n; i++) items.push(this.value(r, shape.elem, depth + 1));
        } catch (e) {
          under(e, `[${i}]`);
        }
        return listFromArray(items);
      }
      case 'TextMap': {
        if (tag !== V.TextMap) unexpected(tag, 'a TextMap');
        const n = r.uint();
        const entries: [Value, Value][] = [];
        for (let i = 0; i < n; i++) {
          if (r.byte() !== V.Text) bad('TextMap keys must be Text');
          const key = text(r.string());
          try {
            entries.push([key, this.value(r, shape.elem, depth + 1)]);
          } catch (e) {
            under(e, `[${i}]`);
          }
        }
        checkAscending(entries, compareValues);
        return { kind: 'TextMap', map: mapFromSorted(entries) };
      }
      case 'GenMap': {
        if (tag !== V.GenMap) unexpected(tag, 'a GenMap');
        const n = r.uint();
        const entries: [Value, Value][] = [];
        let i = 0;
        try {
          for (; i < n; i++)
            entries.push([this.value(r, shape.key, depth + 1), this.value(r, shape.value, depth + 1)]);
        } catch (e) {
          under(e, `[${i}]`);
        }
        checkAscending(entries, compareValues);
        return { kind: 'GenMap', map: mapFromSorted(entries) };
      }
      case 'Record': {
        if (tag !== V.Record) unexpected(tag, `a record ${identifierToString(shape.tycon)}`);
        const n = r.uint();
        const fieldTypes = shape.fieldTypes;
        if (n !== fieldTypes.length)
          bad(`${identifierToString(shape.tycon)} has ${fieldTypes.length} fields, found ${n}`);
        const values: Value[] = [];
        let i = 0;
        try {
          for (; i < n; i++) values.push(this.value(r, fieldTypes[i]!, depth + 1));
        } catch (e) {
          under(e, `.${shape.fields[i]}`);
        }
        return { kind: 'Record', tycon: shape.tycon, fields: shape.fields, values };
      }
      case 'Variant': {
        if (tag !== V.Variant) unexpected(tag, `a variant ${identifierToString(shape.tycon)}`);
        const name = r.string();
        const rank = shape.rank.get(name);
        if (rank === undefined) bad(`${identifierToString(shape.tycon)} has no constructor ${name}`);
        let value: Value;
        try {
          value = this.value(r, shape.argTypes[rank]!, depth + 1);
        } catch (e) {
          under(e, `.${name}`);
        }
        return { kind: 'Variant', tycon: shape.tycon, constructor: name, rank, value };
      }
      case 'Enum': {
        if (tag !== V.Enum) unexpected(tag, `an enum ${identifierToString(shape.tycon)}`);
        const name = r.string();
        const rank = shape.rank.get(name);
        if (rank === undefined) bad(`${identifierToString(shape.tycon)} has no constructor ${name}`);
        return { kind: 'Enum', tycon: shape.tycon, constructor: name, rank };
      }
    }
  }
}
