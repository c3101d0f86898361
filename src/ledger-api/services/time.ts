import { CommonErrors, WeftError } from '../../errors/index.js';
import {
  type GetTimeRequest,
  type GetTimeResponse,
  type SetTimeRequest,
  TimeService,
} from '../../generated/com/daml/ledger/api/v2/testing/time_service.js';
import type { Empty } from '../../generated/google/protobuf/empty.js';
import { requireAdmin, requireAuthenticated } from '../auth/index.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { missingField } from '../validation/index.js';
import { timestampMicros, timestampToProto } from './protobuf-time.js';

/**
 * A time as Canton's messages print it (Java's Instant.toString): to the second, with milliseconds or microseconds
 * only when there are any.
 */
export function instantString(micros: bigint): string {
  const fraction = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const seconds = (micros - fraction) / 1_000_000n;
  const digits =
    fraction === 0n
      ? ''
      : fraction % 1000n === 0n
        ? `.${String(fraction / 1000n).padStart(3, '0')}`
        : `.${String(fraction).padStart(6, '0')}`;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}${digits}Z`;
}

/** A static clock that only moves when told to (the sandbox's `--static-time`), µs since the epoch. */
export interface StaticTime {
  now(): bigint;
  /** Moves the clock forward to `at`. */
  advanceTo(at: bigint): void;
}

/**
 * The Ledger API's testing TimeService, served only by a participant on static time (as Canton: without it the
 * service does not exist and calls answer UNIMPLEMENTED). Anyone authenticated may read the time; only an admin
 * may set it, and only forward from the exact current time.
 */
export function timeService(clock: StaticTime): ServiceImpl {
  return {
    type: TimeService,
    handlers: {
      GetTime: async (_r: GetTimeRequest, ctx: CallContext): Promise<GetTimeResponse> => {
        requireAuthenticated(ctx.claims);
        return { currentTime: timestampToProto(clock.now()) };
      },
      SetTime: async (r: SetTimeRequest, ctx: CallContext): Promise<Empty> => {
        requireAdmin(ctx.claims);
        if (!r.currentTime) throw missingField('current_time');
        if (!r.newTime) throw missingField('new_time');
        const expected = timestampMicros(r.currentTime);
        const next = timestampMicros(r.newTime);
        if (next < expected) {
          throw new WeftError(
            CommonErrors.INVALID_ARGUMENT,
            `new_time [${instantString(next)}] is before current_time [${instantString(expected)}]. Setting time backwards is not allowed.`,
          );
        }
        const actual = clock.now();
        if (actual !== expected) {
          throw new WeftError(
            CommonErrors.INVALID_ARGUMENT,
            `current_time mismatch. Provided: ${instantString(expected)}. Actual: ${instantString(actual)}`,
          );
        }
        clock.advanceTo(next);
        return {};
      },
    },
  };
}
