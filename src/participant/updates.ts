import {
  forEachNode,
  type Identifier,
  type NodeId,
  observersOf,
  type Party,
  type Transaction,
} from '../daml/index.js';
import type { Value } from '../daml/values/index.js';
import type { CompletionRow, DeduplicationPeriod } from './store.js';

/** A contract creation as a party sees it. */
export interface CreatedEvent {
  readonly kind: 'created';
  readonly nodeId: NodeId;
  readonly contractId: string;
  readonly templateId: Identifier;
  readonly packageName: string;
  readonly argument: Value;
  readonly signatories: readonly Party[];
  readonly observers: readonly Party[];
}

/** A choice exercised, as a party sees it. */
export interface ExercisedEvent {
  readonly kind: 'exercised';
  readonly nodeId: NodeId;
  readonly contractId: string;
  readonly templateId: Identifier;
  readonly interfaceId: Identifier | undefined;
  readonly choice: string;
  readonly choiceArgument: Value;
  readonly actingParties: readonly Party[];
  readonly consuming: boolean;
  readonly result: Value | undefined;
}

/** A consuming exercise, for a stakeholder of the contract: the contract left its active contract set. */
export interface ArchivedEvent {
  readonly kind: 'archived';
  readonly nodeId: NodeId;
  readonly contractId: string;
  readonly templateId: Identifier;
}

export type UpdateEvent = CreatedEvent | ExercisedEvent | ArchivedEvent;

/** A committed transaction as one party sees it. */
export interface TransactionUpdate {
  readonly offset: bigint;
  /** The same on every participant: the root hash of the confirmation request. */
  readonly updateId: string;
  /** The synchronizer that sequenced it. */
  readonly synchronizerId: string;
  /** The sequencing time of the confirmation request (µs). */
  readonly recordTime: bigint;
  readonly ledgerTime: bigint;
  readonly workflowId: string;
  /** Set for the acting parties of a command this participant submitted. */
  readonly commandId: string | undefined;
  /** The party's projection of the transaction (node ids of the whole transaction). */
  readonly transaction: Transaction;
  /** The actions in pre-order, without those rolled back; `archived` follows a consuming exercise. */
  readonly events: readonly UpdateEvent[];
}

/** The events of a projection for `party`, in execution order. */
export function eventsOf(tx: Transaction, party: Party): UpdateEvent[] {
  const events: UpdateEvent[] = [];
  forEachNode(tx, (nodeId, node, rolledBack) => {
    if (rolledBack) return;
    switch (node.tag) {
      case 'Create':
        events.push({
          kind: 'created',
          nodeId,
          contractId: node.contractId.coid,
          templateId: node.templateId,
          packageName: node.packageName,
          argument: node.arg,
          signatories: node.signatories,
          observers: observersOf(node),
        });
        return;
      case 'Exercise':
        events.push({
          kind: 'exercised',
          nodeId,
          contractId: node.contractId.coid,
          templateId: node.templateId,
          interfaceId: node.interfaceId,
          choice: node.choice,
          choiceArgument: node.chosenValue,
          actingParties: node.actingParties,
          consuming: node.consuming,
          result: node.exerciseResult,
        });
        if (node.consuming && node.stakeholders.includes(party)) {
          events.push({
            kind: 'archived',
            nodeId,
            contractId: node.contractId.coid,
            templateId: node.templateId,
          });
        }
        return;
      default:
        return;
    }
  });
  return events;
}

/** A command's outcome, for the parties that submitted it. */
export interface Completion {
  /** The offset of the transaction (success) or of the rejection. */
  readonly offset: bigint;
  readonly commandId: string;
  readonly submissionId: string;
  readonly userId: string;
  readonly actAs: readonly Party[];
  readonly status: 'succeeded' | 'failed';
  /** For a failure: the decisive error code (e.g. LOCAL_VERDICT_LOCKED_CONTRACTS). */
  readonly code: string | undefined;
  readonly message: string;
  readonly updateId: string | undefined;
  readonly recordTime: bigint;
  /** The synchronizer the command was routed to. */
  readonly synchronizerId: string;
  /**
   * The deduplication period the participant applied: the command's, or the deduplication window when it gave
   * none; undefined for completions stored before the participant recorded it.
   */
  readonly deduplicationPeriod: DeduplicationPeriod | undefined;
  /** Where the time went, on the submitting participant (only from `submit`, not stored). */
  readonly timings?: PhaseTimings;
}

/** Where the time of one of this participant's own submissions went (ms), for metrics and benchmarks. */
export interface PhaseTimings {
  readonly interpretation: number;
  readonly requestCreation: number;
  /** From sending until the request event came back. */
  readonly sequencing: number;
  /** From the request event until this participant's own validation finished. */
  readonly validation: number;
  /** From the request event until the verdict event. */
  readonly verdict: number;
  /** From the verdict until the commit was durable. */
  readonly commit: number;
}

/** A stored completion as the service API gives it. */
export function completionOf(row: CompletionRow): Completion {
  return {
    offset: row.offset,
    commandId: row.commandId,
    submissionId: row.submissionId,
    userId: row.userId,
    actAs: row.actAs,
    status: row.code === undefined ? 'succeeded' : 'failed',
    code: row.code,
    message: row.message,
    updateId: row.updateId,
    recordTime: row.recordTime,
    synchronizerId: row.synchronizerId,
    deduplicationPeriod: row.deduplicationPeriod,
  };
}
