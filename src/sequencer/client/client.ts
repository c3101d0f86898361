import type { Logger } from 'pino';
import {
  type RandomSource,
  type SigningPrivateKey,
  type SigningPublicKey,
  systemRandom,
} from '../../crypto/index.js';
import { isWeftError, WeftError } from '../../errors/index.js';
import type { HandshakeResponse } from '../../generated/weft/sequencer/v1/sequencer_connect_service.js';
import {
  Acknowledgement,
  type Envelope,
  type SequencedEvent,
  SubmissionRequest,
} from '../../generated/weft/sequencer/v1/sequencing.js';
import type { DynamicSynchronizerParameters } from '../../generated/weft/topology/v1/topology.js';
import type { ParsedEndpoint } from '../../grpc/index.js';
import { currentTraceparent } from '../../observability/index.js';
import { type Clock, deferred, systemClock } from '../../time/index.js';
import { FAST_WRITE_OPTIONS } from '../../wire/index.js';
import { type EventProof, VerifiedRoots, verifyEventProof } from '../blocks.js';
import { SequencerErrors } from '../errors.js';
import { SignaturePurpose, signContent } from '../signing.js';
import { PROTOCOL_VERSION } from '../topology.js';
import { SequencerAggregator, type Vote } from './aggregator.js';
import {
  type ConnectionHost,
  checkIdentity,
  RETRY_SEND,
  SequencerConnection,
  type SequencerConnectionState,
  type StreamPosition,
} from './connection.js';
import { type EndpointConnection, parseSequencerEndpoint, type TransportOptions } from './endpoint.js';
import { type SendBatchSettings, sendBatchSettings } from './send-queue.js';

/** An event of the member's stream, verified (sequencer signature of its block, inclusion, no gap) and decoded. */
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
  /**
   * The event bytes, exactly as received, with the inclusion proof and signed block root of a sequencer that
   * delivered it (the first to): with that sequencer's key, proof to anyone of what it delivered
   * ({@link verifyEventProof}).
   */
  readonly proof: EventProof;
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

/** The endpoints of one sequencer (`connect_multi`), for a client connected to several sequencers. */
export interface SequencerConnectionConfig {
  readonly endpoints: readonly string[];
  /** The sequencer's id (`SEQ::…`); the handshake must match it. */
  readonly sequencerId?: string;
}

/** One of the client's sequencer connections, for status reporting. */
export interface SequencerConnectionStatus {
  readonly sequencerId: string | undefined;
  readonly state: SequencerConnectionState;
  /** The endpoint in use, while authenticated. */
  readonly endpoint: string | undefined;
}

export interface SequencerClientOptions extends TransportOptions {
  readonly member: string;
  readonly signingKey: SigningPrivateKey;
  /** Endpoints of one sequencer (`connect_multi`): the client fails over between them. */
  readonly endpoints?: readonly string[];
  /** With `endpoints`: the sequencer they must serve. */
  readonly expectedSequencerId?: string;
  /**
   * Instead of `endpoints`: several distinct sequencers of the synchronizer, each over its own endpoints. An event
   * is delivered once `trustThreshold` of them delivered it identically.
   */
  readonly connections?: readonly SequencerConnectionConfig[];
  /** Sequencers that must deliver an event identically (Canton's sequencer trust threshold); default 1. */
  readonly trustThreshold?: number;
  /** Subscriptions kept beyond the trust threshold, so one sequencer failing does not stall delivery; default 0. */
  readonly livenessMargin?: number;
  readonly expectedSynchronizerId?: string;
  /** Protocol versions this client speaks; default the one this code implements. */
  readonly protocolVersions?: readonly number[];
  /** The signing keys of `sequencerId` valid at a timestamp (from the member's topology state). */
  readonly sequencerKeys: (
    ts: bigint,
    sequencerId: string,
  ) => readonly SigningPublicKey[] | Promise<readonly SigningPublicKey[]>;
  /** Called for every event, in order, one at a time; a failure stops the client. */
  readonly handler: (event: ReceivedEvent) => Promise<void> | void;
  /** The last event the application processed durably; the stream resumes after it. */
  readonly resumeAfter?: StreamPosition;
  /** Called once when the client stops for good (an invalid event or a failing handler). */
  readonly onFatal?: (error: WeftError) => void;
  /**
   * How often sends without an outcome are sent again; default 5 s. With several sequencers this is the patience
   * after which a send goes to the next sequencer.
   */
  readonly resendIntervalMs?: number;
  /** Longest wait between reconnection attempts; default 5 s. */
  readonly maxBackoffMs?: number;
  /** How sends made while a call is in flight are batched, per sequencer connection; defaults as configured. */
  readonly sendBatch?: SendBatchSettings;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
}

