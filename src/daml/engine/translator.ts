import { WeftError } from '../../errors/index.js';
import type { Type } from '../lf/ast.js';
import { showType } from '../typecheck/index.js';
import { compareValues } from '../values/compare.js';
import { isLocalContractId, parseContractId } from '../values/contract-id.js';
import { numericToScaledString, parseNumericText } from '../values/numeric.js';
import { mapEntries, mapFromSorted } from '../values/sorted-map.js';
import { compareText, isValidParty } from '../values/text.js';
import { formatDate, formatTimestamp, parseDate, parseTimestamp } from '../values/time.js';
import {
  bool,
  contractId,
  date,
  type EnumValue,
  identifierToString,
  int64,
  listFromArray,
  NONE,
  numeric,
  party,
  some,
  text,
  timestamp,
  UNIT,
  type Value,
} from '../values/value.js';
import { DamlEngineErrors } from './errors.js';
import type { TypeResolver } from './types.js';

/**
 * Translates values between the JSON encoding of the Ledger API (`lf-value-specification.rst`) and run-time
 * values, as the reference engine's `ValueTranslator` does for commands: the package types drive the translation,
 * and errors name the path of the offending field (`choiceArgument.transfer.amount`).
 *
 * | Daml | JSON |
 * |---|---|
 * | record | object keyed by field name (missing `Optional` fields are `None`) |
 * | variant | `{"tag": "Constructor", "value": …}` |
 * | enum | `"Constructor"` |
 * | `()` | `{}` |
 * | `Int64`, `Numeric` | string (numbers accepted on input) |
 * | `Text`, `Party`, `ContractId` | string |
 * | `Date` / `Time` | `"2025-01-31"` / `"2025-01-31T12:00:00.5Z"` |
 * | `Optional a` | `null` or the value; `Optional (Optional a)`: `null`, `[]` (Some None), `[v]` |
 * | `[a]` | array |
 * | `TextMap a` | object |
 * | `GenMap k v` | array of `[key, value]` pairs |
 */

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export interface TranslateOptions {
  /** Accept contract ids that have no suffix yet (reinterpretation); commands must not name local contracts. */
  readonly allowLocalContractIds?: boolean;
}

