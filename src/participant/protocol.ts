import { performance } from 'node:perf_hooks';
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
  signConfirmationResponses,
  summarizeVerdict,
  type VerdictSummary,
} from '../protocol/index.js';
import type { ReceivedEvent, SendHandle, SendRequest } from '../sequencer/index.js';
import {
  processSequencedTopology,
  type TopologyProcessor,
  type TopologySnapshot,
  topologyTransactionsOf,
} from '../topology/index.js';
import type { ActiveContracts, KnownContract } from './acs.js';
import { encodeContract } from './contracts.js';
import { ParticipantErrors } from './errors.js';
import type { Journal } from './journal.js';
import type { ParticipantMetrics } from './metrics.js';
import type { CommandRow, CompletionRow, Cursor, WriteBatch } from './store.js';
import type { PhaseTimings } from './updates.js';
import {
  checkConflicts,
  checkConformance,
  checkRequest,
  hostedConfirmers,
  type OpenedRequest,
  openRequest,
  type Rejection,
  ViewRejections,
} from './validation.js';

/** A command this participant sent, until its completion. */
export interface InFlightCommand extends CommandRow {
  requestId: bigint | undefined;
  /** performance.now() marks of the phases, for the submitter's own timings. */
  readonly marks: {
    start: number;
    interpreted?: number;
    created?: number;
    sequenced?: number;
    validated?: number;
    verdict?: number;
  };
}

/** A request validated (or being validated) here and awaiting its verdict. */
interface PendingRequest {
  readonly requestId: bigint;
  readonly rootHash: Hash;
  readonly mediatorGroup: number;
  /** The event before the request: a restart replays from there while the request is undecided. */
  readonly resumeAfter: { counter: bigint; timestamp: bigint } | undefined;
  readonly decisionTime: bigint;
  readonly opened: OpenedRequest | undefined;
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
  /** Contracts an approved transaction created here, already in the active contract set (without an offset). */
  readonly created?: readonly KnownContract[];
  /** Contracts it archived, already gone from the active contract set. */
  readonly archived?: readonly KnownContract[];
}

/** What decided but unpublished transactions did to the active contracts. */
export interface Unpublished {
  readonly created: ReadonlySet<string>;
  readonly archived: readonly KnownContract[];
}

export interface Committed {
  readonly offset: bigint;
  readonly updateId: string;
  readonly requestId: bigint;
  readonly opened: OpenedRequest;
  /** Hosted parties that witness something of the transaction. */
  readonly parties: readonly Party[];
}

export interface ProtocolOptions {
  readonly participantId: ParticipantId;
  readonly synchronizerId: string;
  readonly topology: TopologyProcessor;
  readonly engine: Engine;
  readonly decoder: TransactionDecoder;
  readonly signingKey: SigningPrivateKey;
  readonly encryptionKey: EncryptionPrivateKey;
  readonly acs: ActiveContracts;
  readonly journal: Journal;
  readonly send: (request: SendRequest) => Promise<SendHandle>;
  /** Whether this participant has the package (its types are needed to decode a view). */
  readonly packageKnown: (packageId: string) => boolean;
  /** Whether this participant can validate the package at the ledger time (uploaded and vetted). */
  readonly packageUsable: (packageId: string, snapshot: TopologySnapshot, ledgerTime: bigint) => boolean;
  readonly nextOffset: () => bigint;
  readonly decided: ReadonlySet<bigint>;
  readonly commands: readonly CommandRow[];
  /** Called once a transaction is durable. */
  readonly onCommitted: (c: Committed) => void;
  /** Called once a completion is durable. */
  readonly onCompletion: (
    changeId: string,
    completion: CompletionRow,
    timings: PhaseTimings | undefined,
  ) => void;
  readonly logger: Logger;
  readonly metrics: ParticipantMetrics;
  /** Durable effects not yet written beyond which event processing waits for the database. */
  readonly maxQueued: number;
}

const hex = (h: Hash) => h.toHex();

/**
 * The transaction protocol of one synchronizer connection, fed the sequenced events in order: topology
 * broadcasts, receipts of this participant's own submissions, confirmation requests (Phase 3: decrypt, check,
 * detect conflicts and lock in event order; model conformance and the responses are pipelined), verdicts (Phase 7:
 * commit or roll back) and local timeouts. Decisions change the active contracts and locks at once (conflict
 * detection needs them), but are published (offsets, updates, completions) in record order.
 */
