import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/index.js';

/**
 * Sends grpc-js's own log lines to `logger` instead of stderr. grpc-js logs through one process-wide logger that
 * writes `E …` lines to stderr by default, e.g. `E No address added out of total 1 resolved` before the node's
 * catalogued error for the same failed bind; every failure that matters reaches Weft's code as an error anyway, so
 * grpc-js's lines go to the node's JSON log (errors as warnings), and stderr keeps the daemon's one-line error.
 * Process-wide: with several nodes in one process (the sandbox), the last node started receives them.
 */
export function logGrpcTo(logger: Logger): void {
  const line =
    (level: 'warn' | 'info' | 'debug') =>
    (message?: unknown, ...rest: unknown[]) =>
      logger[level]({ component: 'grpc-js' }, format(message, ...rest));
  grpc.setLogger({ error: line('warn'), info: line('info'), debug: line('debug') });
}
