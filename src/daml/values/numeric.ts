/**
 * Daml `Numeric n`: an exact decimal with scale n ∈ 0..37 and at most 38 significant digits, held as an unscaled
 * bigint (value = unscaled · 10^-scale). Operations return `undefined` where Daml raises an ArithmeticError, so
 * the caller can build the error with the builtin's name and arguments.
 */

export interface Numeric {
  readonly unscaled: bigint;
  readonly scale: number;
}

export const MAX_PRECISION = 38;
export const MAX_SCALE = 37;
const MAX_UNSCALED = 10n ** 38n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= 80; i++, p *= 10n) POW10.push(p);

/** 10^k for 0 ≤ k ≤ 80 (enough for every rescaling between Numeric scales). */
export function pow10(k: number): bigint {
  return POW10[k] ?? 10n ** BigInt(k);
}

export function isValidScale(scale: number): boolean {
  return Number.isInteger(scale) && scale >= 0 && scale <= MAX_SCALE;
}

function checked(unscaled: bigint, scale: number): Numeric | undefined {
  return unscaled > MAX_UNSCALED || unscaled < -MAX_UNSCALED ? undefined : { unscaled, scale };
}

/** n / d rounded to the nearest integer, ties to even (Java's RoundingMode.HALF_EVEN); d ≠ 0. */
export function divHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const twiceR = 2n * (r < 0n ? -r : r);
  const absD = d < 0n ? -d : d;
  const away = n < 0n !== d < 0n ? q - 1n : q + 1n;
  if (twiceR > absD) return away;
  if (twiceR < absD) return q;
  return q % 2n === 0n ? q : away;
}

export function numericAdd(x: Numeric, y: Numeric): Numeric | undefined {
  return checked(x.unscaled + y.unscaled, x.scale);
}

export function numericSub(x: Numeric, y: Numeric): Numeric | undefined {
  return checked(x.unscaled - y.unscaled, x.scale);
}

/** x · y at `scale`, rounded half-even. */
export function numericMul(scale: number, x: Numeric, y: Numeric): Numeric | undefined {
  const product = x.unscaled * y.unscaled;
  const productScale = x.scale + y.scale;
  const unscaled =
    scale >= productScale
      ? product * pow10(scale - productScale)
      : divHalfEven(product, pow10(productScale - scale));
  return checked(unscaled, scale);
}

/** x / y at `scale`, rounded half-even; undefined when y is zero or the result overflows. */
export function numericDiv(scale: number, x: Numeric, y: Numeric): Numeric | undefined {
  if (y.unscaled === 0n) return undefined;
  const e = y.scale + scale - x.scale;
  const unscaled =
    e >= 0 ? divHalfEven(x.unscaled * pow10(e), y.unscaled) : divHalfEven(x.unscaled, y.unscaled * pow10(-e));
  return checked(unscaled, scale);
}

/** Rounds x to a multiple of 10^-target (half-even), keeping x's scale; target must lie in (scale-38, scale]. */
export function numericRound(target: bigint, x: Numeric): Numeric | undefined {
  const scale = BigInt(x.scale);
  if (!(target <= scale && scale - BigInt(MAX_PRECISION) < target)) return undefined;
  const k = Number(scale - target);
  if (k === 0) return x;
  const p = pow10(k);
  return checked(divHalfEven(x.unscaled, p) * p, x.scale);
}

/** The same value at another scale; undefined on precision loss or overflow. */
export function numericCast(scale: number, x: Numeric): Numeric | undefined {
  if (scale >= x.scale) return checked(x.unscaled * pow10(scale - x.scale), scale);
  const p = pow10(x.scale - scale);
  if (x.unscaled % p !== 0n) return undefined;
  return checked(x.unscaled / p, scale);
}

/** Moves the decimal point: the unscaled digits are kept and read at the new scale. */
export function numericShift(scale: number, x: Numeric): Numeric {
  return { unscaled: x.unscaled, scale };
}

export function numericFromInt64(scale: number, i: bigint): Numeric | undefined {
  return checked(i * pow10(scale), scale);
}

/** The integral part (rounding toward zero), or undefined if it does not fit an Int64. */
export function numericToInt64(x: Numeric): bigint | undefined {
  const i = x.unscaled / pow10(x.scale);
  return i < INT64_MIN || i > INT64_MAX ? undefined : i;
}

export function numericCompare(x: Numeric, y: Numeric): number {
  // Scales agree for well-typed code; compare exactly anyway.
  const a = x.scale >= y.scale ? x.unscaled : x.unscaled * pow10(y.scale - x.scale);
  const b = y.scale >= x.scale ? y.unscaled : y.unscaled * pow10(x.scale - y.scale);
  return a < b ? -1 : a > b ? 1 : 0;
}

function plain(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const cut = digits.length - scale;
  const body = scale === 0 ? digits : `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${body}` : body;
}

/** The scaled form used for literals and the value encoding: exactly `scale` decimals, `123.` at scale 0. */
export function numericToScaledString(x: Numeric): string {
  return x.scale === 0 ? `${plain(x.unscaled, 0)}.` : plain(x.unscaled, x.scale);
}

/**
 * What `NUMERIC_TO_TEXT` (and so `show`) prints: trailing zeros stripped, and `.0` when nothing is left after the
 * point (`1.5`, `100.0`, `0.0`).
 */
export function numericToText(x: Numeric): string {
  let { unscaled, scale } = x;
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale--;
  }
  return scale === 0 ? `${plain(unscaled, 0)}.0` : plain(unscaled, scale);
}

const LITERAL = /^-?(?:[1-9]\d*|0)\.(\d*)$/;

/** Parses the canonical scaled form (`-?([1-9]\d*|0)\.\d*`); the scale is the number of decimals. */
export function parseNumericLiteral(text: string): Numeric | undefined {
  const m = LITERAL.exec(text);
  if (m === null) return undefined;
  const scale = m[1]!.length;
  if (scale > MAX_SCALE) return undefined;
  return checked(BigInt(text.replace('.', '')), scale);
}

const LENIENT = /^([+-]?)0*(\d+)(\.(\d*[1-9]|0)0*)?$/;

/**
 * `TEXT_TO_NUMERIC`: accepts `[+-]?\d+(\.\d+)?` with any number of leading and trailing zeros, if the value fits
 * `Numeric scale` exactly. Significant digits are counted before converting so huge inputs stay cheap.
 */
export function parseNumericText(scale: number, text: string): Numeric | undefined {
  const m = LENIENT.exec(text);
  if (m === null) return undefined;
  const sign = m[1]!;
  const intPart = m[2]!;
  const decPartOrNull = m[4];
  const decPart = decPartOrNull === undefined || decPartOrNull === '0' ? '' : decPartOrNull;
  const intDigits = intPart === '0' ? 0 : intPart.length;
  if (intDigits > MAX_PRECISION - scale || decPart.length > scale) return undefined;
  const magnitude =
    BigInt(intPart) * pow10(scale) + (decPart === '' ? 0n : BigInt(decPart.padEnd(scale, '0')));
  return { unscaled: sign === '-' ? -magnitude : magnitude, scale };
}
