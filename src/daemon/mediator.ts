import { readFile } from 'node:fs/promises';
import {
  type AdminApiServer,
  AdminErrors,
  type AdminNode,
  type AdminSynchronizer,
  adminApiOptions,
  type BootstrapOutcome,
  type NodeEndpoint,
  startAdminApi,
} from '../admin-api/index.js';
import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import { TopologyStateSnapshot } from '../generated/weft/topology/v1/topology.js';
import { type MediatorId, SynchronizerId } from '../identity/index.js';
import { MediatorNode, memberSequencerConnection } from '../mediator/index.js';
import type { NodeRuntime } from '../node/index.js';
import {
  downloadTopologyStateForInit,
  type InProcessSequencers,
  PROTOCOL_VERSION,
  SequencerErrors,
  type TransportOptions,
  untilActive,
} from '../sequencer/index.js';
import { TopologyProcessor } from '../topology/index.js';
import type { MediatorDaemonConfig } from './config.js';
import { memberEndpoints } from './endpoints.js';
import { MembershipStore } from './membership.js';
import { oneLine } from './one-line.js';

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
    inProcess?: InProcessSequencers,
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
      ...(inProcess ? { dial: inProcess.dialer } : {}),
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
    this.#serving = await untilActive(() => this.#startMediator(signal), {
      clock: runtime.clock,
      intervalMs: ONBOARDING_POLL_MS,
      signal,
      // Also a sequencer not reachable yet: the mediator may start before it.
      retry: () => true,
      onRetry: (e) => {
        const error = isWeftError(e) ? e : new WeftError(CommonErrors.INTERNAL, oneLine(e));
        const waiting = error.code === SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code;
        this.#waiting = waiting ? `not onboarded yet: ${error.message}` : error.message;
        // One line per change of reason, not one per attempt.
        if (this.#waiting === reported) return;
        reported = this.#waiting;
        if (waiting)
          runtime.logger.info(
            `mediator ${this.#waiting}; a synchronizer owner adds it with weft admin mediators add`,
          );
        else runtime.logger.warn({ err: error }, 'the mediator cannot start yet; retrying');
      },
    });
    if (this.#serving) {
      runtime.logger.info(
        { synchronizerId: String(this.#serving.synchronizerId) },
        `mediator ${runtime.identity.member} processes for synchronizer ${this.#serving.synchronizerId}`,
      );
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
        clock: runtime.clock,
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
        sendBatch: config.sequencerConnection.sendBatch,
      },
      settings: config.mediator,
      clock: runtime.clock,
      random: runtime.random,
      logger: runtime.logger,
      metrics: runtime.metrics,
      // A failure it cannot recover from stops the node, and weft daemon exits 1 for its supervisor.
      onFatal: (e) => void runtime.fail(e),
    });
    return { synchronizerId: topology.synchronizerId, topology, node };
  }

  async #stopMediator(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
    await this.#serving?.node.stop();
  }
}
