import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import {
  type Binding,
  BUILTIN_FUNCTIONS,
  type BuiltinCon,
  type BuiltinFunction,
  type BuiltinLit,
  type BuiltinType,
  type CaseAlt,
  type CasePattern,
  type DataCons,
  type DefDataType,
  type DefException,
  type DefInterface,
  type DefTemplate,
  type DefTypeSyn,
  type DefValue,
  type DottedName,
  type Expr,
  type FieldWithExpr,
  type Identifier,
  type InterfaceMethod,
  type Kind,
  type LanguageVersion,
  type Location,
  type Module,
  type ModuleRef,
  type Package,
  type PackageId,
  type PackageMetadata,
  type TemplateChoice,
  type TemplateImplements,
  type Type,
  type TypeConApp,
  type TypeVarWithKind,
  type Update,
  type VarWithType,
} from './ast.js';
import { WireReader } from './wire.js';

/*
 * Decoder for the `daml_lf_2.Package` message (LF 2.1 and 2.2). Field numbers are those of
 * `daml_lf2.proto` in the canton repository; semantics and version gates follow its DecodeV2.
 *
 * The decoder is table-driven: each protobuf message is a schema (field number → slot, how the value is read,
 * the nested message, repeated or one case of a `oneof`, fields refused in this language version) with a builder
 * that checks the read message and makes the AST node; each schema is compiled on first use into a reader
 * specialised to its fields. Unknown fields are skipped, as protobuf parsers do.
 *
 * Every type outside the `interned_types` table must be a reference into it, so types are decoded once per
 * package. LF 2.2 ("flat archive") also interns kinds and expressions; interned expressions may only refer to
 * smaller indices, so the table is decoded in index order (a prefix at a time, on demand) and each entry is
 * shared by all its users. Module bodies are decoded lazily on first access.
 */

/** Stable packages that LF 2.2 archives may still name by package id instead of through their import table. */
export const STABLE_PACKAGE_IDS: ReadonlySet<PackageId> = new Set([
  'ee33fb70918e7aaa3d3fc44d64a399fb2bf5bcefc54201b1690ecd448551ba88',
  '6da1f43a10a179524e840e7288b47bda213339b0552d92e87ae811e52f59fc0e',
  'f181cd661f7af3a60bdaae4b0285a2a67beb55d6910fc8431dbae21a5825ec0f',
  '91e167fa7a256f21f990c526a0a0df840e99aeef0e67dc1f5415b0309486de74',
  '0e4a572ab1fb94744abb02243a6bbed6c78fc6e3c8d3f60c655f057692a62816',
  'e5411f3d75f072b944bd88e652112a14a3d409c491fd9a51f5f6eede6d3a3348',
  'ab068e2f920d0e06347975c2a342b71f8b8e3b4be0f02ead9442caac51aa8877',
  '5aee9b21b8e9a4c4975b5f4c4198e6e6e8469df49e2010820e792f393db870f4',
  'fcee8dfc1b81c449b421410edd5041c16ab59c45bbea85bcb094d1b17c3e9df7',
  '19f0df5fdaf5a96e137b6ea885fdb378f37bd3166bd9a47ee11518e33fa09a20',
  'e7e0adfa881e7dbbb07da065ae54444da7c4bccebcb8872ab0cb5dcf9f3761ce',
  'a1fa18133ae48cbb616c4c148e78e661666778c3087d099067c7fe1868cbb3a1',
  'fa79192fe1cce03d7d8db36471dde4cf6c96e6d0f07e1c391dd49e355af9b38c',
  '6f8e6085f5769861ae7a40dccd618d6f747297d59b37cab89b93e2fa80b0c024',
  '86d888f34152dae8729900966b44abcb466b9c111699678de58032de601d2b04',
  '7adc4c2d07fa3a51173c843cba36e610c1168b2dbbf53076e20c0092eae8763d',
  'c280cc3ef501d237efa7b1120ca3ad2d196e089ad596b666bed59a85f3c9a074',
  '9e70a8b3510d617f8a136213f33d6a903a10ca0eeec76bb06ba55d1ed9680f69',
  'cae345b5500ef6f84645c816f88b9f7a85a9f3c71697984abdf6849f81e80324',
  '52854220dc199884704958df38befd5492d78384a032fd7558c38f00e3d778a2',
  'bde4bd30749e99603e5afa354706608601029e225d4983324d617825b634253a',
  'bfda48f9aa2c89c895cde538ec4b4946c7085959e031ad61bde616b9849155d7',
  'd095a2ccf6dd36b2415adc4fa676f9191ba63cd39828dc5207b36892ec350cbc',
  'c3bb0c5d04799b3f11bad7c3c102963e115cf53da3e4afcbcfd9f06ebd82b4ff',
  '60c61c542207080e97e378ab447cc355ecc47534b3a3ebbff307c4fb8339bc4d',
  'b70db8369e1c461d5c70f1c86f526a29e9776c655e6ffc2560f95b05ccb8b946',
  '3cde94fe9be5c700fc1d9a8ad2277e2c1214609f8c52a5b4db77e466875b8cb7',
]);

/** Proto numbers of `BuiltinFunction`, in the order of `BUILTIN_FUNCTIONS`. */
const BUILTIN_FUNCTION_NUMBERS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 28, 29,
  30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63,
  64, 65, 59, 66, 67, 68, 69, 70, 71, 72, 73,
];
const builtinFunctionByNumber = new Map<number, BuiltinFunction>(
  BUILTIN_FUNCTIONS.map((name, i) => [BUILTIN_FUNCTION_NUMBERS[i]!, name]),
);
/** Known `BuiltinFunction` values that LF 2.1/2.2 reject (dev-only, or from a later version). */
const UNSUPPORTED_BUILTIN_FUNCTIONS = new Map<number, string>([
  [73, 'SECP256K1_VALIDATE_KEY (Daml-LF 2.3+)'],
  [2001, 'SCALE_BIGNUMERIC'],
  [2002, 'PRECISION_BIGNUMERIC'],
  [2003, 'ADD_BIGNUMERIC'],
  [2004, 'SUB_BIGNUMERIC'],
  [2005, 'MUL_BIGNUMERIC'],
  [2006, 'DIV_BIGNUMERIC'],
  [2007, 'SHIFT_RIGHT_BIGNUMERIC'],
  [2008, 'BIGNUMERIC_TO_NUMERIC'],
  [2009, 'NUMERIC_TO_BIGNUMERIC'],
  [2010, 'BIGNUMERIC_TO_TEXT'],
  [3011, 'TYPE_REP_TYCON_NAME'],
  [5001, 'EXTERNAL_CALL'],
]);

const BUILTIN_TYPES: ReadonlyMap<number, BuiltinType> = new Map<number, BuiltinType>([
  [0, 'UNIT'],
  [1, 'BOOL'],
  [2, 'INT64'],
  [3, 'DATE'],
  [4, 'TIMESTAMP'],
  [5, 'NUMERIC'],
  [6, 'PARTY'],
  [7, 'TEXT'],
  [8, 'CONTRACT_ID'],
  [9, 'OPTIONAL'],
  [10, 'LIST'],
  [11, 'GENMAP'],
  [13, 'ANY'],
  [14, 'ANY_EXCEPTION'],
  [15, 'TYPE_REP'],
  [16, 'ARROW'],
  [17, 'UPDATE'],
  [18, 'FAILURE_CATEGORY'],
  [19, 'TEXTMAP'],
]);
const UNSUPPORTED_BUILTIN_TYPES = new Map<number, string>([
  [1002, 'BIGNUMERIC'],
  [1003, 'ROUNDING_MODE'],
]);

const BUILTIN_CONS: readonly BuiltinCon[] = ['Unit', 'False', 'True'];

const NAME_RE = /^[A-Za-z$_][A-Za-z0-9$_]*$/;
const PACKAGE_ID_RE = /^[A-Za-z0-9\-_ ]{1,64}$/;
const PACKAGE_NAME_RE = /^[A-Za-z0-9\-_]{1,255}$/;
const PACKAGE_VERSION_RE = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const NUMERIC_RE = /^-?([1-9][0-9]*|0)\.([0-9]*)$/;
const MAX_NAME_LENGTH = 1000;
const MAX_NUMERIC_SCALE = 37;
const MAX_NUMERIC_PRECISION = 38;
const MIN_TIMESTAMP_MICROS = -62135596800000000n; // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_MICROS = 253402300799999999n; // 9999-12-31T23:59:59.999999Z
const MIN_DATE_DAYS = -719162; // 0001-01-01
const MAX_DATE_DAYS = 2932896; // 9999-12-31

const STAR: Kind = Object.freeze({ tag: 'Star' });
const NAT: Kind = Object.freeze({ tag: 'Nat' });
const TRUE: Expr = Object.freeze({ tag: 'BuiltinCon', con: 'True' });

const NONE = -1;
/** Real archives nest at most ~100 levels; Canton parses LF 2.1 with a 1000-level protobuf limit. */
const MAX_NESTING = 1000;

/** A byte range `[start, end)` of a sub-message in the package bytes. */
type Range = readonly [number, number];

// ----------------------------------------------------------------------------------------------------------------
// Schemas: one declarative table per protobuf message. A message is a list of slots (a field, a repeated field or
// a `oneof` of fields); its reader (generated from the table, see `compile`) reads each field met into its slot
// and passes the slots, in declaration order, to the message's builder, which checks them and makes the AST node.

