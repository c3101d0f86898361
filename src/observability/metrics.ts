import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { CommonErrors, WeftError } from '../errors/index.js';

/** Every Weft metric name starts with this, so a scrape separates Weft's metrics from process ones. */
export const METRIC_PREFIX = 'weft_';

const NAME = /^[a-z][a-z0-9_]*$/;
/** Set on every metric of a node's registry, so declaring it per metric would clash. */
const RESERVED_LABELS = new Set(['node']);

export interface NodeMetricsOptions {
  /** Added as the `node` label to every series of this registry. */
  readonly node?: string;
  /** Collect the standard `process_*` and `nodejs_*` metrics (unprefixed, as dashboards expect); default true. */
  readonly defaultMetrics?: boolean;
}

/**
 * One node's metrics. Each node owns a registry instead of prom-client's global one, so the nodes that a sandbox
 * runs in one process do not collide. Names get the `weft_` prefix and follow Prometheus conventions: snake_case,
 * counters end in `_total`, label names are snake_case.
 */
export class NodeMetrics {
  readonly registry = new Registry();

  constructor(options: NodeMetricsOptions = {}) {
    if (options.node !== undefined) this.registry.setDefaultLabels({ node: options.node });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** A counter `weft_<name>`; `name` must end in `_total`. */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    if (!name.endsWith('_total')) invalid(`counter name ${name} must end in _total`);
    return this.#register(Counter, name, labelNames, () => new Counter(this.#config(name, help, labelNames)));
  }

  /** A gauge `weft_<name>`; with `collect`, its value is computed on each scrape (e.g. from a health check). */
  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (gauge: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    const config = {
      ...this.#config(name, help, labelNames),
      ...(collect
        ? {
            collect(this: Gauge<L>) {
              return collect(this);
            },
          }
        : {}),
    };
    return this.#register(Gauge, name, labelNames, () => new Gauge(config));
  }

  /** A histogram `weft_<name>`; durations are in seconds and named `*_seconds` by convention. */
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: readonly number[],
  ): Histogram<L> {
    const config = { ...this.#config(name, help, labelNames), ...(buckets ? { buckets: [...buckets] } : {}) };
    return this.#register(Histogram, name, labelNames, () => new Histogram(config));
  }

  #config<L extends string>(name: string, help: string, labelNames: readonly L[]) {
    return { name: METRIC_PREFIX + name, help, labelNames, registers: [this.registry] };
  }

  /**
   * Validates the name and labels, then creates the metric, or returns the existing one when a component asks for
   * the same metric again (e.g. after a reconnect); a different type or label set under that name is an error.
   */
  #register<M extends Metric<string>>(
    kind: abstract new (...args: never[]) => M,
    name: string,
    labelNames: readonly string[],
    create: () => M,
  ): M {
    if (!NAME.test(name) || name.startsWith(METRIC_PREFIX)) {
      invalid(`metric name ${name} must be snake_case and must not repeat the ${METRIC_PREFIX} prefix`);
    }
    for (const label of labelNames) {
      if (!NAME.test(label) || RESERVED_LABELS.has(label)) {
        invalid(`label ${label} of metric ${name} must be snake_case and not one of ${[...RESERVED_LABELS]}`);
      }
    }
    const existing = this.registry.getSingleMetric(METRIC_PREFIX + name);
    if (existing === undefined) return create();
    const existingLabels = (existing as unknown as { labelNames: readonly string[] }).labelNames;
    if (existing instanceof kind && sameSet(existingLabels, labelNames)) return existing;
    throw new WeftError(
      CommonErrors.ALREADY_EXISTS,
      `metric ${METRIC_PREFIX}${name} exists already with another type or other labels`,
    );
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function invalid(message: string): never {
  throw new WeftError(CommonErrors.INVALID_ARGUMENT, message);
}

/** Durations of API calls: from a millisecond to a long unary call (a DAR upload, a submit-and-wait). */
const CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Calls an API served, by method and status, and how long they took: Canton's `daml_grpc_server_*` for the gRPC
 * APIs (Admin API, Ledger API, sequencer public API) and `daml_http_requests_*` for the JSON API, here `weft_*`.
 * `service` tells the APIs of one node apart.
 */
export class ApiMetrics {
  readonly #handled: Counter<'service' | 'method' | 'status'>;
  readonly #duration: Histogram<'service' | 'method'>;

  private constructor(
    metrics: NodeMetrics,
    readonly service: string,
    prefix: 'grpc_server' | 'http_requests',
    what: string,
  ) {
    const handled = prefix === 'grpc_server' ? 'grpc_server_handled_total' : 'http_requests_total';
    this.#handled = metrics.counter(handled, `${what} handled, by service, method and status.`, [
      'service',
      'method',
      'status',
    ]);
    this.#duration = metrics.histogram(
      `${prefix}_duration_seconds`,
      `Time to handle one of the ${what}, by service and method (a stream: until it ends).`,
      ['service', 'method'],
      CALL_BUCKETS,
    );
  }

  /** gRPC calls; `status` is the gRPC status name (`OK`, `PERMISSION_DENIED`, ...). */
  static grpc(metrics: NodeMetrics, service: string): ApiMetrics {
    return new ApiMetrics(metrics, service, 'grpc_server', 'gRPC calls');
  }

  /** HTTP requests; `status` is the HTTP status code. */
  static http(metrics: NodeMetrics, service: string): ApiMetrics {
    return new ApiMetrics(metrics, service, 'http_requests', 'HTTP requests');
  }

  observe(method: string, status: string, elapsedMs: number): void {
    this.#handled.inc({ service: this.service, method, status });
    this.#duration.observe({ service: this.service, method }, elapsedMs / 1000);
  }
}

