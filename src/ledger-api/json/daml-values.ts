import { DamlEngineErrors, type PackageRegistry, type Type, type ValueTranslator } from '../../daml/index.js';
import { formatDate, formatTimestamp } from '../../daml/values/time.js';
import { isWeftError, WeftError } from '../../errors/index.js';
import type {
  Record as ProtoRecord,
  Value as ProtoValue,
} from '../../generated/com/daml/ledger/api/v2/value.js';
import { OwnBytesReader } from '../../wire/index.js';
import { valueToProto } from '../values.js';
import { type DamlValueField, type DamlValues, identifierToString } from './codec.js';

/** What the JSON API needs to type the Daml values of commands: the participant's packages and its translator. */
export interface DamlTypes {
  readonly packages: PackageRegistry;
  readonly translator: ValueTranslator;
}

const V2 = 'com.daml.ledger.api.v2';

interface ProtoId {
  readonly packageId: string;
  readonly moduleName: string;
  readonly entityName: string;
}

function invalid(path: string, message: string): never {
  throw new WeftError(DamlEngineErrors.DAML_COMMAND_INVALID, `${path}: ${message}`, { path });
}

/**
 * Daml values in Canton's LF JSON (`lf-value-specification`), for the JSON codec. Input is type-directed, as
 * Canton's: the template (and choice) the command names gives the type, and the engine's ValueTranslator checks
 * the JSON against it (so the JSON API accepts exactly what the engine does), then the value becomes the proto
 * Value the handlers take. Output reads the proto Value the handlers return, whose records carry their labels
 * (the JSON API always asks for verbose values).
 */
export function damlValues(types: DamlTypes): DamlValues {
  const tcon = (id: ProtoId, path: string): Type => ({ tag: 'Con', tycon: resolve(id, path), args: [] });
  const resolve = (id: ProtoId | undefined, path: string) => {
    if (id === undefined) return invalid(path, 'the template id is missing');
    try {
      return types.packages.parseRef(identifierToString(id));
    } catch (e) {
      if (isWeftError(e)) return invalid(path, e.message);
      throw e;
    }
  };
  const choiceArgument = (id: ProtoId | undefined, choice: string, path: string): Type => {
    const ref = resolve(id, path);
    const own = types.packages.lookupChoice(ref, choice);
    if (own !== undefined) return own.choice.argBinder.type;
    // A template's inherited interface choice, as the command preprocessor resolves it.
    const tpl = types.packages.lookupTemplate(ref);
    const inherited = (tpl?.implements ?? []).flatMap((i) => {
      const c = types.packages.lookupInterface(i.iface)?.choices.get(choice);
      return c === undefined ? [] : [c];
    });
    if (inherited.length === 1) return inherited[0]!.argBinder.type;
    return invalid(path, `${identifierToString(id!)} has no choice ${JSON.stringify(choice)}`);
  };

  const typeOf = (at: DamlValueField, path: string): Type => {
    const m = at.decoded as { templateId?: ProtoId; choice?: string };
    switch (`${at.message}.${at.field}`) {
      case `${V2}.CreateCommand.create_arguments`:
      case `${V2}.CreateAndExerciseCommand.create_arguments`:
        return tcon(m.templateId ?? invalid(path, 'the template id is missing'), path);
      case `${V2}.ExerciseCommand.choice_argument`:
      case `${V2}.CreateAndExerciseCommand.choice_argument`:
        return choiceArgument(m.templateId, m.choice ?? '', path);
      case `${V2}.ExerciseByKeyCommand.contract_key`:
      case `${V2}.ExerciseByKeyCommand.choice_argument`:
      case `${V2}.PrefetchContractKey.contract_key`:
        return invalid(path, 'contract keys are not supported by this participant (Daml-LF 2.1 has none)');
      default:
        return invalid(path, `a Daml value is not accepted in ${at.message}.${at.field}`);
    }
  };

  return {
    fromJson(json, at, path, asRecord) {
      const value = types.translator.fromJson(json, typeOf(at, path), path);
      const proto = valueToProto(value, true);
      if (!asRecord) return proto;
      if (proto.sum.oneofKind !== 'record') return invalid(path, 'expected a record');
      return proto.sum.record;
    },
    toJson(value, isRecord) {
      if (value instanceof Uint8Array) {
        const reader = new OwnBytesReader(value);
        return isRecord ? readRecord(reader, value.length) : readValue(reader, value.length, false);
      }
      return isRecord ? recordToJson(value as ProtoRecord) : protoToJson(value as ProtoValue);
    },
  };
}

function recordToJson(r: ProtoRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  r.fields.forEach((f, i) => {
    out[f.label === '' ? String(i) : f.label] = f.value === undefined ? {} : protoToJson(f.value);
  });
  return out;
}