/** How a field's value is read; the reader checks the wire type. */
const Read = {
  Int32: 0,
  /** A non-negative int32 used as a table index. */
  Index: 1,
  Bool: 2,
  Sint64: 3,
  Sfixed64: 4,
  String: 5,
  /** A sub-message kept as its byte range, decoded later (lazily or in table order). */
  Range: 6,
  /** An empty message (`Unit`) marking a case; its content is skipped. */
  Present: 7,
  Message: 8,
} as const;
type Read = (typeof Read)[keyof typeof Read];

/** How one value is read and what it becomes; `V` is the decoded type. */
interface Value<V> {
  readonly read: Read;
  /** For `Read.Message`: the nested message (a thunk: messages refer to each other). */
  readonly schema: (() => Schema<unknown>) | undefined;
  /** Turns the read value into the decoded one (interned lookups, enum tables, AST cases). */
  readonly map: ((value: unknown, d: PackageDecoder) => unknown) | undefined;
  /** Never set: carries `V` for the builders' parameter types. */
  readonly _decoded?: V;
}

/** One field number of a message, as the loop uses it. */
interface Field extends Value<unknown> {
  readonly slot: number;
  readonly repeated: boolean;
  /** A repeated index: the packed and the unpacked encoding are both accepted. */
  readonly packed: boolean;
  /** Runs when the field is met, before its value is read: refuses fields of other language versions. */
  readonly check: ((d: PackageDecoder) => void) | undefined;
}

interface Case<V> extends Value<V> {
  readonly number: number;
  readonly check: ((d: PackageDecoder) => void) | undefined;
}

/**
 * A slot of a message: one field, a repeated field (an array; the shared frozen {@link EMPTY} when absent) or a
 * `oneof` (the last field met wins).
 */
interface Slot<V> {
  readonly cases: readonly Case<unknown>[];
  readonly repeated: boolean;
  /** Never set: carries `V` for the builders' parameter types. */
  readonly _decoded?: V;
}

type Values<S extends readonly Slot<unknown>[]> = {
  -readonly [K in keyof S]: S[K] extends Slot<infer V> ? V : never;
};

interface Schema<T> {
  /** By field number; unknown fields are skipped, as protobuf parsers do. */
  readonly fields: ReadonlyMap<number, Field>;
  readonly slots: readonly Slot<unknown>[];
  /** Counts towards {@link MAX_NESTING} (kinds, types and expressions, which nest without bound). */
  readonly nested: boolean;
  readonly refused: readonly (readonly [number, (d: PackageDecoder) => never])[];
  /** Checks the slots' values and builds the AST node; `unknownField` is the last unknown field number met, or 0. */
  readonly build: (d: PackageDecoder, unknownField: number, ...values: unknown[]) => T;
  /** The schema compiled into a reader, on first use (see {@link compile}). */
  reader: Reader<T> | undefined;
}

type Reader<T> = (d: PackageDecoder, r: WireReader, end: number) => T;

const EMPTY: readonly never[] = Object.freeze([]);

interface Options {
  /** Counts towards the nesting limit. */
  readonly nested?: boolean;
  /** Fields whose presence is an error: the function throws. */
  readonly refused?: readonly (readonly [number, (d: PackageDecoder) => never])[];
}

function message<const S extends readonly Slot<unknown>[], T>(
  slots: S,
  build: (d: PackageDecoder, unknownField: number, ...values: Values<S>) => T,
  { nested = false, refused = [] }: Options = {},
): Schema<T> {
  const fields = new Map<number, Field>();
  slots.forEach((s, slot) => {
    for (const c of s.cases) {
      fields.set(c.number, {
        read: c.read,
        schema: c.schema,
        map: c.map,
        slot,
        repeated: s.repeated,
        packed: s.repeated && c.read === Read.Index,
        check: c.check,
      });
    }
  });
  for (const [n, refuse] of refused) {
    fields.set(n, {
      read: Read.Present,
      schema: undefined,
      map: undefined,
      slot: -1,
      repeated: false,
      packed: false,
      check: refuse,
    });
  }
  return { fields, slots, nested, refused, build: build as Schema<T>['build'], reader: undefined };
}

/**
 * Compiles a schema into a reader specialised to its fields: the loop over the message's fields with one `case`
 * per field number, each reading the value the field's kind names into the field's slot. The generated source is
 * made of the schema's field numbers and slot indices only (functions and nested schemas are passed in `k`), never
 * of anything read from an archive. Generated rather than interpreted: an interpreting loop over the same tables
 * was ≈ 1.6× slower on module bodies than the hand-written decoder this replaced (docs/performance.md).
 */
function compile<T>(s: Schema<T>): Reader<T> {
  const k: unknown[] = [];
  const ref = (x: unknown) => `k[${k.push(x) - 1}]`;
  const cases = [...s.fields].map(([n, f]) => {
    const check = f.check === undefined ? '' : `${ref(f.check)}(d); `;
    if (f.slot < 0) return `case ${n}: ${check}break;`;
    const slot = `s${f.slot}`;
    if (f.packed) return `case ${n}: if (${slot} === EMPTY) ${slot} = []; r.repeatedIndex(${slot}); break;`;
    let value = READ_SOURCE[f.read];
    if (f.read === Read.Message) {
      const nested = ref(f.schema!());
      value = `(${nested}.reader ?? compile(${nested}))(d, r, r.len())`;
    }
    if (f.map !== undefined) value = `${ref(f.map)}(${value}, d)`;
    return f.repeated
      ? `case ${n}: ${check}if (${slot} === EMPTY) ${slot} = []; ${slot}.push(${value}); break;`
      : `case ${n}: ${check}${slot} = ${value}; break;`;
  });
  const slots = s.slots.map((slot, i) => `s${i} = ${slot.repeated ? 'EMPTY' : 'undefined'}`);
  const source = `return (d, r, end) => {
  ${s.nested ? 'd.enter();' : ''}
  let ${[...slots, 'unknownField = 0'].join(', ')};
  while (r.pos < end) {
    const no = r.tag();
    switch (no) {
      ${cases.join('\n      ')}
      default: unknownField = no; r.skip();
    }
  }
  r.done(end);
  const built = build(d, unknownField, ${s.slots.map((_, i) => `s${i}`).join(', ')});
  ${s.nested ? 'd.leave();' : ''}
  return built;
};`;
  s.reader = new Function('k', 'EMPTY', 'build', 'compile', source)(k, EMPTY, s.build, compile) as Reader<T>;
  return s.reader;
}

/** The reader call for each kind of value (`Read.Message` is built per field). */
const READ_SOURCE: Readonly<Record<Read, string>> = {
  [Read.Int32]: 'r.int32()',
  [Read.Index]: 'r.index()',
  [Read.Bool]: 'r.bool()',
  [Read.Sint64]: 'r.sint64()',
  [Read.Sfixed64]: 'r.sfixed64()',
  [Read.String]: 'r.string()',
  [Read.Range]: 'd.range()',
  [Read.Present]: '(r.skip(), true)',
  [Read.Message]: '',
};

/** `s` with more fields refused (the interning-table entries refuse what nested occurrences allow). */
function refusing<T>(s: Schema<T>, n: number, refuse: (d: PackageDecoder) => never): Schema<T> {
  return message(
    s.slots.map((slot) => ({ ...slot, cases: slot.cases.filter((c) => c.number !== n) })),
    s.build,
    { nested: s.nested, refused: [...s.refused, [n, refuse]] },
  );
}

const value = <V>(read: Read): Value<V> => ({ read, schema: undefined, map: undefined });
const INT32 = value<number>(Read.Int32);
const INDEX = value<number>(Read.Index);
const BOOL = value<boolean>(Read.Bool);
const SINT64 = value<bigint>(Read.Sint64);
const SFIXED64 = value<bigint>(Read.Sfixed64);
const STRING = value<string>(Read.String);
const RANGE = value<Range>(Read.Range);
const PRESENT = value<true>(Read.Present);

const msg = <T>(schema: () => Schema<T>): Value<T> => ({ read: Read.Message, schema, map: undefined });

function to<A, B>(v: Value<A>, f: (a: A, d: PackageDecoder) => B): Value<B> {
  const inner = v.map;
  // Without an inner map `f` itself is called (no wrapper), so each call site in a reader stays monomorphic.
  const map =
    inner === undefined
      ? (f as (x: unknown, d: PackageDecoder) => B)
      : (x: unknown, d: PackageDecoder) => f(inner(x, d) as A, d);
  return { read: v.read, schema: v.schema, map };
}

/** Field `number` holding one `v` (read into `V | undefined`); `check` runs when it is met. */
function one<V>(
  number: number,
  v: Value<V>,
  check?: (d: PackageDecoder) => void,
): Slot<V | undefined> & Case<V> {
  return { ...v, number, check, cases: [{ ...v, number, check }], repeated: false };
}

function many<V>(number: number, v: Value<V>): Slot<V[]> {
  return { cases: [{ ...v, number, check: undefined }], repeated: true };
}

/** A `oneof`: the fields share one slot, holding the value of the last one met. */
function oneof<const C extends readonly Case<unknown>[]>(
  ...cases: C
): Slot<(C[number] extends Case<infer V> ? V : never) | undefined> {
  return { cases, repeated: false };
}

const unsupported = (what: string) => (d: PackageDecoder) => d.unsupported(what);

function unsupportedUnlessFlat(what: string): (d: PackageDecoder) => void {
  return (d) => {
    if (!d.flat) d.unsupported(what);
  };
}

// ----------------------------------------------------------------------------------------------------------------
// Package-level tables