/** What {@link nodeHealthMetrics} asks on each scrape. */
export interface HealthProbes {
  /** Whether every readiness check passes. */
  ready(): Promise<boolean>;
  /** Whether the node's database answers. */
  storage(): Promise<boolean>;
  /** How busy the database connections are (undefined: the storage has no pool to report). */
  pool(): { max: number; inUse: number; idle: number; waiting: number } | undefined;
}

/**
 * Every node's health as metrics, computed on each scrape, so that an alert sees a node that is up but cannot
 * work: `weft_node_ready` and `weft_db_storage_healthy` (1 or 0), and the database connections' use (Canton's
 * `daml_db_storage_general_executor_running` and `_queued`).
 */
export function nodeHealthMetrics(metrics: NodeMetrics, probes: HealthProbes): void {
  const flag = (ok: boolean) => (ok ? 1 : 0);
  metrics.gauge(
    'node_ready',
    'Whether every readiness check of the node passes (1) or not (0).',
    [],
    async (g) => {
      g.set(flag(await probes.ready()));
    },
  );
  metrics.gauge(
    'db_storage_healthy',
    "Whether the node's database answers a health round trip (1) or not (0).",
    [],
    async (g) => {
      g.set(flag(await probes.storage()));
    },
  );
  const pooled = (
    name: string,
    help: string,
    of: (p: NonNullable<ReturnType<HealthProbes['pool']>>) => number,
  ) =>
    metrics.gauge(name, help, [], (g) => {
      const pool = probes.pool();
      if (pool) g.set(of(pool));
    });
  pooled(
    'db_storage_executor_running',
    'Database connections running a statement or transaction.',
    (p) => p.inUse,
  );
  pooled('db_storage_executor_queued', 'Callers waiting for a database connection.', (p) => p.waiting);
  pooled('db_storage_connections_idle', 'Open database connections that are idle.', (p) => p.idle);
  pooled(
    'db_storage_connections_max',
    'Database connections the storage may open (1 for SQLite).',
    (p) => p.max,
  );
}

/** A metric as the reference (docs/monitoring.md) lists it. */
export interface MetricInfo {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly labels: readonly string[];
}

/** The metrics registered in `metrics`, sorted by name. */
export function metricInfos(metrics: NodeMetrics): MetricInfo[] {
  return metrics.registry
    .getMetricsAsArray()
    .map((m) => {
      const raw = m as unknown as { name: string; help: string; type: string; labelNames: readonly string[] };
      return { name: raw.name, type: raw.type, help: raw.help, labels: [...raw.labelNames] };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
