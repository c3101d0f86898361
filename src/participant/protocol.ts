import {
  type EncryptionPrivateKey,
  Hash,
  type SigningPrivateKey,
  type SigningPublicKey,
} from '../crypto/index.js';
import {
  blindingInfo,
  type CreateNode,
  createdContract,
  type Engine,
  encodeTransaction,
  type FatContract,
  forEachNode,
  type NodeId,
  type Party,
  showIdentifier,
  type Transaction,
  type TransactionDecoder,
} from '../daml/index.js';
import { WeftError } from '../errors/index.js';
import type {
  EncryptedViewMessage,
  RootHashMessage,
} from '../generated/weft/protocol/v1/confirmation_request.js';
import type { SignedProtocolMessage } from '../generated/weft/protocol/v1/protocol_message.js';
import { EnvelopeKind, type Recipient } from '../generated/weft/sequencer/v1/sequencing.js';
import { type ParticipantId, PartyId } from '../identity/index.js';
import type { Logger } from '../observability/index.js';
import {
  confirmationResponsesEnvelope,
  decodeProtocolMessage,
  localApprove,
  localReject,
  openConfirmationResult,
  type SessionKeyStore,
  signConfirmationResponses,
  summarizeVerdict,
  type VerdictSummary,
} from '../protocol/index.js';
import type { ReceivedEvent, SendHandle, SendRequest } from '../sequencer/index.js';
import { retryTransient } from '../storage/index.js';
import {
  processSequencedTopology,
  type TopologyProcessor,
  type TopologySnapshot,
  topologyTransactionsOf,
} from '../topology/index.js';
import type { ActiveContracts } from './acs.js';
import { encodeContract } from './contracts.js';
import { ParticipantErrors } from './errors.js';
import type { InFlightCommand, SubmissionTracking } from './in-flight.js';
import type { Journal, JournalEntry } from './journal.js';
import type { ParticipantMetrics } from './metrics.js';
import type { Cursor } from './store.js';
import {
  checkConflicts,
  checkConformance,
  checkRequest,
  hostedConfirmers,
  type OpenedRequest,
  type OpenResult,
  openRequest,
  type Rejection,
  usedContracts,
  ViewRejections,
} from './validation.js';

/** A request validated (or being validated) here and awaiting its verdict. */
interface PendingRequest {
  readonly requestId: bigint;
  readonly rootHash: Hash;
  readonly mediatorGroup: number;
  /** The event before the request: a restart replays from there while the request is undecided. */
  readonly resumeAfter: { counter: bigint; timestamp: bigint } | undefined;
  readonly decisionTime: bigint;
  readonly opened: OpenedRequest | undefined;
  /** This participant built the request: it was opened from what it built (see `SubmissionTracking.ownRequest`). */
  readonly builtHere: boolean;
  /** Hosted parties among the request's informees, at the request's topology. */
  readonly hosted: ReadonlySet<Party>;
  readonly locked: readonly string[];
}

/**
 * A decision waiting for its turn in record order (Canton's RecordOrderPublisher): it is published, and gets its
 * offset, once every earlier request is decided.
 */
interface Held {
  readonly recordTime: bigint;
  readonly publish: () => void;
}

export interface Committed {
  readonly offset: bigint;
  readonly updateId: string;
  readonly requestId: bigint;
  readonly opened: OpenedRequest;
  /** Hosted parties that witness something of the transaction. */
  readonly parties: readonly Party[];
}

