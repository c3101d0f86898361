import { hostname } from 'node:os';
import { Counter } from 'prom-client';
import type {
  CryptoConfig,
  Env,
  MonitoringConfig,
  ReplicationConfig,
  StorageConfig as StorageConfigSection,
} from '../config/index.js';
import {
  KeyStore,
  loadKeyEncryptionKey,
  type RandomSource,
  signatureCounts,
  systemRandom,
} from '../crypto/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import { logGrpcTo } from '../grpc/index.js';
import {
  AuditLog,
  createLogger,
  type HealthServer,
  type Logger,
  type LogLevels,
  logLevelsOf,
  METRIC_PREFIX,
  NodeMetrics,
  nodeHealthMetrics,
  type Readiness,
  startHealthServer,
  startOtlpExport,
} from '../observability/index.js';
import {
  type LeaseHeld,
  type LeaseOptions,
  openStorage,
  type Storage,
  type StorageConfig,
  StorageErrors,
  type StorageLease,
  storageCounts,
  tryAcquireLease,
} from '../storage/index.js';
import { type Clock, realTime, sleep, systemClock } from '../time/index.js';
import { loadOrCreateIdentity, type NodeIdentity, type NodeKind } from './identity.js';

/**
 * The process's database commits and Ed25519 operations as counters (`weft_storage_commits_total`,
 * `weft_crypto_signed_total`, `weft_crypto_verified_total`), read when scraped; what the benchmark divides by the
 * transactions. Counted per process, so nodes sharing one (the sandbox) report the same totals.
 */
export function countProcessWork(metrics: NodeMetrics): void {
  const counted = (name: string, help: string, read: () => number) => {
    let seen = 0;
    new Counter({
      name: METRIC_PREFIX + name,
      help,
      registers: [metrics.registry],
      collect() {
        const now = read();
        this.inc(now - seen);
        seen = now;
      },
    });
  };
  counted('storage_commits_total', 'Database commits of this process.', () => storageCounts.commits);
  counted('crypto_signed_total', 'Ed25519 signatures made by this process.', () => signatureCounts.signed);
  counted(
    'crypto_verified_total',
    'Ed25519 signatures verified by this process.',
    () => signatureCounts.verified,
  );
}

/** What every node's config has (the base node schema of `src/config`). */
export interface BaseNodeConfig {
  readonly name: string;
  readonly kind: NodeKind;
  readonly storage: StorageConfigSection;
  readonly monitoring: MonitoringConfig;
  /** Absent: private keys stored plain, the development default. */
  readonly crypto?: CryptoConfig;
  /** Absent: not a replica, with the default lease health check. */
  readonly replication?: ReplicationConfig;
}

const NOT_REPLICATED: ReplicationConfig = {
  enabled: false,
  passiveCheckIntervalMs: 1000,
  healthCheckIntervalMs: 1000,
};

/** The kinds that may run as passive replicas, as in Canton; sequencer nodes share ordering storage instead. */
const REPLICATED_KINDS: readonly NodeKind[] = ['participant', 'mediator'];

export interface NodeRuntimeOptions {
  readonly config: BaseNodeConfig;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Overrides the configured logger (tests capture lines; the sandbox shares one stream). */
  readonly logger?: Logger;
  /** Where a `kek-env` key-encryption key is read from; default `process.env`. */
  readonly env?: Env;
  /** Ends a passive replica's wait for the lease (start then fails with CANCELLED). */
  readonly signal?: AbortSignal;
  /** Told why a replica waits passive (also why it cannot reach its storage meanwhile), e.g. to say so on stdout. */
  readonly onPassive?: (why: string) => void;
}

type ReadinessCheck = () => Promise<string | undefined>;

/** The config file's storage section (`type`, kebab-case) as the storage module takes it. */
export function storageConfigOf(section: StorageConfigSection): StorageConfig {
  return section.type === 'sqlite'
    ? { kind: 'sqlite', path: section.file }
    : {
        kind: 'postgres',
        url: section.url,
        ...(section.schema === undefined ? {} : { schema: section.schema }),
        ...(section.poolSize === undefined ? {} : { poolSize: section.poolSize }),
      };
}

/**
 * What every node (sequencer, mediator, participant, topology owner) stands on: its storage, key store and
 * identity, JSON logger, metrics registry and the HTTP monitoring server (`/metrics`, `/health`, `/ready`).
 * Components add readiness checks and stop hooks; `stop()` runs the hooks in reverse order, then closes storage.
 * Every node but a sequencer holds an exclusive lease on its storage while it runs (docs/reliability.md).
 */
export class NodeRuntime {
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #stopHooks: Array<() => Promise<void>> = [];
  #health: HealthServer | undefined;
  #stopped = false;
  readonly #lease: StorageLease | undefined;
  #resolveFailed!: (e: WeftError) => void;
  /**
   * Resolves when the node stopped by itself after a failure it cannot recover from in this process (see
   * {@link fail}): the process should exit non-zero, so that its supervisor restarts it.
   */
  readonly failed = new Promise<WeftError>((resolve) => {
    this.#resolveFailed = resolve;
  });

