import { performance } from 'node:perf_hooks';
import { Hash, KeyStore, type RandomSource, systemRandom } from '../crypto/index.js';
import {
  type Command,
  type ContractLookup,
  type ContractStore,
  Engine,
  type FatContract,
  PackageRegistry,
  project,
  readDar,
  type Transaction,
  TransactionDecoder,
} from '../daml/index.js';
import { loadAndValidateDar } from '../daml/typecheck/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import { type Envelope, EnvelopeKind } from '../generated/weft/sequencer/v1/sequencing.js';
import { TopologyTransactionsBroadcast } from '../generated/weft/topology/v1/topology.js';
import { ParticipantId, PartyId, SynchronizerId, UniqueIdentifier } from '../identity/index.js';
import { identityTransactions, loadOrCreateIdentity, type NodeIdentity } from '../node/index.js';
import { createLogger, type Logger, NodeMetrics } from '../observability/index.js';
import {
  downloadTopologyStateForInit,
  registerOnboardingTransactions,
  SequencerClient,
  SequencerErrors,
  type TransportOptions,
} from '../sequencer/index.js';
import type { Storage } from '../storage/index.js';
import { type Clock, deferred, sleep, systemClock } from '../time/index.js';
import {
  SignedTopologyTransaction,
  TopologyManager,
  type TopologyMapping,
  TopologyProcessor,
  type TopologySnapshot,
  TopologyTransaction,
} from '../topology/index.js';
import { ActiveContracts } from './acs.js';
import { absolutizeTransaction, decodeContract, ParticipantHashPurpose } from './contracts.js';
import { ParticipantErrors } from './errors.js';
import { Journal } from './journal.js';
import { ParticipantMetrics } from './metrics.js';
import { PingService } from './ping.js';
import { type Committed, type InFlightCommand, ProtocolProcessor } from './protocol.js';
import { type CompletionRow, ParticipantStore, type StoredUpdate } from './store.js';
import { buildConfirmationRequest } from './submission.js';
import { type Completion, eventsOf, type PhaseTimings, type TransactionUpdate } from './updates.js';

export interface ParticipantSettings {
  /** How long a completed command id blocks a resubmission (Canton's max deduplication duration); default 7 days. */
  readonly deduplicationWindowMs: number;
  /** How long a confirmation request may take to be sequenced; default 60 s (capped by the ledger time tolerance). */
  readonly maxSequencingDelayMs: number;
  /** The resume cursor alone is written at most this often; default 200 ms. */
  readonly cursorIntervalMs: number;
  /** Effects waiting for the database beyond which event processing waits; default 1000. */
  readonly maxQueuedWrites: number;
  /** How long `connect` waits for the onboarding to take effect; default 30 s. */
  readonly activationTimeoutMs: number;
}

export const DEFAULT_PARTICIPANT_SETTINGS: ParticipantSettings = Object.freeze({
  deduplicationWindowMs: 7 * 24 * 3600 * 1000,
  maxSequencingDelayMs: 60_000,
  cursorIntervalMs: 200,
  maxQueuedWrites: 1000,
  activationTimeoutMs: 30_000,
});

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
  /** Longest wait between reconnection attempts; default 5 s. */
  readonly maxBackoffMs?: number;
}

export interface SubmitRequest {
  /**
   * The synchronizer to submit to; by default the one the input contracts are assigned to, or else the first
   * connected synchronizer (by id) where the submitters and every informee are hosted and the packages vetted.
   */
  readonly synchronizerId?: string;
  /** Commands in the Ledger API's JSON shape (`CreateCommand`, `ExerciseCommand`, `CreateAndExerciseCommand`). */
  readonly commands: readonly Command[] | readonly unknown[];
  readonly actAs: readonly string[];
  readonly readAs?: readonly string[];
  /** With the user and the acting parties, the key of command deduplication. */
  readonly commandId: string;
  readonly userId?: string;
  readonly submissionId?: string;
  readonly workflowId?: string;
  readonly packagePreference?: readonly string[];
}

