export type { TypeCheckError } from './checker.js';
export { loadAndValidateDar, validateDar } from './dar.js';
export { checkPackage, formatTypeCheckError, validatePackage } from './package.js';
export { alphaEquivalent, showKind, showType } from './types.js';
export { upgradeIncompatibility, validateUpgrades } from './upgrades.js';