/** What a synchronizer connection's processor needs of the participant: shared by all its connections. */
export interface ProtocolContext {
  readonly participantId: ParticipantId;
  readonly engine: Engine;
  readonly decoder: TransactionDecoder;
  readonly signingKey: SigningPrivateKey;
  readonly encryptionKey: EncryptionPrivateKey;
  readonly sessionKeys: SessionKeyStore;
  /** The packages uploaded here (their types are needed to decode a view). */
  readonly packages: { has(packageId: string): boolean };
  readonly acs: ActiveContracts;
  readonly journal: Journal;
  readonly validations: ValidationSlots;
  /**
   * Hears of every transaction once it is durable (the reads' listeners, the ping responder), and pre-encodes its
   * events to store with it (the reads' `index`).
   */
  readonly commits: {
    committed(c: Committed): void;
    index(tx: Transaction, at: { offset: bigint; ledgerTime: bigint }): Uint8Array | undefined;
  };
  readonly logger: Logger;
  readonly metrics: ParticipantMetrics;
  /** Durable effects not yet written beyond which event processing waits for the database. */
  readonly maxQueuedWrites: number;
}

/** One synchronizer connection. */
export interface SynchronizerContext {
  readonly synchronizerId: string;
  readonly topology: TopologyProcessor;
  /** Sends the responses (the sequencer client). */
  readonly sequencer: { send(request: SendRequest): Promise<SendHandle> };
  /** The commands this participant sent there. */
  readonly submissions: SubmissionTracking;
  /** Requests decided before a restart, after the resume cursor (their replay is skipped). */
  readonly decided: ReadonlySet<bigint>;
  readonly resumeAfter: Cursor | undefined;
}

/**
 * The Phase 3 validations running on all synchronizers, bounded: at the bound, the event processing that wants to
 * start another waits for one to end (back-pressure on the sequencer subscriptions; nothing is dropped). Each
 * connection processes its events one at a time, so at most one waiter per connection queues here.
 */
