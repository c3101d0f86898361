import type {
  BuiltinLit,
  CaseAlt,
  CasePattern,
  DefDataType,
  DefException,
  DefInterface,
  DefTemplate,
  DefTypeSyn,
  DefValue,
  Expr,
  Identifier,
  Kind,
  Location,
  Module,
  Package,
  PackageId,
  TemplateChoice,
  TemplateImplements,
  Type,
  TypeConApp,
  Update,
} from '../lf/ast.js';
import { type PackageRegistry, showIdentifier, substitute } from '../lf/packages.js';
import { BUILTIN_FUNCTION_TYPES } from './builtins.js';
import {
  alphaEquivalent,
  kindEquals,
  kindOfBuiltin,
  kindOfParams,
  NAT,
  qualifiedName,
  STAR,
  type SynonymUnfolder,
  sameIdentifier,
  showKind,
  showType,
  T_ANY,
  T_ANY_EXCEPTION,
  T_BOOL,
  T_DATE,
  T_FAILURE_CATEGORY,
  T_INT64,
  T_PARTIES,
  T_TEXT,
  T_TIMESTAMP,
  T_TYPE_REP,
  T_UNIT,
  tCon,
  tContractId,
  tForall,
  tFun,
  tList,
  tNat,
  tNumeric,
  tOptional,
  tUpdate,
} from './types.js';

/** One validation failure of a package. */
export interface TypeCheckError {
  readonly packageId: PackageId;
  /** The definition at fault, `Module:Name`; a module name for module cycles; absent for package-level errors. */
  readonly definition?: string;
  /** What is wrong, e.g. `type mismatch: expected Bool, found Unit`, prefixed by the part of a template. */
  readonly message: string;
  /** The innermost source location known where the check failed. */
  readonly location?: Location;
}

/** Aborts the check of one definition; caught per definition so that the others are still checked. */
class Failure extends Error {}

function fail(message: string): never {
  throw new Failure(message);
}

/** A variable environment with undo marks, cheaper than persistent maps on the checker's hot path. */
class Scope<V> {
  private readonly map = new Map<string, V>();
  // Parallel arrays (not tuples): pushes are the most frequent operation of the checker.
  private readonly names: string[] = [];
  private readonly previous: (V | undefined)[] = [];

  get(name: string): V | undefined {
    return this.map.get(name);
  }

  push(name: string, value: V): void {
    this.names.push(name);
    this.previous.push(this.map.get(name));
    this.map.set(name, value);
  }

  mark(): number {
    return this.names.length;
  }

  reset(mark: number): void {
    while (this.names.length > mark) {
      const name = this.names.pop()!;
      const previous = this.previous.pop();
      if (previous === undefined) this.map.delete(name);
      else this.map.set(name, previous);
    }
  }
}

const MAX_NAT = 37;
/**
 * Bound on nested sub-expressions outside tail position (arguments, scrutinees, alternatives…). The decoder bounds
 * LF 2.1 nesting at 1000 levels and the shared DARs nest at most 36 such levels, but LF 2.2 interned expressions
 * can nest arbitrarily deep; the bound keeps the recursive checker inside Node's default stack.
 */
const MAX_NESTING = 1000;
const DEFAULT_PATTERN = '_';
const NO_VARS: ReadonlySet<string> = new Set();

/** Why a closed type is not serializable, or undefined if it is (Canton's `Serializability`). */
type Unserializable = string | undefined;

/**
 * Type checks the definitions of one package against a registry holding it and its dependencies, following the
 * Daml-LF 2 spec ("Well-formed programs") and Canton's `Typing`, `Serializability`, `Recursion` and
 * `DependencyVersion` checks. Each definition is checked independently: its first failure is recorded and the
 * next definition is checked.
 */
export class PackageChecker {
  readonly errors: TypeCheckError[] = [];
  /** Set when a referenced package is missing: the result then depends on the registry and is not cached. */
  incomplete = false;

  private readonly tyVars = new Scope<Kind>();
  private readonly vars = new Scope<Type>();
  private loc: Location | undefined;
  private part: string | undefined;
  private moduleName = '';
  /** Modules of this package referenced by each module (for the import-cycle check). */
  private readonly moduleRefs = new Map<string, Set<string>>();
  private currentRefs = new Set<string>();
  /** Other packages referenced by this one. */
  private readonly deps = new Set<PackageId>();
  private readonly modules = new WeakMap<Identifier, { readonly module: Module; readonly name: string }>();
  private readonly dataTypeKinds = new WeakMap<DefDataType, Kind>();
  private readonly unfolded = new WeakMap<Type, Type>();
  private readonly unfold: SynonymUnfolder = (t) => this.unfoldSynonym(t);
  /** Lambdas, type abstractions and update blocks whose bodies `typeOf` is in (a stack shared by its frames). */
  private readonly enclosing: Expr[] = [];
  private nesting = 0;

  constructor(
    private readonly registry: PackageRegistry,
    private readonly pkg: Package,
  ) {}

  // -------------------------------------------------------------------------------------------------------------
  // Package and modules

  /** Checks every definition of the module (the module body decodes here if it has not yet). */
  checkModule(m: Module): void {
    this.moduleName = m.name.join('.');
    this.currentRefs = this.moduleRefs.get(this.moduleName) ?? new Set();
    this.moduleRefs.set(this.moduleName, this.currentRefs);
    for (const [name, syn] of m.synonyms)
      this.definition(name, syn.location, () => this.checkSynonym(m, syn));
    for (const [name, dt] of m.dataTypes) this.definition(name, dt.location, () => this.checkDataType(m, dt));
    for (const [name, v] of m.values) this.definition(name, v.location, () => this.checkValue(v));
    for (const [name, t] of m.templates)
      this.definition(name, t.location, () => this.checkTemplate(m, name, t));
    for (const [name, e] of m.exceptions)
      this.definition(name, e.location, () => this.checkException(m, name, e));
    for (const [name, i] of m.interfaces)
      this.definition(name, i.location, () => this.checkInterface(m, name, i));
  }

