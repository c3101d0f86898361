import type {
  CaseAlt,
  DefDataType,
  DefInterface,
  DefTemplate,
  Expr,
  Identifier,
  Module,
  Package,
  TemplateChoice,
  Type,
  Update,
} from '../lf/ast.js';
import { compareIdentifiers, typesEqual } from '../values/compare.js';
import { crash } from '../values/errors.js';
import { parseNumericLiteral } from '../values/numeric.js';
import {
  cons,
  date,
  FALSE,
  type FunctionValue,
  identifierToString,
  int64,
  type ListValue,
  NIL,
  NONE,
  numeric,
  type RecordValue,
  some,
  TRUE,
  text,
  timestamp,
  UNIT,
  type Value,
} from '../values/value.js';
import {
  type Alt,
  type Atom,
  type ClosureCode,
  type Code,
  type Node,
  type Pattern,
  type PrimOp,
  shaped,
  type TopDef,
} from './ir.js';
import type { Natives } from './natives.js';

/** Where the compiler finds packages (the `PackageRegistry` of `lf/` is one). */
export interface PackageLookup {
  lookupPackage(packageId: string): Package | undefined;
}

/** A template's compiled parts, as the ledger primitives need them. */
export interface TemplateCode {
  readonly id: Identifier;
  readonly def: DefTemplate;
  /** `TTyCon id`, the type of interface values wrapping this template. */
  readonly type: Type;
  readonly precondition: FunctionValue;
  readonly signatories: FunctionValue;
  readonly observers: FunctionValue;
  choice(name: string): ChoiceCode | undefined;
  /** The template's instance of an interface, if it implements it. */
  implementation(iface: Identifier): InterfaceImplementation | undefined;
}

export interface InterfaceCode {
  readonly id: Identifier;
  readonly def: DefInterface;
  choice(name: string): ChoiceCode | undefined;
}

/** A choice: `controllers` and `observers` take (contract, argument); `body` takes (contract, self, argument, token). */
export interface ChoiceCode {
  readonly def: TemplateChoice;
  readonly controllers: FunctionValue;
  readonly observers: FunctionValue;
  readonly body: FunctionValue;
}

export interface InterfaceImplementation {
  readonly methods: ReadonlyMap<string, FunctionValue>;
  readonly view: FunctionValue;
}

interface DataInfo {
  readonly def: DefDataType;
  /** Record fields in definition order (shared by every record value of the type). */
  readonly fields: readonly string[];
  readonly fieldIndex: ReadonlyMap<string, number>;
  /** Variant or enum constructors in definition order. */
  readonly constructors: readonly string[];
  readonly rank: ReadonlyMap<string, number>;
}

const TOKEN_NAME = '%token';

export const idKey = (id: Identifier): string =>
  `${id.packageId}:${id.module.join('.')}:${id.name.join('.')}`;

function stripLocsAndTypes(e: Expr): Expr {
  for (;;) {
    if (e.tag === 'Loc' || e.tag === 'TyApp') e = e.expr;
    else if (e.tag === 'TyAbs') e = e.body;
    else return e;
  }
}

/** The variables visible while compiling one function body. */
class Scope {
  readonly names = new Map<string, Atom>();
  readonly captures: Atom[] = [];
  private readonly captured = new Map<string, Atom>();
  nSlots = 0;

  constructor(private readonly parent: Scope | undefined) {}

  newSlot(): number {
    return this.nSlots++;
  }

  /** Binds `name` to a fresh slot while `body` compiles, restoring any shadowed binding afterwards. */
  bind<T>(name: string, slot: number, body: () => T): T {
    const shadowed = this.names.get(name);
    this.names.set(name, { t: 'Local', slot });
    try {
      return body();
    } finally {
      if (shadowed === undefined) this.names.delete(name);
      else this.names.set(name, shadowed);
    }
  }

  lookup(name: string): Atom | undefined {
    const local = this.names.get(name) ?? this.captured.get(name);
    if (local !== undefined) return local;
    const outer = this.parent?.lookup(name);
    if (outer === undefined) return undefined;
    if (outer.t === 'Const') return outer;
    const free: Atom = { t: 'Free', index: this.captures.length };
    this.captures.push(outer);
    this.captured.set(name, free);
    return free;
  }
}

