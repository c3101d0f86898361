import { beforeAll, describe, expect, it } from 'vitest';
import { PING_DAR } from '../dar/testing.js';
import type { Identifier } from '../lf/ast.js';
import { DamlInterpretationError } from '../values/errors.js';
import { parseNumericLiteral } from '../values/numeric.js';
import { parseDate, parseTimestamp } from '../values/time.js';
import {
  date,
  type EnumValue,
  int64,
  type ListValue,
  listFromArray,
  listToArray,
  NONE,
  numeric,
  party,
  type RecordValue,
  some,
  text,
  timestamp,
  type Value,
} from '../values/value.js';
import { DarFixture } from './testing.js';

/**
 * Real daml-stdlib and daml-prim functions, taken by name from the ping DAR (LF 2.2), with the answers Daml
 * defines for them.
 */

let f: DarFixture;
beforeAll(() => {
  f = new DarFixture(PING_DAR);
});

const i = (n: number | bigint) => int64(BigInt(n));
const ints = (xs: readonly (number | bigint)[]) => listFromArray(xs.map(i));
const texts = (xs: readonly string[]) => listFromArray(xs.map(text));
const n = (s: string) => {
  const v = parseNumericLiteral(s)!;
  return numeric(v.unscaled, v.scale);
};
const unText = (v: Value) => (v.kind === 'Text' ? v.value : `<${v.kind}>`);
const unInts = (v: Value) => listToArray(v as ListValue).map((x) => (x.kind === 'Int64' ? x.value : -999n));

const stdlib = (module: string, name: string) => f.value(module, name, 'daml-stdlib');
const prim = (module: string, name: string) => f.value(module, name, 'daml-prim');
const tupleId = (): Identifier => ({
  packageId: f.package('daml-prim-DA-Types').id,
  module: ['DA', 'Types'],
  name: ['Tuple2'],
});
const tuple = (a: Value, b: Value): RecordValue => ({
  kind: 'Record',
  tycon: tupleId(),
  fields: ['_1', '_2'],
  values: [a, b],
});
const month = (index: number): EnumValue => ({
  kind: 'Enum',
  tycon: {
    packageId: f.package('daml-stdlib-DA-Date-Types').id,
    module: ['DA', 'Date', 'Types'],
    name: ['Month'],
  },
  constructor: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][index]!,
  rank: index,
});

/** `show @t x` through the `Show t` dictionary. */
const show = (dict: Value, x: Value) => unText(f.call(prim('GHC.Show', 'show'), dict, x));

describe('Show instances', () => {
  it('shows Int, Numeric, Bool, Text and lists', () => {
    const showInt = f.instance('Show', 'Int');
    expect(show(showInt, i(-42))).toBe('-42');
    expect(show(f.instance('Show', 'Numeric'), n('1.5000000000'))).toBe('1.5');
    expect(show(f.instance('Show', 'Numeric'), n('0.0000000000'))).toBe('0.0');
    expect(show(f.instance('Show', 'Numeric'), n('-100.00'))).toBe('-100.0');
    expect(show(f.instance('Show', 'Bool'), { kind: 'Bool', value: true })).toBe('True');
    const showList = f.call(f.instance('Show', '[]'), showInt);
    expect(show(showList, ints([1, 2, 3]))).toBe('[1,2,3]');
    expect(show(showList, ints([]))).toBe('[]');
  });

  it('escapes text like Haskell (control characters, non-ASCII code points, \\& protection)', () => {
    const showText = f.instance('Show', 'Text');
    expect(show(showText, text('a"b\\c\n\t'))).toBe('"a\\"b\\\\c\\n\\t"');
    expect(show(showText, text('é1 😂x'))).toBe('"\\233\\&1 \\128514x"');
    expect(show(showText, text('\u000eH\u007f'))).toBe('"\\SO\\&H\\DEL"');
  });

  it('shows tuples, optionals, parties, dates, times and records', () => {
    const pair = f.call(f.instance('Show', '(,)'), f.instance('Show', 'Int'), f.instance('Show', 'Text'));
    expect(show(pair, tuple(i(1), text('a')))).toBe('(1,"a")');
    const optional = f.call(f.instance('Show', 'Optional'), f.instance('Show', 'Int'));
    expect(show(optional, some(i(5)))).toBe('Some 5');
    expect(show(optional, NONE)).toBe('None');
    expect(show(f.instance('Show', 'Party'), party('alice'))).toBe("'alice'");
    expect(show(f.instance('Show', 'Date'), date(parseDate('0099-03-01')!))).toBe('0099-03-01');
    expect(show(f.instance('Show', 'Time'), timestamp(parseTimestamp('2024-02-29T12:34:56.78Z')!))).toBe(
      '2024-02-29T12:34:56.780Z',
    );
    const relTime = f.call(stdlib('DA.Time', 'microseconds'), i(-5));
    expect(show(f.instance('Show', 'RelTime'), relTime)).toBe('RelTime {microseconds = -5}');
  });

  it('shows maps as lists of pairs', () => {
    const ordText = f.instance('Ord', 'Text');
    const fromList = stdlib('DA.Map', 'fromList');
    const m = f.call(fromList, ordText, listFromArray([tuple(text('b'), i(2)), tuple(text('a'), i(1))]));
    const showMap = f.call(f.instance('Show', 'Map'), f.instance('Show', 'Text'), f.instance('Show', 'Int'));
    expect(show(showMap, m)).toBe('Map [("a",1),("b",2)]');
  });
});

