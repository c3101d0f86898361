import type { Logger } from 'pino';
import type { RandomSource, SigningPrivateKey } from '../../crypto/index.js';
import { isWeftError, WeftError } from '../../errors/index.js';
import type { HandshakeResponse } from '../../generated/weft/sequencer/v1/sequencer_connect_service.js';
import type { SendResult, SubscribeResponse } from '../../generated/weft/sequencer/v1/sequencer_service.js';
import {
  SequencedEvent,
  type SequencedEventBlock,
  SubmissionRequestBatch,
} from '../../generated/weft/sequencer/v1/sequencing.js';
import { type ParsedEndpoint, weftErrorNamed } from '../../grpc/index.js';
import { type Clock, type Deferred, sleep } from '../../time/index.js';
import { FAST_WRITE_OPTIONS } from '../../wire/index.js';
import type { EventProof } from '../blocks.js';
import { SequencerErrors } from '../errors.js';
import { SignaturePurpose, signContent } from '../signing.js';
import { EndpointConnection, type EventStream, type TransportOptions } from './endpoint.js';
import { type SendBatchSettings, SendQueue } from './send-queue.js';

/**
 * `connecting`: handshake, authentication (and subscription, if wanted) under way, with backoff between attempts;
 * `ready`: authenticated, usable for sends, not subscribed (a spare); `subscribed`: its event stream is open;
 * `failed`: given up after a problem no retry can fix; `closed`: by the client.
 */
export type SequencerConnectionState = 'connecting' | 'ready' | 'subscribed' | 'failed' | 'closed';

/** An event of a member's stream: its counter and timestamp. */
export interface StreamPosition {
  readonly counter: bigint;
  readonly timestamp: bigint;
}

/** What a connection needs from the client that owns it. */
export interface ConnectionHost {
  readonly options: TransportOptions & {
    readonly member: string;
    readonly signingKey: SigningPrivateKey;
    readonly maxBackoffMs?: number;
    readonly logger?: Logger;
  };
  readonly sendBatch: SendBatchSettings;
  readonly versions: readonly number[];
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly closing: AbortSignal;
  /** The synchronizer all connections serve, once known. */
  readonly synchronizerId: string | undefined;
  /** Checks a handshake's synchronizer and sequencer against the other connections; throws when they clash. */
  identify(connection: SequencerConnection, endpoint: ParsedEndpoint, hs: HandshakeResponse): void;
  /** The last event handed to the handler: a subscription never starts before it. */
  delivered(): StreamPosition | undefined;
  /** The counter the client needs next. */
  next(): bigint;
  /** A checked event of this connection's stream, with its proof (verified later, before the handler). */
  receive(connection: SequencerConnection, proof: EventProof, event: SequencedEvent): void;
  /** The connection's state changed; `error` says why it went down. */
  changed(connection: SequencerConnection, error?: WeftError): void;
}

/** Stream backpressure: pause when this far ahead of the next counter the client needs, resume below the low mark. */
const QUEUE_HIGH = 256n;
const QUEUE_LOW = 64n;

/** Problems no retry on another endpoint of the same sequencer can fix. */
const PERMANENT = new Set<string>([
  SequencerErrors.SEQUENCER_SUBSCRIPTION_PRUNED.code,
  SequencerErrors.SEQUENCER_CONNECTION_MISMATCH.code,
  SequencerErrors.SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED.code,
  SequencerErrors.SEQUENCER_INSECURE_CONNECTION.code,
]);

/**
 * Failures of a send after which the sender reconnects (to another node of the sequencer, if need be) and sends
 * again.
 */
export const RETRY_SEND = new Set<string>([
  SequencerErrors.SEQUENCER_CONNECTION_FAILED.code,
  SequencerErrors.SEQUENCER_UNAVAILABLE.code,
  SequencerErrors.SEQUENCER_TOKEN_INVALID.code,
  // The node lost its writer slot (killed peer, takeover): another node of the sequencer takes the send.
  SequencerErrors.SEQUENCER_NODE_INDEX_LOST.code,
]);

/** How the first connection attempt reports to `open`. */
type Opened = Pick<Deferred<void>, 'resolve' | 'reject'>;

/**
 * A member's connection to one sequencer over one or more of its endpoints (`connect_multi`): it authenticates,
 * subscribes when the client wants it to (from the later of its own last event and the last delivered one), checks
 * that its stream is gapless, and reconnects by itself with backoff, failing over between the endpoints.
 */
