import { KeyStore, type RandomSource, systemRandom } from '../crypto/index.js';
import { Engine, PackageRegistry, readDar, type Transaction, TransactionDecoder } from '../daml/index.js';
import type { WeftError } from '../errors/index.js';
import { ParticipantId, type PartyId } from '../identity/index.js';
import { loadOrCreateIdentity, type NodeIdentity } from '../node/index.js';
import { createLogger, type Logger, NodeMetrics } from '../observability/index.js';
import { SessionKeyStore } from '../protocol/index.js';
import { groupCommitOf, type Storage, storageRetryPolicy } from '../storage/index.js';
import { type Clock, systemClock } from '../time/index.js';
import type { TopologyProcessor, VettedPackage } from '../topology/index.js';
import { ActiveContracts } from './acs.js';
import { type CommandStatus, CommandStatuses, type CommandStatusState } from './command-status.js';
import { CompletionStreams } from './completions.js';
import { type ParticipantSettings, participantSettings, sessionKeySettings } from './config.js';
import { type ConnectOptions, SynchronizerConnections } from './connections.js';
import { InFlightSubmissions } from './in-flight.js';
import { Journal } from './journal.js';
import { ParticipantMetrics } from './metrics.js';
import { type DarInfo, type KnownPackage, PackageService } from './packages.js';
import { PingService } from './ping.js';
import { type Committed, ValidationSlots } from './protocol.js';
import { type ActiveContract, ParticipantReads } from './reads.js';
import { ParticipantStore } from './store.js';
import { changeIdOf, type SubmitRequest, Submitter } from './submitter.js';
import { type HostedParty, TopologyRequests, type VettingState } from './topology-requests.js';
import type { Completion, TransactionUpdate } from './updates.js';

/** Recent submissions kept per state for command inspection (Canton's default). */
const COMMAND_STATUSES = 100;

export interface ParticipantNodeOptions {
  /** The node's name: the identifier of its participant id `PAR::name::namespace`. */
  readonly name: string;
  /** The node's own database (tables `participant_*`, `topology_*`, keys, identity); the caller closes it. */
  readonly storage: Storage;
  /** The node's key store on `storage`, opened by the node runtime (with its key encryption); default: plain. */
  readonly keys?: KeyStore;
  readonly settings?: Partial<ParticipantSettings>;
  /** The ping DAR (`ping-3.4.0.dar`), uploaded as the admin workflow when the participant first connects. */
  readonly adminWorkflowDar?: Uint8Array;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
  /** Told once when the participant stops processing for good (see `ConnectionsContext.onFatal`). */
  readonly onFatal?: (error: WeftError) => void;
}

/**
 * A participant node: its identity and keys, its storage, the Daml engine with the packages uploaded to it, and
 * its synchronizer connections (see `connections.ts`) over which it submits and validates transactions (see
 * `protocol.ts`). This is
 * the service API later layers (the Ledger API) build on: submit, per-party update streams, active contracts,
 * parties, DARs and ping.
 */
export class ParticipantNode {
  readonly id: ParticipantId;
  readonly adminParty: PartyId;
  readonly settings: ParticipantSettings;
  readonly metrics: ParticipantMetrics;
  readonly #connections: SynchronizerConnections;
  readonly #packages: PackageService;
  readonly #inFlight: InFlightSubmissions;
  readonly #submitter: Submitter;
  readonly #reads: ParticipantReads;
  readonly #completions: CompletionStreams;
  readonly #statuses = new CommandStatuses(COMMAND_STATUSES);
  readonly #ping: PingService;
  readonly #topologyRequests: TopologyRequests;
  /** Set by stop and kill: the read streams end. */
  #stopped = false;

