import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Engine, PackageRegistry } from '../../src/daml/index.js';
import {
  type GetUpdatesRequest,
  type GetUpdatesResponse,
  UpdateService,
} from '../../src/generated/com/daml/ledger/api/v2/update_service.js';
import { WILDCARD_CLAIMS } from '../../src/ledger-api/auth/index.js';
import { type Authenticator, type JsonApiServer, startJsonApi } from '../../src/ledger-api/json/index.js';
import type { CallContext } from '../../src/ledger-api/service.js';
import { createLogger } from '../../src/observability/index.js';

/** Authorization off: these tests are about the transport's bounds. */
const WILDCARD_AUTHENTICATOR: Authenticator = {
  authenticate: async () => WILDCARD_CLAIMS,
  watchStream: () => () => {},
};

/**
 * The websocket transport's bounds, observed on an endless update stream (offset checkpoints, as many as the
 * transport pulls): a reader that stops reading stops the pulling; a client that leaves ends the stream; the
 * number of sockets is capped; sockets opened and dropped in bulk leave the server serving.
 */

let api: JsonApiServer;
let pulled = 0;
let open = 0;

async function* endless(_request: GetUpdatesRequest, ctx: CallContext): AsyncIterable<GetUpdatesResponse> {
  open++;
  try {
    for (let offset = 1n; !ctx.signal.aborted; offset++) {
      pulled++;
      yield {
        update: { oneofKind: 'offsetCheckpoint', offsetCheckpoint: { offset, synchronizerTimes: [] } },
      };
    }
  } finally {
    open--;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const url = () => `${api.url.replace(/^http/, 'ws')}/v2/updates`;

function connect(): Promise<WebSocket> {
  const ws = new WebSocket(url(), ['daml.ws.auth']);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  for (const start = Date.now(); !condition(); await sleep(20)) {
    if (Date.now() - start > ms) throw new Error('condition not reached');
  }
}

beforeAll(async () => {
  api = await startJsonApi({
    address: '127.0.0.1',
    port: 0,
    services: [{ type: UpdateService, handlers: { GetUpdates: endless } }],
    authenticator: WILDCARD_AUTHENTICATOR,
    daml: new Engine(new PackageRegistry()),
    logger: createLogger({ level: 'silent' }),
    maxWebsockets: 3,
    websocketHighWaterBytes: 64 * 1024,
  });
});

afterAll(async () => {
  await api?.close();
});

describe('startup', () => {
  it('refuses to serve without authentication off loopback', async () => {
    const start = startJsonApi({
      address: '0.0.0.0',
      port: 0,
      services: [],
      authenticator: { ...WILDCARD_AUTHENTICATOR, enabled: false },
      daml: new Engine(new PackageRegistry()),
      logger: createLogger({ level: 'silent' }),
    });
    await expect(start).rejects.toMatchObject({ code: 'LEDGER_API_AUTH_REQUIRED' });
  });
});

describe('HTTP lists', () => {
  it('refuses a list over the element limit with 413, truncates at a smaller limit, and releases the stream', async () => {
    const over = await fetch(`${api.url}/v2/updates`, { method: 'POST', body: '{"beginExclusive": 0}' });
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ code: 'JSON_API_MAXIMUM_LIST_ELEMENTS_NUMBER_REACHED' });
    const limited = await fetch(`${api.url}/v2/updates?limit=5`, {
      method: 'POST',
      body: '{"beginExclusive": 0}',
    });
    expect(limited.status).toBe(200);
    expect(((await limited.json()) as unknown[]).length).toBe(5);
    await until(() => open === 0);
  });
});

describe('websocket bounds', () => {
  it('stops pulling from the participant while the client does not read, and resumes when it does', async () => {
    const ws = await connect();
    expect(ws.protocol).toBe('daml.ws.auth');
    const frames: string[] = [];
    ws.on('message', (data) => frames.push(String(data)));
    ws.send(JSON.stringify({ beginExclusive: 0 }));
    await until(() => frames.length > 100);
    expect(JSON.parse(frames[0]!)).toEqual({
      update: { OffsetCheckpoint: { value: { offset: 1, synchronizerTimes: [] } } },
    });
    // Stop reading: the kernel's buffers fill, then the socket's, then the server stops pulling.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    let before = -1;
    await until(() => {
      const settled = pulled === before;
      before = pulled;
      return settled;
    }, 20_000);
    await sleep(300);
    expect(pulled).toBe(before);
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => pulled > before + 1000);
    ws.close();
    await until(() => open === 0);
  }, 30_000);

  it('caps the sockets open at once and survives sockets opened and dropped in bulk', async () => {
    const held = await Promise.all([connect(), connect(), connect()]);
    const refused = await connect();
    const code = await new Promise<number>((resolve) => refused.once('close', resolve));
    expect(code).toBe(1013);
    for (const ws of held) ws.terminate();
    await sleep(100);
    for (let round = 0; round < 20; round++) {
      const batch = await Promise.all([connect(), connect(), connect()]);
      for (const ws of batch) {
        ws.send(JSON.stringify({ beginExclusive: 0 }));
        ws.terminate();
      }
      await sleep(20);
    }
    await until(() => open === 0);
    const ws = await connect();
    ws.send(JSON.stringify({ beginExclusive: 0 }));
    const frame = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    expect(frame).toContain('OffsetCheckpoint');
    ws.close();
  }, 30_000);

  it('answers a request frame that is not JSON with an error frame and closes', async () => {
    const ws = await connect();
    ws.send('{not json');
    const frame = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    expect(JSON.parse(frame)).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(1000);
  });
});
