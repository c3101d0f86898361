import {
  base64decode,
  base64encode,
  type FieldInfo,
  type IMessageType,
  LongType,
  MessageType,
  ScalarType,
} from '@protobuf-ts/runtime';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { OWN_BYTES_READ_OPTIONS } from '../../wire/index.js';

/**
 * Canton's JSON encoding of the Ledger API's protobuf messages, generic over protobuf-ts reflection (each
 * MessageType's `fields`), as Canton's JSON API derives it from the scalapb classes and its own `Js*` mirrors:
 *
 * - field names in camelCase; missing fields decode to their defaults ("relaxed" decoding), unknown ones are ignored;
 * - 64-bit integers (offsets) as JSON numbers (strings accepted); bytes as base64; enums by their proto names;
 * - `google.protobuf.Timestamp` as an ISO-8601 string; `Duration` as `{seconds, nanos}`; `Any` as `{typeUrl, value}`;
 * - template and interface ids as `packageId:Module:Entity` strings (`#package-name:…` accepted on input);
 * - a oneof as an object with one key, the case in PascalCase, holding `{"value": …}` (scalapb's shape; an unset
 *   oneof is `{"Empty": {}}`), except the oneofs Canton replaces by its own `Js*` types, whose cases hold the
 *   message itself (`{"CreatedEvent": {…}}`) — see ONEOFS;
 * - Daml values (`Value`, `Record`) through the DamlValues hooks: Canton's type-directed LF JSON.
 */

/** A Daml value field of a message, decoded with the type the message's other fields determine. */
export interface DamlValueField {
  /** The message type (`com.daml.ledger.api.v2.CreateCommand`) and the field's proto name (`create_arguments`). */
  readonly message: string;
  readonly field: string;
  /** The message decoded so far (every non-value field), e.g. its template id and choice. */
  readonly decoded: object;
}

/** How Daml values are translated: to JSON untyped (records carry labels), from JSON by type. */
export interface DamlValues {
  /** The proto `Value` (or `Record`, when `asRecord`) that `json` encodes in the field `at`; `path` for errors. */
  fromJson(json: unknown, at: DamlValueField, path: string, asRecord: boolean): object;
  /** The LF JSON of a proto `Value` or `Record` (`isRecord`), as a message object or in its encoding. */
  toJson(value: object | Uint8Array, isRecord: boolean): unknown;
}

type Json = unknown;
type Obj = Record<string, unknown>;
type Writer = (v: unknown) => Json;

/** One entry of a message type's output plan: a field, or a oneof with its cases by local name. */
type Slot =
  | {
      readonly kind: 'field';
      readonly localName: string;
      readonly name: string;
      readonly map: boolean;
      readonly repeat: boolean;
      readonly write: Writer;
    }
  | {
      readonly kind: 'oneof';
      readonly oneof: string;
      readonly cases: ReadonlyMap<string, { key: string; localName: string; inline: boolean; write: Writer }>;
      readonly empty: string | undefined;
      readonly flat: boolean;
    };

/** How a oneof's cases are named and wrapped in JSON, where Canton does not use scalapb's default. */
interface OneofStyle {
  /** JSON key of a case (by the case field's proto name). */
  readonly names: Readonly<Record<string, string>>;
  /** Cases whose message is inlined (Canton's Js* mirrors); all others are `{value: …}`. */
  readonly inline: ReadonlySet<string>;
  /** The key of an unset oneof on output; undefined: none is written. */
  readonly empty: string | undefined;
  /** The message is nothing but this oneof, and Canton's mirror is the union itself (no key for the oneof). */
  readonly flat?: boolean;
}

const V2 = 'com.daml.ledger.api.v2';

