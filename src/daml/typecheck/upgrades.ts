import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import type {
  DataCons,
  DefDataType,
  DefTemplate,
  Identifier,
  Module,
  Package,
  TemplateChoice,
  Type,
} from '../lf/ast.js';
import { comparePackageVersions, type PackageRegistry, showIdentifier } from '../lf/packages.js';
import { showType } from './types.js';

/*
 * Smart-contract upgrade checks (Daml-LF 2.1), as digital-asset/daml's `daml-lf/validation` `Upgrading.scala`
 * defines them and Canton runs them when a DAR is uploaded: a package may replace an older version of its package
 * name only if every contract, choice argument and result of the older one still reads as the newer one's type.
 *
 * Between a past and a present version of a package name:
 * - every module, template, serializable data type and choice of the past must exist in the present;
 * - a template keeps its interface instances and adds none to an existing template; interfaces and exceptions
 *   are never redefined (an upgrading package drops them and depends on the original);
 * - a record keeps its fields, in order, with upgradable types, and appends only `Optional` fields; a variant or
 *   enum keeps its constructors, in order, and may append constructors; a data type keeps its kind (record,
 *   variant, enum) and its type parameters;
 * - a choice keeps its consumption, its argument type and its result type, up to upgrading;
 * - the Daml-LF version does not decrease.
 * A type upgrades another when it is the same type, except that a type constructor may come from another version
 * of the same package name (the upgrading package itself, or a dependency no older than before).
 *
 * Packages that define no template and no interface (daml-prim, daml-stdlib, …) are utility packages: they are
 * not upgraded, several of them may share a name and version (one per SDK), and they are not checked here.
 */

const dotted = (segments: readonly string[]): string => segments.join('.');

/** A package defines templates or interfaces: it takes part in upgrades. */
function isUpgradeable(pkg: Package): boolean {
  return pkg.modules().some((m) => m.templates.size > 0 || m.interfaces.size > 0);
}

class Incompatible extends Error {}

const fail = (message: string): never => {
  throw new Incompatible(message);
};

/** Checks one past → present pair; throws `Incompatible` naming the first incompatibility. */
class UpgradeCheck {
  constructor(
    private readonly registry: PackageRegistry,
    private readonly past: Package,
    private readonly present: Package,
  ) {}

  run(): void {
    if (this.past.languageVersion > this.present.languageVersion)
      fail(
        `the upgrading package uses an older Daml-LF version (${this.present.languageVersion} < ${this.past.languageVersion})`,
      );
    for (const name of this.past.moduleNames) {
      const past = this.past.module(name)!;
      const present = this.present.module(name);
      if (present === undefined) {
        // A module of only non-serializable definitions and no template may go away.
        if (past.templates.size > 0 || [...past.dataTypes.values()].some((d) => d.serializable))
          fail(`module ${name} appears in the package being upgraded but not in the upgrading package`);
        continue;
      }
      this.module(past, present);
    }
  }

  private module(past: Module, present: Module): void {
    const m = dotted(past.name);
    for (const [name] of past.interfaces)
      if (present.interfaces.has(name))
        fail(`interface ${m}:${name} is redefined: interfaces cannot be upgraded, only depended on`);
    for (const [name] of past.exceptions)
      if (present.exceptions.has(name))
        fail(`exception ${m}:${name} is redefined: exceptions cannot be upgraded, only depended on`);
    for (const [name, tpl] of past.templates) {
      const now = present.templates.get(name);
      if (now === undefined)
        fail(`template ${m}:${name} appears in the package being upgraded but not in the upgrading package`);
      this.template(`${m}:${name}`, tpl, now!);
    }
    for (const [name, def] of past.dataTypes) {
      if (!def.serializable || def.cons.tag === 'Interface') continue;
      const now = present.dataTypes.get(name);
      if (now === undefined)
        fail(`data type ${m}:${name} appears in the package being upgraded but not in the upgrading package`);
      this.dataType(`${m}:${name}`, def, now!);
    }
  }

