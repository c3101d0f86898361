import type {
  CryptoConfig,
  Env,
  MonitoringConfig,
  StorageConfig as StorageConfigSection,
} from '../config/index.js';
import { KeyStore, loadKeyEncryptionKey, type RandomSource, systemRandom } from '../crypto/index.js';
import { logGrpcTo } from '../grpc/index.js';
import {
  createLogger,
  type HealthServer,
  type Logger,
  NodeMetrics,
  type Readiness,
  startHealthServer,
} from '../observability/index.js';
import { openStorage, type Storage, type StorageConfig } from '../storage/index.js';
import { type Clock, systemClock } from '../time/index.js';
import { loadOrCreateIdentity, type NodeIdentity, type NodeKind } from './identity.js';

/** What every node's config has (the base node schema of `src/config`). */
export interface BaseNodeConfig {
  readonly name: string;
  readonly kind: NodeKind;
  readonly storage: StorageConfigSection;
  readonly monitoring: MonitoringConfig;
  /** Absent: private keys stored plain, the development default. */
  readonly crypto?: CryptoConfig;
}

export interface NodeRuntimeOptions {
  readonly config: BaseNodeConfig;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Overrides the configured logger (tests capture lines; the sandbox shares one stream). */
  readonly logger?: Logger;
  /** Where a `kek-env` key-encryption key is read from; default `process.env`. */
  readonly env?: Env;
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
 */
export class NodeRuntime {
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #stopHooks: Array<() => Promise<void>> = [];
  #health: HealthServer | undefined;
  #stopped = false;

  private constructor(
    readonly config: BaseNodeConfig,
    readonly storage: Storage,
    readonly keys: KeyStore,
    readonly identity: NodeIdentity,
    readonly logger: Logger,
    readonly metrics: NodeMetrics,
    readonly clock: Clock,
    readonly random: RandomSource,
  ) {
    this.#checks.set('storage', async () => {
      await this.storage.health();
      return undefined;
    });
  }

  static async start(options: NodeRuntimeOptions): Promise<NodeRuntime> {
    const { config, clock = systemClock, random = systemRandom } = options;
    const logger =
      options.logger ??
      createLogger({
        level: config.monitoring.logging.level,
        node: config.name,
        ...(config.monitoring.logging.file === undefined ? {} : { file: config.monitoring.logging.file }),
      });
    logGrpcTo(logger);
    // Read before the storage opens: a missing or malformed KEK stops the node without touching its keys.
    const kek = loadKeyEncryptionKey(
      config.crypto?.privateKeyStore.encryption ?? { type: 'plain' },
      options.env ?? process.env,
    );
    const storage = await openStorage(storageConfigOf(config.storage));
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
      const runtime = new NodeRuntime(
        config,
        storage,
        keys,
        identity,
        logger,
        new NodeMetrics({ node: config.name }),
        clock,
        random,
      );
      const http = config.monitoring.httpServer;
      runtime.#health = await startHealthServer({
        host: http.address,
        port: http.port,
        registry: runtime.metrics.registry,
        readiness: () => runtime.readiness(),
      });
      logger.info(
        {
          uid: identity.uid.toString(),
          member: identity.member?.toString(),
          monitoringPort: runtime.monitoringPort,
        },
        `${config.kind} node ${config.name} started`,
      );
      return runtime;
    } catch (e) {
      await storage.close();
      throw e;
    }
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
    await this.storage.close();
    this.logger.info(`${this.config.kind} node ${this.config.name} stopped`);
  }
}
