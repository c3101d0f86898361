import type { Duration } from '../../generated/google/protobuf/duration.js';
import type { Timestamp } from '../../generated/google/protobuf/timestamp.js';

/** Weft's times are µs since the epoch; protobuf's are seconds and nanoseconds (below a µs is dropped). */

export function timestampToProto(micros: bigint): Timestamp {
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
  return { seconds, nanos: Number(micros - seconds * 1_000_000n) * 1000 };
}

export function timestampMicros(t: Timestamp): bigint {
  return t.seconds * 1_000_000n + BigInt(Math.trunc(t.nanos / 1000));
}

export function durationMicros(d: Duration): bigint {
  return d.seconds * 1_000_000n + BigInt(Math.trunc(d.nanos / 1000));
}

/** A non-negative duration in µs. */
export function durationToProto(micros: bigint): Duration {
  return { seconds: micros / 1_000_000n, nanos: Number(micros % 1_000_000n) * 1000 };
}
