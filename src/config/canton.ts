/**
 * Canton 3.x's config layout, `canton { sequencers {…}, mediators {…}, participants {…}, remote-participants {…},
 * … }`, read for the keys Canton's own examples use and mapped onto Weft's node configs (a `weft { … }` tree that
 * the daemons' schemas then validate) and onto the remote nodes a console reaches. Every other key is reported by
 * its path as not supported (the schemas reject unknown keys), never ignored.
 */
import { join as joinPath } from 'node:path';
import { WeftError } from '../errors/index.js';
import { ConfigErrors } from './errors.js';
import {
  boolean,
  formatProblems,
  type Infer,
  integer,
  object,
  objectIgnoring,
  oneOf,
  optional,
  port,
  record,
  string,
  withDefault,
} from './schema.js';

const address = () => withDefault(string(), '127.0.0.1');

/** A client's TLS settings (Canton's TlsClientConfig): the root CA to trust and an optional client certificate. */
const clientTlsSchema = object({
  'trust-collection-file': optional(string()),
  'client-cert': optional(object({ 'cert-chain-file': string(), 'private-key-file': string() })),
});

/** A client's view of a gRPC server (Canton's ClientConfig): https when `tls` is given. */
const clientSchema = object({ address: address(), port: port(), tls: optional(clientTlsSchema) });

/** A sequencer's public API as members connect to it (Canton's SequencerConnectionConfig.Grpc). */
const sequencerConnectionSchema = object({
  address: address(),
  port: port(),
  'transport-security': withDefault(boolean(), false),
  'custom-trust-certificates': optional(object({ 'pem-file': string() })),
});

const NAME = {
  regex: /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
  description: 'a console handle name (letters, digits, _)',
};

const remoteSchemas = {
  'remote-participants': optional(
    record(
      object({ 'admin-api': clientSchema, 'ledger-api': optional(clientSchema), token: optional(string()) }),
      NAME,
    ),
  ),
  'remote-sequencers': optional(
    record(object({ 'admin-api': clientSchema, 'public-api': sequencerConnectionSchema }), NAME),
  ),
  'remote-mediators': optional(record(object({ 'admin-api': clientSchema }), NAME)),
};

/** Server TLS as Canton writes it for its APIs (the keys Weft's servers have). */
const serverTlsSchema = object({
  'cert-chain-file': string(),
  'private-key-file': string(),
  'trust-collection-file': optional(string()),
});
const serverSchema = object({
  address: optional(string()),
  port: withDefault(port(), 0),
  tls: optional(serverTlsSchema),
});

/**
 * Canton's storage: `memory`, or `postgres` with the JDBC data source properties its examples set (in the data
 * source's own camelCase names) and the pool size.
 */
const storageSchema = object({
  type: oneOf(['memory', 'postgres'] as const),
  config: optional(
    object({
      dataSourceClass: optional(oneOf(['org.postgresql.ds.PGSimpleDataSource'] as const)),
      properties: optional(
        object({
          serverName: withDefault(string(), 'localhost'),
          portNumber: withDefault(port(), 5432),
          databaseName: string(),
          user: optional(string()),
          password: optional(string()),
        }),
      ),
    }),
  ),
  parameters: optional(object({ 'max-connections': optional(integer({ min: 1, max: 1000 })) })),
});

/** Canton's BFT orderer settings (peer endpoints between sequencers): Weft's BFT sequencers order through storage. */
const bftEndpointSchema = objectIgnoring({}, () => true);

const sequencerSectionSchema = object({
  type: withDefault(oneOf(['BFT', 'reference'] as const), 'BFT'),
  config: optional(
    object({
      storage: optional(storageSchema),
      'initial-network': optional(bftEndpointSchema),
      'consensus-new-epoch-topology-warn-timeout': optional(string()),
    }),
  ),
});

/** Active/passive replicas sharing one database (Weft's `replication`). */
const replication = optional(object({ enabled: withDefault(boolean(), false) }));

const localSchemas = {
  sequencers: optional(
    record(
      object({
        storage: storageSchema,
        'public-api': withDefault(serverSchema, {}),
        'admin-api': withDefault(serverSchema, {}),
        sequencer: withDefault(sequencerSectionSchema, {}),
      }),
      NAME,
    ),
  ),
  mediators: optional(
    record(object({ storage: storageSchema, 'admin-api': withDefault(serverSchema, {}), replication }), NAME),
  ),
  participants: optional(
    record(
      object({
        storage: storageSchema,
        'admin-api': withDefault(serverSchema, {}),
        'ledger-api': withDefault(serverSchema, {}),
        'http-ledger-api': optional(serverSchema.extend({ enabled: withDefault(boolean(), true) })),
        replication,
      }),
      NAME,
    ),
  ),
};