  /** Package-level checks, after every module: no module import cycle, dependencies known and not newer. */
  checkPackageLevel(): void {
    const cycle = findCycle(this.moduleRefs);
    if (cycle !== undefined)
      this.errors.push({
        packageId: this.pkg.id,
        definition: cycle[0],
        message: `cycle in module dependencies ${cycle.join(' -> ')}`,
      });
    const deps = new Set([...(this.pkg.imports ?? []), ...this.deps]);
    deps.delete(this.pkg.id);
    for (const id of deps) {
      const dep = this.registry.lookupPackage(id);
      if (dep === undefined) {
        this.incomplete = true;
        this.errors.push({ packageId: this.pkg.id, message: `depends on unknown package ${id}` });
      } else if (minorVersion(dep.languageVersion) > minorVersion(this.pkg.languageVersion))
        this.errors.push({
          packageId: this.pkg.id,
          message:
            `Daml-LF ${this.pkg.languageVersion} package depends on package ${id} ` +
            `(${dep.metadata.name} ${dep.metadata.version}) of the newer Daml-LF ${dep.languageVersion}`,
        });
    }
  }

  private definition(name: string, location: Location | undefined, check: () => void): void {
    this.tyVars.reset(0);
    this.vars.reset(0);
    this.enclosing.length = 0;
    this.nesting = 0;
    this.loc = location;
    this.part = undefined;
    try {
      check();
    } catch (e) {
      // Types and some expression shapes are walked recursively: a hostile archive may still exhaust the stack
      // below MAX_NESTING (real archives nest under 40 levels); that rejects the definition, not the process.
      const stackExhausted = e instanceof RangeError && e.message.includes('call stack');
      if (!(e instanceof Failure) && !stackExhausted) throw e;
      const message = stackExhausted ? 'nested too deeply to check' : e.message;
      this.errors.push({
        packageId: this.pkg.id,
        definition: `${this.moduleName}:${name}`,
        message: this.part === undefined ? message : `${this.part}: ${message}`,
        ...(this.loc === undefined ? {} : { location: this.loc }),
      });
    }
  }

