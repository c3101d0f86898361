import type { Counter, Gauge, Histogram } from 'prom-client';
import type { NodeMetrics } from '../observability/index.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The mediator's metrics (Canton's `daml_mediator_*`, here `weft_mediator_*`). */
export class MediatorMetrics {
  readonly outstandingRequests: Gauge;
  readonly requests: Counter;
  readonly approvedRequests: Counter;
  readonly verdicts: Counter<'verdict'>;
  readonly responses: Counter<'result'>;
  readonly responseLatency: Histogram;
  readonly decisionLatency: Histogram;

  constructor(metrics: NodeMetrics) {
    this.outstandingRequests = metrics.gauge(
      'mediator_outstanding_requests',
      'Confirmation requests registered and not yet decided.',
    );
    this.requests = metrics.counter('mediator_requests_total', 'Confirmation requests received.');
    this.approvedRequests = metrics.counter(
      'mediator_approved_requests_total',
      'Confirmation requests approved.',
    );
    this.verdicts = metrics.counter('mediator_verdicts_total', 'Verdicts decided, by kind.', ['verdict']);
    this.responses = metrics.counter(
      'mediator_responses_total',
      'Confirmation responses received, by outcome.',
      ['result'],
    );
    this.responseLatency = metrics.histogram(
      'mediator_response_latency_seconds',
      'Sequencer time from a request to each response that counted.',
      [],
      LATENCY_BUCKETS,
    );
    this.decisionLatency = metrics.histogram(
      'mediator_decision_latency_seconds',
      'Sequencer time from a request to its verdict (approval, rejection or timeout).',
      [],
      LATENCY_BUCKETS,
    );
  }
}
