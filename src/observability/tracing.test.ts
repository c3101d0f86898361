import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DeterministicRandom, type RandomSource } from '../crypto/index.js';
import { parseTraceparent } from './traceparent.js';
import { currentSpan, currentTraceparent, Tracer, withSpan } from './tracing.js';

/** Ids 01.., 02.., ... so tests can predict them. */
function counterIds(): RandomSource {
  let next = 1;
  return { bytes: (n) => new Uint8Array(n).fill(next++) };
}

describe('withSpan', () => {
  it('starts a new sampled trace when there is no parent', () => {
    const tracer = new Tracer(counterIds());
    tracer.withSpan('root', (span) => {
      expect(span).toEqual({ name: 'root', traceId: '01'.repeat(16), spanId: '02'.repeat(8), traceFlags: 1 });
      expect(currentSpan()).toBe(span);
      expect(currentTraceparent()).toBe(`00-${'01'.repeat(16)}-${'02'.repeat(8)}-01`);
    });
    expect(currentSpan()).toBeUndefined();
    expect(currentTraceparent()).toBeUndefined();
  });

  it('nests: children share the trace id, get new span ids and record their parent', () => {
    withSpan('outer', (outer) => {
      withSpan('inner', (inner) => {
        expect(inner.traceId).toBe(outer.traceId);
        expect(inner.spanId).not.toBe(outer.spanId);
        expect(inner.parentSpanId).toBe(outer.spanId);
        withSpan('innermost', (innermost) => {
          expect(innermost.traceId).toBe(outer.traceId);
          expect(innermost.parentSpanId).toBe(inner.spanId);
        });
        expect(currentSpan()).toBe(inner);
      });
      expect(currentSpan()).toBe(outer);
    });
  });

  it('continues a trace from an incoming traceparent, keeping its flags', () => {
    const incoming = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-00`;
    withSpan(
      'handler',
      (span) => {
        expect(span.traceId).toBe('ab'.repeat(16));
        expect(span.parentSpanId).toBe('cd'.repeat(8));
        expect(span.traceFlags).toBe(0);
        expect(currentTraceparent()).toBe(`00-${'ab'.repeat(16)}-${span.spanId}-00`);
      },
      { parent: incoming },
    );
  });

  it('prefers an explicit parent context over the current span', () => {
    const parent = { traceId: 'ef'.repeat(16), spanId: '12'.repeat(8), traceFlags: 1 };
    withSpan('outer', () => {
      withSpan('other', (span) => expect(span.traceId).toBe(parent.traceId), { parent });
    });
  });

  it('starts a new trace, ignoring the current span, when the given traceparent is malformed', () => {
    withSpan('outer', (outer) => {
      withSpan(
        'handler',
        (span) => {
          expect(span.traceId).not.toBe(outer.traceId);
          expect(span.parentSpanId).toBeUndefined();
        },
        { parent: '00-garbage' },
      );
    });
  });

  it('rejects an invalid parent context', () => {
    expect(() =>
      withSpan('x', () => 0, { parent: { traceId: 'xyz', spanId: '12'.repeat(8), traceFlags: 1 } }),
    ).toThrow(/trace id/);
  });

  it('draws reproducible ids from a seeded source', () => {
    const ids = (seed: string) => {
      const tracer = new Tracer(new DeterministicRandom(seed));
      return tracer.withSpan('a', (a) => tracer.withSpan('b', (b) => [a.traceId, a.spanId, b.spanId]));
    };
    expect(ids('seed-1')).toEqual(ids('seed-1'));
    expect(ids('seed-1')).not.toEqual(ids('seed-2'));
  });

  it('never produces an all-zero id, even from an all-zero source', () => {
    const tracer = new Tracer({ bytes: (n) => new Uint8Array(n) });
    tracer.withSpan('zero', (span) => {
      expect(parseTraceparent(currentTraceparent()!).ok).toBe(true);
      expect(span.traceId).toBe(`${'0'.repeat(30)}01`);
    });
  });

  it('returns what fn returns, including promises', async () => {
    expect(withSpan('sync', () => 42)).toBe(42);
    await expect(withSpan('async', async () => 'done')).resolves.toBe('done');
  });

  it('keeps the context across await, timers, promise callbacks and concurrent chains', async () => {
    const seen: Array<[string, string | undefined]> = [];
    const record = (label: string) => seen.push([label, currentSpan()?.name]);
    const work = (name: string, delay: number) =>
      withSpan(name, async () => {
        await sleep(delay);
        record(`${name}:after-await`);
        await new Promise<void>((resolve) =>
          setTimeout(() => {
            record(`${name}:timer`);
            resolve();
          }, delay),
        );
        await Promise.resolve().then(() => record(`${name}:then`));
        setImmediate(() => record(`${name}:immediate`));
        await sleep(5);
      });
    await Promise.all([work('a', 10), work('b', 1)]);
    expect(seen.length).toBe(8);
    for (const [label, name] of seen) expect(name).toBe(label.split(':')[0]);
    expect(currentSpan()).toBeUndefined();
  });
});
