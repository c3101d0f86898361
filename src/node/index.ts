/** The base every Weft node stands on: storage, keys and identity, logging, metrics and health endpoints. */
export { loadOrCreateIdentity, memberOf, type NodeIdentity, type NodeKind } from './identity.js';
export { identityTransactions } from './identity-transactions.js';
export {
  type BaseNodeConfig,
  countProcessWork,
  NodeRuntime,
  type NodeRuntimeOptions,
  storageConfigOf,
} from './runtime.js';
