import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { NodeMetrics } from './metrics.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isWeftError(e) ? e.code : 'not a WeftError';
  }
  return undefined;
}

describe('NodeMetrics', () => {
  it('prefixes names, labels every series with the node and includes process metrics', async () => {
    const metrics = new NodeMetrics({ node: 'sequencer1' });
    metrics.counter('sequencer_events_total', 'Events sequenced', ['kind']).inc({ kind: 'deliver' }, 3);
    metrics.gauge('sequencer_subscriptions', 'Open subscriptions').set(2);
    metrics.histogram('sequencer_write_seconds', 'Batch write time', [], [0.01, 0.1]).observe(0.05);
    const text = await metrics.registry.metrics();
    expect(text).toContain('weft_sequencer_events_total{kind="deliver",node="sequencer1"} 3');
    expect(text).toContain('weft_sequencer_subscriptions{node="sequencer1"} 2');
    expect(text).toContain('weft_sequencer_write_seconds_bucket{le="0.1",node="sequencer1"} 1');
    expect(text).toContain('process_cpu_user_seconds_total{node="sequencer1"}');
  });

  it('keeps nodes in one process apart', async () => {
    const a = new NodeMetrics({ node: 'a', defaultMetrics: false });
    const b = new NodeMetrics({ node: 'b', defaultMetrics: false });
    a.counter('requests_total', 'Requests').inc();
    b.counter('requests_total', 'Requests').inc(5);
    expect(await a.registry.metrics()).toContain('weft_requests_total{node="a"} 1');
    expect(await b.registry.metrics()).toContain('weft_requests_total{node="b"} 5');
    expect(await a.registry.metrics()).not.toContain('process_cpu');
  });

  it('returns the existing metric when asked again with the same type and labels', () => {
    const metrics = new NodeMetrics({ defaultMetrics: false });
    const first = metrics.counter('sends_total', 'Sends', ['status', 'peer']);
    expect(metrics.counter('sends_total', 'Sends', ['peer', 'status'])).toBe(first);
    expect(code(() => metrics.counter('sends_total', 'Sends', ['status']))).toBe('ALREADY_EXISTS');
    expect(code(() => metrics.gauge('sends_total', 'Sends', ['status', 'peer']))).toBe('ALREADY_EXISTS');
  });

  it('enforces naming conventions', () => {
    const metrics = new NodeMetrics({ defaultMetrics: false });
    expect(code(() => metrics.counter('sends', 'no _total'))).toBe('INVALID_ARGUMENT');
    expect(code(() => metrics.gauge('weft_queue', 'double prefix'))).toBe('INVALID_ARGUMENT');
    expect(code(() => metrics.gauge('QueueSize', 'camel case'))).toBe('INVALID_ARGUMENT');
    expect(code(() => metrics.gauge('queue', 'bad label', ['Peer']))).toBe('INVALID_ARGUMENT');
    expect(code(() => metrics.gauge('queue', 'reserved label', ['node']))).toBe('INVALID_ARGUMENT');
    expect(code(() => metrics.gauge('queue_size', 'fine', ['peer_id']))).toBeUndefined();
  });
});