const PACKAGE = message(
  [
    many(1, RANGE), // modules
    many(2, STRING), // interned strings
    many(3, RANGE), // interned dotted names
    one(4, RANGE), // metadata
    many(5, RANGE), // interned types
    many(6, RANGE), // interned kinds
    many(7, RANGE), // interned expressions
    // The reason why a package has no import table, or the table.
    oneof(
      one(
        8,
        to(STRING, () => 'reason' as const),
      ),
      one(9, RANGE),
    ),
  ],
  (
    _d: PackageDecoder,
    _u: number,
    modules,
    strings,
    dottedNames,
    metadata,
    types,
    kinds,
    exprs,
    imports,
  ) => ({
    modules,
    strings,
    dottedNames,
    metadata,
    types,
    kinds,
    exprs,
    imports,
  }),
);

const DOTTED_NAME = message([many(1, INDEX)], (d: PackageDecoder, _: number, ids) => {
  if (ids.length === 0) d.fail('empty dotted name');
  const segments = ids.map((i) => d.name(i));
  if (segments.reduce((n, s) => n + s.length + 1, -1) > MAX_NAME_LENGTH) d.fail('dotted name too long');
  return segments;
});

const UPGRADED_PACKAGE_ID = message([one(1, INDEX)], (d: PackageDecoder, _: number, id) =>
  d.packageIdString(d.str(id ?? 0)),
);

const METADATA = message(
  [
    one(1, INDEX),
    one(2, INDEX),
    one(
      3,
      msg(() => UPGRADED_PACKAGE_ID),
    ),
  ],
  (d: PackageDecoder, _: number, nameIndex, versionIndex, upgradedPackageId): PackageMetadata => {
    const name = d.str(nameIndex ?? 0);
    const version = d.str(versionIndex ?? 0);
    if (!PACKAGE_NAME_RE.test(name)) d.fail(`invalid package name ${JSON.stringify(name)}`);
    if (version.length > 255 || !PACKAGE_VERSION_RE.test(version))
      d.fail(`invalid package version ${JSON.stringify(version)}`);
    return upgradedPackageId === undefined ? { name, version } : { name, version, upgradedPackageId };
  },
);

const PACKAGE_IMPORTS = message(
  [
    many(
      1,
      to(STRING, (s, d: PackageDecoder) => d.packageIdString(s)),
    ),
  ],
  (_d: PackageDecoder, _u: number, ids) => ids,
);

/** Only the name of a module (its body is decoded lazily). */
const MODULE_NAME = message([one(1, INDEX)], (d: PackageDecoder, _: number, name) => d.dname(name ?? 0));

// ----------------------------------------------------------------------------------------------------------------
// Kinds

const kind = msg(() => KIND);

const KIND_ARROW = message(
  [many(1, kind), one(2, kind)],
  (d: PackageDecoder, _: number, params, result): Kind => {
    d.arity(params.length, 'Kind.Arrow.params');
    if (result === undefined) d.fail('Kind.Arrow.result is missing');
    let k = result;
    for (let i = params.length - 1; i >= 0; i--) k = { tag: 'Arrow', param: params[i]!, result: k };
    return k;
  },
);

const KIND: Schema<Kind> = message(
  [
    oneof(
      one(
        1,
        to(PRESENT, () => STAR),
      ),
      one(
        2,
        msg(() => KIND_ARROW),
      ),
      one(
        3,
        to(PRESENT, () => NAT),
      ),
      one(
        4,
        to(INDEX, (i, d: PackageDecoder) => {
          // While the table decodes, only earlier entries exist, so forward references are undefined too.
          const found = d.kinds[i];
          if (found === undefined) d.fail(`invalid interned kind index ${i}`);
          return found;
        }),
        unsupportedUnlessFlat('interned kinds'),
      ),
    ),
  ],
  (d: PackageDecoder, _: number, k) => k ?? d.fail('Kind has no case set'),
  { nested: true },
);

const KIND_ENTRY = refusing(KIND, 4, (d) => d.fail('interned kind entry refers to another interned kind'));

// ----------------------------------------------------------------------------------------------------------------
// Types

const fullType = msg(() => TYPE);

const TYPE_VAR_WITH_KIND = message(
  [one(3, INDEX), one(2, kind)],
  (d: PackageDecoder, _: number, name, k): TypeVarWithKind => {
    if (k === undefined) d.fail('TypeVarWithKind.kind is missing');
    return { name: d.name(name ?? 0), kind: k };
  },
);
const typeVarWithKind = msg(() => TYPE_VAR_WITH_KIND);

/** Var, Con, Builtin and Syn types: a head and `repeated Type args = 2` (flat archives use TApp instead). */
function typeArgs(args: readonly Type[], d: PackageDecoder, what: string): readonly Type[] {
  if (d.flat && args.length > 0)
    d.fail(`${what} arguments are not allowed in Daml-LF ${d.version} (use TApp)`);
  return args;
}

const TYPE_VAR = message(
  [one(3, INDEX), many(2, fullType)],
  (d: PackageDecoder, _: number, name, args): Type => {
    const checked = typeArgs(args, d, 'Type.Var');
    return { tag: 'Var', name: d.name(name ?? 0), args: checked };
  },
);

const TYPE_CON = message(
  [
    one(
      1,
      msg(() => IDENTIFIER),
    ),
    many(2, fullType),
  ],
  (d: PackageDecoder, _: number, tycon, args): Type => {
    const checked = typeArgs(args, d, 'Type.Con');
    if (tycon === undefined) d.fail('Type.Con.tycon is missing');
    return { tag: 'Con', tycon, args: checked };
  },
);

const TYPE_SYN = message(
  [
    one(
      1,
      msg(() => IDENTIFIER),
    ),
    many(2, fullType),
  ],
  (d: PackageDecoder, _: number, tysyn, args): Type => {
    if (tysyn === undefined) d.fail('Type.Syn.tysyn is missing');
    return { tag: 'Syn', tysyn, args };
  },
);

const TYPE_BUILTIN = message(
  [one(1, INT32), many(2, fullType)],
  (d: PackageDecoder, _: number, code = 0, args): Type => {
    const checked = typeArgs(args, d, 'Type.Builtin');
    const builtin = BUILTIN_TYPES.get(code);
    if (builtin === undefined) {
      const dev = UNSUPPORTED_BUILTIN_TYPES.get(code);
      if (dev !== undefined) d.unsupported(`builtin type ${dev}`);
      d.unknownEnum('BuiltinType', code);
    }
    return { tag: 'Builtin', builtin, args: checked };
  },
);

const TYPE_FORALL = message(
  [many(1, typeVarWithKind), one(2, fullType)],
  (d: PackageDecoder, _: number, vars, body): Type => {
    d.arity(vars.length, 'Type.Forall.vars');
    if (body === undefined) d.fail('Type.Forall.body is missing');
    // Canonical form: `forall a. forall b. t` is stored as `forall a b. t`.
    return body.tag === 'Forall'
      ? { tag: 'Forall', vars: [...vars, ...body.vars], body: body.body }
      : { tag: 'Forall', vars, body };
  },
);

/** `FieldWithType` (field_interned_str = 3, type = 2). */
function fieldWithType(d: PackageDecoder, _: number, field: number | undefined, t: Type | undefined) {
  if (t === undefined) d.fail('FieldWithType.type is missing');
  return { field: d.name(field ?? 0), type: t };
}

/** Struct fields inside the type table have a full `Type`; elsewhere see {@link FIELD_WITH_TYPE}. */
const FIELD_WITH_TABLE_TYPE = message([one(3, INDEX), one(2, fullType)], fieldWithType);

const TYPE_STRUCT = message(
  [
    many(
      1,
      msg(() => FIELD_WITH_TABLE_TYPE),
    ),
  ],
  (d: PackageDecoder, _: number, fields): Type => {
    if (fields.length === 0) d.fail('unexpected empty Type.Struct.fields');
    const seen = new Set<string>();
    for (const f of fields) {
      if (seen.has(f.field)) d.fail(`TStruct: duplicate field ${f.field}`);
      seen.add(f.field);
    }
    return { tag: 'Struct', fields };
  },
);

const TYPE_APP = message(
  [one(1, fullType), one(2, fullType)],
  (d: PackageDecoder, _: number, lhs, rhs): Type => {
    if (lhs === undefined || rhs === undefined) d.fail('Type.TApp needs both lhs and rhs');
    switch (lhs.tag) {
      case 'Var':
        return { tag: 'Var', name: lhs.name, args: [...lhs.args, rhs] };
      case 'Con':
        return { tag: 'Con', tycon: lhs.tycon, args: [...lhs.args, rhs] };
      case 'Builtin':
        return { tag: 'Builtin', builtin: lhs.builtin, args: [...lhs.args, rhs] };
      default:
        return d.fail(`Type.TApp applies a ${lhs.tag} type, which takes no arguments`);
    }
  },
);

const internedType = to(INDEX, (i, d: PackageDecoder): Type => {
  // Inside the table only earlier entries exist yet, so `types[i]` is undefined for forward references.
  const t = d.types[i];
  if (t === undefined) d.fail(`invalid interned type index ${i}`);
  return t;
});

/** A type inside the interning table (every type elsewhere is a reference into it, {@link TYPE_REF}). */
const TYPE: Schema<Type> = message(
  [
    oneof(
      one(
        1,
        msg(() => TYPE_VAR),
      ),
      one(
        2,
        msg(() => TYPE_CON),
      ),
      one(
        3,
        msg(() => TYPE_BUILTIN),
      ),
      one(
        4,
        msg(() => TYPE_FORALL),
      ),
      one(
        5,
        msg(() => TYPE_STRUCT),
      ),
      one(
        6,
        to(SINT64, (n, d: PackageDecoder): Type => {
          if (n < 0n || n > BigInt(MAX_NUMERIC_SCALE))
            d.fail(`TNat must be between 0 and ${MAX_NUMERIC_SCALE}, found ${n}`);
          return { tag: 'Nat', value: Number(n) };
        }),
      ),
      one(
        7,
        msg(() => TYPE_SYN),
      ),
      one(8, internedType),
      one(
        9,
        msg(() => TYPE_APP),
        unsupportedUnlessFlat('Type.TApp'),
      ),
    ),
  ],
  (d: PackageDecoder, _: number, t) => t ?? d.fail('Type has no case set'),
  { nested: true },
);