  private constructor(
    readonly config: BaseNodeConfig,
    readonly storage: Storage,
    lease: StorageLease | undefined,
    readonly keys: KeyStore,
    readonly identity: NodeIdentity,
    readonly logger: Logger,
    readonly metrics: NodeMetrics,
    readonly clock: Clock,
    readonly random: RandomSource,
    /** Where API calls and topology changes are audited; absent without `monitoring.audit`. */
    readonly audit: AuditLog | undefined,
  ) {
    this.#lease = lease;
    this.#checks.set('storage', async () => {
      await this.storage.health();
      return lease?.suspended;
    });
    nodeHealthMetrics(metrics, {
      ready: async () => (await this.readiness()).ready,
      storage: () =>
        this.storage.health().then(
          () => true,
          () => false,
        ),
      pool: () => this.storage.pool?.(),
    });
    void lease?.lost.then((e) => this.fail(e));
  }

  static async start(options: NodeRuntimeOptions): Promise<NodeRuntime> {
    const { config, clock = systemClock, random = systemRandom } = options;
    const logging = config.monitoring.logging;
    const logger =
      options.logger ??
      createLogger({
        level: logging.level,
        node: config.name,
        ...(logging.levels === undefined ? {} : { levels: logging.levels }),
        ...(logging.file === undefined ? {} : { file: logging.file }),
        ...(logging.rotation === undefined ? {} : { rotation: logging.rotation }),
        ...(logging.stdout === undefined ? {} : { stdout: logging.stdout }),
      });
    const tracing = config.monitoring.tracing;
    const otlp = tracing && startOtlpExport({ endpoint: tracing.otlp.endpoint, serviceName: config.name });
    const auditConfig = config.monitoring.audit;
    const audit =
      auditConfig &&
      new AuditLog({
        node: config.name,
        file: auditConfig.file,
        ...(auditConfig.rotation === undefined ? {} : { rotation: auditConfig.rotation }),
      });
    logGrpcTo(logger);
    const replication = config.replication ?? NOT_REPLICATED;
    if (replication.enabled && !REPLICATED_KINDS.includes(config.kind)) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `replication.enabled is for participant and mediator nodes; ${config.kind} node ${config.name} cannot be a passive replica${config.kind === 'sequencer' ? ' (several sequencer nodes are active together on a shared ordering storage instead)' : ''}`,
      );
    }
    // Read before the storage opens: a missing or malformed KEK stops the node without touching its keys.
    const kek = loadKeyEncryptionKey(
      config.crypto?.privateKeyStore.encryption ?? { type: 'plain' },
      options.env ?? process.env,
    );
    const metrics = new NodeMetrics({ node: config.name });
    countProcessWork(metrics);
    // Up before the lease, so that a passive replica answers /health and explains its /ready.
    let runtime: NodeRuntime | undefined;
    let waiting = 'starting';
    const http = config.monitoring.httpServer;
    const health = await startHealthServer({
      host: http.address,
      port: http.port,
      registry: metrics.registry,
      readiness: async () => runtime?.readiness() ?? { ready: false, checks: { node: waiting } },
    });
    const storageConfig = storageConfigOf(config.storage);
    // Storage waits (busy retries, lease checks) follow real time, also when the node runs on static time.
    const storageClock = realTime(clock);
    let lease: StorageLease | undefined;
    try {
      // The nodes of one sequencer share their storage by design; their node names are exclusive instead.
      if (config.kind !== 'sequencer') {
        lease = await takeLease(storageConfig, replication, {
          holder: `${config.kind} node ${config.name} (pid ${process.pid} on ${hostname()})`,
          healthCheckIntervalMs: replication.healthCheckIntervalMs,
          clock: storageClock,
          logger,
          onPassive: (why) => {
            waiting = why;
            options.onPassive?.(why);
          },
          onSuspend: (why) => {
            if (why === undefined) logger.info('took the storage lease back on a new lock connection');
            else logger.warn(`${why}; the node goes on under the fence meanwhile`);
          },
          ...(options.signal ? { signal: options.signal } : {}),
        });
      }
      waiting = 'starting';
      const storage = await openStorage(storageConfig, storageClock, lease);
      try {
        const keys = await KeyStore.open(storage, kek && { kek, random });
        if (keys.encryptedOnOpen > 0) {
          logger.info(
            { keys: keys.encryptedOnOpen },
            `encrypted ${keys.encryptedOnOpen} plain private keys under the key-encryption key`,
          );
        }
        const identity = await loadOrCreateIdentity(storage, keys, config.name, config.kind, random, () =>
          clock.now(),
        );
        runtime = new NodeRuntime(
          config,
          storage,
          lease,
          keys,
          identity,
          logger,
          metrics,
          clock,
          random,
          audit,
        );
        runtime.#health = health;
        logger.info(
          {
            uid: identity.uid.toString(),
            member: identity.member?.toString(),
            monitoringPort: runtime.monitoringPort,
            ...(lease ? { storage: lease.target } : {}),
          },
          `${config.kind} node ${config.name} started`,
        );
        return runtime;
      } catch (e) {
        await storage.close();
        throw e;
      }
    } catch (e) {
      await lease?.release();
      await health.close();
      await otlp?.shutdown();
      throw e;
    }
  }

  /** The run-time log levels (the Admin API's SetLogLevel); a logger given in the options has fixed levels. */
  get logLevels(): LogLevels | undefined {
    return logLevelsOf(this.logger);
  }

  /** The bound port of the monitoring server (the configured one, or the one picked for port 0). */
  get monitoringPort(): number {
    return this.#health?.port ?? 0;
  }

  /** Adds a readiness check: it returns `undefined` when ready, or why not (or throws). */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  /** Registers a shutdown step; steps run in reverse registration order. */
  onStop(hook: () => Promise<void>): void {
    this.#stopHooks.push(hook);
  }

  async readiness(): Promise<Readiness> {
    const checks: Record<string, string> = {};
    let ready = !this.#stopped;
    for (const [name, check] of this.#checks) {
      try {
        const problem = await check();
        checks[name] = problem ?? 'ok';
        if (problem !== undefined) ready = false;
      } catch (e) {
        checks[name] = e instanceof Error ? e.message : String(e);
        ready = false;
      }
    }
    return { ready, checks };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const hook of this.#stopHooks.reverse()) {
      try {
        await hook();
      } catch (e) {
        this.logger.error({ err: e }, 'error while stopping');
      }
    }
    await this.#health?.close();
    await this.audit?.flush();
    await this.storage.close();
    // Only once nothing can write any more may another node take over.
    await this.#lease?.release();
    this.logger.info(`${this.config.kind} node ${this.config.name} stopped`);
  }

  /**
   * Stops the node after a failure it cannot recover from in this process (a lost storage lease, or a component's
   * fatal error): logs it, stops, and resolves {@link failed}, on which `weft daemon` exits 1.
   */
  async fail(error: WeftError): Promise<void> {
    if (this.#stopped) return;
    this.logger.error({ err: error }, `${error.message}; the node stops`);
    try {
      await this.stop();
    } catch (e) {
      this.logger.error({ err: e }, 'error while stopping');
    } finally {
      this.#resolveFailed(error);
    }
  }
}

