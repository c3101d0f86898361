import * as grpc from '@grpc/grpc-js';
import type { SigningPrivateKey } from '../../crypto/index.js';
import { WeftError } from '../../errors/index.js';
import { SequencerAuthenticationServiceClient } from '../../generated/weft/sequencer/v1/sequencer_authentication_service.grpc-client.js';
import { SequencerConnectServiceClient } from '../../generated/weft/sequencer/v1/sequencer_connect_service.grpc-client.js';
import type {
  HandshakeResponse,
  RegisterOnboardingTopologyTransactionsResponse,
} from '../../generated/weft/sequencer/v1/sequencer_connect_service.js';
import { SequencerServiceClient } from '../../generated/weft/sequencer/v1/sequencer_service.grpc-client.js';
import type { SubscribeResponse } from '../../generated/weft/sequencer/v1/sequencer_service.js';
import type { SignedContent } from '../../generated/weft/sequencer/v1/sequencing.js';
import {
  type ClientCertificate,
  callUnary,
  channelCredentials,
  type ParsedEndpoint,
  parseEndpoint,
  type Unary,
} from '../../grpc/index.js';
import type { Clock } from '../../time/index.js';
import { SequencerErrors } from '../errors.js';
import { AUTHORIZATION_METADATA_KEY, MEMBER_METADATA_KEY, sequencerError } from '../grpc-common.js';
import { authenticationHash } from '../signing.js';

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
}

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
};

/** The three sequencer services on one endpoint, over one channel, with a member's token once authenticated. */
export class EndpointConnection {
  readonly endpoint: ParsedEndpoint;
  readonly #channel: grpc.Channel;
  readonly #connect: SequencerConnectServiceClient;
  readonly #auth: SequencerAuthenticationServiceClient;
  readonly #sequencer: SequencerServiceClient;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #token: { bytes: Uint8Array; expiresAt: bigint; member: string } | undefined;

  constructor(endpoint: ParsedEndpoint, transport: TransportOptions, clock: Clock) {
    this.endpoint = endpoint;
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
    this.#sequencer = new SequencerServiceClient(endpoint.target, credentials, shared);
  }

  /** When the current token expires (µs), if there is one. */
  get tokenExpiresAt(): bigint | undefined {
    return this.#token?.expiresAt;
  }

  close(): void {
    this.#channel.close();
  }

  handshake(protocolVersions: readonly number[]): Promise<HandshakeResponse> {
    return this.#unary(this.#connect.handshake.bind(this.#connect), {
      clientProtocolVersions: [...protocolVersions],
    });
  }

  registerOnboarding(
    signedTransactions: readonly Uint8Array[],
  ): Promise<RegisterOnboardingTopologyTransactionsResponse> {
    return this.#unary(this.#connect.registerOnboardingTopologyTransactions.bind(this.#connect), {
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
    const challenge = await this.#unary(this.#auth.challenge.bind(this.#auth), {
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
    const response = await this.#unary(this.#auth.authenticate.bind(this.#auth), {
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
    if (token) await this.#unary(this.#auth.logout.bind(this.#auth), { token: token.bytes });
  }

  sendAsync(signedSubmissionRequest: SignedContent): Promise<unknown> {
    return this.#unary(this.#sequencer.sendAsync.bind(this.#sequencer), { signedSubmissionRequest }, true);
  }

  acknowledge(signedAcknowledgement: SignedContent): Promise<unknown> {
    return this.#unary(this.#sequencer.acknowledge.bind(this.#sequencer), { signedAcknowledgement }, true);
  }

  async getTime(): Promise<bigint> {
    return (await this.#unary(this.#sequencer.getTime.bind(this.#sequencer), {}, true)).sequencingTime;
  }

  async downloadTopologyState(member: string): Promise<Uint8Array> {
    const response = await this.#unary(
      this.#sequencer.downloadTopologyStateForInit.bind(this.#sequencer),
      { member },
      true,
    );
    return response.topologyStateSnapshot;
  }

  /** The member's event stream from counter `from`. */
  subscribe(member: string, from: bigint): grpc.ClientReadableStream<SubscribeResponse> {
    return this.#sequencer.subscribe({ member, fromCounter: from }, this.#metadata());
  }

  /** Maps a failure of a call or stream on this endpoint to a WeftError. */
  error(e: unknown): WeftError {
    return sequencerError(e, this.endpoint.url);
  }

  #metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.#token) {
      metadata.set(MEMBER_METADATA_KEY, this.#token.member);
      metadata.set(AUTHORIZATION_METADATA_KEY, `Bearer ${Buffer.from(this.#token.bytes).toString('base64')}`);
    }
    return metadata;
  }

  #unary<Req, Res>(method: Unary<Req, Res>, request: Req, authenticated = false): Promise<Res> {
    const deadline = new Date(Number(this.#clock.now() / 1000n) + this.#timeoutMs);
    const metadata = authenticated ? this.#metadata() : new grpc.Metadata();
    return callUnary(method, request, metadata, deadline, (e) => this.error(e));
  }
}
