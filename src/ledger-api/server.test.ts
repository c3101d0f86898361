import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { CommonErrors, WeftError } from '../errors/index.js';
import { StateServiceClient } from '../generated/com/daml/ledger/api/v2/state_service.grpc-client.js';
import {
  GetActiveContractsRequest,
  type GetActiveContractsResponse,
  StateService,
} from '../generated/com/daml/ledger/api/v2/state_service.js';
import { UpdateServiceClient } from '../generated/com/daml/ledger/api/v2/update_service.grpc-client.js';
import {
  type GetUpdateByIdRequest,
  UpdateService,
} from '../generated/com/daml/ledger/api/v2/update_service.js';
import { VersionServiceClient } from '../generated/com/daml/ledger/api/v2/version_service.grpc-client.js';
import { createLogger } from '../observability/index.js';
import { WILDCARD_CLAIMS } from './auth/index.js';
import { LedgerApiErrors } from './errors.js';
import { LEDGER_API_DESCRIPTORS } from './participant.js';
import { type LedgerApiServer, type LedgerApiTransportOptions, serveLedgerApi } from './server.js';
import type { CallContext } from './service.js';
import { versionService } from './services/version.js';
import { ledgerApiErrorDetails, ledgerApiErrorOf } from './status.js';

/**
 * Accepts the tokens `good` and `expiring` (and no token); anything else is UNAUTHENTICATED, as an auth service
 * answers. A stream opened with `expiring` is revoked after 200 ms, as when its token expires.
 */
const authenticator: LedgerApiTransportOptions['authenticator'] = {
  authenticate: async (header) => {
    if (header === undefined || header === 'Bearer good') return WILDCARD_CLAIMS;
    if (header === 'Bearer expiring') return { ...WILDCARD_CLAIMS, wildcard: false, userId: 'expiring' };
    throw new WeftError(CommonErrors.UNAUTHENTICATED, 'the token is not valid');
  },
  watchStream: (claims, revoke) => {
    if (claims.userId !== 'expiring') return () => {};
    const timer = setTimeout(
      () => revoke(new WeftError(CommonErrors.UNAUTHENTICATED, 'the token expired')),
      200,
    );
    return () => clearTimeout(timer);
  },
};

const FEATURES = {
  maxRightsPerUser: 1000,
  maxUsersPageSize: 1000,
  maxPartiesPageSize: 10_000,
  maxVettedPackagesPageSize: 100,
  maxOffsetCheckpointEmissionDelayMs: 1500,
  staticTime: false,
};

/**
 * Test services on the real service types: GetUpdateById fails as its update id says; GetActiveContracts sends
 * `active_at_offset` messages (0: without end) of 10 KB each, counting what it produced and when it stopped.
 */
function fixture() {
  const produced = { count: 0, started: 0, stopped: 0, lastSignal: undefined as AbortSignal | undefined };
  const failures: Record<string, () => Error> = {
    missing: () =>
      new WeftError(CommonErrors.NOT_FOUND, 'no such update', { updateId: 'missing', 'bad key!': 'x' }),
    busy: () => new WeftError(CommonErrors.UNAVAILABLE, 'the database is busy'),
    bug: () => new Error('secret internals'),
  };
  const updates = {
    type: UpdateService,
    handlers: {
      GetUpdateById: async (request: GetUpdateByIdRequest) => {
        throw (failures[request.updateId] ?? failures.missing!)();
      },
    },
  };
  const state = {
    type: StateService,
    handlers: {
      GetActiveContracts: async function* (
        request: GetActiveContractsRequest,
        ctx: CallContext,
      ): AsyncIterable<GetActiveContractsResponse> {
        produced.lastSignal = ctx.signal;
        produced.started++;
        try {
          for (let i = 0n; request.activeAtOffset === 0n || i < request.activeAtOffset; i++) {
            produced.count++;
            yield { workflowId: `${i}:${'x'.repeat(10_000)}`, contractEntry: { oneofKind: undefined } };
          }
        } finally {
          produced.stopped++;
        }
      },
    },
  };
  return { produced, services: [versionService(FEATURES), updates, state] };
}