interface PendingSend {
  /** The encoded SubmissionRequest, sent as is each time (signed with the batch it goes in). */
  readonly request: Uint8Array;
  readonly outcome: Promise<SendOutcome>;
  readonly resolve: (o: SendOutcome) => void;
  readonly reject: (e: unknown) => void;
  lastSent: bigint;
  /** The connection it was last sent through; undefined once that one went down. */
  target: SequencerConnection | undefined;
}

/** One sequencer's copy of an event; its proof is checked when the event is next to be handled. */
interface Received {
  readonly proof: EventProof;
  readonly event: SequencedEvent;
  verified: boolean;
}

/**
 * A member's connection to a synchronizer's sequencers. With `endpoints`, one sequencer over several endpoints;
 * with `connections`, several distinct sequencers, of which `trustThreshold + livenessMargin` are subscribed at a
 * time (the others stand by) and an event is delivered once `trustThreshold` of them delivered it identically
 * (Canton's SequencerAggregator). The client authenticates with the member's signing key, subscribes from the last
 * event it received, verifies every event (the delivering sequencer's signature, gapless counters, previous
 * timestamps), hands events in order to the handler, and reconnects by itself with backoff, failing over between
 * endpoints; sends without an outcome are resent after a failover, and after `resendIntervalMs` to the next
 * sequencer.
 */
export class SequencerClient {
  readonly member: string;

  readonly #o: SequencerClientOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #versions: readonly number[];
  readonly #connections: readonly SequencerConnection[];
  readonly #aggregator: SequencerAggregator<Received>;
  /** How many connections are subscribed at a time. */
  readonly #subscriptions: number;
  /** Set by the first handshake. */
  #identity:
    | {
        synchronizerId: string;
        sequencerId: string;
        protocolVersion: number;
        parameters: DynamicSynchronizerParameters | undefined;
      }
    | undefined;
  /** The connection sends go to while it is up. */
  #primary: SequencerConnection | undefined;
  /** Resolved (and replaced) whenever a connection changes state; rejected when the client stops. */
  #changed = deferred<void>();
  #stopped: 'closed' | 'failed' | undefined;
  #fatal: WeftError | undefined;
  /** The last event handed to the handler; subscriptions never start before it. */
  #delivered: StreamPosition | undefined;
  #wakeProcessor: (() => void) | undefined;
  readonly #pending = new Map<string, PendingSend>();
  #cancelResend: (() => void) | undefined;
  readonly #closing = new AbortController();
  /** Each block's signature is verified once for all its events. */
  readonly #roots = new VerifiedRoots();

