import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import type {
  DefDataType,
  DefException,
  DefInterface,
  DefTemplate,
  DefTypeSyn,
  DefValue,
  DottedName,
  Identifier,
  Module,
  Package,
  PackageId,
  TemplateChoice,
  TemplateImplements,
  Type,
  TypeConId,
} from './ast.js';

/**
 * A reference to a definition: an `Identifier`, or its text form `PKG:Module.Name:Entity.Name` where `PKG` is a
 * package id or `#package-name` (resolved to the preferred, i.e. highest-version, package of that name).
 */
export type DefinitionRef = Identifier | string;

/** A choice found on a template or an interface. */
export interface ChoiceInfo {
  readonly choice: TemplateChoice;
  /** Whether the choice is declared by an interface (and so exercised through it). */
  readonly viaInterface: boolean;
}

/** `template implements iface`, found on the template side (LF 2 has no interface-side co-implementations). */
export interface InterfaceInstance {
  readonly template: TypeConId;
  readonly iface: TypeConId;
  readonly instance: TemplateImplements;
}

/** `pkg:Module.Name:Entity.Name`, the canonical text of an identifier (also a stable map key). */
export function showIdentifier(id: Identifier): string {
  return `${id.packageId}:${id.module.join('.')}:${id.name.join('.')}`;
}

