import { WeftError } from '../../errors/index.js';
import type {
  Identifier as ProtoIdentifier,
  Record as ProtoRecord,
  Value as ProtoValue,
} from '../../generated/com/daml/ledger/api/v2/value.js';
import type { Identifier, Type } from '../lf/ast.js';
import { showType } from '../typecheck/index.js';
import { compareValues } from '../values/compare.js';
import { isLocalContractId, parseContractId } from '../values/contract-id.js';
import { numericToScaledString, parseNumericText } from '../values/numeric.js';
import { mapEntries, mapFromSorted } from '../values/sorted-map.js';
import { compareText, isValidParty } from '../values/text.js';
import {
  formatDate,
  formatTimestamp,
  isValidDate,
  isValidTimestamp,
  parseDate,
  parseTimestamp,
} from '../values/time.js';
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
import type { Shape, TypeResolver } from './types.js';
import { MAX_VALUE_NESTING } from './values.js';

/**
 * Translates values of the Ledger API into run-time values, as the reference engine's `ValueTranslator` does for
 * commands: the package types drive the translation, and errors name the path of the offending field
 * (`choiceArgument.transfer.amount`). Two encodings share the checks: JSON (`fromJson`,
 * `lf-value-specification.rst`, below) and the gRPC API's protobuf `Value` (`fromProto`).
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
/** A numeric in a protobuf value (Canton's `ValueValidator`); the expected type's scale is checked after. */
const PROTO_NUMERIC = /^[+-]?\d{1,38}(\.\d{0,37})?$/;
/** A package id in a record, variant or enum id (`#package-name` is not admitted there). */
const PACKAGE_ID = /^[A-Za-z0-9\-_ ]{1,64}$/;
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

type RecordShape = Extract<Shape, { kind: 'Record' }>;
type VariantShape = Extract<Shape, { kind: 'Variant' }>;
type EnumShape = Extract<Shape, { kind: 'Enum' }>;
type ProtoSum = ProtoValue['sum'];

/** The protobuf case names of the value kinds, for "expected …, got …" messages. */
const PROTO_CASES: Readonly<Record<NonNullable<ProtoSum['oneofKind']>, string>> = {
  unit: 'Unit',
  bool: 'a Bool',
  int64: 'an Int64',
  date: 'a Date',
  timestamp: 'a Time',
  numeric: 'a Numeric',
  party: 'a Party',
  text: 'a Text',
  contractId: 'a contract id',
  optional: 'an Optional',
  list: 'a List',
  textMap: 'a TextMap',
  genMap: 'a GenMap',
  record: 'a record',
  variant: 'a variant',
  enum: 'an enum',
};

/** The value with the protobuf case `kind`, narrowed; undefined when `sum` holds another case. */
function protoCase<K extends NonNullable<ProtoSum['oneofKind']>>(
  sum: ProtoSum,
  kind: K,
): Extract<ProtoSum, { oneofKind: K }> | undefined {
  return sum.oneofKind === kind ? (sum as Extract<ProtoSum, { oneofKind: K }>) : undefined;
}

const isNone = (v: ProtoValue | undefined): boolean =>
  v?.sum.oneofKind === 'optional' && v.sum.optional.value === undefined;

export class ValueTranslator {
  constructor(private readonly types: TypeResolver) {}

  /** The value of type `type` that `json` encodes; `path` names the value in error messages. */
  fromJson(json: unknown, type: Type, path: string, options: TranslateOptions = {}): Value {
    return this.translate(json, type, path, options);
  }

  /**
   * The value of type `type` that a Ledger API protobuf `Value` encodes. As the reference engine: records may be
   * fully labelled (fields by name, in any order) or positional (a label, when given, must name the field at its
   * position); absent trailing `Optional` fields are `None`, extra fields are dropped only when they are `None`;
   * record, variant and enum ids, when given, must name the expected type (module and entity: the package may be
   * another version of the same package); values nest at most 100 levels.
   */
  fromProto(value: ProtoValue | undefined, type: Type, path: string, options: TranslateOptions = {}): Value {
    return this.translateProto(value, type, path, options, 0);
  }

  private fail(path: string, message: string): never {
    throw new WeftError(DamlEngineErrors.DAML_COMMAND_INVALID, `${path}: ${message}`, { path });
  }

  private expected(path: string, what: string, json: unknown): never {
    return this.fail(path, `expected ${what}, got ${describe(json)}`);
  }