const servers: LedgerApiServer[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function start(o: { maxStreams?: number; maxInboundMessageBytes?: number } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  });
  const { produced, services } = fixture();
  const server = await serveLedgerApi({
    address: '127.0.0.1',
    port: 0,
    maxInboundMessageBytes: o.maxInboundMessageBytes ?? 1024 * 1024,
    maxStreams: o.maxStreams ?? 10,
    services,
    authenticator,
    descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
    logger,
  });
  servers.push(server);
  const target = `127.0.0.1:${server.port}`;
  const credentials = grpc.credentials.createInsecure();
  const version = new VersionServiceClient(target, credentials);
  const updates = new UpdateServiceClient(target, credentials);
  const state = new StateServiceClient(target, credentials);
  clients.push(version, updates, state);
  return { server, target, version, updates, state, produced, lines };
}

const metadata = (entries: Record<string, string> = {}) => {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
};

function failure(call: (cb: (e: grpc.ServiceError | null) => void) => void): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) =>
    call((e) => (e ? resolve(e) : reject(new Error('the call succeeded')))),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Ledger API transport', () => {
  it("serves VersionService with Canton's version and features", async () => {
    const { version } = await start();
    const response = await new Promise((resolve, reject) =>
      version.getLedgerApiVersion({}, (e, v) => (e ? reject(e) : resolve(v))),
    );
    expect(response).toEqual({
      version: '3.4.0',
      features: {
        experimental: { staticTime: { supported: false }, commandInspectionService: { supported: true } },
        userManagement: { supported: true, maxRightsPerUser: 1000, maxUsersPageSize: 1000 },
        partyManagement: { maxPartiesPageSize: 10_000 },
        offsetCheckpoint: { maxOffsetCheckpointEmissionDelay: { seconds: 1n, nanos: 500_000_000 } },
        packageFeature: { maxVettedPackagesPageSize: 100 },
      },
    });
  });

  it("answers a catalogued error in Canton's shape: code, message with correlation id, ErrorInfo, RequestInfo", async () => {
    const { updates, lines } = await start();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const e = await failure((cb) =>
      updates.getUpdateById(
        { updateId: 'missing' },
        metadata({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` }),
        cb,
      ),
    );
    expect(e.code).toBe(grpc.status.NOT_FOUND);
    expect(e.details).toBe(`NOT_FOUND(11,${traceId.slice(0, 8)}): no such update`);
    const details = ledgerApiErrorDetails(e)!;
    expect(details.code).toBe(grpc.status.NOT_FOUND);
    expect(details.message).toBe(e.details);
    expect(details.errorInfo).toEqual({
      reason: 'NOT_FOUND',
      domain: '',
      metadata: { updateId: 'missing', badkey: 'x', tid: traceId, category: '11' },
    });
    expect(details.requestInfo?.requestId).toBe(traceId);
    expect(details.retryInfo).toBeUndefined();
    const back = ledgerApiErrorOf(e)!;
    expect([back.code, back.message, back.context]).toEqual([
      'NOT_FOUND',
      'no such update',
      { updateId: 'missing', badkey: 'x' },
    ]);
    expect(lines.find((l) => l.method === 'GetUpdateById')).toMatchObject({
      status: 'NOT_FOUND',
      code: 'NOT_FOUND',
      trace_id: traceId,
      msg: 'Ledger API call GetUpdateById: NOT_FOUND',
    });
  });

  it('adds RetryInfo for a retryable category, and redacts an internal error to the ids to quote', async () => {
    const { updates, lines } = await start();
    const busy = await failure((cb) => updates.getUpdateById({ updateId: 'busy' }, cb));
    expect(busy.code).toBe(grpc.status.UNAVAILABLE);
    expect(ledgerApiErrorDetails(busy)?.retryInfo).toEqual({ retryDelay: { seconds: 1n, nanos: 0 } });
    const bug = await failure((cb) => updates.getUpdateById({ updateId: 'bug' }, cb));
    expect(bug.code).toBe(grpc.status.INTERNAL);
    expect(bug.details).toMatch(
      /^An error occurred\. Please contact the operator and inquire about the request [0-9a-f]{32} with tid [0-9a-f]{32}$/,
    );
    expect(bug.details).not.toContain('secret');
    const details = ledgerApiErrorDetails(bug)!;
    expect(details.errorInfo).toBeUndefined();
    expect(bug.details).toContain(details.requestInfo!.requestId);
    // The operator finds the cause in the log by the trace id the client quotes.
    expect(
      lines.find((l) => l.level === 'error' && l.trace_id === details.requestInfo!.requestId),
    ).toMatchObject({ err: { message: 'secret internals' } });
  });

  it('refuses a bad token with UNAUTHENTICATED before the handler runs, except for the version (as Canton)', async () => {
    const { version, updates } = await start();
    const e = await failure((cb) =>
      updates.getUpdateById({ updateId: 'missing' }, metadata({ authorization: 'Bearer bad' }), cb),
    );
    expect(e.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(ledgerApiErrorOf(e)?.message).toBe('the token is not valid');
    const answer = await new Promise((resolve, reject) =>
      version.getLedgerApiVersion({}, metadata({ authorization: 'Bearer bad' }), (err, v) =>
        err ? reject(err) : resolve(v),
      ),
    );
    expect(answer).toMatchObject({ version: '3.4.0' });
  });

  it('ends a stream whose authorization the authenticator revokes, with its error', async () => {
    const { state, produced } = await start();
    const stream = state.getActiveContracts(
      { activeAtOffset: 0n },
      metadata({ authorization: 'Bearer expiring' }),
    );
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => {});
    const e = await ended;
    expect(e.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(ledgerApiErrorOf(e)?.message).toBe('the token expired');
    await sleep(50);
    expect(produced.stopped).toBe(1);
  });

  it('answers malformed protobuf with INVALID_ARGUMENT and an oversized request with RESOURCE_EXHAUSTED', async () => {
    const { version } = await start({ maxInboundMessageBytes: 2048 });
    const raw = (bytes: Buffer) =>
      failure((cb) =>
        version.makeUnaryRequest(
          '/com.daml.ledger.api.v2.UpdateService/GetUpdateById',
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          cb,
        ),
      );
    // Field 1 (update_id) announced as 100 bytes long, with 2 present.
    const malformed = await raw(Buffer.from([0x0a, 100, 0x41, 0x42]));
    expect(malformed.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(ledgerApiErrorOf(malformed)?.code).toBe('INVALID_ARGUMENT');
    expect(malformed.details).toMatch(/not a valid com\.daml\.ledger\.api\.v2\.GetUpdateByIdRequest message/);
    const oversized = await raw(Buffer.concat([Buffer.from([0x0a, 0x90, 0x4e]), Buffer.alloc(10_000, 0x41)]));
    expect(oversized.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('lists its services and describes their messages through gRPC server reflection (as grpcurl asks)', async () => {
    const { target } = await start();
    const proto = createRequire(import.meta.url).resolve(
      '@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
    );
    // biome-ignore lint/suspicious/noExplicitAny: a client built at run time from the reflection proto
    const pkg = grpc.loadPackageDefinition(loadSync(proto)) as any;
    const client = new pkg.grpc.reflection.v1.ServerReflection(target, grpc.credentials.createInsecure());
    clients.push(client);
    const ask = (request: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const call = client.ServerReflectionInfo();
        call.on('data', resolve);
        call.on('error', reject);
        call.write(request);
        call.end();
      });
    const listed = (await ask({ listServices: '' })) as {
      listServicesResponse: { service: { name: string }[] };
    };
    expect(listed.listServicesResponse.service.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'com.daml.ledger.api.v2.VersionService',
        'com.daml.ledger.api.v2.UpdateService',
        'com.daml.ledger.api.v2.StateService',
      ]),
    );
    const described = (await ask({ fileContainingSymbol: 'com.daml.ledger.api.v2.VersionService' })) as {
      fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
    };
    expect(described.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
  });

  it('answers UNIMPLEMENTED for a method without a handler', async () => {
    const { state } = await start();
    const e = await failure((cb) => state.getLedgerEnd({}, cb));
    expect(e.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('streams in order to the end', async () => {
    const { state } = await start();
    const received: string[] = [];
    for await (const m of state.getActiveContracts({ activeAtOffset: 5n })) {
      received.push((m as GetActiveContractsResponse).workflowId.split(':')[0]!);
    }
    expect(received).toEqual(['0', '1', '2', '3', '4']);
  });

  it('produces no more than a bounded backlog for a client that never reads, and stops when it cancels', async () => {
    const { state, produced } = await start();
    const stream = state.getActiveContracts({ activeAtOffset: 0n });
    stream.on('error', () => {});
    stream.pause();
    // Data only flows once the client has asked for the first message; after that nothing is read.
    await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
    await sleep(500);
    const backlog = produced.count;
    await sleep(500);
    expect(produced.count).toBe(backlog);
    // HTTP/2 flow control (64 KiB windows) and the stream buffers hold a few dozen 10 KB messages, not thousands.
    expect(backlog).toBeLessThan(100);
    stream.cancel();
    await sleep(100);
    expect(produced.lastSignal?.aborted).toBe(true);
    expect(produced.stopped).toBe(1);
  });

  it('refuses streams beyond max-streams with MAXIMUM_NUMBER_OF_STREAMS, and frees the slot when one ends', async () => {
    const { state } = await start({ maxStreams: 1 });
    const first = state.getActiveContracts({ activeAtOffset: 0n });
    first.on('error', () => {});
    first.pause();
    await new Promise<void>((resolve) => first.once('readable', () => resolve()));
    const refused = await new Promise<grpc.ServiceError>((resolve) =>
      state
        .getActiveContracts({ activeAtOffset: 1n })
        .on('data', () => {})
        .on('error', resolve),
    );
    expect(refused.code).toBe(grpc.status.ABORTED);
    expect(ledgerApiErrorOf(refused)?.code).toBe(LedgerApiErrors.MAXIMUM_NUMBER_OF_STREAMS.code);
    expect(ledgerApiErrorDetails(refused)?.retryInfo).toBeDefined();
    first.cancel();
    await sleep(100);
    const next: unknown[] = [];
    for await (const m of state.getActiveContracts({ activeAtOffset: 2n })) next.push(m);
    expect(next).toHaveLength(2);
  });

  it('returns the slot of every stream cancelled in a race with its start, however late or early', async () => {
    const { target, state, produced } = await start({ maxStreams: 4 });
    const settled = async () => {
      const until = Date.now() + 20_000;
      while (produced.stopped < produced.started && Date.now() < until) await sleep(50);
      expect(produced.stopped).toBe(produced.started);
    };
    // Cancelled on the next turn, after the headers, after the first message: thousands, 40 at a time.
    const cancelled = (i: number) =>
      new Promise<void>((resolve) => {
        const stream = state.getActiveContracts({ activeAtOffset: 0n });
        stream.on('error', () => resolve());
        stream.on('end', () => resolve());
        stream.on('status', () => resolve());
        const cancel = () => stream.cancel();
        switch (i % 3) {
          case 0:
            setImmediate(cancel);
            break;
          case 1:
            stream.once('metadata', cancel);
            stream.on('data', () => {});
            break;
          default:
            stream.once('data', cancel);
        }
      });
    for (let i = 0; i < 2000; i += 40) {
      await Promise.all(Array.from({ length: 40 }, (_, j) => cancelled(i + j)));
    }
    expect(produced.started).toBeGreaterThan(100);
    await settled();
    // A grpc-js client that cancels a call in the same turn as it starts it may still open the HTTP/2 stream and
    // read it: to the server a live client, until it goes away. Such a client, on a thread of its own, goes away.
    const racing = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const grpc = require('@grpc/grpc-js');
      const client = new grpc.Client(workerData.target, grpc.credentials.createInsecure());
      for (let i = 0; i < 500; i++) {
        const call = client.makeServerStreamRequest(
          '/com.daml.ledger.api.v2.StateService/GetActiveContracts', (b) => b, (b) => b, Buffer.from(workerData.request));
        call.on('error', () => {});
        call.cancel();
      }
      setTimeout(() => parentPort.postMessage('cancelled'), 500);
      `,
      {
        eval: true,
        workerData: { target, request: GetActiveContractsRequest.toBinary({ activeAtOffset: 0n }) },
      },
    );
    await new Promise((resolve, reject) => {
      racing.once('message', resolve);
      racing.once('error', reject);
    });
    await racing.terminate();
    await settled();
    // Every slot is back: four streams at once, then one more once one of them ends.
    const open = Array.from({ length: 4 }, () => state.getActiveContracts({ activeAtOffset: 0n }));
    for (const stream of open) {
      stream.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        stream.once('data', () => resolve());
        stream.once('error', reject);
      });
      stream.pause();
    }
    open[0]!.cancel();
    await sleep(100);
    const next: unknown[] = [];
    for await (const m of state.getActiveContracts({ activeAtOffset: 2n })) next.push(m);
    expect(next).toHaveLength(2);
    for (const stream of open) stream.cancel();
  }, 120_000);

  it('ends open streams with SERVICE_NOT_RUNNING when it closes', async () => {
    const { server, state, produced } = await start();
    const stream = state.getActiveContracts({ activeAtOffset: 0n });
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => {});
    await sleep(100);
    servers.splice(servers.indexOf(server), 1);
    await server.close();
    const e = await ended;
    expect(e.code).toBe(grpc.status.UNAVAILABLE);
    expect(ledgerApiErrorOf(e)?.code).toBe(LedgerApiErrors.SERVICE_NOT_RUNNING.code);
    expect(produced.stopped).toBe(1);
  });
});