  private ownId(m: Module, name: string): Identifier {
    return { packageId: this.pkg.id, module: m.name, name: name.split('.') };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Definitions

  private checkSynonym(m: Module, syn: DefTypeSyn): void {
    this.bindTypeParams(syn.params);
    this.checkType(syn.type);
    const self = showIdentifier(this.ownId(m, syn.name.join('.')));
    const visited = new Set<string>();
    const visit = (t: Type): void =>
      forEachSynonym(t, (ref) => {
        const key = showIdentifier(ref);
        if (key === self) fail(`cycle in type synonym definitions through ${qualifiedName(ref)}`);
        if (visited.has(key)) return;
        visited.add(key);
        visit(this.synonym(ref, false).type);
      });
    visit(syn.type);
  }

  private checkDataType(m: Module, dt: DefDataType): void {
    this.bindTypeParams(dt.params);
    const cons = dt.cons;
    switch (cons.tag) {
      case 'Record':
        checkUnique(
          cons.fields.map((f) => f.field),
          'field',
        );
        for (const f of cons.fields) this.checkType(f.type);
        break;
      case 'Variant':
        checkUnique(
          cons.variants.map((v) => v.field),
          'variant constructor',
        );
        for (const v of cons.variants) this.checkType(v.type);
        break;
      case 'Enum':
        if (dt.params.length > 0) fail('an enum type cannot take type parameters');
        checkUnique(cons.constructors, 'enum constructor');
        break;
      case 'Interface':
        if (dt.params.length > 0) fail('an interface type cannot take type parameters');
        this.iface(this.ownId(m, dt.name.join('.')));
        break;
    }
    if (!dt.serializable) return;
    this.part = 'serializable data type';
    for (const p of dt.params)
      if (p.kind.tag !== 'Star')
        fail(`type parameter ${p.name} : ${showKind(p.kind)} is higher-kinded, so not serializable`);
    const vars = new Set(dt.params.map((p) => p.name));
    const fieldTypes =
      cons.tag === 'Record'
        ? cons.fields
        : cons.tag === 'Variant'
          ? cons.variants
          : cons.tag === 'Enum'
            ? []
            : fail('an interface type is not serializable');
    if (
      (cons.tag === 'Variant' && cons.variants.length === 0) ||
      (cons.tag === 'Enum' && cons.constructors.length === 0)
    )
      fail('a type without constructors is not serializable');
    for (const f of fieldTypes) this.checkSerializable(f.type, `type of ${f.field}`, vars);
  }

  private checkValue(v: DefValue): void {
    this.checkType(v.type);
    this.checkExpr(v.expr, v.type);
  }

  private checkTemplate(m: Module, name: string, tpl: DefTemplate): void {
    const id = this.ownId(m, name);
    const dt = m.dataTypes.get(name);
    if (dt === undefined || dt.cons.tag !== 'Record' || dt.params.length > 0)
      fail('a template needs a record type without type parameters of the same name');
    const self = tCon(id);
    this.vars.push(tpl.param, self);
    this.part = 'precondition';
    this.checkExpr(tpl.precond, T_BOOL);
    this.part = 'signatories';
    this.checkExpr(tpl.signatories, T_PARTIES);
    this.part = 'observers';
    this.checkExpr(tpl.observers, T_PARTIES);
    for (const choice of tpl.choices.values()) {
      this.part = `choice ${choice.name}`;
      this.checkChoice(id, choice);
    }
    for (const impl of tpl.implements) {
      this.part = `interface instance ${qualifiedName(impl.iface)}`;
      const loc = this.loc;
      this.loc = impl.location ?? loc;
      this.checkInterfaceInstance(id, tpl, impl);
      this.loc = loc;
    }
    this.part = undefined;
    this.checkSerializable(self, 'template argument type');
  }

  private checkChoice(owner: Identifier, choice: TemplateChoice): void {
    const mark = this.vars.mark();
    const loc = this.loc;
    this.loc = choice.location ?? loc;
    const arg = choice.argBinder;
    this.checkType(arg.type);
    this.checkType(choice.returnType);
    this.checkSerializable(arg.type, 'choice argument type');
    this.checkSerializable(choice.returnType, 'choice result type');
    this.vars.push(arg.name, arg.type);
    this.part = `choice ${choice.name} controllers`;
    this.checkExpr(choice.controllers, T_PARTIES);
    this.part = `choice ${choice.name} observers`;
    this.checkExpr(choice.observers, T_PARTIES);
    this.vars.reset(mark);
    this.vars.push(choice.selfBinder, tContractId(tCon(owner)));
    this.vars.push(arg.name, arg.type);
    this.part = `choice ${choice.name}`;
    this.checkExpr(choice.update, tUpdate(choice.returnType));
    this.vars.reset(mark);
    this.loc = loc;
  }

  private checkInterfaceInstance(template: Identifier, tpl: DefTemplate, impl: TemplateImplements): void {
    const iface = this.iface(impl.iface);
    for (const required of iface.requires)
      if (!tpl.implements.some((i) => sameIdentifier(i.iface, required)))
        fail(`missing instance of the required interface ${qualifiedName(required)}`);
    for (const method of iface.methods.keys())
      if (!impl.body.methods.has(method)) fail(`missing method ${method}`);
    for (const [name, body] of impl.body.methods) {
      const method = iface.methods.get(name) ?? fail(`interface has no method ${name}`);
      const found = this.typeOf(body);
      if (!this.typesEqual(found, method.type))
        fail(
          `method ${name} of ${qualifiedName(impl.iface)} for ${qualifiedName(template)}: ` +
            `expected ${showType(method.type)}, found ${showType(found)}`,
        );
    }
    const view = this.typeOf(impl.body.view);
    if (!this.typesEqual(view, iface.view))
      fail(`view: expected ${showType(iface.view)}, found ${showType(view)}`);
  }

  private checkException(m: Module, name: string, exc: DefException): void {
    const dt = m.dataTypes.get(name);
    if (dt === undefined || dt.cons.tag !== 'Record' || dt.params.length > 0)
      fail('an exception needs a record type without type parameters of the same name');
    const self = tCon(this.ownId(m, name));
    this.part = 'message';
    this.checkExpr(exc.message, tFun(self, T_TEXT));
    this.part = undefined;
    this.checkSerializable(self, 'exception argument type');
  }

  private checkInterface(m: Module, name: string, iface: DefInterface): void {
    const id = this.ownId(m, name);
    for (const required of iface.requires) {
      if (sameIdentifier(required, id)) fail('an interface cannot require itself');
      for (const transitive of this.iface(required).requires)
        if (!iface.requires.some((r) => sameIdentifier(r, transitive)))
          fail(
            `requires ${qualifiedName(required)} but not ${qualifiedName(transitive)}, which that interface requires`,
          );
    }
    for (const method of iface.methods.values()) {
      this.part = `method ${method.name}`;
      this.checkType(method.type);
    }
    this.vars.push(iface.param, tCon(id));
    for (const choice of iface.choices.values()) {
      this.part = `choice ${choice.name}`;
      this.checkChoice(id, choice);
    }
    this.part = 'view';
    const view = iface.view;
    const dt = view.tag === 'Con' && view.args.length === 0 ? this.dataType(view.tycon) : undefined;
    if (dt === undefined || dt.params.length > 0 || dt.cons.tag !== 'Record')
      fail(`the view type must be a record type without type parameters, found ${showType(view)}`);
    this.checkSerializable(view, 'view type');
  }

  private bindTypeParams(params: readonly { readonly name: string; readonly kind: Kind }[]): void {
    checkUnique(
      params.map((p) => p.name),
      'type parameter',
    );
    for (const p of params) {
      this.checkKind(p.kind);
      this.tyVars.push(p.name, p.kind);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // References

  private moduleOf(id: Identifier, syntactic: boolean): Module {
    let found = this.modules.get(id);
    if (found === undefined) {
      const pkg = this.registry.lookupPackage(id.packageId);
      if (pkg === undefined) {
        this.incomplete = true;
        fail(`unknown package ${id.packageId} (referenced by ${qualifiedName(id)})`);
      }
      const name = id.module.join('.');
      const module = pkg.module(name) ?? fail(`unknown module ${name} in package ${id.packageId}`);
      found = { module, name };
      this.modules.set(id, found);
    }
    // Only references written in the package count as dependencies (not those met while unfolding synonyms).
    if (syntactic) {
      if (id.packageId !== this.pkg.id) this.deps.add(id.packageId);
      else if (found.name !== this.moduleName) this.currentRefs.add(found.name);
    }
    return found.module;
  }

  private lookup<T>(
    id: Identifier,
    what: string,
    pick: (m: Module) => ReadonlyMap<string, T>,
    syntactic = true,
  ): T {
    const defs = pick(this.moduleOf(id, syntactic));
    return (
      defs.get(id.name.length === 1 ? id.name[0]! : id.name.join('.')) ??
      fail(`unknown ${what} ${qualifiedName(id)}`)
    );
  }

  private dataType(id: Identifier, syntactic = true): DefDataType {
    return this.lookup(id, 'data type', (m) => m.dataTypes, syntactic);
  }
  private synonym(id: Identifier, syntactic = true): DefTypeSyn {
    return this.lookup(id, 'type synonym', (m) => m.synonyms, syntactic);
  }
  private template(id: Identifier): DefTemplate {
    return this.lookup(id, 'template', (m) => m.templates);
  }
  private iface(id: Identifier): DefInterface {
    return this.lookup(id, 'interface', (m) => m.interfaces);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Kinds and types

  private checkKind(k: Kind): void {
    if (k.tag !== 'Arrow') return;
    if (k.result.tag === 'Nat') fail(`invalid kind ${showKind(k)}`);
    this.checkKind(k.param);
    this.checkKind(k.result);
  }

  /** `Γ ⊢ τ : k` for the expected kind (⋆ unless said otherwise). */
  private checkType(t: Type, expected: Kind = STAR): void {
    const found = this.kindOf(t);
    if (!kindEquals(found, expected))
      fail(`kind mismatch: expected ${showKind(expected)}, found ${showKind(found)} for ${showType(t)}`);
  }

  private kindOf(t: Type): Kind {
    switch (t.tag) {
      case 'Var':
        return this.applyKind(this.tyVars.get(t.name) ?? fail(`unknown type variable ${t.name}`), t);
      case 'Con':
        return this.applyKind(this.dataTypeKind(this.dataType(t.tycon)), t);
      case 'Builtin':
        return this.applyKind(kindOfBuiltin(t.builtin), t);
      case 'Syn': {
        const syn = this.synonym(t.tysyn);
        if (syn.params.length !== t.args.length)
          fail(
            `type synonym ${qualifiedName(t.tysyn)} takes ${syn.params.length} type arguments, found ${t.args.length}`,
          );
        for (let i = 0; i < t.args.length; i++) this.checkType(t.args[i]!, syn.params[i]!.kind);
        return STAR;
      }
      case 'Nat':
        if (!Number.isInteger(t.value) || t.value < 0 || t.value > MAX_NAT)
          fail(`type-level natural ${t.value} is outside 0..${MAX_NAT}`);
        return NAT;
      case 'Forall': {
        const mark = this.tyVars.mark();
        for (const v of t.vars) {
          this.checkKind(v.kind);
          this.tyVars.push(v.name, v.kind);
        }
        this.checkType(t.body);
        this.tyVars.reset(mark);
        return STAR;
      }
      case 'Struct':
        checkUnique(
          t.fields.map((f) => f.field),
          'struct field',
        );
        for (const f of t.fields) this.checkType(f.type);
        return STAR;
    }
  }

  private applyKind(head: Kind, t: Type & { readonly args: readonly Type[] }): Kind {
    let k = head;
    for (const arg of t.args) {
      if (k.tag !== 'Arrow')
        fail(`${showType(t)} applies a type of kind ${showKind(head)} to too many arguments`);
      this.checkType(arg, k.param);
      k = k.result;
    }
    return k;
  }

  private dataTypeKind(dt: DefDataType): Kind {
    if (dt.params.length === 0) return STAR;
    let k = this.dataTypeKinds.get(dt);
    if (k === undefined) {
      k = kindOfParams(dt.params);
      this.dataTypeKinds.set(dt, k);
    }
    return k;
  }

  /** Type equality: alpha-equivalence modulo type synonyms. */
  private typesEqual(a: Type, b: Type): boolean {
    return alphaEquivalent(a, b, this.unfold);
  }

  private expect(found: Type, expected: Type): void {
    if (!this.typesEqual(found, expected))
      fail(`type mismatch: expected ${showType(expected)}, found ${showType(found)}`);
  }

  /**
   * One step of the spec's `τ ↠ σ`: a synonym application replaced by the synonym's definition. Cached per
   * application (decoded types are shared), never recorded as a reference of the module being checked. A cyclic
   * synonym of a dependency unfolds until the stack is exhausted (reported as such); its own package reports the
   * cycle.
   */
  private unfoldSynonym(t: Type & { readonly tag: 'Syn' }): Type {
    let r = this.unfolded.get(t);
    if (r === undefined) {
      const syn = this.synonym(t.tysyn, false);
      if (syn.params.length !== t.args.length)
        fail(
          `type synonym ${qualifiedName(t.tysyn)} takes ${syn.params.length} type arguments, found ${t.args.length}`,
        );
      r = substitute(syn.type, new Map(syn.params.map((p, i) => [p.name, t.args[i]!])));
      this.unfolded.set(t, r);
    }
    return r;
  }

  private toFunction(t: Type): readonly [Type, Type] {
    if (t.tag === 'Builtin' && t.builtin === 'ARROW' && t.args.length === 2) return [t.args[0]!, t.args[1]!];
    if (t.tag === 'Syn') return this.toFunction(this.unfoldSynonym(t));
    return fail(`expected a function type, found ${showType(t)}`);
  }

  private toForall(t: Type): Type & { readonly tag: 'Forall' } {
    if (t.tag === 'Forall') return t;
    if (t.tag === 'Syn') return this.toForall(this.unfoldSynonym(t));
    return fail(`expected a universally quantified type, found ${showType(t)}`);
  }

  private toUpdate(t: Type): Type {
    if (t.tag === 'Builtin' && t.builtin === 'UPDATE' && t.args.length === 1) return t;
    if (t.tag === 'Syn') return this.toUpdate(this.unfoldSynonym(t));
    return fail(`expected an Update type, found ${showType(t)}`);
  }

  private toStruct(t: Type): Type & { readonly tag: 'Struct' } {
    if (t.tag === 'Struct') return t;
    if (t.tag === 'Syn') return this.toStruct(this.unfoldSynonym(t));
    return fail(`expected a struct type, found ${showType(t)}`);
  }

  /** `to_any`, `from_any` and `type_rep` take closed types without quantifiers or synonyms. */
  private checkAnyType(t: Type): void {
    const bad = (u: Type): boolean =>
      u.tag === 'Var' ||
      u.tag === 'Forall' ||
      u.tag === 'Syn' ||
      (u.tag === 'Struct' ? u.fields.some((f) => bad(f.type)) : u.tag !== 'Nat' && u.args.some(bad));
    if (bad(t)) fail(`expected a type without variables, quantifiers or synonyms, found ${showType(t)}`);
    this.checkType(t);
  }

  private checkExceptionType(t: Type): void {
    if (t.tag !== 'Con' || t.args.length > 0) fail(`expected an exception type, found ${showType(t)}`);
    this.lookup(t.tycon, 'exception', (m) => m.exceptions);
  }

  private checkSerializable(t: Type, what: string, vars: ReadonlySet<string> = NO_VARS): void {
    const reason = this.unserializable(t, vars);
    if (reason !== undefined) fail(`${what} ${showType(t)} is not serializable (${reason})`);
  }

  private unserializable(t: Type, vars: ReadonlySet<string>): Unserializable {
    const all = (ts: readonly Type[]): Unserializable => {
      for (const a of ts) {
        const r = this.unserializable(a, vars);
        if (r !== undefined) return r;
      }
      return undefined;
    };
    switch (t.tag) {
      case 'Var':
        return vars.has(t.name) ? all(t.args) : `free type variable ${t.name}`;
      case 'Nat':
        return 'Nat';
      case 'Syn':
        return `type synonym ${qualifiedName(t.tysyn)}`;
      case 'Forall':
        return 'higher-ranked type';
      case 'Struct':
        return 'structural record';
      case 'Con':
        return this.dataType(t.tycon).serializable
          ? all(t.args)
          : `unserializable data type ${qualifiedName(t.tycon)}`;
      case 'Builtin':
        switch (t.builtin) {
          case 'CONTRACT_ID':
            return t.args.length > 0 ? undefined : 'unapplied ContractId';
          case 'NUMERIC':
            return t.args.length === 1 && t.args[0]!.tag === 'Nat' ? undefined : 'unapplied Numeric';
          case 'LIST':
          case 'OPTIONAL':
          case 'TEXTMAP':
            return t.args.length === 1 ? all(t.args) : `unapplied ${showType(t)}`;
          case 'GENMAP':
            return t.args.length === 2 ? all(t.args) : `unapplied ${showType(t)}`;
          case 'INT64':
          case 'TEXT':
          case 'TIMESTAMP':
          case 'DATE':
          case 'PARTY':
          case 'BOOL':
          case 'UNIT':
          case 'ANY_EXCEPTION':
            return undefined;
          case 'ARROW':
            return 'function type';
          case 'UPDATE':
            return 'Update';
          case 'ANY':
            return 'Any';
          case 'TYPE_REP':
            return 'TypeRep';
          case 'FAILURE_CATEGORY':
            return 'FailureCategory';
        }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Expressions

  private checkExpr(e: Expr, expected: Type): void {
    this.expect(this.typeOf(e), expected);
  }

  /**
   * `Γ ⊢ e : τ`. Locations, lets, lambdas and update blocks are followed in a loop rather than by recursion, so
   * long `let`/`do` chains (deep in LF 2.2 archives, where each statement nests the rest) use no JS stack.
   */
  private typeOf(expr: Expr): Type {
    if (++this.nesting > MAX_NESTING) fail(`expression nested deeper than ${MAX_NESTING} levels`);
    const varsMark = this.vars.mark();
    const tyVarsMark = this.tyVars.mark();
    const loc = this.loc;
    const base = this.enclosing.length;
    let e = expr;
    let t: Type;
    for (;;) {
      if (e.tag === 'Loc') {
        this.loc = e.loc;
        e = e.expr;
      } else if (e.tag === 'Let') {
        for (const b of e.bindings) {
          this.checkType(b.type);
          const bound = this.typeOf(b.bound);
          this.expect(bound, b.type);
          this.vars.push(b.binder, bound);
        }
        e = e.body;
      } else if (e.tag === 'Abs') {
        for (const p of e.params) {
          this.checkType(p.type);
          this.vars.push(p.name, p.type);
        }
        this.enclosing.push(e);
        e = e.body;
      } else if (e.tag === 'TyAbs') {
        for (const p of e.params) {
          this.checkKind(p.kind);
          this.tyVars.push(p.name, p.kind);
        }
        this.enclosing.push(e);
        e = e.body;
      } else if (e.tag === 'Update' && e.update.tag === 'Block') {
        for (const b of e.update.bindings) {
          this.checkType(b.type);
          this.checkExpr(b.bound, tUpdate(b.type));
          this.vars.push(b.binder, b.type);
        }
        this.enclosing.push(e);
        e = e.update.body;
      } else {
        t = this.typeOfTerm(e);
        break;
      }
    }
    while (this.enclosing.length > base) {
      const outer = this.enclosing.pop()!;
      if (outer.tag === 'Abs') t = tFun(...outer.params.map((p) => p.type), t);
      else if (outer.tag === 'TyAbs') t = tForall(outer.params, t);
      else t = this.toUpdate(t);
    }
    this.vars.reset(varsMark);
    this.tyVars.reset(tyVarsMark);
    this.loc = loc;
    this.nesting--;
    return t;
  }

  /** The typing rules of every form except those `typeOf` follows in its loop. */
  private typeOfTerm(e: Expr): Type {
    switch (e.tag) {
      case 'Loc':
      case 'Let':
      case 'Abs':
      case 'TyAbs':
        return this.typeOf(e);
      case 'Var':
        return this.vars.get(e.name) ?? fail(`unknown variable ${e.name}`);
      case 'Val':
        return this.lookup(e.ref, 'value', (m) => m.values).type;
      case 'Builtin':
        return BUILTIN_FUNCTION_TYPES[e.fn];
      case 'BuiltinCon':
        return e.con === 'Unit' ? T_UNIT : T_BOOL;
      case 'BuiltinLit':
        return literalType(e.lit);
      case 'App': {
        let t = this.typeOf(e.fun);
        for (const arg of e.args) {
          const [param, result] = this.toFunction(t);
          this.expect(this.typeOf(arg), param);
          t = result;
        }
        return t;
      }
      case 'TyApp': {
        // `e @τ₁ @τ₂` nests as TyApp(TyApp(e, τ₁), τ₂): instantiate in one go.
        const groups: (readonly Type[])[] = [];
        let head: Expr = e;
        while (head.tag === 'TyApp') {
          groups.push(head.types);
          head = head.expr;
        }
        return this.instantiate(this.typeOf(head), groups.reverse().flat());
      }
      case 'Case':
        return this.typeOfCase(e.scrut, e.alts);
      case 'Nil':
        this.checkType(e.type);
        return tList(e.type);
      case 'Cons': {
        if (e.front.length === 0) fail('Cons without front elements');
        this.checkType(e.type);
        for (const x of e.front) this.checkExpr(x, e.type);
        const list = tList(e.type);
        this.checkExpr(e.tail, list);
        return list;
      }
      case 'Update':
        return this.typeOfUpdate(e.update);
      case 'OptionalNone':
        this.checkType(e.type);
        return tOptional(e.type);
      case 'OptionalSome':
        this.checkType(e.type);
        this.checkExpr(e.value, e.type);
        return tOptional(e.type);
      case 'RecCon':
      case 'RecProj':
      case 'RecUpd':
      case 'VariantCon':
      case 'EnumCon':
      case 'StructCon':
      case 'StructProj':
      case 'StructUpd':
        return this.typeOfDataExpr(e);
      case 'ToAny':
      case 'FromAny':
      case 'TypeRep':
      case 'ToAnyException':
      case 'FromAnyException':
      case 'Throw':
        return this.typeOfDynamicExpr(e);
      case 'ToInterface':
      case 'FromInterface':
      case 'UnsafeFromInterface':
      case 'CallInterface':
      case 'SignatoryInterface':
      case 'ObserverInterface':
      case 'ViewInterface':
      case 'InterfaceTemplateTypeRep':
      case 'ToRequiredInterface':
      case 'FromRequiredInterface':
      case 'UnsafeFromRequiredInterface':
        return this.typeOfInterfaceExpr(e);
    }
  }

  /** Records, variants, enums and structs. */
  private typeOfDataExpr(
    e: Expr & {
      readonly tag:
        | 'RecCon'
        | 'RecProj'
        | 'RecUpd'
        | 'VariantCon'
        | 'EnumCon'
        | 'StructCon'
        | 'StructProj'
        | 'StructUpd';
    },
  ): Type {
    switch (e.tag) {
      case 'RecCon': {
        const { fields, subst } = this.recordFields(e.tycon);
        if (fields.length !== e.fields.length || fields.some((f, i) => f.field !== e.fields[i]!.field))
          fail(
            `record ${qualifiedName(e.tycon.tycon)} has fields {${fields.map((f) => f.field).join(', ')}}, ` +
              `the expression gives {${e.fields.map((f) => f.field).join(', ')}}`,
          );
        for (let i = 0; i < fields.length; i++)
          this.checkExpr(e.fields[i]!.expr, substitute(fields[i]!.type, subst));
        return conAppType(e.tycon);
      }
      case 'RecProj': {
        const fieldType = this.recordField(e.tycon, e.field);
        this.checkExpr(e.record, conAppType(e.tycon));
        return fieldType;
      }
      case 'RecUpd': {
        const fieldType = this.recordField(e.tycon, e.field);
        const record = conAppType(e.tycon);
        this.checkExpr(e.record, record);
        this.checkExpr(e.update, fieldType);
        return record;
      }
      case 'VariantCon': {
        const { dt, subst } = this.conApp(e.tycon);
        if (dt.cons.tag !== 'Variant') fail(`expected a variant type, found ${qualifiedName(e.tycon.tycon)}`);
        const con =
          dt.cons.variants.find((v) => v.field === e.variant) ??
          fail(`variant ${qualifiedName(e.tycon.tycon)} has no constructor ${e.variant}`);
        this.checkExpr(e.arg, substitute(con.type, subst));
        return conAppType(e.tycon);
      }
      case 'EnumCon': {
        const dt = this.dataType(e.tycon);
        if (dt.cons.tag !== 'Enum') fail(`expected an enum type, found ${qualifiedName(e.tycon)}`);
        if (!dt.cons.constructors.includes(e.con))
          fail(`enum ${qualifiedName(e.tycon)} has no constructor ${e.con}`);
        return tCon(e.tycon);
      }
      case 'StructCon':
        checkUnique(
          e.fields.map((f) => f.field),
          'struct field',
        );
        return {
          tag: 'Struct',
          fields: e.fields.map((f) => ({ field: f.field, type: this.typeOf(f.expr) })),
        };
      case 'StructProj':
        return this.structField(this.toStruct(this.typeOf(e.struct)), e.field);
      case 'StructUpd': {
        const struct = this.toStruct(this.typeOf(e.struct));
        this.checkExpr(e.update, this.structField(struct, e.field));
        return struct;
      }
    }
  }

  /** `Any`, `TypeRep` and exceptions. */
  private typeOfDynamicExpr(
    e: Expr & {
      readonly tag: 'ToAny' | 'FromAny' | 'TypeRep' | 'ToAnyException' | 'FromAnyException' | 'Throw';
    },
  ): Type {
    switch (e.tag) {
      case 'ToAny':
        this.checkAnyType(e.type);
        this.checkExpr(e.expr, e.type);
        return T_ANY;
      case 'FromAny':
        this.checkAnyType(e.type);
        this.checkExpr(e.expr, T_ANY);
        return tOptional(e.type);
      case 'TypeRep':
        this.checkAnyType(e.type);
        return T_TYPE_REP;
      case 'ToAnyException':
        this.checkExceptionType(e.type);
        this.checkExpr(e.expr, e.type);
        return T_ANY_EXCEPTION;
      case 'FromAnyException':
        this.checkExceptionType(e.type);
        this.checkExpr(e.expr, T_ANY_EXCEPTION);
        return tOptional(e.type);
      case 'Throw':
        this.checkType(e.returnType);
        this.checkExceptionType(e.exceptionType);
        this.checkExpr(e.exception, e.exceptionType);
        return e.returnType;
    }
  }

  /** Interface values: conversions, method calls, view, signatories and observers. */
  private typeOfInterfaceExpr(
    e: Expr & {
      readonly tag:
        | 'ToInterface'
        | 'FromInterface'
        | 'UnsafeFromInterface'
        | 'CallInterface'
        | 'SignatoryInterface'
        | 'ObserverInterface'
        | 'ViewInterface'
        | 'InterfaceTemplateTypeRep'
        | 'ToRequiredInterface'
        | 'FromRequiredInterface'
        | 'UnsafeFromRequiredInterface';
    },
  ): Type {
    switch (e.tag) {
      case 'ToInterface':
        this.checkInstance(e.iface, e.template);
        this.checkExpr(e.expr, tCon(e.template));
        return tCon(e.iface);
      case 'FromInterface':
        this.checkInstance(e.iface, e.template);
        this.checkExpr(e.expr, tCon(e.iface));
        return tOptional(tCon(e.template));
      case 'UnsafeFromInterface':
        this.checkInstance(e.iface, e.template);
        this.checkExpr(e.contractId, tContractId(tCon(e.iface)));
        this.checkExpr(e.expr, tCon(e.iface));
        return tCon(e.template);
      case 'CallInterface': {
        const method =
          this.iface(e.iface).methods.get(e.method) ??
          fail(`interface ${qualifiedName(e.iface)} has no method ${e.method}`);
        this.checkExpr(e.expr, tCon(e.iface));
        return method.type;
      }
      case 'SignatoryInterface':
      case 'ObserverInterface':
        this.iface(e.iface);
        this.checkExpr(e.expr, tCon(e.iface));
        return T_PARTIES;
      case 'ViewInterface': {
        const view = this.iface(e.iface).view;
        this.checkExpr(e.expr, tCon(e.iface));
        return view;
      }
      case 'InterfaceTemplateTypeRep':
        this.iface(e.iface);
        this.checkExpr(e.expr, tCon(e.iface));
        return T_TYPE_REP;
      case 'ToRequiredInterface':
        this.checkRequires(e.requiringIface, e.requiredIface);
        this.checkExpr(e.expr, tCon(e.requiringIface));
        return tCon(e.requiredIface);
      case 'FromRequiredInterface':
        this.checkRequires(e.requiringIface, e.requiredIface);
        this.checkExpr(e.expr, tCon(e.requiredIface));
        return tOptional(tCon(e.requiringIface));
      case 'UnsafeFromRequiredInterface':
        this.checkRequires(e.requiringIface, e.requiredIface);
        this.checkExpr(e.contractId, tContractId(tCon(e.requiredIface)));
        this.checkExpr(e.expr, tCon(e.requiredIface));
        return tCon(e.requiringIface);
    }
  }

  /** `e @τ₁ … @τₙ` where `e : ∀ α₁ … αₙ. σ`: kind-checks each τᵢ, then substitutes capture-free. */
  private instantiate(type: Type, args: readonly Type[]): Type {
    let t = type;
    let i = 0;
    while (i < args.length) {
      const forall = this.toForall(t);
      const n = Math.min(forall.vars.length, args.length - i);
      const subst = new Map<string, Type>();
      for (let j = 0; j < n; j++) {
        const v = forall.vars[j]!;
        this.checkType(args[i + j]!, v.kind);
        subst.set(v.name, args[i + j]!);
      }
      i += n;
      const rest = n < forall.vars.length ? tForall(forall.vars.slice(n), forall.body) : forall.body;
      t = substitute(rest, subst);
    }
    return t;
  }

  private conApp(app: TypeConApp): { dt: DefDataType; subst: Map<string, Type> } {
    const dt = this.dataType(app.tycon);
    if (dt.params.length !== app.args.length)
      fail(
        `type constructor ${qualifiedName(app.tycon)} takes ${dt.params.length} type arguments, found ${app.args.length}`,
      );
    const subst = new Map<string, Type>();
    for (let i = 0; i < app.args.length; i++) {
      this.checkType(app.args[i]!, dt.params[i]!.kind);
      subst.set(dt.params[i]!.name, app.args[i]!);
    }
    return { dt, subst };
  }

  private recordFields(app: TypeConApp): {
    fields: readonly { readonly field: string; readonly type: Type }[];
    subst: Map<string, Type>;
  } {
    const { dt, subst } = this.conApp(app);
    if (dt.cons.tag !== 'Record') fail(`expected a record type, found ${qualifiedName(app.tycon)}`);
    return { fields: dt.cons.fields, subst };
  }

  private recordField(app: TypeConApp, field: string): Type {
    const { fields, subst } = this.recordFields(app);
    const f =
      fields.find((x) => x.field === field) ??
      fail(`record ${qualifiedName(app.tycon)} has no field ${field}`);
    return substitute(f.type, subst);
  }

  private structField(struct: Type & { readonly tag: 'Struct' }, field: string): Type {
    return (
      struct.fields.find((f) => f.field === field)?.type ??
      fail(`struct type ${showType(struct)} has no field ${field}`)
    );
  }

  private checkInstance(iface: Identifier, template: Identifier): void {
    this.iface(iface);
    if (!this.template(template).implements.some((i) => sameIdentifier(i.iface, iface)))
      fail(`template ${qualifiedName(template)} does not implement interface ${qualifiedName(iface)}`);
  }

  private checkRequires(requiring: Identifier, required: Identifier): void {
    if (!this.iface(requiring).requires.some((r) => sameIdentifier(r, required)))
      fail(`interface ${qualifiedName(requiring)} does not require interface ${qualifiedName(required)}`);
  }

  private typeOfCase(scrut: Expr, alts: readonly CaseAlt[]): Type {
    if (alts.length === 0) fail('empty case');
    const scrutType = this.typeOf(scrut);
    let shape = scrutType;
    while (shape.tag === 'Syn') shape = this.unfoldSynonym(shape);
    const mismatch = (p: CasePattern): never =>
      fail(`pattern ${showPattern(p)} does not match the scrutinee type ${showType(scrutType)}`);
    let required: readonly string[] = [DEFAULT_PATTERN];
    let bind: (p: CasePattern) => string;
    if (shape.tag === 'Con') {
      const dt = this.dataType(shape.tycon);
      const cons = dt.cons;
      if (cons.tag === 'Variant') {
        required = cons.variants.map((v) => v.field);
        bind = (p) => {
          if (p.tag !== 'Variant' || !sameIdentifier(p.tycon, shape.tycon)) return mismatch(p);
          const con =
            cons.variants.find((v) => v.field === p.variant) ??
            fail(`variant ${qualifiedName(shape.tycon)} has no constructor ${p.variant}`);
          const subst = new Map(dt.params.map((param, i) => [param.name, shape.args[i]!]));
          this.vars.push(p.binder, substitute(con.type, subst));
          return p.variant;
        };
      } else if (cons.tag === 'Enum') {
        required = cons.constructors;
        bind = (p) => {
          if (p.tag !== 'Enum' || !sameIdentifier(p.tycon, shape.tycon)) return mismatch(p);
          if (!cons.constructors.includes(p.con))
            fail(`enum ${qualifiedName(shape.tycon)} has no constructor ${p.con}`);
          return p.con;
        };
      } else bind = mismatch;
    } else if (shape.tag === 'Builtin' && (shape.builtin === 'UNIT' || shape.builtin === 'BOOL')) {
      required = shape.builtin === 'UNIT' ? ['Unit'] : ['True', 'False'];
      bind = (p) => (p.tag === 'BuiltinCon' && required.includes(p.con) ? p.con : mismatch(p));
    } else if (shape.tag === 'Builtin' && shape.builtin === 'LIST' && shape.args.length === 1) {
      const elem = shape.args[0]!;
      required = ['Nil', 'Cons'];
      bind = (p) => {
        if (p.tag === 'Nil') return 'Nil';
        if (p.tag !== 'Cons') return mismatch(p);
        if (p.head === p.tail) fail(`pattern variable ${p.head} is bound twice`);
        this.vars.push(p.head, elem);
        this.vars.push(p.tail, shape);
        return 'Cons';
      };
    } else if (shape.tag === 'Builtin' && shape.builtin === 'OPTIONAL' && shape.args.length === 1) {
      const elem = shape.args[0]!;
      required = ['None', 'Some'];
      bind = (p) => {
        if (p.tag === 'OptionalNone') return 'None';
        if (p.tag !== 'OptionalSome') return mismatch(p);
        this.vars.push(p.binder, elem);
        return 'Some';
      };
    } else bind = mismatch;

    const covered = new Set<string>();
    let result: Type | undefined;
    for (const alt of alts) {
      const mark = this.vars.mark();
      covered.add(alt.pattern.tag === 'Default' ? DEFAULT_PATTERN : bind(alt.pattern));
      const t = this.typeOf(alt.body);
      this.vars.reset(mark);
      if (result === undefined) result = t;
      else if (!this.typesEqual(t, result))
        fail(`case alternatives differ in type: expected ${showType(result)}, found ${showType(t)}`);
    }
    if (!covered.has(DEFAULT_PATTERN)) {
      const missing = required.filter((c) => !covered.has(c));
      if (missing.length > 0)
        fail(`non-exhaustive case on ${showType(scrutType)}: missing ${missing.join(', ')}`);
    }
    return result!;
  }

  private typeOfUpdate(u: Update): Type {
    switch (u.tag) {
      case 'Pure':
        this.checkType(u.type);
        this.checkExpr(u.expr, u.type);
        return tUpdate(u.type);
      case 'Block':
        // Reached only through `typeOfTerm`, which `typeOf` never calls for blocks.
        return this.typeOf({ tag: 'Update', update: u });
      case 'Create': {
        this.template(u.template);
        const self = tCon(u.template);
        this.checkExpr(u.arg, self);
        return tUpdate(tContractId(self));
      }
      case 'CreateInterface': {
        this.iface(u.iface);
        const self = tCon(u.iface);
        this.checkExpr(u.arg, self);
        return tUpdate(tContractId(self));
      }
      case 'Exercise': {
        const choice = this.choice(this.template(u.template).choices, u.template, u.choice);
        this.checkExpr(u.cid, tContractId(tCon(u.template)));
        this.checkExpr(u.arg, choice.argBinder.type);
        return tUpdate(choice.returnType);
      }
      case 'ExerciseInterface': {
        const choice = this.choice(this.iface(u.iface).choices, u.iface, u.choice);
        this.checkExpr(u.cid, tContractId(tCon(u.iface)));
        this.checkExpr(u.arg, choice.argBinder.type);
        return tUpdate(choice.returnType);
      }
      case 'Fetch':
        this.template(u.template);
        this.checkExpr(u.cid, tContractId(tCon(u.template)));
        return tUpdate(tCon(u.template));
      case 'FetchInterface':
        this.iface(u.iface);
        this.checkExpr(u.cid, tContractId(tCon(u.iface)));
        return tUpdate(tCon(u.iface));
      case 'GetTime':
        return tUpdate(T_TIMESTAMP);
      case 'LedgerTimeLt':
        this.checkExpr(u.time, T_TIMESTAMP);
        return tUpdate(T_BOOL);
      case 'EmbedExpr': {
        const update = tUpdate(u.type);
        this.checkExpr(u.body, update);
        return update;
      }
      case 'TryCatch': {
        this.checkType(u.returnType);
        const update = tUpdate(u.returnType);
        this.checkExpr(u.tryExpr, update);
        const mark = this.vars.mark();
        this.vars.push(u.binder, T_ANY_EXCEPTION);
        this.checkExpr(u.catchExpr, tOptional(update));
        this.vars.reset(mark);
        return update;
      }
    }
  }

  private choice(
    choices: ReadonlyMap<string, TemplateChoice>,
    owner: Identifier,
    name: string,
  ): TemplateChoice {
    return choices.get(name) ?? fail(`${qualifiedName(owner)} has no choice ${name}`);
  }
}

function literalType(lit: BuiltinLit): Type {
  switch (lit.tag) {
    case 'Int64':
      return T_INT64;
    case 'Numeric':
      return tNumeric(tNat(lit.scale));
    case 'Text':
      return T_TEXT;
    case 'Timestamp':
      return T_TIMESTAMP;
    case 'Date':
      return T_DATE;
    case 'FailureCategory':
      return T_FAILURE_CATEGORY;
  }
}

const conAppType = (app: TypeConApp): Type => tCon(app.tycon, app.args);

/** The minor version of a Daml-LF 2.x version (`2.1` → 1), compared as a number. */
const minorVersion = (v: string): number => Number(v.slice(v.indexOf('.') + 1));

function checkUnique(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) fail(`duplicate ${what} ${n}`);
    seen.add(n);
  }
}

function forEachSynonym(t: Type, f: (ref: Identifier) => void): void {
  switch (t.tag) {
    case 'Syn':
      f(t.tysyn);
      for (const a of t.args) forEachSynonym(a, f);
      return;
    case 'Var':
    case 'Con':
    case 'Builtin':
      for (const a of t.args) forEachSynonym(a, f);
      return;
    case 'Forall':
      forEachSynonym(t.body, f);
      return;
    case 'Struct':
      for (const field of t.fields) forEachSynonym(field.type, f);
      return;
    case 'Nat':
      return;
  }
}

function showPattern(p: CasePattern): string {
  switch (p.tag) {
    case 'Default':
      return '_';
    case 'Variant':
      return `${qualifiedName(p.tycon)}:${p.variant} ${p.binder}`;
    case 'Enum':
      return `${qualifiedName(p.tycon)}:${p.con}`;
    case 'BuiltinCon':
      return p.con === 'Unit' ? '()' : p.con;
    case 'Nil':
      return 'Nil';
    case 'Cons':
      return `Cons ${p.head} ${p.tail}`;
    case 'OptionalNone':
      return 'None';
    case 'OptionalSome':
      return `Some ${p.binder}`;
  }
}

/** A cycle in a directed graph (as a path whose first and last nodes are equal), if any. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const s = state.get(node);
    if (s === 'done') return undefined;
    if (s === 'active') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'active');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}