  private shape(type: Type, path: string): Shape {
    const shape = this.types.resolve(type);
    return typeof shape === 'string' ? this.fail(path, shape) : shape;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Checks shared by both encodings

  private checkedInt64(n: bigint, path: string): Value {
    if (n < INT64_MIN || n > INT64_MAX) return this.fail(path, `${n} is out of the Int64 range`);
    return int64(n);
  }

  private checkedNumeric(scale: number, textForm: unknown, path: string, input: unknown): Value {
    const n = typeof textForm === 'string' ? parseNumericText(scale, textForm) : undefined;
    if (n === undefined)
      return this.expected(
        path,
        `a Numeric ${scale} (a decimal string with at most ${scale} decimals and ${38 - scale} integer digits)`,
        input,
      );
    return numeric(n.unscaled, n.scale);
  }

  private checkedParty(p: unknown, path: string): Value {
    if (typeof p !== 'string' || !isValidParty(p)) return this.expected(path, 'a Party', p);
    return party(p);
  }

  private checkedContractId(coid: unknown, path: string, options: TranslateOptions): Value {
    const cid = typeof coid === 'string' ? parseContractId(coid) : undefined;
    if (cid === undefined) return this.expected(path, 'a contract id (hex)', coid);
    if (!options.allowLocalContractIds && isLocalContractId(cid))
      return this.fail(
        path,
        `contract id ${cid.coid} has no suffix: commands cannot refer to local contracts`,
      );
    return contractId(cid);
  }

  /** A TextMap from entries in any order; a key given twice is an error. */
  private textMap(entries: [string, Value][], path: string): Value {
    entries.sort((a, b) => compareText(a[0], b[0]));
    for (let i = 1; i < entries.length; i++)
      if (entries[i - 1]![0] === entries[i]![0])
        return this.fail(path, `a TextMap has the key ${JSON.stringify(entries[i]![0])} twice`);
    return { kind: 'TextMap', map: mapFromSorted(entries.map(([k, v]) => [text(k), v])) };
  }

  /**
   * A GenMap from entries in any order. A key given twice is an error in JSON; in protobuf the last entry wins,
   * as the reference engine builds maps from Ledger API values.
   */
  private genMap(entries: [Value, Value][], path: string, duplicates: 'reject' | 'last-wins'): Value {
    entries.sort((a, b) => compareValues(a[0], b[0])); // stable: equal keys keep their input order
    const unique: [Value, Value][] = [];
    for (const entry of entries) {
      const previous = unique[unique.length - 1];
      if (previous === undefined || compareValues(previous[0], entry[0]) !== 0) unique.push(entry);
      else if (duplicates === 'reject') return this.fail(path, 'a GenMap has the same key twice');
      else unique[unique.length - 1] = entry;
    }
    return { kind: 'GenMap', map: mapFromSorted(unique) };
  }

  /** The value of a record field the input does not give: `None` if it is optional. */
  private absentField(fieldType: Type, fieldPath: string): Value {
    const fieldShape = this.types.resolve(fieldType);
    if (typeof fieldShape !== 'string' && fieldShape.kind === 'Optional') return NONE;
    return this.fail(fieldPath, `missing field of type ${showType(fieldType)}`);
  }

  private variantRank(shape: VariantShape, tag: string, path: string): number {
    const rank = shape.rank.get(tag);
    if (rank === undefined)
      return this.fail(
        path,
        `${identifierToString(shape.tycon)} has no constructor ${tag} (constructors: ${shape.constructors.join(', ')})`,
      );
    return rank;
  }

  private enumValue(shape: EnumShape, name: unknown, path: string): EnumValue {
    const rank = typeof name === 'string' ? shape.rank.get(name) : undefined;
    if (rank === undefined)
      return this.expected(
        path,
        `a constructor of enum ${identifierToString(shape.tycon)} (${shape.constructors.join(', ')})`,
        name,
      );
    return { kind: 'Enum', tycon: shape.tycon, constructor: name as string, rank };
  }

  // -------------------------------------------------------------------------------------------------------------
  // JSON

  private translate(json: unknown, type: Type, path: string, options: TranslateOptions): Value {
    const shape = this.shape(type, path);
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
        return this.checkedInt64(n, path);
      }
      case 'Numeric':
        return this.checkedNumeric(
          shape.scale,
          typeof json === 'number' && Number.isFinite(json) ? String(json) : json,
          path,
          json,
        );
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
        return this.checkedParty(json, path);
      case 'ContractId':
        return this.checkedContractId(json, path, options);
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
        return this.textMap(
          Object.keys(json).map((k) => [
            k,
            this.translate(json[k], shape.elem, `${path}[${JSON.stringify(k)}]`, options),
          ]),
          path,
        );
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
        return this.genMap(entries, path, 'reject');
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
          if (json[field] === undefined) return this.absentField(fieldType, fieldPath);
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
        const rank = this.variantRank(shape, json.tag, path);
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
      case 'Enum':
        return this.enumValue(shape, json, path);
    }
  }

  private isUnit(type: Type): boolean {
    const shape = this.types.resolve(type);
    return typeof shape !== 'string' && shape.kind === 'Unit';
  }

  // -------------------------------------------------------------------------------------------------------------
  // Protobuf

  private translateProto(
    value: ProtoValue | undefined,
    type: Type,
    path: string,
    options: TranslateOptions,
    depth: number,
  ): Value {
    if (depth > MAX_VALUE_NESTING)
      throw new WeftError(
        DamlEngineErrors.DAML_VALUE_NESTING_LIMIT,
        `${path}: the value is nested deeper than ${MAX_VALUE_NESTING} levels`,
        { path },
      );
    const sum = value?.sum;
    if (sum === undefined || sum.oneofKind === undefined) return this.fail(path, 'missing value');
    const shape = this.shape(type, path);
    const mismatch = (what: string): never =>
      this.fail(path, `expected ${what}, got ${PROTO_CASES[sum.oneofKind!]}`);
    const next = depth + 1;
    switch (shape.kind) {
      case 'Unit':
        return protoCase(sum, 'unit') ? UNIT : mismatch('Unit');
      case 'Bool':
        return bool(protoCase(sum, 'bool')?.bool ?? mismatch('a Bool'));
      case 'Int64': {
        const s = protoCase(sum, 'int64')?.int64 ?? mismatch('an Int64');
        if (!INT64_TEXT.test(s)) return this.expected(path, 'an Int64', s);
        return this.checkedInt64(BigInt(s), path);
      }
      case 'Numeric': {
        const s = protoCase(sum, 'numeric')?.numeric ?? mismatch(`a Numeric ${shape.scale}`);
        // Canton's syntax, which admits the trailing point of its own output ("7." at scale 0).
        if (!PROTO_NUMERIC.test(s)) return this.expected(path, `a Numeric ${shape.scale}`, s);
        return this.checkedNumeric(shape.scale, s.endsWith('.') ? s.slice(0, -1) : s, path, s);
      }
      case 'Text':
        return text(protoCase(sum, 'text')?.text ?? mismatch('a Text'));
      case 'Date': {
        const days = protoCase(sum, 'date')?.date ?? mismatch('a Date');
        if (!isValidDate(days))
          return this.fail(path, `${days} days since the epoch is out of the Date range`);
        return date(days);
      }
      case 'Timestamp': {
        const s = protoCase(sum, 'timestamp')?.timestamp ?? mismatch('a Time');
        const micros = INT64_TEXT.test(s) ? BigInt(s) : undefined;
        if (micros === undefined || !isValidTimestamp(micros))
          return this.fail(path, `${s} µs since the epoch is out of the Time range`);
        return timestamp(micros);
      }
      case 'Party':
        return this.checkedParty(protoCase(sum, 'party')?.party ?? mismatch('a Party'), path);
      case 'ContractId':
        return this.checkedContractId(
          protoCase(sum, 'contractId')?.contractId ?? mismatch('a contract id'),
          path,
          options,
        );
      case 'Optional': {
        const o = protoCase(sum, 'optional')?.optional ?? mismatch(`an Optional ${showType(shape.elem)}`);
        return o.value === undefined
          ? NONE
          : some(this.translateProto(o.value, shape.elem, path, options, next));
      }
      case 'List': {
        const l = protoCase(sum, 'list')?.list ?? mismatch(`a list of ${showType(shape.elem)}`);
        return listFromArray(
          l.elements.map((x, i) => this.translateProto(x, shape.elem, `${path}[${i}]`, options, next)),
        );
      }
      case 'TextMap': {
        const m = protoCase(sum, 'textMap')?.textMap ?? mismatch('a TextMap');
        return this.textMap(
          m.entries.map((e) => [
            e.key,
            this.translateProto(e.value, shape.elem, `${path}[${JSON.stringify(e.key)}]`, options, next),
          ]),
          path,
        );
      }
      case 'GenMap': {
        const m = protoCase(sum, 'genMap')?.genMap ?? mismatch('a GenMap');
        return this.genMap(
          m.entries.map((e, i) => [
            this.translateProto(e.key, shape.key, `${path}[${i}].key`, options, next),
            this.translateProto(e.value, shape.value, `${path}[${i}].value`, options, next),
          ]),
          path,
          'last-wins',
        );
      }
      case 'Record': {
        const r = protoCase(sum, 'record')?.record ?? mismatch(`a record ${identifierToString(shape.tycon)}`);
        return this.protoRecord(r, shape, path, options, next);
      }
      case 'Variant': {
        const v =
          protoCase(sum, 'variant')?.variant ?? mismatch(`a variant ${identifierToString(shape.tycon)}`);
        this.checkTypeId(v.variantId, shape.tycon, path);
        const rank = this.variantRank(shape, v.constructor, path);
        return {
          kind: 'Variant',
          tycon: shape.tycon,
          constructor: v.constructor,
          rank,
          value: this.translateProto(v.value, shape.argTypes[rank]!, `${path}.value`, options, next),
        };
      }
      case 'Enum': {
        const e = protoCase(sum, 'enum')?.enum ?? mismatch(`an enum ${identifierToString(shape.tycon)}`);
        this.checkTypeId(e.enumId, shape.tycon, path);
        return this.enumValue(shape, e.constructor, path);
      }
    }
  }

  /** A type id given with a value must name the expected type; its package may be another version (upgrades). */
  private checkTypeId(given: ProtoIdentifier | undefined, expected: Identifier, path: string): void {
    if (given === undefined) return;
    if (!PACKAGE_ID.test(given.packageId))
      this.fail(path, `the type id's package ${JSON.stringify(given.packageId)} is not a package id`);
    const name = `${given.moduleName}:${given.entityName}`;
    const want = `${expected.module.join('.')}:${expected.name.join('.')}`;
    if (name !== want) this.fail(path, `the value says its type is ${name}, but ${want} is expected`);
  }

  private protoRecord(
    r: ProtoRecord,
    shape: RecordShape,
    path: string,
    options: TranslateOptions,
    depth: number,
  ): Value {
    this.checkTypeId(r.recordId, shape.tycon, path);
    const labelled = r.fields.every((f) => f.label !== '');
    let given: ReadonlyMap<number, ProtoValue | undefined>;
    let extra: ProtoRecord['fields'];
    if (labelled) {
      // By name, in any order.
      const byLabel = new Map<string, ProtoValue | undefined>();
      for (const f of r.fields) {
        if (byLabel.has(f.label)) return this.fail(path, `the field ${f.label} is given twice`);
        byLabel.set(f.label, f.value);
      }
      given = new Map(shape.fields.flatMap((name, i) => (byLabel.has(name) ? [[i, byLabel.get(name)]] : [])));
      extra = r.fields.filter((f) => !shape.fields.includes(f.label));
    } else {
      // By position; a label must name the field at its position.
      r.fields.forEach((f, i) => {
        const expected = shape.fields[i];
        if (f.label !== '' && expected !== undefined && f.label !== expected)
          this.fail(`${path}.${f.label}`, `field ${i} of ${identifierToString(shape.tycon)} is ${expected}`);
      });
      given = new Map(r.fields.slice(0, shape.fields.length).map((f, i) => [i, f.value]));
      extra = r.fields.slice(shape.fields.length);
    }
    // A newer version of the record may have more fields: dropping them is safe only when they are None.
    for (const [i, f] of extra.entries())
      if (!isNone(f.value))
        this.fail(
          `${path}.${f.label || `[${shape.fields.length + i}]`}`,
          `${identifierToString(shape.tycon)} has no such field, and only a None value may be dropped`,
        );
    const values = shape.fields.map((field, i) => {
      const fieldType = shape.fieldTypes[i]!;
      const fieldPath = `${path}.${field}`;
      if (!given.has(i)) return this.absentField(fieldType, fieldPath);
      return this.translateProto(given.get(i), fieldType, fieldPath, options, depth);
    });
    return { kind: 'Record', tycon: shape.tycon, fields: shape.fields, values };
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
