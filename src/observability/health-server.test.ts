import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { type HealthServer, type Readiness, startHealthServer } from './health-server.js';
import { NodeMetrics } from './metrics.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(readiness: () => Promise<Readiness>, readinessTimeoutMs?: number) {
  const metrics = new NodeMetrics({ node: 'participant1', defaultMetrics: false });
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    readiness,
    ...(readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs }),
  });
  servers.push(server);
  const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
  return { metrics, server, url };
}

describe('startHealthServer', () => {
  it('binds port 0 to a real port and serves /health', async () => {
    const { server, url } = await start(async () => ({ ready: true, checks: {} }));
    expect(server.port).toBeGreaterThan(0);
    const res = await fetch(url('/health'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('serves /metrics in Prometheus text format with the current values', async () => {
    const { metrics, url } = await start(async () => ({ ready: true, checks: {} }));
    const pings = metrics.counter('pings_total', 'Pings answered');
    pings.inc();
    pings.inc();
    const res = await fetch(url('/metrics?fresh=1'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE weft_pings_total counter');
    expect(text).toContain('weft_pings_total{node="participant1"} 2');
  });

  it('flips /ready between 200 and 503 with the checks', async () => {
    let storage = 'ok';
    const { url } = await start(async () => ({ ready: storage === 'ok', checks: { storage } }));
    let res = await fetch(url('/ready'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, checks: { storage: 'ok' } });
    storage = 'connection refused';
    res = await fetch(url('/ready'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { storage: 'connection refused' } });
  });

  it('answers 503 when the readiness check throws or hangs', async () => {
    const failing = await start(async () => {
      throw new Error('db gone');
    });
    let res = await fetch(failing.url('/ready'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { readiness: 'check failed: db gone' } });
    const hanging = await start(() => new Promise<Readiness>(() => {}), 50);
    res = await fetch(hanging.url('/ready'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { readiness: 'no answer within 50 ms' } });
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const { url } = await start(async () => ({ ready: true, checks: {} }));
    expect((await fetch(url('/'))).status).toBe(404);
    expect((await fetch(url('/health/extra'))).status).toBe(404);
    const post = await fetch(url('/health'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('fails with HEALTH_SERVER_BIND_FAILED when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const error = await startHealthServer({
      host: '127.0.0.1',
      port,
      registry: new NodeMetrics({ defaultMetrics: false }).registry,
      readiness: async () => ({ ready: true, checks: {} }),
    }).catch((e: unknown) => e);
    await new Promise((resolve) => blocker.close(resolve));
    expect(isWeftError(error) && error.code).toBe('HEALTH_SERVER_BIND_FAILED');
    expect(String((error as Error).message)).toContain(`127.0.0.1:${port}`);
  });

  it('closes, even with a keep-alive connection open', async () => {
    const { server, url } = await start(async () => ({ ready: true, checks: {} }));
    await fetch(url('/health'));
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await expect(fetch(url('/health'))).rejects.toThrow();
  });
});
