/**
 * UpdateService.GetUpdates catching up from offset 0 over a history of committed token transfers on SQLite (each
 * round: a mint for alice, her 5-node transfer offer to bob, bob's acceptance), read as alice and bob with a party
 * wildcard filter in the LEDGER_EFFECTS shape, verbose. The history is stored with its events pre-encoded
 * ('after'), and copied with them removed, as a store from before v5 holds it ('before': every update decoded
 * and encoded per reader); each before/after pair runs alternately. Measures updates/s and the process's CPU µs
 * per update of the handler alone (responses encoded, as a protobuf transport takes them), a real gRPC loopback
 * stream (the client on a thread of its own in this process, not decoding the messages) and the JSON API's
 * `/v2/updates` websocket (same request in Canton's JSON, frames counted, not parsed), each as the first reader of
 * the format (the encoded-update cache empty, filled as the stream goes), and over gRPC and the websocket with the
 * format cached by an earlier client. The process's CPU includes the client's thread: its busy time (event-loop
 * utilization, wall-clock while it runs) is shown beside it, an estimate of the client's share.
 *
 * Run: npx tsx bench/updates-stream.bench.ts [--transfers 1000] [--rounds 5] [--only <text>]
 * (`--only`: the paths whose name contains the text, e.g. `after` to compare builds on the same store).
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import { loadEngine } from '../src/daml/engine/testing.js';
import { TransactionDecoder } from '../src/daml/index.js';
import { TransactionShape } from '../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import { GetUpdatesRequest } from '../src/generated/com/daml/ledger/api/v2/update_service.js';
import { WILDCARD_CLAIMS } from '../src/ledger-api/auth/index.js';
import { LEDGER_API_DESCRIPTORS, serveLedgerApi } from '../src/ledger-api/index.js';
import { type JsonApiServer, startJsonApi } from '../src/ledger-api/json/index.js';
import type { CallContext, EncodedMessages, ServiceImpl } from '../src/ledger-api/service.js';
import { EVENT_ENCODER } from '../src/ledger-api/services/read-encoding.js';
import { EncodedUpdateCache } from '../src/ledger-api/services/update-cache.js';
import { updateService } from '../src/ledger-api/services/updates.js';
import { createLogger } from '../src/observability/index.js';
import { Journal } from '../src/participant/journal.js';
import { ParticipantReads } from '../src/participant/reads.js';
import { tokenReadLedger } from '../src/participant/reads-testing.js';
import { ParticipantStore } from '../src/participant/store.js';
import { tokenCommands } from '../src/participant/testing.js';
import { openStorage } from '../src/storage/index.js';
import { systemClock } from '../src/time/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const TRANSFERS = Number(args.get('transfers') ?? 1000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const ONLY = args.get('only') ?? '';

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const dir = mkdtempSync(join(tmpdir(), 'weft-updates-bench-'));
const storage = await openStorage({ kind: 'sqlite', path: join(dir, 'participant.sqlite') });
const engine = loadEngine(TOKEN_DAR);
const logger = createLogger({ level: 'silent' });
const ns = `1220${'ab'.repeat(32)}`;
const admin = `admin::${ns}`;
const alice = `alice::${ns}`;
const bob = `bob::${ns}`;
const ledger = await tokenReadLedger(storage, engine, { admin, alice, bob }, EVENT_ENCODER);
await ledger.accept();
const rules = (await ledger.store.updateAt(1n))!;
const rulesId = ledger.decoder.decodeTransaction(rules.transaction).nodes.values().next().value!;
const setup0 = performance.now();
for (let i = 0; i < TRANSFERS; i++) {
  const mint = await ledger.model.submit(
    [admin, alice],
    [tokenCommands.mint(admin, alice, '100.0', `m${i}`)],
  );
  await ledger.commit(mint.tx, { commandId: `mint-${i}`, actAs: [admin, alice] });
  const offer = await ledger.model.submit(
    [alice, admin],
    [
      tokenCommands.offer({
        rules: (rulesId as { contractId: { coid: string } }).contractId.coid,
        admin,
        sender: alice,
        receiver: bob,
        amount: '30.0',
        inputs: [mint.created(0)],
      }),
    ],
  );
  await ledger.commit(offer.tx, { commandId: `offer-${i}`, actAs: [alice] });
  const accept = await ledger.model.submit(
    [bob],
    [tokenCommands.instruction(offer.created(4), 'TransferInstruction_Accept')],
  );
  await ledger.commit(accept.tx, { commandId: `accept-${i}`, actAs: [bob] });
}
const end = ledger.journal.durableOffset;
console.log(`history: ${end} updates, built in ${((performance.now() - setup0) / 1000).toFixed(1)} s`);

// The same history as stored before v5: without the pre-encoded events.
const beforePath = join(dir, 'before.sqlite');
await storage.execute(`VACUUM INTO '${beforePath}'`);
const beforeStorage = await openStorage({ kind: 'sqlite', path: beforePath });
await beforeStorage.execute('UPDATE participant_updates SET events_index = NULL');
const beforeStore = await ParticipantStore.open(beforeStorage);
const beforeReads = new ParticipantReads(
  beforeStore,
  new TransactionDecoder(engine.types),
  new Journal(beforeStore, systemClock, createLogger({ level: 'silent' }), end, 1_000, () => {}),
  () => true,
  engine,
);

type Store = 'before' | 'after';
const depsOf = (store: Store) => ({
  reads: store === 'after' ? ledger.reads : beforeReads,
  packages: engine.packages,
  ledgerEnd: () => end,
  prunedUpTo: async () => 0n,
});
const cachedUpdates = updateService(depsOf('after'), new EncodedUpdateCache(256 * 1024 * 1024, 8));
const wildcard = {
  cumulative: [
    {
      identifierFilter: {
        oneofKind: 'wildcardFilter' as const,
        wildcardFilter: { includeCreatedEventBlob: false },
      },
    },
  ],
};
const request: GetUpdatesRequest = {
  beginExclusive: 0n,
  endInclusive: end,
  updateFormat: {
    includeTransactions: {
      eventFormat: { filtersByParty: { [alice]: wildcard, [bob]: wildcard }, verbose: true },
      transactionShape: TransactionShape.LEDGER_EFFECTS,
    },
  },
};
const ctx = (): CallContext => ({
  claims: WILDCARD_CLAIMS,
  signal: new AbortController().signal,
  correlationId: 'bench',
  traceparent: undefined,
  logger,
  encoded: true,
});
/** A service as the first reader of the format finds it: the encoded-update cache empty. */
const firstReader = (store: Store) =>
  updateService(depsOf(store), new EncodedUpdateCache(256 * 1024 * 1024, 8));
