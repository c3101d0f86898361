import { EventEmitter } from 'node:events';
import { isWeftError, WeftError } from '../errors/index.js';
import type { SubscribeResponse } from '../generated/weft/sequencer/v1/sequencer_service.js';
import type { ParsedEndpoint } from '../grpc/index.js';
import type { EventStream, MemberToken, SequencerChannel, SequencerDialer } from './client/endpoint.js';
import { SequencerErrors } from './errors.js';
import type { SequencerPublicApi } from './public-api.js';

/** Stream messages held for a paused or slow receiver before the server waits (as HTTP/2's receive window would). */
const STREAM_WINDOW = 64;

/** Hosts on which a port names a server of this machine, and so of this process if this process bound it. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * The sequencers this process serves, reached by nodes of the same process without gRPC: the sandbox runs every
 * node in one process, and there HTTP/2, framing and the protobuf wrapping of calls cost about a third of the
 * network's CPU (docs/performance.md, "In-process transport"). A member still authenticates, signs and is checked
 * exactly as over gRPC: the channel calls the same {@link SequencerPublicApi}. Only loopback endpoints whose port a
 * sequencer of this process is bound to are served here; any other endpoint is dialled over gRPC as usual.
 */
export class InProcessSequencers {
  /** By bound port: one entry per sequencer node of the process. */
  readonly #apis = new Map<number, SequencerPublicApi>();