export class SequencerConnection {
  /** Position in the client's configuration. */
  readonly index: number;
  readonly #endpoints: readonly ParsedEndpoint[];
  readonly #expectedSequencerId: string | undefined;
  readonly #host: ConnectionHost;
  #sequencerId: string | undefined;
  #endpointIndex: number;
  #conn: EndpointConnection | undefined;
  #stream: EventStream | undefined;
  #state: SequencerConnectionState = 'connecting';
  #reconnecting = false;
  /** Whether the client wants this connection subscribed; otherwise it stays ready as a spare. */
  #subscribe: boolean;
  /** The last event of this connection's stream. */
  #last: StreamPosition | undefined;
  /** Whether the first attempt over all endpoints is over. */
  #tried = false;
  /** Sends to this sequencer, batched while a call is in flight; they follow the connection across endpoints. */
  readonly #sends: SendQueue;

  constructor(
    index: number,
    endpoints: readonly ParsedEndpoint[],
    expectedSequencerId: string | undefined,
    subscribe: boolean,
    host: ConnectionHost,
  ) {
    this.index = index;
    this.#endpoints = endpoints;
    this.#expectedSequencerId = expectedSequencerId;
    this.#subscribe = subscribe;
    this.#host = host;
    // The first attempt starts at the first endpoint.
    this.#endpointIndex = endpoints.length - 1;
    this.#sends = new SendQueue(host.sendBatch, (requests) => this.#sendBatch(requests));
  }

  /** The sequencer's id, once a handshake told it. */
  get sequencerId(): string | undefined {
    return this.#sequencerId;
  }

  get state(): SequencerConnectionState {
    return this.#state;
  }

  /** The sequencer this connection must reach: configured, or learned from its first handshake. */
  get expectedSequencerId(): string | undefined {
    return this.#sequencerId ?? this.#expectedSequencerId;
  }

  /** Down after having been up, or after a first attempt that failed (not while first connecting). */
  get reconnecting(): boolean {
    return this.#state === 'connecting' && this.#tried;
  }

  get wantsSubscription(): boolean {
    return this.#subscribe;
  }

  /** The endpoint connection to call, while authenticated. */
  get current(): EndpointConnection | undefined {
    return this.#state === 'ready' || this.#state === 'subscribed' ? this.#conn : undefined;
  }

  /**
   * Tries each endpoint once, in order; resolves when one answered (and subscribed, if wanted). Otherwise rejects:
   * with the first error that is not transient (and gives up), or with SEQUENCER_CONNECTION_FAILED listing the
   * failures, and keeps trying in the background.
   */
  open(): Promise<void> {
    return new Promise((resolve, reject) => void this.#connect({ resolve, reject }, false));
  }

  /**
   * Sends an encoded SubmissionRequest of the member: at once when no call is in flight, else in one batch with
   * the others that queue meanwhile. Resolves once the sequencer stored it; rejects with its refusal, or with why
   * the call failed (a retryable failure has this connection reconnect).
   */
  send(request: Uint8Array): Promise<void> {
    return this.#sends.submit(request);
  }

  /** One SendAsync on the current endpoint with `requests`, signed once; each request's refusal, in order. */
  async #sendBatch(requests: readonly Uint8Array[]): Promise<(WeftError | undefined)[]> {
    const conn = this.current;
    const synchronizerId = this.#host.synchronizerId;
    if (!conn || synchronizerId === undefined) {
      throw new WeftError(SequencerErrors.SEQUENCER_CONNECTION_FAILED, `${this.#name} is not connected`);
    }
    const { member, signingKey } = this.#host.options;
    const batch = SubmissionRequestBatch.toBinary(
      {
        sender: member,
        synchronizerId,
        requests: [...requests],
      },
      FAST_WRITE_OPTIONS,
    );
    let results: SendResult[];
    try {
      ({ results } = await conn.sendAsync(signContent(signingKey, SignaturePurpose.submissionBatch, batch)));
      if (results.length !== requests.length) {
        throw new WeftError(
          SequencerErrors.SEQUENCER_CONNECTION_FAILED,
          `${conn.endpoint.url} answered a batch of ${requests.length} requests with ${results.length} results`,
          { endpoint: conn.endpoint.url },
        );
      }
    } catch (e) {
      const error = conn.error(e);
      this.#retryOn(conn, error);
      throw error;
    }
    const refusals = results.map(({ refusal: r }) => r && weftErrorNamed(r.code, r.reason, r.context));
    // A request refused for a reason another node may not have (its storage, its writer slot) is sent again there.
    for (const refusal of refusals) if (refusal) this.#retryOn(conn, refusal);
    return refusals;
  }