/** The whole file; top-level keys starting with `_` hold shared blocks for substitutions (`${_shared.storage}`). */
/**
 * Canton's process-wide parameters: the clock every node of the process runs on (`sim-clock`: static time, set
 * through the Ledger API's testing TimeService).
 */
const parametersSchema = optional(
  object({
    clock: optional(object({ type: withDefault(oneOf(['wall-clock', 'sim-clock'] as const), 'wall-clock') })),
  }),
);

const fileSchema = objectIgnoring(
  { canton: object({ ...localSchemas, ...remoteSchemas, parameters: parametersSchema }) },
  (k) => k.startsWith('_'),
);

type CantonFile = Infer<typeof fileSchema>['canton'];
type Client = Infer<typeof clientSchema>;
type Storage = Infer<typeof storageSchema>;
type Server = Infer<typeof serverSchema>;

/**
 * The sequencer endpoint of a mediator from Canton's layout until the process knows its first sequencer's public
 * URL (a port of 0 is bound at start); a loopback URL, so that the mediator schema accepts it.
 */
export const MEDIATOR_SEQUENCER_PENDING = 'http://127.0.0.1:1';

/** Whether a parsed config tree is in Canton's layout (a top-level `canton` section). */
export function isCantonLayout(tree: unknown): boolean {
  return typeof tree === 'object' && tree !== null && 'canton' in tree;
}

/** A node another process runs, as a client reaches it; files are paths, read by whoever connects. */
export interface RemoteEndpoint {
  readonly url: string;
  readonly trustCollectionFile?: string;
  readonly clientCert?: { readonly certChainFile: string; readonly privateKeyFile: string };
  readonly token?: string;
}

export interface RemoteNodeConfig {
  readonly name: string;
  readonly kind: 'participant' | 'sequencer' | 'mediator';
  readonly admin: RemoteEndpoint;
  readonly ledgerApi?: RemoteEndpoint;
  readonly publicApi?: RemoteEndpoint;
}

export interface CantonConfig {
  /** The nodes to run in this process, as a Weft network tree (`{ weft: { sequencers, mediators, participants } }`). */
  readonly weftTree: { readonly weft: Record<string, Record<string, unknown>> };
  readonly remote: readonly RemoteNodeConfig[];
  /** `parameters.clock.type = sim-clock`: the local nodes share one static clock (as the sandbox's --static-time). */
  readonly staticTime: boolean;
}

const client = (c: Client, token?: string): RemoteEndpoint => ({
  url: `${c.tls ? 'https' : 'http'}://${c.address}:${c.port}`,
  ...(c.tls?.trustCollectionFile ? { trustCollectionFile: c.tls.trustCollectionFile } : {}),
  ...(c.tls?.clientCert ? { clientCert: c.tls.clientCert } : {}),
  ...(token ? { token } : {}),
});

/**
 * Storage: `memory` becomes a SQLite file in `dataDir` (a temporary directory the caller removes, as memory
 * storage ends with the process); `postgres` a URL of the node's database (Canton gives each node its own; the
 * replicas of one node share it).
 */
function storage(s: Storage, node: string, dataDir: string): Record<string, unknown> {
  if (s.type === 'memory') return { type: 'sqlite', file: joinPath(dataDir, `${node}.db`) };
  const p = s.config?.properties;
  if (!p)
    throw invalid(
      `storage of ${node}: postgres needs config.properties (serverName, portNumber, databaseName, user, password)`,
    );
  const auth = p.user
    ? `${encodeURIComponent(p.user)}${p.password ? `:${encodeURIComponent(p.password)}` : ''}@`
    : '';
  return {
    type: 'postgres',
    url: `postgres://${auth}${p.serverName}:${p.portNumber}/${p.databaseName}`,
    ...(s.parameters?.maxConnections ? { 'pool-size': s.parameters.maxConnections } : {}),
  };
}

/** Nodes of one process log to a file each in `dataDir`, so that the console's output stays its own. */
const logTo = (node: string, dataDir: string) => ({ logging: { file: joinPath(dataDir, `${node}.log`) } });

function invalid(message: string): WeftError {
  return new WeftError(ConfigErrors.CONFIG_INVALID, message);
}

const server = (s: { address?: string | undefined; port: number; tls?: unknown }) => ({
  ...(s.address ? { address: s.address === '0.0.0.0' ? '127.0.0.1' : s.address } : {}),
  port: s.port,
  ...(s.tls ? { tls: s.tls } : {}),
});

