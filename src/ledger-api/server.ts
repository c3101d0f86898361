import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { IMessageType } from '@protobuf-ts/runtime';
import type { MethodInfo } from '@protobuf-ts/runtime-rpc';
import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import { bindServer, endpointUrl, type ServerTls, serverCredentials } from '../grpc/index.js';
import {
  type ApiMetrics,
  type AuditLog,
  type Logger,
  ledgerCaller,
  type Span,
  withSpan,
} from '../observability/index.js';
import { type Clock, startStopwatch, systemClock } from '../time/index.js';
import { asBuffer, FAST_WRITE_OPTIONS } from '../wire/index.js';
import { type Authenticator, callClaims } from './auth/index.js';
import { LedgerApiErrors } from './errors.js';
import {
  type CallContext,
  EncodedMessages,
  type ServiceImpl,
  type StreamHandler,
  type UnaryHandler,
} from './service.js';
import { ledgerApiStatus } from './status.js';

export interface LedgerApiTransportOptions {
  /** Bind address. */
  readonly address: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: ServerTls;
  /** The largest request accepted; a larger one is refused with RESOURCE_EXHAUSTED before it is read. */
  readonly maxInboundMessageBytes: number;
  /** Streams served at once; one more is refused with MAXIMUM_NUMBER_OF_STREAMS. */
  readonly maxStreams: number;
  readonly services: readonly ServiceImpl[];
  /** Who is calling, and for how long a stream's authorization holds. */
  readonly authenticator: Pick<Authenticator, 'authenticate' | 'watchStream'>;
  /** The FileDescriptorSet of the services' protos, served through gRPC server reflection. */
  readonly descriptors: Uint8Array;
  readonly logger: Logger;
  /** Where each call is audited (who, what, outcome), besides its log line. */
  readonly audit?: AuditLog;
  /** Counts and times the calls. */
  readonly metrics?: ApiMetrics;
  /** Times the calls for the audit lines; default the system clock. */
  readonly clock?: Clock;
}

export interface LedgerApiServer {
  readonly port: number;
  /** The URL a client on this host uses. */
  readonly url: string;
  /** Ends the open streams (SERVICE_NOT_RUNNING, so clients resume elsewhere or later), then stops. */
  close(): Promise<void>;
}

/** How long running unary calls get to finish when the server closes. */
const CLOSE_GRACE_MS = 5000;

/**
 * Serves `services` over gRPC: requests are decoded here (malformed protobuf is INVALID_ARGUMENT), the caller is
 * authenticated from the `authorization` metadata, handlers run in a span continuing the client's `traceparent`,
 * streams are written with back-pressure (the next message is pulled from the handler only once the client took
 * the previous ones, so a client that never reads holds no more than a few messages), failures go out in Canton's
 * error shape, and each call logs one audit line.
 */
export async function serveLedgerApi(options: LedgerApiTransportOptions): Promise<LedgerApiServer> {
  const transport = new Transport(options);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxInboundMessageBytes,
    // Responses are bounded by what the participant stores (a DAR, a page); the client sets its own receive limit.
    'grpc.max_send_message_length': -1,
  });
  for (const impl of options.services) {
    const { definition, implementation } = transport.bind(impl);
    server.addService(definition, implementation);
  }
  new ReflectionService(loadFileDescriptorSetFromBuffer(Buffer.from(options.descriptors))).addToServer(
    server,
  );
  const port = await bindServer(
    server,
    options.address,
    options.port,
    serverCredentials(options.tls),
    'Ledger API',
  );
  return {
    port,
    url: endpointUrl(options.address, port, options.tls !== undefined),
    close: async () => {
      transport.close();
      await new Promise<void>((resolve) => {
        const cancelForce = (options.clock ?? systemClock).schedule(CLOSE_GRACE_MS, () =>
          server.forceShutdown(),
        );
        server.tryShutdown(() => {
          cancelForce();
          resolve();
        });
      });
    },
  };
}

/** Why a call's signal was aborted when the client went away (cancel, deadline, broken connection). */
const CLIENT_GONE = Symbol('client gone');

type Call = grpc.ServerUnaryCall<Buffer, object> | grpc.ServerWritableStream<Buffer, object>;

class Transport {
  readonly #active = new Set<AbortController>();
  #streams = 0;
  #closing = false;