  private constructor(o: SequencerClientOptions, configs: readonly SequencerConnectionConfig[]) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? systemRandom;
    this.#versions = o.protocolVersions ?? [PROTOCOL_VERSION];
    this.member = o.member;
    this.#delivered = o.resumeAfter && { ...o.resumeAfter };
    this.#changed.promise.catch(() => {});
    const threshold = o.trustThreshold ?? 1;
    const margin = o.livenessMargin ?? 0;
    if (!Number.isInteger(margin) || margin < 0) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_CONNECTIONS_INVALID,
        `the liveness margin must be a non-negative integer, not ${margin}`,
      );
    }
    this.#aggregator = new SequencerAggregator({
      threshold,
      sequencers: configs.length,
      next: this.#delivered ? this.#delivered.counter + 1n : 0n,
      onDisagreement: (d) => o.logger?.warn({ ...d, member: o.member }, 'sequencers disagree on an event'),
    });
    this.#subscriptions = Math.min(configs.length, threshold + margin);
    const host = this.#host();
    this.#connections = configs.map(
      (c, i) =>
        new SequencerConnection(
          i,
          c.endpoints.map((url) => parseSequencerEndpoint(url, o.insecure)),
          c.sequencerId,
          i < this.#subscriptions,
          host,
        ),
    );
  }

  /**
   * Connects to each sequencer (the first of its endpoints that answers), authenticates and subscribes. Rejects with
   * a clear error when a handshake fails (wrong synchronizer or sequencer, two connections reaching one sequencer,
   * no common protocol version, member not active or key not registered), or when fewer sequencers than the trust
   * threshold can be reached.
   */
  static async connect(options: SequencerClientOptions): Promise<SequencerClient> {
    const client = new SequencerClient(options, connectionConfigs(options));
    const opened = await Promise.allSettled(client.#connections.map((c) => c.open()));
    const failures = opened.flatMap((r) => (r.status === 'rejected' ? [r.reason as WeftError] : []));
    const refused = failures.find((e) => e.category !== 'TransientServerFailure');
    // Spares may be taking over the subscriptions of sequencers that could not be reached.
    while (!refused && client.#connections.some((c) => c.wantsSubscription && c.state === 'ready')) {
      await client.#changed.promise.catch(() => {});
    }
    if (refused || client.state !== 'connected') {
      const subscribed = client.#connections.filter((c) => c.state === 'subscribed').length;
      await client.close();
      if (refused) throw refused;
      if (client.#connections.length === 1 && failures[0]) throw failures[0];
      throw new WeftError(
        SequencerErrors.SEQUENCER_CONNECTION_FAILED,
        `${subscribed} sequencer(s) could be subscribed to, the trust threshold is ${client.#aggregator.threshold}: ${failures.map((e) => e.message).join('; ')}`,
      );
    }
    void client.#process();
    client.#scheduleResend();
    return client;
  }

  get synchronizerId(): string {
    return this.#identity!.synchronizerId;
  }

  /** The sequencer that answered the first handshake (the only one, with `endpoints`). */
  get sequencerId(): string {
    return this.#identity!.sequencerId;
  }

  get protocolVersion(): number {
    return this.#identity!.protocolVersion;
  }

  /** As of the first handshake. */
  get parameters(): DynamicSynchronizerParameters | undefined {
    return this.#identity!.parameters;
  }

  /** 'connected' while at least `trustThreshold` sequencers are subscribed. */
  get state(): ClientState {
    if (this.#stopped) return this.#stopped;
    const subscribed = this.#connections.filter((c) => c.state === 'subscribed').length;
    return subscribed >= this.#aggregator.threshold ? 'connected' : 'reconnecting';
  }

  /** The endpoint sends go to, when connected. */
  get endpoint(): string | undefined {
    return this.state === 'connected' ? this.#available()?.current?.endpoint.url : undefined;
  }

  get sequencerConnections(): readonly SequencerConnectionStatus[] {
    return this.#connections.map((c) => ({
      sequencerId: c.sequencerId,
      state: c.state,
      endpoint: c.current?.endpoint.url,
    }));
  }

  /** The last event that reached the trust threshold (handed to the handler, or waiting while it is busy). */
  get lastReceived(): StreamPosition | undefined {
    const latest = this.#aggregator.latest()?.votes[0]?.value.event;
    return latest ? { counter: latest.counter, timestamp: latest.timestamp } : this.#delivered;
  }

  /**
   * Submits a request; resolves once a sequencer node has stored it (waiting through a failover), rejects when the
   * sequencer refuses it (invalid, too large, recipients unknown, overloaded) or the connection's send queue is
   * full. It goes out at once when no call to the sequencer is in flight, else with the other requests of this turn
   * of the event loop (or, at the limit of calls in flight, those that queue meanwhile), in one call signed once.
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
    const encoded = SubmissionRequest.toBinary(submission, FAST_WRITE_OPTIONS);
    // A resend of a pending message id shares its outcome: the sequencer keeps the first request.
    const existing = this.#pending.get(messageId);
    if (existing) {
      await this.#submit({ ...existing, request: encoded });
      return { messageId, outcome: existing.outcome };
    }
    const outcome = deferred<SendOutcome>();
    // A caller may never look at the outcome; its rejection on close must not count as unhandled.
    outcome.promise.catch(() => {});
    const pending: PendingSend = {
      request: encoded,
      outcome: outcome.promise,
      resolve: outcome.resolve,
      reject: outcome.reject,
      lastSent: this.#clock.now(),
      target: undefined,
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

  /**
   * Tells the sequencers that all events up to `timestamp` are processed and may be pruned: awaited on one, sent
   * to the other connected ones as well (acknowledgements are cumulative, so one missed is made up by the next).
   */
  async acknowledge(timestamp: bigint): Promise<void> {
    const ack = Acknowledgement.toBinary(
      {
        member: this.member,
        timestamp,
        synchronizerId: this.synchronizerId,
      },
      FAST_WRITE_OPTIONS,
    );
    const signed = signContent(this.#o.signingKey, SignaturePurpose.acknowledgement, ack);
    const used = await this.#withConnection(async (conn, connection) => {
      await conn.acknowledge(signed);
      return connection;
    });
    for (const other of this.#connections) {
      if (other === used) continue;
      other.current
        ?.acknowledge(signed)
        .catch((e) =>
          this.#o.logger?.debug({ err: e, sequencer: other.sequencerId }, 'acknowledgement failed'),
        );
    }
  }

  /** A sequencing time earlier than that of any request this client sends afterwards (via the same node). */
  async getTime(): Promise<bigint> {
    return this.#withConnection((conn) => conn.getTime());
  }

  /** Closes the subscriptions and the connections; pending outcomes reject with SEQUENCER_CLIENT_CLOSED. */
  async close(): Promise<void> {
    if (this.#stopped === 'closed') return;
    this.#shutDown(
      'closed',
      new WeftError(SequencerErrors.SEQUENCER_CLIENT_CLOSED, 'the sequencer client was closed'),
    );
    await Promise.all(this.#connections.map((c) => c.close(true)));
  }

  // ---- connections ---------------------------------------------------------------------------------------

  #host(): ConnectionHost {
    const client = this;
    return {
      options: this.#o,
      versions: this.#versions,
      sendBatch: this.#o.sendBatch ?? sendBatchSettings(),
      clock: this.#clock,
      random: this.#random,
      closing: this.#closing.signal,
      get synchronizerId() {
        return client.#o.expectedSynchronizerId ?? client.#identity?.synchronizerId;
      },
      identify: (connection, endpoint, hs) => this.#identify(connection, endpoint, hs),
      delivered: () => this.#delivered,
      next: () => this.#aggregator.next,
      receive: (connection, proof, event) => this.#receive(connection, proof, event),
      changed: (connection, error) => this.#connectionChanged(connection, error),
    };
  }

  #identify(connection: SequencerConnection, endpoint: ParsedEndpoint, hs: HandshakeResponse): void {
    checkIdentity(
      endpoint,
      hs,
      this.#o.expectedSynchronizerId ?? this.#identity?.synchronizerId,
      connection.expectedSequencerId,
    );
    const other = this.#connections.find((c) => c !== connection && c.sequencerId === hs.sequencerId);
    if (other) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_CONNECTION_MISMATCH,
        `${endpoint.url} is sequencer ${hs.sequencerId}, which connection ${other.index} reaches already; give the endpoints of one sequencer as one connection`,
        { endpoint: endpoint.url },
      );
    }
    this.#identity ??= {
      synchronizerId: hs.synchronizerId,
      sequencerId: hs.sequencerId,
      protocolVersion: hs.serverProtocolVersion,
      parameters: hs.dynamicParameters,
    };
  }

  #connectionChanged(connection: SequencerConnection, error: WeftError | undefined): void {
    if (this.#stopped) return;
    if (connection.state === 'failed') {
      try {
        this.#aggregator.exclude(connection.sequencerId);
      } catch (e) {
        // With one sequencer, what made it fail is the reason; with several, that too few remain.
        this.#fail(
          this.#connections.length === 1 || !error
            ? (error ?? e)
            : new WeftError(
                SequencerErrors.SEQUENCER_AGGREGATION_FAILED,
                `${(e as Error).message}; ${connection.sequencerId ?? `connection ${connection.index}`} failed with ${error.message}`,
                {},
                { cause: error },
              ),
        );
        return;
      }
    }
    if (connection.current) {
      this.#resendOrphans();
    } else {
      if (this.#primary === connection) this.#primary = undefined;
      for (const pending of this.#pending.values())
        if (pending.target === connection) pending.target = undefined;
      this.#resendOrphans();
    }
    this.#rebalance();
    const changed = this.#changed;
    this.#changed = deferred();
    this.#changed.promise.catch(() => {});
    changed.resolve();
    this.#wakeProcessor?.();
  }

  /** Keeps `trustThreshold + livenessMargin` connections subscribed, handing lost subscriptions to spares. */
  #rebalance(): void {
    const usable = this.#connections.filter((c) => c.state !== 'failed' && c.state !== 'closed');
    const spares = usable.filter((c) => !c.wantsSubscription && c.state === 'ready');
    for (const c of usable) {
      if (spares.length === 0) break;
      if (!c.wantsSubscription || !c.reconnecting) continue;
      c.release();
      spares.shift()!.subscribe();
    }
    let holding = usable.filter((c) => c.wantsSubscription).length;
    for (const spare of spares) {
      if (holding++ >= this.#subscriptions) break;
      spare.subscribe();
    }
  }

  /** The connection for the next call: the primary while it is up, else any authenticated one. */
  #available(): SequencerConnection | undefined {
    if (!this.#primary?.current) this.#primary = this.#connections.find((c) => c.current);
    return this.#primary;
  }

  /** Runs `call` on a connection, waiting through reconnections when no sequencer is reachable. */
  async #withConnection<T>(
    call: (conn: EndpointConnection, connection: SequencerConnection) => Promise<T>,
  ): Promise<T> {
    for (;;) {
      this.#checkOpen();
      const connection = this.#available();
      const conn = connection?.current;
      if (!connection || !conn) {
        await this.#changed.promise;
        continue;
      }
      try {
        return await call(conn, connection);
      } catch (e) {
        const error = conn.error(e);
        if (!RETRY_SEND.has(error.code)) throw error;
        connection.lost(conn, undefined, error);
      }
    }
  }

  #checkOpen(): void {
    if (this.#stopped) {
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
    await this.#withConnection(async (_conn, connection) => {
      pending.lastSent = this.#clock.now();
      pending.target = connection;
      await connection.send(pending.request);
    });
  }

  /** Sends whose connection went down may never have been sequenced; message ids prevent doubles. */
  #resendOrphans(): void {
    for (const pending of this.#pending.values())
      if (!pending.target) this.#resend(pending, this.#available());
  }

  #resend(pending: PendingSend, connection: SequencerConnection | undefined): void {
    if (!connection?.current) return;
    pending.lastSent = this.#clock.now();
    pending.target = connection;
    // A retryable failure has the connection reconnect, and its sends go out again then.
    connection.send(pending.request).catch((e: WeftError) => {
      if (!RETRY_SEND.has(e.code)) this.#o.logger?.warn({ err: e }, 'resending a submission failed');
    });
  }

  /** The authenticated connection after `connection` in turn (itself if it is the only one). */
  #nextAfter(connection: SequencerConnection | undefined): SequencerConnection | undefined {
    const n = this.#connections.length;
    const from = connection?.index ?? n - 1;
    for (let i = 1; i <= n; i++) {
      const next = this.#connections[(from + i) % n]!;
      if (next.current) return next;
    }
    return undefined;
  }

  #scheduleResend(): void {
    const interval = this.#o.resendIntervalMs ?? 5000;
    this.#cancelResend = this.#clock.schedule(interval, () => {
      const due = this.#clock.now() - BigInt(interval) * 1000n;
      // A sequencer that stayed silent that long may not sequence the request: try the next one.
      for (const pending of this.#pending.values()) {
        if (pending.lastSent <= due) this.#resend(pending, this.#nextAfter(pending.target));
      }
      if (!this.#stopped) this.#scheduleResend();
    });
  }

  // ---- events --------------------------------------------------------------------------------------------

  #receive(connection: SequencerConnection, proof: EventProof, event: SequencedEvent): void {
    try {
      this.#aggregator.offer(connection.sequencerId!, event.counter, proof.event, {
        proof,
        event,
        verified: false,
      });
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.#wakeProcessor?.();
  }

  /**
   * Takes the agreed events in order. Proofs are checked here, right before the handler, so the sequencer
   * keys come from a topology state that includes every earlier event; a copy that does not verify gives its
   * connection up, and the event waits for another sequencer's copy.
   */
  async #process(): Promise<void> {
    while (!this.#stopped) {
      const agreed = this.#aggregator.peek();
      if (!agreed) {
        await new Promise<void>((resolve) => {
          this.#wakeProcessor = resolve;
        });
        this.#wakeProcessor = undefined;
        continue;
      }
      try {
        const unverified = agreed.votes.find((v) => !v.value.verified);
        if (unverified) {
          await this.#verify(unverified);
          continue;
        }
        this.#aggregator.take();
        const received = agreed.votes[0]!.value;
        this.#delivered = { counter: received.event.counter, timestamp: received.event.timestamp };
        for (const c of this.#connections) c.resume();
        await this.#handle(received);
      } catch (e) {
        this.#fail(e);
      }
    }
  }

  async #verify(vote: Vote<Received>): Promise<void> {
    const { proof, event } = vote.value;
    const keys = await this.#o.sequencerKeys(event.timestamp, vote.sequencerId);
    try {
      verifyEventProof(
        proof,
        this.synchronizerId,
        keys,
        `sequenced event ${event.counter} of ${this.member} from ${vote.sequencerId}`,
        this.#roots,
      );
    } catch (e) {
      this.#connections.find((c) => c.sequencerId === vote.sequencerId)?.fail(e as WeftError);
      return;
    }
    vote.value.verified = true;
  }

  async #handle({ proof, event }: Received): Promise<void> {
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
      proof,
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

  /** Stops for good after an invalid event, a failing handler, or sequencers that cannot agree any more. */
  #fail(e: unknown): void {
    if (this.#stopped) return;
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
    for (const c of this.#connections) void c.close(false);
    this.#o.onFatal?.(error);
  }

  #shutDown(state: 'closed' | 'failed', error: WeftError): void {
    this.#stopped = state;
    this.#closing.abort();
    this.#cancelResend?.();
    this.#changed.reject(error);
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#wakeProcessor?.();
  }
}

/** The connections `options` configure: `endpoints` is one sequencer, `connections` several. */
function connectionConfigs(o: SequencerClientOptions): readonly SequencerConnectionConfig[] {
  if (o.connections && (o.endpoints?.length || o.expectedSequencerId !== undefined)) {
    throw new WeftError(
      SequencerErrors.SEQUENCER_CONNECTIONS_INVALID,
      'give either endpoints (and expectedSequencerId) of one sequencer, or connections to several, not both',
    );
  }
  const configs = o.connections ?? [
    {
      endpoints: o.endpoints ?? [],
      ...(o.expectedSequencerId ? { sequencerId: o.expectedSequencerId } : {}),
    },
  ];
  if (configs.length === 0) {
    throw new WeftError(SequencerErrors.SEQUENCER_CONNECTIONS_INVALID, 'no sequencer connection configured');
  }
  if (configs.some((c) => c.endpoints.length === 0)) {
    throw new WeftError(SequencerErrors.SEQUENCER_CONNECTION_FAILED, 'no sequencer endpoint configured');
  }
  return configs;
}