  private template(name: string, past: DefTemplate, present: DefTemplate): void {
    const impls = (t: DefTemplate) => new Set(t.implements.map((i) => this.ifaceKey(i.iface)));
    const [before, after] = [impls(past), impls(present)];
    for (const i of before) if (!after.has(i)) fail(`template ${name} no longer implements interface ${i}`);
    for (const i of after)
      if (!before.has(i))
        fail(`template ${name} adds an implementation of interface ${i} (forbidden by upgrades)`);
    for (const [choiceName, choice] of past.choices) {
      const now = present.choices.get(choiceName);
      if (now === undefined)
        fail(
          `choice ${name}:${choiceName} appears in the package being upgraded but not in the upgrading package`,
        );
      this.choice(`${name}:${choiceName}`, choice, now!);
    }
  }

  private choice(name: string, past: TemplateChoice, present: TemplateChoice): void {
    if (past.consuming !== present.consuming)
      fail(
        `choice ${name} changes from ${past.consuming ? '' : 'non-'}consuming to ${present.consuming ? '' : 'non-'}consuming`,
      );
    if (!this.upgrades(past.argBinder.type, present.argBinder.type))
      fail(
        `choice ${name} changes its argument type from ${showType(past.argBinder.type)} to ${showType(present.argBinder.type)}`,
      );
    if (!this.upgrades(past.returnType, present.returnType))
      fail(
        `choice ${name} changes its return type from ${showType(past.returnType)} to ${showType(present.returnType)}`,
      );
  }

  private dataType(name: string, past: DefDataType, present: DefDataType): void {
    const variety = (c: DataCons) => c.tag.toLowerCase();
    if (past.cons.tag !== present.cons.tag)
      fail(`data type ${name} changes from a ${variety(past.cons)} to a ${variety(present.cons)}`);
    if (!present.serializable) fail(`data type ${name} was serializable and is not any more`);
    if (past.params.length !== present.params.length)
      fail(`data type ${name} changes the number of its type parameters`);
    const rename = new Map(present.params.map((p, i) => [p.name, past.params[i]!.name]));
    const same = (a: Type, b: Type) => this.upgrades(a, b, rename);
    if (past.cons.tag === 'Record' && present.cons.tag === 'Record') {
      const [was, now] = [past.cons.fields, present.cons.fields];
      for (const [i, f] of was.entries()) {
        const g = now[i];
        if (g === undefined) fail(`record ${name} is missing its original field ${f.field}`);
        if (g!.field !== f.field)
          fail(
            `record ${name} changes the order of its fields (field ${i} was ${f.field}, is ${g!.field}): new fields go at the end`,
          );
        if (!same(f.type, g!.type))
          fail(
            `record ${name} changes the type of its field ${f.field} from ${showType(f.type)} to ${showType(g!.type)}`,
          );
      }
      for (const g of now.slice(was.length))
        if (!(g.type.tag === 'Builtin' && g.type.builtin === 'OPTIONAL'))
          fail(`record ${name} adds the field ${g.field} of type ${showType(g.type)}, which is not Optional`);
    } else if (past.cons.tag === 'Variant' && present.cons.tag === 'Variant') {
      const [was, now] = [past.cons.variants, present.cons.variants];
      for (const [i, v] of was.entries()) {
        const w = now[i];
        if (w === undefined) fail(`variant ${name} removes its constructor ${v.field}`);
        if (w!.field !== v.field)
          fail(
            `variant ${name} changes the order of its constructors (constructor ${i} was ${v.field}, is ${w!.field}): new constructors go at the end`,
          );
        if (!same(v.type, w!.type)) fail(`variant ${name} changes the type of its constructor ${v.field}`);
      }
    } else if (past.cons.tag === 'Enum' && present.cons.tag === 'Enum') {
      const [was, now] = [past.cons.constructors, present.cons.constructors];
      for (const [i, c] of was.entries())
        if (now[i] !== c)
          fail(
            now.includes(c)
              ? `enum ${name} changes the order of its constructors: new constructors go at the end`
              : `enum ${name} removes its constructor ${c}`,
          );
    }
  }

  /** The interface, named by package name: the same interface may be reached through another version. */
  private ifaceKey(id: Identifier): string {
    const pkg = this.registry.lookupPackage(id.packageId);
    return `${pkg === undefined ? id.packageId : `#${pkg.metadata.name}`}:${dotted(id.module)}:${dotted(id.name)}`;
  }

