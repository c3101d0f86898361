import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  type RandomSource,
  type SigningPrivateKey,
  type SigningPublicKey,
  systemRandom,
} from '../../crypto/index.js';
import { isWeftError, WeftError } from '../../errors/index.js';
import type { SubscribeResponse } from '../../generated/weft/sequencer/v1/sequencer_service.js';
import {
  Acknowledgement,
  type Envelope,
  SequencedEvent,
  type SignedContent,
  SubmissionRequest,
} from '../../generated/weft/sequencer/v1/sequencing.js';
import type { DynamicSynchronizerParameters } from '../../generated/weft/topology/v1/topology.js';
import type { ParsedEndpoint } from '../../grpc/index.js';
import { currentTraceparent } from '../../observability/index.js';
import { type Clock, sleep, systemClock } from '../../time/index.js';
import { SequencerErrors } from '../errors.js';
import { SignaturePurpose, signContent, verifyContent } from '../signing.js';
import { PROTOCOL_VERSION } from '../topology.js';
import { EndpointConnection, parseSequencerEndpoint, type TransportOptions } from './endpoint.js';

/** An event of the member's stream, verified (sequencer signature, no gap) and decoded. */
export interface ReceivedEvent {
  readonly counter: bigint;
  readonly timestamp: bigint;
  readonly previousTimestamp: bigint | undefined;
  /** Set on the events that answer this member's own sends: its receipts and deliver errors. */
  readonly messageId: string | undefined;
  /** The envelopes addressed to this member (empty for a receipt or an error). */
  readonly envelopes: readonly Envelope[];
  /** For a DeliverError: why the send was not delivered. */
  readonly error: { readonly code: string; readonly reason: string } | undefined;
  readonly traceparent: string | undefined;
  /** The event bytes and the sequencer's signature, exactly as received. */
  readonly signed: SignedContent;
}

export interface SendRequest {
  readonly envelopes: readonly Envelope[];
  /** µs; a request not sequenced by then yields a deliver error instead of a delivery. */
  readonly maxSequencingTime: bigint;
  /** Unique per member; generated when absent. Resending the same id never creates a second event. */
  readonly messageId?: string;
  /** Defaults to the current span's. */
  readonly traceparent?: string;
}

export type SendOutcome =
  | { readonly kind: 'delivered'; readonly timestamp: bigint }
  | { readonly kind: 'error'; readonly timestamp: bigint; readonly code: string; readonly reason: string };

export interface SendHandle {
  readonly messageId: string;
  /** Settles once the receipt or deliver error has been handed to the handler; rejects only when closed. */
  readonly outcome: Promise<SendOutcome>;
}

export type ClientState = 'connected' | 'reconnecting' | 'closed' | 'failed';

export interface SequencerClientOptions extends TransportOptions {
  readonly member: string;
  readonly signingKey: SigningPrivateKey;
  /** Endpoints of one sequencer (`connect_multi`): the client fails over between them. */
  readonly endpoints: readonly string[];
  readonly expectedSynchronizerId?: string;
  readonly expectedSequencerId?: string;
  /** Protocol versions this client speaks; default the one this code implements. */
  readonly protocolVersions?: readonly number[];
  /** The sequencer's signing keys valid at a timestamp (from the member's topology state). */
  readonly sequencerKeys: (ts: bigint) => readonly SigningPublicKey[] | Promise<readonly SigningPublicKey[]>;
  /** Called for every event, in order, one at a time; a failure stops the client. */
  readonly handler: (event: ReceivedEvent) => Promise<void> | void;
  /** The last event the application processed durably; the stream resumes after it. */
  readonly resumeAfter?: { readonly counter: bigint; readonly timestamp: bigint };
  /** Called once when the client stops for good (an invalid event or a failing handler). */
  readonly onFatal?: (error: WeftError) => void;
  /** How often sends without an outcome are sent again; default 5 s. */
  readonly resendIntervalMs?: number;
  /** Longest wait between reconnection attempts; default 5 s. */
  readonly maxBackoffMs?: number;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
}