const TYPE_ENTRY = refusing(TYPE, 8, (d) => d.fail('interned type entry refers to another interned type'));

/** A type outside the interning table: always a reference into it. */
const TYPE_REF = message(
  [one(8, internedType)],
  (d: PackageDecoder, _: number, t) => t ?? d.fail('Type has no case set'),
  {
    refused: [1, 2, 3, 4, 5, 6, 7, 9].map(
      (n) =>
        [
          n,
          (d: PackageDecoder) => d.fail(`Type case ${n} is not allowed outside the type interning table`),
        ] as const,
    ),
  },
);
const typeRef = msg(() => TYPE_REF);

/** `FieldWithType` outside the type table: its type is a reference. */
const FIELD_WITH_TYPE = message([one(3, INDEX), one(2, typeRef)], fieldWithType);

// ----------------------------------------------------------------------------------------------------------------
// References

/** `SelfOrImportedPackageId` as a number: -1 self, 2i an interned package-id string, 2i+1 an import. */
const PACKAGE_SLOT = message(
  [
    oneof(
      one(
        1,
        to(PRESENT, () => -1),
      ),
      one(
        3,
        to(INDEX, (i) => 2 * i),
      ),
      one(
        4,
        to(INDEX, (i) => 2 * i + 1),
      ),
    ),
  ],
  (d: PackageDecoder, _: number, slot) => slot ?? d.fail('SelfOrImportedPackageId has no case set'),
);

const MODULE_REF = message(
  [
    one(
      1,
      msg(() => PACKAGE_SLOT),
    ),
    one(2, INDEX),
  ],
  (d: PackageDecoder, _: number, slot, name): ModuleRef => {
    if (slot === undefined) d.fail('ModuleId.package_id is missing');
    return d.moduleRef(slot, name ?? 0);
  },
);
const moduleRef = msg(() => MODULE_REF);

/** `TypeConId`, `TypeSynId` and `ValueId` share one shape: module = 1, name_interned_dname = 2. */
const IDENTIFIER = message(
  [one(1, moduleRef), one(2, INDEX)],
  (d: PackageDecoder, _: number, module, name): Identifier => {
    if (module === undefined) d.fail('identifier without module');
    return d.identifier(module, name ?? 0);
  },
);
const identifier = msg(() => IDENTIFIER);

const LOCATION_RANGE = message(
  [one(1, INT32), one(2, INT32), one(3, INT32), one(4, INT32)],
  (_d: PackageDecoder, _u: number, startLine = 0, startCol = 0, endLine = 0, endCol = 0) => ({
    startLine,
    startCol,
    endLine,
    endCol,
  }),
);

const LOCATION = message(
  [
    one(1, moduleRef),
    one(
      2,
      msg(() => LOCATION_RANGE),
    ),
  ],
  (d: PackageDecoder, _: number, module, range): Location | undefined => {
    if (range === undefined) return undefined;
    // Inside an interned expression the enclosing module depends on the user (see `Location.module`).
    const m = module ?? (d.currentEntry === NONE ? d.currentModule : undefined);
    return m === undefined ? range : { module: m, ...range };
  },
);
const location = msg(() => LOCATION);

// ----------------------------------------------------------------------------------------------------------------
// Modules and definitions

const expr = msg(() => EXPR);

const FEATURE_FLAGS = message(
  [one(1, BOOL), one(2, BOOL), one(3, BOOL)],
  (_d: PackageDecoder, _u: number, a, b, c) => a === true && b === true && c === true,
);

const DEF_TYPE_SYN = message(
  [one(1, location), one(2, INDEX), many(3, typeVarWithKind), one(4, typeRef)],
  (d: PackageDecoder, _: number, loc, nameIndex, params, t): DefTypeSyn => {
    const name = d.dname(nameIndex ?? 0);
    if (t === undefined) d.fail(`type synonym ${name.join('.')} has no type`);
    return withLocation({ name, params, type: t }, loc);
  },
);

const DATA_FIELDS = message(
  [
    many(
      1,
      msg(() => FIELD_WITH_TYPE),
    ),
  ],
  (_d: PackageDecoder, _u: number, fields) => fields,
);

const DEF_DATA_TYPE = message(
  [
    one(1, location),
    one(2, INDEX),
    many(3, typeVarWithKind),
    one(4, BOOL),
    oneof(
      one(
        5,
        to(
          msg(() => DATA_FIELDS),
          (fields): DataCons => ({ tag: 'Record', fields }),
        ),
      ),
      one(
        6,
        to(
          msg(() => DATA_FIELDS),
          (variants): DataCons => ({ tag: 'Variant', variants }),
        ),
      ),
      one(
        7,
        to(
          msg(() => ENUM_CONSTRUCTORS),
          (constructors): DataCons => ({ tag: 'Enum', constructors }),
        ),
      ),
      one(
        8,
        to(PRESENT, (): DataCons => ({ tag: 'Interface' })),
      ),
    ),
  ],
  (d: PackageDecoder, _: number, loc, nameIndex, params, serializable = false, cons): DefDataType => {
    const name = d.dname(nameIndex ?? 0);
    if (cons === undefined) d.fail(`data type ${name.join('.')} has no constructors case set`);
    if (cons.tag === 'Enum' && params.length > 0) d.fail(`enum type ${name.join('.')} has type parameters`);
    return withLocation({ name, params, serializable, cons }, loc);
  },
);

const ENUM_CONSTRUCTORS = message([many(2, INDEX)], (d: PackageDecoder, _: number, ids) =>
  ids.map((i) => d.name(i)),
);

const NAME_WITH_TYPE = message([one(1, INDEX), one(2, typeRef)], (d: PackageDecoder, _: number, name, t) => ({
  name: d.dname(name ?? 0),
  type: t,
}));

const DEF_VALUE = message(
  [
    one(1, location),
    one(
      2,
      msg(() => NAME_WITH_TYPE),
    ),
    one(3, expr),
  ],
  (d: PackageDecoder, _: number, loc, nameWithType, e): DefValue => {
    const name = nameWithType?.name;
    const t = nameWithType?.type;
    if (name === undefined || t === undefined) d.fail('DefValue.name_with_type is missing');
    if (e === undefined) d.fail(`value ${name.join('.')} has no expression`);
    return withLocation({ name, type: t, expr: e }, loc);
  },
);

const VAR_WITH_TYPE = message(
  [one(3, INDEX), one(2, typeRef)],
  (d: PackageDecoder, _: number, name, t): VarWithType => {
    if (t === undefined) d.fail('VarWithType.type is missing');
    return { name: d.name(name ?? 0), type: t };
  },
);
const varWithType = msg(() => VAR_WITH_TYPE);

const CHOICE = message(
  [
    one(1, location),
    one(2, INDEX),
    one(3, BOOL),
    one(4, expr),
    one(5, expr),
    one(6, varWithType),
    one(8, typeRef),
    one(9, expr),
    one(10, INDEX),
  ],
  (
    d: PackageDecoder,
    _: number,
    loc,
    nameIndex,
    consuming = false,
    controllers,
    observers,
    argBinder,
    returnType,
    update,
    selfBinder,
  ): TemplateChoice => {
    const name = d.name(nameIndex ?? 0);
    if (controllers === undefined || observers === undefined || update === undefined)
      d.fail(`choice ${name} lacks controllers, observers or update`);
    if (argBinder === undefined || returnType === undefined)
      d.fail(`choice ${name} lacks its argument binder or return type`);
    return withLocation(
      {
        name,
        consuming,
        controllers,
        observers,
        selfBinder: d.name(selfBinder ?? 0),
        argBinder,
        returnType,
        update,
      },
      loc,
    );
  },
  { refused: [[1001, unsupported('choice authorizers')]] },
);
const choice = msg(() => CHOICE);

const METHOD_IMPLEMENTATION = message(
  [one(1, INDEX), one(2, expr)],
  (d: PackageDecoder, _: number, nameIndex, e) => {
    const name = d.name(nameIndex ?? 0);
    if (e === undefined) d.fail(`interface method ${name} has no implementation`);
    return { name, value: e };
  },
);

const INTERFACE_INSTANCE_BODY = message(
  [
    many(
      1,
      msg(() => METHOD_IMPLEMENTATION),
    ),
    one(2, expr),
  ],
  (d: PackageDecoder, _: number, implementations, view) => {
    const methods = new Map<string, Expr>();
    for (const { name, value } of implementations) {
      if (methods.has(name)) d.fail(`collision on interface method name ${name}`);
      methods.set(name, value);
    }
    return { methods, view };
  },
);

const TEMPLATE_IMPLEMENTS = message(
  [
    one(1, identifier),
    one(
      2,
      msg(() => INTERFACE_INSTANCE_BODY),
    ),
    one(3, location),
  ],
  (d: PackageDecoder, _: number, iface, body, loc): TemplateImplements => {
    if (iface === undefined) d.fail('DefTemplate.Implements.interface is missing');
    if (body?.view === undefined) d.fail(`implementation of ${showId(iface)} has no view`);
    return withLocation({ iface, body: { methods: body.methods, view: body.view } }, loc);
  },
);

