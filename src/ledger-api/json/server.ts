import websocket from '@fastify/websocket';
import type { IMessageType } from '@protobuf-ts/runtime';
import type { MethodInfo } from '@protobuf-ts/runtime-rpc';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { CommonErrors, isWeftError, WeftError } from '../../errors/index.js';
import { isLoopback, type ServerTls } from '../../grpc/index.js';
import {
  type ApiMetrics,
  type AuditLog,
  type Logger,
  ledgerCaller,
  outcomeOf,
  withSpan,
} from '../../observability/index.js';
import { type Clock, startStopwatch, systemClock } from '../../time/index.js';
import { OWN_BYTES_READ_OPTIONS } from '../../wire/index.js';
import type { Authenticator as LedgerApiAuthenticator } from '../auth/authenticator.js';
import { callClaims } from '../auth/index.js';
import { LedgerApiErrors } from '../errors.js';
import {
  type CallContext,
  EncodedMessages,
  type ServiceImpl,
  type StreamHandler,
  type UnaryHandler,
} from '../service.js';
import { JsonCodec } from './codec.js';
import { type DamlTypes, damlValues } from './daml-values.js';
import { asyncApiDocument, openApiDocument } from './docs.js';
import { JsonApiErrors } from './errors.js';
import { jsCantonError } from './errors-body.js';
import { OPERATIONS, type Operation, type OperationInput } from './routes.js';

/**
 * The Ledger API's authenticator (the same instance the gRPC server uses): claims from a bearer token. `enabled`
 * false (no auth services: every caller has every right) is refused off loopback.
 */
export type Authenticator = Pick<LedgerApiAuthenticator, 'authenticate' | 'watchStream'> &
  Partial<Pick<LedgerApiAuthenticator, 'enabled'>>;

/** Canton's defaults (`http-list-max-elements-limit`, `http-list-wait-time`), and Weft's bounds. */
export const JSON_API_DEFAULTS = {
  maxRequestBytes: 64 * 1024 * 1024,
  httpListMaxElementsLimit: 200,
  httpListWaitMs: 500,
  maxWebsockets: 1000,
  /** A websocket's unsent bytes above which the stream waits for the client to read. */
  websocketHighWaterBytes: 1024 * 1024,
  /** How long a new websocket may take to send its request frame. */
  websocketRequestTimeoutMs: 30_000,
} as const;

export interface JsonApiOptions {
  readonly address: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** HTTPS (and wss) with this certificate; a client CA makes clients present certificates. */
  readonly tls?: ServerTls;
  readonly services: readonly ServiceImpl[];
  readonly authenticator: Authenticator;
  /** The participant's packages, for the type-directed JSON of Daml values in commands. */
  readonly daml: DamlTypes;
  readonly logger: Logger;
  /** Where each request is audited (who, what, outcome), besides its log line. */
  readonly audit?: AuditLog;
  /** Counts and times the requests. */
  readonly metrics?: ApiMetrics;
  readonly clock?: Clock;
  /** Whether the participant serves requests (`/readyz`); default always. */
  readonly ready?: () => boolean;
  readonly maxRequestBytes?: number;
  readonly httpListMaxElementsLimit?: number;
  readonly httpListWaitMs?: number;
  readonly maxWebsockets?: number;
  readonly websocketHighWaterBytes?: number;
  readonly websocketRequestTimeoutMs?: number;
}

export interface JsonApiServer {
  readonly port: number;
  /** The base URL a client on this host uses (`http://127.0.0.1:7575`). */
  readonly url: string;
  close(): Promise<void>;
}

type AnyHandler = UnaryHandler<object, object> | StreamHandler<object, object>;

interface Bound {
  readonly op: Operation;
  readonly method: MethodInfo | undefined;
  readonly handler: AnyHandler | undefined;
  /**
   * The JSON frames of responses the handler gave already encoded (from its cache of encoded responses): the
   * same bytes object comes again for each client of the same format, and lives as long as that cache keeps it.
   */
  readonly frames: WeakMap<Uint8Array, string>;
}

/** Frames a websocket stream sends between turns of the event loop. */
const YIELD_EVERY_FRAMES = 64;

/** Why a call's signal was aborted when the client went away. */
const CLIENT_GONE = Symbol('client gone');

/**
 * Serves Canton's JSON Ledger API v2 over the same handlers as the gRPC Ledger API: each operation decodes its
 * JSON (or DAR bytes) into the handler's request message, authenticates the `Authorization` header through the
 * same authenticator, and encodes the response in Canton's JSON. Streams are served as bounded HTTP lists and as
 * websockets with back-pressure. Failures answer a JsCantonError with the HTTP status of the error's category.
 */
