import type { BuiltinType, Identifier, Type } from '../lf/ast.js';
import { type ContractId, isAbsoluteContractId } from './contract-id.js';
import { crash, interpretationError } from './errors.js';
import { numericCompare } from './numeric.js';
import { mapEntries } from './sorted-map.js';
import { compareText } from './text.js';
import type { ListValue, Value } from './value.js';

/**
 * Generic equality (`EQUAL`) and total order (`LESS_EQ` …) over values of the same type, following the reference
 * engine: component-wise, left to right, stopping at the first difference; functions are not comparable, and a
 * local contract id cannot be compared with a suffixed one of the same prefix. Both walk with an explicit stack,
 * so 100 000-element lists compare without deep host recursion.
 */

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const cmpPrim = <T extends number | bigint | string>(a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------------------------
// Types (for Any and TypeRep): the order of the reference engine's TypeOrdering.

const BUILTIN_TYPE_INDEX: Readonly<Record<BuiltinType, number>> = {
  UNIT: 0,
  BOOL: 1,
  INT64: 2,
  DATE: 3,
  TIMESTAMP: 4,
  NUMERIC: 5,
  PARTY: 6,
  TEXT: 7,
  CONTRACT_ID: 8,
  OPTIONAL: 9,
  LIST: 10,
  GENMAP: 11,
  ANY: 12,
  ANY_EXCEPTION: 13,
  TYPE_REP: 14,
  ARROW: 15,
  UPDATE: 16,
  FAILURE_CATEGORY: 17,
  TEXTMAP: 18,
};

function compareSegments(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = cmpPrim(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

/** Package id, then module, then name; dotted names compare segment by segment. */
export function compareIdentifiers(a: Identifier, b: Identifier): number {
  if (a === b) return 0;
  return (
    cmpPrim(a.packageId, b.packageId) ||
    compareSegments(a.module, b.module) ||
    compareSegments(a.name, b.name)
  );
}

function spineArgs(t: Type): readonly Type[] {
  switch (t.tag) {
    case 'Con':
    case 'Builtin':
      return t.args;
    case 'Nat':
    case 'Struct':
      return [];
    default:
      return crash(`cannot compare the non-ground type ${t.tag}`);
  }
}

/** Rank of the head of a spine: builtin < type constructor < nat < struct < application. */
function headRank(t: Type): number {
  return t.tag === 'Builtin' ? 0 : t.tag === 'Con' ? 1 : t.tag === 'Nat' ? 2 : 3;
}

function sortedFields(t: Extract<Type, { tag: 'Struct' }>) {
  return [...t.fields].sort((a, b) => cmpPrim(a.field, b.field));
}

/**
 * Compares the spines `x` applied to its first `nx` arguments and `y` to its first `ny`: an application
 * `f a` is compared function first, then argument, as the binary `TApp` of the reference engine.
 */
function compareSpines(x: Type, nx: number, y: Type, ny: number): number {
  if (nx > 0 && ny > 0) {
    return compareSpines(x, nx - 1, y, ny - 1) || compareTypes(spineArgs(x)[nx - 1]!, spineArgs(y)[ny - 1]!);
  }
  const rx = nx > 0 ? 4 : headRank(x);
  const ry = ny > 0 ? 4 : headRank(y);
  if (rx !== ry) return sign(rx - ry);
  if (x.tag === 'Builtin' && y.tag === 'Builtin') {
    return sign(BUILTIN_TYPE_INDEX[x.builtin] - BUILTIN_TYPE_INDEX[y.builtin]);
  }
  if (x.tag === 'Con' && y.tag === 'Con') return compareIdentifiers(x.tycon, y.tycon);
  if (x.tag === 'Nat' && y.tag === 'Nat') return sign(x.value - y.value);
  if (x.tag === 'Struct' && y.tag === 'Struct') {
    const xs = sortedFields(x);
    const ys = sortedFields(y);
    const names = compareSegments(
      xs.map((f) => f.field),
      ys.map((f) => f.field),
    );
    if (names !== 0) return names;
    for (let i = 0; i < xs.length; i++) {
      const c = compareTypes(xs[i]!.type, ys[i]!.type);
      if (c !== 0) return c;
    }
    return 0;
  }
  return crash('inconsistent type spines');
}

/** The total order on ground types (no variables, quantifiers or synonyms), as `-1 | 0 | 1`. */
export function compareTypes(x: Type, y: Type): number {
  if (x === y) return 0;
  return compareSpines(x, spineArgs(x).length, y, spineArgs(y).length);
}

export function typesEqual(x: Type, y: Type): boolean {
  return compareTypes(x, y) === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Contract ids

function notComparable(cid: ContractId): never {
  return interpretationError(
    { kind: 'ContractIdComparability', contractId: cid.coid },
    `contract id ${cid.coid} cannot be compared with a local contract id of the same prefix`,
  );
}

function compareContractIds(a: ContractId, b: ContractId): number {
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  const c = cmpPrim(a.local, b.local);
  if (c !== 0) return c;
  if (a.suffix === '') {
    if (b.suffix === '') return 0;
    return notComparable(b);
  }
  if (b.suffix === '') return notComparable(a);
  const d = cmpPrim(a.suffix, b.suffix);
  if (d !== 0 && a.version === 2 && !(isAbsoluteContractId(a) && isAbsoluteContractId(b)))
    return notComparable(a);
  return d;
}

function contractIdsEqual(a: ContractId, b: ContractId): boolean {
  if (a.coid === b.coid) return true;
  if (a.version !== b.version || a.local !== b.local) return false;
  if (a.suffix === '') return notComparable(b);
  if (b.suffix === '') return notComparable(a);
  if (a.version === 2 && !(isAbsoluteContractId(a) && isAbsoluteContractId(b))) return notComparable(a);
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Values

/** Pending work of a walk: a value pair, two lists, or two sequences from index `i`. */
type Frame =
  | { readonly t: 0; readonly x: Value; readonly y: Value }
  | { readonly t: 1; readonly xs: ListValue; readonly ys: ListValue }
  | { readonly t: 2; readonly xs: readonly Value[]; readonly ys: readonly Value[]; i: number };

function notComparableValues(): never {
  return interpretationError({ kind: 'NonComparableValues' }, 'functions and updates cannot be compared');
}

function mismatch(x: Value, y: Value): never {
  return crash(`cannot compare a ${x.kind} with a ${y.kind}`);
}

/** Keys and values of a map, interleaved, in key order. */
function interleaved(map: Extract<Value, { kind: 'TextMap' | 'GenMap' }>): Value[] {
  const out: Value[] = [];
  for (const e of mapEntries(map.map)) out.push(e.key, e.value);
  return out;
}

/**
 * One step on a pair of values of the same kind: returns the comparison of two leaves (or of variant/enum ranks,
 * or Any types), and pushes the pairs of components still to compare.
 */
function step(x: Value, y: Value, stack: Frame[]): number {
  switch (x.kind) {
    case 'Unit':
      if (y.kind !== 'Unit') return mismatch(x, y);
      return 0;
    case 'Bool':
      if (y.kind !== 'Bool') return mismatch(x, y);
      return x.value === y.value ? 0 : x.value ? 1 : -1;
    case 'Int64':
      if (y.kind !== 'Int64') return mismatch(x, y);
      return cmpPrim(x.value, y.value);
    case 'Numeric':
      if (y.kind !== 'Numeric') return mismatch(x, y);
      return numericCompare(x, y);
    case 'Text':
      if (y.kind !== 'Text') return mismatch(x, y);
      return sign(compareText(x.value, y.value));
    case 'Date':
      if (y.kind !== 'Date') return mismatch(x, y);
      return cmpPrim(x.days, y.days);
    case 'Timestamp':
      if (y.kind !== 'Timestamp') return mismatch(x, y);
      return cmpPrim(x.micros, y.micros);
    case 'Party':
      if (y.kind !== 'Party') return mismatch(x, y);
      return cmpPrim(x.value, y.value); // ASCII: UTF-16 order is code-point order
    case 'ContractId':
      if (y.kind !== 'ContractId') return mismatch(x, y);
      return compareContractIds(x.cid, y.cid);
    case 'Enum':
      if (y.kind !== 'Enum') return mismatch(x, y);
      return cmpPrim(x.rank, y.rank);
    case 'Record':
    case 'Struct':
      if (y.kind !== x.kind) return mismatch(x, y);
      stack.push({ t: 2, xs: x.values, ys: y.values, i: 0 });
      return 0;
    case 'Variant':
      if (y.kind !== 'Variant') return mismatch(x, y);
      if (x.rank !== y.rank) return cmpPrim(x.rank, y.rank);
      stack.push({ t: 0, x: x.value, y: y.value });
      return 0;
    case 'List':
      if (y.kind !== 'List') return mismatch(x, y);
      stack.push({ t: 1, xs: x, ys: y });
      return 0;
    case 'Optional':
      if (y.kind !== 'Optional') return mismatch(x, y);
      if (x.value === undefined || y.value === undefined) {
        return x.value === undefined ? (y.value === undefined ? 0 : -1) : 1;
      }
      stack.push({ t: 0, x: x.value, y: y.value });
      return 0;
    case 'TextMap':
    case 'GenMap':
      if (y.kind !== x.kind) return mismatch(x, y);
      stack.push({ t: 2, xs: interleaved(x), ys: interleaved(y), i: 0 });
      return 0;
    case 'Any': {
      if (y.kind !== 'Any') return mismatch(x, y);
      const c = compareTypes(x.type, y.type);
      if (c === 0) stack.push({ t: 0, x: x.value, y: y.value });
      return c;
    }
    case 'TypeRep':
      if (y.kind !== 'TypeRep') return mismatch(x, y);
      return compareTypes(x.type, y.type);
    case 'Function':
      if (y.kind !== 'Function') return mismatch(x, y);
      return notComparableValues();
    case 'Token':
      return mismatch(x, y);
  }
}

/** Pops the next value pair to compare, or reports the end of a sequence (-1: x ended first, 1: y did). */
function next(stack: Frame[]): { x: Value; y: Value } | number {
  const top = stack[stack.length - 1]!;
  switch (top.t) {
    case 0:
      stack.pop();
      return top;
    case 1: {
      const { xs, ys } = top;
      stack.pop();
      if (xs.tail === undefined || ys.tail === undefined) {
        return xs.tail === undefined ? (ys.tail === undefined ? 0 : -1) : 1;
      }
      stack.push({ t: 1, xs: xs.tail, ys: ys.tail });
      return { x: xs.head!, y: ys.head! };
    }
    case 2: {
      const { xs, ys, i } = top;
      if (i >= xs.length || i >= ys.length) {
        stack.pop();
        return sign(xs.length - ys.length);
      }
      top.i = i + 1;
      return { x: xs[i]!, y: ys[i]! };
    }
  }
}

/** Kinds whose comparison needs no walk (the fast path of the hot comparisons in sorting and map keys). */
const LEAF_KINDS: ReadonlySet<Value['kind']> = new Set([
  'Unit',
  'Bool',
  'Int64',
  'Numeric',
  'Text',
  'Date',
  'Timestamp',
  'Party',
  'Enum',
  'TypeRep',
]);
const NO_FRAMES: Frame[] = [];

/** The generic order of two values of the same type: -1, 0 or 1. */
export function compareValues(x: Value, y: Value): number {
  if (LEAF_KINDS.has(x.kind)) return step(x, y, NO_FRAMES);
  const stack: Frame[] = [{ t: 0, x, y }];
  while (stack.length > 0) {
    const pair = next(stack);
    const c = typeof pair === 'number' ? pair : step(pair.x, pair.y, stack);
    if (c !== 0) return c;
  }
  return 0;
}

/** Generic equality of two values of the same type. */
export function valuesEqual(x: Value, y: Value): boolean {
  if (LEAF_KINDS.has(x.kind)) return step(x, y, NO_FRAMES) === 0;
  const stack: Frame[] = [{ t: 0, x, y }];
  while (stack.length > 0) {
    const pair = next(stack);
    if (typeof pair === 'number') {
      if (pair !== 0) return false;
      continue;
    }
    const a = pair.x;
    const b = pair.y;
    if (a.kind === 'ContractId' && b.kind === 'ContractId') {
      if (!contractIdsEqual(a.cid, b.cid)) return false;
    } else if (a.kind === 'Any' && b.kind === 'Any') {
      // Equality checks the types after queueing the payloads, as the reference engine does.
      if (!typesEqual(a.type, b.type)) return false;
      stack.push({ t: 0, x: a.value, y: b.value });
    } else if (step(a, b, stack) !== 0) {
      return false;
    }
  }
  return true;
}

/** Fails unless `key` can be compared (no functions, no incomparable contract ids): the GenMap key check. */
export function checkComparable(key: Value): void {
  compareValues(key, key);
}
