import type { RandomSource } from '../crypto/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import { type ParticipantId, SynchronizerId } from '../identity/index.js';
import type { NodeIdentity } from '../node/index.js';
import { type Logger, Tracer } from '../observability/index.js';
import { SequencerClient, type TransportOptions } from '../sequencer/index.js';
import type { Storage } from '../storage/index.js';
import { type Clock, deferred } from '../time/index.js';
import { TopologyProcessor } from '../topology/index.js';
import type { ParticipantSettings } from './config.js';
import { ParticipantErrors } from './errors.js';
import type { InFlightSubmissions } from './in-flight.js';
import { type ProtocolContext, ProtocolProcessor } from './protocol.js';
import type { Cursor, ParticipantStore } from './store.js';
import { onboard } from './topology-requests.js';

export interface ConnectOptions {
  readonly synchronizerId: string;
  /** Endpoints of one sequencer (`connect_multi`): the client fails over between them. */
  readonly endpoints: readonly string[];
  /**
   * Instead of `endpoints`: distinct sequencers of the synchronizer (`connect_bft`), each with its endpoints; an
   * event is processed once `trustThreshold` (default 1) of them delivered it identically.
   */
  readonly sequencers?: readonly (readonly string[])[];
  readonly trustThreshold?: number;
  readonly transport?: TransportOptions;
  /** Longest wait between reconnection attempts; default the node's `maxBackoffMs` setting. */
  readonly maxBackoffMs?: number;
}

/** A connected synchronizer: its topology state, its transaction protocol and its sequencer client. */
export interface SynchronizerConnection {
  readonly synchronizerId: SynchronizerId;
  readonly topology: TopologyProcessor;
  readonly processor: ProtocolProcessor;
  readonly client: SequencerClient;
}

/** What the connections need of the participant. */
export interface ConnectionsContext {
  readonly identity: NodeIdentity;
  /** The node's database: one topology store per synchronizer lives there. */
  readonly storage: Storage;
  /** Where each connection resumes: its cursor, the commands sent there and not completed, the requests decided. */
  readonly store: Pick<ParticipantStore, 'cursor' | 'commandsInFlight' | 'decidedAfter'>;
  readonly inFlight: Pick<InFlightSubmissions, 'restore' | 'on' | 'abandonOn'>;
  /** What every connection's protocol processor shares (its journal is flushed on disconnect). */
  readonly protocol: ProtocolContext;
  readonly settings: Pick<ParticipantSettings, 'activationTimeoutMs' | 'maxBackoffMs' | 'sendBatch'>;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /**
   * Told once when the participant stops processing for good (an error that is not transient: corruption, a schema
   * from the future, an invalid event), so that the process can exit and a supervisor restart it.
   */
  readonly onFatal?: (error: WeftError) => void;
}

/**
 * The participant's synchronizer connections, by synchronizer id (a participant may be connected to several at
 * once): connecting (onboarding on the first connection, the sequencer subscription, the transaction protocol),
 * disconnecting, and the failure that stops them all.
 */
export class SynchronizerConnections {
  readonly #connections = new Map<string, SynchronizerConnection>();
  readonly #id: ParticipantId;
  readonly #tracer: Tracer;
  #failure: WeftError | undefined;

  constructor(private readonly o: ConnectionsContext) {
    this.#id = o.identity.member as ParticipantId;
    this.#tracer = new Tracer(o.random, o.clock);
  }

  /** Why the participant stopped processing events, once it did. */
  get failure(): WeftError | undefined {
    return this.#failure;
  }

  /** Whether events are processed: connected to a synchronizer, and not failed. */
  get live(): boolean {
    return this.#failure === undefined && this.#connections.size > 0;
  }