  /** Whether `present` upgrades `past` (its variables renamed to past's by `rename`). */
  private upgrades(past: Type, present: Type, rename: ReadonlyMap<string, string> = new Map()): boolean {
    const a = past.tag === 'Syn' ? this.registry.expandSynonyms(past) : past;
    const b = present.tag === 'Syn' ? this.registry.expandSynonyms(present) : present;
    const args = (xs: readonly Type[], ys: readonly Type[]) =>
      xs.length === ys.length && xs.every((x, i) => this.upgrades(x, ys[i]!, rename));
    switch (a.tag) {
      case 'Var':
        return b.tag === 'Var' && (rename.get(b.name) ?? b.name) === a.name && args(a.args, b.args);
      case 'Nat':
        return b.tag === 'Nat' && a.value === b.value;
      case 'Builtin':
        return b.tag === 'Builtin' && a.builtin === b.builtin && args(a.args, b.args);
      case 'Con':
        return b.tag === 'Con' && this.sameTycon(a.tycon, b.tycon) && args(a.args, b.args);
      case 'Struct':
        return (
          b.tag === 'Struct' &&
          a.fields.length === b.fields.length &&
          a.fields.every(
            (f, i) => f.field === b.fields[i]!.field && this.upgrades(f.type, b.fields[i]!.type, rename),
          )
        );
      default:
        // Quantified types are not serializable: not part of what upgrades compare.
        return showType(a) === showType(b);
    }
  }

  /** The same type constructor, possibly of a later version of the same package name. */
  private sameTycon(past: Identifier, present: Identifier): boolean {
    if (dotted(past.module) !== dotted(present.module) || dotted(past.name) !== dotted(present.name))
      return false;
    if (past.packageId === present.packageId) return true;
    const [p, q] = [
      this.registry.lookupPackage(past.packageId),
      this.registry.lookupPackage(present.packageId),
    ];
    if (p === undefined || q === undefined || p.metadata.name !== q.metadata.name) return false;
    if (comparePackageVersions(q.metadata.version, p.metadata.version) < 0)
      fail(
        `dependency ${q.metadata.name} has version ${q.metadata.version} in the upgrading package, older than ` +
          `${p.metadata.version} in the package being upgraded (${showIdentifier(present)})`,
      );
    return true;
  }
}

/**
 * The first incompatibility of `present` as an upgrade of `past` (both in `registry`, with their dependencies),
 * or undefined when it is a valid upgrade.
 */
export function upgradeIncompatibility(
  registry: PackageRegistry,
  past: Package,
  present: Package,
): string | undefined {
  try {
    new UpgradeCheck(registry, past, present).run();
    return undefined;
  } catch (e) {
    if (e instanceof Incompatible) return e.message;
    throw e;
  }
}

/**
 * Checks `pkg` against every other version of its package name in `registry`: it must upgrade each lower version
 * and be upgraded by each higher one, and no other package may have its name and version. Throws
 * `DAR_NOT_VALID_UPGRADE` or `KNOWN_PACKAGE_VERSION` naming the other package and the first incompatibility.
 */
export function validateUpgrades(registry: PackageRegistry, pkg: Package): void {
  if (!isUpgradeable(pkg)) return;
  const describe = (p: Package) => `${p.metadata.name} ${p.metadata.version} (${p.id})`;
  for (const otherId of registry.packageIdsByName(pkg.metadata.name)) {
    if (otherId === pkg.id) continue;
    const other = registry.getPackage(otherId);
    const order = comparePackageVersions(other.metadata.version, pkg.metadata.version);
    if (order === 0)
      throw new WeftError(
        DamlLfErrors.KNOWN_PACKAGE_VERSION,
        `package ${pkg.id} has the name and version of the known package ${describe(other)}`,
        { packageId: pkg.id, otherPackageId: other.id },
      );
    const [past, present] = order < 0 ? [other, pkg] : [pkg, other];
    const why = upgradeIncompatibility(registry, past, present);
    if (why !== undefined)
      throw new WeftError(
        DamlLfErrors.DAR_NOT_VALID_UPGRADE,
        `${describe(present)} is not a valid upgrade of ${describe(past)}: ${why}`,
        { packageId: pkg.id, otherPackageId: other.id },
      );
  }
}
