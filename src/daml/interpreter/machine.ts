import { WeftError } from '../../errors/index.js';
import type { Identifier } from '../lf/ast.js';
import { crash, DamlRuntimeErrors, FAILURE_CATEGORY_IDS, interpretationError } from '../values/errors.js';
import {
  type AnyValue,
  bool,
  FALSE,
  type FunctionValue,
  type ListValue,
  qualifiedName,
  TOKEN,
  type Value,
} from '../values/value.js';
import type { Compiler } from './compiler.js';
import type { ContractMetadata, LedgerHost } from './host.js';
import { type Alt, type ClosureCode, type Code, type Node, shaped, type TopDef } from './ir.js';
import { isArithmeticError } from './stable.js';

/**
 * A continuation: what to do with the value of the expression being evaluated. The frames pushed on hot paths
 * (`Args`, `Let`, `Case`, `ApplyRest`) are built with the same fields in the same order (see `envFrame`), so V8
 * gives them one hidden class and `resume` reads them monomorphically.
 */
type Frame =
  /** Evaluating the operands of an App/Prim right to left; `i` is the operand under evaluation. */
  | {
      readonly k: 'Args';
      readonly node: Extract<Node, { t: 'App' | 'Prim' }>;
      readonly vals: Value[];
      i: number;
      readonly locals: Value[];
      readonly free: readonly Value[];
    }
  | {
      readonly k: 'Let';
      readonly node: Extract<Node, { t: 'Let' }>;
      readonly locals: Value[];
      readonly free: readonly Value[];
    }
  | {
      readonly k: 'Case';
      readonly node: Extract<Node, { t: 'Case' }>;
      readonly locals: Value[];
      readonly free: readonly Value[];
    }
  /** Over-application: apply the result to the remaining arguments (`vals`). */
  | { readonly k: 'ApplyRest'; readonly vals: Value[] }
  | { readonly k: 'Cache'; readonly def: TopDef }
  | { readonly k: 'Native'; readonly then: (m: Machine, v: Value) => Value | undefined }
  | { readonly k: 'PreventCatch' }
  | { readonly k: 'Exercise' }
  | {
      readonly k: 'Try';
      readonly node: Extract<Node, { t: 'Try' }>;
      readonly locals: Value[];
      readonly free: readonly Value[];
    }
  | { readonly k: 'TryHandler'; readonly exception: AnyValue }
  /** Computing the message of an unhandled exception, to report it as a failure status. */
  | { readonly k: 'Converting'; readonly exceptionId: Identifier }
  | { readonly k: 'Foldl'; readonly fn: Value; list: ListValue }
  | { readonly k: 'Foldr'; readonly fn: Value; readonly items: Value[]; i: number }
  | { readonly k: 'EqualList'; readonly fn: Value; readonly xs: ListValue; readonly ys: ListValue };

/** Thrown by a primitive that must wait for the host: `run` returns it; after `answer`, `run` continues. */
export class Suspension {
  constructor(
    readonly promise: Promise<unknown>,
    readonly resume: (m: Machine, answer: unknown) => Value | undefined,
  ) {}
}

export interface MachineOptions {
  readonly compiler: Compiler;
  /** Maximum number of machine steps before the run fails with DAML_STEP_BUDGET_EXCEEDED. */
  readonly stepBudget: number;
  /** Ledger code: `CONTRACT_ID_TO_TEXT` yields `None`. */
  readonly onLedger: boolean;
  readonly trace: (message: string) => void;
  readonly host: LedgerHost | undefined;
  /**
   * The package id each package name resolves to where Daml code does not name a version: the template a
   * contract is fetched or exercised through an interface with (smart-contract upgrades). A name not listed
   * keeps the contract's own package.
   */
  readonly packageResolution?: ReadonlyMap<string, string>;
}

const EMPTY: readonly Value[] = [];
const NO_RESOLUTION: ReadonlyMap<string, string> = new Map();

/** Builds a hot frame with the one layout they all share (absent fields `undefined`). */
function envFrame(
  k: 'Args' | 'Let' | 'Case' | 'ApplyRest',
  node: Node | undefined,
  vals: Value[] | undefined,
  i: number,
  locals: Value[] | undefined,
  free: readonly Value[] | undefined,
): Frame {
  return { k, node, vals, i, locals, free } as Frame;
}