const INT64_TEXT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class ValueTranslator {
  constructor(private readonly types: TypeResolver) {}

  /** The value of type `type` that `json` encodes; `path` names the value in error messages. */
  fromJson(json: unknown, type: Type, path: string, options: TranslateOptions = {}): Value {
    return this.translate(json, type, path, options);
  }

  private fail(path: string, message: string): never {
    throw new WeftError(DamlEngineErrors.DAML_COMMAND_INVALID, `${path}: ${message}`, { path });
  }

  private expected(path: string, what: string, json: unknown): never {
    return this.fail(path, `expected ${what}, got ${describe(json)}`);
  }

  private translate(json: unknown, type: Type, path: string, options: TranslateOptions): Value {
    const shape = this.types.resolve(type);
    if (typeof shape === 'string') return this.fail(path, shape);
    switch (shape.kind) {
      case 'Unit':
        if (!isObject(json) || Object.keys(json).length > 0) return this.expected(path, 'Unit ({})', json);
        return UNIT;
      case 'Bool':
        if (typeof json !== 'boolean') return this.expected(path, 'a Bool', json);
        return bool(json);
      case 'Int64': {
        let n: bigint | undefined;
        if (typeof json === 'string' && INT64_TEXT.test(json)) n = BigInt(json);
        else if (typeof json === 'number' && Number.isSafeInteger(json)) n = BigInt(json);
        if (n === undefined) return this.expected(path, 'an Int64 (a string of digits)', json);
        if (n < INT64_MIN || n > INT64_MAX) return this.fail(path, `${json} is out of the Int64 range`);
        return int64(n);
      }
      case 'Numeric': {
        const textForm = typeof json === 'number' && Number.isFinite(json) ? String(json) : json;
        const n = typeof textForm === 'string' ? parseNumericText(shape.scale, textForm) : undefined;
        if (n === undefined)
          return this.expected(
            path,
            `a Numeric ${shape.scale} (a decimal string with at most ${shape.scale} decimals and ${38 - shape.scale} integer digits)`,
            json,
          );
        return numeric(n.unscaled, n.scale);
      }
      case 'Text':
        if (typeof json !== 'string') return this.expected(path, 'a Text', json);
        return text(json);
      case 'Date': {
        const days = typeof json === 'string' ? parseDate(json) : undefined;
        if (days === undefined) return this.expected(path, 'a Date (YYYY-MM-DD)', json);
        return date(days);
      }
      case 'Timestamp': {
        const micros = typeof json === 'string' ? parseTimestamp(json) : undefined;
        if (micros === undefined) return this.expected(path, 'a Time (YYYY-MM-DDThh:mm:ss[.ffffff]Z)', json);
        return timestamp(micros);
      }
      case 'Party':
        if (typeof json !== 'string' || !isValidParty(json)) return this.expected(path, 'a Party', json);
        return party(json);
      case 'ContractId': {
        const cid = typeof json === 'string' ? parseContractId(json) : undefined;
        if (cid === undefined) return this.expected(path, 'a contract id (hex)', json);
        if (!options.allowLocalContractIds && isLocalContractId(cid))
          return this.fail(
            path,
            `contract id ${cid.coid} has no suffix: commands cannot refer to local contracts`,
          );
        return contractId(cid);
      }
      case 'Optional': {
        if (json === null || json === undefined) return NONE;
        const inner = this.types.resolve(shape.elem);
        if (typeof inner !== 'string' && inner.kind === 'Optional') {
          if (!Array.isArray(json) || json.length > 1)
            return this.expected(path, 'a nested Optional (null, [] or [value])', json);
          return some(json.length === 0 ? NONE : this.translate(json[0], shape.elem, `${path}[0]`, options));
        }
        return some(this.translate(json, shape.elem, path, options));
      }
      case 'List': {
        if (!Array.isArray(json)) return this.expected(path, `a list of ${showType(shape.elem)}`, json);
        return listFromArray(json.map((x, i) => this.translate(x, shape.elem, `${path}[${i}]`, options)));
      }
      case 'TextMap': {
        if (!isObject(json)) return this.expected(path, 'a TextMap (an object)', json);
        const keys = Object.keys(json).sort(compareText);
        return {
          kind: 'TextMap',
          map: mapFromSorted(
            keys.map((k) => [
              text(k),
              this.translate(json[k], shape.elem, `${path}[${JSON.stringify(k)}]`, options),
            ]),
          ),
        };
      }
      case 'GenMap': {
        if (!Array.isArray(json))
          return this.expected(path, 'a GenMap (an array of [key, value] pairs)', json);
        const entries = json.map((entry: unknown, i): [Value, Value] => {
          if (!Array.isArray(entry) || entry.length !== 2)
            return this.expected(`${path}[${i}]`, 'a [key, value] pair', entry);
          return [
            this.translate(entry[0], shape.key, `${path}[${i}][0]`, options),
            this.translate(entry[1], shape.value, `${path}[${i}][1]`, options),
          ];
        });
        entries.sort((a, b) => compareValues(a[0], b[0]));
        for (let i = 1; i < entries.length; i++)
          if (compareValues(entries[i - 1]![0], entries[i]![0]) === 0)
            return this.fail(path, 'a GenMap has the same key twice');
        return { kind: 'GenMap', map: mapFromSorted(entries) };
      }
      case 'Record': {
        if (!isObject(json))
          return this.expected(path, `a record ${identifierToString(shape.tycon)} (an object)`, json);
        for (const key of Object.keys(json))
          if (!shape.fields.includes(key) && json[key] !== null)
            return this.fail(path, `${identifierToString(shape.tycon)} has no field ${key}`);
        const values = shape.fields.map((field, i) => {
          const fieldType = shape.fieldTypes[i]!;
          const fieldPath = `${path}.${field}`;
          if (json[field] === undefined) {
            const fieldShape = this.types.resolve(fieldType);
            if (typeof fieldShape !== 'string' && fieldShape.kind === 'Optional') return NONE;
            return this.fail(fieldPath, `missing field of type ${showType(fieldType)}`);
          }
          return this.translate(json[field], fieldType, fieldPath, options);
        });
        return { kind: 'Record', tycon: shape.tycon, fields: shape.fields, values };
      }
      case 'Variant': {
        if (!isObject(json) || typeof json.tag !== 'string')
          return this.expected(
            path,
            `a variant ${identifierToString(shape.tycon)} ({"tag": …, "value": …})`,
            json,
          );
        const rank = shape.rank.get(json.tag);
        if (rank === undefined)
          return this.fail(
            path,
            `${identifierToString(shape.tycon)} has no constructor ${json.tag} (constructors: ${shape.constructors.join(', ')})`,
          );
        const argType = shape.argTypes[rank]!;
        const payload = json.value === undefined && this.isUnit(argType) ? {} : json.value;
        return {
          kind: 'Variant',
          tycon: shape.tycon,
          constructor: json.tag,
          rank,
          value: this.translate(payload, argType, `${path}.value`, options),
        };
      }
      case 'Enum': {
        const rank = typeof json === 'string' ? shape.rank.get(json) : undefined;
        if (rank === undefined)
          return this.expected(
            path,
            `a constructor of enum ${identifierToString(shape.tycon)} (${shape.constructors.join(', ')})`,
            json,
          );
        return { kind: 'Enum', tycon: shape.tycon, constructor: json as string, rank } satisfies EnumValue;
      }
    }
  }

  private isUnit(type: Type): boolean {
    const shape = this.types.resolve(type);
    return typeof shape !== 'string' && shape.kind === 'Unit';
  }
}

/** The JSON encoding of a value (no type needed: run-time values carry their record field names). */
export function valueToJson(v: Value): Json {
  switch (v.kind) {
    case 'Unit':
      return {};
    case 'Bool':
      return v.value;
    case 'Int64':
      return v.value.toString();
    case 'Numeric': {
      const s = numericToScaledString(v);
      return s.endsWith('.') ? s.slice(0, -1) : s;
    }
    case 'Text':
    case 'Party':
      return v.value;
    case 'Date':
      return formatDate(v.days);
    case 'Timestamp':
      return formatTimestamp(v.micros);
    case 'ContractId':
      return v.cid.coid;
    case 'Record':
    case 'Struct': {
      const out: Record<string, Json> = {};
      v.fields.forEach((f, i) => {
        out[f] = valueToJson(v.values[i]!);
      });
      return out;
    }
    case 'Variant':
      return { tag: v.constructor, value: valueToJson(v.value) };
    case 'Enum':
      return v.constructor;
    case 'List': {
      const out: Json[] = [];
      for (let l = v; l.tail !== undefined; l = l.tail) out.push(valueToJson(l.head!));
      return out;
    }
    case 'Optional':
      if (v.value === undefined) return null;
      if (v.value.kind === 'Optional') return v.value.value === undefined ? [] : [valueToJson(v.value.value)];
      return valueToJson(v.value);
    case 'TextMap': {
      const out: Record<string, Json> = {};
      for (const e of mapEntries(v.map)) out[(e.key as { value: string }).value] = valueToJson(e.value);
      return out;
    }
    case 'GenMap':
      return mapEntries(v.map).map((e) => [valueToJson(e.key), valueToJson(e.value)]);
    default:
      return `<${v.kind}>`;
  }
}