const ONEOFS: ReadonlyMap<string, OneofStyle> = new Map<string, OneofStyle>([
  [
    `${V2}.Command.command`,
    {
      names: {
        create: 'CreateCommand',
        exercise: 'ExerciseCommand',
        exercise_by_key: 'ExerciseByKeyCommand',
        create_and_exercise: 'CreateAndExerciseCommand',
      },
      inline: new Set(['create', 'exercise', 'exercise_by_key', 'create_and_exercise']),
      empty: undefined,
      flat: true,
    },
  ],
  [
    `${V2}.Event.event`,
    {
      names: { created: 'CreatedEvent', archived: 'ArchivedEvent', exercised: 'ExercisedEvent' },
      inline: new Set(['created', 'archived', 'exercised']),
      empty: undefined,
      flat: true,
    },
  ],
  [
    `${V2}.GetActiveContractsResponse.contract_entry`,
    {
      names: {
        active_contract: 'JsActiveContract',
        incomplete_unassigned: 'JsIncompleteUnassigned',
        incomplete_assigned: 'JsIncompleteAssigned',
      },
      inline: new Set(['active_contract', 'incomplete_unassigned', 'incomplete_assigned']),
      empty: 'JsEmpty',
    },
  ],
  [
    `${V2}.ReassignmentEvent.event`,
    {
      names: { unassigned: 'JsUnassignedEvent', assigned: 'JsAssignmentEvent' },
      inline: new Set(['assigned']),
      empty: undefined,
      flat: true,
    },
  ],
]);

/** Fields Canton names differently from the proto (message type → proto field name → JSON name). */
const RENAMED: ReadonlyMap<string, Readonly<Record<string, string>>> = new Map([
  [`${V2}.CreatedEvent`, { create_arguments: 'createArgument' }],
]);

/** Messages Canton carries as base64 of their binary encoding (the prepared transaction an external party signs). */
export const BINARY_MESSAGES: ReadonlySet<string> = new Set([`${V2}.interactive.PreparedTransaction`]);

const VALUE_TYPE = `${V2}.Value`;
const RECORD_TYPE = `${V2}.Record`;
const IDENTIFIER_TYPE = `${V2}.Identifier`;
const EVENT_FORMAT_TYPE = `${V2}.EventFormat`;

const pascal = (protoName: string): string =>
  protoName.replace(/(^|_)([a-z0-9])/g, (_, _u: string, c: string) => c.toUpperCase());

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(path: string, message: string): never {
  throw new WeftError(CommonErrors.INVALID_ARGUMENT, `Invalid value for: ${path} (${message})`, { path });
}

/** Canton's `packageId:Module:Entity` form of a proto Identifier. */
export function identifierToString(id: {
  packageId: string;
  moduleName: string;
  entityName: string;
}): string {
  return `${id.packageId}:${id.moduleName}:${id.entityName}`;
}

/** A proto Identifier from `packageId:Module.Name:Entity` or `#package-name:Module.Name:Entity`. */
export function identifierFromString(
  s: unknown,
  path: string,
): { packageId: string; moduleName: string; entityName: string } {
  if (typeof s !== 'string') return invalid(path, 'expected an identifier string packageId:Module:Entity');
  const first = s.indexOf(':');
  const second = first < 0 ? -1 : s.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === s.length - 1) {
    return invalid(path, `${JSON.stringify(s)} is not an identifier packageId:Module:Entity`);
  }
  return {
    packageId: s.slice(0, first),
    moduleName: s.slice(first + 1, second),
    entityName: s.slice(second + 1),
  };
}

/**
 * Seconds {@link formatInstant} formatted lately: formatting a date costs about a microsecond, and a stream's
 * timestamps (a transaction's ledger and record times, its contracts' creation) fall in few seconds. Cleared when
 * it holds {@link MAX_SECONDS}.
 */
const formattedSeconds = new Map<bigint, string>();
const MAX_SECONDS = 256;

/** Java's Instant.toString: seconds, then the fraction in groups of three digits as needed, `Z`. */
export function formatInstant(seconds: bigint, nanos: number): string {
  let base = formattedSeconds.get(seconds);
  if (base === undefined) {
    base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
    if (formattedSeconds.size >= MAX_SECONDS) formattedSeconds.clear();
    formattedSeconds.set(seconds, base);
  }
  if (nanos === 0) return `${base}Z`;
  // The fraction's digits, zero-padded to 3, 6 or 9: a leading 1 added and dropped.
  const frac =
    nanos % 1_000_000 === 0
      ? String(nanos / 1_000_000 + 1_000).slice(1)
      : nanos % 1_000 === 0
        ? String(nanos / 1_000 + 1_000_000).slice(1)
        : String(nanos + 1_000_000_000).slice(1);
  return `${base}.${frac}Z`;
}