/** Evaluates all operands, then applies `f` to them (the common shape of data primitives). */
const prim = (op: PrimOp, operands: readonly Node[]): Node => ({ t: 'Prim', op, operands });

function asRecord(v: Value | undefined): RecordValue {
  return v?.kind === 'Record' ? v : crash(`expected a record, got ${v?.kind}`);
}

/**
 * Compiles Daml-LF expressions to machine code on demand: top-level values, template parts and choices are
 * compiled the first time they are used and cached for the lifetime of the compiler.
 */
export class Compiler {
  private readonly topDefs = new Map<string, TopDef>();
  private readonly dataInfos = new Map<string, DataInfo>();
  private readonly templates = new Map<string, TemplateCode | null>();
  private readonly interfaces = new Map<string, InterfaceCode | null>();
  private readonly exceptionMessages = new Map<string, FunctionValue | null>();

  constructor(
    readonly packages: PackageLookup,
    private readonly natives: Natives,
  ) {}

  // -------------------------------------------------------------------------------------------------------------
  // Definitions

  module(id: Identifier): Module {
    const pkg = this.packages.lookupPackage(id.packageId) ?? crash(`unknown package ${id.packageId}`);
    return (
      pkg.module(id.module.join('.')) ?? crash(`package ${id.packageId} has no module ${id.module.join('.')}`)
    );
  }

  /** The top-level value `id` (compiled when the machine first evaluates it). */
  topDef(id: Identifier): TopDef {
    const key = idKey(id);
    let def = this.topDefs.get(key);
    if (def === undefined) {
      def = { id, code: undefined, value: undefined };
      this.topDefs.set(key, def);
    }
    return def;
  }

  compileTopDef(def: TopDef): ClosureCode {
    if (def.code === undefined) {
      const value =
        this.module(def.id).values.get(def.id.name.join('.')) ??
        crash(`unknown value ${identifierToString(def.id)}`);
      def.code = this.compileClosed(identifierToString(def.id), [], value.expr);
    }
    return def.code;
  }

  dataInfo(tycon: Identifier): DataInfo {
    const key = idKey(tycon);
    let info = this.dataInfos.get(key);
    if (info === undefined) {
      const def =
        this.module(tycon).dataTypes.get(tycon.name.join('.')) ??
        crash(`unknown data type ${identifierToString(tycon)}`);
      const fields = def.cons.tag === 'Record' ? def.cons.fields.map((f) => f.field) : [];
      const constructors =
        def.cons.tag === 'Variant'
          ? def.cons.variants.map((v) => v.field)
          : def.cons.tag === 'Enum'
            ? def.cons.constructors
            : [];
      info = {
        def,
        fields,
        fieldIndex: new Map(fields.map((f, i) => [f, i])),
        constructors,
        rank: new Map(constructors.map((c, i) => [c, i])),
      };
      this.dataInfos.set(key, info);
    }
    return info;
  }

  private fieldIndex(tycon: Identifier, field: string): number {
    return (
      this.dataInfo(tycon).fieldIndex.get(field) ??
      crash(`${identifierToString(tycon)} has no field ${field}`)
    );
  }

  private rank(tycon: Identifier, con: string): number {
    return (
      this.dataInfo(tycon).rank.get(con) ?? crash(`${identifierToString(tycon)} has no constructor ${con}`)
    );
  }

  template(id: Identifier): TemplateCode | undefined {
    const key = idKey(id);
    let code = this.templates.get(key);
    if (code === undefined) {
      const def = this.module(id).templates.get(id.name.join('.'));
      code = def === undefined ? null : this.compileTemplate(id, def);
      this.templates.set(key, code);
    }
    return code ?? undefined;
  }

  interface(id: Identifier): InterfaceCode | undefined {
    const key = idKey(id);
    let code = this.interfaces.get(key);
    if (code === undefined) {
      const def = this.module(id).interfaces.get(id.name.join('.'));
      code = def === undefined ? null : this.compileInterface(id, def);
      this.interfaces.set(key, code);
    }
    return code ?? undefined;
  }

  /** The message function `T -> Text` of exception type `id`. */
  exceptionMessage(id: Identifier): FunctionValue {
    const key = idKey(id);
    let fn = this.exceptionMessages.get(key);
    if (fn === undefined) {
      const def = this.module(id).exceptions.get(id.name.join('.'));
      fn =
        def === undefined
          ? null
          : this.closedFunction(`message of ${identifierToString(id)}`, ['%e'], (scope) => ({
              t: 'App',
              operands: [this.expr(scope, def.message), scope.lookup('%e')!],
            }));
      this.exceptionMessages.set(key, fn);
    }
    return fn ?? crash(`${identifierToString(id)} is not an exception type`);
  }

