import type { AdminApiServer, NodeEndpoint } from '../admin-api/index.js';
import { endpointUrl } from '../grpc/index.js';
import type { NodeRuntime } from '../node/index.js';

/** The endpoints of a node without a public API (mediator, participant): its Admin API and monitoring. */
export function memberEndpoints(runtime: NodeRuntime, admin: AdminApiServer | undefined): NodeEndpoint[] {
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
