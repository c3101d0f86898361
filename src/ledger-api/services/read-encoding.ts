import type { Identifier as LfIdentifier } from '../../daml/index.js';
import {
  type Value as LfValue,
  listToArray,
  mapEntries,
  numericToScaledString,
} from '../../daml/values/index.js';
import { CATEGORIES } from '../../errors/index.js';
import type {
  ArchivedEvent,
  CreatedEvent,
  Event,
  ExercisedEvent,
} from '../../generated/com/daml/ledger/api/v2/event.js';
import type { Transaction } from '../../generated/com/daml/ledger/api/v2/transaction.js';
import type {
  Identifier,
  Record as ProtoRecord,
  Value,
} from '../../generated/com/daml/ledger/api/v2/value.js';
import type { Timestamp } from '../../generated/google/protobuf/timestamp.js';
import type {
  InterfaceView,
  LedgerArchivedEvent,
  LedgerCreatedEvent,
  LedgerEvent,
  LedgerExercisedEvent,
  LedgerTransaction,
} from '../../participant/read-model.js';

/**
 * The read model's transactions and events as Ledger API messages (`transaction.proto`, `event.proto`). Shared by
 * the update, state and event query services and by SubmitAndWaitForTransaction.
 */

export function identifierToProto(id: LfIdentifier): Identifier {
  return { packageId: id.packageId, moduleName: id.module.join('.'), entityName: id.name.join('.') };
}

/** µs since the epoch as a protobuf Timestamp. */
export function timestampToProto(micros: bigint): Timestamp {
  const seconds = micros / 1_000_000n;
  const rest = micros % 1_000_000n;
  return rest < 0n
    ? { seconds: seconds - 1n, nanos: Number(rest + 1_000_000n) * 1000 }
    : { seconds, nanos: Number(rest) * 1000 };
}

/**
 * A Daml value as a Ledger API value; `verbose` adds record labels and type ids (Canton's `verbose`).
 * Local to the read services until the shared value translation (`src/ledger-api/values.ts`) lands.
 */
export function valueToProto(v: LfValue, verbose: boolean): Value {
  switch (v.kind) {
    case 'Unit':
      return { sum: { oneofKind: 'unit', unit: {} } };
    case 'Bool':
      return { sum: { oneofKind: 'bool', bool: v.value } };
    case 'Int64':
      return { sum: { oneofKind: 'int64', int64: v.value.toString() } };
    case 'Numeric':
      return { sum: { oneofKind: 'numeric', numeric: numericToScaledString(v) } };
    case 'Text':
      return { sum: { oneofKind: 'text', text: v.value } };
    case 'Date':
      return { sum: { oneofKind: 'date', date: v.days } };
    case 'Timestamp':
      return { sum: { oneofKind: 'timestamp', timestamp: v.micros.toString() } };
    case 'Party':
      return { sum: { oneofKind: 'party', party: v.value } };
    case 'ContractId':
      return { sum: { oneofKind: 'contractId', contractId: v.cid.coid } };
    case 'Record':
      return { sum: { oneofKind: 'record', record: recordToProto(v, verbose) } };
    case 'Variant':
      return {
        sum: {
          oneofKind: 'variant',
          variant: {
            ...(verbose ? { variantId: identifierToProto(v.tycon) } : {}),
            constructor: v.constructor,
            value: valueToProto(v.value, verbose),
          },
        },
      };
    case 'Enum':
      return {
        sum: {
          oneofKind: 'enum',
          enum: { ...(verbose ? { enumId: identifierToProto(v.tycon) } : {}), constructor: v.constructor },
        },
      };
    case 'List':
      return {
        sum: { oneofKind: 'list', list: { elements: listToArray(v).map((e) => valueToProto(e, verbose)) } },
      };
    case 'Optional':
      return {
        sum: {
          oneofKind: 'optional',
          optional: v.value === undefined ? {} : { value: valueToProto(v.value, verbose) },
        },
      };
    case 'TextMap':
      return {
        sum: {
          oneofKind: 'textMap',
          textMap: {
            entries: mapEntries(v.map).map((e) => ({
              key: e.key.kind === 'Text' ? e.key.value : '',
              value: valueToProto(e.value, verbose),
            })),
          },
        },
      };
    case 'GenMap':
      return {
        sum: {
          oneofKind: 'genMap',
          genMap: {
            entries: mapEntries(v.map).map((e) => ({
              key: valueToProto(e.key, verbose),
              value: valueToProto(e.value, verbose),
            })),
          },
        },
      };
    default:
      // Structs, Any, type reps, functions and tokens never appear in contract or choice values.
      throw new Error(`a ${v.kind} value has no Ledger API form`);
  }
}

export function recordToProto(v: LfValue, verbose: boolean): ProtoRecord {
  if (v.kind !== 'Record') throw new Error(`expected a record, got a ${v.kind} value`);
  return {
    ...(verbose ? { recordId: identifierToProto(v.tycon) } : {}),
    fields: v.values.map((value, i) => ({
      label: verbose ? v.fields[i]! : '',
      value: valueToProto(value, verbose),
    })),
  };
}

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
