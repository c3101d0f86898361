import type { Logger } from 'pino';
import { type RandomSource, type SigningPrivateKey, systemRandom } from '../crypto/index.js';
import { WeftError } from '../errors/index.js';
import { MediatorId, SynchronizerId } from '../identity/index.js';
import { createLogger, NodeMetrics, Tracer } from '../observability/index.js';
import { type SendBatchSettings, SequencerClient, type TransportOptions } from '../sequencer/index.js';
import type { Storage } from '../storage/index.js';
import { type Clock, systemClock } from '../time/index.js';
import type { TopologyProcessor } from '../topology/index.js';
import type { AggregationFactory } from './aggregation.js';
import { type MediatorSettings, mediatorSettings } from './config.js';
import { MediatorErrors } from './errors.js';
import { Mediator, type MediatorOptions, type MediatorTransport } from './mediator.js';
import { MediatorMetrics } from './metrics.js';
import { MediatorStore, type StoredVerdict } from './store.js';

export interface MediatorSequencerConnection extends TransportOptions {
  /** Endpoints of one sequencer (`connect_multi`): the client fails over between them. */
  readonly endpoints: readonly string[];
  /** Instead: distinct sequencers (`connect_bft`), each with its endpoints, and how many must agree on an event. */
  readonly sequencers?: readonly (readonly string[])[];
  readonly trustThreshold?: number;
  /** Longest wait between reconnection attempts; default 5 s. */
  readonly maxBackoffMs?: number;
  /** How sends that queue while one is in flight are batched; default the `send-batch` defaults. */
  readonly sendBatch?: SendBatchSettings;
}

export interface MediatorNodeOptions {
  readonly mediatorId: MediatorId | string;
  readonly synchronizerId: SynchronizerId | string;
  /** The signing key the mediator's OwnerToKeyMapping registers: it authenticates and signs verdicts. */
  readonly signingKey: SigningPrivateKey;
  /** The node's own database (tables `mediator_*`); the caller closes it after {@link MediatorNode.stop}. */
  readonly storage: Storage;
  /**
   * The node's topology state on its storage, initialised with the synchronizer's genesis or an onboarding
   * snapshot; the mediator keeps it up to date from its event stream.
   */
  readonly topology: TopologyProcessor;
  readonly sequencer: MediatorSequencerConnection;
  /** The `mediator` config section; defaults for everything absent. */
  readonly settings?: MediatorSettings;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
  /** See {@link MediatorOptions.aggregation}: the simulation's planted bug. */
  readonly aggregation?: AggregationFactory;
  /**
   * Told once when the mediator stops processing for good (an error that is not transient: corruption, a schema
   * from the future, an invalid event), so that the process can exit and a supervisor restart it.
   */
  readonly onFatal?: (error: WeftError) => void;
}

/**
 * A mediator node: its store, the protocol logic ({@link Mediator}) and its subscription to the sequencer. It
 * resumes after a restart from the cursor it persisted, replaying the events of requests it had not decided.
 */
export class MediatorNode {
  #failure: WeftError | undefined;

  private constructor(
    readonly mediatorId: MediatorId,
    readonly store: MediatorStore,
    readonly mediator: Mediator,
    readonly client: SequencerClient,
    private readonly logger: Logger,
    private readonly onFatal: ((error: WeftError) => void) | undefined,
  ) {}

