import * as grpc from '@grpc/grpc-js';
import { WeftError } from '../errors/index.js';
import { NodeStatusServiceClient } from '../generated/weft/admin/v1/node_status_service.grpc-client.js';
import type {
  GetIdentityResponse,
  GetStatusResponse,
  IdentityTransactions,
  SetLogLevelResponse,
} from '../generated/weft/admin/v1/node_status_service.js';
import { ParticipantAdminServiceClient } from '../generated/weft/admin/v1/participant_admin_service.grpc-client.js';
import type {
  ConnectedSynchronizer,
  ConnectSynchronizerResponse,
  DarDescription,
  HostedParty,
  SynchronizerConnection,
} from '../generated/weft/admin/v1/participant_admin_service.js';
import { SynchronizerBootstrapServiceClient } from '../generated/weft/admin/v1/synchronizer_bootstrap_service.grpc-client.js';
import type {
  BootstrapParameters,
  BootstrapResponse,
} from '../generated/weft/admin/v1/synchronizer_bootstrap_service.js';
import { TopologyServiceClient } from '../generated/weft/admin/v1/topology_service.grpc-client.js';
import type {
  AddMediatorResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
  ProposeRequest,
  SetParticipantStateRequest,
  TopologyChangeResult,
} from '../generated/weft/admin/v1/topology_service.js';
import {
  type ClientCertificate,
  callUnary,
  channelCredentials,
  type ParsedEndpoint,
  parseEndpoint,
  transportError,
  type Unary,
  weftErrorOf,
} from '../grpc/index.js';
import { currentTraceparent } from '../observability/index.js';
import { type Clock, systemClock } from '../time/index.js';
import { AdminErrors } from './errors.js';
import { ADMIN_MAX_MESSAGE_BYTES } from './server.js';

export interface AdminClientOptions {
  /** PEM root certificate(s) to trust for an https endpoint instead of the system's public CAs. */
  readonly customTrustCertificates?: Uint8Array | string;
  /** For a node whose admin API authenticates clients by certificate. */
  readonly clientCertificate?: ClientCertificate;
  /** Allow plaintext (http://) to a non-loopback host. */
  readonly insecure?: boolean;
  /** Deadline of each call; default 60 s (topology changes wait until they are in force). */
  readonly callTimeoutMs?: number;
  /** Where call deadlines are read from; default the system clock. */
  readonly clock?: Clock;
  /** The largest request and response, in bytes; default {@link ADMIN_MAX_MESSAGE_BYTES}. */
  readonly maxMessageBytes?: number;
}

