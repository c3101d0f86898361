import { CommonErrors, WeftError } from '../errors/index.js';
import { LOG_LEVELS } from '../observability/index.js';
import { ConfigErrors } from './errors.js';
import { readConfigTree } from './formats.js';
import {
  boolean,
  formatProblems,
  type Infer,
  integer,
  join,
  type ObjectSchema,
  object,
  objectIgnoring,
  oneOf,
  optional,
  Problems,
  port,
  record,
  type Schema,
  type Shape,
  string,
  tagged,
  withDefault,
} from './schema.js';
import type { Env } from './substitution.js';

/** The kinds of node; a kind added here needs a section name in {@link NETWORK_SECTIONS} and a schema. */
export const NODE_KINDS = ['participant', 'sequencer', 'mediator', 'topology'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** Where each kind's nodes live in a network file: `weft { participants { alice { ... } } }`. */
export const NETWORK_SECTIONS = {
  participant: 'participants',
  sequencer: 'sequencers',
  mediator: 'mediators',
  topology: 'topology-owners',
} as const satisfies Record<NodeKind, string>;

/** Node names appear in logs, metrics labels and file names, so they stay plain. */
const NODE_NAME = {
  regex: /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
  description: 'at most 64 letters, digits, _ and -, starting with a letter or digit',
};

const SQL_IDENTIFIER = { regex: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/, description: 'a SQL identifier' };

const address = () => withDefault(string(), '127.0.0.1');

export const storageSchema = tagged('type', {
  sqlite: object({ file: string() }),
  postgres: object({
    url: string(),
    schema: optional(string(SQL_IDENTIFIER)),
    'pool-size': optional(integer({ min: 1, max: 1000 })),
  }),
});

export const tlsSchema = object({
  'cert-chain-file': string(),
  'private-key-file': string(),
  /** CA certificates to verify clients by; absent means no client authentication. */
  'trust-collection-file': optional(string()),
});

/** A gRPC server endpoint; components add `public-api`, `admin-api` and the like with it. */
export const apiServerSchema = object({ address: address(), port: port(), tls: optional(tlsSchema) });

/**
 * Rotation and retention of a log file: a new file at `max-file-size-mb` (1 MB..10 GB: a file a shipper and an
 * editor can still handle) or each `frequency` period, keeping the newest `max-files` rotated files (1..1000).
 */
const rotationSchema = object({
  'max-file-size-mb': withDefault(integer({ min: 1, max: 10_240 }), 100),
  frequency: optional(oneOf(['daily', 'hourly'] as const)),
  'max-files': withDefault(integer({ min: 1, max: 1000 }), 10),
});

const COMPONENT = { regex: /^[a-z][a-z0-9-]{0,63}$/, description: 'a component name such as ledger-api' };

export const monitoringSchema = object({
  logging: withDefault(
    object({
      level: withDefault(oneOf(LOG_LEVELS), 'info'),
      /** Levels of components that differ from `level`: `levels { ledger-api = debug }`. */
      levels: optional(record(oneOf(LOG_LEVELS), COMPONENT)),
      file: optional(string()),
      /** With `file`: rotate it; absent, the file grows (an external logrotate may handle it). */
      rotation: optional(rotationSchema),
      /** With `file`: copy each line to stdout too. */
      stdout: optional(boolean()),
    }),
    {},
  ),
  /**
   * The audit log (docs/monitoring.md): one line per Admin API and Ledger API call and per topology change, in a
   * file of its own with its own retention. Absent, calls are not audited.
   */
  audit: optional(object({ file: string(), rotation: optional(rotationSchema) })),
  /**
   * Spans exported over OTLP/HTTP (after Canton's `monitoring.tracing.tracer.exporter`), e.g.
   * `tracing.otlp.endpoint = "http://127.0.0.1:4318/v1/traces"`. Absent, spans only label log lines.
   */
  tracing: optional(object({ otlp: object({ endpoint: string() }) })),
  /** The HTTP server for /metrics, /health and /ready; port 0 picks a free port. */
  'http-server': withDefault(object({ address: address(), port: withDefault(port(), 0) }), {}),
});

/**
 * How the node keeps its private keys at rest, after Canton's `crypto.private-key-store.encryption`: `plain` (the
 * development default: keys readable by anyone who can read the database), or sealed under a 32-byte
 * key-encryption key read at start from an environment variable (`kek-env`) or a file (`kek-file`).
 */
export const cryptoSchema = object({
  'private-key-store': withDefault(
    object({
      encryption: withDefault(
        tagged('type', {
          plain: object({}),
          'kek-env': object({ variable: string() }),
          'kek-file': object({ file: string() }),
        }),
        { type: 'plain' },
      ),
    }),
    {},
  ),
});

/**
 * Active/passive replication after Canton's `replication`: with `enabled`, a participant or mediator that finds its
 * storage leased by another node of its identity waits as a passive replica and takes over when that one dies.
 * Participants and mediators hold the lease replicated or not, so the health check applies to all of them.
 */
export const replicationSchema = object({
  enabled: withDefault(boolean(), false),
  /**
   * How often a passive replica tries to take the lease: a failover takes up to this long after the active's
   * lock is released. At least 100 ms, since each try is a database round trip (or a file open); at most a minute.
   */
  'passive-check-interval-ms': withDefault(integer({ min: 100, max: 60_000 }), 1000),
  /**
   * How often the holder checks that it still holds the lease; a check that fails, or gets no answer within three
   * intervals (at least 5 s), loses it, and the node stops. At least 100 ms so that checks do not load the
   * database; at most a minute, which bounds how long a node runs without noticing that its lock connection died
   * silently.
   */
  'health-check-interval-ms': withDefault(integer({ min: 100, max: 60_000 }), 1000),
});

/** What every node has. Components extend it: `nodeSchema.extend({ 'ledger-api': apiServerSchema })`. */
export const nodeSchema = object({
  storage: storageSchema,
  monitoring: withDefault(monitoringSchema, {}),
  crypto: withDefault(cryptoSchema, {}),
  replication: withDefault(replicationSchema, {}),
  'admin-api': optional(apiServerSchema),
  'public-api': optional(apiServerSchema),
});

export type NodeSchemas = { readonly [K in NodeKind]: ObjectSchema<Shape> };

/** The schemas of this foundation; the daemon passes the extended ones of the components it runs. */
export const BASE_NODE_SCHEMAS = {
  participant: nodeSchema,
  sequencer: nodeSchema,
  mediator: nodeSchema,
  topology: nodeSchema,
} as const satisfies NodeSchemas;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** A node's config: its name and kind, and the fields of its kind's schema in camelCase. */
export type NodeConfigOf<S extends NodeSchemas> = {
  [K in NodeKind]: Simplify<{ readonly name: string; readonly kind: K } & Infer<S[K]>>;
}[NodeKind];

export type NodeConfig = NodeConfigOf<typeof BASE_NODE_SCHEMAS>;
export type StorageConfig = Infer<typeof storageSchema>;
export type ApiServerConfig = Infer<typeof apiServerSchema>;
export type MonitoringConfig = Infer<typeof monitoringSchema>;
export type CryptoConfig = Infer<typeof cryptoSchema>;
export type ReplicationConfig = Infer<typeof replicationSchema>;

/** All nodes a file defines, single-node (`weft.node`) and network form together, sorted by kind and name. */
export interface WeftConfig<S extends NodeSchemas = typeof BASE_NODE_SCHEMAS> {
  readonly nodes: readonly NodeConfigOf<S>[];
}

export interface LoadOptions<S extends NodeSchemas> {
  /** Variables for substitution; default `process.env`. */
  readonly env?: Env;
  readonly nodeSchemas?: S;
}

/** Reads, substitutes and validates a config file (`.conf` HOCON, `.yaml`/`.yml`, `.json`). */
export async function loadConfig<S extends NodeSchemas = typeof BASE_NODE_SCHEMAS>(
  path: string,
  options: LoadOptions<S> = {},
): Promise<WeftConfig<S>> {
  const tree = await readConfigTree(path, options.env ?? process.env);
  return decodeConfig(tree, {
    source: path,
    ...(options.nodeSchemas ? { nodeSchemas: options.nodeSchemas } : {}),
  });
}

/** Validates a parsed config tree (kebab-case keys, as in a file); `source` names it in error messages. */
export function decodeConfig<S extends NodeSchemas = typeof BASE_NODE_SCHEMAS>(
  tree: unknown,
  options: { readonly source: string; readonly nodeSchemas?: S },
): WeftConfig<S> {
  const schemas = (options.nodeSchemas ?? BASE_NODE_SCHEMAS) as S;
  const problems = new Problems();
  const decoded =
    tree === null || tree === undefined
      ? problems.add('', 'the file is empty; it needs a weft section')
      : fileSchema(schemas).decode(tree, '', problems);
  const nodes: Array<{ readonly name: string; readonly kind: NodeKind; readonly path: string }> = [];
  if (problems.list.length === 0) {
    const weft = (decoded as { weft: Record<string, unknown> }).weft;
    for (const kind of NODE_KINDS) {
      const section = NETWORK_SECTIONS[kind];
      const entries = Object.entries((weft[section] ?? {}) as Record<string, object>);
      for (const [name, body] of entries) {
        nodes.push({ name, kind, ...body, path: join(join('weft', section), name) });
      }
    }
    const single = weft.node as { name: string; kind: NodeKind } | undefined;
    if (single) {
      const { name, kind, ...body } = single;
      nodes.push({ name, kind, ...body, path: 'weft.node' });
    }
    checkNodes(nodes, problems);
  }
  if (problems.list.length > 0) {
    const count = problems.list.length === 1 ? '' : ` (${problems.list.length} problems)`;
    throw new WeftError(
      ConfigErrors.CONFIG_INVALID,
      `invalid config ${options.source}${count}: ${formatProblems(problems.list)}`,
      { file: options.source, problems: problems.list.length },
    );
  }
  const sorted = nodes
    .map(({ path: _, ...node }) => node)
    .sort((a, b) => NODE_KINDS.indexOf(a.kind) - NODE_KINDS.indexOf(b.kind) || (a.name < b.name ? -1 : 1));
  // Each body was decoded by the schema of its kind, so each node has the shape NodeConfigOf<S> gives that kind.
  return { nodes: sorted as unknown as NodeConfigOf<S>[] };
}

/** The node to run: the one named, or the only one. */
export function selectNode<S extends NodeSchemas>(config: WeftConfig<S>, name?: string): NodeConfigOf<S> {
  const names = config.nodes.map((n) => n.name).join(', ');
  if (name !== undefined) {
    const node = config.nodes.find((n) => n.name === name);
    if (!node)
      throw new WeftError(CommonErrors.NOT_FOUND, `the config defines no node ${name}; it has ${names}`);
    return node;
  }
  if (config.nodes.length !== 1) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `the config defines ${config.nodes.length} nodes (${names}); say which one to run`,
    );
  }
  return config.nodes[0]!;
}

