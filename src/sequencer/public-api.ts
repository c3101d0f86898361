import type { Logger } from 'pino';
import { CommonErrors, WeftError } from '../errors/index.js';
import type {
  AuthenticateRequest,
  AuthenticateResponse,
  ChallengeRequest,
  ChallengeResponse,
  LogoutRequest,
} from '../generated/weft/sequencer/v1/sequencer_authentication_service.js';
import type {
  GetSynchronizerIdResponse,
  HandshakeRequest,
  HandshakeResponse,
  RegisterOnboardingTopologyTransactionsRequest,
} from '../generated/weft/sequencer/v1/sequencer_connect_service.js';
import type {
  AcknowledgeRequest,
  DownloadTopologyStateForInitRequest,
  DownloadTopologyStateForInitResponse,
  GetTimeResponse,
  SendAsyncRequest,
  SendAsyncResponse,
  SendRefusal,
  SubscribeRequest,
  SubscribeResponse,
} from '../generated/weft/sequencer/v1/sequencer_service.js';
import type { Clock } from '../time/index.js';
import type { MemberToken } from './client/endpoint.js';
import { SequencerErrors } from './errors.js';
import type { Sequencer } from './sequencer.js';
import type { SequencerTopology } from './topology.js';

export interface PublicApiContext {
  readonly sequencer: Sequencer;
  readonly topology: SequencerTopology;
  readonly synchronizerId: string;
  readonly sequencerId: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** An authenticated caller: its member id, its token (hex) and when the token expires (µs). */
export interface Caller {
  readonly member: string;
  readonly token: string;
  readonly expiresAt: bigint;
}

/**
 * The sequencer's public API (connect, authentication and sequencer services) apart from its transport: the gRPC
 * server (grpc-server.ts) and the simulation's in-process network both call it, so every request takes the same
 * checks. It keeps track of open subscriptions to end them on logout, token expiry or shutdown.
 */
export class SequencerPublicApi {
  readonly #open = new Map<AbortController, string>();

  constructor(private readonly c: PublicApiContext) {
    c.sequencer.auth.onLogout((token) => {
      for (const [controller, t] of this.#open) if (t === token) controller.abort(loggedOut());
    });
  }

  // ---- connect service ----------------------------------------------------------------------------------------

  async handshake(request: HandshakeRequest): Promise<HandshakeResponse> {
    const c = this.c;
    const version = c.topology.protocolVersion;
    if (!request.clientProtocolVersions.includes(version)) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED,
        `synchronizer ${c.synchronizerId} runs protocol version ${version}, the client supports ${
          request.clientProtocolVersions.join(', ') || 'none'
        }`,
      );
    }
    return {
      serverProtocolVersion: version,
      synchronizerId: c.synchronizerId,
      sequencerId: c.sequencerId,
      staticParameters: { protocolVersion: version },
      dynamicParameters: c.topology.parameters(c.clock.now()),
    };
  }

  getSynchronizerId(): GetSynchronizerIdResponse {
    return { synchronizerId: this.c.synchronizerId, sequencerId: this.c.sequencerId };
  }

  async registerOnboardingTopologyTransactions(
    request: RegisterOnboardingTopologyTransactionsRequest,
  ): Promise<Record<string, never>> {
    await this.c.sequencer.registerOnboarding(request.signedTransactions);
    return {};
  }

  // ---- authentication service ---------------------------------------------------------------------------------

