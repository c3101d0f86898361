import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import type { Package, PackageId } from '../lf/ast.js';
import type { PackageRegistry } from '../lf/packages.js';
import { PackageChecker, type TypeCheckError } from './checker.js';

/*
 * Package validation: every module of a package is type checked, one module at a time (module bodies decode on
 * first use), against a registry holding the package and its dependencies. Results are cached per decoded package
 * (packages are immutable), unless a dependency was missing: that result depends on the registry.
 */

const results = new WeakMap<Package, readonly TypeCheckError[]>();

/** All validation errors of a package (empty when it is well-formed); the package must be in the registry. */
export function checkPackage(registry: PackageRegistry, packageId: PackageId): readonly TypeCheckError[] {
  const pkg = registry.getPackage(packageId);
  const cached = results.get(pkg);
  if (cached !== undefined) return cached;
  const checker = new PackageChecker(registry, pkg);
  for (const name of pkg.moduleNames) checker.checkModule(pkg.module(name)!);
  checker.checkPackageLevel();
  const errors = Object.freeze([...checker.errors]);
  if (!checker.incomplete) results.set(pkg, errors);
  return errors;
}

/** Throws `DAML_LF_TYPE_ERROR` naming the package and its first error if the package does not type-check. */
export function validatePackage(registry: PackageRegistry, packageId: PackageId): void {
  const errors = checkPackage(registry, packageId);
  const first = errors[0];
  if (first === undefined) return;
  const pkg = registry.getPackage(packageId);
  const more =
    errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  throw new WeftError(
    DamlLfErrors.DAML_LF_TYPE_ERROR,
    `package ${packageId} (${pkg.metadata.name} ${pkg.metadata.version}) fails type checking: ` +
      `${formatTypeCheckError(first)}${more}`,
    { packageId, definition: first.definition },
  );
}

/** `Module:name (line L, column C): message`, the location shown 1-based when known. */
export function formatTypeCheckError(e: TypeCheckError): string {
  if (e.definition === undefined) return e.message;
  const loc = e.location;
  const definitionModule = e.definition.slice(0, e.definition.indexOf(':'));
  const where =
    loc === undefined
      ? ''
      : ` (line ${loc.startLine + 1}, column ${loc.startCol + 1}` +
        `${loc.module !== undefined && loc.module.module.join('.') !== definitionModule ? ` of ${loc.module.module.join('.')}` : ''})`;
  return `${e.definition}${where}: ${e.message}`;
}
