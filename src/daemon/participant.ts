import { readFileSync } from 'node:fs';
import {
  type AdminApiServer,
  AdminErrors,
  type AdminNode,
  type AdminSynchronizer,
  adminApiOptions,
  type BootstrapOutcome,
  type ConnectedSynchronizerInfo,
  endpointsOf,
  type NodeEndpoint,
  type ParticipantHost,
  type SynchronizerConnectionConfig,
  startAdminApi,
} from '../admin-api/index.js';
import { ConfigErrors } from '../config/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import { ledgerApiSettings, type ParticipantLedgerApiServers, startLedgerApi } from '../ledger-api/index.js';
import { jsonApiSettings } from '../ledger-api/json/index.js';
import type { NodeRuntime } from '../node/index.js';
import { ApiMetrics } from '../observability/index.js';
import { ParticipantNode } from '../participant/index.js';
import {
  type InProcessSequencers,
  PROTOCOL_VERSION,
  synchronizerIdAt,
  type TransportOptions,
  untilActive,
} from '../sequencer/index.js';
import { realTime, staticTimeOf } from '../time/index.js';
import type { ParticipantDaemonConfig } from './config.js';
import { ConnectionStore, transportOf } from './connections.js';
import { memberEndpoints } from './endpoints.js';
import { oneLine } from './one-line.js';

/**
 * Canton's admin workflow (health.ping), shipped in the package (`resources/admin-workflow`); resolved from this
 * module so that it is found from `src/` (tsx, tests) and from `dist/` alike.
 */
export const ADMIN_WORKFLOW_DAR = new URL('../../resources/admin-workflow/ping-3.4.0.dar', import.meta.url);

/** How long a participant waits between attempts to reconnect to a remembered synchronizer after a restart. */
const RECONNECT_MS = 1000;

/**
 * A participant node as a process runs it: the node runtime, the participant (own storage, identity, the admin
 * workflow DAR), the Admin API with the participant commands and, when configured, the Ledger API. It connects to synchronizers when the operator
 * says so (ConnectSynchronizer, one alias per synchronizer), remembers the connections, and reconnects by itself
 * after a restart.
 */
export class ParticipantDaemon implements AdminNode, ParticipantHost {
  readonly startedAt: bigint;
  #admin: AdminApiServer | undefined;
  #ledgerApi: ParticipantLedgerApiServers | undefined;
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
    /** The sequencers of this process, dialled without gRPC. */
    private readonly inProcess: InProcessSequencers | undefined,
  ) {
    this.startedAt = runtime.clock.now();
  }

  static async start(
    runtime: NodeRuntime,
    config: ParticipantDaemonConfig,
    version: string,
    inProcess?: InProcessSequencers,
  ): Promise<ParticipantDaemon> {
    const adminApi = await adminApiOptions(config.adminApi);
    const ledgerApi = config.ledgerApi && (await ledgerApiSettings(config.ledgerApi));
    if (config.jsonApi && !ledgerApi) {
      throw new WeftError(
        ConfigErrors.CONFIG_INVALID,
        `participant ${config.name} has a json-api section but no ledger-api section, whose auth-services the JSON API authenticates with; add a ledger-api section`,
      );
    }
    const jsonApi = config.jsonApi && (await jsonApiSettings(config.jsonApi));
    const participant = await ParticipantNode.start({
      name: config.name,
      storage: runtime.storage,
      keys: runtime.keys,
      settings: config.participant,
      adminWorkflowDar: readFileSync(ADMIN_WORKFLOW_DAR),
      clock: runtime.clock,
      random: runtime.random,
      logger: runtime.logger,
      metrics: runtime.metrics,
      // A failure it cannot recover from stops the node, and weft daemon exits 1 for its supervisor.
      onFatal: (e) => void runtime.fail(e),
    });
    runtime.onStop(() => participant.stop());
    const daemon = new ParticipantDaemon(
      runtime,
      config,
      version,
      participant,
      await ConnectionStore.open(runtime.storage),
      inProcess,
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
    // The JSON API's metric families exist on every participant, so that the reference and dashboards hold with or
    // without a json-api section.
    ApiMetrics.http(runtime.metrics, 'json-api');
    runtime.onStop(() => daemon.#admin!.close());
    if (ledgerApi) {
      // On static time (the sandbox's --static-time) the Ledger API serves the testing TimeService over it.
      const staticTime = staticTimeOf(runtime.clock);
      daemon.#ledgerApi = await startLedgerApi(
        {
          participant,
          storage: runtime.storage,
          clock: realTime(runtime.clock),
          ...(staticTime ? { staticTime } : {}),
          random: runtime.random,
          logger: runtime.logger,
          ...(runtime.audit ? { audit: runtime.audit } : {}),
          metrics: runtime.metrics,
          connectedSynchronizers: () =>
            daemon
              .connections()
              .filter((c) => c.healthy)
              .map((c) => ({ synchronizerId: c.synchronizerId, alias: c.config.alias })),
        },
        ledgerApi,
        { grpc: ledgerApi, ...(jsonApi ? { json: jsonApi } : {}) },
      );
      runtime.onStop(() => daemon.#ledgerApi!.close());
    }
    return daemon;
  }

  get participantHost(): ParticipantHost {
    return this;
  }

  get ports(): { admin: number; ledgerApi?: number; jsonApi?: number; monitoring: number } {
    const { grpc, json } = this.#ledgerApi ?? {};
    return {
      admin: this.#admin?.port ?? 0,
      ...(grpc ? { ledgerApi: grpc.port } : {}),
      ...(json ? { jsonApi: json.port } : {}),
      monitoring: this.runtime.monitoringPort,
    };
  }

  endpoints(): readonly NodeEndpoint[] {
    const { grpc, json } = this.#ledgerApi ?? {};
    return [
      ...memberEndpoints(this.runtime, this.#admin),
      ...(grpc ? [{ api: 'ledger-api', url: grpc.url, port: grpc.port }] : []),
      ...(json ? [{ api: 'json-api', url: json.url, port: json.port }] : []),
    ];
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
    const transport: TransportOptions = {
      ...transportOf(config),
      ...(this.inProcess ? { dial: this.inProcess.dialer } : {}),
    };
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
    let reported: string | undefined;
    void untilActive(
      async () => {
        // A disconnect queued before this attempt ends the reconnection.
        await this.#serialized(async () => {
          if (this.#reconnecting.has(config.alias)) await this.#connectNow(config);
        });
        this.#reconnecting.delete(config.alias);
      },
      {
        clock: this.runtime.clock,
        intervalMs: RECONNECT_MS,
        signal: this.#stopping.signal,
        // While its sequencer is unreachable, or anything else keeps the connection from being made.
        retry: () => true,
        onRetry: (e) => {
          const message = oneLine(e);
          if (message === reported) return;
          reported = message;
          this.runtime.logger.warn(
            { err: e },
            `reconnecting to synchronizer ${config.alias} failed; retrying`,
          );
        },
      },
    );
  }

  #readiness(): string | undefined {
    if (this.#connections.size === 0)
      return 'not connected to a synchronizer: connect it with weft admin participant connect';
    return this.participant.readiness();
  }
}