export class ProtocolProcessor {
  readonly #o: ProtocolOptions;
  readonly #pending = new Map<bigint, PendingRequest>();
  /** Requests decided before a restart that the replay will deliver again; emptied once the replay passed them. */
  readonly #decided: Set<bigint>;
  readonly #decidedUntil: bigint;
  readonly #commands = new Map<string, InFlightCommand>();
  readonly #commandsByRequest = new Map<bigint, InFlightCommand>();
  #lastHandled: { counter: bigint; timestamp: bigint } | undefined;
  #validations = new Set<Promise<void>>();
  /** Decisions held back behind an undecided earlier request. */
  #held: Held[] = [];

  constructor(options: ProtocolOptions, resumeAfter: { counter: bigint; timestamp: bigint } | undefined) {
    this.#o = options;
    this.#decided = new Set(options.decided);
    this.#decidedUntil = [...options.decided].reduce((m, id) => (id > m ? id : m), -1n);
    this.#lastHandled = resumeAfter;
    for (const c of options.commands) {
      const cmd: InFlightCommand = { ...c, marks: { start: performance.now() } };
      this.#commands.set(c.messageId, cmd);
      if (c.requestId !== undefined) this.#commandsByRequest.set(c.requestId, cmd);
    }
  }

  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Registers a command about to be sent, so that its receipt finds it. */
  track(command: InFlightCommand): void {
    this.#commands.set(command.messageId, command);
  }

  untrack(messageId: string): void {
    this.#commands.delete(messageId);
  }

  /** The effects of decided transactions not published yet (an active contract snapshot at the ledger end). */
  unpublished(): Unpublished {
    const created = new Set(
      this.#held.flatMap((h) => h.created ?? []).map((c) => c.contract.contractId.coid),
    );
    const archived = this.#held
      .flatMap((h) => h.archived ?? [])
      .filter((c) => !created.has(c.contract.contractId.coid));
    return { created, archived };
  }

  /** Waits for the validations in flight (tests and shutdown). */
  async settle(): Promise<void> {
    while (this.#validations.size > 0) await Promise.all(this.#validations);
  }

  async handle(event: ReceivedEvent): Promise<void> {
    const ts = event.timestamp;
    const topology = topologyTransactionsOf(event.envelopes, this.#o.synchronizerId, this.#o.logger);
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
    if (topology) await processSequencedTopology(this.#o.topology, ts, topology);
    if (event.messageId !== undefined) this.#onReceipt(event);
    if (rootHash) this.#onRequest(event, rootHash.message, rootHash.recipients, views);
    for (const result of results) this.#onResult(ts, result);
    this.#timeouts(ts);
    if (ts > this.#decidedUntil) this.#decided.clear();
    this.#publishInOrder();
    this.#lastHandled = { counter: event.counter, timestamp: ts };
    const cursor = this.#cleanCursor();
    if (cursor) this.#o.journal.setCursor(this.#o.synchronizerId, cursor);
    if (this.#o.journal.queued > this.#o.maxQueued) await this.#o.journal.flush();
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
    const cmd = this.#commands.get(event.messageId!);
    if (!cmd) return;
    if (event.error) {
      const failure = { code: event.error.code, reason: event.error.reason };
      this.#take(cmd);
      this.#held.push({
        recordTime: event.timestamp,
        publish: () => this.#write(this.#completion(cmd, event.timestamp, failure)),
      });
      return;
    }
    cmd.requestId = event.timestamp;
    cmd.marks.sequenced = performance.now();
    // Not written: a restart replays from before the request (it is undecided), receipt included.
    this.#commandsByRequest.set(event.timestamp, cmd);
  }

  /** Takes a decided command out of flight (its completion follows when published). */
  #take(cmd: InFlightCommand): void {
    this.#commands.delete(cmd.messageId);
    if (cmd.requestId !== undefined) this.#commandsByRequest.delete(cmd.requestId);
  }

  /** The command of a decided request, taken out of flight. */
  #takeOf(requestId: bigint): InFlightCommand | undefined {
    const cmd = this.#commandsByRequest.get(requestId);
    if (cmd) this.#take(cmd);
    return cmd;
  }

  /**
   * A command's completion (when it is published): a success at its transaction's offset, or a failure at a new
   * offset. `onCompletion` runs once it is durable.
   */
  #completion(
    cmd: InFlightCommand,
    recordTime: bigint,
    failure: { code: string; reason: string } | undefined,
    success?: { offset: bigint; updateId: string },
  ): Effects {
    const offset = success?.offset ?? this.#o.nextOffset();
    const completion: CompletionRow = {
      offset,
      changeId: cmd.changeId,
      commandId: cmd.commandId,
      userId: cmd.userId,
      submissionId: cmd.submissionId,
      actAs: cmd.actAs,
      code: failure?.code,
      message: failure?.reason ?? '',
      updateId: success?.updateId,
      requestId: cmd.requestId,
      recordTime,
      synchronizerId: this.#o.synchronizerId,
    };
    return {
      offset,
      fill: (b) => {
        b.completions.push(completion);
        b.commands.push({ changeId: cmd.changeId, completionOffset: offset, completedAt: recordTime });
      },
      durable: () => {
        const timings = phaseTimings(cmd.marks, performance.now());
        if (timings && !failure) this.#o.metrics.recordPhases(timings);
        this.#o.onCompletion(cmd.changeId, completion, timings);
      },
    };
  }