/**
 * A CEK machine: the control is a node to evaluate (in `locals`/`free`) or a value to return; the continuation is
 * an explicit stack of frames. No host recursion grows with Daml recursion, and calls in tail position push no
 * frame. Exceptions unwind the frame stack to the nearest `try`.
 */
export class Machine {
  readonly compiler: Compiler;
  readonly onLedger: boolean;
  readonly trace: (message: string) => void;
  private readonly hostOrUndefined: LedgerHost | undefined;
  private readonly stepBudget: number;
  readonly packageResolution: ReadonlyMap<string, string>;
  /** Metadata of the contracts this run created or fetched, by contract id (computed once per run). */
  readonly contractMetadata = new Map<string, ContractMetadata>();

  steps = 0;
  private node: Node | undefined;
  private value: Value | undefined;
  private locals: Value[] = [];
  private free: readonly Value[] = EMPTY;
  private readonly kont: Frame[] = [];
  private pending: (() => Value | undefined) | undefined;

  constructor(options: MachineOptions) {
    this.compiler = options.compiler;
    this.onLedger = options.onLedger;
    this.trace = options.trace;
    this.hostOrUndefined = options.host;
    this.stepBudget = options.stepBudget;
    this.packageResolution = options.packageResolution ?? NO_RESOLUTION;
  }

  get host(): LedgerHost {
    return this.hostOrUndefined ?? crash('an Update ran without a ledger host');
  }

  /** Starts evaluating `code` (a function of no arguments). */
  start(code: ClosureCode): void {
    this.enterClosure(code, EMPTY, EMPTY);
  }

  /** Starts applying `fn` to `args` (as an application node, so that all work happens inside `run`). */
  startApply(fn: Value, args: readonly Value[]): void {
    this.node = shaped({ t: 'App', operands: [fn, ...args].map((value) => ({ t: 'Const', value })) });
  }

  /** Runs until the final value, or until a primitive waits for the host. */
  run(): Value | Suspension {
    const budget = this.stepBudget;
    // The step counter lives in a local for speed; `finally` publishes it.
    let steps = this.steps;
    try {
      const pending = this.pending;
      if (pending !== undefined) {
        this.pending = undefined;
        const r = pending();
        if (r !== undefined) this.setValue(r);
      }
      for (; steps < budget; steps++) {
        const n = this.node;
        if (n !== undefined) {
          this.node = undefined;
          this.eval(n);
          continue;
        }
        const frame = this.kont.pop();
        if (frame === undefined) return this.value!;
        this.resume(frame, this.value!);
      }
      throw new WeftError(
        DamlRuntimeErrors.DAML_STEP_BUDGET_EXCEEDED,
        `Daml evaluation exceeded its budget of ${budget} steps`,
        { stepBudget: budget },
      );
    } catch (e) {
      if (e instanceof Suspension) return e;
      throw e;
    } finally {
      this.steps = steps;
    }
  }

  /** Gives the host's answer to a suspended run; the next `run` continues with it. */
  answer(suspension: Suspension, answer: unknown): void {
    this.pending = () => suspension.resume(this, answer);
  }

  private setValue(v: Value): void {
    this.value = v;
    this.node = undefined;
  }

  private atom(n: Node): Value {
    switch (n.t) {
      case 'Local':
        return this.locals[n.slot]!;
      case 'Free':
        return this.free[n.index]!;
      case 'Const':
        return n.value;
      default:
        return crash(`not an atom: ${n.t}`);
    }
  }