interface PendingSend {
  readonly signed: SignedContent;
  readonly outcome: Promise<SendOutcome>;
  readonly resolve: (o: SendOutcome) => void;
  readonly reject: (e: unknown) => void;
  lastSent: bigint;
}

interface Queued {
  readonly signed: SignedContent;
  readonly event: SequencedEvent;
}

/** Stream backpressure: pause above, resume below. */
const QUEUE_HIGH = 256;
const QUEUE_LOW = 64;

/** Problems no retry on another endpoint of the same sequencer can fix. */
const PERMANENT = new Set<string>([
  SequencerErrors.SEQUENCER_SUBSCRIPTION_PRUNED.code,
  SequencerErrors.SEQUENCER_CONNECTION_MISMATCH.code,
  SequencerErrors.SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED.code,
  SequencerErrors.SEQUENCER_INSECURE_CONNECTION.code,
]);

/** Failures after which a send is retried once the client has (re)connected. */
const RETRY_SEND = new Set<string>([
  SequencerErrors.SEQUENCER_CONNECTION_FAILED.code,
  SequencerErrors.SEQUENCER_UNAVAILABLE.code,
  SequencerErrors.SEQUENCER_TOKEN_INVALID.code,
  // The node lost its writer slot (killed peer, takeover): another node of the sequencer takes the send.
  SequencerErrors.SEQUENCER_NODE_INDEX_LOST.code,
]);

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A member's connection to one sequencer over one or more endpoints. It authenticates with the member's signing
 * key, subscribes from the last event it received, verifies every event (sequencer signature, gapless counters,
 * previous timestamps), hands events in order to the handler, and reconnects by itself with backoff, failing over
 * between endpoints; sends without an outcome are resent after a failover.
 */
export class SequencerClient {
  readonly member: string;
  readonly synchronizerId: string;
  readonly sequencerId: string;
  readonly protocolVersion: number;
  /** As of the handshake. */
  readonly parameters: DynamicSynchronizerParameters | undefined;

  readonly #o: SequencerClientOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #endpoints: readonly ParsedEndpoint[];
  readonly #versions: readonly number[];
  #endpointIndex: number;
  #conn: EndpointConnection | undefined;
  #stream: grpc.ClientReadableStream<SubscribeResponse> | undefined;
  #connected = deferred<EndpointConnection>();
  #state: ClientState = 'reconnecting';
  #fatal: WeftError | undefined;
  #reconnecting = false;
  /** The last event received (queued); the stream resumes after it. */
  #lastReceived: { counter: bigint; timestamp: bigint } | undefined;
  readonly #queue: Queued[] = [];
  #wakeProcessor: (() => void) | undefined;
  readonly #pending = new Map<string, PendingSend>();
  #cancelResend: (() => void) | undefined;
  readonly #closing = new AbortController();