/** Canton's LF JSON of a proto Value (untyped: the value's own shape and labels say everything needed). */
export function protoToJson(v: ProtoValue): unknown {
  const s = v.sum;
  switch (s.oneofKind) {
    case 'unit':
      return {};
    case 'bool':
      return s.bool;
    case 'int64':
      return s.int64;
    case 'numeric':
      return s.numeric;
    case 'text':
      return s.text;
    case 'party':
      return s.party;
    case 'contractId':
      return s.contractId;
    case 'date':
      return formatDate(s.date);
    case 'timestamp':
      return formatTimestamp(BigInt(s.timestamp));
    case 'record':
      return recordToJson(s.record);
    case 'variant':
      return { tag: s.variant.constructor, value: s.variant.value ? protoToJson(s.variant.value) : {} };
    case 'enum':
      return s.enum.constructor;
    case 'list':
      return s.list.elements.map(protoToJson);
    case 'optional': {
      const inner = s.optional.value;
      if (inner === undefined) return null;
      // Optional (Optional a): Some None is [], Some (Some v) is [v].
      if (inner.sum.oneofKind === 'optional') {
        const v2 = inner.sum.optional.value;
        return v2 === undefined ? [] : [protoToJson(v2)];
      }
      return protoToJson(inner);
    }
    case 'textMap': {
      const out: Record<string, unknown> = {};
      for (const e of s.textMap.entries) out[e.key] = e.value ? protoToJson(e.value) : {};
      return out;
    }
    case 'genMap':
      return s.genMap.entries.map((e) => [
        e.key ? protoToJson(e.key) : {},
        e.value ? protoToJson(e.value) : {},
      ]);
    default:
      return null;
  }
}

/**
 * {@link protoToJson} of a `Value` encoded in bytes this process wrote, read straight from them (value.proto's
 * field numbers): a catch-up stream's frames are mostly values, and building their proto objects first cost more
 * than the JSON (`JsonCodec.binaryToJson`). A repeated oneof case counts last, as protobuf decodes it; `nested`:
 * the value inside an Optional, where an Optional is written as a list.
 */
function readValue(r: OwnBytesReader, end: number, nested: boolean): unknown {
  let out: unknown = null;
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    switch (no) {
      case 1:
        r.skip(wireType);
        out = {};
        break;
      case 2:
        out = r.bool();
        break;
      case 3:
        out = r.sint64().toString();
        break;
      case 4:
        out = formatDate(r.int32());
        break;
      case 5:
        out = formatTimestamp(r.sfixed64().toBigInt());
        break;
      case 6:
      case 7:
      case 8:
      case 9:
        out = r.string();
        break;
      case 10:
        out = readOptional(r, r.uint32() + r.pos, nested);
        break;
      case 11:
        out = readList(r, r.uint32() + r.pos);
        break;
      case 12:
        out = readTextMap(r, r.uint32() + r.pos);
        break;
      case 13:
        out = readGenMap(r, r.uint32() + r.pos);
        break;
      case 14:
        out = readRecord(r, r.uint32() + r.pos);
        break;
      case 15:
        out = readVariant(r, r.uint32() + r.pos);
        break;
      case 16:
        out = readEnum(r, r.uint32() + r.pos);
        break;
      default:
        r.skip(wireType);
    }
  }
  return out;
}

function readOptional(r: OwnBytesReader, end: number, nested: boolean): unknown {
  // Inside an Optional: Some None is [], Some (Some v) is [v].
  let out: unknown = nested ? [] : null;
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    if (no !== 1) {
      r.skip(wireType);
      continue;
    }
    const value = readValue(r, r.uint32() + r.pos, !nested);
    out = nested ? [value] : value;
  }
  return out;
}

function readList(r: OwnBytesReader, end: number): unknown[] {
  const out: unknown[] = [];
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    if (no === 1) out.push(readValue(r, r.uint32() + r.pos, false));
    else r.skip(wireType);
  }
  return out;
}

function readRecord(r: OwnBytesReader, end: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let index = 0;
  // RecordField { label = 1; value = 2 } as field 2; an unlabelled field is keyed by its position.
  readEntries(r, end, 2, (label, value) => {
    out[label === '' ? String(index) : label] = value;
    index++;
  });
  return out;
}

function readVariant(r: OwnBytesReader, end: number): { tag: string; value: unknown } {
  let tag = '';
  let value: unknown = {};
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    if (no === 2) tag = r.string();
    else if (no === 3) value = readValue(r, r.uint32() + r.pos, false);
    else r.skip(wireType);
  }
  return { tag, value };
}

function readEnum(r: OwnBytesReader, end: number): string {
  let name = '';
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    if (no === 2) name = r.string();
    else r.skip(wireType);
  }
  return name;
}

function readTextMap(r: OwnBytesReader, end: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // TextMap.Entry { key = 1; value = 2 } as field 1.
  readEntries(r, end, 1, (key, value) => {
    out[key] = value;
  });
  return out;
}

/** Reads the messages of field `entryNo` up to `end`, each a string at field 1 and a Value at field 2, in order. */
function readEntries(
  r: OwnBytesReader,
  end: number,
  entryNo: number,
  put: (key: string, value: unknown) => void,
): void {
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    if (no !== entryNo) {
      r.skip(wireType);
      continue;
    }
    const entryEnd = r.uint32() + r.pos;
    let key = '';
    let value: unknown = {};
    while (r.pos < entryEnd) {
      const [n, wt] = r.tag();
      if (n === 1) key = r.string();
      else if (n === 2) value = readValue(r, r.uint32() + r.pos, false);
      else r.skip(wt);
    }
    put(key, value);
  }
}

function readGenMap(r: OwnBytesReader, end: number): unknown[][] {
  const out: unknown[][] = [];
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    if (no !== 1) {
      r.skip(wireType);
      continue;
    }
    const entryEnd = r.uint32() + r.pos;
    let key: unknown = {};
    let value: unknown = {};
    while (r.pos < entryEnd) {
      const [n, wt] = r.tag();
      if (n === 1) key = readValue(r, r.uint32() + r.pos, false);
      else if (n === 2) value = readValue(r, r.uint32() + r.pos, false);
      else r.skip(wt);
    }
    out.push([key, value]);
  }
  return out;
}