  static async start(options: MediatorNodeOptions): Promise<MediatorNode> {
    const mediatorId =
      typeof options.mediatorId === 'string' ? MediatorId.parse(options.mediatorId) : options.mediatorId;
    const synchronizerId =
      typeof options.synchronizerId === 'string'
        ? SynchronizerId.parse(options.synchronizerId)
        : options.synchronizerId;
    const topology = options.topology;
    if (topology.lastSequenced === undefined) {
      throw new WeftError(
        MediatorErrors.MEDIATOR_TOPOLOGY_UNINITIALIZED,
        `the topology store of mediator ${mediatorId} is empty; initialise it with the genesis of synchronizer ${synchronizerId} or an onboarding snapshot`,
      );
    }
    const clock = options.clock ?? systemClock;
    const random = options.random ?? systemRandom;
    const logger = (options.logger ?? createLogger({ node: String(mediatorId) })).child({
      component: 'mediator',
    });
    const store = await MediatorStore.open(options.storage);
    const loaded = await store.load();
    let connected: (c: SequencerClient) => void = () => {};
    const ready = new Promise<SequencerClient>((resolve) => {
      connected = resolve;
    });
    // Events may arrive before `connect` returns; sends wait for the client.
    const transport: MediatorTransport = {
      send: async (request) => (await ready).send(request),
      acknowledge: async (ts) => (await ready).acknowledge(ts),
    };
    let node: MediatorNode | undefined;
    let early: WeftError | undefined;
    const fatal = (e: WeftError) => {
      if (node) node.#fatal(e);
      else early ??= e;
    };
    const mediator = new Mediator({
      mediatorId,
      synchronizerId,
      signingKey: options.signingKey,
      topology,
      store,
      loaded,
      transport,
      settings: options.settings ?? mediatorSettings(),
      clock,
      random,
      tracer: new Tracer(random, clock),
      logger,
      metrics: new MediatorMetrics(options.metrics ?? new NodeMetrics({ defaultMetrics: false })),
      onFatal: fatal,
      ...(options.aggregation ? { aggregation: options.aggregation } : {}),
    });
    const { endpoints, sequencers, trustThreshold, maxBackoffMs, ...transportOptions } = options.sequencer;
    let client: SequencerClient;
    try {
      client = await SequencerClient.connect({
        ...transportOptions,
        member: String(mediatorId),
        signingKey: options.signingKey,
        ...(sequencers?.length
          ? {
              connections: sequencers.map((e) => ({ endpoints: [...e] })),
              trustThreshold: trustThreshold ?? 1,
            }
          : { endpoints }),
        expectedSynchronizerId: String(synchronizerId),
        sequencerKeys: (ts, sequencerId) => {
          const snapshot = topology.snapshot(ts);
          return (snapshot.sequencerGroup()?.active ?? [])
            .filter((s) => String(s) === sequencerId)
            .flatMap((s) => snapshot.memberKeys(s)?.signing ?? []);
        },
        handler: (event) => mediator.handle(event),
        ...(loaded.cursor?.clean ? { resumeAfter: loaded.cursor.clean } : {}),
        onFatal: fatal,
        ...(maxBackoffMs === undefined ? {} : { maxBackoffMs }),
        clock,
        random,
        logger,
      });
    } catch (e) {
      mediator.kill();
      throw e;
    }
    connected(client);
    node = new MediatorNode(mediatorId, store, mediator, client, logger, options.onFatal);
    if (early) node.#fatal(early);
    else mediator.start();
    logger.info(
      {
        mediator: String(mediatorId),
        synchronizer: String(synchronizerId),
        resumeAfter: loaded.cursor?.clean,
        undelivered: loaded.undelivered.length,
      },
      'mediator node started',
    );
    return node;
  }

  /** Undecided requests. */
  get outstandingRequests(): number {
    return this.mediator.outstanding;
  }

  /** The audit stream of finalized verdicts, in decision order (see {@link MediatorStore.verdicts}). */
  verdicts(options?: Parameters<MediatorStore['verdicts']>[0]): Promise<StoredVerdict[]> {
    return this.store.verdicts(options);
  }

  verdict(requestId: bigint): Promise<StoredVerdict | undefined> {
    return this.store.verdict(requestId);
  }

  /** For the node's `/ready`: undefined when the mediator processes events, else why not. */
  async readiness(): Promise<string | undefined> {
    if (this.#failure) return this.#failure.message;
    const stalled = this.mediator.storageStalled;
    if (stalled !== undefined) {
      return `waiting for the storage: ${stalled instanceof Error ? stalled.message : String(stalled)}`;
    }
    const state = this.client.state;
    return state === 'connected' ? undefined : `the sequencer connection is ${state}`;
  }

  /** Writes what is decided, then closes the sequencer connection. */
  async stop(): Promise<void> {
    await this.mediator.stop();
    await this.client.close();
    this.logger.info('mediator node stopped');
  }

  /** Stops as if the process died: nothing queued is written (tests of crash recovery). */
  async kill(): Promise<void> {
    this.mediator.kill();
    await this.client.close();
  }

  #fatal(e: WeftError): void {
    if (this.#failure) return;
    this.#failure = e;
    this.logger.error({ err: e }, 'mediator node stopped processing');
    this.mediator.kill();
    void this.client.close();
    this.onFatal?.(e);
  }
}
