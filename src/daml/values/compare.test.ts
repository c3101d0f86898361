import { describe, expect, it } from 'vitest';
import type { Identifier, Type } from '../lf/ast.js';
import { compareTypes, compareValues, valuesEqual } from './compare.js';
import { type ContractId, parseContractId } from './contract-id.js';
import { DamlInterpretationError } from './errors.js';
import { mapInsert } from './sorted-map.js';
import { compareText } from './text.js';
import {
  bool,
  cons,
  contractId,
  date,
  FALSE,
  type FunctionValue,
  int64,
  listFromArray,
  NIL,
  NONE,
  numeric,
  party,
  record,
  some,
  struct,
  TRUE,
  text,
  timestamp,
  UNIT,
  type Value,
} from './value.js';

const id = (packageId: string, module: string, name: string): Identifier => ({
  packageId,
  module: module.split('.'),
  name: name.split('.'),
});
const T = id('pkg', 'Mod', 'T');
const con = (tycon: Identifier, ...args: Type[]): Type => ({ tag: 'Con', tycon, args });
const builtinT = (builtin: Extract<Type, { tag: 'Builtin' }>['builtin'], ...args: Type[]): Type => ({
  tag: 'Builtin',
  builtin,
  args,
});

const cid = (hex: string): ContractId => {
  const c = parseContractId(hex);
  if (c === undefined) throw new Error(`bad cid ${hex}`);
  return c;
};
const v1 = (disc: string, suffix = '') => contractId(cid(`00${disc.repeat(32)}${suffix}`));
const v2 = (local: string, suffix = '') => contractId(cid(`01${local.repeat(12)}${suffix}`));

const fn: FunctionValue = { kind: 'Function', code: { arity: 1, name: 'f' }, free: [], args: [] };

function errorKind(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DamlInterpretationError) return e.detail.kind;
    throw e;
  }
  return 'none';
}

/** Asserts that `values` is strictly increasing under the generic order, and equality agrees. */
function expectAscending(values: Value[]) {
  for (let i = 0; i < values.length; i++) {
    for (let j = 0; j < values.length; j++) {
      expect(compareValues(values[i]!, values[j]!), `${i} vs ${j}`).toBe(Math.sign(i - j));
      expect(valuesEqual(values[i]!, values[j]!)).toBe(i === j);
    }
  }
}

describe('text order', () => {
  it('orders by code point, not by UTF-16 unit', () => {
    // U+FFFF is one unit 0xFFFF; U+10000 is the pair D800 DC00, which UTF-16 order puts first.
    expect('\uffff' < '\u{10000}').toBe(false);
    expect(compareText('\uffff', '\u{10000}')).toBeLessThan(0);
    expect(compareText('｡', '😂')).toBeLessThan(0);
    expect(compareText('a\u{1f602}', 'a\u{1f603}')).toBeLessThan(0);
    expect(compareText('\u{1f602}b', '\u{1f602}a')).toBeGreaterThan(0);
    expect(compareText('ab', 'a')).toBeGreaterThan(0);
    const sorted = ['', '1.1', 'a', 'aa', 'ab', 'a¶‱😂', 'a¶‱😃', 'b', '¶', '‱', '｡', '😂', '😃'];
    expect([...sorted].reverse().sort(compareText)).toEqual(sorted);
    expectAscending(sorted.map(text));
  });
});