describe('DA.List', () => {
  it('sorts with the Ord dictionary', () => {
    const sorted = f.call(stdlib('DA.List', 'sort'), f.instance('Ord', 'Int'), ints([3, -1, 2, 2, 0]));
    expect(unInts(sorted)).toEqual([-1n, 0n, 2n, 2n, 3n]);
    const byLength = f.call(
      stdlib('DA.List', 'sortOn'),
      f.instance('Ord', 'Int'),
      stdlib('DA.Text', 'length'),
      texts(['ccc', 'a', 'bb', '']),
    );
    expect(listToArray(byLength as ListValue).map(unText)).toEqual(['', 'a', 'bb', 'ccc']);
  });

  it('sorts text by code point (U+FFFF before U+10000)', () => {
    const sorted = f.call(
      stdlib('DA.List', 'sort'),
      f.instance('Ord', 'Text'),
      texts(['\u{10000}', '\uffff', 'z']),
    );
    expect(listToArray(sorted as ListValue).map(unText)).toEqual(['z', '\uffff', '\u{10000}']);
  });

  it('sorts 100 000 Ints', () => {
    const size = 100_000;
    const input = ints(Array.from({ length: size }, (_, k) => (k * 7919) % size));
    const sorted = unInts(f.call(stdlib('DA.List', 'sort'), f.instance('Ord', 'Int'), input));
    expect(sorted.length).toBe(size);
    expect(sorted.every((v, k) => v === BigInt(k))).toBe(true);
  });

  it('folds 100 000 elements both ways and maps with deep non-tail recursion', () => {
    const size = 100_000;
    const input = ints(Array.from({ length: size }, (_, k) => k));
    const add = f.call(f.value('GHC.Num', '+', 'daml-prim'), f.instance('Additive', 'Int'));
    expect(f.call(stdlib('DA.Internal.Prelude', 'foldl'), add, i(0), input)).toEqual(
      i((size * (size - 1)) / 2),
    );
    expect(f.call(prim('GHC.Base', 'foldr'), add, i(0), input)).toEqual(i((size * (size - 1)) / 2));
    const mapped = f.call(prim('GHC.Base', 'map'), f.call(add, i(1)), input);
    expect(unInts(mapped)[size - 1]).toBe(BigInt(size));
  });

  it('dedups, groups and intercalates', () => {
    expect(
      unInts(f.call(stdlib('DA.List', 'dedup'), f.instance('Ord', 'Int'), ints([3, 1, 3, 2, 1]))),
    ).toEqual([3n, 1n, 2n]);
    const joined = f.call(stdlib('DA.Text', 'intercalate'), text(', '), texts(['a', 'b', 'c']));
    expect(unText(joined)).toBe('a, b, c');
  });
});

