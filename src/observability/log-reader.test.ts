import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { slowestTraces, traceTimeline } from './log-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const line = (node: string, time: string, trace: string | undefined, msg: string) =>
  JSON.stringify({
    level: 'info',
    time,
    node,
    msg,
    ...(trace ? { trace_id: trace, span_name: `${node}.phase` } : {}),
  });

describe('reading traces from log files', () => {
  const p1 = join(dir, 'p1.log');
  const seq = join(dir, 'seq.log');
  writeFileSync(
    p1,
    [
      line('p1', '2026-01-01T00:00:00.000Z', A, 'submitted'),
      'not json "trace_id"',
      line('p1', '2026-01-01T00:00:00.500Z', undefined, 'idle'),
      line('p1', '2026-01-01T00:00:02.000Z', A, 'completed'),
      line('p1', '2026-01-01T00:00:01.000Z', B, 'other'),
    ].join('\n'),
  );
  writeFileSync(seq, line('seq', '2026-01-01T00:00:00.100Z', A, 'sequenced'));

  it('merges the lines of one trace across files in time order', async () => {
    const { lines, cut } = await traceTimeline(A, [p1, seq]);
    expect(cut).toBe(false);
    expect(lines.map((l) => [l.node, l.msg, l.phase])).toEqual([
      ['p1', 'submitted', 'p1.phase'],
      ['seq', 'sequenced', 'seq.phase'],
      ['p1', 'completed', 'p1.phase'],
    ]);
  });

  it('lists the slowest traces first', async () => {
    const { traces } = await slowestTraces([p1, seq], 10);
    expect(traces.map((t) => [t.traceId, t.durationMs, t.lines, t.nodes])).toEqual([
      [A, 2000, 3, ['p1', 'seq']],
      [B, 0, 1, ['p1']],
    ]);
    expect((await slowestTraces([p1, seq], 1)).traces).toHaveLength(1);
  });

  it('reports a file it cannot read', async () => {
    const e = await traceTimeline(A, [join(dir, 'missing.log')]).catch((x: unknown) => x);
    expect(isWeftError(e) && e.code).toBe('LOG_READ_FAILED');
  });
});
