import { DamlEngineErrors } from '../daml/engine/errors.js';
import type { Identifier, PackageRegistry } from '../daml/index.js';
import { WeftError } from '../errors/index.js';
import type { Identifier as ProtoIdentifier } from '../generated/com/daml/ledger/api/v2/value.js';

/**
 * Daml-LF identifiers in the Ledger API's form (`value.proto`'s `Identifier`: package, dotted module name, dotted
 * entity name). Clients may name the package by id or, for templates and interfaces in commands and filters, as
 * `#<package-name>`; what the participant sends always carries a package id.
 */

function invalid(path: string, message: string): never {
  throw new WeftError(DamlEngineErrors.DAML_COMMAND_INVALID, `${path}: ${message}`, { path });
}

/** A dotted name whose segments are all non-empty and contain no `:` (the separator of the textual form). */
function checkDotted(name: string, path: string, what: string): void {
  if (name === '') invalid(path, `the ${what} is empty`);
  if (name.includes(':') || name.split('.').some((segment) => segment === ''))
    invalid(path, `${JSON.stringify(name)} is not a valid ${what}`);
}

/** The Ledger API form of an identifier (package-id reference). */
export function identifierToProto(id: Identifier): ProtoIdentifier {
  return { packageId: id.packageId, moduleName: id.module.join('.'), entityName: id.name.join('.') };
}

/**
 * `package:Module.Name:Entity.Name`, the textual reference the engine's command preprocessor takes: it resolves a
 * `#<package-name>` package by the submission's package preference, or else to the highest version known.
 * `path` names the identifier in errors (e.g. `commands[0].create.template_id`).
 */
export function identifierToRef(id: ProtoIdentifier | undefined, path: string): string {
  if (id === undefined) return invalid(path, 'the identifier is missing');
  const name = id.packageId.startsWith('#') ? id.packageId.slice(1) : undefined;
  if (id.packageId === '' || name === '') invalid(`${path}.package_id`, 'the package is empty');
  if (id.packageId.includes(':'))
    invalid(`${path}.package_id`, `${JSON.stringify(id.packageId)} is not a package id or #package-name`);
  checkDotted(id.moduleName, `${path}.module_name`, 'module name');
  checkDotted(id.entityName, `${path}.entity_name`, 'entity name');
  return `${id.packageId}:${id.moduleName}:${id.entityName}`;
}

/**
 * The identifier a Ledger API identifier names among the known packages: a `#<package-name>` reference resolves
 * to the highest version of that package (the preprocessor's rule without a package preference).
 */
export function identifierFromProto(
  id: ProtoIdentifier | undefined,
  packages: PackageRegistry,
  path: string,
): Identifier {
  const ref = identifierToRef(id, path);
  try {
    return packages.parseRef(ref);
  } catch (e) {
    if (e instanceof WeftError) return invalid(path, e.message);
    throw e;
  }
}