const DEF_TEMPLATE = message(
  [
    one(1, INDEX),
    one(2, INDEX),
    one(3, expr),
    one(4, expr),
    many(6, choice),
    one(7, expr),
    one(8, location),
    many(
      10,
      msg(() => TEMPLATE_IMPLEMENTS),
    ),
  ],
  (
    d: PackageDecoder,
    _: number,
    tycon,
    param,
    precond = TRUE,
    signatories,
    choiceList,
    observers,
    loc,
    implementations,
  ): DefTemplate => {
    const choices = d.byName(choiceList, 'choice');
    const name = d.dname(tycon ?? 0);
    if (signatories === undefined) d.fail(`template ${name.join('.')} has no signatories`);
    if (observers === undefined) d.fail(`template ${name.join('.')} has no observers`);
    const seen = new Set<Identifier>();
    for (const impl of implementations) {
      if (seen.has(impl.iface)) d.fail(`repeated interface implementation ${showId(impl.iface)}`);
      seen.add(impl.iface);
    }
    return withLocation(
      {
        tycon: name,
        param: d.name(param ?? 0),
        precond,
        signatories,
        observers,
        choices,
        implements: implementations,
      },
      loc,
    );
  },
  { refused: [[9, unsupported('contract keys (DefTemplate.key)')]] },
);

const INTERFACE_METHOD = message(
  [one(1, location), one(2, INDEX), one(3, typeRef)],
  (d: PackageDecoder, _: number, loc, nameIndex, t): InterfaceMethod => {
    const name = d.name(nameIndex ?? 0);
    if (t === undefined) d.fail(`interface method ${name} has no type`);
    return withLocation({ name, type: t }, loc);
  },
);

const DEF_INTERFACE = message(
  [
    one(1, location),
    one(2, INDEX),
    many(
      3,
      msg(() => INTERFACE_METHOD),
    ),
    one(4, INDEX),
    many(5, choice),
    one(6, typeRef),
    many(7, identifier),
  ],
  (d: PackageDecoder, _: number, loc, tycon, methodList, param, choiceList, view, requires): DefInterface => {
    const methods = d.byName(methodList, 'interface method');
    const choices = d.byName(choiceList, 'interface choice');
    requires.forEach((id, i) => {
      if (requires.indexOf(id) < i) d.fail(`repeated required interface ${showId(id)}`);
    });
    const name = d.dname(tycon ?? 0);
    if (view === undefined) d.fail(`interface ${name.join('.')} has no view type`);
    return withLocation({ tycon: name, param: d.name(param ?? 0), methods, choices, view, requires }, loc);
  },
);

const DEF_EXCEPTION = message(
  [one(1, INDEX), one(2, location), one(3, expr)],
  (d: PackageDecoder, _: number, nameIndex, loc, messageExpr): DefException => {
    const name = d.dname(nameIndex ?? 0);
    if (messageExpr === undefined) d.fail(`exception ${name.join('.')} has no message`);
    return withLocation({ name, message: messageExpr }, loc);
  },
);

/** A module's body (its name, field 1, is read with the package). */
const MODULE_BODY = message(
  [
    one(
      2,
      msg(() => FEATURE_FLAGS),
    ),
    many(
      3,
      msg(() => DEF_TYPE_SYN),
    ),
    many(
      4,
      msg(() => DEF_DATA_TYPE),
    ),
    many(
      5,
      msg(() => DEF_VALUE),
    ),
    many(
      6,
      msg(() => DEF_TEMPLATE),
    ),
    many(
      7,
      msg(() => DEF_EXCEPTION),
    ),
    many(
      8,
      msg(() => DEF_INTERFACE),
    ),
  ],
  (
    d: PackageDecoder,
    _: number,
    flags,
    synonymList,
    dataTypeList,
    valueList,
    templateList,
    exceptionList,
    interfaceList,
  ) => {
    // Canton refuses modules without the three (long mandatory) feature flags set.
    if (flags !== true) d.fail('deprecated feature flag settings detected, refusing to parse package');
    const definitions = new Set<string>();
    const define = <T extends { name: DottedName } | { tycon: DottedName }>(
      defs: readonly T[],
      shared: boolean,
      kind: string,
    ): Map<string, T> => {
      const into = new Map<string, T>();
      for (const def of defs) {
        const key = ('name' in def ? def.name : def.tycon).join('.');
        if (into.has(key) || (shared && definitions.has(key))) d.fail(`collision on ${kind} name ${key}`);
        if (shared) definitions.add(key);
        into.set(key, def);
      }
      return into;
    };
    const synonyms = define(synonymList, true, 'definition');
    const dataTypes = define(dataTypeList, true, 'definition');
    const values = define(valueList, true, 'definition');
    const templates = define(templateList, false, 'template');
    const exceptions = define(exceptionList, false, 'exception');
    const interfaces = define(interfaceList, false, 'interface');
    for (const k of templates.keys())
      if (exceptions.has(k) || interfaces.has(k))
        d.fail(`collision between template and exception/interface ${k}`);
    for (const k of exceptions.keys())
      if (interfaces.has(k)) d.fail(`collision between exception and interface ${k}`);
    return { synonyms, dataTypes, values, templates, exceptions, interfaces };
  },
);

// ----------------------------------------------------------------------------------------------------------------
// Expressions

const FIELD_WITH_EXPR = message(
  [one(3, INDEX), one(2, expr)],
  (d: PackageDecoder, _: number, field, e): FieldWithExpr => {
    if (e === undefined) d.fail('FieldWithExpr.expr is missing');
    return { field: d.name(field ?? 0), expr: e };
  },
);
const fieldWithExpr = msg(() => FIELD_WITH_EXPR);

const BINDING = message(
  [one(1, varWithType), one(2, expr)],
  (d: PackageDecoder, _: number, binder, bound): Binding => {
    if (binder === undefined || bound === undefined) d.fail('Binding lacks its binder or bound expression');
    return { binder: binder.name, type: binder.type, bound };
  },
);

const BLOCK = message(
  [
    many(
      1,
      msg(() => BINDING),
    ),
    one(2, expr),
  ],
  (d: PackageDecoder, _: number, bindings, body) => {
    if (body === undefined) d.fail('Block.body is missing');
    return { bindings, body };
  },
);
const block = msg(() => BLOCK);

const builtinCon = (code: number, d: PackageDecoder): BuiltinCon =>
  BUILTIN_CONS[code] ?? d.unknownEnum('BuiltinCon', code);

const BUILTIN_LIT = message(
  [
    oneof(
      one(
        1,
        to(SINT64, (v): BuiltinLit => ({ tag: 'Int64', value: v })),
      ),
      one(
        2,
        to(SFIXED64, (micros, d: PackageDecoder): BuiltinLit => {
          if (micros < MIN_TIMESTAMP_MICROS || micros > MAX_TIMESTAMP_MICROS)
            d.fail(`timestamp literal ${micros} is out of range`);
          return { tag: 'Timestamp', micros };
        }),
      ),
      one(
        3,
        to(INDEX, (i, d: PackageDecoder): BuiltinLit => {
          const text = d.str(i);
          const m = NUMERIC_RE.exec(text);
          const scale = m?.[2]?.length ?? 0;
          const precision = m === null ? 0 : m[1] === '0' ? scale : m[1]!.length + scale;
          if (m === null || scale > MAX_NUMERIC_SCALE || precision > MAX_NUMERIC_PRECISION)
            d.fail(`invalid numeric literal ${JSON.stringify(text.slice(0, 80))}`);
          return { tag: 'Numeric', text, scale };
        }),
      ),
      one(
        4,
        to(INDEX, (i, d: PackageDecoder): BuiltinLit => ({ tag: 'Text', value: d.str(i) })),
      ),
      one(
        5,
        to(INT32, (days, d: PackageDecoder): BuiltinLit => {
          if (days < MIN_DATE_DAYS || days > MAX_DATE_DAYS) d.fail(`date literal ${days} is out of range`);
          return { tag: 'Date', days };
        }),
      ),
      one(
        6,
        to(INT32, (code, d: PackageDecoder): BuiltinLit => {
          if (code === 0) return { tag: 'FailureCategory', value: 'InvalidIndependentOfSystemState' };
          if (code === 1) return { tag: 'FailureCategory', value: 'InvalidGivenCurrentSystemStateOther' };
          return d.unknownEnum('FailureCategory', code);
        }),
      ),
    ),
  ],
  (d: PackageDecoder, _: number, lit) => lit ?? d.fail('BuiltinLit has no case set'),
  { refused: [[1001, unsupported('rounding mode literals')]] },
);

/** `Type.Con` as used by record and variant expressions: tycon = 1, args = 2 (each an interned type). */
const TYPE_CON_APP = message(
  [one(1, identifier), many(2, typeRef)],
  (d: PackageDecoder, _: number, tycon, args): TypeConApp => {
    if (tycon === undefined) d.fail('Type.Con.tycon is missing');
    return { tycon, args };
  },
);
const typeConApp = msg(() => TYPE_CON_APP);

/** An `Expr` (or `Update`) case with a message of its own. */
function node<const S extends readonly Slot<unknown>[], T>(
  slots: S,
  build: (d: PackageDecoder, unknownField: number, ...values: Values<S>) => T,
  options?: Options,
): Value<T> {
  const schema = message(slots, build, options);
  return msg(() => schema);
}

/** `{ Type type = 1; Expr expr = 2; }` cases (OptionalSome, ToAny, FromAny, …). */
const typeAndExpr = <T>(what: string, build: (t: Type, e: Expr) => T) =>
  node([one(1, typeRef), one(2, expr)], (d: PackageDecoder, _: number, t, e) => {
    if (t === undefined || e === undefined) d.fail(`${what} lacks its type or expression`);
    return build(t, e);
  });

