import { KeyStore, type RandomSource, systemRandom } from '../crypto/index.js';
import { Engine, PackageRegistry, readDar, type Transaction, TransactionDecoder } from '../daml/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import { ParticipantId, type PartyId, SynchronizerId } from '../identity/index.js';
import { loadOrCreateIdentity, type NodeIdentity } from '../node/index.js';
import { createLogger, type Logger, NodeMetrics } from '../observability/index.js';
import { SequencerClient, type TransportOptions } from '../sequencer/index.js';
import type { Storage } from '../storage/index.js';
import { type Clock, deferred, systemClock } from '../time/index.js';
import { TopologyProcessor } from '../topology/index.js';
import { ActiveContracts } from './acs.js';
import { type ParticipantSettings, participantSettings } from './config.js';
import { ParticipantErrors } from './errors.js';
import { InFlightSubmissions } from './in-flight.js';
import { Journal } from './journal.js';
import { ParticipantMetrics } from './metrics.js';
import { type DarInfo, PackageService } from './packages.js';
import { PingService } from './ping.js';
import { type Committed, type ProtocolContext, ProtocolProcessor, ValidationSlots } from './protocol.js';
import { type ActiveContract, ParticipantReads } from './reads.js';
import { type Cursor, ParticipantStore } from './store.js';
import { type SubmitRequest, Submitter } from './submitter.js';
import { type HostedParty, onboard, TopologyRequests } from './topology-requests.js';
import type { Completion, TransactionUpdate } from './updates.js';

export interface ParticipantNodeOptions {
  /** The node's name: the identifier of its participant id `PAR::name::namespace`. */
  readonly name: string;
  /** The node's own database (tables `participant_*`, `topology_*`, keys, identity); the caller closes it. */
  readonly storage: Storage;
  readonly settings?: Partial<ParticipantSettings>;
  /** The ping DAR (`ping-3.4.0.dar`), uploaded as the admin workflow when the participant first connects. */
  readonly adminWorkflowDar?: Uint8Array;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
}

export interface ConnectOptions {
  readonly synchronizerId: string;
  /** Endpoints of one sequencer (`connect_multi`): the client fails over between them. */
  readonly endpoints: readonly string[];
  /**
   * Instead of `endpoints`: distinct sequencers of the synchronizer (`connect_bft`), each with its endpoints; an
   * event is processed once `trustThreshold` (default 1) of them delivered it identically.
   */
  readonly sequencers?: readonly (readonly string[])[];
  readonly trustThreshold?: number;
  readonly transport?: TransportOptions;
  /** Longest wait between reconnection attempts; default the node's `maxBackoffMs` setting. */
  readonly maxBackoffMs?: number;
}

interface Connection {
  readonly synchronizerId: SynchronizerId;
  readonly topology: TopologyProcessor;
  readonly processor: ProtocolProcessor;
  readonly client: SequencerClient;
}

/**
 * A participant node: its identity and keys, its storage, the Daml engine with the packages uploaded to it, and
 * its connection to a synchronizer over which it submits and validates transactions (see `protocol.ts`). This is
 * the service API later layers (the Ledger API) build on: submit, per-party update streams, active contracts,
 * parties, DARs and ping.
 */
export class ParticipantNode {
  readonly id: ParticipantId;
  readonly adminParty: PartyId;
  readonly settings: ParticipantSettings;
  readonly metrics: ParticipantMetrics;
  /** By synchronizer id: a participant may be connected to several synchronizers at once. */
  readonly #connections = new Map<string, Connection>();
  #failure: WeftError | undefined;
  readonly #packages: PackageService;
  readonly #inFlight: InFlightSubmissions;
  readonly #submitter: Submitter;
  readonly #reads: ParticipantReads;
  /** What every connection's protocol processor shares. */
  readonly #protocol: ProtocolContext;
  readonly #ping: PingService;
  readonly #topologyRequests: TopologyRequests;

