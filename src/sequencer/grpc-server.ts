import * as grpc from '@grpc/grpc-js';
import { WeftError } from '../errors/index.js';
import type { ISequencerAuthenticationService } from '../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-server.js';
import { sequencerAuthenticationServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-server.js';
import type { ISequencerConnectService } from '../generated/weft/sequencer/v1/sequencer_connect_service.grpc-server.js';
import { sequencerConnectServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_connect_service.grpc-server.js';
import type { ISequencerService } from '../generated/weft/sequencer/v1/sequencer_service.grpc-server.js';
import { sequencerServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_service.grpc-server.js';
import type {
  SubscribeRequest,
  SubscribeResponse,
} from '../generated/weft/sequencer/v1/sequencer_service.js';
import {
  auditedUnary,
  bindServer,
  type CallLogging,
  requireTransportSecurity,
  type ServerTls,
  serverCredentials,
  toStatus,
} from '../grpc/index.js';
import { ApiMetrics, type NodeMetrics } from '../observability/index.js';
import { SequencerErrors } from './errors.js';
import { AUTHORIZATION_METADATA_KEY, MEMBER_METADATA_KEY, SERVICE_NAME } from './grpc-common.js';
import type { InProcessSequencers } from './in-process.js';
import { type Caller, type PublicApiContext, SequencerPublicApi } from './public-api.js';

export type { ServerTls };

export interface PublicApiOptions {
  /** Bind address; default 127.0.0.1. */
  readonly address?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: ServerTls;
  /** Allow plaintext on a non-loopback address. */
  readonly insecure?: boolean;
  /** Counts and times the calls (`weft_grpc_server_*{service="sequencer-public-api"}`). */
  readonly metrics?: NodeMetrics;
  /** Also serves the API to the nodes of this process, on the bound port, without gRPC (the sandbox). */
  readonly inProcess?: InProcessSequencers;
}

export interface PublicApiServer {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting calls; `graceful` waits for unary calls in progress, otherwise cuts every connection. */
  close(graceful: boolean): Promise<void>;
}

/** Starts the sequencer's public gRPC API (connect, authentication and sequencer services). */
export async function startPublicApi(
  context: PublicApiContext,
  options: PublicApiOptions,
  maxRequestSize: number,
): Promise<PublicApiServer> {
  const address = options.address ?? '127.0.0.1';
  requireTransportSecurity(
    address,
    options.tls,
    options.insecure ?? false,
    SequencerErrors.SEQUENCER_INSECURE_CONNECTION,
    SERVICE_NAME,
    'configure public-api.tls, bind to a loopback address, or set sequencer.insecure for a TLS-terminating proxy',
  );
  const server = new grpc.Server({
    // The transport limit: room for the submission plus its signature and framing.
    'grpc.max_receive_message_length': maxRequestSize + 64 * 1024,
  });
  const api = new SequencerPublicApi(context);
  const logging: CallLogging = {
    logger: context.logger,
    level: 'debug',
    service: SERVICE_NAME,
    clock: context.clock,
    ...(options.metrics ? { metrics: ApiMetrics.grpc(options.metrics, 'sequencer-public-api') } : {}),
  };
  server.addService(sequencerConnectServiceDefinition, connectService(api, logging));
  server.addService(sequencerAuthenticationServiceDefinition, authenticationService(api, logging));
  server.addService(sequencerServiceDefinition, sequencerService(api, logging));
  const port = await bindServer(server, address, options.port, serverCredentials(options.tls), SERVICE_NAME);
  const withdraw = options.inProcess?.serve(port, api);
  return {
    port,
    async close(graceful) {
      withdraw?.();
      api.closeAll();
      if (!graceful) {
        server.forceShutdown();
        return;
      }
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

// Unary calls run in a span continuing the caller's trace and log one audit line each (at debug: sends are hot).

function connectService(api: SequencerPublicApi, logging: CallLogging): ISequencerConnectService {
  return {
    handshake: auditedUnary(logging, 'Handshake', (call) => api.handshake(call.request)),
    getSynchronizerId: auditedUnary(logging, 'GetSynchronizerId', async () => api.getSynchronizerId()),
    registerOnboardingTopologyTransactions: auditedUnary(
      logging,
      'RegisterOnboardingTopologyTransactions',
      (call) => api.registerOnboardingTopologyTransactions(call.request),
    ),
  };
}

function authenticationService(
  api: SequencerPublicApi,
  logging: CallLogging,
): ISequencerAuthenticationService {
  return {
    challenge: auditedUnary(logging, 'Challenge', (call) => api.challenge(call.request)),
    authenticate: auditedUnary(logging, 'Authenticate', (call) => api.authenticate(call.request)),
    logout: auditedUnary(logging, 'Logout', (call) => api.logout(call.request)),
  };
}

/** The caller of a call, from its `weft-member` and `authorization: Bearer <base64>` metadata. */
function callerOf(api: SequencerPublicApi, metadata: grpc.Metadata): Caller {
  const member = String(metadata.get(MEMBER_METADATA_KEY)[0] ?? '');
  const header = String(metadata.get(AUTHORIZATION_METADATA_KEY)[0] ?? '');
  const match = /^Bearer ([A-Za-z0-9+/=_-]+)$/.exec(header);
  return api.caller(match ? { member, token: Buffer.from(match[1]!, 'base64') } : undefined);
}

function sequencerService(api: SequencerPublicApi, logging: CallLogging): ISequencerService {
  return {
    sendAsync: auditedUnary(logging, 'SendAsync', (call) =>
      api.sendAsync(call.request, callerOf(api, call.metadata)),
    ),
    acknowledge: auditedUnary(logging, 'Acknowledge', (call) =>
      api.acknowledge(call.request, callerOf(api, call.metadata)),
    ),
    getTime: auditedUnary(logging, 'GetTime', async (call) => api.getTime(callerOf(api, call.metadata))),
    downloadTopologyStateForInit: auditedUnary(logging, 'DownloadTopologyStateForInit', (call) =>
      api.downloadTopologyStateForInit(call.request, callerOf(api, call.metadata)),
    ),
    subscribe: (call) => {
      subscribe(api, call).catch((e: unknown) => {
        if (!(e instanceof WeftError)) logging.logger.error({ err: e }, 'subscription failed');
        if (!call.cancelled) call.emit('error', toStatus(e, SERVICE_NAME));
      });
    },
  };
}

async function subscribe(
  api: SequencerPublicApi,
  call: grpc.ServerWritableStream<SubscribeRequest, SubscribeResponse>,
): Promise<void> {
  const caller = callerOf(api, call.metadata);
  const cancelled = new AbortController();
  const cancel = () => cancelled.abort();
  call.on('cancelled', cancel);
  call.on('close', cancel);
  await api.subscribe(
    call.request,
    caller,
    (response, signal) => write(call, response, signal),
    // Response headers tell the client that the subscription is valid before any event exists.
    () => call.sendMetadata(new grpc.Metadata()),
    cancelled.signal,
  );
  if (!call.cancelled) call.end();
}

/** Writes one message, waiting while the client's receive window is full. */
function write<T>(
  call: grpc.ServerWritableStream<unknown, T>,
  message: T,
  signal: AbortSignal,
): Promise<void> {
  if (call.write(message)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