/** Compares two package versions (`1.10.0` > `1.9.2`); segments are non-negative integers. */
export function comparePackageVersions(a: string, b: string): number {
  const as = a.split('.').map(Number);
  const bs = b.split('.').map(Number);
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const d = (as[i] ?? -1) - (bs[i] ?? -1);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * All known packages, several versions of the same package name side by side. Lookups take identifiers as
 * the decoder produces them (package id, module, name); package-name references resolve to the preferred
 * package: the highest version, ties (e.g. `daml-prim 0.0.0` from two SDKs) broken by the smaller package id so
 * the choice is deterministic.
 */
export class PackageRegistry {
  private readonly byId = new Map<PackageId, Package>();
  private readonly byName = new Map<string, Package[]>();
  private instanceIndex: Map<string, InterfaceInstance[]> | undefined;

  /** Adds a package; returns false if a package with that id is already known (ids are content hashes). */
  add(pkg: Package): boolean {
    if (this.byId.has(pkg.id)) return false;
    this.byId.set(pkg.id, pkg);
    const list = this.byName.get(pkg.metadata.name) ?? [];
    list.push(pkg);
    list.sort(
      (x, y) =>
        comparePackageVersions(y.metadata.version, x.metadata.version) ||
        (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
    );
    this.byName.set(pkg.metadata.name, list);
    this.instanceIndex = undefined;
    return true;
  }

  addAll(pkgs: Iterable<Package>): void {
    for (const p of pkgs) this.add(p);
  }

  get size(): number {
    return this.byId.size;
  }

  packages(): readonly Package[] {
    return [...this.byId.values()];
  }

  lookupPackage(id: PackageId): Package | undefined {
    return this.byId.get(id);
  }

  getPackage(id: PackageId): Package {
    const pkg = this.byId.get(id);
    if (pkg === undefined)
      throw new WeftError(DamlLfErrors.DAML_LF_PACKAGE_NOT_FOUND, `unknown package ${id}`);
    return pkg;
  }

  /** Package names known, sorted. */
  packageNames(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Ids of the packages named `name`, preferred (highest version) first. */
  packageIdsByName(name: string): PackageId[] {
    return (this.byName.get(name) ?? []).map((p) => p.id);
  }

  /** The preferred package id for a package name: the highest version. */
  preferredPackageId(name: string): PackageId | undefined {
    return this.byName.get(name)?.[0]?.id;
  }

  /** Resolves a package id or `#package-name` to a known package id. */
  resolvePackageId(ref: string): PackageId {
    if (ref.startsWith('#')) {
      const id = this.preferredPackageId(ref.slice(1));
      if (id === undefined)
        throw new WeftError(DamlLfErrors.DAML_LF_PACKAGE_NOT_FOUND, `no package named ${ref.slice(1)}`);
      return id;
    }
    return this.getPackage(ref).id;
  }

  /** Parses `PKG:Module.Name:Entity.Name` (PKG a package id or `#name`) into an identifier. */
  parseRef(ref: DefinitionRef): Identifier {
    if (typeof ref !== 'string') return ref;
    const parts = ref.split(':');
    if (parts.length !== 3 || parts.some((p) => p === ''))
      throw new WeftError(
        DamlLfErrors.DAML_LF_DEFINITION_NOT_FOUND,
        `malformed reference ${JSON.stringify(ref)} (expected PKG:Module.Name:Entity)`,
      );
    return {
      packageId: this.resolvePackageId(parts[0]!),
      module: parts[1]!.split('.'),
      name: parts[2]!.split('.'),
    };
  }

  module(packageId: PackageId, name: string | DottedName): Module | undefined {
    return this.byId.get(packageId)?.module(typeof name === 'string' ? name : name.join('.'));
  }

  private lookup<T>(ref: DefinitionRef, pick: (m: Module) => ReadonlyMap<string, T>): T | undefined {
    const id = this.parseRef(ref);
    const m = this.module(id.packageId, id.module);
    return m === undefined ? undefined : pick(m).get(id.name.join('.'));
  }

  private require<T>(ref: DefinitionRef, kind: string, found: T | undefined): T {
    if (found !== undefined) return found;
    const id = this.parseRef(ref);
    this.getPackage(id.packageId);
    throw new WeftError(DamlLfErrors.DAML_LF_DEFINITION_NOT_FOUND, `unknown ${kind} ${showIdentifier(id)}`);
  }

  lookupDataType(ref: DefinitionRef): DefDataType | undefined {
    return this.lookup(ref, (m) => m.dataTypes);
  }
  getDataType(ref: DefinitionRef): DefDataType {
    return this.require(ref, 'data type', this.lookupDataType(ref));
  }

  lookupTypeSynonym(ref: DefinitionRef): DefTypeSyn | undefined {
    return this.lookup(ref, (m) => m.synonyms);
  }
  getTypeSynonym(ref: DefinitionRef): DefTypeSyn {
    return this.require(ref, 'type synonym', this.lookupTypeSynonym(ref));
  }

  lookupValue(ref: DefinitionRef): DefValue | undefined {
    return this.lookup(ref, (m) => m.values);
  }
  getValue(ref: DefinitionRef): DefValue {
    return this.require(ref, 'value', this.lookupValue(ref));
  }

  lookupTemplate(ref: DefinitionRef): DefTemplate | undefined {
    return this.lookup(ref, (m) => m.templates);
  }
  getTemplate(ref: DefinitionRef): DefTemplate {
    return this.require(ref, 'template', this.lookupTemplate(ref));
  }

  lookupInterface(ref: DefinitionRef): DefInterface | undefined {
    return this.lookup(ref, (m) => m.interfaces);
  }
  getInterface(ref: DefinitionRef): DefInterface {
    return this.require(ref, 'interface', this.lookupInterface(ref));
  }

  lookupException(ref: DefinitionRef): DefException | undefined {
    return this.lookup(ref, (m) => m.exceptions);
  }
  getException(ref: DefinitionRef): DefException {
    return this.require(ref, 'exception', this.lookupException(ref));
  }

  /** A choice of a template or of an interface, by the type constructor that declares it. */
  lookupChoice(ref: DefinitionRef, choice: string): ChoiceInfo | undefined {
    const tpl = this.lookupTemplate(ref);
    if (tpl !== undefined) {
      const c = tpl.choices.get(choice);
      return c === undefined ? undefined : { choice: c, viaInterface: false };
    }
    const c = this.lookupInterface(ref)?.choices.get(choice);
    return c === undefined ? undefined : { choice: c, viaInterface: true };
  }
  getChoice(ref: DefinitionRef, choice: string): ChoiceInfo {
    const found = this.lookupChoice(ref, choice);
    if (found !== undefined) return found;
    const id = this.parseRef(ref);
    if (this.lookupTemplate(id) === undefined) this.getInterface(id);
    throw new WeftError(
      DamlLfErrors.DAML_LF_DEFINITION_NOT_FOUND,
      `unknown choice ${choice} of ${showIdentifier(id)}`,
    );
  }

  /** The instance `template implements iface`, if the template declares it. */
  lookupInterfaceInstance(iface: DefinitionRef, template: DefinitionRef): TemplateImplements | undefined {
    const ifaceKey = showIdentifier(this.parseRef(iface));
    return this.lookupTemplate(template)?.implements.find((i) => showIdentifier(i.iface) === ifaceKey);
  }

  /**
   * Every known instance of an interface, across all packages. The first call after a package is added scans
   * (and so decodes) every module; later calls are map lookups.
   */
  interfaceInstances(iface: DefinitionRef): readonly InterfaceInstance[] {
    if (this.instanceIndex === undefined) {
      const index = new Map<string, InterfaceInstance[]>();
      for (const pkg of this.byId.values())
        for (const m of pkg.modules())
          for (const [name, tpl] of m.templates) {
            const template: TypeConId = { packageId: pkg.id, module: m.name, name: name.split('.') };
            for (const instance of tpl.implements) {
              const key = showIdentifier(instance.iface);
              const list = index.get(key) ?? [];
              list.push({ template, iface: instance.iface, instance });
              index.set(key, list);
            }
          }
      this.instanceIndex = index;
    }
    return this.instanceIndex.get(showIdentifier(this.parseRef(iface))) ?? [];
  }

  /** Replaces every type synonym application in `type` by its definition (recursively). */
  expandSynonyms(type: Type): Type {
    switch (type.tag) {
      case 'Syn': {
        const syn = this.getTypeSynonym(type.tysyn);
        if (syn.params.length !== type.args.length)
          throw new WeftError(
            DamlLfErrors.DAML_LF_MALFORMED,
            `type synonym ${showIdentifier(type.tysyn)} takes ${syn.params.length} arguments, got ${type.args.length}`,
          );
        const subst = new Map(syn.params.map((p, i) => [p.name, this.expandSynonyms(type.args[i]!)]));
        return this.expandSynonyms(substitute(syn.type, subst));
      }
      case 'Var':
      case 'Con':
      case 'Builtin':
        return type.args.length === 0
          ? type
          : { ...type, args: type.args.map((a) => this.expandSynonyms(a)) };
      case 'Forall':
        return { ...type, body: this.expandSynonyms(type.body) };
      case 'Struct':
        return {
          ...type,
          fields: type.fields.map((f) => ({ field: f.field, type: this.expandSynonyms(f.type) })),
        };
      case 'Nat':
        return type;
    }
  }
}

/** Capture-avoiding substitution of type variables. */
export function substitute(type: Type, subst: ReadonlyMap<string, Type>): Type {
  if (subst.size === 0) return type;
  switch (type.tag) {
    case 'Var': {
      const head = subst.get(type.name);
      const args = type.args.map((a) => substitute(a, subst));
      if (head === undefined) return args.length === 0 ? type : { ...type, args };
      if (args.length === 0) return head;
      if (head.tag === 'Var' || head.tag === 'Con' || head.tag === 'Builtin')
        return { ...head, args: [...head.args, ...args] };
      throw new WeftError(
        DamlLfErrors.DAML_LF_MALFORMED,
        `type variable ${type.name} applied to a ${head.tag} type`,
      );
    }
    case 'Con':
    case 'Builtin':
    case 'Syn':
      return type.args.length === 0 ? type : { ...type, args: type.args.map((a) => substitute(a, subst)) };
    case 'Struct':
      return {
        ...type,
        fields: type.fields.map((f) => ({ field: f.field, type: substitute(f.type, subst) })),
      };
    case 'Nat':
      return type;
    case 'Forall': {
      const inner = new Map(subst);
      const free = new Set<string>();
      for (const t of subst.values()) freeVars(t, free);
      const avoid = new Set(free);
      freeVars(type.body, avoid);
      const vars = type.vars.map((v) => {
        inner.delete(v.name);
        if (!free.has(v.name)) return v;
        // Rename a binder that would capture a free variable of the substituted types.
        let fresh = `${v.name}$`;
        while (avoid.has(fresh)) fresh += '$';
        avoid.add(fresh);
        inner.set(v.name, { tag: 'Var', name: fresh, args: [] });
        return { name: fresh, kind: v.kind };
      });
      return { tag: 'Forall', vars, body: substitute(type.body, inner) };
    }
  }
}

function freeVars(type: Type, into: Set<string>, bound: ReadonlySet<string> = new Set()): void {
  switch (type.tag) {
    case 'Var':
      if (!bound.has(type.name)) into.add(type.name);
      for (const a of type.args) freeVars(a, into, bound);
      return;
    case 'Con':
    case 'Builtin':
    case 'Syn':
      for (const a of type.args) freeVars(a, into, bound);
      return;
    case 'Struct':
      for (const f of type.fields) freeVars(f.type, into, bound);
      return;
    case 'Forall':
      freeVars(type.body, into, new Set([...bound, ...type.vars.map((v) => v.name)]));
      return;
    case 'Nat':
      return;
  }
}
