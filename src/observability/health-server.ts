import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { WeftError } from '../errors/index.js';
import { type Clock, systemClock } from '../time/index.js';
import { ObservabilityErrors } from './errors.js';

export interface Readiness {
  readonly ready: boolean;
  /** Per-dependency detail shown to the operator, e.g. `{ storage: 'ok', sequencer: 'disconnected' }`. */
  readonly checks: Readonly<Record<string, unknown>>;
}

export interface HealthServerOptions {
  readonly host: string;
  /** 0 picks a free port; {@link HealthServer.port} tells which. */
  readonly port: number;
  readonly registry: Registry;
  readonly readiness: () => Promise<Readiness>;
  /** How long `/ready` waits for `readiness()` before answering 503; default 5 s. */
  readonly readinessTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface HealthServer {
  readonly host: string;
  readonly port: number;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A node's HTTP monitoring endpoint: `GET /metrics` (Prometheus text format), `GET /health` (liveness: the process
 * answers), `GET /ready` (readiness: 200 or 503 with the checks). Anything else is 404.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { host, registry, readiness, readinessTimeoutMs = 5_000, clock = systemClock } = options;
  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => send(res, 500, JSON_TYPE, JSON.stringify({ error: String(e) })));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' && path !== '/health' && path !== '/ready') {
      return send(res, 404, JSON_TYPE, JSON.stringify({ error: `no such endpoint ${path}` }));
    }
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return send(res, 405, JSON_TYPE, JSON.stringify({ error: `${req.method} not allowed` }));
    }
    if (path === '/metrics') return send(res, 200, registry.contentType, await registry.metrics());
    if (path === '/health') return send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }));
    const result = await checkReadiness(readiness, readinessTimeoutMs, clock);
    send(res, result.ready ? 200 : 503, JSON_TYPE, JSON.stringify(result));
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => {
      const message = `health server cannot listen on ${host}:${options.port}: ${e.message}`;
      reject(
        new WeftError(
          ObservabilityErrors.HEALTH_SERVER_BIND_FAILED,
          message,
          { host, port: options.port },
          { cause: e },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A readiness probe that throws or hangs reports not-ready instead of failing the request. */
async function checkReadiness(
  readiness: () => Promise<Readiness>,
  timeoutMs: number,
  clock: Clock,
): Promise<Readiness> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    cancel = clock.schedule(timeoutMs, () =>
      resolve({ ready: false, checks: { readiness: `no answer within ${timeoutMs} ms` } }),
    );
  });
  try {
    return await Promise.race([readiness(), timeout]);
  } catch (e) {
    return {
      ready: false,
      checks: { readiness: `check failed: ${e instanceof Error ? e.message : String(e)}` },
    };
  } finally {
    cancel?.();
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}
