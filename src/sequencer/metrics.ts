import type { NodeMetrics } from '../observability/index.js';

export interface SequencerMetrics {
  readonly sends: { inc(labels: { result: string }): void };
  readonly requestsPerSend: (requests: number) => void;
  readonly delivered: { inc(by?: number): void };
  readonly subscriptions: { inc(): void; dec(): void };
  readonly batch: (size: number, seconds: number) => void;
  readonly writerLag: (seconds: number) => void;
  /** A reader read a page of a member's events from the events buffer or the database. */
  readonly pageRead: (source: 'buffer' | 'database') => void;
}

/** The sequencer node's metrics (Canton's `daml_sequencer_*`, here `weft_sequencer_*`). */
export function sequencerMetrics(m: NodeMetrics): SequencerMetrics {
  const batchSize = m.histogram(
    'sequencer_write_batch_size',
    'Requests per sequencer write transaction',
    [],
    [1, 2, 5, 10, 20, 50, 100, 200],
  );
  const writeSeconds = m.histogram('sequencer_write_seconds', 'Duration of one sequencer write transaction');
  const sequenced = m.counter(
    'sequencer_events_sequenced_total',
    'Requests this node ordered and wrote (Canton: daml_sequencer_block_events)',
  );
  const lag = m.histogram(
    'sequencer_writer_lag_seconds',
    'Seconds from a request reaching the sequencer writer to its commit (queue wait and write): how far ordering runs behind submissions',
  );
  const perSend = m.histogram(
    'sequencer_send_requests',
    'Submission requests per SendAsync call: how many a member batched while its previous call was in flight',
    [],
    [1, 2, 5, 10, 20, 50, 100, 200],
  );
  const pages = m.counter(
    'sequencer_event_pages_read_total',
    "Pages of a member's events read for its stream, by source: the events buffer, or the database (a reader behind the buffer)",
    ['source'],
  );
  return {
    requestsPerSend: (requests) => perSend.observe(requests),
    pageRead: (source) => pages.inc({ source }),
    writerLag: (seconds) => lag.observe(seconds),
    sends: m.counter(
      'sequencer_sends_total',
      'Submission requests by result (a batch refused as a whole counts once, with its code)',
      ['result'],
    ),
    delivered: m.counter('sequencer_events_delivered_total', 'Events streamed to members of this node'),
    subscriptions: m.gauge('sequencer_subscriptions', 'Open subscriptions on this node'),
    batch: (size, seconds) => {
      batchSize.observe(size);
      sequenced.inc(size);
      writeSeconds.observe(seconds);
    },
  };
}