const handler = (store: Store) =>
  firstReader(store).handlers.GetUpdates as (
    r: GetUpdatesRequest,
    c: CallContext,
  ) => AsyncIterable<EncodedMessages>;

const serve = (service: ServiceImpl) =>
  serveLedgerApi({
    address: '127.0.0.1',
    port: 0,
    maxInboundMessageBytes: 4 * 1024 * 1024,
    maxStreams: 100,
    services: [service],
    authenticator: { authenticate: async () => WILDCARD_CLAIMS, watchStream: () => () => {} },
    descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
    logger,
  });
const cachedServer = await serve(cachedUpdates);
const serveJson = (service: ServiceImpl) =>
  startJsonApi({
    address: '127.0.0.1',
    port: 0,
    services: [service],
    authenticator: { authenticate: async () => WILDCARD_CLAIMS, watchStream: () => () => {} },
    daml: engine,
    logger,
  });
const cachedJson = await serveJson(cachedUpdates);

// The client runs on a thread of its own, as a client process would: it reads the stream without decoding it.
const client = new Worker(
  `
  const { parentPort } = require('node:worker_threads');
  const grpc = require('@grpc/grpc-js');
  const { WebSocket } = require('ws');
  const clients = new Map();
  parentPort.on('message', ({ port, request, close, url, json }) => {
    if (url) {
      let n = 0;
      const socket = new WebSocket(url);
      socket.on('open', () => socket.send(json));
      socket.on('message', () => n++);
      socket.on('error', (e) => parentPort.postMessage({ error: String(e) }));
      socket.on('close', (code) =>
        parentPort.postMessage(code === 1000 ? { n } : { error: 'websocket closed with ' + code }));
      return;
    }
    if (close) {
      clients.get(port)?.close();
      clients.delete(port);
      return;
    }
    let c = clients.get(port);
    if (!c) {
      c = new grpc.Client('127.0.0.1:' + port, grpc.credentials.createInsecure(), {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      });
      clients.set(port, c);
    }
    let n = 0;
    const call = c.makeServerStreamRequest(
      '/com.daml.ledger.api.v2.UpdateService/GetUpdates', (b) => b, (b) => b, Buffer.from(request));
    call.on('data', () => n++);
    call.on('error', (e) => parentPort.postMessage({ error: String(e) }));
    call.on('end', () => parentPort.postMessage({ n }));
  });
  `,
  { eval: true },
);
const encodedRequest = GetUpdatesRequest.toBinary(request);
const ask = (message: object) =>
  new Promise<number>((resolve, reject) => {
    client.once('message', (m: { n?: number; error?: string }) =>
      m.error === undefined ? resolve(m.n!) : reject(new Error(m.error)),
    );
    client.postMessage(message);
  });
