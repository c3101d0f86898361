import type { Identifier } from '../lf/ast.js';
import type { FunctionCode, Value } from '../values/value.js';
import type { Machine } from './machine.js';

/**
 * The machine's code: Daml-LF after type erasure, with variables resolved to slots. A function body runs with
 * `locals` (its parameters, then one slot per `let` and pattern binder, each written once per call) and `free`
 * (the values its closure captured). `App` and `Prim` evaluate their operands right to left, as the reference
 * engine's A-normal form does, so traces and the first error raised match it.
 */
export type Node =
  | { readonly t: 'Local'; readonly slot: number }
  | { readonly t: 'Free'; readonly index: number }
  | { readonly t: 'Const'; readonly value: Value }
  /** A top-level value: evaluated on first use, then cached. */
  | { readonly t: 'Val'; readonly def: TopDef }
  /** Builds a closure capturing `captures` (atoms of the enclosing function). */
  | { readonly t: 'Lam'; readonly code: ClosureCode; readonly captures: readonly Atom[] }
  /** `operands[0]` is the function; the rest are its arguments. */
  | { readonly t: 'App'; readonly operands: readonly Node[] }
  /** A primitive on evaluated operands (record construction, projections, saturated builtins…). */
  | { readonly t: 'Prim'; readonly op: PrimOp; readonly operands: readonly Node[] }
  | { readonly t: 'Let'; readonly slot: number; readonly rhs: Node; readonly body: Node }
  | { readonly t: 'Case'; readonly scrut: Node; readonly alts: readonly Alt[] }
  /** Exceptions thrown inside `body` are not catchable (contract metadata of fetched contracts, controllers…). */
  | { readonly t: 'PreventCatch'; readonly body: Node }
  /**
   * The body of `try … catch`; `handler` (with the exception in `binderSlot`) yields `Optional (Update a)`, run
   * with the token when present.
   */
  | { readonly t: 'Try'; readonly body: Node; readonly handler: Node; readonly binderSlot: number };

export type Atom = Extract<Node, { t: 'Local' | 'Free' | 'Const' }>;

/**
 * A primitive. It returns the result, or `undefined` after taking over the machine's control itself (entering a
 * function, throwing a Daml exception).
 */
export type PrimOp = (m: Machine, args: Value[]) => Value | undefined;

export type Pattern =
  | { readonly t: 'Default' }
  /** Variants and enums match on the constructor's rank. */
  | { readonly t: 'Variant'; readonly rank: number; readonly slot: number }
  | { readonly t: 'Enum'; readonly rank: number }
  | { readonly t: 'Bool'; readonly value: boolean }
  | { readonly t: 'Unit' }
  | { readonly t: 'Nil' }
  | { readonly t: 'Cons'; readonly headSlot: number; readonly tailSlot: number }
  | { readonly t: 'None' }
  | { readonly t: 'Some'; readonly slot: number };

export interface Alt {
  readonly pattern: Pattern;
  readonly body: Node;
}

/** A Daml function: runs `body` with its arguments in `locals[0..arity)`. */
export interface ClosureCode extends FunctionCode {
  readonly kind: 'closure';
  readonly body: Node;
  /** Size of the `locals` array of one call. */
  readonly nSlots: number;
}

/** A function implemented in TypeScript (builtins, update primitives); same contract as `PrimOp`. */
export interface NativeCode extends FunctionCode {
  readonly kind: 'native';
  readonly run: PrimOp;
}

export type Code = ClosureCode | NativeCode;

/** A top-level value definition: compiled on first evaluation, its value cached (top-level values are pure). */
export interface TopDef {
  readonly id: Identifier;
  /** The body as a function of no arguments. */
  code: ClosureCode | undefined;
  value: Value | undefined;
}

export function isAtom(n: Node): n is Atom {
  return n.t === 'Local' || n.t === 'Free' || n.t === 'Const';
}

/** Every field any node or pattern has, so that `shaped` can give them all the same layout. */
interface AnyNode {
  readonly t: string;
  readonly slot?: number;
  readonly index?: number;
  readonly value?: unknown;
  readonly def?: TopDef;
  readonly code?: ClosureCode;
  readonly captures?: readonly Node[];
  readonly operands?: readonly Node[];
  readonly op?: PrimOp;
  readonly rhs?: Node;
  readonly body?: Node;
  readonly scrut?: Node;
  readonly alts?: readonly Alt[];
  readonly handler?: Node;
  readonly binderSlot?: number;
  readonly rank?: number;
  readonly headSlot?: number;
  readonly tailSlot?: number;
}

/**
 * Rebuilds a function body so that all its nodes have the same fields in the same order (absent ones
 * `undefined`), and likewise all patterns: V8 then gives them one hidden class each and the machine's reads of
 * `t`, `operands`… stay monomorphic instead of megamorphic. Nested closure code is not entered: it was shaped
 * when its own body was compiled.
 */
export function shaped(node: Node): Node {
  const n = node as AnyNode;
  const opt = (m: Node | undefined) => (m === undefined ? undefined : shaped(m));
  return {
    t: n.t,
    slot: n.slot,
    index: n.index,
    value: n.value,
    def: n.def,
    code: n.code,
    captures: n.captures?.map(shaped),
    operands: n.operands?.map(shaped),
    op: n.op,
    rhs: opt(n.rhs),
    body: opt(n.body),
    scrut: opt(n.scrut),
    alts: n.alts?.map((alt) => ({ pattern: shapedPattern(alt.pattern), body: shaped(alt.body) })),
    handler: opt(n.handler),
    binderSlot: n.binderSlot,
  } as AnyNode as Node;
}

function shapedPattern(pattern: Pattern): Pattern {
  const p = pattern as AnyNode;
  return {
    t: p.t,
    rank: p.rank,
    slot: p.slot,
    value: p.value,
    headSlot: p.headSlot,
    tailSlot: p.tailSlot,
  } as AnyNode as Pattern;
}
