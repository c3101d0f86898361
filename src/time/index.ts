/** Time for protocol code: microseconds since the epoch as `bigint`, read only through an injected `Clock`. */
export {
  type Clock,
  holdProcessOpen,
  monotonicMs,
  type Stopwatch,
  sleep,
  startStopwatch,
  systemClock,
} from './clock.js';
export { type Deferred, deferred } from './deferred.js';
export { ManualClock } from './manual.js';
export { realTime, StaticClock, staticTimeOf } from './static.js';
