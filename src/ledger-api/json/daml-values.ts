import { DamlEngineErrors, type PackageRegistry, type Type, type ValueTranslator } from '../../daml/index.js';
import { formatDate, formatTimestamp } from '../../daml/values/time.js';
import { isWeftError, WeftError } from '../../errors/index.js';
import type {
  Record as ProtoRecord,
  Value as ProtoValue,
} from '../../generated/com/daml/ledger/api/v2/value.js';
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