  /** Serves `api`, bound to `port`, to this process's nodes; the returned function withdraws it. */
  serve(port: number, api: SequencerPublicApi): () => void {
    this.#apis.set(port, api);
    return () => {
      if (this.#apis.get(port) === api) this.#apis.delete(port);
    };
  }

  /** Opens an in-process channel to a sequencer of this process; undefined (gRPC) for any other endpoint. */
  readonly dialer: SequencerDialer = (endpoint) => {
    const port = portOf(endpoint);
    return port !== undefined && this.#apis.has(port)
      ? new InProcessChannel(this.#apis, port, endpoint)
      : undefined;
  };
}

function portOf(endpoint: ParsedEndpoint): number | undefined {
  const colon = endpoint.target.lastIndexOf(':');
  if (!LOOPBACK.has(endpoint.target.slice(0, colon))) return undefined;
  return Number(endpoint.target.slice(colon + 1));
}

function refused(endpoint: ParsedEndpoint): WeftError {
  return new WeftError(SequencerErrors.SEQUENCER_CONNECTION_FAILED, `${endpoint.url}: connection refused`, {
    endpoint: endpoint.url,
  });
}

/**
 * A channel whose unary calls are method calls on a {@link SequencerPublicApi}, each carried by `call`, which finds
 * the API and crosses whatever lies between: the in-process channel, and the simulation's with its seeded delays.
 */
export abstract class PublicApiChannel implements SequencerChannel {
  protected abstract call<T>(fn: (api: SequencerPublicApi) => Promise<T>): Promise<T>;
  abstract subscribe(
    request: Parameters<SequencerChannel['subscribe']>[0],
    auth: MemberToken | undefined,
  ): EventStream;
  abstract error(e: unknown): WeftError;
  abstract close(): void;

  handshake: SequencerChannel['handshake'] = (r) => this.call((api) => api.handshake(r));
  registerOnboardingTopologyTransactions: SequencerChannel['registerOnboardingTopologyTransactions'] = (r) =>
    this.call((api) => api.registerOnboardingTopologyTransactions(r));
  challenge: SequencerChannel['challenge'] = (r) => this.call((api) => api.challenge(r));
  authenticate: SequencerChannel['authenticate'] = (r) => this.call((api) => api.authenticate(r));
  logout: SequencerChannel['logout'] = (r) => this.call((api) => api.logout(r));
  sendAsync: SequencerChannel['sendAsync'] = (r, auth) =>
    this.call(async (api) => api.sendAsync(r, api.caller(auth)));
  acknowledge: SequencerChannel['acknowledge'] = (r, auth) =>
    this.call(async (api) => api.acknowledge(r, api.caller(auth)));
  getTime: SequencerChannel['getTime'] = (_r, auth) =>
    this.call(async (api) => api.getTime(api.caller(auth)));
  downloadTopologyStateForInit: SequencerChannel['downloadTopologyStateForInit'] = (r, auth) =>
    this.call(async (api) => api.downloadTopologyStateForInit(r, api.caller(auth)));
}

/**
 * A channel whose calls are method calls on the public API. It looks the sequencer up at each call, so a node that
 * stopped refuses the call as a closed port would, and the client reconnects as it does over gRPC. Requests and
 * responses are handed over, not copied: neither side changes a message once sent.
 */
class InProcessChannel extends PublicApiChannel {
  readonly #streams = new Set<ChannelStream>();

  constructor(
    private readonly apis: ReadonlyMap<number, SequencerPublicApi>,
    private readonly port: number,
    private readonly endpoint: ParsedEndpoint,
  ) {
    super();
  }

  subscribe(
    request: Parameters<SequencerChannel['subscribe']>[0],
    auth: MemberToken | undefined,
  ): EventStream {
    // Each message reaches the client in a later turn of the event loop, as a network read would.
    const stream = new ChannelStream({ carry: (arrived) => setImmediate(arrived) }, () =>
      this.#streams.delete(stream),
    );
    this.#streams.add(stream);
    void this.call(async (api) => {
      await api.subscribe(
        request,
        api.caller(auth),
        (response, signal) => stream.push(response, signal),
        () => stream.start(),
        stream.cancelled,
      );
    }).then(
      () => stream.finish(),
      (e) => stream.fail(e),
    );
    return stream;
  }

  error(e: unknown): WeftError {
    if (isWeftError(e)) return e;
    return new WeftError(
      SequencerErrors.SEQUENCER_CONNECTION_FAILED,
      `${this.endpoint.url}: ${e instanceof Error ? e.message : String(e)}`,
      { endpoint: this.endpoint.url },
    );
  }

  close(): void {
    for (const s of this.#streams) s.cancel();
  }

  protected async call<T>(fn: (api: SequencerPublicApi) => Promise<T>): Promise<T> {
    const api = this.apis.get(this.port);
    if (!api) throw refused(this.endpoint);
    return fn(api);
  }
}

/** How a {@link ChannelStream}'s messages cross to the receiver. */
export interface StreamLink {
  /** Calls `arrived` once the message just queued has crossed, never before an earlier message's. */
  carry(arrived: () => void): void;
  /** Told of each message handed to the receiver. */
  delivered?(): void;
}

type Delivery =
  | { readonly kind: 'metadata' }
  | { readonly kind: 'data'; readonly response: SubscribeResponse }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'end' };

/**
 * A subscription stream between a server and a client of one process: what the server writes arrives over `link`,
 * in order; a paused receiver holds messages back and the server waits once {@link STREAM_WINDOW} are held.
 */
export class ChannelStream extends EventEmitter implements EventStream {
  readonly #controller = new AbortController();
  /** Queued deliveries, in order; the first `#arrived` of them have crossed. */
  readonly #queue: Delivery[] = [];
  #arrived = 0;
  #paused = false;
  #done = false;
  readonly #drained = new Set<() => void>();

  constructor(
    private readonly link: StreamLink,
    private readonly onDone: () => void,
  ) {
    super();
  }

  /** Aborted when the receiver cancelled or the connection broke: the server stops writing. */
  get cancelled(): AbortSignal {
    return this.#controller.signal;
  }

  /** The subscription is valid: the receiver's `metadata`. */
  start(): void {
    this.#enqueue({ kind: 'metadata' });
  }

  /** Writes a message; resolves when the window has room again (or `signal` aborts). */
  push(response: SubscribeResponse, signal: AbortSignal): Promise<void> {
    this.#enqueue({ kind: 'data', response });
    if (this.#queue.length < STREAM_WINDOW) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#drained.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#drained.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  finish(): void {
    this.#enqueue({ kind: 'end' });
  }

  fail(error: unknown): void {
    this.#enqueue({ kind: 'error', error });
  }

  /** The connection broke: what is in flight is lost, the receiver sees the error now. */
  cut(error: WeftError): void {
    if (this.#done) return;
    this.#queue.length = 0;
    this.#controller.abort();
    this.#close();
    this.emit('error', error);
  }

  pause(): this {
    this.#paused = true;
    return this;
  }

  resume(): this {
    this.#paused = false;
    this.#flush();
    return this;
  }

  cancel(): void {
    if (this.#done) return;
    this.#queue.length = 0;
    this.#controller.abort();
    this.#close();
  }

  #enqueue(delivery: Delivery): void {
    if (this.#done) return;
    this.#queue.push(delivery);
    this.link.carry(() => {
      this.#arrived++;
      this.#flush();
    });
  }

  /** Emits the deliveries that arrived, unless paused. */
  #flush(): void {
    while (!this.#done && !this.#paused && this.#arrived > 0 && this.#queue.length > 0) {
      const d = this.#queue.shift()!;
      this.#arrived--;
      this.link.delivered?.();
      if (this.#queue.length < STREAM_WINDOW) for (const w of [...this.#drained]) w();
      switch (d.kind) {
        case 'metadata':
          this.emit('metadata');
          break;
        case 'data':
          this.emit('data', d.response);
          break;
        case 'error':
          this.#close();
          this.emit('error', d.error);
          break;
        case 'end':
          this.#close();
          this.emit('end');
          break;
      }
    }
  }

  #close(): void {
    this.#done = true;
    for (const w of [...this.#drained]) w();
    this.onDone();
  }
}