const stream = (port: number) => ask({ port, request: encodedRequest });
// The same request in Canton's JSON; the client counts the frames without parsing them.
const jsonWildcard = {
  cumulative: [{ identifierFilter: { WildcardFilter: { value: { includeCreatedEventBlob: false } } } }],
};
const jsonRequest = JSON.stringify({
  beginExclusive: 0,
  endInclusive: Number(end),
  updateFormat: {
    includeTransactions: {
      eventFormat: { filtersByParty: { [alice]: jsonWildcard, [bob]: jsonWildcard }, verbose: true },
      transactionShape: 'TRANSACTION_SHAPE_LEDGER_EFFECTS',
    },
  },
});
const websocket = (server: JsonApiServer) =>
  ask({ url: `${server.url.replace(/^http/, 'ws')}/v2/updates`, json: jsonRequest });

type Mode =
  | `handler, ${Store}`
  | `gRPC, first reader of the format, ${Store}`
  | `websocket, first reader of the format, ${Store}`
  | 'gRPC, format cached'
  | 'websocket, format cached';
/** Each mode runs what it measures inside `timed` (set-up outside it); the count of updates it delivered. */
type Run = (timed: (body: () => Promise<number>) => Promise<number>) => Promise<number>;
const handlerRun =
  (store: Store): Run =>
  (timed) => {
    const h = handler(store);
    return timed(async () => {
      let n = 0;
      for await (const m of h(request, ctx())) n += m.messages.length;
      return n;
    });
  };
/**
 * A client catching up with a format nobody read before: every call gets a service with an empty cache, recording
 * as it goes, on a server (and, over gRPC, a connection) that is already up, as a participant's would be.
 */
const firstReaderServer = (store: Store): ServiceImpl => ({
  type: firstReader(store).type,
  handlers: { GetUpdates: (r: GetUpdatesRequest, c: CallContext) => handler(store)(r, c) },
});
const grpcFirstReader = {
  before: await serve(firstReaderServer('before')),
  after: await serve(firstReaderServer('after')),
};
const jsonFirstReader = {
  before: await serveJson(firstReaderServer('before')),
  after: await serveJson(firstReaderServer('after')),
};
const grpcFirst =
  (store: Store): Run =>
  (timed) =>
    timed(() => stream(grpcFirstReader[store].port));
const websocketFirst =
  (store: Store): Run =>
  (timed) =>
    timed(() => websocket(jsonFirstReader[store]));
const modes: Record<Mode, Run> = {
  'handler, before': handlerRun('before'),
  'handler, after': handlerRun('after'),
  'gRPC, first reader of the format, before': grpcFirst('before'),
  'gRPC, first reader of the format, after': grpcFirst('after'),
  'websocket, first reader of the format, before': websocketFirst('before'),
  'websocket, first reader of the format, after': websocketFirst('after'),
  'gRPC, format cached': (timed) => timed(() => stream(cachedServer.port)),
  'websocket, format cached': (timed) => timed(() => websocket(cachedJson)),
};

const results = new Map<Mode, { rate: number[]; cpu: number[]; client: number[] }>();
try {
  // An earlier client of the same format; connections to the first readers' servers.
  await stream(cachedServer.port);
  await websocket(cachedJson);
  for (const store of ['before', 'after'] as const) {
    await stream(grpcFirstReader[store].port);
    await websocket(jsonFirstReader[store]);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [mode, run] of Object.entries(modes) as [Mode, Run][]) {
      if (!mode.includes(ONLY)) continue;
      const r = results.get(mode) ?? { rate: [], cpu: [], client: [] };
      results.set(mode, r);
      await run(async (body) => {
        const c0 = cpuUs();
        const e0 = client.performance.eventLoopUtilization();
        const t0 = performance.now();
        const n = await body();
        const ms = performance.now() - t0;
        // Every update but the rules (offset 1, the admin's alone) has alice or bob as a witness.
        if (n !== Number(end) - 1) throw new Error(`${mode}: ${n} updates, expected ${end - 1n}`);
        r.rate.push((n / ms) * 1000);
        r.cpu.push((cpuUs() - c0) / n);
        r.client.push((client.performance.eventLoopUtilization(e0).active * 1000) / n);
        return n;
      });
    }
  }
  console.log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    '| path | updates/s (median) | CPU µs / update | of which the client thread (busy µs) | updates/s after ÷ before |',
  );
  console.log('|---|---|---|---|---|');
  for (const [mode, r] of results) {
    const before = mode.endsWith(', after')
      ? results.get(mode.replace(/after$/, 'before') as Mode)
      : undefined;
    const ratio = before ? `${(median(r.rate) / median(before.rate)).toFixed(2)}×` : '';
    const clientUs = mode.startsWith('handler') ? '' : median(r.client).toFixed(0);
    console.log(
      `| ${mode} | ${median(r.rate).toFixed(0)} | ${median(r.cpu).toFixed(0)} | ${clientUs} | ${ratio} |`,
    );
  }
} finally {
  await client.terminate();
  await cachedJson.close();
  await cachedServer.close();
  for (const server of [...Object.values(grpcFirstReader), ...Object.values(jsonFirstReader)])
    await server.close();
  await storage.close();
  await beforeStorage.close();
  rmSync(dir, { recursive: true, force: true });
}