  constructor(private readonly options: LedgerApiTransportOptions) {}

  /** A grpc-js service definition and implementation for `impl`; requests arrive undecoded. */
  bind(impl: ServiceImpl): {
    definition: grpc.ServiceDefinition;
    implementation: grpc.UntypedServiceImplementation;
  } {
    const definition: Record<string, grpc.MethodDefinition<Buffer, object>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of impl.type.methods) {
      definition[method.name] = {
        path: `/${impl.type.typeName}/${method.name}`,
        requestStream: method.clientStreaming,
        responseStream: method.serverStreaming,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        // grpc-js copies the bytes into its frame at once: a view of the encoding is enough.
        responseSerialize: (m: object) =>
          asBuffer(m instanceof Uint8Array ? m : method.O.toBinary(m, FAST_WRITE_OPTIONS)),
        responseDeserialize: (b: Buffer) => method.O.fromBinary(b),
        originalName: method.localName,
      };
      const handler = impl.handlers[method.name];
      implementation[method.name] =
        handler === undefined || method.clientStreaming
          ? unimplemented(method)
          : method.serverStreaming
            ? this.#stream(method, handler as StreamHandler<object, object>)
            : this.#unary(method, handler as UnaryHandler<object, object>);
    }
    return { definition, implementation };
  }

  close(): void {
    this.#closing = true;
    const reason = new WeftError(LedgerApiErrors.SERVICE_NOT_RUNNING, 'The Ledger API is shutting down.');
    for (const controller of this.#active) controller.abort(reason);
  }

  #unary(method: MethodInfo, handler: UnaryHandler<object, object>): grpc.handleUnaryCall<Buffer, object> {
    return (call, callback) =>
      this.#run(method, call, async (ctx, request) => {
        callback(null, await handler(request, ctx));
        return undefined;
      }).catch((status: grpc.StatusObject) => callback(status));
  }

  #stream(
    method: MethodInfo,
    handler: StreamHandler<object, object>,
  ): grpc.handleServerStreamingCall<Buffer, object> {
    return (call) =>
      this.#run(method, call, async (ctx, request, abort) => {
        let sent = 0;
        const unwatch = this.options.authenticator.watchStream(ctx.claims, abort);
        const responses = handler(request, ctx)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await untilAborted(responses.next(), ctx.signal);
            if (next.done) break;
            let ready = true;
            if (next.value instanceof EncodedMessages) {
              for (const bytes of next.value.messages) ready = call.write(bytes);
              sent += next.value.messages.length;
            } else {
              ready = call.write(next.value);
              sent++;
            }
            if (!ready) await drained(call, ctx.signal);
          }
        } finally {
          unwatch();
          // A handler blocked waiting for new updates finishes its cleanup when it wakes; nobody waits for it.
          void responses.return?.().catch(() => {});
        }
        call.end();
        return sent;
      }).catch((status: grpc.StatusObject) => call.emit('error', status));
  }

  /**
   * Runs one call: in a span continuing the client's trace, with a signal aborted when the client goes away, the
   * server closes or `body` aborts it (with the error to answer); authenticates, decodes the request, runs `body`
   * and logs the audit line. Rejects with the gRPC status to send.
   */
  #run(
    method: MethodInfo,
    call: Call,
    body: (ctx: CallContext, request: object, abort: (e: WeftError) => void) => Promise<number | undefined>,
  ): Promise<void> {
    const traceparent = first(call.metadata.get('traceparent'));
    return withSpan(
      `${method.service.typeName}/${method.name}`,
      async (span) => {
        const watch = startStopwatch(this.options.clock ?? systemClock);
        const controller = new AbortController();
        const onCancel = () => controller.abort(CLIENT_GONE);
        call.on('cancelled', onCancel);
        // A client may be gone before the handler runs: grpc-js then emitted 'cancelled' to nobody.
        if (call.cancelled) onCancel();
        const streaming = method.serverStreaming;
        let counted = false;
        let claims: CallContext['claims'] | undefined;
        this.#active.add(controller);
        try {
          if (this.#closing) {
            throw new WeftError(LedgerApiErrors.SERVICE_NOT_RUNNING, 'The Ledger API is shutting down.');
          }
          if (streaming) {
            if (this.#streams >= this.options.maxStreams) {
              throw new WeftError(
                LedgerApiErrors.MAXIMUM_NUMBER_OF_STREAMS,
                `The number of streams in use (${this.#streams}) has reached the limit (${this.options.maxStreams}).`,
                { limit: this.options.maxStreams },
              );
            }
            this.#streams++;
            counted = true;
          }
          const ctx = await this.#context(call, method, span, controller.signal, traceparent);
          claims = ctx.claims;
          const sent = await body(ctx, decode(method.I, call.request), (e) => controller.abort(e));
          this.#audit(method, call, watch.elapsedMs(), 'OK', claims, sent);
        } catch (e) {
          if (controller.signal.reason === CLIENT_GONE) {
            this.#audit(method, call, watch.elapsedMs(), 'CANCELLED', claims);
            return;
          }
          if (!isWeftError(e)) {
            this.options.logger.error(
              { err: e, method: method.name },
              `Ledger API call ${method.name} failed`,
            );
          }
          const status = ledgerApiStatus(e, { correlationId: span.traceId, traceId: span.traceId });
          const name = grpc.status[status.code] ?? 'UNKNOWN';
          this.#audit(method, call, watch.elapsedMs(), name, claims, undefined, e);
          throw status;
        } finally {
          if (counted) this.#streams--;
          this.#active.delete(controller);
          call.off('cancelled', onCancel);
        }
      },
      traceparent === undefined ? {} : { parent: traceparent },
    );
  }

  async #context(
    call: Call,
    method: MethodInfo,
    span: Span,
    signal: AbortSignal,
    traceparent: string | undefined,
  ): Promise<CallContext> {
    const authorization = first(call.metadata.get('authorization'));
    const claims = await callClaims(
      this.options.authenticator,
      authorization,
      `${method.service.typeName}/${method.name}`,
    );
    return {
      claims,
      signal,
      correlationId: span.traceId,
      traceparent,
      logger: this.options.logger.child({ method: method.name }),
      encoded: true,
    };
  }

  /** One line per call, as the Admin API's: successful calls at debug (the Ledger API is busy), failures at info. */
  #audit(
    method: MethodInfo,
    call: Call,
    elapsedMs: number,
    status: string,
    claims: CallContext['claims'] | undefined,
    messages?: number,
    error?: unknown,
  ): void {
    const weft = isWeftError(error) ? error : undefined;
    this.options.metrics?.observe(`${method.service.typeName}/${method.name}`, status, elapsedMs);
    this.options.audit?.call({
      api: 'ledger-api',
      method: `${method.service.typeName}/${method.name}`,
      who: ledgerCaller(claims, first(call.metadata.get('authorization'))),
      peer: call.getPeer(),
      outcome: status,
      ...(weft ? { code: weft.code } : {}),
      durationMs: Math.round(elapsedMs * 1000) / 1000,
    });
    this.options.logger[status === 'OK' || status === 'CANCELLED' ? 'debug' : 'info'](
      {
        method: method.name,
        peer: call.getPeer(),
        status,
        durationMs: Math.round(elapsedMs * 1000) / 1000,
        ...(messages === undefined ? {} : { messages }),
        ...(weft ? { code: weft.code, error: weft.message } : {}),
      },
      `Ledger API call ${method.name}: ${status}`,
    );
  }
}

function first(values: grpc.MetadataValue[]): string | undefined {
  const v = values[0];
  return typeof v === 'string' ? v : undefined;
}

function decode(type: IMessageType<object>, bytes: Buffer): object {
  try {
    return type.fromBinary(bytes);
  } catch (e) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `The submitted request has invalid arguments: it is not a valid ${type.typeName} message (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

/** Settles like `promise`, or rejects with the signal's reason once it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Resolves once the stream takes writes again, or rejects once the call is aborted. */
function drained(call: grpc.ServerWritableStream<Buffer, object>, signal: AbortSignal): Promise<void> {
  return untilAborted(new Promise<void>((resolve) => call.once('drain', resolve)), signal);
}

function unimplemented(method: MethodInfo): grpc.UntypedHandleCall {
  const status = {
    code: grpc.status.UNIMPLEMENTED,
    details: `Method not found: ${method.service.typeName}/${method.name}`,
  };
  return method.serverStreaming
    ? (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', status)
    : (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(status);
}
