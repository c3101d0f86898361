import type { BuiltinFunction } from '../lf/ast.js';
import { checkComparable, compareValues, valuesEqual } from '../values/compare.js';
import { crash, interpretationError } from '../values/errors.js';
import {
  type Numeric,
  numericAdd,
  numericCast,
  numericDiv,
  numericFromInt64,
  numericMul,
  numericRound,
  numericShift,
  numericSub,
  numericToInt64,
  numericToText,
  parseNumericText,
} from '../values/numeric.js';
import { type Compare, mapDelete, mapEntries, mapInsert, mapLookup, mapSize } from '../values/sorted-map.js';
import { explodeText, isScalarValue, isValidParty, textToCodePoints } from '../values/text.js';
import { formatDate, formatTimestamp, isValidDate, isValidTimestamp } from '../values/time.js';
import {
  bool,
  date,
  EMPTY_GEN_MAP,
  EMPTY_TEXT_MAP,
  type FunctionCode,
  type GenMapValue,
  int64,
  type ListValue,
  listFromArray,
  NONE,
  numeric,
  optional,
  party,
  some,
  struct,
  type TextMapValue,
  text,
  timestamp,
  type Value,
} from '../values/value.js';
import {
  hexToText,
  keccak256Hex,
  secp256k1ValidateKey,
  secp256k1VerifyDigest,
  secp256k1VerifyMessage,
  sha256Hex,
  sha256Text,
  textToHex,
} from './crypto.js';

/** What builtins may observe of their surroundings. */
export interface BuiltinEnv {
  /** True while interpreting ledger code: `CONTRACT_ID_TO_TEXT` then returns `None`. */
  readonly onLedger: boolean;
  /** Receives `TRACE` messages. */
  trace(message: string): void;
}

/**
 * A builtin function. `run` computes a saturated call; it is absent for the four builtins that call back into
 * Daml code (FOLDL, FOLDR, EQUAL_LIST, ANY_EXCEPTION_MESSAGE), which the interpreter implements.
 */
export interface BuiltinDef extends FunctionCode {
  readonly name: BuiltinFunction;
  readonly run: ((args: readonly Value[], env: BuiltinEnv) => Value) | undefined;
}

/**
 * Thrown by a builtin that raises Daml's `ArithmeticError`: the interpreter turns it into a catchable exception
 * whose message is `ArithmeticError while evaluating (NAME arg…).`.
 */
export class ArithmeticFailure {
  readonly message: string;

  constructor(builtin: BuiltinFunction, args: readonly Value[]) {
    this.message = `ArithmeticError while evaluating (${[builtin, ...args.map(literalToText)].join(' ')}).`;
  }
}

