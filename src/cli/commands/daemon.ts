import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import {
  type AdminApiServer,
  AdminErrors,
  type AdminNode,
  type AdminSynchronizer,
  adminApiOptions,
  adminApiSchema,
  type BootstrapOutcome,
  type BootstrapRequest,
  bootstrapSequencer,
  type ConnectedSynchronizerInfo,
  ConnectionStore,
  endpointsOf,
  GenesisStore,
  MembershipStore,
  type NodeEndpoint,
  type ParticipantHost,
  type SynchronizerConnectionConfig,
  type SynchronizerGenesis,
  startAdminApi,
  transportOf,
} from '../../admin-api/index.js';
import {
  apiServerSchema,
  BASE_NODE_SCHEMAS,
  integer,
  loadConfig,
  type NodeConfigOf,
  nodeSchema,
  object,
  selectNode,
  withDefault,
} from '../../config/index.js';
import { CommonErrors, isWeftError, WeftError } from '../../errors/index.js';
import { sequencerAuthenticationServiceDefinition } from '../../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-server.js';
import { sequencerConnectServiceDefinition } from '../../generated/weft/sequencer/v1/sequencer_connect_service.grpc-server.js';
import { sequencerServiceDefinition } from '../../generated/weft/sequencer/v1/sequencer_service.grpc-server.js';
import { TopologyStateSnapshot } from '../../generated/weft/topology/v1/topology.js';
import {
  bindServer,
  endpointUrl,
  failingService,
  requireTransportSecurity,
  serverCredentials,
} from '../../grpc/index.js';
import { type MediatorId, type SequencerId, SynchronizerId } from '../../identity/index.js';
import { MediatorNode, mediatorNodeSchema, memberSequencerConnection } from '../../mediator/index.js';
import { NodeRuntime, type NodeRuntimeOptions, storageConfigOf } from '../../node/index.js';
import type { Logger } from '../../observability/index.js';
import { ParticipantNode } from '../../participant/index.js';
import {
  downloadTopologyStateForInit,
  PROTOCOL_VERSION,
  type PublicApiOptions,
  publicApiOptions,
  SequencerErrors,
  SequencerNode,
  sequencerNodeSchema,
  sequencerTopologyOf,
  synchronizerIdAt,
  type TransportOptions,
} from '../../sequencer/index.js';
import { openStorage, type Storage } from '../../storage/index.js';
import { sleep } from '../../time/index.js';
import { TopologyProcessor } from '../../topology/index.js';

const durationMs = (min: number, fallback: number) =>
  withDefault(integer({ min, max: 365 * 86_400_000 }), fallback);

/** The `participant` section of a participant node's config (durations in ms; see docs/participant.md). */
const participantSectionSchema = object({
  'deduplication-window-ms': durationMs(1000, 7 * 86_400_000),
  'max-sequencing-delay-ms': durationMs(100, 60_000),
  'activation-timeout-ms': durationMs(100, 30_000),
  /** Longest wait between attempts to reach the sequencer again after losing the connection. */
  'max-backoff-ms': durationMs(10, 5000),
});

/**
 * The config schemas `weft daemon` reads: a sequencer node needs its admin and public API sections, a mediator
 * node its admin API and its sequencer connection, a participant its admin API (it connects to synchronizers
 * through it: weft admin participant connect).
 */
export const DAEMON_SCHEMAS = {
  ...BASE_NODE_SCHEMAS,
  sequencer: sequencerNodeSchema.extend({ 'admin-api': adminApiSchema, 'public-api': apiServerSchema }),
  mediator: mediatorNodeSchema.extend({ 'admin-api': adminApiSchema }),
  participant: nodeSchema.extend({
    'admin-api': adminApiSchema,
    participant: withDefault(participantSectionSchema, {}),
  }),
};

export type DaemonNodeConfig = NodeConfigOf<typeof DAEMON_SCHEMAS>;
export type SequencerDaemonConfig = Extract<DaemonNodeConfig, { kind: 'sequencer' }>;
export type MediatorDaemonConfig = Extract<DaemonNodeConfig, { kind: 'mediator' }>;
export type ParticipantDaemonConfig = Extract<DaemonNodeConfig, { kind: 'participant' }>;

