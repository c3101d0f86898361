import * as grpc from '@grpc/grpc-js';
import type { SigningPrivateKey } from '../../crypto/index.js';
import { WeftError } from '../../errors/index.js';
import { SequencerAuthenticationServiceClient } from '../../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-client.js';
import type {
  AuthenticateRequest,
  AuthenticateResponse,
  ChallengeRequest,
  ChallengeResponse,
  LogoutRequest,
} from '../../generated/weft/sequencer/v1/sequencer_authentication_service.js';
import { SequencerConnectServiceClient } from '../../generated/weft/sequencer/v1/sequencer_connect_service.grpc-client.js';
import type {
  HandshakeRequest,
  HandshakeResponse,
  RegisterOnboardingTopologyTransactionsRequest,
  RegisterOnboardingTopologyTransactionsResponse,
} from '../../generated/weft/sequencer/v1/sequencer_connect_service.js';
import { SequencerServiceClient } from '../../generated/weft/sequencer/v1/sequencer_service.grpc-client.js';
import type {
  AcknowledgeRequest,
  DownloadTopologyStateForInitRequest,
  DownloadTopologyStateForInitResponse,
  GetTimeRequest,
  GetTimeResponse,
  SendAsyncRequest,
  SendAsyncResponse,
  SubscribeRequest,
  SubscribeResponse,
} from '../../generated/weft/sequencer/v1/sequencer_service.js';
import type { SignedContent } from '../../generated/weft/sequencer/v1/sequencing.js';
import {
  type ClientCertificate,
  callUnary,
  channelCredentials,
  type ParsedEndpoint,
  parseEndpoint,
  type Unary,
} from '../../grpc/index.js';
import { currentTraceparent } from '../../observability/index.js';
import { type Clock, realTime } from '../../time/index.js';
import { FAST_WRITE_OPTIONS } from '../../wire/index.js';
import { SequencerErrors } from '../errors.js';
import { AUTHORIZATION_METADATA_KEY, MEMBER_METADATA_KEY, sequencerError } from '../grpc-common.js';
import { authenticationHash } from '../signing.js';
import { SubmissionStream } from './submission-stream.js';

/** How to reach the sequencer's endpoints. */
export interface TransportOptions {
  /** PEM root certificate(s) to trust for https endpoints instead of the system's public CAs. */
  readonly customTrustCertificates?: Uint8Array | string;
  /** For a public API that authenticates clients by certificate. */
  readonly clientCertificate?: ClientCertificate;
  /** Allow plaintext (http://) to non-loopback hosts. */
  readonly insecure?: boolean;
  /** Deadline of unary calls; default 10 s. */
  readonly callTimeoutMs?: number;
  /**
   * Opens the channel to an endpoint instead of gRPC: the simulation's network (src/simulation), or a sequencer of
   * this process ({@link InProcessSequencers}). An endpoint it returns no channel for is dialled over gRPC, with the
   * other options.
   */
  readonly dial?: SequencerDialer;
}

/** A member's credentials on an authenticated call. */
export interface MemberToken {
  readonly member: string;
  readonly token: Uint8Array;
}

/** A member's event stream as a channel delivers it, in order; `cancel` ends it from the client's side. */
export interface EventStream {
  on(event: 'metadata', listener: () => void): unknown;
  on(event: 'data', listener: (response: SubscribeResponse) => void): unknown;
  on(event: 'error', listener: (e: unknown) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
  cancel(): void;
}

/**
 * The calls of the sequencer's public API (connect, authentication and sequencer services) on one endpoint: the
 * seam between a sequencer client and its transport. gRPC in production ({@link GrpcSequencerChannel}); the
 * simulation's in-process network in tests. A failed call rejects with whatever the transport raised; `error`
 * maps it to a WeftError.
 */
export interface SequencerChannel {
  handshake(request: HandshakeRequest): Promise<HandshakeResponse>;
  registerOnboardingTopologyTransactions(
    request: RegisterOnboardingTopologyTransactionsRequest,
  ): Promise<RegisterOnboardingTopologyTransactionsResponse>;
  challenge(request: ChallengeRequest): Promise<ChallengeResponse>;
  authenticate(request: AuthenticateRequest): Promise<AuthenticateResponse>;
  logout(request: LogoutRequest): Promise<unknown>;
  sendAsync(request: SendAsyncRequest, auth: MemberToken | undefined): Promise<SendAsyncResponse>;
  acknowledge(request: AcknowledgeRequest, auth: MemberToken | undefined): Promise<unknown>;
  getTime(request: GetTimeRequest, auth: MemberToken | undefined): Promise<GetTimeResponse>;
  downloadTopologyStateForInit(
    request: DownloadTopologyStateForInitRequest,
    auth: MemberToken | undefined,
  ): Promise<DownloadTopologyStateForInitResponse>;
  subscribe(request: SubscribeRequest, auth: MemberToken | undefined): EventStream;
  /** The WeftError a failed call or stream stands for. */
  error(e: unknown): WeftError;
  close(): void;
}

/** Opens a channel to one endpoint of a sequencer, or leaves it to gRPC (undefined). */
export type SequencerDialer = (endpoint: ParsedEndpoint) => SequencerChannel | undefined;

/** Parses `http://host:port` or `https://host:port`; plaintext is refused off loopback unless `insecure`. */
export function parseSequencerEndpoint(url: string, insecure = false): ParsedEndpoint {
  return parseEndpoint(url, {
    insecure,
    what: 'sequencer endpoint',
    insecureCode: SequencerErrors.SEQUENCER_INSECURE_CONNECTION,
  });
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Events may be as large as the largest submission.
  'grpc.max_receive_message_length': 1 << 30,
  // Notice a silently dead server (no TCP reset) within seconds.
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  // The client retries failed calls itself, on this or another sequencer (connection.ts); gRPC's own retry layer
  // would only buffer a copy of every message (~70 µs of CPU per unary call, measured on loopback).
  'grpc.enable_retries': 0,
};

/** The public API over one gRPC channel, with deadlines on unary calls and the member's token as metadata. */
export class GrpcSequencerChannel implements SequencerChannel {
  readonly #endpoint: ParsedEndpoint;
  readonly #channel: grpc.Channel;
  readonly #connect: SequencerConnectServiceClient;
  readonly #auth: SequencerAuthenticationServiceClient;
  readonly #sequencer: SequencerServiceClient;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #submissions: SubmissionStream;