  private eval(n: Node): void {
    switch (n.t) {
      case 'Local':
        this.value = this.locals[n.slot];
        return;
      case 'Free':
        this.value = this.free[n.index];
        return;
      case 'Const':
        this.value = n.value;
        return;
      case 'Val': {
        const def = n.def;
        if (def.value !== undefined) {
          this.value = def.value;
          return;
        }
        this.kont.push({ k: 'Cache', def });
        this.enterClosure(this.compiler.compileTopDef(def), EMPTY, EMPTY);
        return;
      }
      case 'Lam': {
        const captures = n.captures;
        const free = new Array<Value>(captures.length);
        for (let i = 0; i < captures.length; i++) free[i] = this.atom(captures[i]!);
        this.value = { kind: 'Function', code: n.code, free, args: EMPTY };
        return;
      }
      case 'App':
      case 'Prim':
        this.operands(n, new Array<Value>(n.operands.length), n.operands.length - 1);
        return;
      case 'Let': {
        const rhs = n.rhs;
        if (rhs.t === 'Local' || rhs.t === 'Free' || rhs.t === 'Const') {
          this.locals[n.slot] = this.atom(rhs);
          this.node = n.body;
          return;
        }
        this.kont.push(envFrame('Let', n, undefined, 0, this.locals, this.free));
        this.node = rhs;
        return;
      }
      case 'Case': {
        const s = n.scrut;
        if (s.t === 'Local' || s.t === 'Free' || s.t === 'Const') {
          this.match(n.alts, this.atom(s));
          return;
        }
        this.kont.push(envFrame('Case', n, undefined, 0, this.locals, this.free));
        this.node = s;
        return;
      }
      case 'PreventCatch':
        this.kont.push({ k: 'PreventCatch' });
        this.node = n.body;
        return;
      case 'Try':
        this.host.beginTry();
        this.kont.push({ k: 'Try', node: n, locals: this.locals, free: this.free });
        this.node = n.body;
        return;
    }
  }

  /** Evaluates operands `i`, `i-1`, … 0 into `vals`, then completes the App/Prim. */
  private operands(
    n: Extract<Node, { t: 'App' | 'Prim' }>,
    vals: Value[],
    i: number,
    frame?: Extract<Frame, { k: 'Args' }>,
  ): void {
    const ops = n.operands;
    for (; i >= 0; i--) {
      const op = ops[i]!;
      switch (op.t) {
        case 'Local':
          vals[i] = this.locals[op.slot]!;
          break;
        case 'Free':
          vals[i] = this.free[op.index]!;
          break;
        case 'Const':
          vals[i] = op.value;
          break;
        default:
          // A resumed frame is reused for the next compound operand: its environment is the current one.
          if (frame === undefined) this.kont.push(envFrame('Args', n, vals, i, this.locals, this.free));
          else {
            frame.i = i;
            this.kont.push(frame);
          }
          this.node = op;
          return;
      }
    }
    if (n.t === 'Prim') {
      const r = n.op(this, vals);
      if (r !== undefined) this.value = r;
      return;
    }
    const fn = vals[0]!;
    // The common cases, an exact call of a closure or an over-application (a type-class method selector applied
    // to its dictionary and the method's arguments), enter it without copying the arguments out first.
    if (fn.kind === 'Function' && fn.args.length === 0) {
      const code = fn.code as Code;
      const arity = code.arity;
      if (code.kind === 'closure' && arity <= vals.length - 1) {
        if (arity < vals.length - 1)
          this.kont.push(envFrame('ApplyRest', undefined, vals.slice(arity + 1), 0, undefined, undefined));
        const locals = new Array<Value>(code.nSlots);
        for (let j = 0; j < arity; j++) locals[j] = vals[j + 1]!;
        this.locals = locals;
        this.free = fn.free;
        this.node = code.body;
        return;
      }
    }
    const r = this.apply(fn, vals.slice(1));
    if (r !== undefined) this.value = r;
  }

  private match(alts: readonly Alt[], v: Value): void {
    for (let a = 0; a < alts.length; a++) {
      const alt = alts[a]!;
      const p = alt.pattern;
      let ok = false;
      switch (p.t) {
        case 'Default':
          ok = true;
          break;
        case 'Bool':
          ok = v.kind === 'Bool' && v.value === p.value;
          break;
        case 'Unit':
          ok = true;
          break;
        case 'Variant':
          if (v.kind === 'Variant' && v.rank === p.rank) {
            this.locals[p.slot] = v.value;
            ok = true;
          }
          break;
        case 'Enum':
          ok = v.kind === 'Enum' && v.rank === p.rank;
          break;
        case 'Nil':
          ok = v.kind === 'List' && v.tail === undefined;
          break;
        case 'Cons':
          if (v.kind === 'List' && v.tail !== undefined) {
            this.locals[p.headSlot] = v.head!;
            this.locals[p.tailSlot] = v.tail;
            ok = true;
          }
          break;
        case 'None':
          ok = v.kind === 'Optional' && v.value === undefined;
          break;
        case 'Some':
          if (v.kind === 'Optional' && v.value !== undefined) {
            this.locals[p.slot] = v.value;
            ok = true;
          }
          break;
      }
      if (ok) {
        this.node = alt.body;
        return;
      }
    }
    crash(`no case alternative matches a ${v.kind} value`);
  }