  private compileTemplate(id: Identifier, def: DefTemplate): TemplateCode {
    const name = identifierToString(id);
    const ofContract = (what: string, body: Expr) =>
      this.closedFunction(`${what} of ${name}`, [def.param], (s) => this.expr(s, body));
    const choices = new Map<string, ChoiceCode | null>();
    const implementations = new Map<string, InterfaceImplementation | null>();
    return {
      id,
      def,
      type: { tag: 'Con', tycon: id, args: [] },
      precondition: ofContract('precondition', def.precond),
      signatories: ofContract('signatories', def.signatories),
      observers: ofContract('observers', def.observers),
      choice: (choiceName) => {
        let c = choices.get(choiceName);
        if (c === undefined) {
          const choice = def.choices.get(choiceName);
          c = choice === undefined ? null : this.compileChoice(`${name}:${choiceName}`, def.param, choice);
          choices.set(choiceName, c);
        }
        return c ?? undefined;
      },
      implementation: (iface) => {
        const key = idKey(iface);
        let impl = implementations.get(key);
        if (impl === undefined) {
          const found = def.implements.find((i) => compareIdentifiers(i.iface, iface) === 0);
          impl =
            found === undefined
              ? null
              : {
                  methods: new Map(
                    [...found.body.methods].map(([m, body]) => [m, ofContract(`method ${m}`, body)] as const),
                  ),
                  view: ofContract(`view of ${identifierToString(iface)}`, found.body.view),
                };
          implementations.set(key, impl);
        }
        return impl ?? undefined;
      },
    };
  }

  private compileInterface(id: Identifier, def: DefInterface): InterfaceCode {
    const choices = new Map<string, ChoiceCode | null>();
    return {
      id,
      def,
      choice: (choiceName) => {
        let c = choices.get(choiceName);
        if (c === undefined) {
          const choice = def.choices.get(choiceName);
          c =
            choice === undefined
              ? null
              : this.compileChoice(`${identifierToString(id)}:${choiceName}`, def.param, choice);
          choices.set(choiceName, c);
        }
        return c ?? undefined;
      },
    };
  }

  private compileChoice(name: string, param: string, choice: TemplateChoice): ChoiceCode {
    const arg = choice.argBinder.name;
    return {
      def: choice,
      controllers: this.closedFunction(`controllers of ${name}`, [param, arg], (s) =>
        this.expr(s, choice.controllers),
      ),
      observers: this.closedFunction(`observers of ${name}`, [param, arg], (s) =>
        this.expr(s, choice.observers),
      ),
      body: this.closedFunction(name, [param, choice.selfBinder, arg, TOKEN_NAME], (s) => ({
        t: 'App',
        operands: [this.expr(s, choice.update), s.lookup(TOKEN_NAME)!],
      })),
    };
  }

  /** A closed expression (no free variables) as a function of no arguments. */
  compileExpression(expr: Expr): ClosureCode {
    return this.compileClosed('<expression>', [], expr);
  }

  private compileClosed(name: string, params: readonly string[], body: Expr): ClosureCode {
    return this.closedCode(name, params, (s) => this.expr(s, body));
  }

  private closedCode(name: string, params: readonly string[], body: (scope: Scope) => Node): ClosureCode {
    const scope = new Scope(undefined);
    for (const p of params) scope.names.set(p, { t: 'Local', slot: scope.newSlot() });
    const node = body(scope);
    return { kind: 'closure', name, arity: params.length, body: shaped(node), nSlots: scope.nSlots };
  }

