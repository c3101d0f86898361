/**
 * The typed API a trigger is written against, after Daml's high-level triggers (`Daml.Trigger`): the templates it
 * registers for, `initialize` over the party's active contracts, `updateState` on every transaction, completion and
 * heartbeat, and `rule`, which reads the active contracts (without those its commands in flight consume) and emits
 * commands. A trigger package is an ES module whose named exports are triggers.
 */
import { CommonErrors, WeftError } from '../errors/index.js';
import type { Command } from '../generated/com/daml/ledger/api/v2/commands.js';
import type { Completion } from '../generated/com/daml/ledger/api/v2/completion.js';
import type { Transaction } from '../generated/com/daml/ledger/api/v2/transaction.js';
import type { Record as ProtoRecord, Value } from '../generated/com/daml/ledger/api/v2/value.js';

export type { Command, Value };

/** An active contract as a trigger sees it. */
export interface TriggerContract {
  readonly contractId: string;
  /** `packageId:Module:Entity`. */
  readonly templateId: string;
  /** The template's package name (what `#name:Module:Entity` references resolve by). */
  readonly packageName: string;
  /** The create arguments as Canton's LF JSON (records by label), for reading. */
  readonly payload: Record<string, unknown>;
  /** The create arguments as the Ledger API delivered them, to pass back in commands unchanged. */
  readonly createArguments: ProtoRecord | undefined;
  readonly signatories: readonly string[];
  readonly observers: readonly string[];
}

/** The party's active contracts of the registered templates. */
export interface ActiveContracts {
  /** Every contract, or those of one template (`#package-name:Module:Entity` or `packageId:Module:Entity`). */
  contracts(template?: string): TriggerContract[];
  get(contractId: string): TriggerContract | undefined;
}

/** What updateState is told about, as Daml's `Message`: a transaction, a completion, or a heartbeat. */
export type TriggerMessage =
  | { readonly kind: 'transaction'; readonly transaction: Transaction }
  | { readonly kind: 'completion'; readonly completion: Completion; readonly ours: boolean }
  | { readonly kind: 'heartbeat' };

export interface RuleContext<S> {
  readonly party: string;
  readonly state: S;
  /** The active contracts, without those a command in flight named as consumed (Daml's pending contracts). */
  readonly acs: ActiveContracts;
  /** Ledger time as the trigger service's clock reads it. */
  readonly now: Date;
  /**
   * Submits `commands` as one transaction acting as the party, and hides `consumes` from the rule until the
   * command completes (Daml's `emitCommands cmds pending`): a rule never resubmits what is in flight.
   */
  emit(commands: readonly Command[], consumes?: readonly string[]): void;
}

export interface Trigger<S = unknown> {
  /** Templates whose contracts the trigger tracks (`#package-name:Module:Entity` or `packageId:Module:Entity`). */
  readonly registeredTemplates: readonly string[];
  /** Heartbeat period in milliseconds (Daml's `heartbeat`); absent: no heartbeats. */
  readonly heartbeatMs?: number;
  initialize(acs: ActiveContracts, party: string): S;
  updateState?(state: S, message: TriggerMessage, acs: ActiveContracts): S;
  /** Runs after initialize and after every message; returns the new state, or nothing to keep it. */
  rule(context: RuleContext<S>): S | undefined;
}

/** Identity helper that types a trigger's state (`export const t = trigger({ … })`). */
export function trigger<S>(t: Trigger<S>): Trigger<S> {
  return t;
}

/** Builders of Ledger API values and commands, for rules (records are labelled, as verbose values are). */
export const ledger = {
  unit: (): Value => ({ sum: { oneofKind: 'unit', unit: {} } }),
  bool: (b: boolean): Value => ({ sum: { oneofKind: 'bool', bool: b } }),
  int64: (n: bigint | number): Value => ({ sum: { oneofKind: 'int64', int64: String(n) } }),
  text: (s: string): Value => ({ sum: { oneofKind: 'text', text: s } }),
  party: (p: string): Value => ({ sum: { oneofKind: 'party', party: p } }),
  numeric: (n: string): Value => ({ sum: { oneofKind: 'numeric', numeric: n } }),
  contractId: (c: string): Value => ({ sum: { oneofKind: 'contractId', contractId: c } }),
  /** Microseconds since the epoch from a Date. */
  timestamp: (d: Date): Value => ({
    sum: { oneofKind: 'timestamp', timestamp: String(BigInt(d.getTime()) * 1000n) },
  }),
  optional: (v: Value | undefined): Value => ({
    sum: { oneofKind: 'optional', optional: v === undefined ? {} : { value: v } },
  }),
  list: (vs: readonly Value[]): Value => ({ sum: { oneofKind: 'list', list: { elements: [...vs] } } }),
  textMap: (entries: Readonly<Record<string, Value>>): Value => ({
    sum: {
      oneofKind: 'textMap',
      textMap: { entries: Object.entries(entries).map(([key, value]) => ({ key, value })) },
    },
  }),
  record: (fields: Readonly<Record<string, Value>>): Value => ({
    sum: { oneofKind: 'record', record: recordOf(fields) },
  }),
  /** A Daml tuple `(a, b)` (`DA.Types:Tuple2`, fields `_1`, `_2`). */
  tuple2: (a: Value, b: Value): Value => ({
    sum: { oneofKind: 'record', record: recordOf({ _1: a, _2: b }) },
  }),
  /** Exercise `choice` of the contract; `templateId` may be an interface id. */
  exercise: (templateId: string, contractId: string, choice: string, argument: Value): Command => ({
    command: {
      oneofKind: 'exercise',
      exercise: { templateId: identifier(templateId), contractId, choice, choiceArgument: argument },
    },
  }),
  create: (templateId: string, fields: Readonly<Record<string, Value>>): Command => ({
    command: {
      oneofKind: 'create',
      create: { templateId: identifier(templateId), createArguments: recordOf(fields) },
    },
  }),
};

function recordOf(fields: Readonly<Record<string, Value>>): ProtoRecord {
  return { fields: Object.entries(fields).map(([label, value]) => ({ label, value })) };
}

/** `pkg:Module.Path:Entity` (pkg a package id or `#name`) as a Ledger API identifier. */
export function identifier(id: string): { packageId: string; moduleName: string; entityName: string } {
  const [packageId, moduleName, entityName, ...rest] = id.split(':');
  if (!packageId || !moduleName || !entityName || rest.length > 0) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `'${id}' is not a template id (package:Module:Entity)`,
    );
  }
  return { packageId, moduleName, entityName };
}
