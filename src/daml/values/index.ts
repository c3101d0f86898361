export {
  checkComparable,
  compareIdentifiers,
  compareTypes,
  compareValues,
  typesEqual,
  valuesEqual,
} from './compare.js';
export {
  type ContractId,
  isAbsoluteContractId,
  isLocalContractId,
  parseContractId,
} from './contract-id.js';
export {
  crash,
  type DamlErrorDetail,
  DamlInterpretationError,
  DamlRuntimeErrors,
  FAILURE_CATEGORY_IDS,
  interpretationError,
} from './errors.js';
export * from './numeric.js';
export {
  type MapNode,
  mapDelete,
  mapEntries,
  mapFromSorted,
  mapInsert,
  mapLookup,
  mapSize,
} from './sorted-map.js';
export { compareText, explodeText, isValidParty, textToCodePoints } from './text.js';
export * from './time.js';
export * from './value.js';
