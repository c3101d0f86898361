import { CATEGORIES } from '../../errors/index.js';
import type {
  ArchivedEvent,
  CreatedEvent,
  Event,
  ExercisedEvent,
} from '../../generated/com/daml/ledger/api/v2/event.js';
import type { OffsetCheckpoint as ProtoOffsetCheckpoint } from '../../generated/com/daml/ledger/api/v2/offset_checkpoint.js';
import type { Transaction } from '../../generated/com/daml/ledger/api/v2/transaction.js';
import type {
  InterfaceView,
  LedgerArchivedEvent,
  LedgerCreatedEvent,
  LedgerEvent,
  LedgerExercisedEvent,
  LedgerTransaction,
  OffsetCheckpoint,
} from '../../participant/read-model.js';
import { identifierToProto } from '../identifiers.js';
import { recordToProto, valueToProto } from '../values.js';
import { timestampToProto } from './protobuf-time.js';

/**
 * The read model's transactions and events as Ledger API messages (`transaction.proto`, `event.proto`). Shared by
 * the update, state and event query services and by SubmitAndWaitForTransaction.
 */

function viewToProto(view: InterfaceView, verbose: boolean): CreatedEvent['interfaceViews'][number] {
  if (view.error === undefined) {
    return {
      interfaceId: identifierToProto(view.interfaceId),
      viewStatus: { code: 0, message: '', details: [] },
      viewValue: recordToProto(view.view, verbose),
    };
  }
  return {
    interfaceId: identifierToProto(view.interfaceId),
    viewStatus: { code: CATEGORIES[view.error.category].grpc, message: view.error.toString(), details: [] },
  };
}

export function createdEventToProto(e: LedgerCreatedEvent, verbose: boolean): CreatedEvent {
  return {
    offset: e.offset,
    nodeId: e.nodeId,
    contractId: e.contractId,
    templateId: identifierToProto(e.templateId),
    createArguments: recordToProto(e.argument, verbose),
    createdEventBlob: e.blob ?? new Uint8Array(0),
    interfaceViews: e.interfaceViews.map((v) => viewToProto(v, verbose)),
    witnessParties: [...e.witnesses],
    signatories: [...e.signatories],
    observers: [...e.observers],
    createdAt: timestampToProto(e.createdAt),
    packageName: e.packageName,
    acsDelta: e.acsDelta,
    // Weft does not re-home contracts to other package versions: the creating package represents them.
    representativePackageId: e.templateId.packageId,
  };
}

export function archivedEventToProto(e: LedgerArchivedEvent): ArchivedEvent {
  return {
    offset: e.offset,
    nodeId: e.nodeId,
    contractId: e.contractId,
    templateId: identifierToProto(e.templateId),
    witnessParties: [...e.witnesses],
    packageName: e.packageName,
    implementedInterfaces: e.implementedInterfaces.map(identifierToProto),
  };
}

export function exercisedEventToProto(e: LedgerExercisedEvent, verbose: boolean): ExercisedEvent {
  return {
    offset: e.offset,
    nodeId: e.nodeId,
    contractId: e.contractId,
    templateId: identifierToProto(e.templateId),
    ...(e.interfaceId ? { interfaceId: identifierToProto(e.interfaceId) } : {}),
    choice: e.choice,
    choiceArgument: valueToProto(e.choiceArgument, verbose),
    actingParties: [...e.actingParties],
    consuming: e.consuming,
    witnessParties: [...e.witnesses],
    lastDescendantNodeId: e.lastDescendantNodeId,
    ...(e.result ? { exerciseResult: valueToProto(e.result, verbose) } : {}),
    packageName: e.packageName,
    implementedInterfaces: e.implementedInterfaces.map(identifierToProto),
    acsDelta: e.acsDelta,
  };
}

export function eventToProto(e: LedgerEvent, verbose: boolean): Event {
  switch (e.kind) {
    case 'created':
      return { event: { oneofKind: 'created', created: createdEventToProto(e, verbose) } };
    case 'archived':
      return { event: { oneofKind: 'archived', archived: archivedEventToProto(e) } };
    case 'exercised':
      return { event: { oneofKind: 'exercised', exercised: exercisedEventToProto(e, verbose) } };
  }
}

/** A transaction of the read model as the Ledger API's `Transaction`. */
export function transactionToProto(tx: LedgerTransaction, verbose: boolean): Transaction {
  return {
    updateId: tx.updateId,
    commandId: tx.commandId,
    workflowId: tx.workflowId,
    effectiveAt: timestampToProto(tx.effectiveAt),
    events: tx.events.map((e) => eventToProto(e, verbose)),
    offset: tx.offset,
    synchronizerId: tx.synchronizerId,
    recordTime: timestampToProto(tx.recordTime),
  };
}

/** An offset checkpoint of an update or completion stream as the Ledger API's `OffsetCheckpoint`. */
export function offsetCheckpointToProto(c: OffsetCheckpoint): ProtoOffsetCheckpoint {
  return {
    offset: c.offset,
    synchronizerTimes: c.synchronizerTimes.map((s) => ({
      synchronizerId: s.synchronizerId,
      recordTime: timestampToProto(s.recordTime),
    })),
  };
}
