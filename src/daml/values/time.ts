/**
 * Daml `Date` (days since 1970-01-01) and `Timestamp` (microseconds since the epoch, UTC), both limited to
 * 0001-01-01 .. 9999-12-31 in the proleptic Gregorian calendar. Calendar arithmetic is done by hand: JS `Date`
 * reads years 0..99 as 1900..1999 and has only millisecond resolution.
 */

export const DATE_MIN_DAYS = -719162; // 0001-01-01
export const DATE_MAX_DAYS = 2932896; // 9999-12-31
export const TIMESTAMP_MIN_MICROS = -62135596800000000n; // 0001-01-01T00:00:00Z
export const TIMESTAMP_MAX_MICROS = 253402300799999999n; // 9999-12-31T23:59:59.999999Z

const MICROS_PER_DAY = 86_400_000_000n;

export function isValidDate(days: number): boolean {
  return Number.isInteger(days) && days >= DATE_MIN_DAYS && days <= DATE_MAX_DAYS;
}

export function isValidTimestamp(micros: bigint): boolean {
  return micros >= TIMESTAMP_MIN_MICROS && micros <= TIMESTAMP_MAX_MICROS;
}

/** Days since the epoch of a proleptic Gregorian date (Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The proleptic Gregorian date of a day count (Hinnant's `civil_from_days`). */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const pad = (n: number, width: number) => n.toString().padStart(width, '0');

/** `YYYY-MM-DD`, as Daml's `DATE_TO_TEXT` and `show` print dates. */
export function formatDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/**
 * Java's `ISO_INSTANT` (what `TIMESTAMP_TO_TEXT` prints): `YYYY-MM-DDThh:mm:ssZ`, with the second's fraction in
 * groups of three digits (`.123Z`, `.123456Z`), omitted when zero.
 */
export function formatTimestamp(micros: bigint): string {
  let days = micros / MICROS_PER_DAY;
  let inDay = micros % MICROS_PER_DAY;
  if (inDay < 0n) {
    inDay += MICROS_PER_DAY;
    days -= 1n;
  }
  const microsOfDay = Number(inDay);
  const secondsOfDay = Math.floor(microsOfDay / 1_000_000);
  const fraction = microsOfDay % 1_000_000;
  const hh = Math.floor(secondsOfDay / 3600);
  const mm = Math.floor((secondsOfDay % 3600) / 60);
  const ss = secondsOfDay % 60;
  let frac = '';
  if (fraction !== 0) frac = fraction % 1000 === 0 ? `.${pad(fraction / 1000, 3)}` : `.${pad(fraction, 6)}`;
  return `${formatDate(Number(days))}T${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}${frac}Z`;
}

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;

function validCivil(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= lengths[month - 1]!;
}

/** Parses `YYYY-MM-DD` within the Daml date range. */
export function parseDate(text: string): number | undefined {
  const m = DATE_TEXT.exec(text);
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validCivil(year, month, day)) return undefined;
  const days = daysFromCivil(year, month, day);
  return isValidDate(days) ? days : undefined;
}

const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

/** Parses `YYYY-MM-DDThh:mm:ss[.ffffff]Z` (at most microsecond precision) within the Daml timestamp range. */
export function parseTimestamp(text: string): bigint | undefined {
  const m = TIMESTAMP_TEXT.exec(text);
  if (m === null) return undefined;
  const days = parseDate(m[1]!);
  const [hh, mm, ss] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (days === undefined || hh > 23 || mm > 59 || ss > 59) return undefined;
  const fraction = BigInt((m[5] ?? '').padEnd(6, '0'));
  const micros = BigInt(days) * MICROS_PER_DAY + BigInt((hh * 60 + mm) * 60 + ss) * 1_000_000n + fraction;
  return isValidTimestamp(micros) ? micros : undefined;
}