const INSTANT = /^(\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export function parseInstant(s: unknown, path: string): { seconds: bigint; nanos: number } {
  const m = typeof s === 'string' ? INSTANT.exec(s) : null;
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (!m || Number.isNaN(ms))
    return invalid(path, 'expected an ISO-8601 timestamp like 2025-01-31T12:00:00Z');
  return { seconds: BigInt(ms / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

const LONGS = new Set<ScalarType>([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/** Translates proto message objects to and from Canton's JSON. One instance serves every request. */
export class JsonCodec {
  constructor(private readonly values: DamlValues) {}

  /** The Canton JSON of `message` (a message object of `type`). */
  toJson(type: IMessageType<object>, message: object): Obj {
    const wkt = this.wktToJson(type.typeName, message);
    if (wkt !== undefined) return wkt as Obj;
    const msg = message as Obj;
    const out: Obj = {};
    for (const slot of this.#plan(type)) {
      if (slot.kind === 'oneof') {
        const sel = msg[slot.oneof] as { oneofKind?: string } & Obj;
        const set = sel.oneofKind === undefined ? undefined : slot.cases.get(sel.oneofKind);
        let entry: Obj | undefined;
        if (set === undefined) {
          if (slot.empty !== undefined) entry = { [slot.empty]: {} };
        } else {
          const value = set.write(sel[set.localName]);
          entry = { [set.key]: set.inline ? value : { value } };
        }
        if (slot.flat) return entry ?? {};
        if (entry !== undefined) out[slot.oneof] = entry;
        continue;
      }
      const v = msg[slot.localName];
      if (v === undefined) continue;
      if (slot.map) {
        const m: Obj = {};
        for (const [k, mv] of Object.entries(v as Obj)) m[k] = slot.write(mv);
        out[slot.name] = m;
      } else if (slot.repeat) {
        out[slot.name] = (v as unknown[]).map(slot.write);
      } else {
        out[slot.name] = slot.write(v);
      }
    }
    return out;
  }

  /**
   * {@link toJson} of the message of `type` encoded in `bytes` (which this process encoded): decoded with every
   * Daml value left as its bytes, which the DamlValues hook reads straight to JSON, instead of as proto objects
   * (most of a transaction, and most of the cost of converting it).
   */
  binaryToJson(type: IMessageType<object>, bytes: Uint8Array): Obj {
    return this.toJson(type, this.#valuesAsBytes(type).fromBinary(bytes, OWN_BYTES_READ_OPTIONS));
  }

  readonly #shadows = new Map<string, IMessageType<object>>();

  /**
   * `type` with its Daml value fields, and those of the messages it contains, read as bytes fields (same numbers;
   * a message's fields may be read as the bytes of the message). Types without values are themselves.
   */
  #valuesAsBytes(type: IMessageType<object>): IMessageType<object> {
    let shadow = this.#shadows.get(type.typeName);
    if (shadow !== undefined) return shadow;
    // Carried as the base64 of their own encoding, which must not change.
    if (BINARY_MESSAGES.has(type.typeName)) return type;
    // Placeholder while the fields are worked out: the Ledger API's messages do not contain themselves.
    this.#shadows.set(type.typeName, type);
    let changed = false;
    const fields = type.fields.map((f): FieldInfo => {
      if (f.kind !== 'message') return f;
      if (isDamlValue(f)) {
        changed = true;
        return { ...f, kind: 'scalar', T: ScalarType.BYTES } as FieldInfo;
      }
      const inner = this.#valuesAsBytes(f.T());
      if (inner === f.T()) return f;
      changed = true;
      return { ...f, T: () => inner };
    });
    shadow = changed ? new MessageType(type.typeName, fields) : type;
    this.#shadows.set(type.typeName, shadow);
    return shadow;
  }

  readonly #plans = new WeakMap<IMessageType<object>, readonly Slot[]>();

  /** How a message type is written, worked out once per type (encoding is on the hot path of every stream). */
  #plan(type: IMessageType<object>): readonly Slot[] {
    let plan = this.#plans.get(type);
    if (plan !== undefined) return plan;
    const slots: Slot[] = [];
    const oneofs = new Set<string>();
    for (const f of type.fields) {
      if (f.oneof !== undefined) {
        if (oneofs.has(f.oneof)) continue;
        oneofs.add(f.oneof);
        const style = oneofStyle(type, f.oneof);
        const cases = new Map<string, { key: string; localName: string; inline: boolean; write: Writer }>();
        for (const c of oneofCases(type, f.oneof)) {
          cases.set(c.field.localName, {
            key: c.key,
            localName: c.field.localName,
            inline: c.inline,
            write: this.#writer(c.field, c.field as { kind: string; T: unknown }),
          });
        }
        slots.push({
          kind: 'oneof',
          oneof: f.oneof,
          cases,
          empty: style ? style.empty : 'Empty',
          flat: style?.flat === true,
        });
        continue;
      }
      const map = f.kind === 'map';
      slots.push({
        kind: 'field',
        localName: f.localName,
        name: jsonFieldName(type, f),
        map,
        repeat: !map && f.repeat !== 0 && f.repeat !== undefined,
        write: this.#writer(f, map ? f.V : (f as { kind: string; T: unknown })),
      });
    }
    plan = slots;
    this.#plans.set(type, plan);
    return plan;
  }

  /** The writer of one value of a field (of a map's values for maps). */
  #writer(f: FieldInfo, kind: { kind: string; T: unknown }): Writer {
    switch (kind.kind) {
      case 'scalar': {
        const t = kind.T as ScalarType;
        return (v) => scalarToJson(t, v);
      }
      case 'enum': {
        const [, values, prefix] = (kind.T as () => [string, Record<number, string>, string?])();
        return (v) => {
          const name = values[v as number];
          return name === undefined ? v : `${prefix ?? ''}${name}`;
        };
      }
      default: {
        const t = (kind.T as () => IMessageType<object>)();
        if (isDamlValue(f)) {
          const isRecord = t.typeName === RECORD_TYPE;
          return (v) => this.values.toJson(v as object, isRecord);
        }
        if (t.typeName === IDENTIFIER_TYPE) return (v) => identifierToString(v as never);
        if (BINARY_MESSAGES.has(t.typeName)) return (v) => base64encode(t.toBinary(v as object));
        return (v) => this.toJson(t, v as object);
      }
    }
  }

  /** The message of `type` that `json` encodes; `path` names it in errors. */
  fromJson<T extends object>(type: IMessageType<T>, json: Json, path = 'body'): T {
    const wkt = this.wktFromJson(type.typeName, json, path);
    if (wkt !== undefined) return wkt as T;
    if (json === null || json === undefined) return type.create();
    if (!isObj(json)) return invalid(path, `expected an object for ${shortName(type.typeName)}`);
    const msg = type.create() as Obj;
    const valueFields: FieldInfo[] = [];
    const oneofsDone = new Set<string>();
    for (const f of type.fields) {
      if (f.oneof !== undefined) {
        if (oneofsDone.has(f.oneof)) continue;
        oneofsDone.add(f.oneof);
        const flat = oneofStyle(type, f.oneof)?.flat === true;
        const at = flat ? path : `${path}.${f.oneof}`;
        this.oneofFromJson(type, f.oneof, flat ? json : json[f.oneof], msg, at);
        continue;
      }
      if (isDamlValue(f)) {
        valueFields.push(f);
        continue;
      }
      const name = jsonFieldName(type, f);
      const v = json[name] ?? json[f.name];
      if (v === undefined || v === null) continue;
      const at = `${path}.${name}`;
      if (f.kind === 'map') {
        if (!isObj(v)) invalid(at, 'expected an object');
        const m: Obj = {};
        for (const [k, mv] of Object.entries(v)) m[k] = this.singleFromJson(f, mv, f.V, `${at}.${k}`);
        msg[f.localName] = m;
      } else if (f.repeat) {
        if (!Array.isArray(v)) invalid(at, 'expected an array');
        msg[f.localName] = v.map((e, i) => this.fieldFromJson(f, e, `${at}[${i}]`));
      } else {
        msg[f.localName] = this.fieldFromJson(f, v, at);
      }
    }
    // Daml values last: their types come from the message's other fields (template id, choice).
    for (const f of valueFields) {
      const name = jsonFieldName(type, f);
      const v = json[name] ?? json[f.name];
      if (v === undefined) continue;
      const at = { message: type.typeName, field: f.name, decoded: msg };
      const asRecord = messageTypeName(f) === RECORD_TYPE;
      msg[f.localName] = this.values.fromJson(v, at, `${path}.${name}`, asRecord);
    }
    // JSON carries record labels whatever `verbose` says, so the handlers always produce verbose values.
    if (type.typeName === EVENT_FORMAT_TYPE) msg.verbose = true;
    return msg as T;
  }

  private oneofFromJson(type: IMessageType<object>, oneof: string, v: Json, msg: Obj, path: string): void {
    if (v === undefined || v === null) return;
    if (!isObj(v)) invalid(path, 'expected an object with one key naming the case');
    const style = oneofStyle(type, oneof);
    const cases = oneofCases(type, oneof);
    const keys = Object.keys(v);
    // Canton's decoders take the first case they know; more than one key is a client's mistake it ignores.
    for (const key of keys) {
      if (key === 'Empty' || key === style?.empty) return;
      const c = cases.find((g) => g.key === key);
      if (c === undefined) continue;
      const caseJson = v[key];
      let inner: Json = caseJson;
      if (!c.inline) {
        if (!isObj(caseJson)) invalid(`${path}.${key}`, 'expected an object {"value": …}');
        inner = caseJson.value;
      }
      const f = c.field;
      msg[oneof] = { oneofKind: f.localName, [f.localName]: this.fieldFromJson(f, inner, `${path}.${key}`) };
      return;
    }
    const known = cases.map((c) => c.key).join(', ');
    invalid(path, `unknown case ${keys.join(', ') || '(none)'}; expected one of ${known}`);
  }

  private fieldFromJson(f: FieldInfo, v: Json, path: string): unknown {
    if (f.kind === 'map') throw new Error('maps are handled by the caller');
    return this.singleFromJson(f, v, f, path);
  }

  private singleFromJson(
    _f: FieldInfo,
    v: Json,
    kind: { kind: string; T: unknown; L?: LongType },
    path: string,
  ): unknown {
    switch (kind.kind) {
      case 'scalar':
        return scalarFromJson(kind.T as ScalarType, kind.L, v, path);
      case 'enum': {
        const [, values, prefix] = (kind.T as () => [string, Record<string, number>, string?])();
        if (typeof v === 'number' && Number.isInteger(v)) return v;
        const name = typeof v === 'string' && prefix && v.startsWith(prefix) ? v.slice(prefix.length) : v;
        const n = typeof name === 'string' ? values[name] : undefined;
        if (typeof n !== 'number') {
          const names = Object.keys(values)
            .filter((k) => Number.isNaN(Number(k)))
            .map((k) => `${prefix ?? ''}${k}`);
          return invalid(path, `expected one of ${names.join(', ')}`);
        }
        return n;
      }
      default: {
        const t = (kind.T as () => IMessageType<object>)();
        if (t.typeName === IDENTIFIER_TYPE) return identifierFromString(v, path);
        if (BINARY_MESSAGES.has(t.typeName)) {
          const bytes = scalarFromJson(ScalarType.BYTES, undefined, v, path) as Uint8Array;
          try {
            return t.fromBinary(bytes);
          } catch (e) {
            return invalid(path, `not a serialized ${shortName(t.typeName)}: ${(e as Error).message}`);
          }
        }
        return this.fromJson(t, v, path);
      }
    }
  }

  private wktToJson(typeName: string, m: object): Json | undefined {
    const msg = m as Obj;
    switch (typeName) {
      case 'google.protobuf.Timestamp':
        return formatInstant(msg.seconds as bigint, msg.nanos as number);
      case 'google.protobuf.Duration':
        return { seconds: Number(msg.seconds), nanos: msg.nanos, unknownFields: { fields: {} } };
      case 'google.protobuf.Any':
        return {
          typeUrl: msg.typeUrl,
          value: base64encode(msg.value as Uint8Array),
          unknownFields: { fields: {} },
        };
      case 'google.protobuf.FieldMask':
        return { paths: msg.paths, unknownFields: { fields: {} } };
      case 'google.protobuf.Empty':
        return {};
      default:
        return undefined;
    }
  }

  private wktFromJson(typeName: string, v: Json, path: string): object | undefined {
    switch (typeName) {
      case 'google.protobuf.Timestamp':
        return parseInstant(v, path);
      case 'google.protobuf.Duration': {
        if (!isObj(v)) return invalid(path, 'expected a duration {"seconds": …, "nanos": …}');
        const seconds = scalarFromJson(ScalarType.INT64, LongType.BIGINT, v.seconds ?? 0, `${path}.seconds`);
        return { seconds, nanos: scalarFromJson(ScalarType.INT32, undefined, v.nanos ?? 0, `${path}.nanos`) };
      }
      case 'google.protobuf.Any': {
        if (!isObj(v)) return invalid(path, 'expected {"typeUrl": …, "value": base64}');
        return {
          typeUrl: scalarFromJson(ScalarType.STRING, undefined, v.typeUrl ?? '', `${path}.typeUrl`),
          value: scalarFromJson(ScalarType.BYTES, undefined, v.value ?? '', `${path}.value`),
        };
      }
      case 'google.protobuf.FieldMask': {
        const paths = isObj(v) ? (v.paths ?? []) : v;
        if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string')) {
          return invalid(path, 'expected {"paths": [string]}');
        }
        return { paths };
      }
      case 'google.protobuf.Empty':
        return {};
      default:
        return undefined;
    }
  }
}

/** The JSON name of a (non-oneof) field. */
export function jsonFieldName(type: IMessageType<object>, f: FieldInfo): string {
  return RENAMED.get(type.typeName)?.[f.name] ?? f.localName;
}

/** The cases of a oneof as JSON carries them: the key, the field, and whether the value is inlined. */
export function oneofCases(
  type: IMessageType<object>,
  oneof: string,
): { key: string; field: FieldInfo; inline: boolean }[] {
  const style = oneofStyle(type, oneof);
  return type.fields
    .filter((g) => g.oneof === oneof)
    .map((field) => ({
      key: style?.names[field.name] ?? pascal(field.name),
      field,
      inline: style?.inline.has(field.name) === true || isEmptyMessage(field),
    }));
}

const shortName = (typeName: string): string => typeName.slice(typeName.lastIndexOf('.') + 1);

/** A field of type Value or Record outside value.proto: a Daml value, in Canton's LF JSON. */
function isDamlValue(f: FieldInfo): boolean {
  const name = messageTypeName(f);
  return name === VALUE_TYPE || name === RECORD_TYPE;
}

function messageTypeName(f: FieldInfo): string | undefined {
  return f.kind === 'message' ? f.T().typeName : undefined;
}

/** A oneof case of type google.protobuf.Empty is written `{}` (no `value`), as Canton does. */
function isEmptyMessage(f: FieldInfo): boolean {
  return messageTypeName(f) === 'google.protobuf.Empty';
}

/** Canton's style of a oneof (protobuf-ts keeps the oneof's camelCase name; ONEOFS is keyed by the proto name). */
export function oneofStyle(type: IMessageType<object>, oneof: string): OneofStyle | undefined {
  return ONEOFS.get(`${type.typeName}.${oneof.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`);
}

function scalarToJson(t: ScalarType, v: unknown): Json {
  if (LONGS.has(t)) return Number(v as bigint);
  if (t === ScalarType.BYTES) return base64encode(v as Uint8Array);
  return v;
}

function scalarFromJson(t: ScalarType, long: LongType | undefined, v: Json, path: string): unknown {
  switch (t) {
    case ScalarType.STRING:
      if (typeof v !== 'string') return invalid(path, 'expected a string');
      return v;
    case ScalarType.BOOL:
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      return invalid(path, 'expected a boolean');
    case ScalarType.BYTES:
      if (typeof v !== 'string') return invalid(path, 'expected a base64 string');
      try {
        return base64decode(v);
      } catch {
        return invalid(path, 'expected a base64 string');
      }
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || Number.isNaN(n)) return invalid(path, 'expected a number');
      return n;
    }
    default: {
      const unsigned =
        t === ScalarType.UINT32 ||
        t === ScalarType.UINT64 ||
        t === ScalarType.FIXED32 ||
        t === ScalarType.FIXED64;
      const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
      if (typeof text !== 'string' || !/^-?\d+$/.test(text)) return invalid(path, 'expected an integer');
      const n = BigInt(text);
      const bits = LONGS.has(t) ? 64n : 32n;
      const min = unsigned ? 0n : -(2n ** (bits - 1n));
      const max = unsigned ? 2n ** bits - 1n : 2n ** (bits - 1n) - 1n;
      if (n < min || n > max) return invalid(path, `${text} is out of range`);
      if (!LONGS.has(t)) return Number(n);
      if (long === LongType.STRING) return text;
      if (long === LongType.NUMBER) return Number(n);
      return n;
    }
  }
}
