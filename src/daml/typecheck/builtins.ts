import type { BuiltinFunction, Kind, Type } from '../lf/ast.js';
import {
  NAT,
  STAR,
  T_ANY_EXCEPTION,
  T_BOOL,
  T_DATE,
  T_FAILURE_CATEGORY,
  T_INT64,
  T_PARTY,
  T_TEXT,
  T_TIMESTAMP,
  tContractId,
  tForall,
  tFun,
  tGenMap,
  tList,
  tNumeric,
  tOptional,
  tTextMap,
  tVar,
} from './types.js';

/*
 * The types of the 67 stable builtin functions, as Canton's `Typing.typeOfBuiltinFunction` gives them (the spec's
 * list has typos, e.g. GENMAP_LOOKUP, which the reference implementation does not).
 */

const a = tVar('a');
const b = tVar('b');
const c = tVar('c');
const forall = (vars: readonly [string, Kind][], body: Type): Type =>
  tForall(
    vars.map(([name, kind]) => ({ name, kind })),
    body,
  );
const star1 = (body: Type): Type => forall([['a', STAR]], body);
const star2 = (body: Type): Type =>
  forall(
    [
      ['a', STAR],
      ['b', STAR],
    ],
    body,
  );
const nat1 = (body: Type): Type => forall([['a', NAT]], body);
const nat2 = (body: Type): Type =>
  forall(
    [
      ['a', NAT],
      ['b', NAT],
    ],
    body,
  );

const int64Binop = tFun(T_INT64, T_INT64, T_INT64);
const comparison = star1(tFun(a, a, T_BOOL));
const numericBinop = nat1(tFun(tNumeric(a), tNumeric(a), tNumeric(a)));
// The result scale comes first: `MUL_NUMERIC @a @b @c (c-scale witness) x y`.
const numericMultiBinop = forall(
  [
    ['a', NAT],
    ['b', NAT],
    ['c', NAT],
  ],
  tFun(tNumeric(c), tNumeric(a), tNumeric(b), tNumeric(c)),
);
const numericConversion = nat2(tFun(tNumeric(b), tNumeric(a), tNumeric(b)));
const textToText = tFun(T_TEXT, T_TEXT);
const secp256k1 = tFun(T_TEXT, T_TEXT, T_TEXT, T_BOOL);
const textMapEntry: Type = {
  tag: 'Struct',
  fields: [
    { field: 'key', type: T_TEXT },
    { field: 'value', type: a },
  ],
};

