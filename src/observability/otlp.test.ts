import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpExport } from './otlp.js';
import { withSpan } from './tracing.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: number; message?: string };
}

/** An OTLP/HTTP receiver on loopback: collects the spans of the JSON export requests it gets. */
const received: { service: string; span: OtlpSpan }[] = [];
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      expect(req.url).toBe('/v1/traces');
      expect(req.headers['content-type']).toMatch(/application\/json/);
      const request = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue: string } }[] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const rs of request.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const span of ss.spans) received.push({ service, span });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('OTLP export', () => {
  it("exports Weft's spans with their own ids, parents, times and failures, and stops on shutdown", async () => {
    const otlp = startOtlpExport({ endpoint: url, serviceName: 'participant1', scheduledDelayMs: 60_000 });
    const ids = await withSpan('submit', async (outer) => {
      const inner = await withSpan('validate', async (s) => {
        await new Promise((r) => setTimeout(r, 5));
        return s;
      });
      await withSpan('fail', async () => {
        throw new Error('boom');
      }).catch(() => {});
      return { outer, inner };
    });
    await otlp.flush();
    const byName = new Map(received.map((r) => [r.span.name, r]));
    expect(byName.get('submit')).toMatchObject({
      service: 'participant1',
      span: { traceId: ids.outer.traceId, spanId: ids.outer.spanId },
    });
    expect(byName.get('submit')!.span.parentSpanId ?? '').toBe('');
    const validate = byName.get('validate')!.span;
    expect(validate).toMatchObject({
      traceId: ids.outer.traceId,
      spanId: ids.inner.spanId,
      parentSpanId: ids.outer.spanId,
    });
    expect(BigInt(validate.endTimeUnixNano) - BigInt(validate.startTimeUnixNano)).toBeGreaterThanOrEqual(
      4_000_000n,
    );
    expect(byName.get('fail')!.span.status).toMatchObject({ code: 2, message: 'Error: boom' });

    await otlp.shutdown();
    const before = received.length;
    withSpan('after shutdown', () => {});
    await startOtlpExport({ endpoint: url, serviceName: 'x' }).shutdown();
    expect(received.length).toBe(before);
  });
});
