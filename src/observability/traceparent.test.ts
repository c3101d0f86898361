import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

describe('parseTraceparent', () => {
  it('parses the spec example', () => {
    expect(parseTraceparent(VALID)).toEqual({
      ok: true,
      context: { traceId: TRACE, spanId: SPAN, traceFlags: 1 },
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({
      ok: true,
      context: { traceId: TRACE, spanId: SPAN, traceFlags: 0 },
    });
  });

  it('accepts a future version with extra fields and reads the version-00 fields', () => {
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-brings`)).toEqual({
      ok: true,
      context: { traceId: TRACE, spanId: SPAN, traceFlags: 1 },
    });
  });

  it.each([
    ['empty', ''],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['uppercase version', `0A-${TRACE}-${SPAN}-01`],
    ['non-hex version', `0g-${TRACE}-${SPAN}-01`],
    ['version 00 with trailing data', `${VALID}-extra`],
    ['version 00 too short', VALID.slice(0, -1)],
    ['future version with no dash after flags', `01-${TRACE}-${SPAN}-01x`],
    ['future version too short', `01-${TRACE}-${SPAN}-0`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-001`],
    ['long span id', `00-${TRACE.slice(1)}-${SPAN}0-01`],
    ['uppercase trace id', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['uppercase span id', `00-${TRACE}-${SPAN.toUpperCase()}-01`],
    ['uppercase flags', `00-${TRACE}-${SPAN}-0A`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0x`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['wrong separator', `00_${TRACE}-${SPAN}-01`],
    ['surrounding whitespace', ` ${VALID.slice(0, -1)}`],
  ])('rejects %s', (_, header) => {
    const result = parseTraceparent(header);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/\w/);
  });

  it('names what is wrong', () => {
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${SPAN}-01`)).toEqual({
      ok: false,
      reason: 'trace id is all zeros',
    });
    expect(parseTraceparent(`00-${TRACE}-${'0'.repeat(16)}-01`)).toEqual({
      ok: false,
      reason: 'parent id is all zeros',
    });
    expect(parseTraceparent(`ff-${TRACE}-${SPAN}-01`)).toEqual({
      ok: false,
      reason: 'version ff is forbidden',
    });
  });
});

describe('formatTraceparent', () => {
  it('round-trips', () => {
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 1 })).toBe(VALID);
    expect(formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 0x0f })).toBe(
      `00-${TRACE}-${SPAN}-0f`,
    );
    const parsed = parseTraceparent(VALID);
    expect(parsed.ok && formatTraceparent(parsed.context)).toBe(VALID);
  });

  it.each([
    ['all-zero trace id', { traceId: '0'.repeat(32), spanId: SPAN, traceFlags: 1 }],
    ['uppercase trace id', { traceId: TRACE.toUpperCase(), spanId: SPAN, traceFlags: 1 }],
    ['short span id', { traceId: TRACE, spanId: SPAN.slice(1), traceFlags: 1 }],
    ['all-zero span id', { traceId: TRACE, spanId: '0'.repeat(16), traceFlags: 1 }],
    ['flags out of range', { traceId: TRACE, spanId: SPAN, traceFlags: 256 }],
    ['fractional flags', { traceId: TRACE, spanId: SPAN, traceFlags: 0.5 }],
  ])('refuses %s with INVALID_ARGUMENT', (_, context) => {
    let error: unknown;
    try {
      formatTraceparent(context);
    } catch (e) {
      error = e;
    }
    expect(isWeftError(error) && error.code).toBe('INVALID_ARGUMENT');
  });
});
