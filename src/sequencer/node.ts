import type { Logger } from 'pino';
import type { ApiServerConfig } from '../config/index.js';
import { type RandomSource, type SigningPrivateKey, systemRandom } from '../crypto/index.js';
import type { WeftError } from '../errors/index.js';
import { endpointUrl, readServerTls } from '../grpc/index.js';
import { createLogger, type NodeMetrics } from '../observability/index.js';
import type { Storage } from '../storage/index.js';
import { type Clock, systemClock } from '../time/index.js';
import { type SequencerSettings, sequencerSettings } from './config.js';
import { type PublicApiOptions, type PublicApiServer, startPublicApi } from './grpc-server.js';
import { Sequencer } from './sequencer.js';
import type { SequencerTopology } from './topology.js';

/** The public API options of a node's `public-api` config section, reading the TLS files it names. */
export async function publicApiOptions(api: ApiServerConfig): Promise<PublicApiOptions> {
  return {
    address: api.address,
    port: api.port,
    ...(api.tls ? { tls: await readServerTls(api.tls, 'public-api') } : {}),
  };
}

export interface SequencerNodeOptions {
  /** The node's name: unique among the nodes sharing the ordering storage, stable across restarts. */
  readonly name: string;
  readonly synchronizerId: string;
  /** The sequencer's member id (`SEQ::…`), the same on every node of this sequencer. */
  readonly sequencerId: string;
  readonly signingKey: SigningPrivateKey;
  /**
   * The ordering storage: the nodes of one sequencer share one PostgreSQL database (and schema), and so do
   * distinct sequencers that order together (each with its own identity and signing key).
   */
  readonly storage: Storage;
  readonly topology: SequencerTopology;
  readonly publicApi: PublicApiOptions;
  /** The `sequencer` config section; defaults for everything absent. */
  readonly settings?: SequencerSettings;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
  /**
   * Told when the storage fails with an error that is not transient, or the topology store diverged: the process
   * should exit.
   */
  readonly onFatal?: (error: WeftError) => void;
}

/**
 * A sequencer node: the sequencer over its storage plus its public gRPC API. The caller owns the storage and
 * closes it after {@link stop}.
 */
export class SequencerNode {
  private constructor(
    readonly name: string,
    readonly sequencer: Sequencer,
    readonly api: PublicApiServer,
    /** The URL clients connect to. */
    readonly endpoint: string,
  ) {}

  static async start(options: SequencerNodeOptions): Promise<SequencerNode> {
    const settings = options.settings ?? sequencerSettings();
    const clock = options.clock ?? systemClock;
    const logger = (options.logger ?? createLogger({ node: options.name })).child({ component: 'sequencer' });
    const sequencer = await Sequencer.start({
      nodeName: options.name,
      synchronizerId: options.synchronizerId,
      sequencerId: options.sequencerId,
      signingKey: options.signingKey,
      storage: options.storage,
      topology: options.topology,
      settings,
      clock,
      random: options.random ?? systemRandom,
      logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    });
    let api: PublicApiServer;
    try {
      api = await startPublicApi(
        {
          sequencer,
          topology: options.topology,
          synchronizerId: options.synchronizerId,
          sequencerId: options.sequencerId,
          clock,
          logger,
        },
        {
          ...options.publicApi,
          insecure: options.publicApi.insecure ?? settings.insecure,
          ...(options.metrics ? { metrics: options.metrics } : {}),
        },
        settings.maxRequestSize,
      );
    } catch (e) {
      await sequencer.stop(true);
      throw e;
    }
    const endpoint = endpointUrl(options.publicApi.address ?? '127.0.0.1', api.port, !!options.publicApi.tls);
    logger.info({ endpoint, nodeIndex: sequencer.nodeIndex }, 'sequencer node started');
    return new SequencerNode(options.name, sequencer, api, endpoint);
  }

  /** The gRPC port the public API is bound to. */
  get port(): number {
    return this.api.port;
  }

  /** Ends subscriptions, writes what is queued, marks this node's writer slot offline, and closes the API. */
  async stop(): Promise<void> {
    await this.api.close(true);
    await this.sequencer.stop(true);
  }

  /**
   * Stops as if the process had died: connections are cut, queued requests are dropped and the database is left
   * as it is; peers mark the node offline after the offline duration.
   */
  async kill(): Promise<void> {
    await this.api.close(false);
    await this.sequencer.stop(false);
  }
}