describe('DA.Text', () => {
  const t = (name: string, ...args: Value[]) => f.call(stdlib('DA.Text', name), ...args);

  it('splits, replaces and tests prefixes by code point', () => {
    expect(listToArray(t('splitOn', text(', '), text('a, b,, c')) as ListValue).map(unText)).toEqual([
      'a',
      'b,',
      'c',
    ]);
    expect(unText(t('replace', text('an'), text('AN'), text('banana')))).toBe('bANANa');
    expect(t('isPrefixOf', text('ba'), text('banana'))).toEqual({ kind: 'Bool', value: true });
    expect(t('isSuffixOf', text('😂'), text('a😂'))).toEqual({ kind: 'Bool', value: true });
    expect(t('length', text('a😂b'))).toEqual(i(3));
    expect(unText(t('reverse', text('a😂b')))).toBe('b😂a');
    expect(unText(t('take', i(2), text('😂😃😄')))).toBe('😂😃');
    // DA.Text.isSpace is the space character only.
    expect(listToArray(t('words', text('  two  words\n')) as ListValue).map(unText)).toEqual([
      'two',
      'words\n',
    ]);
    expect(unText(t('trim', text('  x y  ')))).toBe('x y');
    expect(unText(t('asciiToUpper', text('abc-é')))).toBe('ABC-é');
  });

  it('parses numbers', () => {
    expect(t('parseInt', text('-0042'))).toEqual(some(i(-42)));
    expect(t('parseInt', text('4x'))).toEqual(NONE);
    expect(t('parseNumeric', f.instance('NumericScale', '2'), text('+3.140'))).toEqual(some(n('3.14')));
    expect(t('parseNumeric', f.instance('NumericScale', '2'), text('3.141'))).toEqual(NONE);
    expect(t('parseDecimal', text('12'))).toEqual(some(n('12.0000000000')));
    expect(t('sha256', text('Hello World!'))).toEqual(
      text('7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069'),
    );
  });
});

describe('DA.Date and DA.Time', () => {
  it('builds and inspects dates in the proleptic Gregorian calendar', () => {
    const d = f.call(stdlib('DA.Date', 'date'), i(2024), month(1), i(29));
    expect(d).toEqual(date(parseDate('2024-02-29')!));
    expect(f.call(stdlib('DA.Date', 'isLeapYear'), i(1900))).toEqual({ kind: 'Bool', value: false });
    expect(f.call(stdlib('DA.Date', 'isLeapYear'), i(2000))).toEqual({ kind: 'Bool', value: true });
    const later = f.call(stdlib('DA.Date', 'addDays'), d, i(1));
    expect(later).toEqual(date(parseDate('2024-03-01')!));
    expect((f.call(stdlib('DA.Date', 'dayOfWeek'), d) as EnumValue).constructor).toBe('Thursday');
    expect(() => f.call(stdlib('DA.Date', 'date'), i(2023), month(1), i(29))).toThrow(
      DamlInterpretationError,
    );
  });

  it('computes with relative times', () => {
    const t0 = timestamp(parseTimestamp('2024-01-01T00:00:00Z')!);
    const t1 = f.call(stdlib('DA.Time', 'addRelTime'), t0, f.call(stdlib('DA.Time', 'hours'), i(36)));
    expect(t1).toEqual(timestamp(parseTimestamp('2024-01-02T12:00:00Z')!));
    expect(f.call(stdlib('DA.Time', 'wholeDays'), f.call(stdlib('DA.Time', 'subTime'), t1, t0))).toEqual(
      i(1),
    );
  });
});

describe('DA.Numeric', () => {
  it('divides and casts with the scale of the result type', () => {
    const scale = (k: number) => f.instance('NumericScale', String(k));
    expect(f.call(stdlib('DA.Numeric', 'div'), scale(3), n('2.0'), n('3.00'))).toEqual(n('0.667'));
    expect(f.call(stdlib('DA.Numeric', 'div'), scale(0), n('5.0'), n('2.0'))).toEqual(n('2.'));
    expect(f.call(stdlib('DA.Numeric', 'cast'), scale(4), n('1.5'))).toEqual(n('1.5000'));
    expect(() => f.call(stdlib('DA.Numeric', 'cast'), scale(0), n('1.5'))).toThrow(
      /ArithmeticError while evaluating \(CAST_NUMERIC 1\.0 1\.5\)/,
    );
  });
});
