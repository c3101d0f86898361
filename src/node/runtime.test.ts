import { mkdtempSync, rmSync } from 'node:fs';
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
});
