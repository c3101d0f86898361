import * as grpc from '@grpc/grpc-js';
import { apiServerSchema, boolean, type Infer, integer, withDefault } from '../config/index.js';
import { nodeStatusServiceDefinition } from '../generated/weft/admin/v1/node_status_service.grpc-server.js';
import { participantAdminServiceDefinition } from '../generated/weft/admin/v1/participant_admin_service.grpc-server.js';
import { synchronizerBootstrapServiceDefinition } from '../generated/weft/admin/v1/synchronizer_bootstrap_service.grpc-server.js';
import { topologyServiceDefinition } from '../generated/weft/admin/v1/topology_service.grpc-server.js';
import {
  bindServer,
  endpointUrl,
  readServerTls,
  requireTransportSecurity,
  type ServerTls,
  serverCredentials,
} from '../grpc/index.js';
import { ApiMetrics, type Logger } from '../observability/index.js';
import { AdminErrors } from './errors.js';
import type { AdminNode } from './node.js';
import { adminServices } from './services.js';

/** DARs are uploaded through the Admin API: it allows more than gRPC's default 4 MB, and bounds it. */
export const ADMIN_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * A node's `admin-api` config section: an API server plus `insecure`, which allows plaintext on a non-loopback
 * address (behind a TLS-terminating proxy), and `max-message-bytes`, the largest request or response (a DAR upload
 * is one message; 1 KiB..1 GiB, the upper bound keeping a single request's buffer within a node's memory).
 * `tls.trust-collection-file` makes clients present a certificate issued by one of its CAs.
 */
export const adminApiSchema = apiServerSchema.extend({
  insecure: withDefault(boolean(), false),
  'max-message-bytes': withDefault(integer({ min: 1024, max: 1024 * 1024 * 1024 }), ADMIN_MAX_MESSAGE_BYTES),
});
export type AdminApiConfig = Infer<typeof adminApiSchema>;

export interface AdminApiOptions {
  /** Bind address; default 127.0.0.1. */
  readonly address?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: ServerTls;
  /** Allow plaintext on a non-loopback address. */
  readonly insecure?: boolean;
  /** The largest request and response, in bytes; default {@link ADMIN_MAX_MESSAGE_BYTES}. */
  readonly maxMessageBytes?: number;
}

/** The options of an `admin-api` config section, reading the TLS files it names. */
export async function adminApiOptions(config: AdminApiConfig): Promise<AdminApiOptions> {
  return {
    address: config.address,
    port: config.port,
    insecure: config.insecure,
    maxMessageBytes: config.maxMessageBytes,
    ...(config.tls ? { tls: await readServerTls(config.tls, 'admin-api') } : {}),
  };
}

export interface AdminApiServer {
  readonly port: number;
  /** The URL a client on this host uses. */
  readonly url: string;
  /** Stops accepting calls and waits for the running ones. */
  close(): Promise<void>;
}

/** Serves the Admin API (`weft.admin.v1`) of `node`; every call is logged at info level with its outcome. */
export async function startAdminApi(
  node: AdminNode,
  options: AdminApiOptions,
  logger: Logger,
): Promise<AdminApiServer> {
  const address = options.address ?? '127.0.0.1';
  requireTransportSecurity(
    address,
    options.tls,
    options.insecure ?? false,
    AdminErrors.ADMIN_INSECURE_CONNECTION,
    'admin API',
    'configure admin-api.tls, bind to a loopback address, or set admin-api.insecure behind a TLS-terminating proxy',
  );
  const runtime = node.runtime;
  const services = adminServices(node, {
    logger: logger.child({ component: 'admin-api' }),
    level: 'info',
    service: 'admin API',
    ...(runtime.audit ? { audit: { log: runtime.audit, api: 'admin-api' as const } } : {}),
    metrics: ApiMetrics.grpc(runtime.metrics, 'admin-api'),
  });
  const maxMessageBytes = options.maxMessageBytes ?? ADMIN_MAX_MESSAGE_BYTES;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  });
  server.addService(nodeStatusServiceDefinition, services.status);
  server.addService(topologyServiceDefinition, services.topology);
  server.addService(synchronizerBootstrapServiceDefinition, services.bootstrap);
  server.addService(participantAdminServiceDefinition, services.participant);
  const port = await bindServer(server, address, options.port, serverCredentials(options.tls), 'admin API');
  return {
    port,
    url: endpointUrl(address, port, options.tls !== undefined),
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
