import * as grpc from '@grpc/grpc-js';
import type { WeftError } from '../errors/index.js';
import { transportError, weftErrorOf } from '../grpc/index.js';
import { SequencerErrors } from './errors.js';

/** Metadata key of the member id on authenticated calls; the token goes in `authorization` as `Bearer <base64>`. */
export const MEMBER_METADATA_KEY = 'weft-member';
export const AUTHORIZATION_METADATA_KEY = 'authorization';

/**
 * The most calls one SendStream may have in progress. A member's send queue keeps far fewer in flight
 * (send-batch.max-calls-in-flight, 64 by default), and its client sends any beyond this bound as unary calls; the
 * sequencer refuses them as SEQUENCER_OVERLOADED, so a client that ignores its answers cannot grow the node's memory.
 */
export const MAX_CALLS_PER_SUBMISSION_STREAM = 1024;

/** Names the service in INTERNAL statuses and audit lines. */
export const SERVICE_NAME = 'sequencer public API';

/**
 * The WeftError a failed call stands for: the server's own when it sent one; gRPC's message size limit as
 * SEQUENCER_REQUEST_TOO_LARGE; otherwise (not reached, or failed in transport) SEQUENCER_CONNECTION_FAILED naming
 * the endpoint.
 */
export function sequencerError(e: unknown, endpoint: string): WeftError {
  const own = weftErrorOf(e);
  if (own) return own;
  const def =
    (e as Partial<grpc.ServiceError>).code === grpc.status.RESOURCE_EXHAUSTED
      ? SequencerErrors.SEQUENCER_REQUEST_TOO_LARGE
      : SequencerErrors.SEQUENCER_CONNECTION_FAILED;
  return transportError(e, def, 'sequencer endpoint', endpoint);
}