  #retryOn(conn: EndpointConnection, error: WeftError): void {
    if (RETRY_SEND.has(error.code)) this.lost(conn, undefined, error);
  }

  /** Subscribes this connection, now if it is ready, otherwise once it is connected. */
  subscribe(): void {
    this.#subscribe = true;
    const conn = this.#conn;
    if (this.#state !== 'ready' || !conn) return;
    this.#attach(conn).catch((e) => this.lost(conn, undefined, conn.error(e)));
  }

  /** Hands this connection's subscription to another while it is reconnecting: it comes back as a spare. */
  release(): void {
    if (this.#state === 'connecting') this.#subscribe = false;
  }

  /** Resumes a stream paused for backpressure once the client caught up. */
  resume(): void {
    if (this.#stream && this.#backlog() < QUEUE_LOW) this.#stream.resume();
  }

  /** `conn` or its stream failed: reconnect, unless it is superseded already. */
  lost(conn: EndpointConnection, stream: EventStream | undefined, e: WeftError): void {
    if (this.#conn !== conn || (stream && this.#stream !== stream)) return;
    if (this.#state !== 'ready' && this.#state !== 'subscribed') return;
    this.#host.options.logger?.warn(
      { sequencer: this.#name, endpoint: conn.endpoint.url, err: e },
      'sequencer connection lost; reconnecting',
    );
    this.#state = 'connecting';
    this.#drop();
    this.#host.changed(this, e);
    // A rejected token only needs a new one from the same node; anything else moves on to the next endpoint.
    void this.#connect(undefined, isWeftError(e, SequencerErrors.SEQUENCER_TOKEN_INVALID));
  }

  /** Gives the connection up for good: its sequencer misbehaved or cannot serve this member. */
  fail(error: WeftError): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#host.options.logger?.error({ sequencer: this.#name, err: error }, 'sequencer connection given up');
    this.#state = 'failed';
    this.#drop();
    this.#host.changed(this, error);
  }

  /** Ends the subscription and the channel; with `logout`, revokes the token first. */
  async close(logout: boolean): Promise<void> {
    this.#state = 'closed';
    const conn = this.#conn;
    this.#stream?.cancel();
    this.#stream = undefined;
    if (logout) await conn?.logout().catch(() => {});
    conn?.close();
  }

  #drop(): void {
    this.#stream?.cancel();
    this.#stream = undefined;
    this.#conn?.close();
    this.#conn = undefined;
  }

  async #connect(first: Opened | undefined, retrySame: boolean): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    const failures: string[] = [];
    try {
      for (let attempt = 0; this.#state === 'connecting'; attempt++) {
        if (!(retrySame && attempt === 0))
          this.#endpointIndex = (this.#endpointIndex + 1) % this.#endpoints.length;
        const endpoint = this.#endpoints[this.#endpointIndex]!;
        const conn = new EndpointConnection(endpoint, this.#host.options, this.#host.clock);
        try {
          const hs = await conn.handshake(this.#host.versions);
          this.#host.identify(this, endpoint, hs);
          this.#sequencerId = hs.sequencerId;
          await conn.authenticate(
            this.#host.options.member,
            this.#host.options.signingKey,
            hs.synchronizerId,
            hs.sequencerId,
            this.#host.versions,
          );
          if (this.#state !== 'connecting') {
            conn.close();
            return;
          }
          this.#conn = conn;
          if (this.#subscribe) await this.#attach(conn);
          else this.#become('ready');
          this.#tried = true;
          if (first) first.resolve();
          else
            this.#host.options.logger?.info(
              { sequencer: this.#name, endpoint: endpoint.url },
              'sequencer connection re-established',
            );
          return;
        } catch (e) {
          conn.close();
          if (this.#conn === conn) this.#drop();
          const error = conn.error(e);
          if (first) {
            // Connecting: anything but an unreachable endpoint is the answer.
            if (error.category !== 'TransientServerFailure') {
              this.#tried = true;
              this.#state = 'failed';
              first.reject(error);
              return;
            }
            failures.push(error.message);
            if (attempt < this.#endpoints.length - 1) continue;
            this.#tried = true;
            const unreachable = new WeftError(
              SequencerErrors.SEQUENCER_CONNECTION_FAILED,
              `no endpoint of the sequencer could be reached: ${failures.join('; ')}`,
            );
            first.reject(unreachable);
            first = undefined;
            // A spare may take over its subscription meanwhile.
            this.#host.changed(this, unreachable);
          } else if (PERMANENT.has(error.code)) {
            this.fail(error);
            return;
          }
          const delay = this.#backoff(attempt);
          this.#host.options.logger?.warn(
            { sequencer: this.#name, endpoint: endpoint.url, err: error, retryInMs: delay },
            'sequencer reconnect failed',
          );
          await sleep(this.#host.clock, delay, this.#host.closing);
        }
      }
    } finally {
      this.#reconnecting = false;
    }
  }

  #backoff(attempt: number): number {
    const max = this.#host.options.maxBackoffMs ?? 5000;
    const base = Math.min(max, 100 * 2 ** Math.min(attempt, 16));
    const jitter = (this.#host.random.bytes(1)[0]! / 255) * 0.5 + 0.5;
    return Math.round(base * jitter);
  }

  /** Subscribes on `conn`; resolves once the sequencer accepted the subscription. */
  async #attach(conn: EndpointConnection): Promise<void> {
    const delivered = this.#host.delivered();
    if (!this.#last || (delivered && delivered.counter > this.#last.counter)) this.#last = delivered;
    const stream = conn.subscribe(this.#host.options.member, this.#last ? this.#last.counter + 1n : 0n);
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
          this.#receive(response.block);
        } catch (e) {
          this.fail(e as WeftError);
          return;
        }
        if (this.#backlog() >= QUEUE_HIGH) stream.pause();
      });
      const failed = (error: WeftError) => {
        if (started) this.lost(conn, stream, error);
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
    if (this.#stream === stream) this.#become('subscribed');
  }

  #become(state: 'ready' | 'subscribed'): void {
    if (this.#state !== 'connecting' && this.#state !== 'ready') return;
    this.#state = state;
    this.#host.changed(this);
  }

  #backlog(): bigint {
    return this.#last ? this.#last.counter - this.#host.next() + 1n : 0n;
  }

  /**
   * Checks order and continuity synchronously, so the stream can resume exactly after the last event. A block's
   * events arrive in one message; its root's signature and their inclusion proofs are checked before the handler.
   */
  #receive(block: SequencedEventBlock | undefined): void {
    const root = block?.signedRoot;
    if (!root || block.events.length === 0) {
      throw invalidEvent('the sequencer sent a subscription response without a signed block of events');
    }
    const member = this.#host.options.member;
    for (const e of block.events) {
      let event: SequencedEvent;
      try {
        event = SequencedEvent.fromBinary(e.event);
      } catch (err) {
        throw invalidEvent(
          `the sequencer sent an undecodable event: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const last = this.#last;
      const expected = last ? last.counter + 1n : 0n;
      if (event.counter !== expected) {
        throw invalidEvent(`expected event counter ${expected} of ${member}, received ${event.counter}`);
      }
      if (last && (event.previousTimestamp !== last.timestamp || event.timestamp <= last.timestamp)) {
        throw invalidEvent(
          `event ${event.counter} of ${member} has timestamp ${event.timestamp} and previous timestamp ${event.previousTimestamp}, but the previous event has ${last.timestamp}`,
        );
      }
      if (!last && event.previousTimestamp !== undefined) {
        throw invalidEvent(
          `the first event of ${member} claims a previous timestamp ${event.previousTimestamp}`,
        );
      }
      if (event.synchronizerId !== this.#host.synchronizerId) {
        throw invalidEvent(`event ${event.counter} is for synchronizer ${event.synchronizerId}`);
      }
      this.#last = { counter: event.counter, timestamp: event.timestamp };
      this.#host.receive(
        this,
        { member, event: e.event, leafIndex: e.leafIndex, siblings: e.siblings, root },
        event,
      );
    }
  }

  get #name(): string {
    return this.#sequencerId ?? `connection ${this.index}`;
  }
}

function invalidEvent(message: string): WeftError {
  return new WeftError(SequencerErrors.SEQUENCER_EVENT_INVALID, message);
}

/** Throws SEQUENCER_CONNECTION_MISMATCH when an endpoint serves another synchronizer or sequencer than expected. */
export function checkIdentity(
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
