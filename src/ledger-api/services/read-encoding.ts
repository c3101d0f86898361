import { WireType } from '@protobuf-ts/runtime';
import { CATEGORIES } from '../../errors/index.js';
import {
  ArchivedEvent,
  CreatedEvent,
  type Event,
  ExercisedEvent,
} from '../../generated/com/daml/ledger/api/v2/event.js';
import type { OffsetCheckpoint as ProtoOffsetCheckpoint } from '../../generated/com/daml/ledger/api/v2/offset_checkpoint.js';
import { Transaction } from '../../generated/com/daml/ledger/api/v2/transaction.js';
import type {
  EventEncoder,
  IndexedLedgerTransaction,
  InterfaceView,
  LedgerArchivedEvent,
  LedgerCreatedEvent,
  LedgerEvent,
  LedgerExercisedEvent,
  LedgerTransaction,
  OffsetCheckpoint,
} from '../../participant/read-model.js';
import { FAST_WRITE_OPTIONS, FastBinaryWriter, varint32Size, writeVarint32 } from '../../wire/index.js';
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

/**
 * The participant's pre-encoded events (see `indexTransaction`): each event as the update streams serve it in the
 * verbose encoding, its reader's fields empty (`witness_parties`, `acs_delta`, blob, interface data).
 */
export const EVENT_ENCODER: EventEncoder = {
  created: (e) => CreatedEvent.toBinary(createdEventToProto(e, true), FAST_WRITE_OPTIONS),
  exercised: (e) => ExercisedEvent.toBinary(exercisedEventToProto(e, true), FAST_WRITE_OPTIONS),
  archived: (e) => ArchivedEvent.toBinary(archivedEventToProto(e), FAST_WRITE_OPTIONS),
};

/** Field numbers of `Event`'s oneof, and of each event's `witness_parties` and `acs_delta` (event.proto). */
const EVENT_FIELDS = {
  created: { event: 1, witnessParties: 9, acsDelta: 14 },
  archived: { event: 2, witnessParties: 5, acsDelta: undefined },
  exercised: { event: 3, witnessParties: 10, acsDelta: 15 },
} as const;
/** `GetUpdatesResponse.transaction` and `Transaction.events`. */
const RESPONSE_TRANSACTION = 1;
const TRANSACTION_EVENTS = 5;
const WRITE_OPTIONS = { writeUnknownFields: false, writerFactory: FAST_WRITE_OPTIONS.writerFactory };

/**
 * A `GetUpdatesResponse` with the transaction of pre-encoded events, in its protobuf encoding, without decoding or
 * re-encoding them: protobuf decodes a message from its fields in any order, so each event is its stored bytes
 * followed by the reader's fields (witnesses, `acs_delta` when true), and the transaction is its header fields
 * followed by the events. It decodes to what {@link transactionToProto} gives for the same transaction. Sized
 * first and written once into a buffer of its own (not a view of a shared one: a cache keeps it as it is).
 */
export function indexedUpdateResponse(tx: IndexedLedgerTransaction): Uint8Array {
  const header = Transaction.toBinary(
    {
      updateId: tx.updateId,
      commandId: tx.commandId,
      workflowId: tx.workflowId,
      effectiveAt: timestampToProto(tx.effectiveAt),
      events: [],
      offset: tx.offset,
      synchronizerId: tx.synchronizerId,
      recordTime: timestampToProto(tx.recordTime),
    },
    WRITE_OPTIONS,
  );
  const n = tx.events.length;
  const witnessFields: Uint8Array[] = new Array(n);
  const innerSizes: number[] = new Array(n);
  let txSize = header.length;
  for (let i = 0; i < n; i++) {
    const e = tx.events[i]!;
    const fields = EVENT_FIELDS[e.kind];
    witnessFields[i] = witnessField(e.witnesses, fields.witnessParties);
    const inner = e.bytes.length + witnessFields[i]!.length + (e.acsDelta && fields.acsDelta ? 2 : 0);
    innerSizes[i] = inner;
    const event = 1 + varint32Size(inner) + inner;
    txSize += 1 + varint32Size(event) + event;
  }
  const out = Buffer.allocUnsafeSlow(1 + varint32Size(txSize) + txSize);
  out[0] = tag(RESPONSE_TRANSACTION);
  let p = writeVarint32(out, 1, txSize);
  out.set(header, p);
  p += header.length;
  for (let i = 0; i < n; i++) {
    const e = tx.events[i]!;
    const fields = EVENT_FIELDS[e.kind];
    const inner = innerSizes[i]!;
    out[p++] = tag(TRANSACTION_EVENTS);
    p = writeVarint32(out, p, 1 + varint32Size(inner) + inner);
    out[p++] = tag(fields.event);
    p = writeVarint32(out, p, inner);
    out.set(e.bytes, p);
    p += e.bytes.length;
    out.set(witnessFields[i]!, p);
    p += witnessFields[i]!.length;
    if (e.acsDelta && fields.acsDelta) {
      out[p++] = (fields.acsDelta << 3) | WireType.Varint;
      out[p++] = 1;
    }
  }
  if (p !== out.length) throw new Error(`indexedUpdateResponse wrote ${p} bytes of ${out.length}`);
  return out;
}

/** The tag of a length-delimited field (field numbers below 16: one byte). */
const tag = (field: number) => (field << 3) | WireType.LengthDelimited;

/**
 * The `witness_parties` fields of an event for a set of witnesses: the read model shares one witnesses array
 * among the events a stream selects for the same parties, so each is encoded once per field number.
 */
const witnessFieldsOf = new WeakMap<readonly string[], Map<number, Uint8Array>>();
function witnessField(witnesses: readonly string[], field: number): Uint8Array {
  let byField = witnessFieldsOf.get(witnesses);
  if (byField === undefined) {
    byField = new Map();
    witnessFieldsOf.set(witnesses, byField);
  }
  let bytes = byField.get(field);
  if (bytes === undefined) {
    const w = new FastBinaryWriter();
    for (const p of witnesses) w.tag(field, WireType.LengthDelimited).string(p);
    bytes = w.finish();
    byField.set(field, bytes);
  }
  return bytes;
}