/**
 * Maps a Canton layout tree (already read and substituted) onto Weft's: `dataDir` holds the SQLite files of
 * `memory` storage. Sequencers of one file order together as one synchronizer's sequencers: reference sequencers
 * share the `config.storage` database (Weft's HA sequencer nodes on one schema), BFT ones (the default) share an
 * ordering store (a PostgreSQL schema, or one SQLite file when their storage is memory).
 */
export function fromCantonLayout(tree: unknown, source: string, dataDir: string): CantonConfig {
  const parsed = fileSchema.parse(tree);
  if (!parsed.ok) {
    throw new WeftError(
      ConfigErrors.CONFIG_INVALID,
      `${source}: not supported in Canton's layout${parsed.problems.length > 1 ? ` (${parsed.problems.length} problems)` : ''}: ${formatProblems(parsed.problems)}`,
      { file: source, problems: parsed.problems.length },
    );
  }
  const c: CantonFile = parsed.value.canton;
  /** What every node has: its storage, a log file, its Admin API, and whether it is a replica. */
  const common = (
    name: string,
    n: { storage: Storage; adminApi: Server; replication?: { enabled: boolean } | undefined },
  ) => ({
    storage: storage(n.storage, name, dataDir),
    monitoring: logTo(name, dataDir),
    'admin-api': server(n.adminApi),
    ...(n.replication ? { replication: n.replication } : {}),
  });
  const section = <N>(nodes: Record<string, N> | undefined, map: (name: string, node: N) => object) => {
    const entries = Object.entries(nodes ?? {});
    return entries.length === 0
      ? undefined
      : Object.fromEntries(entries.map(([name, n]) => [name, map(name, n)]));
  };
  const [firstSequencer] = Object.values(c.sequencers ?? {});
  // BFT sequencers of one file order together: through one SQLite file when their storage is memory, else through
  // a schema of the first one's database.
  const bftOrdering = (first: Storage) =>
    first.type === 'memory'
      ? { type: 'sqlite', file: joinPath(dataDir, 'bft-ordering.db') }
      : { ...storage(first, 'ordering', dataDir), schema: 'bft_ordering' };
  const mapped = {
    sequencers: section(c.sequencers, (name, s) => {
      const driver = s.sequencer.config?.storage;
      if (s.sequencer.type === 'reference' && !driver)
        throw invalid(
          `${source}: canton.sequencers.${name}.sequencer.config.storage is needed by a reference sequencer`,
        );
      return {
        ...common(name, s),
        'public-api': server(s.publicApi),
        sequencer: {
          'ordering-storage': driver
            ? storage(driver, 'driver', dataDir)
            : bftOrdering(firstSequencer!.storage),
        },
      };
    }),
    mediators: section(c.mediators, (name, m) => ({
      ...common(name, m),
      // Canton connects mediators at bootstrap; a Weft mediator connects itself at start, to the sequencer the
      // process starts first (MEDIATOR_SEQUENCER_PENDING marks it for the caller to fill in).
      'sequencer-connection': { endpoints: [MEDIATOR_SEQUENCER_PENDING] },
    })),
    participants: section(c.participants, (name, p) => ({
      ...common(name, p),
      'ledger-api': server(p.ledgerApi),
      ...(p.httpLedgerApi?.enabled ? { 'json-api': server(p.httpLedgerApi) } : {}),
    })),
  };
  const weft = Object.fromEntries(Object.entries(mapped).filter(([, v]) => v !== undefined)) as Record<
    string,
    Record<string, unknown>
  >;
  const remote: RemoteNodeConfig[] = [
    ...Object.entries(c.remoteParticipants ?? {}).map(([name, p]) => ({
      name,
      kind: 'participant' as const,
      admin: client(p.adminApi),
      ...(p.ledgerApi ? { ledgerApi: client(p.ledgerApi, p.token) } : {}),
    })),
    ...Object.entries(c.remoteSequencers ?? {}).map(([name, s]) => {
      const pub = s.publicApi;
      const secure = pub.transportSecurity || pub.customTrustCertificates !== undefined;
      return {
        name,
        kind: 'sequencer' as const,
        admin: client(s.adminApi),
        publicApi: {
          url: `${secure ? 'https' : 'http'}://${pub.address}:${pub.port}`,
          ...(pub.customTrustCertificates
            ? { trustCollectionFile: pub.customTrustCertificates.pemFile }
            : {}),
        },
      };
    }),
    ...Object.entries(c.remoteMediators ?? {}).map(([name, m]) => ({
      name,
      kind: 'mediator' as const,
      admin: client(m.adminApi),
    })),
  ];
  return { weftTree: { weft }, remote, staticTime: c.parameters?.clock?.type === 'sim-clock' };
}