  private closedFunction(
    name: string,
    params: readonly string[],
    body: (scope: Scope) => Node,
  ): FunctionValue {
    return { kind: 'Function', code: this.closedCode(name, params, body), free: [], args: [] };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Expressions

  private lambda(scope: Scope, name: string, params: readonly string[], body: (inner: Scope) => Node): Node {
    const inner = new Scope(scope);
    for (const p of params) inner.names.set(p, { t: 'Local', slot: inner.newSlot() });
    const node = body(inner);
    const code: ClosureCode = {
      kind: 'closure',
      name,
      arity: params.length,
      body: shaped(node),
      nSlots: inner.nSlots,
    };
    if (inner.captures.length === 0)
      return { t: 'Const', value: { kind: 'Function', code, free: [], args: [] } };
    return { t: 'Lam', code, captures: inner.captures };
  }

  private constFn(code: Code, args: readonly Value[] = []): Node {
    return { t: 'Const', value: { kind: 'Function', code, free: [], args } };
  }

  /** Applies a native of arity `operands.length + 1` to `operands`: an update awaiting its token. */
  private updateApp(code: Code, operands: readonly Node[]): Node {
    return operands.length === 0
      ? this.constFn(code)
      : { t: 'App', operands: [this.constFn(code), ...operands] };
  }

  expr(scope: Scope, e: Expr): Node {
    switch (e.tag) {
      case 'Loc':
        return this.expr(scope, e.expr);
      case 'Var':
        return scope.lookup(e.name) ?? crash(`unbound variable ${e.name}`);
      case 'Val':
        return { t: 'Val', def: this.topDef(e.ref) };
      case 'Builtin': {
        const code = this.natives.builtin(e.fn);
        return code.arity === 0 ? { t: 'Const', value: this.natives.constant(e.fn) } : this.constFn(code);
      }
      case 'BuiltinCon':
        return { t: 'Const', value: e.con === 'True' ? TRUE : e.con === 'False' ? FALSE : UNIT };
      case 'BuiltinLit':
        return { t: 'Const', value: this.literal(e.lit) };
      case 'TyApp':
        return this.expr(scope, e.expr);
      case 'TyAbs':
        return this.expr(scope, e.body);
      case 'Abs':
        return this.abs(scope, e);
      case 'App':
        return this.app(scope, e);
      case 'Let':
        return this.let(scope, e.bindings, 0, e.body);
      case 'Case':
        return this.caseExpr(scope, e.scrut, e.alts);
      case 'RecCon': {
        const tycon = e.tycon.tycon;
        const info = this.dataInfo(tycon);
        const positions = e.fields.map((f) => this.fieldIndex(tycon, f.field));
        const fields = info.fields;
        return prim(
          (_m, args) => {
            const values = new Array<Value>(fields.length);
            for (let i = 0; i < args.length; i++) values[positions[i]!] = args[i]!;
            return { kind: 'Record', tycon, fields, values };
          },
          e.fields.map((f) => this.expr(scope, f.expr)),
        );
      }
      case 'RecProj': {
        const index = this.fieldIndex(e.tycon.tycon, e.field);
        return prim((_m, args) => asRecord(args[0]).values[index]!, [this.expr(scope, e.record)]);
      }
      case 'RecUpd':
        return this.recordUpdate(scope, e);
      case 'VariantCon': {
        const tycon = e.tycon.tycon;
        const variant = e.variant;
        const rank = this.rank(tycon, variant);
        return prim(
          (_m, args) => ({ kind: 'Variant', tycon, constructor: variant, rank, value: args[0]! }),
          [this.expr(scope, e.arg)],
        );
      }
      case 'EnumCon':
        return {
          t: 'Const',
          value: { kind: 'Enum', tycon: e.tycon, constructor: e.con, rank: this.rank(e.tycon, e.con) },
        };
      case 'StructCon': {
        const order = e.fields
          .map((f, i) => [f.field, i] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const fields = order.map(([f]) => f);
        const from = order.map(([, i]) => i);
        return prim(
          (_m, args) => ({ kind: 'Struct', fields, values: from.map((i) => args[i]!) }),
          e.fields.map((f) => this.expr(scope, f.expr)),
        );
      }
      case 'StructProj': {
        const field = e.field;
        // Structs (type-class dictionaries, mostly) reaching one projection share their field list: cache the index.
        // The hot primitives index `args` rather than destructuring it, which goes through the iterator protocol.
        let fields: readonly string[] | undefined;
        let index = -1;
        return prim(
          (_m, args) => {
            const s = args[0];
            if (s?.kind !== 'Struct') return crash(`expected a struct, got ${s?.kind}`);
            if (s.fields !== fields) {
              fields = s.fields;
              index = fields.indexOf(field);
            }
            return s.values[index] ?? crash(`struct has no field ${field}`);
          },
          [this.expr(scope, e.struct)],
        );
      }
      case 'StructUpd': {
        const field = e.field;
        return prim(
          (_m, [s, v]) => {
            if (s?.kind !== 'Struct') return crash(`expected a struct, got ${s?.kind}`);
            const values = [...s.values];
            values[s.fields.indexOf(field)] = v!;
            return { kind: 'Struct', fields: s.fields, values };
          },
          [this.expr(scope, e.struct), this.expr(scope, e.update)],
        );
      }
      case 'Nil':
        return { t: 'Const', value: NIL };
      case 'Cons':
        return prim(
          (_m, args) => {
            let list = args[args.length - 1] as ListValue;
            for (let i = args.length - 2; i >= 0; i--) list = cons(args[i]!, list);
            return list;
          },
          [...e.front.map((x) => this.expr(scope, x)), this.expr(scope, e.tail)],
        );
      case 'OptionalNone':
        return { t: 'Const', value: NONE };
      case 'OptionalSome':
        return prim((_m, args) => some(args[0]!), [this.expr(scope, e.value)]);
      case 'ToAny':
      case 'ToAnyException': {
        const type = e.type;
        return prim((_m, [v]) => ({ kind: 'Any', type, value: v! }), [this.expr(scope, e.expr)]);
      }
      case 'FromAny':
      case 'FromAnyException': {
        const type = e.type;
        return prim(
          (_m, [v]) => {
            if (v?.kind !== 'Any') return crash(`expected an Any, got ${v?.kind}`);
            return typesEqual(v.type, type) ? some(v.value) : NONE;
          },
          [this.expr(scope, e.expr)],
        );
      }
      case 'TypeRep':
        return { t: 'Const', value: { kind: 'TypeRep', type: e.type } };
      case 'Throw': {
        const type = e.exceptionType;
        return prim(
          (m, [v]) => m.throwException({ kind: 'Any', type, value: v! }),
          [this.expr(scope, e.exception)],
        );
      }
      case 'Update':
        return this.update(scope, e.update);
      case 'ToInterface': {
        const type: Type = { tag: 'Con', tycon: e.template, args: [] };
        return prim((_m, [v]) => ({ kind: 'Any', type, value: v! }), [this.expr(scope, e.expr)]);
      }
      case 'FromInterface':
        return prim(this.natives.fromInterface(e.template), [this.expr(scope, e.expr)]);
      case 'UnsafeFromInterface':
        return prim(this.natives.unsafeFromInterface(e.template), [
          this.expr(scope, e.contractId),
          this.expr(scope, e.expr),
        ]);
      case 'CallInterface':
        return prim(this.natives.callInterface(e.iface, e.method), [this.expr(scope, e.expr)]);
      case 'ViewInterface':
        return prim(this.natives.viewInterface(e.iface), [this.expr(scope, e.expr)]);
      case 'SignatoryInterface':
        return prim(this.natives.interfaceParties('signatories'), [this.expr(scope, e.expr)]);
      case 'ObserverInterface':
        return prim(this.natives.interfaceParties('observers'), [this.expr(scope, e.expr)]);
      case 'InterfaceTemplateTypeRep':
        return prim(this.natives.interfaceTemplateTypeRep, [this.expr(scope, e.expr)]);
      case 'ToRequiredInterface':
        return this.expr(scope, e.expr);
      case 'FromRequiredInterface':
        return prim(this.natives.fromRequiredInterface(e.requiringIface), [this.expr(scope, e.expr)]);
      case 'UnsafeFromRequiredInterface':
        return prim(this.natives.unsafeFromRequiredInterface(e.requiredIface, e.requiringIface), [
          this.expr(scope, e.contractId),
          this.expr(scope, e.expr),
        ]);
    }
  }

  private literal(lit: Extract<Expr, { tag: 'BuiltinLit' }>['lit']): Value {
    switch (lit.tag) {
      case 'Int64':
        return int64(lit.value);
      case 'Numeric': {
        const n = parseNumericLiteral(lit.text) ?? crash(`malformed numeric literal ${lit.text}`);
        return numeric(n.unscaled, n.scale);
      }
      case 'Text':
        return text(lit.value);
      case 'Timestamp':
        return timestamp(lit.micros);
      case 'Date':
        return date(lit.days);
      case 'FailureCategory':
        return int64(lit.value === 'InvalidIndependentOfSystemState' ? 8n : 9n);
    }
  }

  /** `\x y … -> e`, merging directly nested abstractions (through type abstractions and locations). */
  private abs(scope: Scope, e: Extract<Expr, { tag: 'Abs' }>): Node {
    const params: string[] = [];
    let body: Expr = e;
    while (body.tag === 'Abs') {
      for (const p of body.params) params.push(p.name);
      body = stripLocsAndTypes(body.body);
    }
    const inner = body;
    return this.lambda(scope, '<lambda>', params, (s) => this.expr(s, inner));
  }

  /** `f a b …`, collecting nested applications into one call. */
  private app(scope: Scope, e: Extract<Expr, { tag: 'App' }>): Node {
    const argExprs: Expr[][] = [];
    let fun: Expr = e;
    while (fun.tag === 'App') {
      argExprs.push(fun.args as Expr[]);
      fun = stripLocsAndTypes(fun.fun);
    }
    const args: Node[] = [];
    for (let i = argExprs.length - 1; i >= 0; i--)
      for (const a of argExprs[i]!) args.push(this.expr(scope, a));
    // A saturated call of a pure builtin runs as a primitive, without building a partial application.
    if (fun.tag === 'Builtin') {
      const code = this.natives.builtin(fun.fn);
      if (code.arity === args.length && code.arity > 0) return prim(code.run, args);
    }
    return { t: 'App', operands: [this.expr(scope, fun), ...args] };
  }

  private let(
    scope: Scope,
    bindings: Extract<Expr, { tag: 'Let' }>['bindings'],
    i: number,
    body: Expr,
  ): Node {
    if (i === bindings.length) return this.expr(scope, body);
    const b = bindings[i]!;
    const rhs = this.expr(scope, b.bound);
    const slot = scope.newSlot();
    return scope.bind(b.binder, slot, () => ({
      t: 'Let',
      slot,
      rhs,
      body: this.let(scope, bindings, i + 1, body),
    }));
  }

  private caseExpr(scope: Scope, scrut: Expr, alts: readonly CaseAlt[]): Node {
    const s = this.expr(scope, scrut);
    return { t: 'Case', scrut: s, alts: alts.map((alt) => this.alt(scope, alt)) };
  }

  private alt(scope: Scope, alt: CaseAlt): Alt {
    {
      const p = alt.pattern;
      const bindOne = (name: string, make: (slot: number) => Pattern) => {
        const slot = scope.newSlot();
        return scope.bind(name, slot, () => ({ pattern: make(slot), body: this.expr(scope, alt.body) }));
      };
      switch (p.tag) {
        case 'Default':
          return { pattern: { t: 'Default' }, body: this.expr(scope, alt.body) };
        case 'Variant': {
          const rank = this.rank(p.tycon, p.variant);
          return bindOne(p.binder, (slot) => ({ t: 'Variant', rank, slot }));
        }
        case 'Enum':
          return {
            pattern: { t: 'Enum', rank: this.rank(p.tycon, p.con) },
            body: this.expr(scope, alt.body),
          };
        case 'BuiltinCon':
          return {
            pattern: p.con === 'Unit' ? { t: 'Unit' } : { t: 'Bool', value: p.con === 'True' },
            body: this.expr(scope, alt.body),
          };
        case 'Nil':
          return { pattern: { t: 'Nil' }, body: this.expr(scope, alt.body) };
        case 'Cons': {
          const headSlot = scope.newSlot();
          const tailSlot = scope.newSlot();
          return scope.bind(p.head, headSlot, () =>
            scope.bind(p.tail, tailSlot, () => ({
              pattern: { t: 'Cons', headSlot, tailSlot },
              body: this.expr(scope, alt.body),
            })),
          );
        }
        case 'OptionalNone':
          return { pattern: { t: 'None' }, body: this.expr(scope, alt.body) };
        case 'OptionalSome':
          return bindOne(p.binder, (slot) => ({ t: 'Some', slot }));
      }
    }
  }

  /** `r with f₁ = e₁ … fₙ = eₙ` (nested updates collected): record, then updates, all right to left. */
  private recordUpdate(scope: Scope, e: Extract<Expr, { tag: 'RecUpd' }>): Node {
    const tycon = e.tycon.tycon;
    const indices: number[] = [];
    const updates: Expr[] = [];
    let record: Expr = e;
    while (record.tag === 'RecUpd') {
      indices.unshift(this.fieldIndex(tycon, record.field));
      updates.unshift(record.update);
      record = stripLocsAndTypes(record.record);
    }
    return prim(
      (_m, args) => {
        const r = asRecord(args[0]);
        const values = [...r.values];
        for (let i = 0; i < indices.length; i++) values[indices[i]!] = args[i + 1]!;
        return { kind: 'Record', tycon: r.tycon, fields: r.fields, values };
      },
      [this.expr(scope, record), ...updates.map((u) => this.expr(scope, u))],
    );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Updates: values of `Update a` are functions of a token, applied when the update runs.

  private update(scope: Scope, u: Update): Node {
    const n = this.natives;
    switch (u.tag) {
      case 'Pure':
        return this.updateApp(n.pure, [this.expr(scope, u.expr)]);
      case 'Block':
        return this.block(scope, u);
      case 'Create':
        return this.updateApp(n.create(u.template), [this.expr(scope, u.arg)]);
      case 'CreateInterface': {
        // Unlike `create`, the reference engine evaluates the argument only when the update runs.
        const arg = u.arg;
        return this.lambda(scope, '<create_interface>', [TOKEN_NAME], (s) => ({
          t: 'App',
          operands: [this.constFn(n.createInterface), this.expr(s, arg), s.lookup(TOKEN_NAME)!],
        }));
      }
      case 'Exercise':
        return this.updateApp(n.exercise(u.template, u.choice), [
          this.expr(scope, u.cid),
          this.expr(scope, u.arg),
        ]);
      case 'ExerciseInterface':
        return this.updateApp(n.exerciseInterface(u.iface, u.choice), [
          this.expr(scope, u.cid),
          this.expr(scope, u.arg),
        ]);
      case 'Fetch':
        return this.updateApp(n.fetch(u.template), [this.expr(scope, u.cid)]);
      case 'FetchInterface':
        return this.updateApp(n.fetchInterface(u.iface), [this.expr(scope, u.cid)]);
      case 'GetTime':
        return this.updateApp(n.getTime, []);
      case 'LedgerTimeLt':
        return this.updateApp(n.ledgerTimeLt, [this.expr(scope, u.time)]);
      case 'EmbedExpr': {
        const body = u.body;
        return this.lambda(scope, '<embed>', [TOKEN_NAME], (s) => ({
          t: 'App',
          operands: [this.expr(s, body), s.lookup(TOKEN_NAME)!],
        }));
      }
      case 'TryCatch':
        return this.lambda(scope, '<try>', [TOKEN_NAME], (s) => {
          const body: Node = { t: 'App', operands: [this.expr(s, u.tryExpr), s.lookup(TOKEN_NAME)!] };
          const binderSlot = s.newSlot();
          const handler = s.bind(u.binder, binderSlot, () => this.expr(s, u.catchExpr));
          return { t: 'Try', body, handler, binderSlot };
        });
    }
  }

  /**
   * `do x₁ <- e₁; …; body`: e₁ is evaluated when the block is (as the reference engine does), the rest when it
   * runs: `let f = e₁ in \token -> let x₁ = f token; x₂ = e₂ token … in body token`.
   */
  private block(scope: Scope, u: Extract<Update, { tag: 'Block' }>): Node {
    const [first, ...rest] = u.bindings;
    if (first === undefined) return this.expr(scope, u.body);
    const firstNode = this.expr(scope, first.bound);
    const firstSlot = scope.newSlot();
    const FIRST = '%first';
    const lam = scope.bind(FIRST, firstSlot, () =>
      this.lambda(scope, '<block>', [TOKEN_NAME], (s) => {
        const token = s.lookup(TOKEN_NAME)!;
        const run = (bound: Node): Node => ({ t: 'App', operands: [bound, token] });
        const chain = (i: number, bound: Node, binder: string): Node => {
          const slot = s.newSlot();
          return s.bind(binder, slot, () => ({
            t: 'Let',
            slot,
            rhs: run(bound),
            body:
              i < rest.length
                ? chain(i + 1, this.expr(s, rest[i]!.bound), rest[i]!.binder)
                : run(this.expr(s, u.body)),
          }));
        };
        return chain(0, s.lookup(FIRST)!, first.binder);
      }),
    );
    return { t: 'Let', slot: firstSlot, rhs: firstNode, body: lam };
  }
}
