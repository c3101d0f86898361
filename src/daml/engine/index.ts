export { type BlindingInfo, blindingInfo, type Projection, project } from './blinding.js';
export {
  type ContractLookup,
  type ContractStore,
  type Seeding,
  TransactionBuilder,
} from './builder.js';
export { encodeNode, encodeTransaction, encodeValue, TransactionDecoder } from './codec.js';
export {
  type Command,
  CommandPreprocessor,
  type PreparedCommand,
  type TypedArgument,
} from './commands.js';
export { Engine, type EngineOptions, type Submission, type SubmitRequest } from './engine.js';
export { DamlEngineErrors } from './errors.js';
export { EXAMPLE_CONTRACT_ID, EXAMPLE_PARTY, exampleJson } from './examples.js';
export {
  type CommittedTransaction,
  contractStoreOf,
  InMemoryLedger,
  type InMemoryLedgerOptions,
  type LedgerSubmission,
  suffixTransaction,
} from './ledger.js';
export type { ReinterpretRequest, ReinterpretResult } from './reinterpret.js';
export { renderTransaction, shortId } from './render.js';
export {
  deriveContractDiscriminator,
  deriveNodeSeed,
  deriveTransactionSeed,
  localContractIdV1,
  SEED_BYTES,
} from './seeds.js';
export * from './transaction.js';
export { type Json, type TranslateOptions, ValueTranslator, valueToJson } from './translator.js';
export { type Shape, TypeResolver } from './types.js';
export { exceedsNesting, MAX_VALUE_NESTING, mapContractIds } from './values.js';
