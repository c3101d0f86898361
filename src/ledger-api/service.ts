import type { ServiceType } from '@protobuf-ts/runtime-rpc';
import type { Logger } from '../observability/index.js';
import type { Claims } from './auth/claims.js';

/**
 * What a Ledger API handler knows about the call besides its request: who is calling (their claims, already
 * authenticated), whether the client is still there, and the ids its logs and errors carry. Transport-neutral: the
 * gRPC server and the JSON API build it from their own requests, so both encodings share one implementation.
 */
export interface CallContext {
  readonly claims: Claims;
  /** Aborted when the client cancels the call or goes away: streams stop producing. */
  readonly signal: AbortSignal;
  /** Canton's correlation id (`RequestInfo.request_id` of an error, `correlationId` in JSON). */
  readonly correlationId: string;
  /** The W3C trace context the call came with, if any. */
  readonly traceparent: string | undefined;
  readonly logger: Logger;
  /**
   * The transport writes protobuf (gRPC): a stream handler may then yield responses already encoded, as
   * {@link EncodedMessages}, instead of message objects.
   */
  readonly encoded?: boolean;
}

/**
 * Response messages in their protobuf encoding (from a cache of encoded responses), written as they are, in order;
 * several at once save the transport a round trip through the handler per message.
 */
export class EncodedMessages {
  constructor(readonly messages: readonly Uint8Array[]) {}
}

/** A unary method: one request message in, one response message out (protobuf-ts message objects). */
export type UnaryHandler<I extends object, O extends object> = (request: I, ctx: CallContext) => Promise<O>;

/**
 * A server-streaming method: the response messages in order. The transport pulls the next one only once the
 * client has taken the previous ones (back-pressure), so a slow reader never makes the participant buffer.
 */
export type StreamHandler<I extends object, O extends object> = (
  request: I,
  ctx: CallContext,
) => AsyncIterable<O>;

/**
 * One Ledger API service: its protobuf-ts service type (names, methods, message types) and a handler per method,
 * keyed by the method's proto name (e.g. `GetUpdates`). A method without a handler answers UNIMPLEMENTED.
 */
export interface ServiceImpl {
  readonly type: ServiceType;
  // biome-ignore lint/suspicious/noExplicitAny: handlers are typed by each service module against its messages
  readonly handlers: Readonly<Record<string, UnaryHandler<any, any> | StreamHandler<any, any>>>;
}