/** How arithmetic errors print their arguments (the reference engine's `litToText`). */
export function literalToText(v: Value): string {
  switch (v.kind) {
    case 'Bool':
      return v.value ? 'true' : 'false';
    case 'Int64':
      return v.value.toString();
    case 'Timestamp':
      return formatTimestamp(v.micros);
    case 'Text':
    case 'Party':
      return v.value;
    case 'Unit':
      return '<unit>';
    case 'Date':
      return formatDate(v.days);
    case 'Numeric':
      return numericToText(v);
    default:
      return crash(`no literal text for a ${v.kind} value`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Argument access; a mismatch means the program is ill-typed.

function expect<K extends Value['kind']>(v: Value | undefined, kind: K): Extract<Value, { kind: K }> {
  if (v?.kind !== kind) return crash(`builtin expected a ${kind} argument, got ${v?.kind}`);
  return v as Extract<Value, { kind: K }>;
}

const int = (args: readonly Value[], i: number) => expect(args[i], 'Int64').value;
const num = (args: readonly Value[], i: number): Numeric => expect(args[i], 'Numeric');
const str = (args: readonly Value[], i: number) => expect(args[i], 'Text').value;
const list = (args: readonly Value[], i: number): ListValue => expect(args[i], 'List');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const inInt64 = (i: bigint) => i >= INT64_MIN && i <= INT64_MAX;

/** Runs `f`; `undefined` from it raises ArithmeticError. */
function arithmetic(name: BuiltinFunction, f: (args: readonly Value[]) => Value | undefined) {
  return (args: readonly Value[]): Value => {
    const result = f(args);
    if (result === undefined) throw new ArithmeticFailure(name, args);
    return result;
  };
}

function int64Op(name: BuiltinFunction, op: (x: bigint, y: bigint) => bigint | undefined) {
  return arithmetic(name, (args) => {
    const r = op(int(args, 0), int(args, 1));
    return r === undefined || !inInt64(r) ? undefined : int64(r);
  });
}

/** Exponentiation by squaring with the reference engine's overflow points (intermediate squares included). */
function expInt64(base: bigint, exponent: bigint): bigint | undefined {
  if (exponent < 0n) return undefined;
  if (exponent === 0n) return 1n;
  let x = base;
  let y = 1n;
  let n = exponent;
  while (n > 1n) {
    if (n % 2n === 1n) {
      y *= x;
      if (!inInt64(y)) return undefined;
    }
    x *= x;
    if (!inInt64(x)) return undefined;
    n >>= 1n;
  }
  return x * y;
}

function numericResult(n: Numeric | undefined): Value | undefined {
  return n === undefined ? undefined : numeric(n.unscaled, n.scale);
}

// ---------------------------------------------------------------------------------------------------------------
// Maps

const compareTextKeys: Compare = (a, b) => compareValues(a, b);

function textMap(args: readonly Value[], i: number): TextMapValue {
  return expect(args[i], 'TextMap');
}

function genMap(args: readonly Value[], i: number): GenMapValue {
  return expect(args[i], 'GenMap');
}

/** The GenMap key check: a key must be comparable with itself (no functions, no incomparable contract ids). */
function genKey(args: readonly Value[], i: number): Value {
  const key = args[i]!;
  checkComparable(key);
  return key;
}

function textMapToList(m: TextMapValue): ListValue {
  return listFromArray(
    mapEntries(m.map).map((e) =>
      struct([
        ['key', e.key],
        ['value', e.value],
      ]),
    ),
  );
}

function failWithStatus(args: readonly Value[]): never {
  const metadata = new Map<string, string>();
  for (const e of mapEntries(textMap(args, 3).map)) {
    metadata.set(expect(e.key, 'Text').value, expect(e.value, 'Text').value);
  }
  const message = str(args, 2);
  return interpretationError(
    {
      kind: 'FailureStatus',
      errorId: str(args, 0),
      categoryId: Number(int(args, 1)),
      message,
      metadata,
    },
    message,
  );
}

function codePointsToText(codePoints: ListValue): Value {
  let out = '';
  for (let l = codePoints; l.tail !== undefined; l = l.tail) {
    const cp = expect(l.head, 'Int64').value;
    if (!isScalarValue(cp)) {
      return interpretationError(
        { kind: 'UserError', message: `invalid code point 0x${cp.toString(16)}.` },
        `CODE_POINTS_TO_TEXT: invalid code point 0x${cp.toString(16)}.`,
      );
    }
    out += String.fromCodePoint(Number(cp));
  }
  return text(out);
}

const TEXT_INT64 = /^[+-]?\d+$/;

function textToInt64(s: string): Value {
  if (!TEXT_INT64.test(s)) return NONE;
  // Cheap rejection of long digit strings before BigInt parsing (leading zeros are allowed).
  const digits = s.replace(/^[+-]?0*/, '');
  if (digits.length > 19) return NONE;
  const i = BigInt(s);
  return inInt64(i) ? some(int64(i)) : NONE;
}

// ---------------------------------------------------------------------------------------------------------------
// The table

type Run = BuiltinDef['run'];

const defs: [BuiltinFunction, number, Run][] = [
  [
    'TRACE',
    2,
    (args, env) => {
      env.trace(str(args, 0));
      return args[1]!;
    },
  ],
  ['ERROR', 1, (args) => interpretationError({ kind: 'UserError', message: str(args, 0) }, str(args, 0))],
  ['EQUAL', 2, (args) => bool(valuesEqual(args[0]!, args[1]!))],
  ['LESS_EQ', 2, (args) => bool(compareValues(args[0]!, args[1]!) <= 0)],
  ['LESS', 2, (args) => bool(compareValues(args[0]!, args[1]!) < 0)],
  ['GREATER_EQ', 2, (args) => bool(compareValues(args[0]!, args[1]!) >= 0)],
  ['GREATER', 2, (args) => bool(compareValues(args[0]!, args[1]!) > 0)],

  ['ADD_INT64', 2, int64Op('ADD_INT64', (x, y) => x + y)],
  ['SUB_INT64', 2, int64Op('SUB_INT64', (x, y) => x - y)],
  ['MUL_INT64', 2, int64Op('MUL_INT64', (x, y) => x * y)],
  ['DIV_INT64', 2, int64Op('DIV_INT64', (x, y) => (y === 0n ? undefined : x / y))],
  ['MOD_INT64', 2, int64Op('MOD_INT64', (x, y) => (y === 0n ? undefined : x % y))],
  ['EXP_INT64', 2, int64Op('EXP_INT64', expInt64)],

  ['ADD_NUMERIC', 2, arithmetic('ADD_NUMERIC', (a) => numericResult(numericAdd(num(a, 0), num(a, 1))))],
  ['SUB_NUMERIC', 2, arithmetic('SUB_NUMERIC', (a) => numericResult(numericSub(num(a, 0), num(a, 1))))],
  [
    'MUL_NUMERIC',
    3,
    arithmetic('MUL_NUMERIC', (a) => numericResult(numericMul(num(a, 0).scale, num(a, 1), num(a, 2)))),
  ],
  [
    'DIV_NUMERIC',
    3,
    arithmetic('DIV_NUMERIC', (a) => numericResult(numericDiv(num(a, 0).scale, num(a, 1), num(a, 2)))),
  ],
  ['ROUND_NUMERIC', 2, arithmetic('ROUND_NUMERIC', (a) => numericResult(numericRound(int(a, 0), num(a, 1))))],
  [
    'CAST_NUMERIC',
    2,
    arithmetic('CAST_NUMERIC', (a) => numericResult(numericCast(num(a, 0).scale, num(a, 1)))),
  ],
  [
    'SHIFT_NUMERIC',
    2,
    (a) => {
      const r = numericShift(num(a, 0).scale, num(a, 1));
      return numeric(r.unscaled, r.scale);
    },
  ],
  [
    'INT64_TO_NUMERIC',
    2,
    arithmetic('INT64_TO_NUMERIC', (a) => numericResult(numericFromInt64(num(a, 0).scale, int(a, 1)))),
  ],
  [
    'NUMERIC_TO_INT64',
    1,
    arithmetic('NUMERIC_TO_INT64', (a) => {
      const i = numericToInt64(num(a, 0));
      return i === undefined ? undefined : int64(i);
    }),
  ],

  ['INT64_TO_TEXT', 1, (a) => text(int(a, 0).toString())],
  ['NUMERIC_TO_TEXT', 1, (a) => text(numericToText(num(a, 0)))],
  ['TIMESTAMP_TO_TEXT', 1, (a) => text(formatTimestamp(expect(a[0], 'Timestamp').micros))],
  ['DATE_TO_TEXT', 1, (a) => text(formatDate(expect(a[0], 'Date').days))],
  ['PARTY_TO_TEXT', 1, (a) => text(expect(a[0], 'Party').value)],
  ['TEXT_TO_PARTY', 1, (a) => (isValidParty(str(a, 0)) ? some(party(str(a, 0))) : NONE)],
  ['TEXT_TO_INT64', 1, (a) => textToInt64(str(a, 0))],
  [
    'TEXT_TO_NUMERIC',
    2,
    (a) => {
      const n = parseNumericText(num(a, 0).scale, str(a, 1));
      return n === undefined ? NONE : some(numeric(n.unscaled, n.scale));
    },
  ],
  // Off-ledger code (tests, scripts) may show contract ids; ledger code must not depend on their text.
  [
    'CONTRACT_ID_TO_TEXT',
    1,
    (a, env) => (env.onLedger ? NONE : some(text(expect(a[0], 'ContractId').cid.coid))),
  ],
  ['SHA256_TEXT', 1, (a) => text(sha256Text(str(a, 0)))],
  ['EXPLODE_TEXT', 1, (a) => listFromArray(explodeText(str(a, 0)).map(text))],
  ['APPEND_TEXT', 2, (a) => text(str(a, 0) + str(a, 1))],
  [
    'IMPLODE_TEXT',
    1,
    (a) => {
      let out = '';
      for (let l = list(a, 0); l.tail !== undefined; l = l.tail) out += expect(l.head, 'Text').value;
      return text(out);
    },
  ],
  ['CODE_POINTS_TO_TEXT', 1, (a) => codePointsToText(list(a, 0))],
  [
    'TEXT_TO_CODE_POINTS',
    1,
    (a) => listFromArray(textToCodePoints(str(a, 0)).map((cp) => int64(BigInt(cp)))),
  ],
  ['DATE_TO_UNIX_DAYS', 1, (a) => int64(BigInt(expect(a[0], 'Date').days))],
  [
    'UNIX_DAYS_TO_DATE',
    1,
    arithmetic('UNIX_DAYS_TO_DATE', (a) => {
      const days = int(a, 0);
      return days >= -(2n ** 31n) && days < 2n ** 31n && isValidDate(Number(days))
        ? date(Number(days))
        : undefined;
    }),
  ],
  ['TIMESTAMP_TO_UNIX_MICROSECONDS', 1, (a) => int64(expect(a[0], 'Timestamp').micros)],
  [
    'UNIX_MICROSECONDS_TO_TIMESTAMP',
    1,
    arithmetic('UNIX_MICROSECONDS_TO_TIMESTAMP', (a) =>
      isValidTimestamp(int(a, 0)) ? timestamp(int(a, 0)) : undefined,
    ),
  ],
  ['COERCE_CONTRACT_ID', 1, (a) => expect(a[0], 'ContractId')],

  ['FOLDL', 3, undefined],
  ['FOLDR', 3, undefined],
  ['EQUAL_LIST', 3, undefined],

  ['GENMAP_EMPTY', 0, () => EMPTY_GEN_MAP],
  [
    'GENMAP_INSERT',
    3,
    (a) => ({ kind: 'GenMap', map: mapInsert(genMap(a, 2).map, genKey(a, 0), a[1]!, compareValues) }),
  ],
  ['GENMAP_LOOKUP', 2, (a) => optional(mapLookup(genMap(a, 1).map, genKey(a, 0), compareValues))],
  [
    'GENMAP_DELETE',
    2,
    (a) => {
      const m = genMap(a, 1);
      const map = mapDelete(m.map, genKey(a, 0), compareValues);
      return map === m.map ? m : { kind: 'GenMap', map };
    },
  ],
  ['GENMAP_KEYS', 1, (a) => listFromArray(mapEntries(genMap(a, 0).map).map((e) => e.key))],
  ['GENMAP_VALUES', 1, (a) => listFromArray(mapEntries(genMap(a, 0).map).map((e) => e.value))],
  ['GENMAP_SIZE', 1, (a) => int64(BigInt(mapSize(genMap(a, 0).map)))],

  ['TEXTMAP_EMPTY', 0, () => EMPTY_TEXT_MAP],
  [
    'TEXTMAP_INSERT',
    3,
    (a) => ({
      kind: 'TextMap',
      map: mapInsert(textMap(a, 2).map, expect(a[0], 'Text'), a[1]!, compareTextKeys),
    }),
  ],
  ['TEXTMAP_LOOKUP', 2, (a) => optional(mapLookup(textMap(a, 1).map, expect(a[0], 'Text'), compareTextKeys))],
  [
    'TEXTMAP_DELETE',
    2,
    (a) => {
      const m = textMap(a, 1);
      const map = mapDelete(m.map, expect(a[0], 'Text'), compareTextKeys);
      return map === m.map ? m : { kind: 'TextMap', map };
    },
  ],
  ['TEXTMAP_TO_LIST', 1, (a) => textMapToList(textMap(a, 0))],
  ['TEXTMAP_SIZE', 1, (a) => int64(BigInt(mapSize(textMap(a, 0).map)))],

  ['ANY_EXCEPTION_MESSAGE', 1, undefined],
  ['FAIL_WITH_STATUS', 4, failWithStatus],

  ['KECCAK256_TEXT', 1, (a) => text(keccak256Hex(str(a, 0)))],
  ['SECP256K1_BOOL', 3, (a) => bool(secp256k1VerifyMessage(str(a, 0), str(a, 1), str(a, 2)))],
  ['HEX_TO_TEXT', 1, (a) => text(hexToText(str(a, 0)))],
  ['TEXT_TO_HEX', 1, (a) => text(textToHex(str(a, 0)))],
  ['SHA256_HEX', 1, (a) => text(sha256Hex(str(a, 0)))],
  ['SECP256K1_WITH_ECDSA_BOOL', 3, (a) => bool(secp256k1VerifyDigest(str(a, 0), str(a, 1), str(a, 2)))],
  ['SECP256K1_VALIDATE_KEY', 1, (a) => bool(secp256k1ValidateKey(str(a, 0)))],
];

/** Every stable LF 2.1/2.2 builtin by name. */
export const BUILTINS: ReadonlyMap<BuiltinFunction, BuiltinDef> = new Map(
  defs.map(([name, arity, run]) => [name, Object.freeze({ name, arity, run })]),
);

/** The definition of `name` (every name of the AST's builtin enum has one). */
export function builtin(name: BuiltinFunction): BuiltinDef {
  return BUILTINS.get(name) ?? crash(`unknown builtin ${name}`);
}
