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

const iso = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString();

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
            `new_time [${iso(next)}] is before current_time [${iso(expected)}]. Setting time backwards is not allowed.`,
          );
        }
        const actual = clock.now();
        if (actual !== expected) {
          throw new WeftError(
            CommonErrors.INVALID_ARGUMENT,
            `current_time mismatch. Provided: ${iso(expected)}. Actual: ${iso(actual)}`,
          );
        }
        clock.advanceTo(next);
        return {};
      },
    },
  };
}