/** `{ TypeConId id = 1; Expr expr = 2; }` cases (interface views, signatories, create/fetch …). */
const idAndExpr = <T>(what: string, build: (id: Identifier, e: Expr) => T) =>
  node([one(1, identifier), one(2, expr)], (d: PackageDecoder, _: number, id, e) => {
    if (id === undefined || e === undefined) d.fail(`${what} lacks its type constructor or expression`);
    return build(id, e);
  });

/** `{ TypeConId 1; TypeConId 2; Expr 3 }` cases (interface conversions). */
const twoIdsAndExpr = (what: string, build: (id1: Identifier, id2: Identifier, e: Expr) => Expr) =>
  node(
    [one(1, identifier), one(2, identifier), one(3, expr)],
    (d: PackageDecoder, _: number, id1, id2, e) => {
      if (id1 === undefined || id2 === undefined || e === undefined)
        d.fail(`${what} lacks a type constructor or expression`);
      return build(id1, id2, e);
    },
  );

/** `{ TypeConId 1; TypeConId 2; Expr 3; Expr 4 }` cases (unsafe interface conversions). */
const twoIdsAndExprs = (what: string, build: (id1: Identifier, id2: Identifier, a: Expr, b: Expr) => Expr) =>
  node(
    [one(1, identifier), one(2, identifier), one(3, expr), one(4, expr)],
    (d: PackageDecoder, _: number, id1, id2, a, b) => {
      if (id1 === undefined || id2 === undefined || a === undefined || b === undefined)
        d.fail(`${what} lacks a type constructor or expression`);
      return build(id1, id2, a, b);
    },
  );

/** A message holding just a type at field 1. */
const typeOnly = (what: string, build: (t: Type) => Expr) =>
  node([one(1, typeRef)], (d: PackageDecoder, _: number, t) => build(t ?? d.fail(`${what} is missing`)));

const CASE_ALT = message(
  [
    one(1, expr),
    oneof(
      one(
        2,
        to(PRESENT, (): CasePattern => ({ tag: 'Default' })),
      ),
      one(
        3,
        node(
          [one(1, identifier), one(2, INDEX), one(3, INDEX)],
          (d: PackageDecoder, _: number, tycon, variant, binder): CasePattern => {
            if (tycon === undefined) d.fail('CaseAlt.Variant.con is missing');
            return { tag: 'Variant', tycon, variant: d.name(variant ?? 0), binder: d.name(binder ?? 0) };
          },
        ),
      ),
      one(
        4,
        to(
          INT32,
          (code, d: PackageDecoder): CasePattern => ({ tag: 'BuiltinCon', con: builtinCon(code, d) }),
        ),
      ),
      one(
        5,
        to(PRESENT, (): CasePattern => ({ tag: 'Nil' })),
      ),
      one(
        6,
        node(
          [one(1, INDEX), one(2, INDEX)],
          (d: PackageDecoder, _: number, head, tail): CasePattern => ({
            tag: 'Cons',
            head: d.name(head ?? 0),
            tail: d.name(tail ?? 0),
          }),
        ),
      ),
      one(
        7,
        to(PRESENT, (): CasePattern => ({ tag: 'OptionalNone' })),
      ),
      one(
        8,
        node(
          [one(1, INDEX)],
          (d: PackageDecoder, _: number, binder): CasePattern => ({
            tag: 'OptionalSome',
            binder: d.name(binder ?? 0),
          }),
        ),
      ),
      one(
        9,
        node([one(1, identifier), one(2, INDEX)], (d: PackageDecoder, _: number, tycon, con): CasePattern => {
          if (tycon === undefined) d.fail('CaseAlt.Enum.con is missing');
          return { tag: 'Enum', tycon, con: d.name(con ?? 0) };
        }),
      ),
    ),
  ],
  (d: PackageDecoder, _: number, body, pattern): CaseAlt => {
    if (pattern === undefined) d.fail('CaseAlt has no pattern case set');
    if (body === undefined) d.fail('CaseAlt.body is missing');
    return { pattern, body };
  },
);

/** Exercise (template = 1, choice = 6, cid = 3, arg = 5) or ExerciseInterface (1, 2, 3, 4; guard 5 is dev). */
const exercise = (viaInterface: boolean) =>
  node(
    [one(1, identifier), one(viaInterface ? 2 : 6, INDEX), one(3, expr), one(viaInterface ? 4 : 5, expr)],
    (d: PackageDecoder, _: number, id, choiceIndex, cid, arg): Update => {
      if (id === undefined || cid === undefined || arg === undefined)
        d.fail('exercise lacks its type constructor, contract id or argument');
      const name = d.name(choiceIndex ?? 0);
      return viaInterface
        ? { tag: 'ExerciseInterface', iface: id, choice: name, cid, arg }
        : { tag: 'Exercise', template: id, choice: name, cid, arg };
    },
    { refused: viaInterface ? [[5, unsupported('exercise guards')]] : [] },
  );

const keyUpdates = unsupported('contract key updates');

const UPDATE = message(
  [
    oneof(
      one(
        1,
        typeAndExpr('Update.Pure', (t, e): Update => ({ tag: 'Pure', type: t, expr: e })),
      ),
      one(
        2,
        to(block, (b): Update => ({ tag: 'Block', bindings: b.bindings, body: b.body })),
      ),
      one(
        3,
        idAndExpr('Update.Create', (template, arg): Update => ({ tag: 'Create', template, arg })),
      ),
      one(4, exercise(false)),
      one(
        5,
        idAndExpr('Update.Fetch', (template, cid): Update => ({ tag: 'Fetch', template, cid })),
      ),
      one(
        6,
        to(PRESENT, (): Update => ({ tag: 'GetTime' })),
      ),
      one(
        7,
        typeAndExpr('Update.EmbedExpr', (t, body): Update => ({ tag: 'EmbedExpr', type: t, body })),
      ),
      one(
        11,
        node(
          [one(1, typeRef), one(2, expr), one(3, INDEX), one(4, expr)],
          (d: PackageDecoder, _: number, returnType, tryExpr, binder, catchExpr): Update => {
            if (returnType === undefined || tryExpr === undefined || catchExpr === undefined)
              d.fail('TryCatch lacks its return type, body or handler');
            return { tag: 'TryCatch', returnType, tryExpr, binder: d.name(binder ?? 0), catchExpr };
          },
        ),
      ),
      one(
        12,
        idAndExpr('Update.CreateInterface', (iface, arg): Update => ({ tag: 'CreateInterface', iface, arg })),
      ),
      one(13, exercise(true)),
      one(
        14,
        idAndExpr('Update.FetchInterface', (iface, cid): Update => ({ tag: 'FetchInterface', iface, cid })),
      ),
      one(
        15,
        to(expr, (time): Update => ({ tag: 'LedgerTimeLt', time })),
      ),
    ),
  ],
  (d: PackageDecoder, unknownField: number, u) =>
    u ??
    d.fail(
      unknownField === 0
        ? 'Update has no case set'
        : `Update has no known case (unknown field ${unknownField})`,
    ),
  {
    refused: [
      [9, keyUpdates],
      [10, keyUpdates],
      [16, keyUpdates],
    ],
  },
);