  private constructor(
    o: SequencerClientOptions,
    endpoints: readonly ParsedEndpoint[],
    first: {
      index: number;
      conn: EndpointConnection;
      synchronizerId: string;
      sequencerId: string;
      version: number;
    },
    parameters: DynamicSynchronizerParameters | undefined,
  ) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? systemRandom;
    this.#endpoints = endpoints;
    this.#versions = o.protocolVersions ?? [PROTOCOL_VERSION];
    this.member = o.member;
    this.synchronizerId = first.synchronizerId;
    this.sequencerId = first.sequencerId;
    this.protocolVersion = first.version;
    this.parameters = parameters;
    this.#endpointIndex = first.index;
    this.#lastReceived = o.resumeAfter && { ...o.resumeAfter };
  }

  /**
   * Connects to the first endpoint that answers, authenticates and subscribes. Rejects with a clear error when the
   * handshake fails (wrong synchronizer or sequencer, no common protocol version, member not active or key not
   * registered) or when no endpoint can be reached.
   */
  static async connect(options: SequencerClientOptions): Promise<SequencerClient> {
    if (options.endpoints.length === 0) {
      throw new WeftError(SequencerErrors.SEQUENCER_CONNECTION_FAILED, 'no sequencer endpoint configured');
    }
    const endpoints = options.endpoints.map((url) => parseSequencerEndpoint(url, options.insecure));
    const clock = options.clock ?? systemClock;
    const versions = options.protocolVersions ?? [PROTOCOL_VERSION];
    const failures: string[] = [];
    for (const [index, endpoint] of endpoints.entries()) {
      const conn = new EndpointConnection(endpoint, options, clock);
      try {
        const hs = await conn.handshake(versions);
        checkIdentity(endpoint, hs, options.expectedSynchronizerId, options.expectedSequencerId);
        await conn.authenticate(options.member, options.signingKey, hs.synchronizerId, versions);
        const client = new SequencerClient(
          options,
          endpoints,
          {
            index,
            conn,
            synchronizerId: hs.synchronizerId,
            sequencerId: hs.sequencerId,
            version: hs.serverProtocolVersion,
          },
          hs.dynamicParameters,
        );
        await client.#attach(conn);
        void client.#process();
        client.#scheduleResend();
        return client;
      } catch (e) {
        conn.close();
        const error = conn.error(e);
        if (error.category !== 'TransientServerFailure') throw error;
        failures.push(error.message);
      }
    }
    throw new WeftError(
      SequencerErrors.SEQUENCER_CONNECTION_FAILED,
      `no endpoint of the sequencer could be reached: ${failures.join('; ')}`,
    );
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The endpoint in use, when connected. */
  get endpoint(): string | undefined {
    return this.#state === 'connected' ? this.#conn?.endpoint.url : undefined;
  }

  /** The last event handed to the handler (or received, while the handler is busy). */
  get lastReceived(): { readonly counter: bigint; readonly timestamp: bigint } | undefined {
    return this.#lastReceived;
  }

  /**
   * Signs and submits a request; resolves once a sequencer node has stored it (waiting through a failover),
   * rejects when the sequencer refuses it (invalid, too large, recipients unknown, overloaded).
   */
  async send(request: SendRequest): Promise<SendHandle> {
    this.#checkOpen();
    const messageId = request.messageId ?? Buffer.from(this.#random.bytes(16)).toString('hex');
    const traceparent = request.traceparent ?? currentTraceparent();
    const submission: SubmissionRequest = {
      sender: this.member,
      messageId,
      batch: { envelopes: [...request.envelopes] },
      maxSequencingTime: request.maxSequencingTime,
      synchronizerId: this.synchronizerId,
      ...(traceparent ? { traceContext: { traceparent, tracestate: '' } } : {}),
    };
    const signed = signContent(
      this.#o.signingKey,
      SignaturePurpose.submission,
      SubmissionRequest.toBinary(submission),
    );
    // A resend of a pending message id shares its outcome: the sequencer keeps the first request.
    const existing = this.#pending.get(messageId);
    if (existing) {
      await this.#submit({ ...existing, signed });
      return { messageId, outcome: existing.outcome };
    }
    const outcome = deferred<SendOutcome>();
    // A caller may never look at the outcome; its rejection on close must not count as unhandled.
    outcome.promise.catch(() => {});
    const pending: PendingSend = {
      signed,
      outcome: outcome.promise,
      resolve: outcome.resolve,
      reject: outcome.reject,
      lastSent: this.#clock.now(),
    };
    this.#pending.set(messageId, pending);
    try {
      await this.#submit(pending);
    } catch (e) {
      this.#pending.delete(messageId);
      throw e;
    }
    return { messageId, outcome: outcome.promise };
  }

  /** Tells the sequencer that all events up to `timestamp` are processed and may be pruned. */
  async acknowledge(timestamp: bigint): Promise<void> {
    const ack = Acknowledgement.toBinary({
      member: this.member,
      timestamp,
      synchronizerId: this.synchronizerId,
    });
    const signed = signContent(this.#o.signingKey, SignaturePurpose.acknowledgement, ack);
    await this.#withConnection((conn) => conn.acknowledge(signed));
  }

  /** A sequencing time earlier than that of any request this client sends afterwards (via the same node). */
  async getTime(): Promise<bigint> {
    return this.#withConnection((conn) => conn.getTime());
  }

  /** Closes the subscription and the connections; pending outcomes reject with SEQUENCER_CLIENT_CLOSED. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#shutDown(
      'closed',
      new WeftError(SequencerErrors.SEQUENCER_CLIENT_CLOSED, 'the sequencer client was closed'),
    );
    const conn = this.#conn;
    await conn?.logout().catch(() => {});
    conn?.close();
  }

  // ---- connection management -----------------------------------------------------------------------------

  /** Subscribes on `conn` and makes it the connection in use once the sequencer accepted the subscription. */
  async #attach(conn: EndpointConnection): Promise<void> {
    const from = this.#lastReceived ? this.#lastReceived.counter + 1n : 0n;
    const stream = conn.subscribe(this.member, from);
    this.#conn = conn;
    this.#stream = stream;
    let started = false;
    await new Promise<void>((resolve, reject) => {
      stream.on('metadata', () => {
        started = true;
        resolve();
      });
      stream.on('data', (response: SubscribeResponse) => {
        if (this.#stream !== stream) return;
        try {
          this.#receive(response.signedEvent);
        } catch (e) {
          this.#fail(e);
        }
        if (this.#queue.length >= QUEUE_HIGH) stream.pause();
      });
      const failed = (error: WeftError) => {
        if (started) this.#lost(conn, stream, error);
        else reject(error);
      };
      stream.on('error', (e) => failed(conn.error(e)));
      stream.on('end', () =>
        failed(
          new WeftError(
            SequencerErrors.SEQUENCER_CONNECTION_FAILED,
            `${conn.endpoint.url} ended the subscription`,
          ),
        ),
      );
    });
    if (this.#state === 'closed' || this.#state === 'failed') return;
    this.#state = 'connected';
    this.#connected.resolve(conn);
  }

  /** The connection or its stream failed: fail over, unless it is already superseded. */
  #lost(
    conn: EndpointConnection,
    stream: grpc.ClientReadableStream<SubscribeResponse> | undefined,
    e: WeftError,
  ): void {
    if (this.#conn !== conn || (stream && this.#stream !== stream) || this.#state !== 'connected') return;
    this.#o.logger?.warn({ endpoint: conn.endpoint.url, err: e }, 'sequencer connection lost; reconnecting');
    this.#state = 'reconnecting';
    this.#connected = deferred();
    this.#connected.promise.catch(() => {});
    this.#stream?.cancel();
    this.#stream = undefined;
    conn.close();
    // A rejected token only needs a new one from the same node; anything else moves on to the next endpoint.
    const retrySame = isWeftError(e, SequencerErrors.SEQUENCER_TOKEN_INVALID);
    void this.#reconnect(retrySame);
  }

  async #reconnect(retrySame: boolean): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    try {
      for (let attempt = 0; this.#state === 'reconnecting'; attempt++) {
        if (!(retrySame && attempt === 0))
          this.#endpointIndex = (this.#endpointIndex + 1) % this.#endpoints.length;
        const endpoint = this.#endpoints[this.#endpointIndex]!;
        const conn = new EndpointConnection(endpoint, this.#o, this.#clock);
        try {
          const hs = await conn.handshake(this.#versions);
          checkIdentity(endpoint, hs, this.synchronizerId, this.sequencerId);
          await conn.authenticate(this.member, this.#o.signingKey, this.synchronizerId, this.#versions);
          if (this.#state !== 'reconnecting') {
            conn.close();
            return;
          }
          await this.#attach(conn);
          this.#o.logger?.info({ endpoint: endpoint.url }, 'sequencer connection re-established');
          this.#resendAll();
          return;
        } catch (e) {
          conn.close();
          const error = conn.error(e);
          if (PERMANENT.has(error.code)) {
            this.#fail(error);
            return;
          }
          const delay = this.#backoff(attempt);
          this.#o.logger?.warn(
            { endpoint: endpoint.url, err: error, retryInMs: delay },
            'sequencer reconnect failed',
          );
          await sleep(this.#clock, delay, this.#closing.signal);
        }
      }
    } finally {
      this.#reconnecting = false;
    }
  }

  #backoff(attempt: number): number {
    const max = this.#o.maxBackoffMs ?? 5000;
    const base = Math.min(max, 100 * 2 ** Math.min(attempt, 16));
    const jitter = (this.#random.bytes(1)[0]! / 255) * 0.5 + 0.5;
    return Math.round(base * jitter);
  }

  /** Runs `call` on the current connection, waiting through reconnections when the node is unreachable. */
  async #withConnection<T>(call: (conn: EndpointConnection) => Promise<T>): Promise<T> {
    for (;;) {
      this.#checkOpen();
      const conn = await this.#connected.promise;
      try {
        return await call(conn);
      } catch (e) {
        const error = conn.error(e);
        if (!RETRY_SEND.has(error.code)) throw error;
        this.#lost(conn, undefined, error);
      }
    }
  }

  #checkOpen(): void {
    if (this.#state === 'closed' || this.#state === 'failed') {
      throw (
        this.#fatal ??
        new WeftError(
          SequencerErrors.SEQUENCER_CLIENT_CLOSED,
          `the sequencer client of ${this.member} is closed`,
        )
      );
    }
  }

  // ---- sends ---------------------------------------------------------------------------------------------

  async #submit(pending: PendingSend): Promise<void> {
    await this.#withConnection(async (conn) => {
      pending.lastSent = this.#clock.now();
      await conn.sendAsync(pending.signed);
    });
  }

  /** After a failover: what the old node accepted may never have been sequenced; message ids prevent doubles. */
  #resendAll(): void {
    for (const pending of this.#pending.values()) this.#resend(pending);
  }

  #resend(pending: PendingSend): void {
    const conn = this.#conn;
    if (!conn || this.#state !== 'connected') return;
    pending.lastSent = this.#clock.now();
    conn.sendAsync(pending.signed).catch((e) => {
      const error = conn.error(e);
      if (RETRY_SEND.has(error.code)) this.#lost(conn, undefined, error);
      else this.#o.logger?.warn({ err: error }, 'resending a submission failed');
    });
  }

  #scheduleResend(): void {
    const interval = this.#o.resendIntervalMs ?? 5000;
    this.#cancelResend = this.#clock.schedule(interval, () => {
      const due = this.#clock.now() - BigInt(interval) * 1000n;
      for (const pending of this.#pending.values()) if (pending.lastSent <= due) this.#resend(pending);
      if (this.#state !== 'closed' && this.#state !== 'failed') this.#scheduleResend();
    });
  }

  // ---- events --------------------------------------------------------------------------------------------

  /** Checks order and continuity synchronously, so the stream can resume exactly after the last queued event. */
  #receive(signed: SignedContent | undefined): void {
    if (!signed) throw invalidEvent('the sequencer sent a subscription response without an event');
    let event: SequencedEvent;
    try {
      event = SequencedEvent.fromBinary(signed.content);
    } catch (e) {
      throw invalidEvent(
        `the sequencer sent an undecodable event: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const last = this.#lastReceived;
    const expected = last ? last.counter + 1n : 0n;
    if (event.counter !== expected) {
      throw invalidEvent(`expected event counter ${expected} of ${this.member}, received ${event.counter}`);
    }
    if (last && (event.previousTimestamp !== last.timestamp || event.timestamp <= last.timestamp)) {
      throw invalidEvent(
        `event ${event.counter} of ${this.member} has timestamp ${event.timestamp} and previous timestamp ${event.previousTimestamp}, but the previous event has ${last.timestamp}`,
      );
    }
    if (!last && event.previousTimestamp !== undefined) {
      throw invalidEvent(
        `the first event of ${this.member} claims a previous timestamp ${event.previousTimestamp}`,
      );
    }
    if (event.synchronizerId !== this.synchronizerId) {
      throw invalidEvent(`event ${event.counter} is for synchronizer ${event.synchronizerId}`);
    }
    this.#lastReceived = { counter: event.counter, timestamp: event.timestamp };
    this.#queue.push({ signed, event });
    this.#wakeProcessor?.();
  }

  async #process(): Promise<void> {
    while (this.#state !== 'closed' && this.#state !== 'failed') {
      const next = this.#queue.shift();
      if (!next) {
        await new Promise<void>((resolve) => {
          this.#wakeProcessor = resolve;
        });
        this.#wakeProcessor = undefined;
        continue;
      }
      if (this.#queue.length < QUEUE_LOW) this.#stream?.resume();
      try {
        await this.#handle(next);
      } catch (e) {
        this.#fail(e);
      }
    }
  }

  async #handle({ signed, event }: Queued): Promise<void> {
    verifyContent(
      signed,
      SignaturePurpose.event,
      await this.#o.sequencerKeys(event.timestamp),
      `sequenced event ${event.counter} of ${this.member}`,
    );
    const body = event.event;
    const deliver = body.oneofKind === 'deliver' ? body.deliver : undefined;
    const error = body.oneofKind === 'deliverError' ? body.deliverError : undefined;
    const messageId = (deliver?.messageId || error?.messageId) ?? '';
    await this.#o.handler({
      counter: event.counter,
      timestamp: event.timestamp,
      previousTimestamp: event.previousTimestamp,
      messageId: messageId || undefined,
      envelopes: deliver?.batch?.envelopes ?? [],
      error: error && { code: error.code, reason: error.reason },
      traceparent: event.traceContext?.traceparent || undefined,
      signed,
    });
    const pending = messageId ? this.#pending.get(messageId) : undefined;
    if (pending) {
      this.#pending.delete(messageId);
      pending.resolve(
        error
          ? { kind: 'error', timestamp: event.timestamp, code: error.code, reason: error.reason }
          : { kind: 'delivered', timestamp: event.timestamp },
      );
    }
  }

  /** Stops for good after an invalid event or a failing handler. */
  #fail(e: unknown): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    const error = isWeftError(e)
      ? e
      : new WeftError(
          SequencerErrors.SEQUENCER_CLIENT_CLOSED,
          `the event handler of ${this.member} failed: ${e instanceof Error ? e.message : String(e)}`,
          {},
          { cause: e },
        );
    this.#fatal = error;
    this.#o.logger?.error({ err: error }, 'sequencer client stopped');
    this.#shutDown('failed', error);
    this.#conn?.close();
    this.#o.onFatal?.(error);
  }

  #shutDown(state: 'closed' | 'failed', error: WeftError): void {
    this.#state = state;
    this.#closing.abort();
    this.#cancelResend?.();
    this.#stream?.cancel();
    this.#stream = undefined;
    this.#connected.reject(error);
    this.#connected.promise.catch(() => {});
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#queue.length = 0;
    this.#wakeProcessor?.();
  }
}

function invalidEvent(message: string): WeftError {
  return new WeftError(SequencerErrors.SEQUENCER_EVENT_INVALID, message);
}

function checkIdentity(
  endpoint: ParsedEndpoint,
  hs: { synchronizerId: string; sequencerId: string },
  synchronizerId: string | undefined,
  sequencerId: string | undefined,
): void {
  if (synchronizerId !== undefined && hs.synchronizerId !== synchronizerId) {
    throw new WeftError(
      SequencerErrors.SEQUENCER_CONNECTION_MISMATCH,
      `${endpoint.url} serves synchronizer ${hs.synchronizerId}, expected ${synchronizerId}`,
      { endpoint: endpoint.url },
    );
  }
  if (sequencerId !== undefined && hs.sequencerId !== sequencerId) {
    throw new WeftError(
      SequencerErrors.SEQUENCER_CONNECTION_MISMATCH,
      `${endpoint.url} is sequencer ${hs.sequencerId}, expected ${sequencerId} (connect_multi needs endpoints of one sequencer)`,
      { endpoint: endpoint.url },
    );
  }
}
