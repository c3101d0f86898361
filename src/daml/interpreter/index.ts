export type { ChoiceCode, InterfaceCode, PackageLookup, TemplateCode } from './compiler.js';
export type {
  ContractInstance,
  ContractMetadata,
  ExerciseEvent,
  FetchEvent,
  LedgerHost,
} from './host.js';
export {
  DEFAULT_STEP_BUDGET,
  Interpreter,
  type InterpreterOptions,
  type RunOptions,
} from './interpreter.js';
export { ARITHMETIC_ERROR } from './stable.js';
