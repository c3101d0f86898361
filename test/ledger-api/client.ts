/**
 * A Ledger API client for tests, built only from the project's generated protobuf-ts clients over @grpc/grpc-js
 * (as an application would build one from the protos): promise-returning unary calls and collected streams, with
 * an optional bearer token on every call.
 */
import * as grpc from '@grpc/grpc-js';
import { CommandCompletionServiceClient } from '../../src/generated/com/daml/ledger/api/v2/command_completion_service.grpc-client.js';
import { CommandServiceClient } from '../../src/generated/com/daml/ledger/api/v2/command_service.grpc-client.js';
import { CommandSubmissionServiceClient } from '../../src/generated/com/daml/ledger/api/v2/command_submission_service.grpc-client.js';
import { EventQueryServiceClient } from '../../src/generated/com/daml/ledger/api/v2/event_query_service.grpc-client.js';
import { PackageServiceClient } from '../../src/generated/com/daml/ledger/api/v2/package_service.grpc-client.js';
import { StateServiceClient } from '../../src/generated/com/daml/ledger/api/v2/state_service.grpc-client.js';
import { UpdateServiceClient } from '../../src/generated/com/daml/ledger/api/v2/update_service.grpc-client.js';
import { VersionServiceClient } from '../../src/generated/com/daml/ledger/api/v2/version_service.grpc-client.js';

/** A generated client's unary method, called with metadata and options. */
type Unary<Req, Res> = (
  input: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, value?: Res) => void,
) => grpc.ClientUnaryCall;

type ServerStream<Req, Res> = (
  input: Req,
  metadata?: grpc.Metadata,
  options?: grpc.CallOptions,
) => grpc.ClientReadableStream<Res>;

const DEADLINE_MS = 30_000;

export class TestLedgerClient {
  readonly version: VersionServiceClient;
  readonly state: StateServiceClient;
  readonly updates: UpdateServiceClient;
  readonly commands: CommandServiceClient;
  readonly submission: CommandSubmissionServiceClient;
  readonly completions: CommandCompletionServiceClient;
  readonly events: EventQueryServiceClient;
  readonly packages: PackageServiceClient;
  readonly #clients: grpc.Client[];

  /** `target` is host:port; `token` is sent as `authorization: Bearer <token>` on every call. */
  constructor(
    readonly target: string,
    private readonly token?: string,
    options: grpc.ClientOptions = {},
  ) {
    const credentials = grpc.credentials.createInsecure();
    this.version = new VersionServiceClient(target, credentials, options);
    this.state = new StateServiceClient(target, credentials, options);
    this.updates = new UpdateServiceClient(target, credentials, options);
    this.commands = new CommandServiceClient(target, credentials, options);
    this.submission = new CommandSubmissionServiceClient(target, credentials, options);
    this.completions = new CommandCompletionServiceClient(target, credentials, options);
    this.events = new EventQueryServiceClient(target, credentials, options);
    this.packages = new PackageServiceClient(target, credentials, options);
    this.#clients = [
      this.version,
      this.state,
      this.updates,
      this.commands,
      this.submission,
      this.completions,
      this.events,
      this.packages,
    ];
  }

  /** The same server with another token. */
  withToken(token: string | undefined): TestLedgerClient {
    return new TestLedgerClient(this.target, token);
  }

  metadata(extra: Record<string, string> = {}): grpc.Metadata {
    const m = new grpc.Metadata();
    if (this.token !== undefined) m.set('authorization', `Bearer ${this.token}`);
    for (const [k, v] of Object.entries(extra)) m.set(k, v);
    return m;
  }

  /** Calls `method` (e.g. `client.version.getLedgerApiVersion`); rejects with the grpc-js ServiceError. */
  unary<Req, Res>(client: grpc.Client, method: Unary<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) =>
      method.call(
        client,
        request,
        this.metadata(),
        { deadline: Date.now() + DEADLINE_MS },
        (err: grpc.ServiceError | null, value?: Res) => (err ? reject(err) : resolve(value as Res)),
      ),
    );
  }

  /** Opens a server stream (e.g. `client.state.getActiveContracts`). */
  stream<Req, Res>(
    client: grpc.Client,
    method: ServerStream<Req, Res>,
    request: Req,
  ): grpc.ClientReadableStream<Res> {
    return method.call(client, request, this.metadata());
  }

  /** Every message of a stream that ends by itself, in order; rejects with the stream's error. */
  async collect<Req, Res>(client: grpc.Client, method: ServerStream<Req, Res>, request: Req): Promise<Res[]> {
    const out: Res[] = [];
    for await (const message of this.stream(client, method, request)) out.push(message as Res);
    return out;
  }

  close(): void {
    for (const c of this.#clients) c.close();
  }
}
