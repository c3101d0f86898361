import type { Identifier, Type } from '../lf/ast.js';
import type { ContractId } from './contract-id.js';
import type { MapNode } from './sorted-map.js';

/**
 * The run-time values of Daml-LF. Plain immutable objects discriminated by `kind`; lists and maps are
 * persistent structures, so consing, inserting and deleting share their input.
 */
export type Value =
  | UnitValue
  | BoolValue
  | Int64Value
  | NumericValue
  | TextValue
  | DateValue
  | TimestampValue
  | PartyValue
  | ContractIdValue
  | RecordValue
  | VariantValue
  | EnumValue
  | StructValue
  | ListValue
  | OptionalValue
  | TextMapValue
  | GenMapValue
  | AnyValue
  | TypeRepValue
  | FunctionValue
  | TokenValue;

export interface UnitValue {
  readonly kind: 'Unit';
}
export interface BoolValue {
  readonly kind: 'Bool';
  readonly value: boolean;
}
/** A signed 64-bit integer (always within −2⁶³..2⁶³−1). */
export interface Int64Value {
  readonly kind: 'Int64';
  readonly value: bigint;
}
/** `Numeric scale`: value = unscaled · 10^-scale, |unscaled| < 10³⁸. */
export interface NumericValue {
  readonly kind: 'Numeric';
  readonly unscaled: bigint;
  readonly scale: number;
}
export interface TextValue {
  readonly kind: 'Text';
  readonly value: string;
}
/** Days since 1970-01-01. */
export interface DateValue {
  readonly kind: 'Date';
  readonly days: number;
}
/** Microseconds since 1970-01-01T00:00:00Z. */
export interface TimestampValue {
  readonly kind: 'Timestamp';
  readonly micros: bigint;
}
export interface PartyValue {
  readonly kind: 'Party';
  readonly value: string;
}
export interface ContractIdValue {
  readonly kind: 'ContractId';
  readonly cid: ContractId;
}
/** A record; `fields` is the data type's field list (shared), `values` are in the same order. */
export interface RecordValue {
  readonly kind: 'Record';
  readonly tycon: Identifier;
  readonly fields: readonly string[];
  readonly values: readonly Value[];
}
/** `rank` is the constructor's position in the data type, which orders variants. */
export interface VariantValue {
  readonly kind: 'Variant';
  readonly tycon: Identifier;
  readonly constructor: string;
  readonly rank: number;
  readonly value: Value;
}
export interface EnumValue {
  readonly kind: 'Enum';
  readonly tycon: Identifier;
  readonly constructor: string;
  readonly rank: number;
}
/** A structural record; fields are sorted by name, as the spec normalises struct values. */
export interface StructValue {
  readonly kind: 'Struct';
  readonly fields: readonly string[];
  readonly values: readonly Value[];
}
/** A persistent cons list: `NIL` has no head; `length` is kept for O(1) sizing. */
export interface ListValue {
  readonly kind: 'List';
  readonly head: Value | undefined;
  readonly tail: ListValue | undefined;
  readonly length: number;
}
export interface OptionalValue {
  readonly kind: 'Optional';
  readonly value: Value | undefined;
}
/** A map from text, sorted by key code points. */
export interface TextMapValue {
  readonly kind: 'TextMap';
  readonly map: MapNode | null;
}
/** A map sorted by the generic order of its keys. */
export interface GenMapValue {
  readonly kind: 'GenMap';
  readonly map: MapNode | null;
}
/** `Any` and `AnyException`, and interface values (a template payload typed by its template). */
export interface AnyValue {
  readonly kind: 'Any';
  readonly type: Type;
  readonly value: Value;
}
export interface TypeRepValue {
  readonly kind: 'TypeRep';
  readonly type: Type;
}

/** The code of a function (a closure body or a builtin), opaque to the value model. */
export interface FunctionCode {
  readonly arity: number;
  /** For error messages and traces. */
  readonly name: string;
}

/** A closure or a partially applied builtin: `code` awaiting `code.arity - args.length` more arguments. */
export interface FunctionValue {
  readonly kind: 'Function';
  readonly code: FunctionCode;
  /** The captured free variables of a closure (empty for builtins). */
  readonly free: readonly Value[];
  readonly args: readonly Value[];
}

/** The token an `Update` is applied to when it runs (updates are functions of it). */
export interface TokenValue {
  readonly kind: 'Token';
}

export const UNIT: UnitValue = Object.freeze({ kind: 'Unit' });
export const TRUE: BoolValue = Object.freeze({ kind: 'Bool', value: true });
export const FALSE: BoolValue = Object.freeze({ kind: 'Bool', value: false });
export const NONE: OptionalValue = Object.freeze({ kind: 'Optional', value: undefined });
export const NIL: ListValue = Object.freeze({ kind: 'List', head: undefined, tail: undefined, length: 0 });
export const TOKEN: TokenValue = Object.freeze({ kind: 'Token' });
export const EMPTY_TEXT_MAP: TextMapValue = Object.freeze({ kind: 'TextMap', map: null });
export const EMPTY_GEN_MAP: GenMapValue = Object.freeze({ kind: 'GenMap', map: null });

export const bool = (b: boolean): BoolValue => (b ? TRUE : FALSE);
export const int64 = (value: bigint): Int64Value => ({ kind: 'Int64', value });
export const text = (value: string): TextValue => ({ kind: 'Text', value });
export const party = (value: string): PartyValue => ({ kind: 'Party', value });
export const date = (days: number): DateValue => ({ kind: 'Date', days });
export const timestamp = (micros: bigint): TimestampValue => ({ kind: 'Timestamp', micros });
export const numeric = (unscaled: bigint, scale: number): NumericValue => ({
  kind: 'Numeric',
  unscaled,
  scale,
});
export const some = (value: Value): OptionalValue => ({ kind: 'Optional', value });
export const optional = (value: Value | undefined): OptionalValue =>
  value === undefined ? NONE : some(value);
export const contractId = (cid: ContractId): ContractIdValue => ({ kind: 'ContractId', cid });

export function cons(head: Value, tail: ListValue): ListValue {
  return { kind: 'List', head, tail, length: tail.length + 1 };
}

export function listFromArray(items: readonly Value[]): ListValue {
  let list = NIL;
  for (let i = items.length - 1; i >= 0; i--) list = cons(items[i]!, list);
  return list;
}

export function listToArray(list: ListValue): Value[] {
  const out = new Array<Value>(list.length);
  let i = 0;
  for (let l = list; l.tail !== undefined; l = l.tail) out[i++] = l.head!;
  return out;
}

export function record(tycon: Identifier, fields: readonly string[], values: readonly Value[]): RecordValue {
  return { kind: 'Record', tycon, fields, values };
}

/** A struct from fields in any order; they are sorted by name. */
export function struct(entries: readonly (readonly [string, Value])[]): StructValue {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { kind: 'Struct', fields: sorted.map(([f]) => f), values: sorted.map(([, v]) => v) };
}

/** `Module:Name` of an identifier, as Daml prints qualified names. */
export function qualifiedName(id: Identifier): string {
  return `${id.module.join('.')}:${id.name.join('.')}`;
}

/** `packageId:Module:Name`. */
export function identifierToString(id: Identifier): string {
  return `${id.packageId}:${qualifiedName(id)}`;
}
