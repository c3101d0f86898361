import { describe, expect, it } from 'vitest';
import {
  DATE_MAX_DAYS,
  DATE_MIN_DAYS,
  daysFromCivil,
  formatDate,
  formatTimestamp,
  parseDate,
  parseTimestamp,
  TIMESTAMP_MAX_MICROS,
  TIMESTAMP_MIN_MICROS,
} from './time.js';

describe('Date', () => {
  it('has the reference range and epoch', () => {
    expect(parseDate('0001-01-01')).toBe(DATE_MIN_DAYS);
    expect(parseDate('9999-12-31')).toBe(DATE_MAX_DAYS);
    expect(parseDate('1970-01-01')).toBe(0);
    expect(DATE_MIN_DAYS).toBe(-719162);
    expect(DATE_MAX_DAYS).toBe(2932896);
  });

  it('converts known dates (reference answers)', () => {
    expect(parseDate('1969-07-21')).toBe(-164);
    expect(parseDate('2001-01-01')).toBe(11323);
    expect(formatDate(-164)).toBe('1969-07-21');
    expect(formatDate(11323)).toBe('2001-01-01');
    expect(formatDate(DATE_MIN_DAYS)).toBe('0001-01-01');
    expect(formatDate(DATE_MAX_DAYS)).toBe('9999-12-31');
  });

  it('handles years below 100 and leap rules without JS Date pitfalls', () => {
    for (const s of [
      '0001-03-01',
      '0004-02-29',
      '0099-12-31',
      '0100-03-01',
      '0400-02-29',
      '1879-03-14',
      '2000-02-29',
    ]) {
      expect(formatDate(parseDate(s)!)).toBe(s);
    }
    expect(parseDate('0100-02-29')).toBeUndefined();
    expect(parseDate('1900-02-29')).toBeUndefined();
    expect(parseDate('2023-13-01')).toBeUndefined();
    expect(parseDate('0000-12-31')).toBeUndefined();
    expect(daysFromCivil(4, 3, 1) - daysFromCivil(4, 2, 28)).toBe(2);
  });

  it('round-trips every day of a few centuries', () => {
    for (let d = DATE_MIN_DAYS; d < DATE_MIN_DAYS + 800 * 366; d += 37)
      expect(parseDate(formatDate(d))).toBe(d);
  });
});

describe('Timestamp', () => {
  it('has the reference range (reference answers)', () => {
    expect(parseTimestamp('0001-01-01T00:00:00Z')).toBe(TIMESTAMP_MIN_MICROS);
    expect(parseTimestamp('9999-12-31T23:59:59.999999Z')).toBe(TIMESTAMP_MAX_MICROS);
    expect(parseTimestamp('1969-07-21T02:56:15Z')).toBe(-14159025000000n);
    expect(parseTimestamp('2000-12-31T23:00:00Z')).toBe(978303600000000n);
    expect(TIMESTAMP_MIN_MICROS).toBe(-62135596800000000n);
    expect(TIMESTAMP_MAX_MICROS).toBe(253402300799999999n);
  });

  it('formats as Java ISO_INSTANT: fraction in groups of three, or none', () => {
    const cases: [string, string][] = [
      ['1969-07-20T20:17:00Z', '1969-07-20T20:17:00Z'],
      ['1969-07-20T20:17:00.1Z', '1969-07-20T20:17:00.100Z'],
      ['1969-07-20T20:17:00.12Z', '1969-07-20T20:17:00.120Z'],
      ['1969-07-20T20:17:00.123Z', '1969-07-20T20:17:00.123Z'],
      ['1969-07-20T20:17:00.1234Z', '1969-07-20T20:17:00.123400Z'],
      ['1969-07-20T20:17:00.123456Z', '1969-07-20T20:17:00.123456Z'],
      ['2019-04-04T08:33:39.358023Z', '2019-04-04T08:33:39.358023Z'],
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z'],
      ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
      ['0050-06-15T12:00:00.000001Z', '0050-06-15T12:00:00.000001Z'],
    ];
    for (const [input, shown] of cases) expect(formatTimestamp(parseTimestamp(input)!)).toBe(shown);
    expect(formatTimestamp(0n)).toBe('1970-01-01T00:00:00Z');
    expect(formatTimestamp(-1n)).toBe('1969-12-31T23:59:59.999999Z');
    expect(formatTimestamp(-1000n)).toBe('1969-12-31T23:59:59.999Z');
  });

  it('rejects out-of-range and malformed text', () => {
    expect(parseTimestamp('10000-01-01T00:00:00Z')).toBeUndefined();
    expect(parseTimestamp('2020-01-01T24:00:00Z')).toBeUndefined();
    expect(parseTimestamp('2020-01-01T00:00:00.1234567Z')).toBeUndefined();
    expect(parseTimestamp('2020-01-01 00:00:00Z')).toBeUndefined();
  });
});