  async challenge(request: ChallengeRequest): Promise<ChallengeResponse> {
    const c = this.c;
    const versions = request.memberProtocolVersions;
    if (versions.length > 0 && !versions.includes(c.topology.protocolVersion)) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_PROTOCOL_VERSION_UNSUPPORTED,
        `synchronizer ${c.synchronizerId} runs protocol version ${c.topology.protocolVersion}, ${request.member} supports ${versions.join(', ')}`,
      );
    }
    return this.c.sequencer.auth.challenge(request.member);
  }

  async authenticate(request: AuthenticateRequest): Promise<AuthenticateResponse> {
    return this.c.sequencer.auth.authenticate(
      request.member,
      request.nonce,
      request.signature,
      request.signedBy,
    );
  }

  async logout(request: LogoutRequest): Promise<Record<string, never>> {
    this.c.sequencer.auth.logout(request.token);
    return {};
  }

  // ---- sequencer service --------------------------------------------------------------------------------------

  /** The caller a member's token stands for; SEQUENCER_TOKEN_INVALID (or the like) when it stands for none. */
  caller(auth: MemberToken | undefined): Caller {
    const member = auth?.member ?? '';
    const grant = this.c.sequencer.auth.check(auth?.token, member);
    return { member, token: Buffer.from(auth!.token).toString('hex'), expiresAt: grant.expiresAt };
  }

  async sendAsync(request: SendAsyncRequest, caller: Caller): Promise<SendAsyncResponse> {
    const signed = request.signedSubmissionRequestBatch;
    if (!signed)
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'SendAsync without a signed submission batch');
    const results = await this.c.sequencer.sendAsync(caller.member, signed);
    return {
      results: results.map((r) => (r.kind === 'accepted' ? {} : { refusal: refusalOf(r.error) })),
    };
  }

  async acknowledge(request: AcknowledgeRequest, caller: Caller): Promise<Record<string, never>> {
    const signed = request.signedAcknowledgement;
    if (!signed)
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'Acknowledge without a signed acknowledgement');
    await this.c.sequencer.acknowledge(caller.member, signed);
    return {};
  }

  getTime(_caller: Caller): GetTimeResponse {
    return { sequencingTime: this.c.sequencer.getTime() };
  }

  async downloadTopologyStateForInit(
    request: DownloadTopologyStateForInitRequest,
    caller: Caller,
  ): Promise<DownloadTopologyStateForInitResponse> {
    if (request.member !== caller.member) {
      throw new WeftError(
        CommonErrors.PERMISSION_DENIED,
        `${caller.member} cannot download the state for ${request.member}`,
      );
    }
    return { topologyStateSnapshot: await this.c.topology.exportState() };
  }

  /**
   * Streams the caller's events from the requested counter through `write` (which waits while the receiver is
   * full) until `cancelled` aborts, the token expires or is logged out, or the API closes; `started` is called
   * once the subscription is valid. Resolves when the client cancelled; rejects with why the server ended it.
   */
  async subscribe(
    request: SubscribeRequest,
    caller: Caller,
    write: (response: SubscribeResponse, signal: AbortSignal) => Promise<void>,
    started: () => void,
    cancelled: AbortSignal,
  ): Promise<void> {
    const c = this.c;
    const { member, token, expiresAt } = caller;
    if (request.member !== member) {
      throw new WeftError(CommonErrors.PERMISSION_DENIED, `${member} cannot subscribe for ${request.member}`);
    }
    const controller = new AbortController();
    const cancel = () => controller.abort();
    if (cancelled.aborted) return;
    cancelled.addEventListener('abort', cancel, { once: true });
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
        request.fromCounter,
        (block) => write({ block }, controller.signal),
        controller.signal,
        started,
      );
      const reason = controller.signal.reason;
      if (reason instanceof WeftError) throw reason;
    } finally {
      cancelExpiry();
      cancelled.removeEventListener('abort', cancel);
      this.#open.delete(controller);
    }
  }

  /** Ends every open subscription: the node is stopping. */
  closeAll(): void {
    for (const controller of this.#open.keys()) {
      controller.abort(
        new WeftError(SequencerErrors.SEQUENCER_UNAVAILABLE, 'the sequencer node is stopping'),
      );
    }
  }
}

function loggedOut(): WeftError {
  return new WeftError(
    SequencerErrors.SEQUENCER_TOKEN_INVALID,
    'the token was logged out; authenticate again',
  );
}

/** A refusal as the wire carries it: the error's code, message and context, which the client rethrows as is. */
export function refusalOf(error: WeftError): SendRefusal {
  return { code: error.code, reason: error.message, context: error.toJSON().context };
}
