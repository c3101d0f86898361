import * as grpc from '@grpc/grpc-js';
import { CommonErrors, WeftError } from '../errors/index.js';
import type { ISequencerAuthenticationService } from '../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-server.js';
import { sequencerAuthenticationServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-server.js';
import type { ISequencerConnectService } from '../generated/weft/sequencer/v1/sequencer_connect_service.grpc-server.js';
import { sequencerConnectServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_connect_service.grpc-server.js';
import type { ISequencerService } from '../generated/weft/sequencer/v1/sequencer_service.grpc-server.js';
import { sequencerServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_service.grpc-server.js';
import {
  type SendStreamRequest,
  type SendStreamResponse,
  SequencerService,
  type SubscribeRequest,
  type SubscribeResponse,
} from '../generated/weft/sequencer/v1/sequencer_service.js';
import {
  auditedCall,
  auditedUnary,
  bindServer,
  type CallLogging,
  requireTransportSecurity,
  type ServerTls,
  serverCredentials,
  toStatus,
  withFastSerializers,
} from '../grpc/index.js';
import { ApiMetrics, type NodeMetrics } from '../observability/index.js';
import { SequencerErrors } from './errors.js';
import {
  AUTHORIZATION_METADATA_KEY,
  MAX_CALLS_PER_SUBMISSION_STREAM,
  MEMBER_METADATA_KEY,
  SERVICE_NAME,
} from './grpc-common.js';
import type { InProcessSequencers } from './in-process.js';
import { type Caller, type PublicApiContext, refusalOf, SequencerPublicApi } from './public-api.js';

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
  const submissions = new SubmissionStreams(api, logging);
  server.addService(
    withFastSerializers(sequencerServiceDefinition, SequencerService),
    sequencerService(api, logging, submissions),
  );
  const port = await bindServer(server, address, options.port, serverCredentials(options.tls), SERVICE_NAME);
  const withdraw = options.inProcess?.serve(port, api);
  return {
    port,
    async close(graceful) {
      withdraw?.();
      api.closeAll();
      submissions.closeAll();
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

function sequencerService(
  api: SequencerPublicApi,
  logging: CallLogging,
  submissions: SubmissionStreams,
): ISequencerService {
  return {
    sendAsync: auditedUnary(logging, 'SendAsync', (call) =>
      api.sendAsync(call.request, callerOf(api, call.metadata)),
    ),
    sendStream: (call) => submissions.serve(call),
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

type SubmissionCall = grpc.ServerDuplexStream<SendStreamRequest, SendStreamResponse>;

/**
 * SendAsync calls over long-lived streams (docs/sequencer.md, 'Submission streams'): each message is one call, run
 * exactly as the unary SendAsync with the stream's metadata (its token checked per call, so an expired or revoked
 * token fails the call as it would fail a unary one), logged and audited as SendAsync, and answered by call id.
 */
class SubmissionStreams {
  readonly #api: SequencerPublicApi;
  readonly #logging: CallLogging;
  /** Open streams, each with what ends it once its calls are answered (when the node stops). */
  readonly #open = new Map<SubmissionCall, () => void>();
  #closing = false;

  constructor(api: SequencerPublicApi, logging: CallLogging) {
    this.#api = api;
    this.#logging = logging;
  }

  serve(call: SubmissionCall): void {
    let inProgress = 0;
    let ended = this.#closing;
    // The stream ends once the client half-closed (or the node stops) and every call it sent is answered.
    const finish = () => {
      if (!ended || inProgress > 0) return;
      this.#open.delete(call);
      if (!call.cancelled && call.writable) call.end();
    };
    this.#open.set(call, () => {
      ended = true;
      finish();
    });
    const answer = (callId: bigint, outcome: SendStreamResponse['outcome']) => {
      if (!call.cancelled && call.writable) call.write({ callId, outcome });
    };
    call.on('data', (message: SendStreamRequest) => {
      const { callId } = message;
      if (ended) {
        answer(callId, { oneofKind: 'error', error: refusalOf(unavailable()) });
        return;
      }
      if (inProgress >= MAX_CALLS_PER_SUBMISSION_STREAM) {
        answer(callId, { oneofKind: 'error', error: refusalOf(overloaded()) });
        return;
      }
      inProgress++;
      auditedCall(
        this.#logging,
        'SendAsync',
        call,
        message.traceparent || undefined,
        async () => {
          if (!message.request) {
            throw new WeftError(CommonErrors.INVALID_ARGUMENT, `SendStream call ${callId} without a request`);
          }
          return this.#api.sendAsync(message.request, callerOf(this.#api, call.metadata));
        },
        (outcome) => {
          inProgress--;
          answer(
            callId,
            outcome.ok
              ? { oneofKind: 'response', response: outcome.response }
              : { oneofKind: 'error', error: refusalOf(outcome.error) },
          );
          finish();
        },
      );
    });
    call.on('end', () => {
      ended = true;
      finish();
    });
    // A client that goes away cancels the stream; its calls in progress still complete, unanswered.
    call.on('error', () => this.#open.delete(call));
    call.on('cancelled', () => this.#open.delete(call));
    if (this.#closing) finish();
  }

  /** Ends every stream once its calls in progress are answered; later calls on them are refused as unavailable. */
  closeAll(): void {
    this.#closing = true;
    for (const end of [...this.#open.values()]) end();
  }
}

function overloaded(): WeftError {
  return new WeftError(
    SequencerErrors.SEQUENCER_OVERLOADED,
    `a submission stream may have at most ${MAX_CALLS_PER_SUBMISSION_STREAM} calls in progress`,
  );
}

function unavailable(): WeftError {
  return new WeftError(SequencerErrors.SEQUENCER_UNAVAILABLE, 'this sequencer node is stopping');
}