const EXPR: Schema<Expr> = message(
  [
    one(1, location),
    oneof(
      one(
        2,
        to(INDEX, (i, d: PackageDecoder): Expr => ({ tag: 'Var', name: d.name(i) })),
      ),
      one(
        3,
        to(identifier, (ref): Expr => ({ tag: 'Val', ref })),
      ),
      one(
        4,
        to(INT32, (code, d: PackageDecoder): Expr => {
          const fn = builtinFunctionByNumber.get(code);
          if (fn === undefined || code === 73) {
            const dev = UNSUPPORTED_BUILTIN_FUNCTIONS.get(code);
            if (dev !== undefined) d.unsupported(`builtin ${dev}`);
            d.unknownEnum('BuiltinFunction', code);
          }
          return { tag: 'Builtin', fn };
        }),
      ),
      one(
        5,
        to(INT32, (code, d: PackageDecoder): Expr => ({ tag: 'BuiltinCon', con: builtinCon(code, d) })),
      ),
      one(
        6,
        to(
          msg(() => BUILTIN_LIT),
          (lit): Expr => ({ tag: 'BuiltinLit', lit }),
        ),
      ),
      one(
        7,
        node(
          [one(1, typeConApp), many(2, fieldWithExpr)],
          (d: PackageDecoder, _: number, tycon, fields): Expr => {
            if (tycon === undefined) d.fail('RecCon.tycon is missing');
            return { tag: 'RecCon', tycon, fields };
          },
        ),
      ),
      one(
        8,
        node(
          [one(1, typeConApp), one(4, INDEX), one(3, expr)],
          (d: PackageDecoder, _: number, tycon, field, record): Expr => {
            if (tycon === undefined || record === undefined) d.fail('RecProj lacks tycon or record');
            return { tag: 'RecProj', tycon, field: d.name(field ?? 0), record };
          },
        ),
      ),
      one(
        9,
        node(
          [one(1, typeConApp), one(2, INDEX), one(3, expr), one(4, expr)],
          (d: PackageDecoder, _: number, tycon, field, record, update): Expr => {
            if (tycon === undefined || record === undefined || update === undefined)
              d.fail('RecUpd lacks tycon, record or update');
            return { tag: 'RecUpd', tycon, field: d.name(field ?? 0), record, update };
          },
        ),
      ),
      one(
        10,
        node(
          [one(1, typeConApp), one(2, INDEX), one(3, expr)],
          (d: PackageDecoder, _: number, tycon, variant, arg): Expr => {
            if (tycon === undefined || arg === undefined) d.fail('VariantCon lacks tycon or argument');
            return { tag: 'VariantCon', tycon, variant: d.name(variant ?? 0), arg };
          },
        ),
      ),
      one(
        11,
        node([one(1, identifier), one(2, INDEX)], (d: PackageDecoder, _: number, tycon, con): Expr => {
          if (tycon === undefined) d.fail('EnumCon.tycon is missing');
          return { tag: 'EnumCon', tycon, con: d.name(con ?? 0) };
        }),
      ),
      one(
        12,
        node(
          [many(1, fieldWithExpr)],
          (_d: PackageDecoder, _u: number, fields): Expr => ({ tag: 'StructCon', fields }),
        ),
      ),
      one(
        13,
        node([one(1, INDEX), one(2, expr)], (d: PackageDecoder, _: number, field, struct): Expr => {
          if (struct === undefined) d.fail('struct projection/update lacks an expression');
          return { tag: 'StructProj', field: d.name(field ?? 0), struct };
        }),
      ),
      one(
        14,
        node(
          [one(1, INDEX), one(2, expr), one(3, expr)],
          (d: PackageDecoder, _: number, field, struct, update): Expr => {
            if (struct === undefined || update === undefined)
              d.fail('struct projection/update lacks an expression');
            return { tag: 'StructUpd', field: d.name(field ?? 0), struct, update };
          },
        ),
      ),
      one(
        15,
        node([one(1, expr), many(2, expr)], (d: PackageDecoder, _: number, fun, args): Expr => {
          if (fun === undefined) d.fail('App.fun is missing');
          if (args.length === 0) d.fail('unexpected empty App.args');
          return { tag: 'App', fun, args };
        }),
      ),
      one(
        16,
        node([one(1, expr), many(2, typeRef)], (d: PackageDecoder, _: number, e, types): Expr => {
          if (e === undefined) d.fail('TyApp.expr is missing');
          d.arity(types.length, 'TyApp.types');
          return { tag: 'TyApp', expr: e, types };
        }),
      ),
      one(
        17,
        node([many(1, varWithType), one(2, expr)], (d: PackageDecoder, _: number, params, body): Expr => {
          d.arity(params.length, 'Abs.param');
          if (body === undefined) d.fail('Abs.body is missing');
          return { tag: 'Abs', params, body };
        }),
      ),
      one(
        18,
        node([many(1, typeVarWithKind), one(2, expr)], (d: PackageDecoder, _: number, params, body): Expr => {
          d.arity(params.length, 'TyAbs.param');
          if (body === undefined) d.fail('TyAbs.body is missing');
          return { tag: 'TyAbs', params, body };
        }),
      ),
      one(
        19,
        node(
          [
            one(1, expr),
            many(
              2,
              msg(() => CASE_ALT),
            ),
          ],
          (d: PackageDecoder, _: number, scrut, alts): Expr => {
            if (scrut === undefined) d.fail('Case.scrut is missing');
            return { tag: 'Case', scrut, alts };
          },
        ),
      ),
      one(
        20,
        to(block, (b, d: PackageDecoder): Expr => {
          if (b.bindings.length === 0) d.fail('unexpected empty let bindings');
          return { tag: 'Let', bindings: b.bindings, body: b.body };
        }),
      ),
      one(
        21,
        typeOnly('Nil.type', (t) => ({ tag: 'Nil', type: t })),
      ),
      one(
        22,
        node(
          [one(1, typeRef), many(2, expr), one(3, expr)],
          (d: PackageDecoder, _: number, t, front, tail): Expr => {
            if (front.length === 0) d.fail('unexpected empty Cons.front');
            if (t === undefined || tail === undefined) d.fail('Cons lacks type or tail');
            return { tag: 'Cons', type: t, front, tail };
          },
        ),
      ),
      one(
        23,
        to(
          msg(() => UPDATE),
          (update): Expr => ({ tag: 'Update', update }),
        ),
      ),
      one(
        25,
        typeOnly('OptionalNone.type', (t) => ({ tag: 'OptionalNone', type: t })),
      ),
      one(
        26,
        typeAndExpr('OptionalSome', (t, e): Expr => ({ tag: 'OptionalSome', type: t, value: e })),
      ),
      one(
        27,
        typeAndExpr('ToAny', (t, e): Expr => ({ tag: 'ToAny', type: t, expr: e })),
      ),
      one(
        28,
        typeAndExpr('FromAny', (t, e): Expr => ({ tag: 'FromAny', type: t, expr: e })),
      ),
      one(
        29,
        to(typeRef, (t): Expr => ({ tag: 'TypeRep', type: t })),
      ),
      one(
        30,
        typeAndExpr('ToAnyException', (t, e): Expr => ({ tag: 'ToAnyException', type: t, expr: e })),
      ),
      one(
        31,
        typeAndExpr('FromAnyException', (t, e): Expr => ({ tag: 'FromAnyException', type: t, expr: e })),
      ),
      one(
        32,
        node(
          [one(1, typeRef), one(2, typeRef), one(3, expr)],
          (d: PackageDecoder, _: number, returnType, exceptionType, exception): Expr => {
            if (returnType === undefined || exceptionType === undefined || exception === undefined)
              d.fail('Throw lacks a type or the exception');
            return { tag: 'Throw', returnType, exceptionType, exception };
          },
        ),
      ),
      one(
        33,
        twoIdsAndExpr('ToInterface', (iface, template, e) => ({
          tag: 'ToInterface',
          iface,
          template,
          expr: e,
        })),
      ),
      one(
        34,
        twoIdsAndExpr('FromInterface', (iface, template, e) => ({
          tag: 'FromInterface',
          iface,
          template,
          expr: e,
        })),
      ),
      one(
        35,
        node(
          [one(1, identifier), one(2, INDEX), one(3, expr)],
          (d: PackageDecoder, _: number, iface, method, e): Expr => {
            if (iface === undefined || e === undefined) d.fail('CallInterface lacks interface or expression');
            return { tag: 'CallInterface', iface, method: d.name(method ?? 0), expr: e };
          },
        ),
      ),
      one(
        36,
        idAndExpr('SignatoryInterface', (iface, e): Expr => ({ tag: 'SignatoryInterface', iface, expr: e })),
      ),
      one(
        37,
        idAndExpr('ObserverInterface', (iface, e): Expr => ({ tag: 'ObserverInterface', iface, expr: e })),
      ),
      one(
        38,
        idAndExpr('ViewInterface', (iface, e): Expr => ({ tag: 'ViewInterface', iface, expr: e })),
      ),
      one(
        39,
        twoIdsAndExprs('UnsafeFromInterface', (iface, template, contractId, e) => ({
          tag: 'UnsafeFromInterface',
          iface,
          template,
          contractId,
          expr: e,
        })),
        (d) => {
          if (d.flat) d.unsupported('Expr.unsafe_from_interface');
        },
      ),
      one(
        40,
        idAndExpr(
          'InterfaceTemplateTypeRep',
          (iface, e): Expr => ({ tag: 'InterfaceTemplateTypeRep', iface, expr: e }),
        ),
      ),
      one(
        41,
        twoIdsAndExpr('ToRequiredInterface', (requiredIface, requiringIface, e) => ({
          tag: 'ToRequiredInterface',
          requiredIface,
          requiringIface,
          expr: e,
        })),
      ),
      one(
        42,
        twoIdsAndExpr('FromRequiredInterface', (requiredIface, requiringIface, e) => ({
          tag: 'FromRequiredInterface',
          requiredIface,
          requiringIface,
          expr: e,
        })),
      ),
      one(
        43,
        twoIdsAndExprs('UnsafeFromRequiredInterface', (requiredIface, requiringIface, contractId, e) => ({
          tag: 'UnsafeFromRequiredInterface',
          requiredIface,
          requiringIface,
          contractId,
          expr: e,
        })),
      ),
      one(
        44,
        to(INDEX, (i, d: PackageDecoder) => d.internedExpr(i)),
        unsupportedUnlessFlat('Expr.interned_expr'),
      ),
    ),
  ],
  (d: PackageDecoder, unknownField: number, loc, e): Expr => {
    if (e === undefined)
      d.fail(
        unknownField === 0
          ? 'Expr has no case set'
          : `Expr has no known case (unknown field ${unknownField})`,
      );
    return loc === undefined ? e : { tag: 'Loc', loc, expr: e };
  },
  {
    nested: true,
    refused: [
      [1001, unsupported('Expr.choice_controller')],
      [1002, unsupported('Expr.choice_observer')],
      [9999, unsupported('Expr.experimental')],
    ],
  },
);

const EXPR_ENTRY = refusing(EXPR, 44, (d) =>
  d.fail('interned expression entry refers directly to another interned expression'),
);

// ----------------------------------------------------------------------------------------------------------------
// The decoder: tables, interning and the generic loop

/**
 * Decodes the bytes of a `daml_lf_2.Package` (the `ArchivePayload.daml_lf_2` field) of a package whose id was
 * already computed from the payload. `context` names the archive in error messages.
 */
export function decodePackage(
  packageId: PackageId,
  languageVersion: LanguageVersion,
  bytes: Uint8Array,
  context: string,
): Package {
  return new PackageDecoder(packageId, languageVersion, bytes, context).package;
}

class DecodedPackage implements Package {
  private readonly cache = new Map<string, Module>();

  constructor(
    readonly id: PackageId,
    readonly languageVersion: LanguageVersion,
    readonly metadata: PackageMetadata,
    readonly moduleNames: readonly string[],
    readonly imports: readonly PackageId[] | undefined,
    private readonly moduleRanges: ReadonlyMap<string, Range>,
    private readonly decoder: PackageDecoder,
  ) {}

