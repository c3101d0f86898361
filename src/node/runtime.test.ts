import { mkdtempSync, rmSync as removeFile, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { createLogger } from '../observability/index.js';
import { NodeRuntime } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function quietLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ destination, node: 'participant1' }), lines };
}

const config = (file: string) =>
  ({
    name: 'participant1',
    kind: 'participant',
    storage: { type: 'sqlite', file },
    monitoring: { logging: { level: 'info' }, httpServer: { address: '127.0.0.1', port: 0 } },
  }) as const;

describe('node runtime', () => {
  it('creates its identity once and keeps it across restarts', async () => {
    const file = join(dir, 'p1.sqlite');
    const first = await NodeRuntime.start({ config: config(file), logger: quietLogger().logger });
    const id = first.identity.member!.toString();
    expect(id).toMatch(/^PAR::participant1::1220[0-9a-f]{64}$/);
    expect(first.identity.namespace.toString()).toBe(first.identity.namespaceKey.publicKey.fingerprint.value);
    expect(
      first.identity.signingKey.publicKey.fingerprint.equals(
        first.identity.namespaceKey.publicKey.fingerprint,
      ),
    ).toBe(false);
    await first.stop();
    const second = await NodeRuntime.start({ config: config(file), logger: quietLogger().logger });
    expect(second.identity.member!.toString()).toBe(id);
    await second.stop();
  });

  it('serves health, readiness with component checks, and metrics', async () => {
    const { logger, lines } = quietLogger();
    const node = await NodeRuntime.start({ config: config(join(dir, 'p2.sqlite')), logger });
    const base = `http://127.0.0.1:${node.monitoringPort}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ ready: true, checks: { storage: 'ok' } });
    let connected = false;
    node.addReadinessCheck('sequencer', async () => (connected ? undefined : 'not connected'));
    const notReady = await fetch(`${base}/ready`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { checks: Record<string, string> }).checks.sequencer).toBe(
      'not connected',
    );
    connected = true;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    node.metrics.counter('test_events_total', 'events seen in the test').inc(3);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/weft_test_events_total\{node="participant1"\} 3/);
    // The process's commits and signatures, counted when scraped.
    const counted = async (name: string) =>
      Number(
        new RegExp(`^weft_${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(
          await (await fetch(`${base}/metrics`)).text(),
        )![1],
      );
    const [commits, signed] = [await counted('storage_commits_total'), await counted('crypto_signed_total')];
    await node.storage.transaction((tx) => tx.execute('CREATE TABLE counted (x INTEGER)'));
    node.identity.signingKey.privateKey.sign(new Uint8Array(32));
    expect(await counted('storage_commits_total')).toBe(commits + 1);
    expect(await counted('crypto_signed_total')).toBe(signed + 1);
    const stopped: string[] = [];
    node.onStop(async () => {
      stopped.push('a');
    });
    node.onStop(async () => {
      stopped.push('b');
    });
    await node.stop();
    expect(stopped).toEqual(['b', 'a']);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual([
      'participant node participant1 started',
      'participant node participant1 stopped',
    ]);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('keeps its keys encrypted under the configured KEK, and refuses to start without the right one', async () => {
    const file = join(dir, 'p3.sqlite');
    const encrypted = {
      ...config(file),
      crypto: { privateKeyStore: { encryption: { type: 'kek-env', variable: 'WEFT_KEK' } } },
    } as const;
    const kek = (byte: number) => ({ WEFT_KEK: Buffer.alloc(32, byte).toString('base64') });
    // Started plain first: the restart with a KEK encrypts the existing keys in place.
    const plain = await NodeRuntime.start({ config: config(file), logger: quietLogger().logger });
    const id = plain.identity.member!.toString();
    await plain.stop();
    const upgrade = quietLogger();
    const first = await NodeRuntime.start({ config: encrypted, env: kek(1), logger: upgrade.logger });
    expect(upgrade.lines.map((l) => JSON.parse(l).msg)).toContain(
      'encrypted 3 plain private keys under the key-encryption key',
    );
    await first.stop();

    const failure = (options: Parameters<typeof NodeRuntime.start>[0]) =>
      NodeRuntime.start(options).then(
        async (node) => {
          await node.stop();
          return 'started';
        },
        (e: unknown) => (isWeftError(e) ? e.toString() : String(e)),
      );
    const quiet = { logger: quietLogger().logger };
    expect(await failure({ config: encrypted, env: kek(2), ...quiet })).toMatch(
      /^KEK_MISMATCH\(\d+\): the private key 1220[0-9a-f]{64} does not decrypt under the configured key-encryption key$/,
    );
    expect(await failure({ config: encrypted, env: {}, ...quiet })).toBe(
      'KEK_UNAVAILABLE(11): the key-encryption key variable WEFT_KEK is not set',
    );
    expect(await failure({ config: encrypted, env: { WEFT_KEK: 'abc' }, ...quiet })).toMatch(
      /^KEK_MALFORMED/,
    );
    expect(await failure({ config: config(file), ...quiet })).toMatch(
      /^KEK_UNAVAILABLE.*is stored encrypted/,
    );

    const again = await NodeRuntime.start({ config: encrypted, env: kek(1), logger: quietLogger().logger });
    expect(again.identity.member!.toString()).toBe(id);
    await again.stop();
  });

  it('refuses a second node on its storage with one line', async () => {
    const file = join(dir, 'p4.sqlite');
    const first = await NodeRuntime.start({ config: config(file), logger: quietLogger().logger });
    const error = await NodeRuntime.start({ config: config(file), logger: quietLogger().logger }).then(
      (n) => n.stop(),
      (e: unknown) => e,
    );
    expect(String(error)).toBe(
      `STORAGE_LEASE_HELD(9): ${file}.lease is leased by another live process: stop that node, give this node a storage of its own, or run it as a passive replica (replication.enabled = true)`,
    );
    await first.stop();
  });

  it('waits as a passive replica, not ready, and takes over with the same identity when the active stops', async () => {
    const file = join(dir, 'p5.sqlite');
    const replicated = {
      ...config(file),
      replication: { enabled: true, passiveCheckIntervalMs: 100, healthCheckIntervalMs: 100 },
    };
    const active = await NodeRuntime.start({ config: replicated, logger: quietLogger().logger });
    const port = await freePort();
    const passiveLog = quietLogger();
    const starting = NodeRuntime.start({
      config: {
        ...replicated,
        monitoring: { ...replicated.monitoring, httpServer: { address: '127.0.0.1', port } },
      },
      logger: passiveLog.logger,
    });
    const ready = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
      return response && { status: response.status, body: (await response.json()) as unknown };
    };
    await eventually(async () => (await ready())?.status === 503);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect(await ready()).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: {
          node: `passive replica: ${file}.lease is leased by another live process; taking over when it is released`,
        },
      },
    });
    await active.stop();
    const replica = await starting;
    expect(replica.identity.member!.toString()).toBe(active.identity.member!.toString());
    expect(await ready()).toEqual({ status: 200, body: { ready: true, checks: { storage: 'ok' } } });
    expect(passiveLog.lines.map((l) => JSON.parse(l).msg)).toContain(
      `took the lease on ${file}.lease: this replica is now active`,
    );
    await replica.stop();
  });

  it('gives up waiting as a passive replica when told to stop', async () => {
    const file = join(dir, 'p7.sqlite');
    const replicated = {
      ...config(file),
      replication: { enabled: true, passiveCheckIntervalMs: 100, healthCheckIntervalMs: 100 },
    };
    const active = await NodeRuntime.start({ config: replicated, logger: quietLogger().logger });
    const stop = new AbortController();
    const waiting = NodeRuntime.start({
      config: replicated,
      logger: quietLogger().logger,
      signal: stop.signal,
    });
    await new Promise((r) => setTimeout(r, 300));
    stop.abort();
    await expect(waiting).rejects.toThrow('stopped while waiting as a passive replica');
    await active.stop();
  });

  it('stops by itself, refusing storage access, once it loses its lease', async () => {
    const file = join(dir, 'p6.sqlite');
    const node = await NodeRuntime.start({
      config: {
        ...config(file),
        replication: { enabled: false, passiveCheckIntervalMs: 1000, healthCheckIntervalMs: 100 },
      },
      logger: quietLogger().logger,
    });
    let stopped = false;
    node.onStop(async () => {
      stopped = true;
    });
    removeFile(`${file}.lease`);
    const reason = await node.failed;
    expect(reason.code).toBe('STORAGE_LEASE_LOST');
    expect(stopped).toBe(true);
    await expect(node.storage.query('SELECT 1')).rejects.toBe(reason);
  });

  it('runs only participants and mediators as replicas', async () => {
    const error = await NodeRuntime.start({
      config: {
        ...config(join(dir, 's1.sqlite')),
        kind: 'sequencer',
        replication: { enabled: true, passiveCheckIntervalMs: 1000, healthCheckIntervalMs: 1000 },
      },
      logger: quietLogger().logger,
    }).then(
      (n) => n.stop(),
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(
      /^INVALID_ARGUMENT\(8\): replication.enabled is for participant and mediator nodes/,
    );
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function eventually(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i > 200) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
