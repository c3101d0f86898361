import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CommonErrors, WeftError } from '../errors/index.js';
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
import type { Clock } from '../time/index.js';
import { SequencerErrors } from './errors.js';
import { AUTHORIZATION_METADATA_KEY, MEMBER_METADATA_KEY, SERVICE_NAME } from './grpc-common.js';
import type { Sequencer } from './sequencer.js';
import type { SequencerTopology } from './topology.js';

export type { ServerTls };

export interface PublicApiOptions {
  /** Bind address; default 127.0.0.1. */
  readonly address?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls?: ServerTls;
  /** Allow plaintext on a non-loopback address. */
  readonly insecure?: boolean;
}

export interface PublicApiServer {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting calls; `graceful` waits for unary calls in progress, otherwise cuts every connection. */
  close(graceful: boolean): Promise<void>;
}

interface ApiContext {
  readonly sequencer: Sequencer;
  readonly topology: SequencerTopology;
  readonly synchronizerId: string;
  readonly sequencerId: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Starts the sequencer's public gRPC API (connect, authentication and sequencer services). */
export async function startPublicApi(
  context: ApiContext,
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
  server.addService(sequencerConnectServiceDefinition, connectService(context));
  server.addService(sequencerAuthenticationServiceDefinition, authenticationService(context));
  const sequencerService = new SubscriptionTracking(context);
  server.addService(sequencerServiceDefinition, sequencerService.service());
  const port = await bindServer(server, address, options.port, serverCredentials(options.tls), SERVICE_NAME);
  return {
    port,
    async close(graceful) {
      sequencerService.closeAll();
      if (!graceful) {
        server.forceShutdown();
        return;
      }
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/** Unary calls run in a span continuing the caller's trace and log one audit line each (at debug: sends are hot). */
function callLogging(c: ApiContext): CallLogging {
  return { logger: c.logger, level: 'debug', service: SERVICE_NAME };
}

function connectService(c: ApiContext): ISequencerConnectService {
  return {
    handshake: auditedUnary(callLogging(c), 'Handshake', async (call) => {
      const version = c.topology.protocolVersion;
      if (!call.request.clientProtocolVersions.includes(version)) {
        throw new WeftError(
          SequencerErrors.SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED,
          `synchronizer ${c.synchronizerId} runs protocol version ${version}, the client supports ${
            call.request.clientProtocolVersions.join(', ') || 'none'
          }`,
        );
      }
      return {
        serverProtocolVersion: version,
        synchronizerId: c.synchronizerId,
        sequencerId: c.sequencerId,
        staticParameters: { protocolVersion: version },
        dynamicParameters: await c.topology.parameters(c.clock.now()),
      };
    }),
    getSynchronizerId: auditedUnary(callLogging(c), 'GetSynchronizerId', async () => ({
      synchronizerId: c.synchronizerId,
      sequencerId: c.sequencerId,
    })),
    registerOnboardingTopologyTransactions: auditedUnary(
      callLogging(c),
      'RegisterOnboardingTopologyTransactions',
      async (call) => {
        await c.sequencer.registerOnboarding(call.request.signedTransactions);
        return {};
      },
    ),
  };
}

function authenticationService(c: ApiContext): ISequencerAuthenticationService {
  const auth = c.sequencer.auth;
  return {
    challenge: auditedUnary(callLogging(c), 'Challenge', async (call) => {
      const versions = call.request.memberProtocolVersions;
      if (versions.length > 0 && !versions.includes(c.topology.protocolVersion)) {
        throw new WeftError(
          SequencerErrors.SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED,
          `synchronizer ${c.synchronizerId} runs protocol version ${c.topology.protocolVersion}, ${call.request.member} supports ${versions.join(', ')}`,
        );
      }
      return auth.challenge(call.request.member);
    }),
    authenticate: auditedUnary(callLogging(c), 'Authenticate', async (call) => {
      const r = call.request;
      return auth.authenticate(r.member, r.nonce, r.signature, r.signedBy);
    }),
    logout: auditedUnary(callLogging(c), 'Logout', async (call) => {
      auth.logout(call.request.token);
      return {};
    }),
  };
}

/** The authenticated member of a call, from its `weft-member` and `authorization: Bearer <base64>` metadata. */
function authenticate(
  c: ApiContext,
  metadata: grpc.Metadata,
): { member: string; token: string; expiresAt: bigint } {
  const member = String(metadata.get(MEMBER_METADATA_KEY)[0] ?? '');
  const header = String(metadata.get(AUTHORIZATION_METADATA_KEY)[0] ?? '');
  const match = /^Bearer ([A-Za-z0-9+/=_-]+)$/.exec(header);
  const token = match ? Buffer.from(match[1]!, 'base64') : undefined;
  const grant = c.sequencer.auth.check(token, member);
  return { member, token: token!.toString('hex'), expiresAt: grant.expiresAt };
}

/** The sequencer service, which keeps track of open subscriptions to end them on logout, expiry or shutdown. */
class SubscriptionTracking {
  readonly #open = new Map<AbortController, string>();

  constructor(private readonly c: ApiContext) {
    c.sequencer.auth.onLogout((token) => {
      for (const [controller, t] of this.#open) if (t === token) controller.abort(loggedOut());
    });
  }

  closeAll(): void {
    for (const controller of this.#open.keys()) {
      controller.abort(
        new WeftError(SequencerErrors.SEQUENCER_UNAVAILABLE, 'the sequencer node is stopping'),
      );
    }
  }

  service(): ISequencerService {
    const c = this.c;
    return {
      sendAsync: auditedUnary(callLogging(c), 'SendAsync', async (call) => {
        const { member } = authenticate(c, call.metadata);
        const signed = call.request.signedSubmissionRequest;
        if (!signed)
          throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'SendAsync without a signed submission');
        await c.sequencer.sendAsync(member, signed);
        return {};
      }),
      acknowledge: auditedUnary(callLogging(c), 'Acknowledge', async (call) => {
        const { member } = authenticate(c, call.metadata);
        const signed = call.request.signedAcknowledgement;
        if (!signed)
          throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'Acknowledge without a signed acknowledgement');
        await c.sequencer.acknowledge(member, signed);
        return {};
      }),
      getTime: auditedUnary(callLogging(c), 'GetTime', async (call) => {
        authenticate(c, call.metadata);
        return { sequencingTime: c.sequencer.getTime() };
      }),
      downloadTopologyStateForInit: auditedUnary(
        callLogging(c),
        'DownloadTopologyStateForInit',
        async (call) => {
          const { member } = authenticate(c, call.metadata);
          if (call.request.member !== member) {
            throw new WeftError(
              CommonErrors.PERMISSION_DENIED,
              `${member} cannot download the state for ${call.request.member}`,
            );
          }
          return { topologyStateSnapshot: await c.topology.exportState() };
        },
      ),
      subscribe: (call) => {
        this.#subscribe(call).catch((e: unknown) => {
          if (!(e instanceof WeftError)) c.logger.error({ err: e }, 'subscription failed');
          if (!call.cancelled) call.emit('error', toStatus(e, SERVICE_NAME));
        });
      },
    };
  }

  async #subscribe(call: grpc.ServerWritableStream<SubscribeRequest, SubscribeResponse>): Promise<void> {
    const c = this.c;
    const { member, token, expiresAt } = authenticate(c, call.metadata);
    if (call.request.member !== member) {
      throw new WeftError(
        CommonErrors.PERMISSION_DENIED,
        `${member} cannot subscribe for ${call.request.member}`,
      );
    }
    const controller = new AbortController();
    const cancelled = () => controller.abort();
    call.on('cancelled', cancelled);
    call.on('close', cancelled);
    const untilExpiry = Number((expiresAt - c.clock.now()) / 1000n);
    const cancelExpiry = c.clock.schedule(Math.max(0, untilExpiry), () =>
      controller.abort(
        new WeftError(
          SequencerErrors.SEQUENCER_TOKEN_INVALID,
          `the token of ${member} expired; authenticate again`,
        ),
      ),
    );
    this.#open.set(controller, token);
    try {
      await c.sequencer.subscribe(
        member,
        call.request.fromCounter,
        (signedEvent) => write(call, { signedEvent }, controller.signal),
        controller.signal,
        // Response headers tell the client that the subscription is valid before any event exists.
        () => call.sendMetadata(new grpc.Metadata()),
      );
      const reason = controller.signal.reason;
      if (reason instanceof WeftError) throw reason;
      if (!call.cancelled) call.end();
    } finally {
      cancelExpiry();
      this.#open.delete(controller);
    }
  }
}

function loggedOut(): WeftError {
  return new WeftError(
    SequencerErrors.SEQUENCER_TOKEN_INVALID,
    'the token was logged out; authenticate again',
  );
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
