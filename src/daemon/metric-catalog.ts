import { MediatorMetrics } from '../mediator/index.js';
import { countProcessWork } from '../node/index.js';
import {
  ApiMetrics,
  type MetricInfo,
  metricInfos,
  NodeMetrics,
  nodeHealthMetrics,
} from '../observability/index.js';
import { ParticipantMetrics } from '../participant/index.js';
import { sequencerMetrics } from '../sequencer/index.js';

/** The node kinds whose daemons run, and so export metrics. */
export const MONITORED_KINDS = ['sequencer', 'mediator', 'participant'] as const;
export type MonitoredKind = (typeof MONITORED_KINDS)[number];

/**
 * The Weft metrics a daemon of each kind exports, registered by the same code the daemons run (the one source of
 * docs/monitoring.md's reference). Besides these, every node exports prom-client's `process_*` and `nodejs_*`.
 */
export function metricCatalog(): Readonly<Record<MonitoredKind, readonly MetricInfo[]>> {
  const node = (register: (m: NodeMetrics) => void): MetricInfo[] => {
    const m = new NodeMetrics({ defaultMetrics: false });
    nodeHealthMetrics(m, { ready: async () => true, storage: async () => true, pool: () => undefined });
    ApiMetrics.grpc(m, 'admin-api');
    countProcessWork(m);
    register(m);
    return metricInfos(m);
  };
  return {
    sequencer: node((m) => {
      sequencerMetrics(m);
      ApiMetrics.grpc(m, 'sequencer-public-api');
    }),
    mediator: node((m) => new MediatorMetrics(m)),
    participant: node((m) => {
      new ParticipantMetrics(m);
      ApiMetrics.grpc(m, 'ledger-api');
      ApiMetrics.http(m, 'json-api');
    }),
  };
}
