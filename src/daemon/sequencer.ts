import * as grpc from '@grpc/grpc-js';
import {
  type AdminApiServer,
  type AdminNode,
  type AdminSynchronizer,
  adminApiOptions,
  type BootstrapOutcome,
  type BootstrapRequest,
  type NodeEndpoint,
  type SynchronizerGenesis,
  startAdminApi,
} from '../admin-api/index.js';
import { WeftError } from '../errors/index.js';
import { sequencerAuthenticationServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-server.js';
import { sequencerConnectServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_connect_service.grpc-server.js';
import { sequencerServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_service.grpc-server.js';
import {
  bindServer,
  endpointUrl,
  failingService,
  requireTransportSecurity,
  serverCredentials,
} from '../grpc/index.js';
import type { SequencerId } from '../identity/index.js';
import { type NodeRuntime, storageConfigOf } from '../node/index.js';
import {
  type InProcessSequencers,
  PROTOCOL_VERSION,
  type PublicApiOptions,
  publicApiOptions,
  SequencerErrors,
  SequencerNode,
  sequencerTopologyOf,
} from '../sequencer/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import { sleep, staticTimeOf } from '../time/index.js';
import { TopologyProcessor } from '../topology/index.js';
import type { SequencerDaemonConfig } from './config.js';
import { bootstrapSequencer, GenesisStore } from './genesis.js';

/** How often a sequencer that has no synchronizer looks whether another node of it was bootstrapped. */
const GENESIS_POLL_MS = 500;

interface Serving {
  readonly genesis: SynchronizerGenesis;
  readonly topology: TopologyProcessor;
  readonly node: SequencerNode;
}

/**
 * A sequencer node as a process runs it: the node runtime, the Admin API, and the sequencer once the node has a
 * synchronizer. Until then the public API port is bound and answers every call with SEQUENCER_UNAVAILABLE, and the
 * node waits for a bootstrap through its Admin API or by another node sharing its ordering storage (another node
 * of the same sequencer, or a distinct sequencer ordering together with it); then it processes the genesis and
 * serves the sequencer on the same port, unless the genesis does not have its sequencer among the active ones.
 */
export class SequencerDaemon implements AdminNode {
  readonly startedAt: bigint;
  #admin: AdminApiServer | undefined;
  #placeholder: grpc.Server | undefined;
  #publicPort: number;
  #serving: Serving | undefined;
  /** Why the node refuses to serve the synchronizer found in its ordering storage. */
  #refused: WeftError | undefined;
  /** Activation is serialised: a local bootstrap and a genesis found in the database may race. */
  #activation: Promise<void> = Promise.resolve();
  readonly #stopping = new AbortController();

  private constructor(
    readonly runtime: NodeRuntime,
    readonly config: SequencerDaemonConfig,
    readonly version: string,
    /** Where the sequencer orders: `sequencer.ordering-storage`, or the node's own storage. */
    private readonly ordering: Storage,
    private readonly genesisStore: GenesisStore,
    private readonly publicApi: PublicApiOptions,
  ) {
    this.startedAt = runtime.clock.now();
    this.#publicPort = publicApi.port;
  }

  /** Starts the node on a running runtime; `runtime.stop()` stops everything it started. */
  static async start(
    runtime: NodeRuntime,
    config: SequencerDaemonConfig,
    version: string,
    inProcess?: InProcessSequencers,
  ): Promise<SequencerDaemon> {
    const publicApi = {
      ...(await publicApiOptions(config.publicApi)),
      insecure: config.sequencer.insecure,
      ...(inProcess ? { inProcess } : {}),
    };
    const adminApi = await adminApiOptions(config.adminApi);
    const ordering = await openOrderingStorage(runtime, config);
    const daemon = new SequencerDaemon(
      runtime,
      config,
      version,
      ordering,
      await GenesisStore.open(ordering),
      publicApi,
    );
    runtime.addReadinessCheck('sequencer', async () =>
      daemon.#serving
        ? undefined
        : (daemon.#refused?.toString() ?? 'no synchronizer yet: bootstrap it with weft admin bootstrap'),
    );
    runtime.onStop(() => daemon.#stopSequencer());
    const genesis = await daemon.genesisStore.load();
    if (genesis) await daemon.#activate(genesis).catch((e) => daemon.#unlessRefused(e));
    else {
      await daemon.#servePlaceholder(
        new WeftError(
          SequencerErrors.SEQUENCER_UNAVAILABLE,
          `sequencer node ${config.name} has no synchronizer yet; its operator bootstraps it with weft admin bootstrap`,
        ),
      );
      runtime.logger.info(
        'no synchronizer yet: waiting for a bootstrap (weft admin bootstrap) or for another node sharing the ordering storage',
      );
      daemon.#watchForGenesis();
    }
    daemon.#admin = await startAdminApi(daemon, adminApi, runtime.logger);
    runtime.onStop(() => daemon.#admin!.close());
    return daemon;
  }

  /** The bound ports, for logs and `--port-file`. */
  get ports(): { admin: number; public: number; monitoring: number } {
    return {
      admin: this.#admin?.port ?? 0,
      public: this.#publicPort,
      monitoring: this.runtime.monitoringPort,
    };
  }

  /** The sequencer while the node serves one. */
  get sequencerNode(): SequencerNode | undefined {
    return this.#serving?.node;
  }

  endpoints(): readonly NodeEndpoint[] {
    const monitoring = this.runtime.config.monitoring.httpServer;
    return [
      ...(this.#admin ? [{ api: 'admin-api', url: this.#admin.url, port: this.#admin.port }] : []),
      {
        api: 'public-api',
        url: endpointUrl(
          this.publicApi.address ?? '127.0.0.1',
          this.#publicPort,
          this.publicApi.tls !== undefined,
        ),
        port: this.#publicPort,
      },
      {
        api: 'monitoring',
        url: endpointUrl(monitoring.address, this.runtime.monitoringPort, false),
        port: this.runtime.monitoringPort,
      },
    ];
  }

  synchronizer(): AdminSynchronizer | undefined {
    const serving = this.#serving;
    if (!serving) return undefined;
    return {
      synchronizerId: serving.genesis.synchronizerId,
      protocolVersion: PROTOCOL_VERSION,
      topology: serving.topology,
      submitTopology: (txs) => serving.node.sequencer.submitTopology(txs),
    };
  }

  async bootstrap(request: BootstrapRequest): Promise<BootstrapOutcome> {
    // On static time topology changes take effect at once unless the request says otherwise (Canton's default for
    // a sim clock): a delay would hold each back until someone sets the time past it.
    const onStaticTime =
      staticTimeOf(this.runtime.clock) && request.parameters?.topologyChangeDelay === undefined
        ? { ...request, parameters: { ...request.parameters, topologyChangeDelay: 0n } }
        : request;
    const outcome = await bootstrapSequencer(
      this.genesisStore,
      this.runtime.identity,
      onStaticTime,
      this.runtime.clock.now(),
    );
    await this.#activate(outcome.genesis);
    return outcome;
  }

  /**
   * Serves the synchronizer of `genesis`; fails with SEQUENCER_NOT_IN_SYNCHRONIZER, and keeps answering so on
   * the public API, when its active sequencers do not include this node's.
   */
  #activate(genesis: SynchronizerGenesis): Promise<void> {
    const run = this.#activation.then(async () => {
      if (this.#serving || this.#stopping.signal.aborted) return;
      if (this.#refused) throw this.#refused;
      const { runtime, config } = this;
      const topology = await TopologyProcessor.create({
        storage: this.ordering,
        synchronizerId: genesis.synchronizerId,
        logger: runtime.logger.child({ component: 'topology' }),
        clock: runtime.clock,
      });
      // The nodes sharing the ordering storage share the topology store: the first to start processes the genesis.
      if (topology.lastSequenced === undefined) await topology.process(genesis.genesisTs, genesis.batch);
      const sequencerId = runtime.identity.member as SequencerId;
      const active = topology.head.sequencerGroup()?.active ?? [];
      if (!active.some((s) => s.equals(sequencerId))) {
        const refused = new WeftError(
          SequencerErrors.SEQUENCER_NOT_IN_SYNCHRONIZER,
          `sequencer ${sequencerId} is not an active sequencer of synchronizer ${genesis.synchronizerId} (${active.join(', ')}), whose genesis is in its ordering storage; bootstrap the synchronizer with --sequencer for this node, or give it its own ordering storage`,
          { synchronizerId: String(genesis.synchronizerId) },
        );
        this.#refused = refused;
        runtime.logger.error({ err: refused }, 'the sequencer does not serve the synchronizer');
        await this.#closePlaceholder();
        await this.#servePlaceholder(refused);
        throw refused;
      }
      await this.#closePlaceholder();
      const node = await SequencerNode.start({
        name: config.name,
        synchronizerId: String(genesis.synchronizerId),
        sequencerId: String(sequencerId),
        signingKey: runtime.identity.signingKey.privateKey,
        storage: this.ordering,
        topology: sequencerTopologyOf(topology),
        publicApi: { ...this.publicApi, port: this.#publicPort },
        settings: config.sequencer,
        clock: runtime.clock,
        random: runtime.random,
        logger: runtime.logger,
        metrics: runtime.metrics,
        // A storage failure it cannot recover from stops the node, and weft daemon exits 1 for its supervisor.
        onFatal: (e) => void runtime.fail(e),
      });
      this.#publicPort = node.port;
      this.#serving = { genesis, topology, node };
      runtime.logger.info(
        { synchronizerId: String(genesis.synchronizerId), endpoint: node.endpoint },
        `sequencer ${runtime.identity.member} serves synchronizer ${genesis.synchronizerId}`,
      );
    });
    this.#activation = run.catch(() => {});
    return run;
  }

  /** Rethrows `e` unless it is the refusal to serve, which the node reports by its readiness and public API. */
  #unlessRefused(e: unknown): void {
    if (e !== this.#refused) throw e;
  }

  /** Binds the public API port with services that answer `error` while the node does not serve. */
  async #servePlaceholder(error: WeftError): Promise<void> {
    const { address = '127.0.0.1', tls, insecure = false } = this.publicApi;
    requireTransportSecurity(
      address,
      tls,
      insecure,
      SequencerErrors.SEQUENCER_INSECURE_CONNECTION,
      'public API',
      'configure public-api.tls, bind to a loopback address, or set sequencer.insecure for a TLS-terminating proxy',
    );
    const server = new grpc.Server();
    for (const definition of [
      sequencerConnectServiceDefinition,
      sequencerAuthenticationServiceDefinition,
      sequencerServiceDefinition,
    ]) {
      server.addService(definition, failingService(definition, error, 'sequencer'));
    }
    this.#publicPort = await bindServer(
      server,
      address,
      this.#publicPort,
      serverCredentials(tls),
      'sequencer public API',
    );
    this.#placeholder = server;
  }

  async #closePlaceholder(): Promise<void> {
    const server = this.#placeholder;
    this.#placeholder = undefined;
    // Cut at once: the port is rebound by the real public API right after.
    server?.forceShutdown();
  }

  #watchForGenesis(): void {
    const signal = this.#stopping.signal;
    const poll = async (): Promise<void> => {
      while (!signal.aborted && !this.#serving) {
        try {
          const genesis = await this.genesisStore.load();
          if (genesis) {
            await this.#activate(genesis).catch((e) => this.#unlessRefused(e));
            return;
          }
        } catch (e) {
          this.runtime.logger.error(
            { err: e },
            'starting the sequencer after the bootstrap failed; retrying',
          );
        }
        await sleep(this.runtime.clock, GENESIS_POLL_MS, signal);
      }
    };
    void poll();
  }

  async #stopSequencer(): Promise<void> {
    this.#stopping.abort();
    await this.#activation;
    await this.#closePlaceholder();
    await this.#serving?.node.stop();
  }
}

/**
 * The storage a sequencer orders in: its `sequencer.ordering-storage`, opened here and closed when the node stops,
 * or the node's own storage.
 */
async function openOrderingStorage(runtime: NodeRuntime, config: SequencerDaemonConfig): Promise<Storage> {
  const section = config.sequencer.orderingStorage;
  if (!section) return runtime.storage;
  const ordering = await openStorage(storageConfigOf(section));
  runtime.onStop(() => ordering.close());
  runtime.addReadinessCheck('ordering-storage', async () => {
    await ordering.health();
    return undefined;
  });
  return ordering;
}
