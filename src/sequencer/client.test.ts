import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CryptoErrors } from '../crypto/index.js';
import { certificates } from '../grpc/testing.js';
import { openStorage, type Storage } from '../storage/index.js';
import { systemClock } from '../time/index.js';
import { parseSequencerEndpoint } from './client/endpoint.js';
import { sequencerSettings } from './config.js';
import { SequencerErrors } from './errors.js';
import type { ServerTls } from './grpc-server.js';
import { publicApiOptions, type SequencerNode } from './node.js';
import {
  connect,
  envelope,
  rejection,
  soon,
  startSequencerNode,
  type TestSynchronizer,
  testSynchronizer,
  texts,
  waitFor,
} from './testing.js';

let dir: string;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-sequencer-client-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let databases = 0;
async function sqlite(name: string): Promise<Storage> {
  const storage = await openStorage({ kind: 'sqlite', path: join(dir, `${name}-${databases++}.sqlite`) });
  cleanups.push(() => storage.close());
  return storage;
}

async function start(
  sync: TestSynchronizer,
  options: { tls?: ServerTls; raw?: unknown } = {},
): Promise<SequencerNode> {
  const { node } = await startSequencerNode(sync, {
    name: 'seq',
    storage: await sqlite('seq'),
    settings: sequencerSettings(options.raw ?? {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  cleanups.push(() => node.stop());
  return node;
}

describe('sequencer client', () => {
  it('connects over TLS with the custom root CA and fails clearly with a wrong one', async () => {
    const sync = testSynchronizer({ seed: 'tls', participants: 1, now: systemClock.now() });
    const good = certificates(dir, 'good');
    const other = certificates(dir, 'other');
    const api = await publicApiOptions({
      address: '127.0.0.1',
      port: 0,
      tls: { certChainFile: good.certFile, privateKeyFile: good.keyFile },
    });
    const node = await start(sync, { tls: api.tls! });
    expect(node.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const member = sync.participants[0]!;
    const ok = await connect(sync, member, [node.endpoint], {
      customTrustCertificates: readFileSync(good.caFile),
    });
    cleanups.push(() => ok.client.close());
    const sent = await ok.client.send({
      envelopes: [envelope('over tls', member.id)],
      maxSequencingTime: soon(),
    });
    expect((await sent.outcome).kind).toBe('delivered');
    const wrong = await rejection(
      connect(sync, member, [node.endpoint], { customTrustCertificates: readFileSync(other.caFile) }),
    );
    expect(wrong.code).toBe(SequencerErrors.SEQUENCER_CONNECTION_FAILED.code);
    expect(wrong.message).toMatch(/TLS verification failed/);
    expect(wrong.message).toContain(node.endpoint);
    const missing = await rejection(
      publicApiOptions({
        address: '127.0.0.1',
        port: 0,
        tls: { certChainFile: join(dir, 'nope'), privateKeyFile: '' },
      }),
    );
    expect(missing.message).toContain('public-api.tls.cert-chain-file');
  });

  it('refuses plaintext off loopback, on both sides', async () => {
    expect(() => parseSequencerEndpoint('http://10.1.2.3:5001')).toThrow(
      expect.objectContaining({ code: SequencerErrors.SEQUENCER_INSECURE_CONNECTION.code }),
    );
    expect(parseSequencerEndpoint('http://10.1.2.3:5001', true).secure).toBe(false);
    expect(parseSequencerEndpoint('https://sequencer.example.com:443').target).toBe(
      'sequencer.example.com:443',
    );
    const sync = testSynchronizer({ seed: 'plain', participants: 0, now: systemClock.now() });
    const refused = await rejection(
      startSequencerNode(sync, { name: 'seq', storage: await sqlite('plain'), address: '0.0.0.0' }),
    );
    expect(refused.code).toBe(SequencerErrors.SEQUENCER_INSECURE_CONNECTION.code);
  });

  it('fails the handshake clearly: wrong synchronizer, no common protocol version', async () => {
    const sync = testSynchronizer({ seed: 'handshake', participants: 1, now: systemClock.now() });
    const node = await start(sync);
    const member = sync.participants[0]!;
    const wrongSync = await rejection(
      connect(sync, member, [node.endpoint], {
        expectedSynchronizerId: `other::${sync.synchronizerId.split('::')[1]}`,
      }),
    );
    expect(wrongSync.code).toBe(SequencerErrors.SEQUENCER_CONNECTION_MISMATCH.code);
    expect(wrongSync.message).toContain(sync.synchronizerId);
    const version = await rejection(connect(sync, member, [node.endpoint], { protocolVersions: [99] }));
    expect(version.code).toBe(SequencerErrors.SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED.code);
  });

  it('fails over from an unreachable endpoint and re-authenticates when its token expires, without gaps', async () => {
    const sync = testSynchronizer({ seed: 'token', participants: 2, now: systemClock.now() });
    const node = await start(sync, { raw: { authentication: { 'token-ttl-ms': 1000 } } });
    const dead = await start(sync);
    const deadEndpoint = dead.endpoint;
    await dead.kill();
    const [m0, m1] = sync.participants as [(typeof sync.participants)[0], (typeof sync.participants)[0]];
    const p0 = await connect(sync, m0, [deadEndpoint, node.endpoint]);
    cleanups.push(() => p0.client.close());
    expect(p0.client.endpoint).toBe(node.endpoint);
    const p1 = await connect(sync, m1, [node.endpoint]);
    cleanups.push(() => p1.client.close());
    for (let i = 0; i < 6; i++) {
      await (await p0.client.send({ envelopes: [envelope(`t${i}`, m1.id)], maxSequencingTime: soon() }))
        .outcome;
      await new Promise((r) => setTimeout(r, 250));
    }
    await waitFor('all six', () => p1.events.length === 6);
    expect(p1.events.map((e) => [e.counter, texts(e)[0]])).toEqual(
      Array.from({ length: 6 }, (_, i) => [BigInt(i), `t${i}`]),
    );
    expect(p1.client.state).toBe('connected');
  });

  it('stops on an event whose sequencer signature does not verify', async () => {
    const sync = testSynchronizer({ seed: 'forged', participants: 1, now: systemClock.now() });
    const node = await start(sync);
    const member = sync.participants[0]!;
    let fatal: unknown;
    const r = await connect(sync, member, [node.endpoint], {
      sequencerKeys: () => [sync.newKey().publicKey],
      onFatal: (e) => {
        fatal = e;
      },
    });
    cleanups.push(() => r.client.close());
    const sent = await r.client.send({ envelopes: [envelope('x', member.id)], maxSequencingTime: soon() });
    await expect(sent.outcome).rejects.toMatchObject({ code: CryptoErrors.SIGNATURE_INVALID.code });
    expect(fatal).toMatchObject({ code: CryptoErrors.SIGNATURE_INVALID.code });
    expect(r.events).toHaveLength(0);
    expect(r.client.state).toBe('failed');
  });
});
