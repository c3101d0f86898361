import { describe, expect, it } from 'vitest';
import {
  divHalfEven,
  type Numeric,
  numericAdd,
  numericCast,
  numericDiv,
  numericFromInt64,
  numericMul,
  numericRound,
  numericToInt64,
  numericToScaledString,
  numericToText,
  parseNumericLiteral,
  parseNumericText,
} from './numeric.js';

const n = (s: string): Numeric => {
  const v = parseNumericLiteral(s);
  if (v === undefined) throw new Error(`bad literal ${s}`);
  return v;
};
const show = (v: Numeric | undefined) => (v === undefined ? 'error' : numericToScaledString(v));
/** 10^i at `scale`, as the reference tests write it. */
const tenPowerOf = (i: number, scale = 10) =>
  i === 0
    ? `1.${'0'.repeat(scale)}`
    : i > 0
      ? `1${'0'.repeat(i)}.${'0'.repeat(scale)}`
      : `0.${'0'.repeat(-i - 1)}1${'0'.repeat(scale + i)}`;
const max = (scale: number) => ({ unscaled: 10n ** 38n - 1n, scale });

describe('Numeric', () => {
  it('rounds half to even', () => {
    expect([5n, 15n, 25n, -5n, -15n, 7n, -7n].map((x) => divHalfEven(x, 10n))).toEqual([
      0n,
      2n,
      2n,
      0n,
      -2n,
      1n,
      -1n,
    ]);
    expect(divHalfEven(7n, -2n)).toBe(-4n);
    expect(divHalfEven(-9n, 2n)).toBe(-4n);
  });

  it('adds within 38 digits only', () => {
    expect(show(numericAdd(n(`${'9'.repeat(38)}.`), n('-1.')))).toBe(`${'9'.repeat(37)}8.`);
    expect(numericAdd(n(`${'9'.repeat(38)}.`), n('1.'))).toBeUndefined();
    expect(numericAdd(n(`9.${'9'.repeat(37)}`), n(`0.${'0'.repeat(36)}1`))).toBeUndefined();
    const big = n('8765432109876543210987654321.0987654321');
    expect(show(numericAdd(big, n('2.0000000000')))).toBe('8765432109876543210987654323.0987654321');
    expect(numericAdd(big, n('8765432109876543210987654320.0987654321'))).toBeUndefined();
  });

  it('multiplies with the output scale and banker rounding', () => {
    const w = (s: number) => s;
    expect(show(numericMul(w(10), n('1.1000000000'), n('2.2000000000')))).toBe('2.4200000000');
    expect(numericMul(0, n(`1${'0'.repeat(18)}.`), n(`1${'0'.repeat(19)}.`))).toBeDefined();
    expect(numericMul(0, n(`1${'0'.repeat(19)}.`), n(`1${'0'.repeat(19)}.`))).toBeUndefined();
    const under = n('3.1622776601683793319988935444327185337');
    const over = n('3.1622776601683793319988935444327185338');
    expect(numericMul(37, under, under)).toBeDefined();
    expect(numericMul(37, over, under)).toBeUndefined();
    expect(show(numericMul(10, n(tenPowerOf(13)), n(tenPowerOf(14))))).toBe(tenPowerOf(27));
    expect(numericMul(10, n(tenPowerOf(14)), n(tenPowerOf(14)))).toBeUndefined();
    expect(show(numericMul(1, n('0.25'), n('1.0')))).toBe('0.2');
    expect(show(numericMul(1, n('0.35'), n('1.0')))).toBe('0.4');
    expect(show(numericMul(0, n('-2.5'), n('1.0')))).toBe('-2.');
  });

  it('divides with banker rounding and fails on zero', () => {
    expect(show(numericDiv(10, n('1.1000000000'), n('2.2000000000')))).toBe('0.5000000000');
    expect(show(numericDiv(10, n(tenPowerOf(0)), n(tenPowerOf(-10))))).toBe(tenPowerOf(10));
    expect(numericDiv(10, n(tenPowerOf(0)), n('0.0000000000'))).toBeUndefined();
    expect(show(numericDiv(10, n(tenPowerOf(17)), n(tenPowerOf(-10))))).toBe(tenPowerOf(27));
    expect(numericDiv(10, n(tenPowerOf(18)), n(tenPowerOf(-10)))).toBeUndefined();
    const e18 = n(`0.${'0'.repeat(17)}1${'0'.repeat(19)}`);
    expect(numericDiv(37, e18, n(`-0.${'0'.repeat(17)}1${'0'.repeat(19)}`))).toBeDefined();
    expect(numericDiv(37, e18, n(`-0.${'0'.repeat(18)}1${'0'.repeat(18)}`))).toBeUndefined();
    expect(numericDiv(1, n(`1${'0'.repeat(36)}.0`), n('0.2'))).toBeDefined();
    expect(numericDiv(1, n(`1${'0'.repeat(36)}.0`), n('0.1'))).toBeUndefined();
    expect(show(numericDiv(0, n('1.'), n('3.')))).toBe('0.');
    expect(show(numericDiv(2, n('2.'), n('3.')))).toBe('0.67');
    expect(show(numericDiv(0, n('5.'), n('2.')))).toBe('2.');
    expect(show(numericDiv(0, n('-7.'), n('2.')))).toBe('-4.');
  });

  it('rounds only to scales in (scale-38, scale]', () => {
    const d = n('8765432109876543210987654321.0987654321');
    for (let i = -30; i <= 12; i++) {
      expect(numericRound(BigInt(i), d) !== undefined).toBe(i >= -27 && i <= 10);
    }
    expect(show(numericRound(-27n, d))).toBe('9000000000000000000000000000.0000000000');
    expect(show(numericRound(-1n, n('45.0000000000')))).toBe('40.0000000000');
    expect(show(numericRound(-1n, n('55.0000000000')))).toBe('60.0000000000');
    expect(numericRound(0n, max(0))).toEqual(max(0));
    expect(numericRound(-1n, max(0))).toBeUndefined(); // rounds up past 38 digits
  });

  it('casts without precision loss or overflow', () => {
    expect(numericCast(1, max(0))).toBeUndefined();
    expect(numericCast(37, n('10.'))).toBeUndefined();
    expect(numericCast(30, n(tenPowerOf(15, 20)))).toBeUndefined();
    expect(numericCast(0, n(tenPowerOf(-1, 1)))).toBeUndefined();
    expect(numericCast(0, n(tenPowerOf(-37, 37)))).toBeUndefined();
    expect(numericCast(10, n(`-${tenPowerOf(-15, 20)}`))).toBeUndefined();
    expect(show(numericCast(0, n('1.0')))).toBe('1.');
    expect(show(numericCast(20, n(tenPowerOf(-5, 10))))).toBe(tenPowerOf(-5, 20));
    expect(show(numericCast(10, n(tenPowerOf(10, 20))))).toBe(tenPowerOf(10, 10));
  });

  it('converts from and to Int64', () => {
    expect(numericFromInt64(37, 10n)).toBeUndefined();
    expect(show(numericFromInt64(10, -13n))).toBe('-13.0000000000');
    const int64Min = -(2n ** 63n);
    expect(numericToInt64({ unscaled: int64Min - 1n, scale: 0 })).toBeUndefined();
    expect(numericToInt64({ unscaled: (int64Min - 1n) * 1000n + 1n, scale: 3 })).toBe(int64Min);
    expect(numericToInt64({ unscaled: 2n ** 63n * 10n ** 13n - 1n, scale: 13 })).toBe(2n ** 63n - 1n);
    expect(numericToInt64({ unscaled: 2n ** 63n * 10n ** 17n, scale: 17 })).toBeUndefined();
    expect(numericToInt64(n(`1.${'9'.repeat(37)}`))).toBe(1n);
    expect(numericToInt64(n(`-1.${'9'.repeat(37)}`))).toBe(-1n);
    expect(numericToInt64(n('123456789.12345678912345678912'))).toBe(123456789n);
  });

  it('prints NUMERIC_TO_TEXT without trailing zeros and the scaled form with them', () => {
    const cases: [string, string][] = [
      ['161803398.8749900000', '161803398.87499'],
      ['0.0000000001', '0.0000000001'],
      ['0.0000000000', '0.0'],
      ['100.0000000000', '100.0'],
      ['-3.1415926536', '-3.1415926536'],
      ['42.', '42.0'],
      ['-0.50', '-0.5'],
    ];
    for (const [lit, shown] of cases) {
      expect(numericToText(n(lit))).toBe(shown);
      expect(numericToScaledString(n(lit))).toBe(lit);
    }
  });

  it('parses literals in canonical form only', () => {
    for (const bad of ['1', '01.0', '+1.0', '1e5', '.5', `1.${'0'.repeat(38)}`, `${'9'.repeat(39)}.`]) {
      expect(parseNumericLiteral(bad)).toBeUndefined();
    }
    expect(parseNumericLiteral('-0.5')).toEqual({ unscaled: -5n, scale: 1 });
  });

  it('parses TEXT_TO_NUMERIC leniently (known answers of the reference tests)', () => {
    const ok: [string, string][] = [
      [`${'9'.repeat(28)}.${'9'.repeat(10)}`, `${'9'.repeat(28)}.${'9'.repeat(10)}`],
      [`${'0'.repeat(20)}${'1'.repeat(28)}`, `${'1'.repeat(28)}.0000000000`],
      ['161803398.87499', '161803398.8749900000'],
      [`0.0005${'0'.repeat(20)}`, '0.0005000000'],
      ['+0.0', '0.0000000000'],
      ['0', '0.0000000000'],
      ['-0', '0.0000000000'],
      ['42', '42.0000000000'],
      [`-${'0'.repeat(20)}${'1'.repeat(28)}`, `-${'1'.repeat(28)}.0000000000`],
    ];
    for (const [input, expected] of ok) expect(show(parseNumericText(10, input))).toBe(expected);
    const bad = ['pi', '0x11', '1E10', '2.', '1L', '+-1', '1'.repeat(29), `-${'1'.repeat(29)}`];
    for (const input of [...bad, `0.${'0'.repeat(10)}1`, `42${'0'.repeat(24)}2019`]) {
      expect(parseNumericText(10, input)).toBeUndefined();
    }
  });

  it('parses huge inputs cheaply', () => {
    expect(parseNumericText(10, '1'.repeat(1_000_000))).toBeUndefined();
    expect(show(parseNumericText(10, `1.${'0'.repeat(1_000_000)}`))).toBe('1.0000000000');
    expect(show(parseNumericText(10, `-${'0'.repeat(1_000_000)}3.0`))).toBe('-3.0000000000');
  });
});