export interface ActiveContract {
  readonly contract: FatContract;
  /** The synchronizer it is assigned to. */
  readonly synchronizerId: string;
  /** The offset of the transaction that created it here. */
  readonly createdOffset: bigint | undefined;
}

export interface HostedParty {
  readonly party: string;
  readonly permission: 'Submission' | 'Confirmation' | 'Observation';
  /** The participant's own admin party. */
  readonly admin: boolean;
  /** The connected synchronizers where the participant hosts it. */
  readonly synchronizerIds: readonly string[];
}

export interface DarInfo {
  readonly mainPackageId: string;
  readonly name: string;
  readonly version: string;
  readonly packageIds: readonly string[];
  readonly adminWorkflow: boolean;
}

interface Connection {
  readonly synchronizerId: SynchronizerId;
  readonly topology: TopologyProcessor;
  readonly processor: ProtocolProcessor;
  readonly client: SequencerClient;
}

const PAGE = 200;

/** Why a synchronizer cannot take a transaction, so that routing tries the next one. */
const ROUTING_REASONS = new Set([
  ParticipantErrors.INFORMEES_NOT_HOSTED.code,
  ParticipantErrors.PACKAGE_NOT_VETTED_BY_RECIPIENTS.code,
]);

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
  readonly #completions = new Map<string, ReturnType<typeof deferred<Completion>>>();
  readonly #commitListeners = new Set<(c: Committed) => void>();
  readonly #ping: PingService;
  #nextOffset: bigint;

  private constructor(
    private readonly options: ParticipantNodeOptions,
    readonly identity: NodeIdentity,
    private readonly store: ParticipantStore,
    private readonly registry: PackageRegistry,
    readonly engine: Engine,
    private readonly decoder: TransactionDecoder,
    private readonly acs: ActiveContracts,
    private readonly journal: Journal,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    readonly logger: Logger,
    ledgerEnd: bigint,
  ) {
    this.id = identity.member as ParticipantId;
    this.adminParty = this.id.adminParty;
    this.settings = { ...DEFAULT_PARTICIPANT_SETTINGS, ...options.settings };
    this.metrics = new ParticipantMetrics(options.metrics ?? new NodeMetrics({ defaultMetrics: false }));
    this.#nextOffset = ledgerEnd;
    this.#ping = new PingService(this.adminParty, this, clock, random, logger);
  }

  /** Opens the node's storage: its identity (created on first start), its DARs, its active contracts. */
  static async start(options: ParticipantNodeOptions): Promise<ParticipantNode> {
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
    const registry = new PackageRegistry();
    // Stored DARs were validated when they were uploaded.
    for (const dar of await store.dars()) registry.addAll(readDar(dar.dar).packages);
    const engine = new Engine(registry);
    const decoder = new TransactionDecoder(engine.types);
    const acs = new ActiveContracts();
    for (const { row, parties } of await store.activeContracts()) {
      acs.add(
        decodeContract(row.contract, decoder),
        row.synchronizerId,
        parties.filter((p) => p.stakeholder).map((p) => p.party),
        parties.map((p) => p.party),
        row.createdOffset,
      );
    }
    const ledgerEnd = await store.ledgerEnd();
    let node: ParticipantNode | undefined;
    const settings = { ...DEFAULT_PARTICIPANT_SETTINGS, ...options.settings };
    const journal = new Journal(store, clock, logger, ledgerEnd, settings.cursorIntervalMs, (e) => {
      if (node) node.#fail(e);
    });
    node = new ParticipantNode(
      options,
      identity,
      store,
      registry,
      engine,
      decoder,
      acs,
      journal,
      clock,
      random,
      logger,
      ledgerEnd,
    );
    journal.onDurable(() => node.#wakeStreams());
    logger.info(
      { participant: String(node.id), activeContracts: acs.size, ledgerEnd },
      'participant node started',
    );
    return node;
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
    });
    if (topology.lastSequenced === undefined) {
      await registerOnboardingTransactions(
        endpoints,
        this.#onboarding(synchronizerId),
        transport,
        this.clock,
      );
      const deadline = Date.now() + this.settings.activationTimeoutMs;
      for (;;) {
        try {
          await topology.importState(
            await downloadTopologyStateForInit(endpoints, member, signingKey, transport, this.clock),
          );
          break;
        } catch (e) {
          if (!(e instanceof WeftError && e.code === SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code))
            throw e;
          if (Date.now() > deadline) throw e;
          await sleep(this.clock, 50);
        }
      }
    }
    const cursor = await this.store.cursor(key);
    // Events replayed during the subscription may need to send (responses) before `connect` returns the client.
    const connected = deferred<SequencerClient>();
    const processor = new ProtocolProcessor(
      {
        participantId: this.id,
        synchronizerId: key,
        topology,
        engine: this.engine,
        decoder: this.decoder,
        signingKey,
        encryptionKey: this.identity.encryptionKey.privateKey,
        acs: this.acs,
        journal: this.journal,
        send: async (request) => (await connected.promise).send(request),
        packageKnown: (pkg) => this.registry.lookupPackage(pkg) !== undefined,
        packageUsable: (pkg, snapshot, ledgerTime) =>
          this.registry.lookupPackage(pkg) !== undefined &&
          snapshot.isPackageVetted(this.id, pkg, ledgerTime),
        nextOffset: () => ++this.#nextOffset,
        decided: new Set(await this.store.decidedAfter(key, cursor?.timestamp ?? -1n)),
        commands: await this.store.commandsInFlight(key),
        onCommitted: (c) => {
          this.#ping.onCommitted(c);
          for (const l of this.#commitListeners) l(c);
        },
        onCompletion: (changeId, completion, timings) => this.#completed(changeId, completion, timings),
        logger: this.logger,
        metrics: this.metrics,
        maxQueued: this.settings.maxQueuedWrites,
      },
      cursor,
    );
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
      ...(o.maxBackoffMs === undefined ? {} : { maxBackoffMs: o.maxBackoffMs }),
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
    await this.#vet(connection);
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
    for (const waiter of this.#completions.values()) {
      waiter.reject(
        new WeftError(ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER, `participant ${this.id} stopped`),
      );
    }
    this.#wakeStreams();
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
    for (const waiter of this.#completions.values()) waiter.reject(this.#failure);
    this.#wakeStreams();
  }

  /** Resolves once the requests received so far are validated and answered (their responses sequenced). */
  async validationsSettled(): Promise<void> {
    await Promise.all([...this.#connections.values()].map((c) => c.processor.settle()));
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

  #onboarding(synchronizerId: SynchronizerId): Uint8Array[] {
    const trustCertificate = SignedTopologyTransaction.sign(
      TopologyTransaction.create('AddReplace', 1, {
        kind: 'SynchronizerTrustCertificate',
        participant: this.id,
        synchronizerId,
      }),
      [this.identity.namespaceKey.privateKey],
    ).toBytes();
    return [...identityTransactions(this.identity), trustCertificate];
  }

  // ---- topology: parties and vetting ---------------------------------------------------------------------

  /** Proposes a mapping signed with the namespace key, sends it for sequencing, and waits until it is in force. */
  async #authorize(
    c: Connection,
    mapping: TopologyMapping,
    inForce: (s: TopologySnapshot) => boolean,
    what: string,
  ): Promise<void> {
    const tx = new TopologyManager(c.topology).propose(mapping, {
      signWith: [this.identity.namespaceKey.privateKey],
    });
    const envelope: Envelope = {
      content: TopologyTransactionsBroadcast.toBinary({
        synchronizerId: String(c.synchronizerId),
        signedTransactions: [tx.toBytes()],
      }),
      recipients: [{ recipient: { oneofKind: 'allMembers', allMembers: {} } }],
      kind: EnvelopeKind.TOPOLOGY_BROADCAST,
    };
    const handle = await c.client.send({
      envelopes: [envelope],
      maxSequencingTime: this.clock.now() + 60_000_000n,
    });
    const outcome = await handle.outcome;
    if (outcome.kind === 'error') {
      throw new WeftError(
        CommonErrors.UNAVAILABLE,
        `${what} was not sequenced: ${outcome.code}: ${outcome.reason}`,
      );
    }
    const deadline = Date.now() + this.settings.activationTimeoutMs;
    while (!inForce(c.topology.snapshot(this.clock.now()))) {
      if (Date.now() > deadline) {
        throw new WeftError(
          CommonErrors.DEADLINE_EXCEEDED,
          `${what} did not take effect within ${this.settings.activationTimeoutMs} ms`,
        );
      }
      await sleep(this.clock, 10);
    }
  }

  /**
   * Allocates a party `hint::<participant namespace>` hosted here with submission permission (a PartyToParticipant
   * transaction) on a synchronizer — the one named, or the only one connected — and waits until it is in force.
   */
  async allocateParty(hint: string, o: { synchronizerId?: string } = {}): Promise<string> {
    const c = this.#connection(o.synchronizerId);
    const party = new PartyId(UniqueIdentifier.create(hint, this.identity.namespace));
    await this.#authorize(
      c,
      {
        kind: 'PartyToParticipant',
        party,
        threshold: 1,
        participants: [{ participant: this.id, permission: 'Submission' }],
      },
      (s) => s.partyHosting(party)?.participants.some((h) => h.participant.equals(this.id)) ?? false,
      `the hosting of party ${party} on ${c.synchronizerId}`,
    );
    return String(party);
  }

  /** The parties this participant hosts on its synchronizers, its admin party first. */
  parties(): HostedParty[] {
    const connections = this.#allConnections();
    const now = this.clock.now();
    const byParty = new Map<string, HostedParty & { synchronizerIds: string[] }>();
    const add = (party: string, permission: HostedParty['permission'], synchronizerId: string) => {
      const known = byParty.get(party);
      if (known) known.synchronizerIds.push(synchronizerId);
      else {
        const admin = party === String(this.adminParty);
        byParty.set(party, { party, permission, admin, synchronizerIds: [synchronizerId] });
      }
    };
    for (const c of connections) {
      const synchronizerId = String(c.synchronizerId);
      const snapshot = c.topology.snapshot(now);
      add(String(this.adminParty), 'Submission', synchronizerId);
      for (const tx of snapshot.transactions('PartyToParticipant')) {
        const m = tx.mapping;
        if (m.kind !== 'PartyToParticipant' || m.party.equals(this.adminParty)) continue;
        const host = m.participants.find((h) => h.participant.equals(this.id));
        if (host) add(String(m.party), host.permission, synchronizerId);
      }
    }
    return [...byParty.values()];
  }

  /** Vets on `c` every package of the stored DARs that is not vetted there yet (one VettedPackages transaction). */
  async #vet(c: Connection): Promise<void> {
    const head = c.topology.head;
    const vetted = head.vettedPackages(this.id);
    const have = new Set(vetted.map((p) => p.packageId));
    const wanted = this.registry.packages().map((p) => p.id);
    const missing = wanted.filter((id) => !have.has(id));
    if (missing.length === 0) return;
    const packages = [...vetted, ...missing.map((packageId) => ({ packageId }))];
    await this.#authorize(
      c,
      { kind: 'VettedPackages', participant: this.id, packages },
      (s) => missing.every((id) => s.vettedPackages(this.id).some((p) => p.packageId === id)),
      `the vetting of ${missing.length} packages on ${c.synchronizerId}`,
    );
  }

  // ---- DARs ----------------------------------------------------------------------------------------------

  /**
   * Uploads a DAR: validates every package (Daml-LF type checking), stores it, and vets its packages
   * (VettedPackages) on every connected synchronizer. Returns the main package id.
   */
  async uploadDar(bytes: Uint8Array, o: { adminWorkflow?: boolean; vet?: boolean } = {}): Promise<string> {
    const dar = loadAndValidateDar(bytes, this.registry);
    await this.store.saveDar({
      mainPackageId: dar.main.id,
      name: dar.main.metadata.name,
      version: dar.main.metadata.version,
      dar: bytes,
      uploadedAt: this.clock.now(),
      adminWorkflow: o.adminWorkflow ?? false,
    });
    this.logger.info(
      { mainPackageId: dar.main.id, packages: dar.packages.length },
      `uploaded DAR ${dar.main.metadata.name}`,
    );
    if (o.vet ?? true) for (const c of this.#connections.values()) await this.#vet(c);
    return dar.main.id;
  }

  async dars(): Promise<DarInfo[]> {
    return (await this.store.dars()).map((d) => ({
      mainPackageId: d.mainPackageId,
      name: d.name,
      version: d.version,
      packageIds: readDar(d.dar).packages.map((p) => p.id),
      adminWorkflow: d.adminWorkflow,
    }));
  }

  // ---- submission ----------------------------------------------------------------------------------------

  /**
   * Submits commands (Phase 1): interprets them, routes the transaction to a synchronizer, splits it into
   * encrypted views and sends the confirmation request. Resolves with the command's completion once its outcome
   * is durable; rejects (without a completion) when the command fails before it is sent: invalid, interpretation
   * error, a party not hosted, no synchronizer for it, a duplicate command id.
   */
  async submit(r: SubmitRequest): Promise<Completion> {
    const marks: InFlightCommand['marks'] = { start: performance.now() };
    if (r.actAs.length === 0)
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'a command needs at least one acting party');
    if (r.commandId === '')
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'a command needs a command id');
    const now = this.clock.now();
    const actAs = [...new Set(r.actAs)].sort();
    const candidates = this.#submissionCandidates(actAs, now, r.synchronizerId);
    const userId = r.userId ?? '';
    const changeId = changeIdOf(userId, actAs, r.commandId);
    const readers = [...new Set([...actAs, ...(r.readAs ?? [])])];
    const submissionSeed = this.random.bytes(32);
    let ledgerTime = now;
    let result = await this.#interpret(r, actAs, readers, ledgerTime, submissionSeed);
    // The ledger time may not precede the creation of an input contract.
    const latest = result.metadata.inputContracts.reduce(
      (m, i) => (i.createdAt !== undefined && i.createdAt > m ? i.createdAt : m),
      0n,
    );
    if (latest > ledgerTime) {
      ledgerTime = latest;
      result = await this.#interpret(r, actAs, readers, ledgerTime, submissionSeed);
    }
    marks.interpreted = performance.now();
    const transaction = absolutizeTransaction(result.transaction, ledgerTime);
    const messageId = Buffer.from(this.random.bytes(16)).toString('hex');
    const routed = this.#route(candidates, result.metadata.inputContracts, (c, snapshot) => {
      const params = snapshot.synchronizerParameters();
      const delay = BigInt(this.settings.maxSequencingDelayMs) * 1000n;
      const maxSequencingTime =
        now + (delay < params.ledgerTimeRecordTimeTolerance ? delay : params.ledgerTimeRecordTimeTolerance);
      const group = snapshot.mediatorGroups()[0];
      if (!group)
        throw new WeftError(
          CommonErrors.UNAVAILABLE,
          `synchronizer ${c.synchronizerId} has no mediator group`,
        );
      const batch = buildConfirmationRequest(
        {
          synchronizerId: String(c.synchronizerId),
          mediatorGroup: group.group,
          snapshot,
          signingKey: this.identity.signingKey.privateKey,
          random: this.random,
        },
        {
          transaction,
          seeds: result.metadata.nodeSeeds,
          inputs: result.metadata.inputContracts,
          ledgerTime,
          preparationTime: result.metadata.preparationTime,
          workflowId: r.workflowId ?? '',
          submitter: {
            actAs,
            userId,
            commandId: r.commandId,
            submissionId: r.submissionId ?? '',
            submittingParticipant: String(this.id),
            maxSequencingTime,
          },
        },
      );
      return { batch, maxSequencingTime };
    });
    marks.created = performance.now();
    const { connection: c, batch, maxSequencingTime } = routed;
    const cmd: InFlightCommand = {
      changeId,
      commandId: r.commandId,
      userId,
      submissionId: r.submissionId ?? '',
      actAs,
      messageId,
      synchronizerId: String(c.synchronizerId),
      maxSequencingTime,
      submittedAt: now,
      requestId: undefined,
      completionOffset: undefined,
      completedAt: undefined,
      marks,
    };
    // Deduplication after interpretation, as Canton's in-flight submission tracker: only a command about to be
    // sent is registered.
    const window = BigInt(this.settings.deduplicationWindowMs) * 1000n;
    if (!(await this.store.startCommand(cmd, now - window))) {
      const existing = await this.store.command(changeId);
      this.metrics.submissions.inc({ result: 'duplicate' });
      throw existing?.completedAt === undefined
        ? new WeftError(
            ParticipantErrors.SUBMISSION_ALREADY_IN_FLIGHT,
            `command ${r.commandId} of ${actAs.join(', ')} is still in flight`,
            { commandId: r.commandId },
          )
        : new WeftError(
            ParticipantErrors.DUPLICATE_COMMAND,
            `command ${r.commandId} of ${actAs.join(', ')} completed at offset ${existing.completionOffset}, within the deduplication window`,
            { commandId: r.commandId, offset: existing.completionOffset },
          );
    }
    const waiter = deferred<Completion>();
    // kill() and stop() reject the waiter even while the send is under way, before it is awaited.
    waiter.promise.catch(() => {});
    try {
      this.#completions.set(changeId, waiter);
      c.processor.track(cmd);
      await c.client.send({ envelopes: batch.envelopes, maxSequencingTime, messageId });
      this.metrics.submissions.inc({ result: 'sent' });
    } catch (e) {
      c.processor.untrack(messageId);
      this.#completions.delete(changeId);
      await this.store.dropCommand(changeId, messageId);
      this.metrics.submissions.inc({ result: e instanceof WeftError ? e.code : 'INTERNAL' });
      throw e;
    }
    return waiter.promise;
  }

  /**
   * The synchronizers a command of `actAs` may go to: the one named, or every connected one, where each acting
   * party is hosted here with submission permission.
   */
  #submissionCandidates(actAs: readonly string[], now: bigint, synchronizerId: string | undefined) {
    const connections =
      synchronizerId === undefined ? this.#allConnections() : [this.#connection(synchronizerId)];
    const candidates: { connection: Connection; snapshot: TopologySnapshot }[] = [];
    let notHosted: string | undefined;
    for (const connection of connections) {
      const snapshot = connection.topology.snapshot(now);
      const missing = actAs.find(
        (party) =>
          snapshot.partyHosting(PartyId.parse(party))?.participants.find((h) => h.participant.equals(this.id))
            ?.permission !== 'Submission',
      );
      if (missing === undefined) candidates.push({ connection, snapshot });
      else notHosted ??= missing;
    }
    if (candidates.length === 0) {
      throw new WeftError(
        ParticipantErrors.SUBMITTER_NOT_HOSTED,
        `party ${notHosted} is not hosted on participant ${this.id} with submission permission` +
          (connections.length > 1 ? ' on any connected synchronizer' : ''),
        { party: notHosted },
      );
    }
    return candidates;
  }

  /**
   * Synchronizer routing (no reassignment): a transaction with input contracts goes to the synchronizer they are
   * assigned to; otherwise to the first candidate where `prepare` succeeds, i.e. every informee is hosted and every
   * recipient vetted the packages.
   */
  #route<T>(
    candidates: readonly { connection: Connection; snapshot: TopologySnapshot }[],
    inputs: readonly { contractId: { coid: string } }[],
    prepare: (c: Connection, snapshot: TopologySnapshot) => T,
  ): T & { connection: Connection } {
    const assigned = [
      ...new Set(inputs.flatMap((i) => this.acs.get(i.contractId.coid)?.synchronizerId ?? [])),
    ].sort();
    if (assigned.length > 1) {
      throw new WeftError(
        ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION,
        `the transaction uses contracts assigned to different synchronizers (${assigned.join(', ')}); contracts cannot be reassigned`,
        { synchronizers: assigned.join(', ') },
      );
    }
    const eligible =
      assigned.length === 1
        ? candidates.filter((c) => c.connection.synchronizerId.toString() === assigned[0])
        : candidates;
    if (eligible.length === 0) {
      throw new WeftError(
        ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION,
        `the transaction's input contracts are assigned to synchronizer ${assigned[0]}, where the submitters cannot submit or to which this participant is not connected`,
        { synchronizers: assigned[0]! },
      );
    }
    const reasons: string[] = [];
    for (const { connection, snapshot } of eligible) {
      try {
        return { ...prepare(connection, snapshot), connection };
      } catch (e) {
        // With one synchronizer to choose from, its own reason is the answer.
        if (eligible.length === 1 || !(e instanceof WeftError && ROUTING_REASONS.has(e.code))) throw e;
        reasons.push(`${connection.synchronizerId}: ${e.message}`);
      }
    }
    throw new WeftError(
      ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION,
      `no connected synchronizer can take the transaction: ${reasons.join('; ')}`,
      { synchronizers: eligible.map((c) => String(c.connection.synchronizerId)).join(', ') },
    );
  }

  #interpret(
    r: SubmitRequest,
    actAs: string[],
    readers: string[],
    ledgerTime: bigint,
    submissionSeed: Uint8Array,
  ) {
    return this.engine.submit(
      {
        actAs,
        commands: r.commands as Command[],
        ...(r.packagePreference ? { packagePreference: r.packagePreference } : {}),
        ledgerTime,
        submissionSeed,
        participantId: String(this.id),
      },
      this.#contractStore(readers),
    );
  }

  /** The contracts `readers` may use: active here and theirs (as stakeholders, or divulged to them). */
  #contractStore(readers: readonly string[]): ContractStore {
    return {
      lookupContract: (cid): ContractLookup | Promise<ContractLookup> => {
        const known = this.acs.get(cid.coid);
        if (known && readers.some((p) => known.readers.has(p)))
          return { status: 'active', contract: known.contract };
        return this.store
          .isArchived(cid.coid, readers)
          .then((archived): ContractLookup => ({ status: archived ? 'archived' : 'unknown' }));
      },
    };
  }

  #completed(changeId: string, row: CompletionRow, timings: PhaseTimings | undefined): void {
    const waiter = this.#completions.get(changeId);
    this.#completions.delete(changeId);
    waiter?.resolve({ ...completionOf(row), ...(timings ? { timings } : {}) });
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /** The last offset assigned (updates and completions share one offset sequence). */
  ledgerEnd(): bigint {
    return this.#nextOffset;
  }

  /** Everything up to this offset is durable and visible to the readers below. */
  get durableEnd(): bigint {
    return this.journal.durableOffset;
  }

  #streamWaiters = new Set<() => void>();

  #wakeStreams(): void {
    const waiters = [...this.#streamWaiters];
    this.#streamWaiters.clear();
    for (const w of waiters) w();
  }

  #toUpdate(row: StoredUpdate, party: string): TransactionUpdate {
    const full = this.decoder.decodeTransaction(row.transaction);
    const tx: Transaction = project(full, [party]).transaction;
    return {
      offset: row.offset,
      updateId: row.updateId,
      synchronizerId: row.synchronizerId,
      recordTime: row.requestId,
      ledgerTime: row.ledgerTime,
      workflowId: row.workflowId,
      commandId: row.submission?.actAs.includes(party) ? row.submission.commandId : undefined,
      transaction: tx,
      events: eventsOf(tx, party),
    };
  }

  /** The updates of `party` after offset `after` (exclusive) up to the durable end, at most `limit` of them. */
  async updatesUpTo(
    party: string,
    after = 0n,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<TransactionUpdate[]> {
    const out: TransactionUpdate[] = [];
    const end = this.journal.durableOffset;
    for (let from = after; ; ) {
      const page = Math.min(PAGE, limit - out.length);
      const rows = await this.store.updates(party, from, end, page);
      for (const row of rows) out.push(this.#toUpdate(row, party));
      if (rows.length < page || out.length >= limit) return out;
      from = rows.at(-1)!.offset;
    }
  }

  /** The updates of `party` after offset `after`, then each new one as it becomes durable, until `signal` aborts. */
  async *updates(
    party: string,
    o: { after?: bigint; signal?: AbortSignal } = {},
  ): AsyncGenerator<TransactionUpdate> {
    let after = o.after ?? 0n;
    while (!o.signal?.aborted) {
      const end = this.journal.durableOffset;
      if (after < end) {
        const rows = await this.store.updates(party, after, end, PAGE);
        for (const row of rows) {
          if (o.signal?.aborted) return;
          yield this.#toUpdate(row, party);
        }
        after = rows.length < PAGE ? end : rows.at(-1)!.offset;
        continue;
      }
      if (this.#failure || this.#connections.size === 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          o.signal?.removeEventListener('abort', done);
          this.#streamWaiters.delete(done);
          resolve();
        };
        this.#streamWaiters.add(done);
        o.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** The participant's part of a transaction (the union of the views it received), by update id. */
  async transactionTree(updateId: string): Promise<Transaction | undefined> {
    const row = await this.store.update(updateId);
    return row && this.decoder.decodeTransaction(row.transaction);
  }

  /** The completions of this participant's commands after offset `after`, up to the durable end. */
  async completionsUpTo(after = 0n): Promise<Completion[]> {
    return (await this.store.completions(after, this.journal.durableOffset, 10_000)).map(completionOf);
  }

  /**
   * The active contracts `party` is a stakeholder of, as of the returned offset: the in-memory set without the
   * effects of transactions decided but still held back in record order.
   */
  async activeContracts(party: string): Promise<{ offset: bigint; contracts: ActiveContract[] }> {
    await this.journal.flush();
    const held = [...this.#connections.values()].map((c) => c.processor.unpublished());
    const created = new Set(held.flatMap((h) => [...h.created]));
    const contracts = [
      ...this.acs.ofParty(party).filter((c) => !created.has(c.contract.contractId.coid)),
      ...held.flatMap((h) => h.archived.filter((c) => c.stakeholders.has(party))),
    ].sort((a, b) => Number((a.createdOffset ?? 0n) - (b.createdOffset ?? 0n)));
    return {
      offset: this.journal.durableOffset,
      contracts: contracts.map((c) => ({
        contract: c.contract,
        synchronizerId: c.synchronizerId,
        createdOffset: c.createdOffset,
      })),
    };
  }

  /** Calls `listener` with every transaction once it is durable (in-process automation, e.g. the ping responder). */
  onCommitted(listener: (c: Committed) => void): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
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

/** The key of command deduplication: the user, the acting parties (sorted) and the command id. */
export function changeIdOf(userId: string, actAs: readonly string[], commandId: string): string {
  const b = Hash.build(ParticipantHashPurpose.ChangeId).addString(userId).addInt32(actAs.length);
  for (const p of actAs) b.addString(p);
  return b.addString(commandId).finish().toHex();
}

function completionOf(row: CompletionRow): Completion {
  return {
    offset: row.offset,
    commandId: row.commandId,
    submissionId: row.submissionId,
    userId: row.userId,
    actAs: row.actAs,
    status: row.code === undefined ? 'succeeded' : 'failed',
    code: row.code,
    message: row.message,
    updateId: row.updateId,
    recordTime: row.recordTime,
    synchronizerId: row.synchronizerId,
  };
}
