import { crash } from '../daml/values/errors.js';
import { listToArray, mapEntries, numericToScaledString, type Value } from '../daml/values/index.js';
import type {
  Record as ProtoRecord,
  Value as ProtoValue,
} from '../generated/com/daml/ledger/api/v2/value.js';
import { identifierToProto } from './identifiers.js';

/**
 * Daml values in the Ledger API's protobuf encoding (`value.proto`). Decoding is type-directed and lives with the
 * JSON decoding in the engine's `ValueTranslator.fromProto`, so both encodings make the same checks (command
 * arguments reach it through the preprocessor's typed arguments); encoding needs no types, as run-time values
 * carry their record field names and type constructors.
 */

/**
 * The Ledger API form of a value. `verbose` (Canton's flag of the same name) sets record labels and record,
 * variant and enum ids; without it records are positional and carry no ids.
 */
export function valueToProto(v: Value, verbose: boolean): ProtoValue {
  switch (v.kind) {
    case 'Unit':
      return { sum: { oneofKind: 'unit', unit: {} } };
    case 'Bool':
      return { sum: { oneofKind: 'bool', bool: v.value } };
    case 'Int64':
      return { sum: { oneofKind: 'int64', int64: v.value.toString() } };
    case 'Numeric':
      // Canton prints numerics at their full scale ("12.5000000000", "7." at scale 0).
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
              key: e.key.kind === 'Text' ? e.key.value : crash(`a TextMap key is a ${e.key.kind} value`),
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
      // Structs, Any, type representations, functions and tokens are not serializable: no contract or choice
      // value holds one, so reaching this is a bug.
      return crash(`a ${v.kind} value has no Ledger API form`);
  }
}

/** The Ledger API form of a record value (contract arguments, interface views). */
export function recordToProto(v: Value, verbose: boolean): ProtoRecord {
  if (v.kind !== 'Record') return crash(`expected a record, got a ${v.kind} value`);
  return {
    ...(verbose ? { recordId: identifierToProto(v.tycon) } : {}),
    fields: v.values.map((value, i) => ({
      label: verbose ? v.fields[i]! : '',
      value: valueToProto(value, verbose),
    })),
  };
}