export async function startJsonApi(options: JsonApiOptions): Promise<JsonApiServer> {
  if (options.authenticator.enabled === false && !isLoopback(options.address)) {
    throw new WeftError(
      LedgerApiErrors.LEDGER_API_AUTH_REQUIRED,
      `the JSON Ledger API on ${options.address} has no auth-services: anyone reaching it could act as any party; configure ledger-api.auth-services or bind json-api to a loopback address`,
      { address: options.address },
    );
  }
  const o = { ...JSON_API_DEFAULTS, ...definedOnly(options) };
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const codec = new JsonCodec(damlValues(options.daml));
  const bound = OPERATIONS.map((op) => bind(op, options.services));
  const tls = options.tls;
  const app = Fastify({
    bodyLimit: o.maxRequestBytes,
    logger: false,
    return503OnClosing: true,
    ...(tls
      ? {
          https: {
            cert: tls.certChain,
            key: tls.privateKey,
            ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          },
        }
      : {}),
  });
  let websockets = 0;

  // Bodies are read as bytes whatever their Content-Type (real clients send none): JSON is parsed per operation.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Responses are already Canton's JSON; the route schemas document them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    const e =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? new WeftError(
            JsonApiErrors.JSON_API_REQUEST_TOO_LARGE,
            `The request body exceeds the limit of ${o.maxRequestBytes} bytes.`,
            { limit: o.maxRequestBytes },
          )
        : isWeftError(error)
          ? error
          : new WeftError(CommonErrors.INVALID_ARGUMENT, `Invalid request: ${error.message}`);
    sendError(reply, e, request.id, logger);
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(
      reply,
      new WeftError(
        JsonApiErrors.JSON_API_ENDPOINT_NOT_FOUND,
        `No endpoint ${request.method} ${request.url.split('?')[0]}`,
      ),
      request.id,
      logger,
    );
  });

  await app.register(websocket, {
    options: {
      maxPayload: o.maxRequestBytes,
      // Canton answers daml.ws.auth whatever else the client offers (its token rides in `jwt.token.<t>`).
      handleProtocols: (protocols: Set<string>) =>
        protocols.has('daml.ws.auth') ? 'daml.ws.auth' : ([...protocols][0] ?? false),
    },
  });

  const openapi = openApiDocument();
  const asyncapi = asyncApiDocument();
  app.get('/docs/openapi', async (_req, reply) => reply.type('text/yaml').send(openapi));
  app.get('/docs/asyncapi', async (_req, reply) => reply.type('text/yaml').send(asyncapi));
  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) =>
    (options.ready?.() ?? true) ? { status: 'ok' } : reply.code(503).send({ status: 'not ready' }),
  );

  for (const b of bound) {
    // Path parameters get names the router takes whole (`{user-id}` → `:user_id`); httpInput maps them back.
    const url = b.op.path.replace(/\{([^}]+)\}/g, (_, name: string) => `:${name.replace(/-/g, '_')}`);
    app.route({
      method: b.op.method,
      url,
      config: { octets: b.op.body === 'octets' },
      handler: (request, reply) => serveHttp(b, request, reply),
    });
    if (b.op.stream) {
      app.get(url, { websocket: true }, (socket, request) => serveWebsocket(b, socket, request));
    }
  }

  /** Counts, times and audits a request (`route`: its method and path, or `WS` and the path of a websocket). */
  function audited(
    route: string,
    b: Bound,
    request: FastifyRequest,
    claims: CallContext['claims'] | undefined,
    elapsedMs: number,
    traceId: string,
    error?: unknown,
  ): void {
    const status = error === undefined ? 200 : jsCantonError(error, traceId).status;
    options.metrics?.observe(b.op.path, String(status), elapsedMs);
    options.audit?.call({
      api: 'json-api',
      method: route,
      who: ledgerCaller(claims, header(request, 'authorization')),
      peer: request.ip,
      ...outcomeOf(error),
      durationMs: Math.round(elapsedMs * 1000) / 1000,
    });
  }

  async function serveHttp(b: Bound, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const watch = startStopwatch(clock);
    const traceparent = header(request, 'traceparent');
    await withSpan(
      `json-api ${b.op.method} ${b.op.path}`,
      async (span) => {
        const controller = new AbortController();
        let claims: CallContext['claims'] | undefined;
        const audit = (status: number, error?: unknown) => {
          const elapsedMs = watch.elapsedMs();
          logCall(logger, request, reply, b, elapsedMs, status, span.traceId, error);
          audited(`${b.op.method} ${b.op.path}`, b, request, claims, elapsedMs, span.traceId, error);
        };
        // The response's close (not the request's, which closes once its body is read) says the client left.
        const onClose = () => {
          if (!reply.raw.writableFinished) controller.abort(CLIENT_GONE);
        };
        reply.raw.once('close', onClose);
        try {
          const ctx = await context(
            header(request, 'authorization'),
            controller.signal,
            span.traceId,
            traceparent,
            b,
          );
          claims = ctx.claims;
          const input = httpInput(b.op, request);
          const out = b.op.stream ? await list(b, input, ctx, request) : await unary(b, input, ctx);
          audit(200);
          if (b.op.produces === 'application/octet-stream') {
            await reply.type('application/octet-stream').send(Buffer.from(out as Uint8Array));
          } else if (b.op.produces === 'text/plain') {
            await reply.type('text/plain').send(String(out));
          } else {
            await reply.type('application/json').send(out);
          }
        } catch (e) {
          if (controller.signal.reason === CLIENT_GONE) return;
          audit(0, e);
          sendError(reply, e, span.traceId, logger);
        } finally {
          reply.raw.off('close', onClose);
        }
      },
      traceparent === undefined ? {} : { parent: traceparent },
    );
  }

  async function context(
    authorization: string | undefined,
    signal: AbortSignal,
    correlationId: string,
    traceparent: string | undefined,
    b: Bound,
  ): Promise<CallContext> {
    if (b.handler === undefined || b.method === undefined) {
      throw new WeftError(
        JsonApiErrors.JSON_API_SERVICE_NOT_SERVED,
        `${b.op.service}/${b.op.rpc} is not served by this participant.`,
        { service: b.op.service, method: b.op.rpc },
      );
    }
    const claims = await callClaims(
      options.authenticator,
      authorization,
      `${b.method.service.typeName}/${b.method.name}`,
    );
    return { claims, signal, correlationId, traceparent, logger: logger.child({ method: b.op.rpc }) };
  }

  async function unary(b: Bound, input: OperationInput, ctx: CallContext): Promise<unknown> {
    const method = b.method!;
    const request = buildRequest(b.op, input, method.I);
    const out = await (b.handler as UnaryHandler<object, object>)(request, ctx);
    return b.op.response ? b.op.response(out, codec, method.O) : codec.toJson(method.O, out);
  }

  /**
   * A stream as an HTTP list (Canton's `asList`): elements until the stream ends, or until no element came for
   * the idle time (an open-ended stream); more than the node's limit (or the request's smaller `limit`, which
   * truncates instead) fails with 413, so a response never holds more than the limit.
   */
  async function list(
    b: Bound,
    input: OperationInput,
    ctx: CallContext,
    request: FastifyRequest,
  ): Promise<unknown[]> {
    const method = b.method!;
    const q = request.query as Record<string, string | undefined>;
    const requested = q.limit === undefined ? undefined : Number(q.limit);
    const limit =
      requested !== undefined && requested > 0 && requested <= o.httpListMaxElementsLimit
        ? requested
        : undefined;
    const idleMs =
      q.stream_idle_timeout_ms === undefined
        ? o.httpListWaitMs
        : Math.min(Number(q.stream_idle_timeout_ms) || 0, 60_000);
    const req = buildRequest(b.op, input, method.I);
    const controller = new AbortController();
    ctx.signal.addEventListener('abort', () => controller.abort(ctx.signal.reason), { once: true });
    const iterator = (b.handler as StreamHandler<object, object>)(req, { ...ctx, signal: controller.signal })[
      Symbol.asyncIterator
    ]();
    const out: unknown[] = [];
    try {
      for (;;) {
        const next = await nextWithin(clock, iterator, idleMs);
        if (next === 'idle' || next.done) break;
        if (limit !== undefined && out.length >= limit) break;
        if (limit === undefined && out.length >= o.httpListMaxElementsLimit) {
          throw new WeftError(
            JsonApiErrors.JSON_API_MAXIMUM_LIST_ELEMENTS_NUMBER_REACHED,
            `The number of matching elements (${out.length + 1}) is greater than the node limit (${o.httpListMaxElementsLimit}).`,
            { limit: o.httpListMaxElementsLimit },
          );
        }
        out.push(
          b.op.response ? b.op.response(next.value, codec, method.O) : codec.toJson(method.O, next.value),
        );
      }
    } finally {
      controller.abort(CLIENT_GONE);
      void iterator.return?.().catch(() => undefined);
    }
    return out;
  }

  function buildRequest(op: Operation, input: OperationInput, type: IMessageType<object>): object {
    return op.request ? op.request(input, codec, type) : codec.fromJson(type, input.body);
  }

  /**
   * A stream over a websocket (Canton's protocol): the client's first text frame is the request (the same JSON as
   * the HTTP list's body); each element goes out as one JSON frame, a failure as one JsCantonError frame; the
   * socket closes when the stream ends. The next element is pulled only while the socket's unsent bytes stay
   * under the high-water mark, so a slow reader holds the participant to one bounded buffer.
   */
  function serveWebsocket(b: Bound, socket: WebSocket, request: FastifyRequest): void {
    if (websockets >= o.maxWebsockets) {
      socket.close(1013, 'too many websockets');
      return;
    }
    websockets++;
    const controller = new AbortController();
    const cancelTimer = clock.schedule(o.websocketRequestTimeoutMs, () =>
      socket.close(1008, 'no request frame'),
    );
    socket.once('close', () => {
      cancelTimer();
      websockets--;
      controller.abort(CLIENT_GONE);
    });
    socket.once('message', (data, isBinary) => {
      cancelTimer();
      const traceparent = header(request, 'traceparent');
      void withSpan(
        `json-api WS ${b.op.path}`,
        async (span) => {
          const watch = startStopwatch(clock);
          let sent = 0;
          let claims: CallContext['claims'] | undefined;
          // The frames of a batch of elements leave in one write rather than one each (ws writes a frame's
          // header and payload apart): the socket is corked while they are queued, and uncorked at the end of
          // the batch or before the stream waits, whose wait needs the queued bytes gone.
          const raw = request.raw.socket;
          const flush = () => {
            if (raw.writableCorked > 0) raw.uncork();
          };
          try {
            const auth =
              header(request, 'authorization') ?? protocolToken(header(request, 'sec-websocket-protocol'));
            const ctx = await context(auth, controller.signal, span.traceId, traceparent, b);
            claims = ctx.claims;
            // The stream ends with the error once the token expires or the user's rights change.
            let revoked: WeftError | undefined;
            const unwatch = options.authenticator.watchStream(ctx.claims, (error) => {
              revoked = error;
              controller.abort(error);
            });
            socket.once('close', unwatch);
            const body = parseJson(
              isBinary ? Buffer.from(data as Buffer) : Buffer.from(data as Buffer),
              'websocket request',
            );
            const method = b.method!;
            const req = buildRequest(b.op, { body, params: {}, query: {} }, method.I);
            const frame = (element: object) =>
              JSON.stringify(
                b.op.response ? b.op.response(element, codec, method.O) : codec.toJson(method.O, element),
              );
            const send = async (data: string) => {
              await sendFrame(socket, data, o.websocketHighWaterBytes, controller.signal, flush);
              sent++;
              // A stream that never waits (a fast reader, elements at hand) must still let other I/O run.
              if (sent % YIELD_EVERY_FRAMES === 0) {
                flush();
                await new Promise((resolve) => setImmediate(resolve));
              }
            };
            const stream = (b.handler as StreamHandler<object, object>)(req, { ...ctx, encoded: true });
            for await (const element of stream) {
              if (revoked) throw revoked;
              if (controller.signal.aborted) break;
              if (!(element instanceof EncodedMessages)) {
                await send(frame(element));
                continue;
              }
              for (const bytes of element.messages) {
                if (raw.writableCorked === 0) raw.cork();
                let data = b.frames.get(bytes);
                if (data === undefined) {
                  data = b.op.response
                    ? frame(method.O.fromBinary(bytes, OWN_BYTES_READ_OPTIONS))
                    : JSON.stringify(codec.binaryToJson(method.O, bytes));
                  b.frames.set(bytes, data);
                }
                await send(data);
                if (controller.signal.aborted) break;
              }
              flush();
            }
            logger.debug(
              { path: b.op.path, messages: sent, durationMs: watch.elapsedMs(), traceId: span.traceId },
              `JSON API websocket ${b.op.path}: OK`,
            );
            audited(`WS ${b.op.path}`, b, request, claims, watch.elapsedMs(), span.traceId);
            socket.close(1000);
          } catch (caught) {
            flush();
            if (controller.signal.reason === CLIENT_GONE) return;
            const e = controller.signal.reason instanceof WeftError ? controller.signal.reason : caught;
            const { body } = jsCantonError(e, span.traceId);
            audited(`WS ${b.op.path}`, b, request, claims, watch.elapsedMs(), span.traceId, e);
            logger.info(
              { path: b.op.path, messages: sent, code: body.code, error: body.cause, traceId: span.traceId },
              `JSON API websocket ${b.op.path}: ${body.code}`,
            );
            if (!isWeftError(e))
              logger.error({ err: e, path: b.op.path }, `JSON API websocket ${b.op.path} failed`);
            if (socket.readyState === socket.OPEN)
              socket.send(JSON.stringify(body), () => socket.close(1000));
          }
        },
        traceparent === undefined ? {} : { parent: traceparent },
      );
    });
  }

  await app.listen({ host: options.address, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.address.includes(':') ? `[${options.address}]` : options.address;
  return {
    port,
    url: `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    close: async () => {
      for (const client of app.websocketServer?.clients ?? []) client.terminate();
      await app.close();
    },
  };

  function httpInput(op: Operation, request: FastifyRequest): OperationInput {
    const raw = request.body as Buffer | undefined;
    const body =
      op.body === 'octets'
        ? new Uint8Array(raw ?? [])
        : op.body === 'json' || raw?.length
          ? parseJson(raw, 'body')
          : undefined;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.params as Record<string, string>))
      params[k.replace(/_/g, '-')] = v;
    return {
      body,
      params,
      query: request.query as Record<string, string | string[] | undefined>,
    };
  }
}

function bind(op: Operation, services: readonly ServiceImpl[]): Bound {
  const impl = services.find((s) => s.type.typeName === op.service);
  const method = impl?.type.methods.find((m) => m.name === op.rpc);
  return { op, method, handler: impl?.handlers[op.rpc] as AnyHandler | undefined, frames: new WeakMap() };
}

/** The JSON of a body; an empty body is `{}` (every field defaults, as Canton's relaxed decoding has it). */
function parseJson(raw: Buffer | undefined, what: string): unknown {
  if (raw === undefined || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `Invalid value for: ${what} (malformed JSON: ${(e as Error).message})`,
    );
  }
}

/** The token of Canton's websocket subprotocol `jwt.token.<token>`, as an Authorization header. */
function protocolToken(protocols: string | undefined): string | undefined {
  const token = protocols
    ?.split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith('jwt.token.'));
  return token === undefined ? undefined : `Bearer ${token.slice('jwt.token.'.length)}`;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The next element, or 'idle' when none came within `ms` (the HTTP list of an open-ended stream ends there). */
async function nextWithin<T>(
  clock: Clock,
  iterator: AsyncIterator<T>,
  ms: number,
): Promise<IteratorResult<T> | 'idle'> {
  let cancel: (() => void) | undefined;
  const idle = new Promise<'idle'>((resolve) => {
    cancel = clock.schedule(ms, () => resolve('idle'));
  });
  try {
    return await Promise.race([iterator.next(), idle]);
  } finally {
    cancel?.();
  }
}

/**
 * Sends one frame; above the high-water mark flushes the corked socket and waits until it has written the frame
 * (or the client left).
 */
function sendFrame(
  socket: WebSocket,
  data: string,
  highWater: number,
  signal: AbortSignal,
  flush: () => void,
): Promise<void> {
  if (socket.readyState !== socket.OPEN) return Promise.reject(new Error('websocket closed'));
  if (socket.bufferedAmount < highWater) {
    socket.send(data);
    return Promise.resolve();
  }
  flush();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.send(data, (err) => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    });
  });
}

function sendError(reply: FastifyReply, e: unknown, correlationId: string, logger: Logger): void {
  if (!isWeftError(e)) logger.error({ err: e }, 'JSON API call failed');
  const { status, body } = jsCantonError(e, correlationId);
  void reply.code(status).type('application/json').send(body);
}

function logCall(
  logger: Logger,
  request: FastifyRequest,
  _reply: FastifyReply,
  b: Bound,
  elapsedMs: number,
  status: number,
  traceId: string,
  error?: unknown,
): void {
  const weft = isWeftError(error) ? error : undefined;
  logger[error === undefined ? 'debug' : 'info'](
    {
      method: request.method,
      path: b.op.path,
      rpc: b.op.rpc,
      peer: request.ip,
      traceId,
      durationMs: Math.round(elapsedMs * 1000) / 1000,
      ...(error === undefined ? { status } : { code: weft?.code ?? 'INTERNAL', error: weft?.message }),
    },
    `JSON API ${request.method} ${b.op.path}: ${error === undefined ? 'OK' : (weft?.code ?? 'INTERNAL')}`,
  );
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
