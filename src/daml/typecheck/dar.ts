import { type Dar, type DarLimits, readDar } from '../dar/index.js';
import { PackageRegistry } from '../lf/packages.js';
import { validatePackage } from './package.js';
import { validateUpgrades } from './upgrades.js';

/**
 * Validates every package of a DAR against `registry` (already loaded packages) plus the DAR's own packages:
 * type checking (`DAML_LF_TYPE_ERROR`), then smart-contract upgrades against every other version of each package
 * name (`DAR_NOT_VALID_UPGRADE`, `KNOWN_PACKAGE_VERSION`); throws for the first package that fails. `registry` is
 * not modified.
 */
export function validateDar(dar: Dar, registry?: PackageRegistry): void {
  const staging = new PackageRegistry();
  if (registry !== undefined) staging.addAll(registry.packages());
  staging.addAll(dar.packages);
  for (const pkg of dar.packages) validatePackage(staging, pkg.id);
  for (const pkg of dar.packages) validateUpgrades(staging, pkg);
}

/**
 * The upload path: reads a DAR, validates all its packages and only then adds them to `registry` (packages
 * already there keep their validated instance). Throws the reader's or `DAML_LF_TYPE_ERROR` errors, leaving the
 * registry unchanged. `limits` bound what reading the (untrusted) bytes may inflate.
 */
export function loadAndValidateDar(bytes: Uint8Array, registry: PackageRegistry, limits?: DarLimits): Dar {
  const dar = readDar(bytes, limits);
  validateDar(dar, registry);
  registry.addAll(dar.packages);
  return dar;
}