  private constructor(
    private readonly options: ParticipantNodeOptions,
    settings: ParticipantSettings,
    readonly identity: NodeIdentity,
    private readonly store: ParticipantStore,
    packages: PackageService,
    readonly engine: Engine,
    decoder: TransactionDecoder,
    private readonly journal: Journal,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    readonly logger: Logger,
  ) {
    this.id = identity.member as ParticipantId;
    this.adminParty = this.id.adminParty;
    this.settings = settings;
    this.metrics = new ParticipantMetrics(options.metrics ?? new NodeMetrics({ defaultMetrics: false }));
    this.#packages = packages;
    this.#inFlight = new InFlightSubmissions(settings.maxSubmissionsInFlight, this.metrics);
    this.#reads = new ParticipantReads(
      store,
      decoder,
      journal,
      () => this.#failure === undefined && this.#connections.size > 0,
    );
    const acs = new ActiveContracts(store, decoder, settings.contractCacheSize, this.metrics);
    this.#submitter = new Submitter({
      participantId: this.id,
      signingKey: identity.signingKey.privateKey,
      engine,
      acs,
      store,
      inFlight: this.#inFlight,
      routes: (synchronizerId) =>
        synchronizerId === undefined ? this.#allConnections() : [this.#connection(synchronizerId)],
      settings,
      metrics: this.metrics,
      clock,
      random,
    });
    this.#ping = new PingService(this.adminParty, this.#submitter, clock, random, logger);
    this.#topologyRequests = new TopologyRequests({
      identity,
      clock,
      timeoutMs: settings.activationTimeoutMs,
      connection: (synchronizerId) => this.#connection(synchronizerId),
      connections: () => this.#allConnections(),
      packageIds: () => packages.registry.packages().map((p) => p.id),
    });
    this.#protocol = {
      participantId: this.id,
      engine,
      decoder,
      signingKey: identity.signingKey.privateKey,
      encryptionKey: identity.encryptionKey.privateKey,
      packages,
      acs,
      journal,
      validations: new ValidationSlots(settings.maxValidationsInFlight, this.metrics),
      commits: {
        committed: (c) => {
          this.#ping.onCommitted(c);
          this.#reads.committed(c);
        },
      },
      logger,
      metrics: this.metrics,
      maxQueuedWrites: settings.maxQueuedWrites,
    };
  }

  /** Opens the node's storage: its identity (created on first start) and its DARs. */
  static async start(options: ParticipantNodeOptions): Promise<ParticipantNode> {
    const settings = participantSettings(options.settings);
    const clock = options.clock ?? systemClock;
    const random = options.random ?? systemRandom;
    const logger = (options.logger ?? createLogger({ node: options.name })).child({
      component: 'participant',
    });
    const keys = await KeyStore.open(options.storage);
    const identity = await loadOrCreateIdentity(
      options.storage,
      keys,
      options.name,
      'participant',
      random,
      () => clock.now(),
    );
    const store = await ParticipantStore.open(options.storage);
    const packages = await PackageService.load(new PackageRegistry(), store, clock, logger);
    const engine = new Engine(packages.registry);
    const decoder = new TransactionDecoder(engine.types);
    const ledgerEnd = await store.ledgerEnd();
    let node: ParticipantNode | undefined;
    const journal = new Journal(store, clock, logger, ledgerEnd, settings.cursorIntervalMs, (e) => {
      if (node) node.#fail(e);
    });
    node = new ParticipantNode(
      options,
      settings,
      identity,
      store,
      packages,
      engine,
      decoder,
      journal,
      clock,
      random,
      logger,
    );
    logger.info({ participant: String(node.id), ledgerEnd }, 'participant node started');
    return node;
  }

  /** The packages uploaded here (the engine's registry). */
  private get registry(): PackageRegistry {
    return this.#packages.registry;
  }

  /** The synchronizers the participant is connected to, by id. */
  get synchronizerIds(): string[] {
    return [...this.#connections.keys()].sort();
  }

  /** Whether the subscription to `synchronizerId` is live. */
  isConnectedTo(synchronizerId: string): boolean {
    return this.#connections.get(synchronizerId)?.client.state === 'connected';
  }

  /**
   * The topology state of a connected synchronizer (for the Admin API's topology reads): the one named, or the only
   * one; undefined when not connected.
   */
  topology(synchronizerId?: string): TopologyProcessor | undefined {
    if (synchronizerId !== undefined) return this.#connections.get(synchronizerId)?.topology;
    return this.#connections.size === 1 ? this.#connections.values().next().value?.topology : undefined;
  }

  /** Requests validated and awaiting their verdict, on all synchronizers. */
  get pendingRequests(): number {
    let n = 0;
    for (const c of this.#connections.values()) n += c.processor.pendingRequests;
    return n;
  }

  // ---- connections ---------------------------------------------------------------------------------------

  /**
   * Connects to a synchronizer (in addition to those it is connected to): on the first connection, registers the
   * participant's onboarding transactions (root namespace delegation, keys, trust certificate) and waits until it
   * is active, then initialises its topology from the sequencer; subscribes from where it left off; and vets the
   * packages of its DARs there.
   */
  async connect(o: ConnectOptions): Promise<void> {
    if (this.#failure) throw this.#failure;
    const synchronizerId = SynchronizerId.parse(o.synchronizerId);
    const key = String(synchronizerId);
    if (this.#connections.has(key)) {
      throw new WeftError(
        CommonErrors.FAILED_PRECONDITION,
        `participant ${this.id} is connected to ${key} already`,
      );
    }
    const member = String(this.id);
    const signingKey = this.identity.signingKey.privateKey;
    const transport = o.transport ?? {};
    const bft = o.sequencers !== undefined && o.sequencers.length > 0;
    const endpoints = bft ? o.sequencers!.flat() : o.endpoints;
    const topology = await TopologyProcessor.create({
      storage: this.options.storage,
      synchronizerId,
      // One topology store per synchronizer, as Canton's participant keeps.
      storeId: `participant:${key}`,
      logger: this.logger,
      clock: this.clock,
    });
    if (topology.lastSequenced === undefined) {
      await onboard(topology, {
        identity: this.identity,
        endpoints,
        transport,
        clock: this.clock,
        timeoutMs: this.settings.activationTimeoutMs,
      });
    }
    const cursor = await this.store.cursor(key);
    // Events replayed during the subscription may need to send (responses) before `connect` returns the client.
    const connected = deferred<SequencerClient>();
    const processor = await this.#processor(key, topology, connected.promise, cursor);
    const client = await SequencerClient.connect({
      ...transport,
      member,
      signingKey,
      ...(bft
        ? {
            connections: o.sequencers!.map((e) => ({ endpoints: [...e] })),
            trustThreshold: o.trustThreshold ?? 1,
          }
        : { endpoints: o.endpoints }),
      expectedSynchronizerId: key,
      sequencerKeys: (ts, sequencerId) => {
        const snapshot = topology.snapshot(ts);
        return (snapshot.sequencerGroup()?.active ?? [])
          .filter((s) => String(s) === sequencerId)
          .flatMap((s) => snapshot.memberKeys(s)?.signing ?? []);
      },
      handler: (event) => processor.handle(event),
      ...(cursor ? { resumeAfter: cursor } : {}),
      onFatal: (e) => this.#fail(e),
      maxBackoffMs: o.maxBackoffMs ?? this.settings.maxBackoffMs,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
    });
    connected.resolve(client);
    const connection: Connection = { synchronizerId, topology, processor, client };
    this.#connections.set(key, connection);
    this.logger.info({ synchronizer: key, resumeAfter: cursor }, 'connected to the synchronizer');
    if (this.options.adminWorkflowDar) {
      const dar = readDar(this.options.adminWorkflowDar);
      if (this.registry.lookupPackage(dar.main.id) === undefined) {
        await this.uploadDar(this.options.adminWorkflowDar, { adminWorkflow: true, vet: false });
      }
    }
    await this.#topologyRequests.vet(connection);
  }

  /**
   * Closes the connection to `synchronizerId` (by default, every connection) after the validations in flight and
   * what they wrote.
   */
  async disconnect(synchronizerId?: string): Promise<void> {
    const keys = synchronizerId === undefined ? [...this.#connections.keys()] : [synchronizerId];
    for (const key of keys) {
      const c = this.#connections.get(key);
      if (!c) continue;
      this.#connections.delete(key);
      await c.client.close();
      await c.processor.settle();
    }
    await this.journal.flush();
  }

  /** Disconnects and writes everything pending; the caller closes the storage afterwards. */
  async stop(): Promise<void> {
    await this.disconnect();
    this.journal.close();
    this.#inFlight.abandon(
      new WeftError(ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER, `participant ${this.id} stopped`),
    );
    this.#reads.wake();
    this.logger.info('participant node stopped');
  }

  /** Stops as if the process died: the connections are cut and nothing pending is written (crash tests). */
  async kill(): Promise<void> {
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    this.#failure ??= new WeftError(
      ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER,
      `participant ${this.id} was killed`,
    );
    this.journal.kill();
    await Promise.all(connections.map((c) => c.client.close()));
    this.#inFlight.abandon(this.#failure);
    this.#reads.wake();
  }

  /** Resolves once the requests received so far are validated and answered (their responses sequenced). */
  async validationsSettled(): Promise<void> {
    await Promise.all([...this.#connections.values()].map((c) => c.processor.settle()));
  }

  /**
   * The transaction protocol of a synchronizer connection: resumes after `cursor`, skipping the requests decided
   * already, and takes up the commands sent there and not completed.
   */
  async #processor(
    synchronizerId: string,
    topology: TopologyProcessor,
    client: Promise<SequencerClient>,
    cursor: Cursor | undefined,
  ): Promise<ProtocolProcessor> {
    this.#inFlight.restore(synchronizerId, await this.store.commandsInFlight(synchronizerId));
    return new ProtocolProcessor(this.#protocol, {
      synchronizerId,
      topology,
      sequencer: { send: async (request) => (await client).send(request) },
      submissions: this.#inFlight.on(synchronizerId),
      decided: new Set(await this.store.decidedAfter(synchronizerId, cursor?.timestamp ?? -1n)),
      resumeAfter: cursor,
    });
  }

  /** Every connection, by synchronizer id; NOT_CONNECTED_TO_SYNCHRONIZER when there is none. */
  #allConnections(): Connection[] {
    if (this.#failure) throw this.#failure;
    if (this.#connections.size === 0) {
      throw new WeftError(
        ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER,
        `participant ${this.id} is not connected to a synchronizer; connect it first`,
      );
    }
    return this.synchronizerIds.map((id) => this.#connections.get(id)!);
  }

  /** The connection to `synchronizerId`, or the only one when none is named. */
  #connection(synchronizerId?: string): Connection {
    const all = this.#allConnections();
    if (synchronizerId === undefined) {
      if (all.length === 1) return all[0]!;
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `participant ${this.id} is connected to several synchronizers (${this.synchronizerIds.join(', ')}); name one`,
      );
    }
    const c = this.#connections.get(synchronizerId);
    if (!c) {
      throw new WeftError(
        ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER,
        `participant ${this.id} is not connected to synchronizer ${synchronizerId}`,
        { synchronizerId },
      );
    }
    return c;
  }

  #fail(e: unknown): void {
    if (this.#failure) return;
    this.#failure =
      e instanceof WeftError
        ? e
        : new WeftError(
            CommonErrors.INTERNAL,
            `participant ${this.id} failed: ${String(e)}`,
            {},
            { cause: e },
          );
    this.logger.error({ err: this.#failure }, 'the participant stopped processing events');
    for (const c of this.#connections.values()) void c.client.close();
  }

  // ---- topology: parties and vetting ---------------------------------------------------------------------

  /**
   * Allocates a party `hint::<participant namespace>` hosted here with submission permission on a synchronizer —
   * the one named, or the only one connected — and waits until it is in force.
   */
  allocateParty(hint: string, o: { synchronizerId?: string } = {}): Promise<string> {
    return this.#topologyRequests.allocateParty(hint, o);
  }

  /** The parties this participant hosts on its synchronizers, its admin party first. */
  parties(): HostedParty[] {
    return this.#topologyRequests.parties();
  }

  // ---- DARs ----------------------------------------------------------------------------------------------

  /**
   * Uploads a DAR: validates every package (Daml-LF type checking), stores it, and vets its packages
   * (VettedPackages) on every connected synchronizer. Returns the main package id.
   */
  async uploadDar(bytes: Uint8Array, o: { adminWorkflow?: boolean; vet?: boolean } = {}): Promise<string> {
    const mainPackageId = await this.#packages.upload(bytes, o);
    if (o.vet ?? true) for (const c of this.#connections.values()) await this.#topologyRequests.vet(c);
    return mainPackageId;
  }

  dars(): Promise<DarInfo[]> {
    return this.#packages.dars();
  }

  // ---- Phase 1: submission -------------------------------------------------------------------------------

  /**
   * Submits commands (Phase 1, see `submitter.ts`): interprets them, routes the transaction to a synchronizer,
   * splits it into encrypted views and sends the confirmation request. Resolves with the command's completion
   * once its outcome is durable; rejects (without a completion) when the command fails before it is sent:
   * invalid, PARTICIPANT_OVERLOADED, interpretation error, a party not hosted, no synchronizer for it, a duplicate
   * command id.
   */
  submit(r: SubmitRequest): Promise<Completion> {
    return this.#submitter.submit(r);
  }

  /** Submissions admitted and not completed (at most `settings.maxSubmissionsInFlight`). */
  get submissionsInFlight(): number {
    return this.#inFlight.size;
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /** The last offset assigned (updates and completions share one offset sequence). */
  ledgerEnd(): bigint {
    return this.journal.ledgerEnd;
  }

  /** Everything up to this offset is durable and visible to the readers below. */
  get durableEnd(): bigint {
    return this.journal.durableOffset;
  }

  /** The updates of `party` after offset `after` (exclusive) up to the durable end, at most `limit` of them. */
  updatesUpTo(party: string, after = 0n, limit = Number.POSITIVE_INFINITY): Promise<TransactionUpdate[]> {
    return this.#reads.updatesUpTo(party, after, limit);
  }

  /** The updates of `party` after offset `after`, then each new one as it becomes durable, until `signal` aborts. */
  updates(
    party: string,
    o: { after?: bigint; signal?: AbortSignal } = {},
  ): AsyncGenerator<TransactionUpdate> {
    return this.#reads.updates(party, o);
  }

  /** The participant's part of a transaction (the union of the views it received), by update id. */
  transactionTree(updateId: string): Promise<Transaction | undefined> {
    return this.#reads.transactionTree(updateId);
  }

  /** The completions of this participant's commands after offset `after`, up to the durable end. */
  completionsUpTo(after = 0n): Promise<Completion[]> {
    return this.#reads.completionsUpTo(after);
  }

  /** The active contracts `party` is a stakeholder of, as of the returned offset. */
  activeContracts(party: string): Promise<{ offset: bigint; contracts: ActiveContract[] }> {
    return this.#reads.activeContracts(party);
  }

  /** Calls `listener` with every transaction once it is durable (in-process automation, e.g. the ping responder). */
  onCommitted(listener: (c: Committed) => void): () => void {
    return this.#reads.onCommitted(listener);
  }

  // ---- health --------------------------------------------------------------------------------------------

  /**
   * `health.ping`: runs the Ping workflow between this participant's admin party and `target`'s (both need the
   * ping DAR); resolves with the round-trip time in milliseconds.
   */
  async ping(target: ParticipantId | string, o: { timeoutMs?: number } = {}): Promise<number> {
    const pid = typeof target === 'string' ? ParticipantId.parse(target) : target;
    return this.#ping.ping(pid, o.timeoutMs ?? 30_000);
  }

  /** For the node's `/ready`: undefined when connected and processing, else why not. */
  readiness(): string | undefined {
    if (this.#failure) return this.#failure.message;
    if (this.#connections.size === 0) return 'not connected to a synchronizer';
    const down = [...this.#connections.entries()].filter(([, c]) => c.client.state !== 'connected');
    return down.length === 0
      ? undefined
      : down.map(([id, c]) => `the sequencer connection to ${id} is ${c.client.state}`).join('; ');
  }
}
