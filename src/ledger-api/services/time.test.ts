import { describe, expect, it } from 'vitest';
import { CommonErrors, isWeftError, type WeftError } from '../../errors/index.js';
import { createLogger } from '../../observability/index.js';
import { StaticClock } from '../../time/index.js';
import { type Claims, UNAUTHENTICATED_CLAIMS, WILDCARD_CLAIMS } from '../auth/index.js';
import type { CallContext } from '../service.js';
import { RequestValidationErrors } from '../validation/index.js';
import { timestampToProto } from './protobuf-time.js';
import { instantString, timeService } from './time.js';

const logger = createLogger({ level: 'silent' });

async function failure(p: Promise<unknown>): Promise<WeftError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isWeftError(e)) throw new Error(`expected a WeftError, got ${String(e)}`);
  return e;
}

/** A user's claims: authenticated, reading as one party, no admin right. */
const USER: Claims = { ...UNAUTHENTICATED_CLAIMS, userId: 'alice-app', readAs: new Set(['alice']) };

describe('testing.TimeService', () => {
  const clock = new StaticClock(0n);
  const service = timeService(clock);
  const ctx = (claims: Claims): CallContext => ({
    claims,
    signal: new AbortController().signal,
    correlationId: 'c',
    traceparent: undefined,
    logger,
  });
  const getTime = (claims: Claims) =>
    (service.handlers.GetTime as (r: object, c: CallContext) => Promise<object>)({}, ctx(claims));
  const setTime = (r: object, claims: Claims = WILDCARD_CLAIMS) =>
    (service.handlers.SetTime as (r: object, c: CallContext) => Promise<object>)(r, ctx(claims));

  it('serves both methods, reads for any authenticated caller, sets for admins only', async () => {
    expect(Object.keys(service.handlers)).toEqual(service.type.methods.map((m) => m.name));
    expect(await getTime(USER)).toEqual({ currentTime: timestampToProto(0n) });
    expect((await failure(getTime(UNAUTHENTICATED_CLAIMS))).code).toBe(CommonErrors.UNAUTHENTICATED.code);
    const denied = await failure(
      setTime({ currentTime: timestampToProto(0n), newTime: timestampToProto(1n) }, USER),
    );
    expect([denied.code, denied.message]).toEqual([
      CommonErrors.PERMISSION_DENIED.code,
      expect.stringMatching(/administrative services/),
    ]);
    expect(clock.now()).toBe(0n);
  });

  it('moves the clock forward from the exact current time only', async () => {
    const missing = await failure(setTime({ newTime: timestampToProto(1n) }));
    expect([missing.code, missing.message]).toEqual([
      RequestValidationErrors.MISSING_FIELD.code,
      expect.stringMatching(/current_time/),
    ]);
    await setTime({ currentTime: timestampToProto(0n), newTime: timestampToProto(2_000_000n) });
    expect(clock.now()).toBe(2_000_000n);
    // The same time again is no move, and allowed.
    await setTime({ currentTime: timestampToProto(2_000_000n), newTime: timestampToProto(2_000_000n) });
    const back = await failure(
      setTime({ currentTime: timestampToProto(2_000_000n), newTime: timestampToProto(0n) }),
    );
    expect(back.message).toBe(
      'new_time [1970-01-01T00:00:00Z] is before current_time [1970-01-01T00:00:02Z]. Setting time backwards is not allowed.',
    );
    const stale = await failure(
      setTime({ currentTime: timestampToProto(0n), newTime: timestampToProto(5_000_000n) }),
    );
    expect([stale.code, stale.message]).toEqual([
      CommonErrors.INVALID_ARGUMENT.code,
      'current_time mismatch. Provided: 1970-01-01T00:00:00Z. Actual: 1970-01-01T00:00:02Z',
    ]);
    expect(clock.now()).toBe(2_000_000n);
  });

  it("prints times as Canton's messages do (Java's Instant)", () => {
    expect(instantString(0n)).toBe('1970-01-01T00:00:00Z');
    expect(instantString(1_767_225_600_500_000n)).toBe('2026-01-01T00:00:00.500Z');
    expect(instantString(1_767_225_600_000_001n)).toBe('2026-01-01T00:00:00.000001Z');
    expect(instantString(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });
});