describe('generic order', () => {
  it('orders primitive values', () => {
    expectAscending([UNIT]);
    expectAscending([FALSE, TRUE]);
    expectAscending([int64(-(2n ** 63n)), int64(-1n), int64(0n), int64(2n ** 63n - 1n)]);
    expectAscending([numeric(-15n, 1), numeric(0n, 1), numeric(25n, 1)]);
    expectAscending([date(-719162), date(0), date(2932896)]);
    expectAscending([timestamp(-62135596800000000n), timestamp(0n), timestamp(253402300799999999n)]);
    expectAscending([party('Alice'), party('Bob'), party('alice')]);
  });

  it('orders lists lexicographically and optionals None first', () => {
    const l = (...xs: bigint[]) => listFromArray(xs.map(int64));
    expectAscending([NIL, l(1n), l(1n, 1n), l(1n, 2n), l(2n)]);
    expectAscending([NONE, some(int64(-5n)), some(int64(3n))]);
  });

  it('orders records field by field and variants and enums by constructor rank', () => {
    const r = (a: bigint, b: string) => record(T, ['a', 'b'], [int64(a), text(b)]);
    expectAscending([r(1n, 'z'), r(2n, 'a'), r(2n, 'b')]);
    const variant = (rank: number, value: Value): Value => ({
      kind: 'Variant',
      tycon: T,
      constructor: `C${rank}`,
      rank,
      value,
    });
    expectAscending([variant(0, int64(9n)), variant(1, int64(1n)), variant(1, int64(2n))]);
    const enumV = (rank: number): Value => ({ kind: 'Enum', tycon: T, constructor: `E${rank}`, rank });
    expectAscending([enumV(0), enumV(1), enumV(2)]);
    expectAscending([
      struct([
        ['y', int64(0n)],
        ['x', int64(1n)],
      ]),
      struct([
        ['x', int64(1n)],
        ['y', int64(1n)],
      ]),
    ]);
  });

  it('orders maps by interleaved keys and values', () => {
    const m = (...entries: [string, bigint][]): Value => {
      let map = null;
      for (const [k, v] of entries) map = mapInsert(map, text(k), int64(v), compareValues);
      return { kind: 'TextMap', map };
    };
    expectAscending([m(), m(['a', 1n]), m(['a', 1n], ['b', 0n]), m(['a', 2n]), m(['b', 0n])]);
  });

  it('orders Any by type first and TypeRep by the type order', () => {
    const any = (type: Type, value: Value): Value => ({ kind: 'Any', type, value });
    expectAscending([
      any(builtinT('INT64'), int64(5n)),
      any(builtinT('TEXT'), text('a')),
      any(builtinT('TEXT'), text('b')),
    ]);
    const rep = (type: Type): Value => ({ kind: 'TypeRep', type });
    expectAscending([
      rep(builtinT('UNIT')),
      rep(builtinT('INT64')),
      rep(builtinT('TEXTMAP')),
      rep(con(id('a', 'Z', 'Z'))),
      rep(con(id('b', 'A', 'A'))),
      rep(con(id('b', 'A', 'B'))),
      rep(con(id('b', 'A.B', 'A'))),
      rep({ tag: 'Nat', value: 3 }),
      rep({ tag: 'Struct', fields: [{ field: 'a', type: builtinT('INT64') }] }),
      rep(builtinT('LIST', builtinT('BOOL'))),
      rep(builtinT('LIST', builtinT('INT64'))),
      rep(con(T, builtinT('INT64'))),
      rep(con(T, builtinT('INT64'), builtinT('INT64'))),
    ]);
  });

  it('follows the reference type order (builtin < tycon < nat < struct < application)', () => {
    expect(compareTypes(builtinT('TEXTMAP'), con(T))).toBeLessThan(0);
    expect(
      compareTypes(
        builtinT('NUMERIC', { tag: 'Nat', value: 10 }),
        builtinT('NUMERIC', { tag: 'Nat', value: 2 }),
      ),
    ).toBe(1);
    // An application is compared function part first: T a < (U b) c because T < U b (tycon < application).
    expect(
      compareTypes(con(T, builtinT('UNIT')), con(id('pkg', 'Mod', 'A'), builtinT('UNIT'), builtinT('UNIT'))),
    ).toBe(-1);
  });

  it('refuses to compare functions', () => {
    expect(errorKind(() => compareValues(fn, fn))).toBe('NonComparableValues');
    expect(errorKind(() => valuesEqual(some(fn), some(fn)))).toBe('NonComparableValues');
    // ... but stops before reaching them when an earlier component differs.
    expect(valuesEqual(listFromArray([int64(1n), fn]), listFromArray([int64(2n), fn]))).toBe(false);
  });

  it('compares 100 000-element lists without deep recursion', () => {
    let a = NIL;
    let b = NIL;
    for (let i = 0; i < 100_000; i++) {
      a = cons(some(int64(BigInt(i))), a);
      b = cons(some(int64(BigInt(i))), b);
    }
    expect(valuesEqual(a, b)).toBe(true);
    expect(compareValues(cons(int64(0n), a), cons(int64(0n), b))).toBe(0);
    expect(compareValues(a, cons(some(int64(0n)), b))).toBe(1);
  });

  it('uses bool() singletons', () => {
    expect(bool(true)).toBe(TRUE);
  });
});

describe('contract id comparability', () => {
  it('orders V1 before V2 and by bytes', () => {
    expectAscending([v1('00'), v1('01'), v1('ff'), v2('00'), v2('80')]);
    expectAscending([v1('01', '00'), v1('01', '01'), v1('01', 'ff')]);
    expectAscending([v2('01', '80'), v2('01', 'ff')]);
  });

  it('rejects comparing a local id with a suffixed id of the same prefix', () => {
    expect(errorKind(() => compareValues(v1('01'), v1('01', 'aa')))).toBe('ContractIdComparability');
    expect(errorKind(() => valuesEqual(v1('01', 'aa'), v1('01')))).toBe('ContractIdComparability');
    expect(errorKind(() => compareValues(v2('01'), v2('01', '80')))).toBe('ContractIdComparability');
    // Different prefixes are fine, and so is comparing an id with itself.
    expect(valuesEqual(v1('01'), v1('02', 'aa'))).toBe(false);
    expect(valuesEqual(v1('01'), v1('01'))).toBe(true);
    expect(valuesEqual(v1('01', 'aa'), v1('01', 'bb'))).toBe(false);
  });

  it('rejects relative V2 suffixes that differ', () => {
    expect(errorKind(() => compareValues(v2('01', '10'), v2('01', '11')))).toBe('ContractIdComparability');
    expect(errorKind(() => valuesEqual(v2('01', '80'), v2('01', '11')))).toBe('ContractIdComparability');
    expect(valuesEqual(v2('01', '80'), v2('01', '81'))).toBe(false);
  });

  it('parses only well-formed ids', () => {
    expect(parseContractId(`00${'ab'.repeat(31)}`)).toBeUndefined();
    expect(parseContractId(`02${'ab'.repeat(32)}`)).toBeUndefined();
    expect(parseContractId(`00${'AB'.repeat(32)}`)).toBeUndefined();
    expect(parseContractId(`01${'ab'.repeat(12)}${'00'.repeat(34)}`)).toBeUndefined();
    expect(parseContractId(`01${'ab'.repeat(12)}${'00'.repeat(33)}`)?.version).toBe(2);
  });
});