export const BUILTIN_FUNCTION_TYPES: Readonly<Record<BuiltinFunction, Type>> = {
  TRACE: star1(tFun(T_TEXT, a, a)),
  ERROR: star1(tFun(T_TEXT, a)),
  EQUAL: comparison,
  LESS_EQ: comparison,
  LESS: comparison,
  GREATER_EQ: comparison,
  GREATER: comparison,
  ADD_INT64: int64Binop,
  SUB_INT64: int64Binop,
  MUL_INT64: int64Binop,
  DIV_INT64: int64Binop,
  MOD_INT64: int64Binop,
  EXP_INT64: int64Binop,
  ADD_NUMERIC: numericBinop,
  SUB_NUMERIC: numericBinop,
  MUL_NUMERIC: numericMultiBinop,
  DIV_NUMERIC: numericMultiBinop,
  ROUND_NUMERIC: nat1(tFun(T_INT64, tNumeric(a), tNumeric(a))),
  CAST_NUMERIC: numericConversion,
  SHIFT_NUMERIC: numericConversion,
  INT64_TO_NUMERIC: nat1(tFun(tNumeric(a), T_INT64, tNumeric(a))),
  NUMERIC_TO_INT64: nat1(tFun(tNumeric(a), T_INT64)),
  INT64_TO_TEXT: tFun(T_INT64, T_TEXT),
  NUMERIC_TO_TEXT: nat1(tFun(tNumeric(a), T_TEXT)),
  TIMESTAMP_TO_TEXT: tFun(T_TIMESTAMP, T_TEXT),
  DATE_TO_TEXT: tFun(T_DATE, T_TEXT),
  PARTY_TO_TEXT: tFun(T_PARTY, T_TEXT),
  TEXT_TO_PARTY: tFun(T_TEXT, tOptional(T_PARTY)),
  TEXT_TO_INT64: tFun(T_TEXT, tOptional(T_INT64)),
  TEXT_TO_NUMERIC: nat1(tFun(tNumeric(a), T_TEXT, tOptional(tNumeric(a)))),
  CONTRACT_ID_TO_TEXT: star1(tFun(tContractId(a), tOptional(T_TEXT))),
  SHA256_TEXT: textToText,
  EXPLODE_TEXT: tFun(T_TEXT, tList(T_TEXT)),
  APPEND_TEXT: tFun(T_TEXT, T_TEXT, T_TEXT),
  IMPLODE_TEXT: tFun(tList(T_TEXT), T_TEXT),
  CODE_POINTS_TO_TEXT: tFun(tList(T_INT64), T_TEXT),
  TEXT_TO_CODE_POINTS: tFun(T_TEXT, tList(T_INT64)),
  DATE_TO_UNIX_DAYS: tFun(T_DATE, T_INT64),
  UNIX_DAYS_TO_DATE: tFun(T_INT64, T_DATE),
  TIMESTAMP_TO_UNIX_MICROSECONDS: tFun(T_TIMESTAMP, T_INT64),
  UNIX_MICROSECONDS_TO_TIMESTAMP: tFun(T_INT64, T_TIMESTAMP),
  COERCE_CONTRACT_ID: star2(tFun(tContractId(a), tContractId(b))),
  FOLDL: star2(tFun(tFun(b, a, b), b, tList(a), b)),
  FOLDR: star2(tFun(tFun(a, b, b), b, tList(a), b)),
  EQUAL_LIST: star1(tFun(tFun(a, a, T_BOOL), tList(a), tList(a), T_BOOL)),
  GENMAP_EMPTY: star2(tGenMap(a, b)),
  GENMAP_INSERT: star2(tFun(a, b, tGenMap(a, b), tGenMap(a, b))),
  GENMAP_LOOKUP: star2(tFun(a, tGenMap(a, b), tOptional(b))),
  GENMAP_DELETE: star2(tFun(a, tGenMap(a, b), tGenMap(a, b))),
  GENMAP_KEYS: star2(tFun(tGenMap(a, b), tList(a))),
  GENMAP_VALUES: star2(tFun(tGenMap(a, b), tList(b))),
  GENMAP_SIZE: star2(tFun(tGenMap(a, b), T_INT64)),
  TEXTMAP_EMPTY: star1(tTextMap(a)),
  TEXTMAP_INSERT: star1(tFun(T_TEXT, a, tTextMap(a), tTextMap(a))),
  TEXTMAP_LOOKUP: star1(tFun(T_TEXT, tTextMap(a), tOptional(a))),
  TEXTMAP_DELETE: star1(tFun(T_TEXT, tTextMap(a), tTextMap(a))),
  TEXTMAP_TO_LIST: star1(tFun(tTextMap(a), tList(textMapEntry))),
  TEXTMAP_SIZE: star1(tFun(tTextMap(a), T_INT64)),
  ANY_EXCEPTION_MESSAGE: tFun(T_ANY_EXCEPTION, T_TEXT),
  FAIL_WITH_STATUS: star1(tFun(T_TEXT, T_FAILURE_CATEGORY, T_TEXT, tTextMap(T_TEXT), a)),
  KECCAK256_TEXT: textToText,
  SECP256K1_BOOL: secp256k1,
  HEX_TO_TEXT: textToText,
  TEXT_TO_HEX: textToText,
  SHA256_HEX: textToText,
  SECP256K1_WITH_ECDSA_BOOL: secp256k1,
  SECP256K1_VALIDATE_KEY: tFun(T_TEXT, T_BOOL),
};
