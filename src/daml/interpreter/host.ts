import type { Identifier } from '../lf/ast.js';
import type { ContractId } from '../values/contract-id.js';
import type { Value } from '../values/value.js';

/**
 * The ledger side of an Update, implemented by the engine that builds the transaction. The interpreter evaluates
 * all Daml code (preconditions, signatories, observers, controllers, choice bodies) and calls the host for what
 * touches ledger state, in the order the reference engine does. The callbacks of one run form a well-nested
 * sequence from which the host builds the transaction tree:
 *
 * - `create` → a Create node;
 * - `fetch` → a Fetch node;
 * - `beginExercise` … (children) … `endExercise` → an Exercise node, or `abortExercise` when an exception
 *   unwinds through it;
 * - `beginTry` … `endTry` → the children stay as they are; `beginTry` … `rollbackTry` → the children made since
 *   `beginTry` go under a Rollback node (the exception was caught);
 * - `getTime` and `ledgerTimeLt` → the time constraints of the transaction.
 *
 * Host callbacks signal failures (contract not active, authorization failure, limits) by throwing: a thrown
 * `DamlInterpretationError` (detail kind `Ledger`) ends the run and cannot be caught by Daml code.
 */
export interface LedgerHost {
  /**
   * The contract `cid` (created earlier in this transaction, or on the ledger), or a promise of it when it must
   * be loaded (the interpreter then suspends; see `Interpreter.runUpdateAsync`). Must throw if it is unknown or
   * not active (archived, or consumed earlier in this transaction). `arg` must be the runtime value of the
   * contract argument, typed by `templateId` (records carry their type and field names).
   */
  lookupContract(cid: ContractId): ContractInstance | Promise<ContractInstance>;
  /** Records a Create node for a contract whose metadata has been evaluated; returns its new (local) id. */
  create(contract: ContractMetadata): ContractId;
  /** Records a Fetch node (a `fetch` or `fetch_interface`, which read the contract's metadata). */
  fetch(event: FetchEvent): void;
  /**
   * Opens an Exercise node; children follow until the matching `endExercise`/`abortExercise`. For a consuming
   * choice the host must treat the contract as inactive from now on (before the choice body runs).
   */
  beginExercise(event: ExerciseEvent): void;
  endExercise(result: Value): void;
  abortExercise(): void;
  /** The ledger time, in microseconds since the epoch (`getTime`). */
  getTime(): bigint;
  /** Whether the ledger time is before `time` (`ledgerTimeLT`); the host narrows its time bounds accordingly. */
  ledgerTimeLt(time: bigint): boolean;
  beginTry(): void;
  endTry(): void;
  rollbackTry(): void;
}

export interface ContractInstance {
  readonly templateId: Identifier;
  readonly arg: Value;
}

/** A contract with its evaluated metadata (parties deduplicated and sorted). */
export interface ContractMetadata {
  readonly templateId: Identifier;
  readonly arg: Value;
  readonly signatories: readonly string[];
  /** The evaluated `observer` clause (may overlap the signatories). */
  readonly observers: readonly string[];
}

export interface FetchEvent {
  readonly contractId: ContractId;
  /** Set for `fetch_interface`. */
  readonly interfaceId: Identifier | undefined;
  readonly contract: ContractMetadata;
}

export interface ExerciseEvent {
  readonly contractId: ContractId;
  /** Set when exercised through an interface. */
  readonly interfaceId: Identifier | undefined;
  readonly choice: string;
  readonly consuming: boolean;
  /** The choice controllers: the acting parties. */
  readonly controllers: readonly string[];
  readonly choiceObservers: readonly string[];
  readonly choiceArgument: Value;
  readonly contract: ContractMetadata;
}