export class ValidationSlots {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly metrics: ParticipantMetrics,
  ) {}

  get running(): number {
    return this.#running;
  }

  /** Takes a slot, waiting for one when `limit` validations run. */
  async acquire(): Promise<void> {
    if (this.#running < this.limit) {
      this.#running++;
      this.metrics.validationsInFlight.set(this.#running);
      return;
    }
    this.metrics.validationWaits.inc();
    // The slot is handed over by release: #running stays as it is.
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else {
      this.#running--;
      this.metrics.validationsInFlight.set(this.#running);
    }
  }
}

const hex = (h: Hash) => h.toHex();

/**
 * The transaction protocol of one synchronizer connection, fed the sequenced events in order: topology
 * broadcasts, receipts of this participant's own submissions, confirmation requests (Phase 3: decrypt, check,
 * detect conflicts and lock in event order; model conformance and the Phase 4 responses are pipelined, at most
 * `ValidationSlots` at once), verdicts (Phase 7: commit or roll back) and local timeouts. Decisions change the
 * active contracts and locks at once (conflict detection needs them), but are published (offsets, updates,
 * completions) in record order. It knows the node only through its `ProtocolContext` and `SynchronizerContext`.
 */
export class ProtocolProcessor {
  readonly #o: ProtocolContext;
  readonly #s: SynchronizerContext;
  readonly #pending = new Map<bigint, PendingRequest>();
  /** Requests decided before a restart that the replay will deliver again; emptied once the replay passed them. */
  readonly #decided: Set<bigint>;
  readonly #decidedUntil: bigint;
  #lastHandled: { counter: bigint; timestamp: bigint } | undefined;
  #validations = new Set<Promise<void>>();
  /** Decisions held back behind an undecided earlier request. */
  #held: Held[] = [];

  constructor(context: ProtocolContext, synchronizer: SynchronizerContext) {
    this.#o = context;
    this.#s = synchronizer;
    this.#decided = new Set(synchronizer.decided);
    this.#decidedUntil = [...synchronizer.decided].reduce((m, id) => (id > m ? id : m), -1n);
    this.#lastHandled = synchronizer.resumeAfter;
  }

  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Waits for the validations in flight (tests and shutdown). */
  async settle(): Promise<void> {
    while (this.#validations.size > 0) await Promise.all(this.#validations);
  }

  async handle(event: ReceivedEvent): Promise<void> {
    const ts = event.timestamp;
    const topology = topologyTransactionsOf(event.envelopes, this.#s.synchronizerId, this.#o.logger);
    let rootHash: { message: RootHashMessage; recipients: readonly Recipient[] } | undefined;
    const views: EncryptedViewMessage[] = [];
    const results: SignedProtocolMessage[] = [];
    for (const envelope of event.envelopes) {
      if (envelope.kind === EnvelopeKind.TOPOLOGY_BROADCAST) continue;
      let message: ReturnType<typeof decodeProtocolMessage>;
      try {
        message = decodeProtocolMessage(envelope);
      } catch (e) {
        this.#o.logger.warn({ err: e, ts }, 'ignoring an undecodable protocol message');
        continue;
      }
      if (message.oneofKind === 'rootHashMessage')
        rootHash = { message: message.rootHashMessage, recipients: envelope.recipients };
      else if (message.oneofKind === 'encryptedViewMessage') views.push(message.encryptedViewMessage);
      else if (message.oneofKind === 'confirmationResult') results.push(message.confirmationResult);
    }
    // A storage failure that passes is waited out here, at each step that reads or writes, never turned into a
    // rejection: the steps before it changed memory only, and a topology event may be processed twice (a restart
    // replays it too).
    if (topology) {
      await retryTransient(
        () => processSequencedTopology(this.#s.topology, ts, topology),
        this.#o.journal.retryOptions('processing a topology event'),
      );
    }
    if (event.messageId !== undefined) this.#onReceipt(event);
    if (rootHash) await this.#onRequest(event, rootHash.message, rootHash.recipients, views);
    for (const result of results) await this.#onResult(ts, result);
    this.#timeouts(ts);
    if (ts > this.#decidedUntil) this.#decided.clear();
    this.#publishInOrder();
    this.#lastHandled = { counter: event.counter, timestamp: ts };
    const cursor = this.#cleanCursor();
    if (cursor) this.#o.journal.setCursor(this.#s.synchronizerId, cursor);
    if (this.#o.journal.queued > this.#o.maxQueuedWrites) await this.#o.journal.flush();
  }

  /**
   * Publishes the held decisions older than the oldest undecided request, by record time. A decision made after
   * others were published has a later record time (its request was undecided then, or came later), so offsets
   * grow with record time. The clean cursor needs no help: anything held stays behind an undecided request,
   * which keeps the cursor before itself, so a crash replays what is held.
   */
  #publishInOrder(): void {
    if (this.#held.length === 0) return;
    // Requests enter #pending in event order: the first is the oldest.
    const oldest = this.#pending.keys().next().value;
    const ready = (h: Held) => oldest === undefined || h.recordTime < oldest;
    const now = this.#held.filter(ready).sort((a, b) => (a.recordTime < b.recordTime ? -1 : 1));
    if (now.length === 0) return;
    this.#held = this.#held.filter((h) => !ready(h));
    for (const h of now) h.publish();
  }

  #cleanCursor(): Cursor | undefined {
    let clean = this.#lastHandled;
    for (const p of this.#pending.values()) {
      if (clean === undefined) break;
      if (p.resumeAfter === undefined || p.resumeAfter.counter < clean.counter) clean = p.resumeAfter;
    }
    return clean;
  }

  // ---- submissions ---------------------------------------------------------------------------------------

  #onReceipt(event: ReceivedEvent): void {
    const submissions = this.#s.submissions;
    if (!event.error) {
      submissions.sequenced(event.messageId!, event.timestamp);
      return;
    }
    const cmd = submissions.refused(event.messageId!);
    if (!cmd) return;
    const failure = { code: event.error.code, reason: event.error.reason };
    this.#held.push({
      recordTime: event.timestamp,
      publish: () => this.#o.journal.write([this.#completion(cmd, event.timestamp, { failure })]),
    });
  }

  /** A command's completion when its decision is published: at its transaction's offset, or at a new one. */
  #completion(
    cmd: InFlightCommand,
    recordTime: bigint,
    outcome: Parameters<SubmissionTracking['completion']>[3],
    offset = this.#o.journal.nextOffset(),
  ): JournalEntry {
    return this.#s.submissions.completion(cmd, recordTime, offset, outcome);
  }

  // ---- Phase 3: requests ---------------------------------------------------------------------------------

  async #onRequest(
    event: ReceivedEvent,
    rootHashMessage: RootHashMessage,
    recipients: readonly Recipient[],
    views: readonly EncryptedViewMessage[],
  ): Promise<void> {
    const requestId = event.timestamp;
    if (this.#decided.has(requestId)) return;
    const o = this.#o;
    const s = this.#s;
    const snapshot = s.topology.snapshot(requestId);
    const group = recipients.find((r) => r.recipient.oneofKind === 'mediatorGroup')?.recipient;
    const mediatorGroup = group?.oneofKind === 'mediatorGroup' ? group.mediatorGroup : 0;
    const params = snapshot.synchronizerParameters();
    const own = s.submissions.ownRequest(requestId, rootHashMessage.rootHash);
    const opened: OpenResult = own
      ? { kind: 'opened', request: own }
      : openRequest({
          rootHashMessage,
          viewMessages: views,
          synchronizerId: s.synchronizerId,
          encryptionKey: o.encryptionKey,
          sessionKeys: o.sessionKeys,
          decoder: o.decoder,
          checkPackages: (ids) => {
            const missing = ids.filter((id) => !o.packages.has(id));
            if (missing.length > 0) {
              throw new WeftError(
                ParticipantErrors.LOCAL_VERDICT_PACKAGE_NOT_VETTED,
                `participant ${o.participantId} does not have packages ${missing.join(', ')}`,
              );
            }
          },
        });
    const rejections = new ViewRejections();
    let malformed: Rejection | undefined;
    let request: OpenedRequest | undefined;
    let hosted = new Set<Party>();
    let locked: string[] = [];
    if (opened.kind === 'rejected') malformed = opened.rejection;
    else {
      request = opened.request;
      const ledgerTime = request.participantMetadata.ledgerTime;
      const unusable = request.views.flatMap((v) =>
        v.data.packages
          .filter((p) => !o.packages.has(p) || !snapshot.isPackageVetted(o.participantId, p, ledgerTime))
          .map((p) => ({ v, p })),
      );
      for (const { v, p } of unusable) {
        rejections.add(
          v.key,
          ParticipantErrors.LOCAL_VERDICT_PACKAGE_NOT_VETTED,
          `participant ${o.participantId} has not vetted package ${p} for ledger time ${ledgerTime}`,
        );
      }
      hosted = new Set(
        request.views.flatMap((v) => v.informees).filter((p) => isHostedBy(snapshot, o.participantId, p)),
      );
      checkRequest(request, requestId, snapshot, rejections);
      // Read in event order: no later event of this synchronizer is processed meanwhile.
      const used = usedContracts(request);
      const activeness = await retryTransient(
        () => o.acs.activeness(used),
        o.journal.retryOptions('reading the contracts a request uses'),
      );
      locked = checkConflicts(request, s.synchronizerId, activeness, (p) => hosted.has(p), rejections);
      for (const c of locked) o.acs.lock(c, requestId);
    }
    await o.validations.acquire();
    const pending: PendingRequest = {
      requestId,
      rootHash: request?.rootHash ?? Hash.fromMultihash(rootHashMessage.rootHash),
      mediatorGroup,
      resumeAfter: this.#lastHandled,
      decisionTime: requestId + params.confirmationResponseTimeout + params.mediatorReactionTimeout,
      opened: request,
      builtHere: own !== undefined,
      hosted,
      locked,
    };
    this.#pending.set(requestId, pending);
    o.metrics.inflight.set(this.#pending.size);
    const validation = this.#validate(pending, snapshot, rejections, malformed, event.traceparent)
      .catch((e) => o.logger.error({ err: e, requestId }, 'validating a request failed'))
      .finally(() => {
        o.validations.release();
        this.#validations.delete(validation);
      });
    this.#validations.add(validation);
  }

  /** The pipelined part of Phase 3 and Phase 4: model conformance, then the signed responses. */
  async #validate(
    pending: PendingRequest,
    snapshot: TopologySnapshot,
    rejections: ViewRejections,
    malformed: Rejection | undefined,
    traceparent: string | undefined,
  ): Promise<void> {
    // Let the event loop go on with the next events while this request is reinterpreted.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const o = this.#o;
    const request = pending.opened;
    if (request && !pending.builtHere) await checkConformance(o.engine, request, rejections);
    this.#s.submissions.mark(pending.requestId, 'validated');
    const responses = malformed
      ? [
          {
            viewPosition: [],
            localVerdict: localReject(malformed.code.code, malformed.reason, true),
            confirmingParties: [],
          },
        ]
      : (request?.views ?? []).flatMap((view) => {
          const parties = hostedConfirmers(snapshot, o.participantId, view.confirmingParties);
          if (parties.length === 0) return [];
          const r = rejections.get(view.key);
          return [
            {
              viewPosition: [...view.position],
              localVerdict: r ? localReject(r.code.code, r.reason) : localApprove(),
              confirmingParties: parties,
            },
          ];
        });
    if (responses.length === 0) return;
    if (!this.#pending.has(pending.requestId)) return;
    const signed = signConfirmationResponses(o.signingKey, {
      requestId: pending.requestId,
      rootHash: pending.rootHash.toMultihash(),
      synchronizerId: this.#s.synchronizerId,
      sender: String(o.participantId),
      responses,
    });
    const params = snapshot.synchronizerParameters();
    o.logger.debug(
      { requestId: pending.requestId, views: responses.length },
      'sending confirmation responses',
    );
    await this.#s.sequencer.send({
      envelopes: [confirmationResponsesEnvelope(signed, pending.mediatorGroup)],
      maxSequencingTime: pending.requestId + params.confirmationResponseTimeout,
      ...(traceparent ? { traceparent } : {}),
    });
  }

  // ---- Phases 6–7: verdicts and commit -------------------------------------------------------------------

  async #onResult(ts: bigint, signed: SignedProtocolMessage): Promise<void> {
    const o = this.#o;
    const snapshot = this.#s.topology.snapshot(ts);
    const keys: SigningPublicKey[] = snapshot
      .mediatorGroups()
      .flatMap((g) => g.active)
      .flatMap((m) => snapshot.memberKeys(m)?.signing ?? []);
    let summary: VerdictSummary;
    let requestId: bigint;
    let rootHash: Uint8Array;
    try {
      const result = openConfirmationResult(signed, keys);
      summary = summarizeVerdict(result.verdict);
      requestId = result.requestId;
      rootHash = result.rootHash;
    } catch (e) {
      o.logger.warn({ err: e, ts }, 'ignoring a confirmation result that does not verify');
      return;
    }
    const pending = this.#pending.get(requestId);
    if (!pending) return;
    if (!Buffer.from(rootHash).equals(pending.rootHash.toMultihash())) {
      o.logger.warn({ requestId }, 'ignoring a confirmation result for another root hash');
      return;
    }
    this.#s.submissions.mark(requestId, 'verdict');
    if (summary.kind === 'approve' && pending.opened) await this.#commit(pending, pending.opened, ts);
    else if (summary.kind === 'approve') {
      // The others committed what this participant could not read; it keeps its state and says so loudly.
      o.logger.error(
        { requestId },
        'a request this participant rejected as malformed was approved; its effects are not applied here',
      );
      this.#reject(pending, ts, {
        code: ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST.code,
        reason: 'malformed here',
      });
    } else {
      this.#reject(pending, ts, {
        code: summary.code ?? ParticipantErrors.LOCAL_VERDICT_MALFORMED_REQUEST.code,
        reason: summary.reason ?? 'the request was rejected',
      });
    }
  }

  #finish(pending: PendingRequest): void {
    this.#pending.delete(pending.requestId);
    this.#o.acs.unlock(pending.locked, pending.requestId);
    this.#o.metrics.inflight.set(this.#pending.size);
  }

  #reject(
    pending: PendingRequest,
    ts: bigint,
    failure: { code: string; reason: string },
    outcome = 'rejected',
  ): void {
    this.#finish(pending);
    this.#o.metrics.requests.inc({ outcome });
    const cmd = this.#s.submissions.decided(pending.requestId);
    const request = {
      synchronizerId: this.#s.synchronizerId,
      requestId: pending.requestId,
      rootHash: hex(pending.rootHash),
      outcome,
      decidedAt: ts,
    };
    this.#held.push({
      recordTime: pending.requestId,
      publish: () =>
        this.#o.journal.write([
          { fill: (b) => b.requests.push(request) },
          ...(cmd ? [this.#completion(cmd, pending.requestId, { failure })] : []),
        ]),
    });
  }

  /**
   * Phase 7: the approved transaction's effects on the active contracts at once (later requests are checked
   * against them); its stored effects, update and the submitter's completion when it is published.
   */
  async #commit(pending: PendingRequest, request: OpenedRequest, ts: bigint): Promise<void> {
    const o = this.#o;
    const synchronizerId = this.#s.synchronizerId;
    const tx = request.assembled.transaction;
    const info = blindingInfo(tx);
    const effects = netEffects(tx);
    const hostedOf = (parties: Iterable<Party>) => [...parties].filter((p) => pending.hosted.has(p));
    // Contracts divulged to hosted parties (fetched or exercised in their view) become usable by them.
    const divulgedInputs = request.views.flatMap((view) =>
      view.data.inputs.flatMap((c) => {
        const coid = c.contractId.coid;
        if (effects.archived.includes(coid) || effects.touched.has(coid)) return [];
        const divulgees = hostedOf(info.divulgence.get(coid) ?? []);
        return divulgees.length === 0 ? [] : [{ c, divulgees }];
      }),
    );
    // Divulgence adds readers to what is known of the contract here.
    const divulgedIds = divulgedInputs.map((d) => d.c.contractId.coid);
    const states = await retryTransient(
      () => o.acs.fetch(divulgedIds),
      o.journal.retryOptions('reading the contracts a transaction divulges'),
    );
    this.#finish(pending);
    o.metrics.requests.inc({ outcome: 'approved' });
    const ledgerTime = request.participantMetadata.ledgerTime;
    const updateId = hex(pending.rootHash);
    const known: { c: FatContract; stakeholders: readonly Party[]; readers: readonly Party[] }[] = [];
    for (const [id, node] of effects.created) {
      const stakeholders = hostedOf(node.stakeholders);
      const readers = [...new Set([...stakeholders, ...hostedOf(info.disclosure.get(id) ?? [])])];
      if (readers.length === 0) continue;
      const c = createdContract(node, ledgerTime);
      o.acs.add(c, synchronizerId, stakeholders, readers);
      known.push({ c, stakeholders, readers });
    }
    const divulged: typeof known = [];
    for (const { c, divulgees } of divulgedInputs) {
      o.acs.add(c, synchronizerId, [], divulgees, states);
      divulged.push({ c, stakeholders: [], readers: divulgees });
    }
    for (const coid of effects.archived) o.acs.archive(coid);
    const changed = [...known, ...divulged].map((k) => k.c.contractId.coid).concat(effects.archived);
    const witnesses = new Set<Party>();
    for (const w of info.disclosure.values()) for (const p of hostedOf(w)) witnesses.add(p);
    const parties = [...witnesses].sort();
    const submitter = request.submitter;
    const mine = submitter?.submittingParticipant === String(o.participantId);
    const cmd = this.#s.submissions.decided(pending.requestId);
    const publish = () => {
      const offset = o.journal.nextOffset();
      const rows = (list: typeof known, createdOffset: bigint | undefined) =>
        list.map(({ c, stakeholders, readers }) => ({
          contract: {
            contractId: c.contractId.coid,
            synchronizerId,
            templateId: showIdentifier(c.templateId),
            contract: encodeContract(c),
            createdAt: c.createdAt!,
            createdOffset,
          },
          parties: readers.map((p) => ({
            party: p,
            contractId: c.contractId.coid,
            stakeholder: stakeholders.includes(p),
          })),
        }));
      const stored = [...rows(known, offset), ...rows(divulged, undefined)];
      o.journal.write([
        {
          offset,
          fill: (b) => {
            for (const r of stored) {
              b.contracts.push(r.contract);
              b.contractParties.push(...r.parties);
            }
            for (const coid of effects.archived) b.archivals.push({ contractId: coid, offset });
            b.updates.push({
              offset,
              updateId,
              synchronizerId,
              requestId: pending.requestId,
              ledgerTime,
              workflowId: request.participantMetadata.workflowId,
              transaction: encodeTransaction(tx),
              events: o.commits.index(tx, { offset, ledgerTime }),
              submission:
                mine && submitter ? { commandId: submitter.commandId, actAs: submitter.actAs } : undefined,
              parties,
            });
            b.requests.push({
              synchronizerId,
              requestId: pending.requestId,
              rootHash: updateId,
              outcome: 'approved',
              decidedAt: ts,
            });
          },
          durable: () => {
            o.acs.durable(changed);
            o.commits.committed({ offset, updateId, requestId: pending.requestId, opened: request, parties });
          },
        },
        ...(cmd ? [this.#completion(cmd, pending.requestId, { updateId }, offset)] : []),
      ]);
    };
    this.#held.push({ recordTime: pending.requestId, publish });
  }

  /** Requests past their decision time without a verdict are rejected; sends past their deadline failed. */
  #timeouts(ts: bigint): void {
    for (const pending of [...this.#pending.values()]) {
      if (pending.decisionTime < ts) {
        this.#reject(
          pending,
          ts,
          {
            code: ParticipantErrors.LOCAL_VERDICT_TIMEOUT.code,
            reason: `no verdict on request ${pending.requestId} before its decision time ${pending.decisionTime}`,
          },
          'timed_out',
        );
      }
    }
    for (const cmd of this.#s.submissions.expired(ts)) {
      const failure = {
        code: ParticipantErrors.SUBMISSION_NOT_SEQUENCED.code,
        reason: `the request of command ${cmd.commandId} was not sequenced before ${cmd.maxSequencingTime}`,
      };
      this.#held.push({
        recordTime: ts,
        publish: () => this.#o.journal.write([this.#completion(cmd, ts, { failure })]),
      });
    }
  }
}