/**
 * The whole file: `weft { node { name, kind, ... } }` and/or `weft { participants { <name> { ... } } ... }`.
 * Top-level keys starting with `_` are ignored: HOCON files keep shared blocks there for `${_shared.storage}`.
 */
function fileSchema(schemas: NodeSchemas): Schema<unknown> {
  const single = {} as Record<NodeKind, ObjectSchema<Shape>>;
  for (const kind of NODE_KINDS) single[kind] = schemas[kind].extend({ name: string(NODE_NAME) });
  const sections = Object.fromEntries(
    NODE_KINDS.map((kind) => [NETWORK_SECTIONS[kind], optional(record(schemas[kind], NODE_NAME))]),
  );
  const weft = object({ node: optional(tagged('kind', single)), ...sections });
  return objectIgnoring({ weft }, (key) => key.startsWith('_'));
}

function checkNodes(nodes: readonly { name: string; path: string }[], problems: Problems): void {
  if (nodes.length === 0) {
    problems.add(
      'weft',
      'defines no nodes; add weft.node { name, kind, ... } or weft.participants { <name> { ... } }',
    );
  }
  const seen = new Map<string, string>();
  for (const { name, path } of nodes) {
    const first = seen.get(name);
    if (first !== undefined) problems.add(path, `node name ${name} is taken by ${first}`);
    else seen.set(name, path);
  }
}