  constructor(endpoint: ParsedEndpoint, transport: TransportOptions, clock: Clock) {
    this.#endpoint = endpoint;
    this.#clock = clock;
    this.#timeoutMs = transport.callTimeoutMs ?? 10_000;
    const credentials = channelCredentials(
      endpoint,
      transport.customTrustCertificates,
      transport.clientCertificate,
    );
    this.#channel = new grpc.Channel(endpoint.target, credentials, CHANNEL_OPTIONS);
    const shared = { channelOverride: this.#channel };
    this.#connect = new SequencerConnectServiceClient(endpoint.target, credentials, shared);
    this.#auth = new SequencerAuthenticationServiceClient(endpoint.target, credentials, shared);
    // Submissions are written by the FastBinaryWriter (see `withFastSerializers`).
    this.#sequencer = new SequencerServiceClient(endpoint.target, credentials, shared, FAST_WRITE_OPTIONS);
    this.#submissions = new SubmissionStream({
      open: (metadata) => this.#sequencer.sendStream(metadata),
      toError: (e) => this.error(e),
      clock: realTime(clock),
      timeoutMs: this.#timeoutMs,
    });
  }

  handshake(request: HandshakeRequest): Promise<HandshakeResponse> {
    return this.#unary(this.#connect.handshake.bind(this.#connect), request);
  }

  registerOnboardingTopologyTransactions(
    request: RegisterOnboardingTopologyTransactionsRequest,
  ): Promise<RegisterOnboardingTopologyTransactionsResponse> {
    return this.#unary(this.#connect.registerOnboardingTopologyTransactions.bind(this.#connect), request);
  }

  challenge(request: ChallengeRequest): Promise<ChallengeResponse> {
    return this.#unary(this.#auth.challenge.bind(this.#auth), request);
  }

  authenticate(request: AuthenticateRequest): Promise<AuthenticateResponse> {
    return this.#unary(this.#auth.authenticate.bind(this.#auth), request);
  }

  logout(request: LogoutRequest): Promise<unknown> {
    return this.#unary(this.#auth.logout.bind(this.#auth), request);
  }

  sendAsync(request: SendAsyncRequest, auth: MemberToken | undefined): Promise<SendAsyncResponse> {
    const unary = (r: SendAsyncRequest) =>
      this.#unary(this.#sequencer.sendAsync.bind(this.#sequencer), r, auth);
    return auth ? this.#submissions.send(request, auth.token, () => metadataOf(auth), unary) : unary(request);
  }

  acknowledge(request: AcknowledgeRequest, auth: MemberToken | undefined): Promise<unknown> {
    return this.#unary(this.#sequencer.acknowledge.bind(this.#sequencer), request, auth);
  }

  getTime(request: GetTimeRequest, auth: MemberToken | undefined): Promise<GetTimeResponse> {
    return this.#unary(this.#sequencer.getTime.bind(this.#sequencer), request, auth);
  }

  downloadTopologyStateForInit(
    request: DownloadTopologyStateForInitRequest,
    auth: MemberToken | undefined,
  ): Promise<DownloadTopologyStateForInitResponse> {
    return this.#unary(this.#sequencer.downloadTopologyStateForInit.bind(this.#sequencer), request, auth);
  }