function isHostedBy(snapshot: TopologySnapshot, participant: ParticipantId, party: Party): boolean {
  return (
    snapshot
      .partyHosting(PartyId.parse(party))
      ?.participants.some((h) => h.participant.equals(participant)) ?? false
  );
}

/**
 * The net effect of a transaction, with node ids: the contracts it creates and does not archive, those it
 * archives and did not create, and every contract it creates or uses. Rolled-back actions have no effect.
 */
function netEffects(tx: Transaction): {
  created: [NodeId, CreateNode][];
  archived: string[];
  touched: Set<string>;
} {
  const created: [NodeId, CreateNode][] = [];
  const consumed = new Set<string>();
  const touched = new Set<string>();
  forEachNode(tx, (id, node, rolledBack) => {
    if (node.tag === 'Rollback') return;
    if (node.tag === 'Create') touched.add(node.contractId.coid);
    if (rolledBack) return;
    if (node.tag === 'Create') created.push([id, node]);
    else if (node.tag === 'Exercise' && node.consuming) consumed.add(node.contractId.coid);
  });
  const createdIds = new Set(created.map(([, c]) => c.contractId.coid));
  return {
    created: created.filter(([, c]) => !consumed.has(c.contractId.coid)),
    archived: [...consumed].filter((c) => !createdIds.has(c)),
    touched,
  };
}