interface TakeLeaseOptions extends Required<LeaseOptions> {
  readonly logger: Logger;
  /** Told why the node waits, for its readiness. */
  readonly onPassive: (why: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * Takes the storage lease. Held by another node: refuses with STORAGE_LEASE_HELD, or as a replica waits passive,
 * trying every passive check interval, until it gets it.
 */
async function takeLease(
  config: StorageConfig,
  replication: ReplicationConfig,
  options: TakeLeaseOptions,
): Promise<StorageLease> {
  const { logger, signal } = options;
  const leaseOptions = {
    holder: options.holder,
    healthCheckIntervalMs: options.healthCheckIntervalMs,
    clock: options.clock,
    onSuspend: options.onSuspend,
  };
  const first = await tryAcquireLease(config, leaseOptions);
  if ('lease' in first) return first.lease;
  if (!replication.enabled) {
    throw new WeftError(
      StorageErrors.STORAGE_LEASE_HELD,
      `${describeHeld(first.held)}: stop that node, give this node a storage of its own, or run it as a passive replica (replication.enabled = true)`,
    );
  }
  const why = `passive replica: ${describeHeld(first.held)}; taking over when it is released`;
  options.onPassive(why);
  logger.info(why);
  let reported: string | undefined;
  for (;;) {
    await sleep(options.clock, replication.passiveCheckIntervalMs, signal);
    if (signal?.aborted) {
      throw new WeftError(CommonErrors.UNAVAILABLE, 'stopped while waiting as a passive replica');
    }
    try {
      const attempt = await tryAcquireLease(config, leaseOptions);
      if ('lease' in attempt) {
        logger.info(`took the lease on ${attempt.lease.target}: this replica is now active`);
        return attempt.lease;
      }
    } catch (e) {
      // The database may be down while the active one is: keep trying, and say so once per reason.
      const message = e instanceof Error ? e.message : String(e);
      options.onPassive(`passive replica: cannot reach the storage (${message})`);
      if (message !== reported)
        logger.warn({ err: e }, 'a passive replica cannot reach its storage; retrying');
      reported = message;
    }
  }
}

function describeHeld(held: LeaseHeld): string {
  return `${held.target} is leased by ${held.holder ?? 'another live process'}`;
}