/**
 * Canton's admin workflow (health.ping), shipped in the package (`resources/admin-workflow`); resolved from this
 * module so that it is found from `src/` (tsx, tests) and from `dist/` alike.
 */
export const ADMIN_WORKFLOW_DAR = new URL(
  '../../../resources/admin-workflow/ping-3.4.0.dar',
  import.meta.url,
);

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
  ): Promise<SequencerDaemon> {
    const publicApi = {
      ...(await publicApiOptions(config.publicApi)),
      insecure: config.sequencer.insecure,
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
    const outcome = await bootstrapSequencer(
      this.genesisStore,
      this.runtime.identity,
      request,
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

/** The endpoints of a node without a public API (mediator, participant): its Admin API and monitoring. */
function memberEndpoints(runtime: NodeRuntime, admin: AdminApiServer | undefined): NodeEndpoint[] {
  const monitoring = runtime.config.monitoring.httpServer;
  return [
    ...(admin ? [{ api: 'admin-api', url: admin.url, port: admin.port }] : []),
    {
      api: 'monitoring',
      url: endpointUrl(monitoring.address, runtime.monitoringPort, false),
      port: runtime.monitoringPort,
    },
  ];
}

/** How often a mediator that is not onboarded yet asks its sequencer whether it is now. */
const ONBOARDING_POLL_MS = 500;

interface MediatorServing {
  readonly synchronizerId: SynchronizerId;
  readonly topology: TopologyProcessor;
  readonly node: MediatorNode;
}

/**
 * A mediator node as a process runs it: the node runtime, the Admin API, and the mediator once it is onboarded.
 * Until then it serves its identity transactions (GetIdentityTransactions) for a synchronizer owner to onboard it
 * (AddMediator, or Bootstrap with the mediator), and asks its sequencer every half second for the topology state;
 * the download succeeds once the owner's change is effective. It imports the state into its own topology store,
 * remembers the synchronizer, and starts processing; a restart resumes from its own store.
 */
export class MediatorDaemon implements AdminNode {
  readonly startedAt: bigint;
  #admin: AdminApiServer | undefined;
  #serving: MediatorServing | undefined;
  /** Why the mediator does not process yet, for readiness and status. */
  #waiting = 'not onboarded yet: a synchronizer owner adds it (weft admin mediators add)';
  #running: Promise<void> = Promise.resolve();
  readonly #stopping = new AbortController();

  private constructor(
    readonly runtime: NodeRuntime,
    readonly config: MediatorDaemonConfig,
    readonly version: string,
    private readonly membership: MembershipStore,
    private readonly transport: TransportOptions,
  ) {
    this.startedAt = runtime.clock.now();
  }

  /** Starts the node on a running runtime; `runtime.stop()` stops everything it started. */
  static async start(
    runtime: NodeRuntime,
    config: MediatorDaemonConfig,
    version: string,
  ): Promise<MediatorDaemon> {
    const connection = config.sequencerConnection;
    // Fails early on a connection that is neither connect_multi nor connect_bft.
    memberSequencerConnection(connection);
    let trust: Buffer | undefined;
    if (connection.trustCollectionFile !== undefined) {
      try {
        trust = await readFile(connection.trustCollectionFile);
      } catch (e) {
        throw new WeftError(
          CommonErrors.INVALID_ARGUMENT,
          `cannot read sequencer-connection.trust-collection-file ${connection.trustCollectionFile}: ${(e as Error).message}`,
        );
      }
    }
    const adminApi = await adminApiOptions(config.adminApi);
    const daemon = new MediatorDaemon(runtime, config, version, await MembershipStore.open(runtime.storage), {
      insecure: connection.insecure,
      ...(trust ? { customTrustCertificates: trust } : {}),
    });
    runtime.addReadinessCheck('mediator', async () =>
      daemon.#serving ? daemon.#serving.node.readiness() : daemon.#waiting,
    );
    runtime.onStop(() => daemon.#stopMediator());
    daemon.#running = daemon.#run();
    daemon.#admin = await startAdminApi(daemon, adminApi, runtime.logger);
    runtime.onStop(() => daemon.#admin!.close());
    return daemon;
  }

  /** The bound ports, for logs and `--port-file`. */
  get ports(): { admin: number; monitoring: number } {
    return { admin: this.#admin?.port ?? 0, monitoring: this.runtime.monitoringPort };
  }

  /** The mediator once it processes. */
  get mediatorNode(): MediatorNode | undefined {
    return this.#serving?.node;
  }

  endpoints(): readonly NodeEndpoint[] {
    return memberEndpoints(this.runtime, this.#admin);
  }

  synchronizer(): AdminSynchronizer | undefined {
    const serving = this.#serving;
    if (!serving) return undefined;
    return {
      synchronizerId: serving.synchronizerId,
      protocolVersion: PROTOCOL_VERSION,
      topology: serving.topology,
      submitTopology: async () => {
        throw new WeftError(
          AdminErrors.ADMIN_NOT_SUPPORTED,
          `mediator ${this.runtime.identity.member} does not author topology changes; use the admin API of a sequencer node whose namespace owns the synchronizer`,
        );
      },
    };
  }

  async bootstrap(): Promise<BootstrapOutcome> {
    throw new WeftError(
      AdminErrors.ADMIN_NOT_SUPPORTED,
      `node ${this.config.name} is a mediator; bootstrap the synchronizer on a sequencer node and pass this mediator with --mediator`,
    );
  }

  /** Initialises the topology store once onboarded (retrying until then), then runs the mediator. */
  async #run(): Promise<void> {
    const { runtime } = this;
    const signal = this.#stopping.signal;
    let reported: string | undefined;
    while (!signal.aborted) {
      try {
        this.#serving = await this.#startMediator(signal);
        if (this.#serving) {
          runtime.logger.info(
            { synchronizerId: String(this.#serving.synchronizerId) },
            `mediator ${runtime.identity.member} processes for synchronizer ${this.#serving.synchronizerId}`,
          );
        }
        return;
      } catch (e) {
        const error = isWeftError(e) ? e : new WeftError(CommonErrors.INTERNAL, oneLine(e));
        const waiting = error.code === SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code;
        this.#waiting = waiting ? `not onboarded yet: ${error.message}` : error.message;
        // One line per change of reason, not one per attempt.
        if (this.#waiting !== reported) {
          reported = this.#waiting;
          if (waiting)
            runtime.logger.info(
              `mediator ${this.#waiting}; a synchronizer owner adds it with weft admin mediators add`,
            );
          else runtime.logger.warn({ err: error }, 'the mediator cannot start yet; retrying');
        }
      }
      await sleep(runtime.clock, ONBOARDING_POLL_MS, signal);
    }
  }

  async #startMediator(signal: AbortSignal): Promise<MediatorServing | undefined> {
    const { runtime, config } = this;
    const member = runtime.identity.member as MediatorId;
    const signingKey = runtime.identity.signingKey.privateKey;
    const sequencers = memberSequencerConnection(config.sequencerConnection);
    const endpoints = sequencers.sequencers?.flat() ?? sequencers.endpoints;
    const open = (synchronizerId: SynchronizerId) =>
      TopologyProcessor.create({
        storage: runtime.storage,
        synchronizerId,
        storeId: 'mediator',
        logger: runtime.logger.child({ component: 'topology' }),
      });
    const known = await this.membership.load();
    let topology = known && (await open(known));
    // Also after a crash between remembering the synchronizer and importing its state.
    if (!topology || topology.lastSequenced === undefined) {
      const snapshot = await downloadTopologyStateForInit(
        endpoints,
        String(member),
        signingKey,
        this.transport,
        runtime.clock,
      );
      const synchronizerId = SynchronizerId.parse(TopologyStateSnapshot.fromBinary(snapshot).synchronizerId);
      if (known && !known.equals(synchronizerId)) {
        throw new WeftError(
          CommonErrors.FAILED_PRECONDITION,
          `mediator ${member} belongs to synchronizer ${known}, but its sequencer serves ${synchronizerId}; fix sequencer-connection`,
        );
      }
      await this.membership.save(synchronizerId);
      topology ??= await open(synchronizerId);
      await topology.importState(snapshot);
      runtime.logger.info(
        { synchronizerId: String(synchronizerId), lastSequenced: topology.lastSequenced },
        `mediator ${member} initialised its topology state from the sequencer`,
      );
    }
    if (signal.aborted) return undefined;
    const node = await MediatorNode.start({
      mediatorId: member,
      synchronizerId: topology.synchronizerId,
      signingKey,
      storage: runtime.storage,
      topology,
      sequencer: {
        ...sequencers,
        ...this.transport,
        maxBackoffMs: config.sequencerConnection.maxBackoffMs,
      },
      settings: config.mediator,
      clock: runtime.clock,
      random: runtime.random,
      logger: runtime.logger,
      metrics: runtime.metrics,
    });
    return { synchronizerId: topology.synchronizerId, topology, node };
  }

  async #stopMediator(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
    await this.#serving?.node.stop();
  }
}

/** How long a participant waits between attempts to reconnect to a remembered synchronizer after a restart. */
const RECONNECT_MS = 1000;

/**
 * A participant node as a process runs it: the node runtime, the participant (own storage, identity, the admin
 * workflow DAR) and the Admin API with the participant commands. It connects to synchronizers when the operator
 * says so (ConnectSynchronizer, one alias per synchronizer), remembers the connections, and reconnects by itself
 * after a restart.
 */
export class ParticipantDaemon implements AdminNode, ParticipantHost {
  readonly startedAt: bigint;
  #admin: AdminApiServer | undefined;
  /** By alias. */
  readonly #connections = new Map<string, { config: SynchronizerConnectionConfig; synchronizerId: string }>();
  /** Remembered connections not re-established yet after a restart: alias → synchronizer id. */
  readonly #reconnecting = new Map<string, string>();
  /** Connections are serialised: an operator's connect and the reconnection after a restart may race. */
  #connecting: Promise<unknown> = Promise.resolve();
  readonly #stopping = new AbortController();

  private constructor(
    readonly runtime: NodeRuntime,
    readonly config: ParticipantDaemonConfig,
    readonly version: string,
    readonly participant: ParticipantNode,
    private readonly connectionStore: ConnectionStore,
  ) {
    this.startedAt = runtime.clock.now();
  }

  static async start(
    runtime: NodeRuntime,
    config: ParticipantDaemonConfig,
    version: string,
  ): Promise<ParticipantDaemon> {
    const adminApi = await adminApiOptions(config.adminApi);
    const settings = config.participant;
    const participant = await ParticipantNode.start({
      name: config.name,
      storage: runtime.storage,
      settings: {
        deduplicationWindowMs: settings.deduplicationWindowMs,
        maxSequencingDelayMs: settings.maxSequencingDelayMs,
        activationTimeoutMs: settings.activationTimeoutMs,
      },
      adminWorkflowDar: readFileSync(ADMIN_WORKFLOW_DAR),
      clock: runtime.clock,
      random: runtime.random,
      logger: runtime.logger,
      metrics: runtime.metrics,
    });
    runtime.onStop(() => participant.stop());
    const daemon = new ParticipantDaemon(
      runtime,
      config,
      version,
      participant,
      await ConnectionStore.open(runtime.storage),
    );
    runtime.addReadinessCheck('participant', async () => daemon.#readiness());
    runtime.onStop(async () => {
      daemon.#stopping.abort();
      await daemon.#connecting.catch(() => {});
    });
    for (const { synchronizerId, config } of await daemon.connectionStore.load()) {
      daemon.#reconnecting.set(config.alias, synchronizerId);
      daemon.#reconnect(config);
    }
    daemon.#admin = await startAdminApi(daemon, adminApi, runtime.logger);
    runtime.onStop(() => daemon.#admin!.close());
    return daemon;
  }

  get participantHost(): ParticipantHost {
    return this;
  }

  get ports(): { admin: number; monitoring: number } {
    return { admin: this.#admin?.port ?? 0, monitoring: this.runtime.monitoringPort };
  }

  endpoints(): readonly NodeEndpoint[] {
    return memberEndpoints(this.runtime, this.#admin);
  }

  synchronizer(synchronizerId?: string): AdminSynchronizer | undefined {
    const topology = this.participant.topology(synchronizerId);
    if (!topology) return undefined;
    return {
      synchronizerId: topology.synchronizerId,
      protocolVersion: PROTOCOL_VERSION,
      topology,
      submitTopology: async () => {
        throw new WeftError(
          AdminErrors.ADMIN_NOT_SUPPORTED,
          `participant ${this.participant.id} changes its own topology through its commands (parties enable, dars upload); synchronizer changes go to a sequencer node of an owner`,
        );
      },
    };
  }

  async bootstrap(): Promise<BootstrapOutcome> {
    throw new WeftError(
      AdminErrors.ADMIN_NOT_SUPPORTED,
      `node ${this.config.name} is a participant; bootstrap the synchronizer on a sequencer node`,
    );
  }

  connections(): readonly ConnectedSynchronizerInfo[] {
    return [...this.#connections.values()].map((c) => ({
      ...c,
      healthy: this.participant.isConnectedTo(c.synchronizerId),
    }));
  }

  /**
   * Connects to the synchronizer behind `config.endpoints` under `config.alias` and remembers the connection.
   * Connecting again to a synchronizer it is connected to under the same alias is a no-op; an alias names one
   * synchronizer, and a synchronizer has one alias.
   */
  connect(config: SynchronizerConnectionConfig): Promise<string> {
    return this.#serialized(() => this.#connectNow(config));
  }

  /** Runs `fn` after the connects and disconnects before it (an operator's call and a reconnection may race). */
  #serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#connecting.then(fn);
    this.#connecting = run.catch(() => {});
    return run;
  }

  async #connectNow(config: SynchronizerConnectionConfig): Promise<string> {
    const transport = transportOf(config);
    const synchronizerId = await synchronizerIdAt(endpointsOf(config), transport);
    const byAlias = this.#connections.get(config.alias);
    if (byAlias?.synchronizerId === synchronizerId) return synchronizerId;
    const other = byAlias ?? [...this.#connections.values()].find((c) => c.synchronizerId === synchronizerId);
    if (other) {
      throw new WeftError(
        CommonErrors.FAILED_PRECONDITION,
        `participant ${this.participant.id} is connected to ${other.synchronizerId} under alias ${other.config.alias} already`,
      );
    }
    await this.participant.connect({
      synchronizerId,
      endpoints: config.endpoints,
      ...(config.sequencers ? { sequencers: config.sequencers } : {}),
      ...(config.trustThreshold ? { trustThreshold: config.trustThreshold } : {}),
      transport,
      maxBackoffMs: this.config.participant.maxBackoffMs,
    });
    await this.connectionStore.save(synchronizerId, config);
    this.#connections.set(config.alias, { config, synchronizerId });
    this.runtime.logger.info(
      { synchronizerId, alias: config.alias, endpoints: endpointsOf(config) },
      `participant ${this.participant.id} connected to ${synchronizerId} (${config.alias})`,
    );
    return synchronizerId;
  }

  disconnect(alias: string): Promise<string> {
    return this.#serialized(async () => {
      const connection = this.#connections.get(alias);
      const pending = this.#reconnecting.get(alias);
      if (!connection && pending !== undefined) {
        // Still reconnecting after a restart: stop trying.
        this.#reconnecting.delete(alias);
        await this.connectionStore.remove(alias);
        return pending;
      }
      if (!connection) {
        throw new WeftError(
          CommonErrors.NOT_FOUND,
          `participant ${this.participant.id} has no synchronizer connection under alias ${alias}`,
          { alias },
        );
      }
      await this.participant.disconnect(connection.synchronizerId);
      await this.connectionStore.remove(alias);
      this.#connections.delete(alias);
      this.runtime.logger.info(
        { synchronizerId: connection.synchronizerId, alias },
        `participant ${this.participant.id} disconnected from ${connection.synchronizerId} (${alias})`,
      );
      return connection.synchronizerId;
    });
  }

  /** After a restart: connects to the remembered synchronizer, retrying while its sequencer is unreachable. */
  #reconnect(config: SynchronizerConnectionConfig): void {
    const signal = this.#stopping.signal;
    const attempt = async (): Promise<void> => {
      let reported: string | undefined;
      while (!signal.aborted && this.#reconnecting.has(config.alias)) {
        try {
          // A disconnect queued before this attempt ends the reconnection.
          await this.#serialized(async () => {
            if (this.#reconnecting.has(config.alias)) await this.#connectNow(config);
          });
          this.#reconnecting.delete(config.alias);
          return;
        } catch (e) {
          const message = oneLine(e);
          if (message !== reported) {
            reported = message;
            this.runtime.logger.warn(
              { err: e },
              `reconnecting to synchronizer ${config.alias} failed; retrying`,
            );
          }
        }
        await sleep(this.runtime.clock, RECONNECT_MS, signal);
      }
    };
    void attempt();
  }

  #readiness(): string | undefined {
    if (this.#connections.size === 0)
      return 'not connected to a synchronizer: connect it with weft admin participant connect';
    return this.participant.readiness();
  }
}

/** A node a process runs: stopping it stops everything it started and closes its storage. */
export interface DaemonNode {
  readonly runtime: NodeRuntime;
  readonly node: SequencerDaemon | MediatorDaemon | ParticipantDaemon;
}

/**
 * Starts the node `config` describes. Sequencer, mediator and participant nodes run today: a topology owner node
 * fails with a clear error. `options` overrides the runtime's logger, clock or randomness.
 */
export async function startDaemonNode(
  config: DaemonNodeConfig,
  version: string,
  options: Omit<NodeRuntimeOptions, 'config'> = {},
): Promise<DaemonNode> {
  if (config.kind === 'topology') {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `${config.kind} nodes are not available yet (node ${config.name}); this version runs sequencer, mediator and participant nodes`,
    );
  }
  const runtime = await NodeRuntime.start({ config, ...options });
  try {
    const node =
      config.kind === 'sequencer'
        ? await SequencerDaemon.start(runtime, config, version)
        : config.kind === 'mediator'
          ? await MediatorDaemon.start(runtime, config, version)
          : await ParticipantDaemon.start(runtime, config, version);
    return { runtime, node };
  } catch (e) {
    await runtime.stop();
    throw e;
  }
}

/** One line for stderr: the code and message of a WeftError, the message of anything else. */
export function oneLine(e: unknown): string {
  const text = isWeftError(e) ? e.toString() : e instanceof Error ? e.message : String(e);
  return text.replace(/\s*\n\s*/g, ' ');
}

function writePortFile(file: string, ports: Record<string, number>): void {
  // Written whole under a temporary name, so a reader never sees a partial file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(ports)}\n`);
  renameSync(`${file}.tmp`, file);
}

async function flush(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}

/** `weft daemon -c FILE [--node NAME] [--port-file FILE]`: runs one node until SIGTERM or SIGINT. */
export function registerDaemonCommand(program: Command): void {
  program
    .command('daemon')
    .description(
      'run one node (sequencer, mediator or participant) from a config file until SIGTERM or SIGINT',
    )
    .requiredOption('-c, --config <file>', 'the config file (.conf HOCON, .yaml, .json)')
    .option('--node <name>', 'the node to run when the file defines several')
    .option(
      '--port-file <file>',
      'write the bound ports as JSON ({"admin","public","monitoring"}; only a sequencer has a public API) to this file',
    )
    .action(async (options: { config: string; node?: string; portFile?: string }) => {
      let running: DaemonNode | undefined;
      try {
        const config = selectNode(
          await loadConfig(options.config, { nodeSchemas: DAEMON_SCHEMAS }),
          options.node,
        );
        running = await startDaemonNode(config, program.version() ?? 'unknown');
      } catch (e) {
        process.stderr.write(`weft daemon: ${oneLine(e)}\n`);
        process.exit(1);
      }
      const { runtime, node } = running;
      const ports = node.ports;
      runtime.logger.info({ ports }, `node ${runtime.config.name} listening`);
      if (options.portFile) writePortFile(options.portFile, ports);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) {
          // A second signal while stopping: give up on a graceful stop.
          process.exit(1);
        }
        stopping = true;
        runtime.logger.info({ signal }, `stopping node ${runtime.config.name}`);
        await runtime.stop();
        await flush(runtime.logger);
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });
}