  /** Enters `code` with its parameters taken from the start of `args` (which may hold more, for `ApplyRest`). */
  private enterClosure(code: ClosureCode, free: readonly Value[], args: readonly Value[]): void {
    const locals = new Array<Value>(code.nSlots);
    for (let i = 0; i < code.arity; i++) locals[i] = args[i]!;
    this.locals = locals;
    this.free = free;
    this.node = code.body;
  }

  /**
   * Applies a function value: builds a partial application, enters the function, or (over-application) enters
   * it and applies the result to the rest. Returns a value, or undefined when control was transferred.
   */
  apply(fn: Value, args: readonly Value[]): Value | undefined {
    if (fn.kind !== 'Function') return crash(`cannot apply a ${fn.kind} value`);
    const code = fn.code as Code;
    const have = fn.args.length;
    const total = have + args.length;
    if (total < code.arity) {
      return { kind: 'Function', code, free: fn.free, args: have === 0 ? args : [...fn.args, ...args] };
    }
    const all = have === 0 ? args : [...fn.args, ...args];
    if (total > code.arity)
      this.kont.push(envFrame('ApplyRest', undefined, all.slice(code.arity), 0, undefined, undefined));
    if (code.kind === 'closure') {
      this.enterClosure(code, fn.free, all);
      return undefined;
    }
    return code.run(this, (total > code.arity ? all.slice(0, code.arity) : all) as Value[]);
  }

  private applyNow(fn: Value, args: readonly Value[]): void {
    const r = this.apply(fn, args);
    if (r !== undefined) this.setValue(r);
  }

  /** Applies `fn` to `args`, then passes the result to `then` (a native continuation). */
  call(fn: Value, args: readonly Value[], then: (m: Machine, v: Value) => Value | undefined): undefined {
    this.kont.push({ k: 'Native', then });
    this.applyNow(fn, args);
    return undefined;
  }

  /** As `call`, but exceptions thrown by `fn` cannot be caught by Daml code. */
  callPreventingCatch(
    fn: Value,
    args: readonly Value[],
    then: (m: Machine, v: Value) => Value | undefined,
  ): undefined {
    this.kont.push({ k: 'Native', then });
    this.kont.push({ k: 'PreventCatch' });
    this.applyNow(fn, args);
    return undefined;
  }

  /** Runs a choice body (applied to its arguments and the token) inside an open exercise. */
  enterExercise(body: FunctionValue, args: readonly Value[]): undefined {
    this.kont.push({ k: 'Exercise' });
    this.applyNow(body, [...args, TOKEN]);
    return undefined;
  }

  foldl(fn: Value, init: Value, list: ListValue): Value {
    this.kont.push({ k: 'Foldl', fn, list });
    return init;
  }

  foldr(fn: Value, init: Value, items: Value[]): Value {
    this.kont.push({ k: 'Foldr', fn, items, i: items.length });
    return init;
  }

  /** `EQUAL_LIST f xs ys`, comparing `f y x` then recursing with the lists swapped, as the reference engine does. */
  equalList(fn: Value, xs: ListValue, ys: ListValue): Value | undefined {
    if (xs.tail === undefined) return bool(ys.tail === undefined);
    if (ys.tail === undefined) return FALSE;
    this.kont.push({ k: 'EqualList', fn, xs: ys.tail, ys: xs.tail });
    return this.apply(fn, [ys.head!, xs.head!]);
  }

