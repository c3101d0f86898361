import * as grpc from '@grpc/grpc-js';
import { CommonErrors } from '../errors/index.js';
import { PackageManagementServiceClient } from '../generated/com/daml/ledger/api/v2/admin/package_management_service.grpc-client.js';
import { PartyManagementServiceClient } from '../generated/com/daml/ledger/api/v2/admin/party_management_service.grpc-client.js';
import { UserManagementServiceClient } from '../generated/com/daml/ledger/api/v2/admin/user_management_service.grpc-client.js';
import { CommandCompletionServiceClient } from '../generated/com/daml/ledger/api/v2/command_completion_service.grpc-client.js';
import { CommandServiceClient } from '../generated/com/daml/ledger/api/v2/command_service.grpc-client.js';
import { CommandSubmissionServiceClient } from '../generated/com/daml/ledger/api/v2/command_submission_service.grpc-client.js';
import { EventQueryServiceClient } from '../generated/com/daml/ledger/api/v2/event_query_service.grpc-client.js';
import { PackageServiceClient } from '../generated/com/daml/ledger/api/v2/package_service.grpc-client.js';
import { StateServiceClient } from '../generated/com/daml/ledger/api/v2/state_service.grpc-client.js';
import { TimeServiceClient } from '../generated/com/daml/ledger/api/v2/testing/time_service.grpc-client.js';
import { UpdateServiceClient } from '../generated/com/daml/ledger/api/v2/update_service.grpc-client.js';
import { VersionServiceClient } from '../generated/com/daml/ledger/api/v2/version_service.grpc-client.js';
import { channelCredentials, parseEndpoint } from '../grpc/index.js';
import { systemClock } from '../time/index.js';

/** A generated client's unary method, called with metadata and options. */
export type LedgerUnary<Req, Res> = (
  input: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, value?: Res) => void,
) => grpc.ClientUnaryCall;

/** A generated client's server-streaming method. */
export type LedgerStream<Req, Res> = (
  input: Req,
  metadata?: grpc.Metadata,
  options?: grpc.CallOptions,
) => grpc.ClientReadableStream<Res>;

export interface LedgerApiClientOptions {
  /** Sent as `authorization: Bearer <token>` on every call. */
  readonly token?: string;
  /** PEM root certificate to trust for an https endpoint instead of the public CAs. */
  readonly customTrustCertificates?: Uint8Array | string;
  /** How long a unary call may take; default 30 s. */
  readonly deadlineMs?: number;
  /** The largest response accepted (a package payload is one); default 64 MiB. */
  readonly maxMessageBytes?: number;
}

const DEFAULT_DEADLINE_MS = 30_000;
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * A Ledger API client built only from the generated protobuf-ts clients over @grpc/grpc-js, as an application
 * builds one from the protos: a client per service, promise-returning unary calls, streams, and a bearer token on
 * every call. The CLI's `weft ledger` commands and the tests use it.
 */
export class LedgerApiClient {
  readonly version: VersionServiceClient;
  readonly state: StateServiceClient;
  readonly updates: UpdateServiceClient;
  readonly commands: CommandServiceClient;
  readonly submission: CommandSubmissionServiceClient;
  readonly completions: CommandCompletionServiceClient;
  readonly events: EventQueryServiceClient;
  readonly packages: PackageServiceClient;
  readonly parties: PartyManagementServiceClient;
  readonly packageManagement: PackageManagementServiceClient;
  readonly users: UserManagementServiceClient;
  /** testing.TimeService: served only by a participant on static time. */
  readonly time: TimeServiceClient;
  readonly #clients: grpc.Client[];

  /** `url` is http://host:port or https://host:port (plaintext to any host, as the Ledger API allows it). */
  constructor(
    readonly url: string,
    private readonly options: LedgerApiClientOptions = {},
  ) {
    const endpoint = parseEndpoint(url, {
      what: 'Ledger API endpoint',
      insecure: true,
      insecureCode: CommonErrors.INVALID_ARGUMENT,
    });
    const credentials = channelCredentials(endpoint, options.customTrustCertificates);
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const channel: grpc.ClientOptions = {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
    };
    const make = <C extends grpc.Client>(
      Client: new (target: string, credentials: grpc.ChannelCredentials, options: grpc.ClientOptions) => C,
    ) => new Client(endpoint.target, credentials, channel);
    this.version = make(VersionServiceClient);
    this.state = make(StateServiceClient);
    this.updates = make(UpdateServiceClient);
    this.commands = make(CommandServiceClient);
    this.submission = make(CommandSubmissionServiceClient);
    this.completions = make(CommandCompletionServiceClient);
    this.events = make(EventQueryServiceClient);
    this.packages = make(PackageServiceClient);
    this.parties = make(PartyManagementServiceClient);
    this.packageManagement = make(PackageManagementServiceClient);
    this.users = make(UserManagementServiceClient);
    this.time = make(TimeServiceClient);
    this.#clients = [
      this.version,
      this.state,
      this.updates,
      this.commands,
      this.submission,
      this.completions,
      this.events,
      this.packages,
      this.parties,
      this.packageManagement,
      this.users,
      this.time,
    ];
  }

  /** The same endpoint with another token. */
  withToken(token: string | undefined): LedgerApiClient {
    const { token: _, ...rest } = this.options;
    return new LedgerApiClient(this.url, token === undefined ? rest : { ...rest, token });
  }

  metadata(): grpc.Metadata {
    const m = new grpc.Metadata();
    if (this.options.token !== undefined) m.set('authorization', `Bearer ${this.options.token}`);
    return m;
  }

  /** Calls `method` of `client` (e.g. `c.unary(c.version, c.version.getLedgerApiVersion, {})`). */
  unary<Req, Res>(client: grpc.Client, method: LedgerUnary<Req, Res>, request: Req): Promise<Res> {
    const deadline = Number(systemClock.now() / 1000n) + (this.options.deadlineMs ?? DEFAULT_DEADLINE_MS);
    return new Promise((resolve, reject) =>
      method.call(client, request, this.metadata(), { deadline }, (err, value) =>
        err ? reject(err) : resolve(value as Res),
      ),
    );
  }

  /** Opens a server stream (e.g. `c.stream(c.updates, c.updates.getUpdates, request)`). */
  stream<Req, Res>(
    client: grpc.Client,
    method: LedgerStream<Req, Res>,
    request: Req,
  ): grpc.ClientReadableStream<Res> {
    return method.call(client, request, this.metadata());
  }

  /** Every message of a stream that ends by itself, in order; rejects with the stream's error. */
  async collect<Req, Res>(client: grpc.Client, method: LedgerStream<Req, Res>, request: Req): Promise<Res[]> {
    const out: Res[] = [];
    for await (const message of this.stream(client, method, request)) out.push(message as Res);
    return out;
  }

  close(): void {
    for (const c of this.#clients) c.close();
  }
}