  /** The synchronizers connected to, by id. */
  get ids(): string[] {
    return [...this.#connections.keys()].sort();
  }

  get(synchronizerId: string): SynchronizerConnection | undefined {
    return this.#connections.get(synchronizerId);
  }

  /** Every connection, by synchronizer id (none when not connected). */
  values(): SynchronizerConnection[] {
    return this.ids.map((id) => this.#connections.get(id)!);
  }

  /** Every connection, by synchronizer id; the failure, or NOT_CONNECTED_TO_SYNCHRONIZER when there is none. */
  connections(): SynchronizerConnection[] {
    if (this.#failure) throw this.#failure;
    if (this.#connections.size === 0) {
      throw new WeftError(
        ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER,
        `participant ${this.#id} is not connected to a synchronizer; connect it first`,
      );
    }
    return this.values();
  }

  /** The connection to `synchronizerId`, or the only one when none is named. */
  connection(synchronizerId?: string): SynchronizerConnection {
    const all = this.connections();
    if (synchronizerId === undefined) {
      if (all.length === 1) return all[0]!;
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `participant ${this.#id} is connected to several synchronizers (${this.ids.join(', ')}); name one`,
      );
    }
    const c = this.#connections.get(synchronizerId);
    if (!c) {
      throw new WeftError(
        ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER,
        `participant ${this.#id} is not connected to synchronizer ${synchronizerId}`,
        { synchronizerId },
      );
    }
    return c;
  }

  /**
   * Connects to a synchronizer: on the first connection, onboards the participant (see `onboard`) into the
   * synchronizer's own topology store; subscribes from where it left off, taking up the commands sent there and
   * not completed.
   */
  async connect(o: ConnectOptions): Promise<SynchronizerConnection> {
    if (this.#failure) throw this.#failure;
    const synchronizerId = SynchronizerId.parse(o.synchronizerId);
    const key = String(synchronizerId);
    if (this.#connections.has(key)) {
      throw new WeftError(
        CommonErrors.FAILED_PRECONDITION,
        `participant ${this.#id} is connected to ${key} already`,
      );
    }
    const { identity, clock, logger } = this.o;
    const transport = o.transport ?? {};
    const bft = o.sequencers !== undefined && o.sequencers.length > 0;
    const topology = await TopologyProcessor.create({
      storage: this.o.storage,
      synchronizerId,
      // One topology store per synchronizer, as Canton's participant keeps.
      storeId: `participant:${key}`,
      logger,
      clock,
    });
    if (topology.lastSequenced === undefined) {
      await onboard(topology, {
        identity,
        endpoints: bft ? o.sequencers!.flat() : o.endpoints,
        transport,
        clock,
        timeoutMs: this.o.settings.activationTimeoutMs,
      });
    }
    const cursor = await this.o.store.cursor(key);
    // Events replayed during the subscription may need to send (responses) before `connect` returns the client.
    const connected = deferred<SequencerClient>();
    const processor = await this.#processor(key, topology, connected.promise, cursor);
    const client = await SequencerClient.connect({
      ...transport,
      member: String(this.#id),
      signingKey: identity.signingKey.privateKey,
      ...(bft
        ? {
            connections: o.sequencers!.map((e) => ({ endpoints: [...e] })),
            trustThreshold: o.trustThreshold ?? 1,
          }
        : { endpoints: o.endpoints }),
      expectedSynchronizerId: key,
      sequencerKeys: (ts, sequencerId) => {
        const snapshot = topology.snapshot(ts);
        return (snapshot.sequencerGroup()?.active ?? [])
          .filter((s) => String(s) === sequencerId)
          .flatMap((s) => snapshot.memberKeys(s)?.signing ?? []);
      },
      // A span per event, as the mediator opens, continues the submitter's trace in this participant's log lines.
      handler: (event) =>
        this.#tracer.withSpan(
          'participant.event',
          () => {
            this.o.protocol.metrics.handlerDelay.set(Number(clock.now() - event.timestamp) / 1e6);
            return processor.handle(event);
          },
          event.traceparent ? { parent: event.traceparent } : {},
        ),
      ...(cursor ? { resumeAfter: cursor } : {}),
      onFatal: (e) => this.fail(e),
      maxBackoffMs: o.maxBackoffMs ?? this.o.settings.maxBackoffMs,
      sendBatch: this.o.settings.sendBatch,
      clock,
      random: this.o.random,
      logger,
    });
    connected.resolve(client);
    const connection: SynchronizerConnection = { synchronizerId, topology, processor, client };
    this.#connections.set(key, connection);
    logger.info({ synchronizer: key, resumeAfter: cursor }, 'connected to the synchronizer');
    return connection;
  }

  /**
   * Closes the connection to `synchronizerId` (by default, every connection) after the validations in flight and
   * what they wrote; the submitters still waiting on commands sent there get SYNCHRONIZER_DISCONNECTED (and their
   * admission slots back). A reconnection takes those commands up again and publishes their completions.
   */
  async disconnect(synchronizerId?: string): Promise<void> {
    const keys = synchronizerId === undefined ? this.ids : [synchronizerId];
    const closed: string[] = [];
    for (const key of keys) {
      const c = this.#connections.get(key);
      if (!c) continue;
      this.#connections.delete(key);
      await c.client.close();
      await c.processor.settle();
      closed.push(key);
    }
    try {
      await this.o.protocol.journal.flush();
    } finally {
      // After the flush: a command whose completion was written completes rather than being abandoned.
      for (const key of closed) {
        this.o.inFlight.abandonOn(
          key,
          (cmd) =>
            new WeftError(
              ParticipantErrors.SYNCHRONIZER_DISCONNECTED,
              `participant ${this.#id} disconnected from synchronizer ${key} before command ${cmd.commandId} completed`,
              { synchronizerId: key, commandId: cmd.commandId },
            ),
        );
      }
    }
  }

  /** Cuts every connection as if the process died; returns why the participant stopped. */
  async kill(): Promise<WeftError> {
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    this.#failure ??= new WeftError(
      ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER,
      `participant ${this.#id} was killed`,
    );
    await Promise.all(connections.map((c) => c.client.close()));
    return this.#failure;
  }

  /**
   * Stops processing events on every connection (a fatal subscription error, a write that failed with an error
   * that is not transient) and reports it to `onFatal`.
   */
  fail(e: unknown): void {
    if (this.#failure) return;
    this.#failure =
      e instanceof WeftError
        ? e
        : new WeftError(
            CommonErrors.INTERNAL,
            `participant ${this.#id} failed: ${String(e)}`,
            {},
            { cause: e },
          );
    this.o.logger.error({ err: this.#failure }, 'the participant stopped processing events');
    for (const c of this.#connections.values()) void c.client.close();
    this.o.onFatal?.(this.#failure);
  }

  /** Requests validated and awaiting their verdict, on all synchronizers. */
  get pendingRequests(): number {
    let n = 0;
    for (const c of this.#connections.values()) n += c.processor.pendingRequests;
    return n;
  }

  /** Resolves once the requests received so far are validated and answered (their responses sequenced). */
  async validationsSettled(): Promise<void> {
    await Promise.all([...this.#connections.values()].map((c) => c.processor.settle()));
  }

  /** Undefined when connected and processing, else why not. */
  readiness(): string | undefined {
    if (this.#failure) return this.#failure.message;
    const stalled = this.o.protocol.journal.stalled;
    if (stalled !== undefined) {
      return `waiting for the storage: ${stalled instanceof Error ? stalled.message : String(stalled)}`;
    }
    if (this.#connections.size === 0) return 'not connected to a synchronizer';
    const down = [...this.#connections.entries()].filter(([, c]) => c.client.state !== 'connected');
    return down.length === 0
      ? undefined
      : down.map(([id, c]) => `the sequencer connection to ${id} is ${c.client.state}`).join('; ');
  }

  /**
   * The transaction protocol of a synchronizer connection: resumes after `cursor`, skipping the requests decided
   * already, and takes up the commands sent there and not completed.
   */
  async #processor(
    synchronizerId: string,
    topology: TopologyProcessor,
    client: Promise<SequencerClient>,
    cursor: Cursor | undefined,
  ): Promise<ProtocolProcessor> {
    const { store, inFlight } = this.o;
    inFlight.restore(synchronizerId, await store.commandsInFlight(synchronizerId));
    return new ProtocolProcessor(this.o.protocol, {
      synchronizerId,
      topology,
      sequencer: { send: async (request) => (await client).send(request) },
      submissions: inFlight.on(synchronizerId),
      decided: new Set(await store.decidedAfter(synchronizerId, cursor?.timestamp ?? -1n)),
      resumeAfter: cursor,
    });
  }
}