  /** Throws a Daml exception: unwinds to the nearest `try`, or fails the run if there is none. */
  throwException(exception: AnyValue): undefined {
    for (;;) {
      const f = this.kont.pop();
      if (f === undefined) return this.unhandled(exception);
      switch (f.k) {
        case 'Try':
          this.host.rollbackTry();
          this.locals = f.locals;
          this.free = f.free;
          this.locals[f.node.binderSlot] = exception;
          this.kont.push({ k: 'TryHandler', exception });
          this.node = f.node.handler;
          return undefined;
        case 'Exercise':
          this.host.abortExercise();
          break;
        case 'PreventCatch':
          return this.unhandled(exception);
        case 'Converting':
          return interpretationError(
            {
              kind: 'FailureStatus',
              errorId: `UNHANDLED_EXCEPTION/${qualifiedName(f.exceptionId)}`,
              categoryId: FAILURE_CATEGORY_IDS.InvalidGivenCurrentSystemStateOther,
              message: `<Failed to calculate message as ${exceptionName(exception)} was thrown during conversion>`,
              metadata: new Map(),
            },
            `unhandled exception ${qualifiedName(f.exceptionId)} (its message failed with ${exceptionName(exception)})`,
          );
        default:
          break;
      }
    }
  }

  /** An uncaught exception fails the run with the failure status `UNHANDLED_EXCEPTION/Module:Name`. */
  private unhandled(exception: AnyValue): undefined {
    const id = exceptionId(exception);
    const payload = exception.value;
    if (isArithmeticError(id) && payload.kind === 'Record' && payload.values[0]?.kind === 'Text') {
      return failUnhandled(id, payload.values[0].value);
    }
    this.kont.push({ k: 'Converting', exceptionId: id });
    this.applyNow(this.compiler.exceptionMessage(id), [payload]);
    return undefined;
  }

  private resume(f: Frame, v: Value): void {
    switch (f.k) {
      case 'Args':
        this.locals = f.locals;
        this.free = f.free;
        f.vals[f.i] = v;
        this.operands(f.node, f.vals, f.i - 1, f);
        return;
      case 'Let':
        this.locals = f.locals;
        this.free = f.free;
        this.locals[f.node.slot] = v;
        this.node = f.node.body;
        return;
      case 'Case':
        this.locals = f.locals;
        this.free = f.free;
        this.match(f.node.alts, v);
        return;
      case 'ApplyRest':
        this.applyNow(v, f.vals);
        return;
      case 'Cache':
        f.def.value = v;
        this.value = v;
        return;
      case 'Native': {
        const r = f.then(this, v);
        if (r !== undefined) this.setValue(r);
        return;
      }
      case 'PreventCatch':
        this.value = v;
        return;
      case 'Exercise':
        this.host.endExercise(v);
        this.value = v;
        return;
      case 'Try':
        this.host.endTry();
        this.value = v;
        return;
      case 'TryHandler':
        if (v.kind !== 'Optional') crash(`a catch handler returned a ${v.kind}`);
        if (v.value === undefined) this.throwException(f.exception);
        else this.applyNow(v.value, [TOKEN]);
        return;
      case 'Converting':
        if (v.kind !== 'Text') crash(`an exception message is a ${v.kind}`);
        failUnhandled(f.exceptionId, v.value);
        return;
      case 'Foldl': {
        const list = f.list;
        if (list.tail === undefined) {
          this.value = v;
          return;
        }
        f.list = list.tail;
        this.kont.push(f);
        this.applyNow(f.fn, [v, list.head!]);
        return;
      }
      case 'Foldr':
        if (f.i === 0) {
          this.value = v;
          return;
        }
        f.i--;
        this.kont.push(f);
        this.applyNow(f.fn, [f.items[f.i]!, v]);
        return;
      case 'EqualList': {
        if (v.kind !== 'Bool') crash(`EQUAL_LIST predicate returned a ${v.kind}`);
        if (!v.value) {
          this.value = FALSE;
          return;
        }
        const r = this.equalList(f.fn, f.xs, f.ys);
        if (r !== undefined) this.setValue(r);
        return;
      }
    }
  }
}

function exceptionId(exception: AnyValue): Identifier {
  return exception.type.tag === 'Con'
    ? exception.type.tycon
    : crash('an exception must have a type constructor');
}

function exceptionName(exception: AnyValue): string {
  return qualifiedName(exceptionId(exception));
}

function failUnhandled(id: Identifier, message: string): never {
  return interpretationError(
    {
      kind: 'FailureStatus',
      errorId: `UNHANDLED_EXCEPTION/${qualifiedName(id)}`,
      categoryId: FAILURE_CATEGORY_IDS.InvalidGivenCurrentSystemStateOther,
      message,
      metadata: new Map(),
    },
    `unhandled exception ${qualifiedName(id)}: ${message}`,
  );
}