  module(name: string): Module | undefined {
    let m = this.cache.get(name);
    if (m === undefined) {
      const range = this.moduleRanges.get(name);
      if (range === undefined) return undefined;
      m = this.decoder.module(range);
      this.cache.set(name, m);
    }
    return m;
  }

  modules(): readonly Module[] {
    return this.moduleNames.map((n) => this.module(n)!);
  }
}

class PackageDecoder {
  readonly package: Package;
  private readonly r: WireReader;
  /** LF 2.2+: flat archive (interned kinds/exprs, TApp, singleton binders) and explicit package imports. */
  readonly flat: boolean;
  private readonly strings: readonly string[];
  /** Per interned string: 0 = not checked, 1 = valid Name, 2 = invalid. */
  private readonly nameChecks: Uint8Array;
  private readonly dnames: DottedName[] = [];
  readonly kinds: Kind[] = [];
  readonly types: Type[] = [];
  private readonly exprRanges: readonly Range[];
  private readonly exprs: Expr[] = [];
  private readonly imports: readonly string[] | undefined;
  private readonly refs = new Map<ModuleRef, Map<number, Identifier>>();
  private readonly moduleRefs = new Map<number, ModuleRef>();
  /** Index of the interning-table entry being decoded (references must point below it), or NONE. */
  currentEntry = NONE;
  currentModule: ModuleRef | undefined;
  /** Current expression/type/kind nesting, bounded so hostile archives cannot exhaust the JS stack. */
  private depth = 0;

  constructor(
    private readonly packageId: PackageId,
    readonly version: LanguageVersion,
    bytes: Uint8Array,
    private readonly context: string,
  ) {
    this.flat = version !== '2.1';
    this.r = new WireReader(bytes, context);
    const p = this.read(PACKAGE, bytes.length);
    this.strings = p.strings;
    this.nameChecks = new Uint8Array(p.strings.length);
    this.exprRanges = p.exprs;

    for (const range of p.dottedNames) this.dnames.push(this.readAt(DOTTED_NAME, range));
    if (p.metadata === undefined) this.fail(`Package.metadata is required in Daml-LF ${version}`);
    const metadata = this.readAt(METADATA, p.metadata);
    if (p.imports !== undefined && !this.flat)
      this.fail(`explicit package imports are not supported by Daml-LF ${version}`);
    if (p.imports !== undefined && p.imports !== 'reason')
      this.imports = this.readAt(PACKAGE_IMPORTS, p.imports);
    if (p.kinds.length > 0 && !this.flat) this.fail(`interned kinds are not supported by Daml-LF ${version}`);
    this.decodeTable(p.kinds, this.kinds, KIND_ENTRY);
    this.decodeTable(p.types, this.types, TYPE_ENTRY);

    const names: string[] = [];
    const byName = new Map<string, Range>();
    for (const range of p.modules) {
      const name = this.readAt(MODULE_NAME, range).join('.');
      if (byName.has(name)) this.fail(`collision on module name ${name}`);
      byName.set(name, range);
      names.push(name);
    }
    this.package = new DecodedPackage(packageId, version, metadata, names, this.imports, byName, this);
  }

  /** Reads a message of `s` ending at `end`. */
  private read<T>(s: Schema<T>, end: number): T {
    return (s.reader ?? compile(s))(this, this.r, end);
  }

  /** Enters a kind, type or expression, bounding the nesting so hostile archives cannot exhaust the JS stack. */
  enter(): void {
    if (++this.depth > MAX_NESTING)
      this.fail(`expressions or types nested deeper than ${MAX_NESTING} levels`);
  }

  leave(): void {
    this.depth--;
  }

  /** A sub-message's byte range, skipped for now. */
  range(): Range {
    const r = this.r;
    const end = r.len();
    const range: Range = [r.pos, end];
    r.pos = end;
    return range;
  }

  private readAt<T>(s: Schema<T>, [start, end]: Range): T {
    this.r.pos = start;
    return this.read(s, end);
  }

  private decodeTable<T>(ranges: readonly Range[], into: T[], entry: Schema<T>): void {
    for (let i = 0; i < ranges.length; i++) {
      this.currentEntry = i;
      into.push(this.readAt(entry, ranges[i]!));
    }
    this.currentEntry = NONE;
  }

  module(range: Range): Module {
    const saved = this.r.pos;
    const name = this.readAt(MODULE_NAME, range);
    this.currentModule = { packageId: this.packageId, module: name };
    this.depth = 0;
    try {
      return { name, ...this.readAt(MODULE_BODY, range) };
    } finally {
      this.currentModule = undefined;
      this.r.pos = saved;
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Errors, interned strings and references (used by the schemas' builders)

  fail(message: string): never {
    throw new WeftError(DamlLfErrors.DAML_LF_MALFORMED, `${this.where()}: ${message}`, {
      packageId: this.packageId,
    });
  }

  unknownEnum(what: string, value: number): never {
    throw new WeftError(
      DamlLfErrors.DAML_LF_UNKNOWN_ENUM,
      `${this.where()}: unknown ${what} value ${value}`,
      {
        packageId: this.packageId,
      },
    );
  }

  unsupported(what: string): never {
    this.fail(`${what} is not supported by Daml-LF ${this.version}`);
  }

  private where(): string {
    return this.currentModule === undefined
      ? this.context
      : `${this.context}, module ${this.currentModule.module.join('.')}`;
  }

  /** Binder lists must be non-empty, and singletons in flat archives. */
  arity(n: number, what: string): void {
    if (n === 0) this.fail(`unexpected empty ${what}`);
    if (this.flat && n !== 1) this.fail(`${what} must have exactly one element in Daml-LF ${this.version}`);
  }

  /** Named definitions by name, refusing collisions. */
  byName<T extends { name: string }>(defs: readonly T[], kind: string): Map<string, T> {
    const map = new Map<string, T>();
    for (const def of defs) {
      if (map.has(def.name)) this.fail(`collision on ${kind} name ${def.name}`);
      map.set(def.name, def);
    }
    return map;
  }

  str(i: number): string {
    const s = this.strings[i];
    if (s === undefined) this.fail(`invalid interned string index ${i}`);
    return s;
  }

  /** An interned string that must be a Daml-LF identifier (variable, field, choice… name). */
  name(i: number): string {
    const s = this.str(i);
    const check = this.nameChecks[i];
    if (check === 1) return s;
    if (check === 0 && s.length <= MAX_NAME_LENGTH && NAME_RE.test(s)) {
      this.nameChecks[i] = 1;
      return s;
    }
    this.nameChecks[i] = 2;
    return this.fail(`invalid name ${JSON.stringify(s.slice(0, 80))}`);
  }

  dname(i: number): DottedName {
    const d = this.dnames[i];
    if (d === undefined) this.fail(`invalid dotted name index ${i}`);
    return d;
  }

  packageIdString(s: string): PackageId {
    if (!PACKAGE_ID_RE.test(s)) this.fail(`invalid package id ${JSON.stringify(s.slice(0, 80))}`);
    return s;
  }

  moduleRef(slot: number, moduleName: number): ModuleRef {
    if (moduleName >= this.dnames.length) this.fail(`invalid dotted name index ${moduleName}`);
    // References repeat a lot: cache them by (package slot, module name index) without building strings.
    const key = (slot + 1) * this.dnames.length + moduleName;
    let ref = this.moduleRefs.get(key);
    if (ref === undefined) {
      ref = { packageId: this.resolvePackageSlot(slot), module: this.dname(moduleName) };
      this.moduleRefs.set(key, ref);
    }
    return ref;
  }

  private resolvePackageSlot(slot: number): PackageId {
    if (slot === -1) return this.packageId;
    const i = slot >>> 1;
    if ((slot & 1) === 0) {
      const s = this.packageIdString(this.str(i));
      if (this.flat && !STABLE_PACKAGE_IDS.has(s))
        this.fail(`package ${s} must be referenced through the import table in Daml-LF ${this.version}`);
      return s;
    }
    if (this.imports === undefined) this.fail('package_import_id used but the package has no import table');
    const id = this.imports[i];
    if (id === undefined) this.fail(`invalid imported package index ${i}`);
    return id;
  }

  identifier(module: ModuleRef, name: number): Identifier {
    let byName = this.refs.get(module);
    if (byName === undefined) {
      byName = new Map();
      this.refs.set(module, byName);
    }
    let id = byName.get(name);
    if (id === undefined) {
      id = { packageId: module.packageId, module: module.module, name: this.dname(name) };
      byName.set(name, id);
    }
    return id;
  }

  internedExpr(i: number): Expr {
    if (this.currentEntry !== NONE && i >= this.currentEntry)
      this.fail(
        `interned expression ${this.currentEntry} refers to interned expression ${i} (must be smaller)`,
      );
    if (i >= this.exprRanges.length) this.fail(`invalid interned expression index ${i}`);
    if (i >= this.exprs.length) {
      // Decode the table prefix in index order: every entry only refers to earlier ones, so no entry recurses
      // into another entry's decoding and long reference chains cannot exhaust the stack.
      const saved = this.r.pos;
      try {
        for (let j = this.exprs.length; j <= i; j++) {
          this.currentEntry = j;
          this.exprs.push(this.readAt(EXPR_ENTRY, this.exprRanges[j]!));
        }
      } finally {
        this.currentEntry = NONE;
        this.r.pos = saved;
      }
    }
    return this.exprs[i]!;
  }
}

function withLocation<T extends object>(def: T, location: Location | undefined): T & { location?: Location } {
  return location === undefined ? def : { ...def, location };
}

function showId(id: Identifier): string {
  return `${id.packageId}:${id.module.join('.')}:${id.name.join('.')}`;
}