  /** Adds effects to the journal; `durable` runs once they are written. */
  #write(...effects: (Effects | undefined)[]): void {
    const all = effects.filter((e) => e !== undefined);
    let offset: bigint | undefined;
    for (const e of all)
      if (e.offset !== undefined && (offset === undefined || e.offset > offset)) offset = e.offset;
    this.#o.journal
      .add((b) => {
        for (const e of all) e.fill(b);
      }, offset)
      .then(
        () => {
          for (const e of all) e.durable?.();
        },
        () => {},
      );
  }

  // ---- Phase 3: requests ---------------------------------------------------------------------------------

  #onRequest(
    event: ReceivedEvent,
    rootHashMessage: RootHashMessage,
    recipients: readonly Recipient[],
    views: readonly EncryptedViewMessage[],
  ): void {
    const requestId = event.timestamp;
    if (this.#decided.has(requestId)) return;
    const o = this.#o;
    const snapshot = o.topology.snapshot(requestId);
    const group = recipients.find((r) => r.recipient.oneofKind === 'mediatorGroup')?.recipient;
    const mediatorGroup = group?.oneofKind === 'mediatorGroup' ? group.mediatorGroup : 0;
    const params = snapshot.synchronizerParameters();
    const opened = openRequest({
      rootHashMessage,
      viewMessages: views,
      synchronizerId: o.synchronizerId,
      encryptionKey: o.encryptionKey,
      decoder: o.decoder,
      checkPackages: (ids) => {
        const missing = ids.filter((id) => !o.packageKnown(id));
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
        v.data.packages.filter((p) => !o.packageUsable(p, snapshot, ledgerTime)).map((p) => ({ v, p })),
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
      locked = checkConflicts(request, o.synchronizerId, o.acs, (p) => hosted.has(p), rejections);
      for (const c of locked) o.acs.lock(c, requestId);
    }
    const pending: PendingRequest = {
      requestId,
      rootHash: request?.rootHash ?? Hash.fromMultihash(rootHashMessage.rootHash),
      mediatorGroup,
      resumeAfter: this.#lastHandled,
      decisionTime: requestId + params.confirmationResponseTimeout + params.mediatorReactionTimeout,
      opened: request,
      hosted,
      locked,
    };
    this.#pending.set(requestId, pending);
    o.metrics.inflight.set(this.#pending.size);
    const validation = this.#validate(pending, snapshot, rejections, malformed, event.traceparent)
      .catch((e) => o.logger.error({ err: e, requestId }, 'validating a request failed'))
      .finally(() => this.#validations.delete(validation));
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
    if (request) await checkConformance(o.engine, request, rejections);
    const cmd = this.#commandsByRequest.get(pending.requestId);
    if (cmd) cmd.marks.validated = performance.now();
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
      synchronizerId: o.synchronizerId,
      sender: String(o.participantId),
      responses,
    });
    const params = snapshot.synchronizerParameters();
    await o.send({
      envelopes: [confirmationResponsesEnvelope(signed, pending.mediatorGroup)],
      maxSequencingTime: pending.requestId + params.confirmationResponseTimeout,
      ...(traceparent ? { traceparent } : {}),
    });
  }

  // ---- Phases 6–7: verdicts and commit -------------------------------------------------------------------

  #onResult(ts: bigint, signed: SignedProtocolMessage): void {
    const o = this.#o;
    const snapshot = o.topology.snapshot(ts);
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
    const cmd = this.#commandsByRequest.get(requestId);
    if (cmd) cmd.marks.verdict = performance.now();
    if (summary.kind === 'approve' && pending.opened) this.#commit(pending, pending.opened, ts);
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
    const cmd = this.#takeOf(pending.requestId);
    const request = {
      synchronizerId: this.#o.synchronizerId,
      requestId: pending.requestId,
      rootHash: hex(pending.rootHash),
      outcome,
      decidedAt: ts,
    };
    this.#held.push({
      recordTime: pending.requestId,
      publish: () =>
        this.#write(
          { fill: (b) => b.requests.push(request) },
          cmd && this.#completion(cmd, pending.requestId, failure),
        ),
    });
  }

  /**
   * Phase 7: the approved transaction's effects on the active contracts at once (later requests are checked
   * against them); its stored effects, update and the submitter's completion when it is published.
   */
  #commit(pending: PendingRequest, request: OpenedRequest, ts: bigint): void {
    const o = this.#o;
    this.#finish(pending);
    o.metrics.requests.inc({ outcome: 'approved' });
    const tx = request.assembled.transaction;
    const ledgerTime = request.participantMetadata.ledgerTime;
    const info = blindingInfo(tx);
    const updateId = hex(pending.rootHash);
    const hostedOf = (parties: Iterable<Party>) => [...parties].filter((p) => pending.hosted.has(p));
    const known: { c: FatContract; stakeholders: readonly Party[]; readers: readonly Party[] }[] = [];
    const created: KnownContract[] = [];
    const effects = netEffects(tx);
    for (const [id, node] of effects.created) {
      const stakeholders = hostedOf(node.stakeholders);
      const readers = [...new Set([...stakeholders, ...hostedOf(info.disclosure.get(id) ?? [])])];
      if (readers.length === 0) continue;
      const c = createdContract(node, ledgerTime);
      o.acs.add(c, o.synchronizerId, stakeholders, readers, undefined);
      created.push(o.acs.get(c.contractId.coid)!);
      known.push({ c, stakeholders, readers });
    }
    // Contracts divulged to hosted parties (fetched or exercised in their view) become usable by them.
    const divulged: typeof known = [];
    for (const view of request.views) {
      for (const c of view.data.inputs) {
        const coid = c.contractId.coid;
        if (effects.archived.includes(coid) || effects.touched.has(coid)) continue;
        const divulgees = hostedOf(info.divulgence.get(coid) ?? []);
        if (divulgees.length === 0) continue;
        o.acs.add(c, o.synchronizerId, [], divulgees, undefined);
        divulged.push({ c, stakeholders: [], readers: divulgees });
      }
    }
    const archived: KnownContract[] = [];
    for (const coid of effects.archived) {
      const k = o.acs.get(coid);
      if (k) archived.push(k);
      o.acs.archive(coid);
    }
    const witnesses = new Set<Party>();
    for (const w of info.disclosure.values()) for (const p of hostedOf(w)) witnesses.add(p);
    const parties = [...witnesses].sort();
    const submitter = request.submitter;
    const mine = submitter?.submittingParticipant === String(o.participantId);
    const cmd = this.#takeOf(pending.requestId);
    const publish = () => {
      const offset = o.nextOffset();
      for (const k of created) k.createdOffset ??= offset;
      const rows = (list: typeof known, createdOffset: bigint | undefined) =>
        list.map(({ c, stakeholders, readers }) => ({
          contract: {
            contractId: c.contractId.coid,
            synchronizerId: o.synchronizerId,
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
      this.#write(
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
              synchronizerId: o.synchronizerId,
              requestId: pending.requestId,
              ledgerTime,
              workflowId: request.participantMetadata.workflowId,
              transaction: encodeTransaction(tx),
              submission:
                mine && submitter ? { commandId: submitter.commandId, actAs: submitter.actAs } : undefined,
              parties,
            });
            b.requests.push({
              synchronizerId: o.synchronizerId,
              requestId: pending.requestId,
              rootHash: updateId,
              outcome: 'approved',
              decidedAt: ts,
            });
          },
          durable: () =>
            o.onCommitted({ offset, updateId, requestId: pending.requestId, opened: request, parties }),
        },
        cmd && this.#completion(cmd, pending.requestId, undefined, { offset, updateId }),
      );
    };
    this.#held.push({ recordTime: pending.requestId, publish, created, archived });
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
    for (const cmd of [...this.#commands.values()]) {
      if (cmd.requestId === undefined && cmd.maxSequencingTime < ts) {
        const failure = {
          code: ParticipantErrors.SUBMISSION_NOT_SEQUENCED.code,
          reason: `the request of command ${cmd.commandId} was not sequenced before ${cmd.maxSequencingTime}`,
        };
        this.#take(cmd);
        this.#held.push({ recordTime: ts, publish: () => this.#write(this.#completion(cmd, ts, failure)) });
      }
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

interface Effects {
  /** The highest offset the effects assign. */
  readonly offset?: bigint;
  readonly fill: (b: WriteBatch) => void;
  readonly durable?: () => void;
}

function phaseTimings(m: InFlightCommand['marks'], done: number): PhaseTimings | undefined {
  if (
    m.interpreted === undefined ||
    m.created === undefined ||
    m.sequenced === undefined ||
    m.verdict === undefined
  ) {
    return undefined;
  }
  return {
    interpretation: m.interpreted - m.start,
    requestCreation: m.created - m.interpreted,
    sequencing: m.sequenced - m.created,
    validation: (m.validated ?? m.verdict) - m.sequenced,
    verdict: m.verdict - m.sequenced,
    commit: done - m.verdict,
  };
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