  private constructor(
    private readonly options: ParticipantNodeOptions,
    settings: ParticipantSettings,
    readonly identity: NodeIdentity,
    store: ParticipantStore,
    packages: PackageService,
    readonly engine: Engine,
    decoder: TransactionDecoder,
    private readonly journal: Journal,
    clock: Clock,
    random: RandomSource,
    readonly logger: Logger,
  ) {
    this.id = identity.member as ParticipantId;
    this.adminParty = this.id.adminParty;
    this.settings = settings;
    this.metrics = new ParticipantMetrics(options.metrics ?? new NodeMetrics({ defaultMetrics: false }));
    this.metrics.countActiveContractsWith(() => store.activeContractCount());
    this.#packages = packages;
    this.#inFlight = new InFlightSubmissions(settings.maxSubmissionsInFlight, this.metrics, clock);
    // Streams wait for more while the node runs, connected or not (a restarted daemon reconnects after it serves).
    this.#reads = new ParticipantReads(
      store,
      decoder,
      journal,
      () => !this.#stopped && this.#connections.failure === undefined,
      engine,
    );
    this.#completions = new CompletionStreams(store, journal, () => this.#connections.live);
    const acs = new ActiveContracts(store, decoder, settings.contractCacheSize, this.metrics);
    // One store for sending and receiving on every synchronizer: its keys name the synchronizer.
    const sessionKeys = new SessionKeyStore(sessionKeySettings(settings), clock);
    this.#submitter = new Submitter({
      participantId: this.id,
      signingKey: identity.signingKey.privateKey,
      engine,
      acs,
      store,
      journal,
      inFlight: this.#inFlight,
      routes: (synchronizerId) =>
        synchronizerId === undefined
          ? this.#connections.connections()
          : [this.#connections.connection(synchronizerId)],
      settings,
      metrics: this.metrics,
      clock,
      random,
      sessionKeys,
      statuses: this.#statuses,
    });
    this.#ping = new PingService(this.adminParty, this.#submitter, clock, random, logger);
    this.#topologyRequests = new TopologyRequests({
      identity,
      clock,
      timeoutMs: settings.activationTimeoutMs,
      connection: (synchronizerId) => this.#connections.connection(synchronizerId),
      connections: () => this.#connections.connections(),
      packageIds: () => packages.registry.packages().map((p) => p.id),
    });
    this.#connections = new SynchronizerConnections({
      identity,
      storage: options.storage,
      store,
      inFlight: this.#inFlight,
      protocol: {
        participantId: this.id,
        engine,
        decoder,
        signingKey: identity.signingKey.privateKey,
        encryptionKey: identity.encryptionKey.privateKey,
        sessionKeys,
        packages,
        acs,
        journal,
        validations: new ValidationSlots(settings.maxValidationsInFlight, this.metrics),
        commits: {
          committed: (c) => {
            this.#ping.onCommitted(c);
            this.#reads.committed(c);
          },
          index: (tx, at) => this.#reads.index(tx, at),
        },
        logger,
        metrics: this.metrics,
        maxQueuedWrites: settings.maxQueuedWrites,
      },
      settings,
      clock,
      random,
      logger,
      onFatal: (e) => {
        // The read streams end: nothing more will become durable.
        this.#reads.wake();
        options.onFatal?.(e);
      },
    });
  }

  /** Opens the node's storage: its identity (created on first start) and its DARs. */
  static async start(options: ParticipantNodeOptions): Promise<ParticipantNode> {
    const settings = participantSettings(options.settings);
    const clock = options.clock ?? systemClock;
    const random = options.random ?? systemRandom;
    const logger = (options.logger ?? createLogger({ node: options.name })).child({
      component: 'participant',
    });
    const keys = options.keys ?? (await KeyStore.open(options.storage));
    const identity = await loadOrCreateIdentity(
      options.storage,
      keys,
      options.name,
      'participant',
      random,
      () => clock.now(),
    );
    const store = await ParticipantStore.open(options.storage);
    const packages = await PackageService.load(new PackageRegistry(), store, clock, logger, {
      maxInflatedBytes: settings.maxDarInflatedBytes,
      maxEntries: settings.maxDarEntries,
    });
    const engine = new Engine(packages.registry);
    const decoder = new TransactionDecoder(engine.types);
    const ledgerEnd = await store.ledgerEnd();
    let node: ParticipantNode | undefined;
    const journal = new Journal(
      store,
      clock,
      logger,
      ledgerEnd,
      settings.cursorIntervalMs,
      (e) => {
        if (node) node.#connections.fail(e);
      },
      storageRetryPolicy(
        {
          initialDelayMs: settings.storageRetryInitialDelayMs,
          maxDelayMs: settings.storageRetryMaxDelayMs,
        },
        'participant.storage-retry-*',
      ),
      groupCommitOf(settings),
    );
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
    return this.#connections.ids;
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
    const all = this.#connections.values();
    return all.length === 1 ? all[0]!.topology : undefined;
  }

  /** Requests validated and awaiting their verdict, on all synchronizers. */
  get pendingRequests(): number {
    return this.#connections.pendingRequests;
  }

  // ---- connections (see `connections.ts`) ----------------------------------------------------------------

  /**
   * Connects to a synchronizer (in addition to those it is connected to): on the first connection, registers the
   * participant's onboarding transactions (root namespace delegation, keys, trust certificate) and waits until it
   * is active, then initialises its topology from the sequencer; subscribes from where it left off; and vets the
   * packages of its DARs there.
   */
  async connect(o: ConnectOptions): Promise<void> {
    const connection = await this.#connections.connect(o);
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
   * what they wrote; submissions waiting on commands sent there fail with SYNCHRONIZER_DISCONNECTED.
   */
  disconnect(synchronizerId?: string): Promise<void> {
    return this.#connections.disconnect(synchronizerId);
  }

  /**
   * Disconnects (the submissions still waiting fail with SYNCHRONIZER_DISCONNECTED) and writes everything pending;
   * the caller closes the storage afterwards.
   */
  async stop(): Promise<void> {
    await this.disconnect();
    this.journal.close();
    this.#stopped = true;
    this.#reads.wake();
    this.#completions.wake();
    this.logger.info('participant node stopped');
  }

  /** Stops as if the process died: the connections are cut and nothing pending is written (crash tests). */
  async kill(): Promise<void> {
    // The connections are cut (synchronously) before the journal drops what is pending.
    const killed = this.#connections.kill();
    this.journal.kill();
    this.#inFlight.abandon(await killed);
    this.#stopped = true;
    this.#reads.wake();
    this.#completions.wake();
  }

  /** Resolves once the requests received so far are validated and answered (their responses sequenced). */
  validationsSettled(): Promise<void> {
    return this.#connections.validationsSettled();
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

  /** The parties known on the connected synchronizers, hosted here or elsewhere, sorted. */
  knownParties(): { party: string; local: boolean }[] {
    return this.#topologyRequests.knownParties();
  }

  /** What this participant vets on a synchronizer — the one named, or the only one connected. */
  vetting(synchronizerId?: string): VettingState {
    return this.#topologyRequests.vetting(synchronizerId);
  }

  /** What every participant vets on the connected synchronizers, by synchronizer id, then participant id. */
  allVetting(): (VettingState & { readonly participantId: string })[] {
    return this.#topologyRequests.allVetting();
  }

  /**
   * Replaces what this participant vets on a synchronizer — the one named, or the only one connected — and waits
   * until that is in force (`dryRun`: only checks it); see {@link TopologyRequests.updateVetting}.
   */
  updateVetting(
    packages: readonly VettedPackage[],
    o: { synchronizerId?: string; dryRun: boolean; expectedSerial?: number },
  ): Promise<{ before: VettingState; after: VettingState }> {
    return this.#topologyRequests.updateVetting(packages, o);
  }

  // ---- DARs ----------------------------------------------------------------------------------------------

  /**
   * Uploads a DAR: validates every package (Daml-LF type checking), stores it, and vets its packages
   * (VettedPackages) on every connected synchronizer. Returns the main package id.
   */
  async uploadDar(
    bytes: Uint8Array,
    o: { adminWorkflow?: boolean; vet?: boolean; synchronizerId?: string } = {},
  ): Promise<string> {
    const mainPackageId = await this.#packages.upload(bytes, o);
    if (o.vet ?? true) {
      const targets =
        o.synchronizerId === undefined
          ? this.#connections.values()
          : [this.#connections.connection(o.synchronizerId)];
      for (const c of targets) await this.#topologyRequests.vet(c);
    }
    return mainPackageId;
  }

  /** Checks a DAR as `uploadDar` does, without storing or vetting anything. */
  validateDar(bytes: Uint8Array): void {
    this.#packages.validate(bytes);
  }

  dars(): Promise<DarInfo[]> {
    return this.#packages.dars();
  }

  /** The packages of the uploaded DARs, each once. */
  knownPackages(): Promise<KnownPackage[]> {
    return this.#packages.known();
  }

  /** The `ArchivePayload` of an uploaded package (its id is the payload's SHA-256), if it is here. */
  packagePayload(packageId: string): Promise<Uint8Array | undefined> {
    return this.#packages.payload(packageId);
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

  /**
   * Submits as {@link submit}, resolving as soon as the confirmation request is sent, with the completion still to
   * come (it also appears in {@link completions}).
   */
  send(r: SubmitRequest): Promise<{ readonly completion: Promise<Completion> }> {
    return this.#submitter.send(r);
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

  /** The read side in the Ledger API's terms (event formats, transaction shapes, ACS as of an offset). */
  get reads(): ParticipantReads {
    return this.#reads;
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

  /**
   * The completion of a command's latest submission, by its change id or by its user (default ''), acting parties
   * and command id; undefined while it is in flight, or when this participant knows no such command.
   */
  completionOf(
    command:
      | string
      | { readonly userId?: string; readonly actAs: readonly string[]; readonly commandId: string },
  ): Promise<Completion | undefined> {
    return this.#reads.commandCompletion(
      typeof command === 'string'
        ? command
        : changeIdOf(command.userId ?? '', command.actAs, command.commandId),
    );
  }

  /**
   * The completions of `filter`'s user and parties after offset `after`, then each new one as it becomes durable,
   * until `signal` aborts or the node stops; with `checkpoints`, offset checkpoints once caught up.
   */
  get completions(): CompletionStreams['completions'] {
    const streams = this.#completions;
    return streams.completions.bind(streams) as CompletionStreams['completions'];
  }

  /** The recent submissions (in memory, for command inspection), newest first. */
  commandStatuses(o: {
    commandIdPrefix: string;
    state: CommandStatusState | undefined;
    limit: number;
  }): CommandStatus[] {
    return this.#statuses.list(o);
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
    return this.#connections.readiness();
  }
}