  subscribe(request: SubscribeRequest, auth: MemberToken | undefined): EventStream {
    return this.#sequencer.subscribe(request, metadataOf(auth));
  }

  error(e: unknown): WeftError {
    return sequencerError(e, this.#endpoint.url);
  }

  close(): void {
    this.#submissions.close();
    this.#channel.close();
  }

  #unary<Req, Res>(method: Unary<Req, Res>, request: Req, auth?: MemberToken): Promise<Res> {
    // A gRPC deadline is a wall-clock instant, whatever time the node runs on.
    const deadline = new Date(Number(realTime(this.#clock).now() / 1000n) + this.#timeoutMs);
    return callUnary(method, request, metadataOf(auth), deadline, (e) => this.error(e));
  }
}

function metadataOf(auth: MemberToken | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  // The sequencer's call span continues the caller's trace, so a submission's trace id is in its log lines too.
  const traceparent = currentTraceparent();
  if (traceparent) metadata.set('traceparent', traceparent);
  if (auth) {
    metadata.set(MEMBER_METADATA_KEY, auth.member);
    metadata.set(AUTHORIZATION_METADATA_KEY, `Bearer ${Buffer.from(auth.token).toString('base64')}`);
  }
  return metadata;
}

/** The three sequencer services on one endpoint, over one channel, with a member's token once authenticated. */
export class EndpointConnection {
  readonly endpoint: ParsedEndpoint;
  readonly #channel: SequencerChannel;
  #token: { bytes: Uint8Array; expiresAt: bigint; member: string } | undefined;

  constructor(endpoint: ParsedEndpoint, transport: TransportOptions, clock: Clock) {
    this.endpoint = endpoint;
    this.#channel = transport.dial?.(endpoint) ?? new GrpcSequencerChannel(endpoint, transport, clock);
  }

  /** When the current token expires (µs), if there is one. */
  get tokenExpiresAt(): bigint | undefined {
    return this.#token?.expiresAt;
  }

  close(): void {
    this.#channel.close();
  }

  handshake(protocolVersions: readonly number[]): Promise<HandshakeResponse> {
    return this.#channel.handshake({ clientProtocolVersions: [...protocolVersions] });
  }

  registerOnboarding(
    signedTransactions: readonly Uint8Array[],
  ): Promise<RegisterOnboardingTopologyTransactionsResponse> {
    return this.#channel.registerOnboardingTopologyTransactions({
      signedTransactions: [...signedTransactions],
    });
  }

  /** Challenge-response with `key`; the token is kept for later calls. */
  async authenticate(
    member: string,
    key: SigningPrivateKey,
    synchronizerId: string,
    sequencerId: string,
    protocolVersions: readonly number[],
  ): Promise<void> {
    const challenge = await this.#channel.challenge({
      member,
      memberProtocolVersions: [...protocolVersions],
    });
    const fingerprint = key.publicKey.fingerprint.value;
    if (!challenge.fingerprints.includes(fingerprint)) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_AUTHENTICATION_FAILED,
        `the sequencer knows the signing keys ${challenge.fingerprints.join(', ')} for ${member}, not ${fingerprint}; publish the key in an OwnerToKeyMapping`,
        { member },
      );
    }
    const response = await this.#channel.authenticate({
      member,
      nonce: challenge.nonce,
      signature: key.sign(authenticationHash(challenge.nonce, synchronizerId, sequencerId, member)),
      signedBy: fingerprint,
    });
    this.#token = { bytes: response.token, expiresAt: response.expiresAt, member };
  }

  async logout(): Promise<void> {
    const token = this.#token;
    this.#token = undefined;
    if (token) await this.#channel.logout({ token: token.bytes });
  }

  sendAsync(signedSubmissionRequestBatch: SignedContent): Promise<SendAsyncResponse> {
    return this.#channel.sendAsync({ signedSubmissionRequestBatch }, this.#auth());
  }

  acknowledge(signedAcknowledgement: SignedContent): Promise<unknown> {
    return this.#channel.acknowledge({ signedAcknowledgement }, this.#auth());
  }

  async getTime(): Promise<bigint> {
    return (await this.#channel.getTime({}, this.#auth())).sequencingTime;
  }

  async downloadTopologyState(member: string): Promise<Uint8Array> {
    const response = await this.#channel.downloadTopologyStateForInit({ member }, this.#auth());
    return response.topologyStateSnapshot;
  }

  /** The member's event stream from counter `from`. */
  subscribe(member: string, from: bigint): EventStream {
    return this.#channel.subscribe({ member, fromCounter: from }, this.#auth());
  }

  /** Maps a failure of a call or stream on this endpoint to a WeftError. */
  error(e: unknown): WeftError {
    return this.#channel.error(e);
  }

  #auth(): MemberToken | undefined {
    return this.#token && { member: this.#token.member, token: this.#token.bytes };
  }
}