/** A client of one node's Admin API; failures are WeftErrors (the node's own, or ADMIN_CONNECTION_FAILED). */
export class AdminClient {
  readonly endpoint: ParsedEndpoint;
  readonly #channel: grpc.Channel;
  readonly #status: NodeStatusServiceClient;
  readonly #topology: TopologyServiceClient;
  readonly #bootstrap: SynchronizerBootstrapServiceClient;
  readonly #participant: ParticipantAdminServiceClient;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  /** Connects lazily: the first call reaches the node. */
  constructor(url: string, options: AdminClientOptions = {}) {
    this.endpoint = parseEndpoint(url, {
      ...(options.insecure === undefined ? {} : { insecure: options.insecure }),
      what: 'admin endpoint',
      insecureCode: AdminErrors.ADMIN_INSECURE_CONNECTION,
    });
    this.#timeoutMs = options.callTimeoutMs ?? 60_000;
    this.#clock = options.clock ?? systemClock;
    const credentials = channelCredentials(
      this.endpoint,
      options.customTrustCertificates,
      options.clientCertificate,
    );
    const maxMessageBytes = options.maxMessageBytes ?? ADMIN_MAX_MESSAGE_BYTES;
    this.#channel = new grpc.Channel(this.endpoint.target, credentials, {
      'grpc.max_send_message_length': maxMessageBytes,
      'grpc.max_receive_message_length': maxMessageBytes,
    });
    const shared = { channelOverride: this.#channel };
    this.#status = new NodeStatusServiceClient(this.endpoint.target, credentials, shared);
    this.#topology = new TopologyServiceClient(this.endpoint.target, credentials, shared);
    this.#bootstrap = new SynchronizerBootstrapServiceClient(this.endpoint.target, credentials, shared);
    this.#participant = new ParticipantAdminServiceClient(this.endpoint.target, credentials, shared);
  }

  close(): void {
    this.#channel.close();
  }

  status(): Promise<GetStatusResponse> {
    return this.#unary(this.#status.getStatus.bind(this.#status), {});
  }

  identity(): Promise<GetIdentityResponse> {
    return this.#unary(this.#status.getIdentity.bind(this.#status), {});
  }

  /** Sets the level of the node (`component` absent) or of one component, until the node restarts. */
  setLogLevel(level: string, component = ''): Promise<SetLogLevelResponse> {
    return this.#unary(this.#status.setLogLevel.bind(this.#status), { level, component });
  }

  /** A zip archive of the node's status, redacted config, recent log lines and metrics. */
  async healthDump(): Promise<Uint8Array> {
    return (await this.#unary(this.#status.healthDump.bind(this.#status), {})).archive;
  }

  /** The node's identity transactions, signed by its own keys (what an owner needs to onboard it). */
  async identityTransactions(): Promise<IdentityTransactions> {
    const call = this.#status.getIdentityTransactions.bind(this.#status);
    return (await this.#unary(call, {})).identity!;
  }

  /**
   * On a sequencer node: creates the synchronizer, with `mediators` and other `sequencers` (their identity
   * transactions) in the genesis, and the sequencers' trust threshold (default 1).
   */
  bootstrap(
    synchronizerName: string,
    parameters?: Partial<BootstrapParameters>,
    members: {
      readonly mediators?: readonly IdentityTransactions[];
      readonly sequencers?: readonly IdentityTransactions[];
      readonly sequencerThreshold?: number;
    } = {},
  ): Promise<BootstrapResponse> {
    return this.#unary(this.#bootstrap.bootstrap.bind(this.#bootstrap), {
      synchronizerName,
      ...(parameters ? { parameters: { onboardingRestriction: 0, ...parameters } } : {}),
      mediators: [...(members.mediators ?? [])],
      sequencers: [...(members.sequencers ?? [])],
      sequencerThreshold: members.sequencerThreshold ?? 0,
    });
  }

  /** On a sequencer node whose namespace owns the synchronizer: onboards a mediator into `group` (default 0). */
  addMediator(identity: IdentityTransactions, group = 0): Promise<AddMediatorResponse> {
    return this.#unary(this.#topology.addMediator.bind(this.#topology), { identity, group });
  }

  listTopology(request: Partial<ListTransactionsRequest> = {}): Promise<ListTransactionsResponse> {
    return this.#unary(this.#topology.listTransactions.bind(this.#topology), {
      mappingCode: 0,
      filter: '',
      includeProposals: false,
      synchronizerId: '',
      ...request,
    });
  }

  async propose(request: ProposeRequest): Promise<TopologyChangeResult> {
    return (await this.#unary(this.#topology.propose.bind(this.#topology), request)).result!;
  }

  async authorize(transactionHash: string): Promise<TopologyChangeResult> {
    return (await this.#unary(this.#topology.authorize.bind(this.#topology), { transactionHash })).result!;
  }

  async setParticipantState(
    request: Pick<SetParticipantStateRequest, 'participantId'> & Partial<SetParticipantStateRequest>,
  ): Promise<TopologyChangeResult> {
    const call = this.#topology.setParticipantState.bind(this.#topology);
    return (await this.#unary(call, { permission: 0, trustLevel: 0, ...request })).result!;
  }

  async revokeParticipant(participantId: string): Promise<TopologyChangeResult> {
    const call = this.#topology.revokeParticipant.bind(this.#topology);
    return (await this.#unary(call, { participantId })).result!;
  }

  /** On a participant node: connects it to a synchronizer (onboarding it on the first connection). */
  connectSynchronizer(
    connection: Pick<SynchronizerConnection, 'alias'> & Partial<SynchronizerConnection>,
  ): Promise<ConnectSynchronizerResponse> {
    const call = this.#participant.connectSynchronizer.bind(this.#participant);
    return this.#unary(call, {
      connection: {
        insecure: false,
        endpoints: [],
        sequencers: [],
        sequencerTrustThreshold: 0,
        ...connection,
      },
    });
  }

  /** On a participant node: disconnects the synchronizer connected under `alias`; resolves with its id. */
  async disconnectSynchronizer(alias: string): Promise<string> {
    const call = this.#participant.disconnectSynchronizer.bind(this.#participant);
    return (await this.#unary(call, { alias })).synchronizerId;
  }

  async connectedSynchronizers(): Promise<ConnectedSynchronizer[]> {
    const call = this.#participant.listConnectedSynchronizers.bind(this.#participant);
    return (await this.#unary(call, {})).synchronizers;
  }

  /**
   * Allocates a party `name::<participant namespace>` on the participant, on `synchronizerId` (needed when it is
   * connected to several); resolves with its id.
   */
  async enableParty(name: string, synchronizerId = ''): Promise<string> {
    const call = this.#participant.enableParty.bind(this.#participant);
    return (await this.#unary(call, { name, synchronizerId })).partyId;
  }

  async parties(): Promise<HostedParty[]> {
    return (await this.#unary(this.#participant.listParties.bind(this.#participant), {})).parties;
  }

  /** Uploads (validates, stores and vets) a DAR; resolves with its main package id. */
  async uploadDar(dar: Uint8Array, skipVetting = false): Promise<string> {
    const call = this.#participant.uploadDar.bind(this.#participant);
    return (await this.#unary(call, { dar, skipVetting })).mainPackageId;
  }

  async dars(): Promise<DarDescription[]> {
    return (await this.#unary(this.#participant.listDars.bind(this.#participant), {})).dars;
  }

  /** health.ping from this participant to `participantId`; resolves with the round trip in ms. */
  async ping(participantId: string, timeoutMs?: number): Promise<number> {
    const call = this.#participant.ping.bind(this.#participant);
    return (await this.#unary(call, { participantId, ...(timeoutMs === undefined ? {} : { timeoutMs }) }))
      .roundTripMs;
  }

  /** The WeftError a failed call stands for. */
  error(e: unknown): WeftError {
    const weft = weftErrorOf(e);
    if (weft) return weft;
    const status = e as Partial<grpc.ServiceError>;
    // grpc-js refuses an oversized message with RESOURCE_EXHAUSTED, on either side, naming the limit last:
    // "Attempted to send message with a size larger than <limit>", "Received message larger than max (<n> vs <limit>)".
    if (status.code === grpc.status.RESOURCE_EXHAUSTED) {
      const details = status.details ?? '';
      const limit = /(\d+)\)?$/.exec(details)?.[1];
      return new WeftError(
        AdminErrors.ADMIN_MESSAGE_TOO_LARGE,
        `a message to or from admin endpoint ${this.endpoint.url} exceeds the limit` +
          `${limit === undefined ? '' : ` of ${limit} bytes`}: ${details}`,
        { endpoint: this.endpoint.url, ...(limit === undefined ? {} : { limitBytes: Number(limit) }) },
        { cause: e },
      );
    }
    return transportError(e, AdminErrors.ADMIN_CONNECTION_FAILED, 'admin endpoint', this.endpoint.url);
  }

  #unary<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    const metadata = new grpc.Metadata();
    const traceparent = currentTraceparent();
    if (traceparent) metadata.set('traceparent', traceparent);
    const deadline = new Date(Number(this.#clock.now() / 1000n) + this.#timeoutMs);
    return callUnary(method, request, metadata, deadline, (e) => this.error(e));
  }
}
