export { archivePayload, decodeArchive, SUPPORTED_LANGUAGE_VERSIONS } from './archive.js';
export * from './ast.js';
export { decodePackage, STABLE_PACKAGE_IDS } from './decode.js';
export {
  type ChoiceInfo,
  comparePackageVersions,
  type DefinitionRef,
  type InterfaceInstance,
  PackageRegistry,
  showIdentifier,
  substitute,
} from './packages.js';
