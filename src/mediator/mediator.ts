import type { Logger } from 'pino';
import type { Hash, RandomSource, SigningPrivateKey } from '../crypto/index.js';
import { isWeftError, WeftError } from '../errors/index.js';
import type { InformeeMessage, RootHashMessage } from '../generated/weft/protocol/v1/confirmation_request.js';
import type { Verdict } from '../generated/weft/protocol/v1/confirmation_result.js';
import { SignedProtocolMessage } from '../generated/weft/protocol/v1/protocol_message.js';
import { ViewType } from '../generated/weft/protocol/v1/transaction_tree.js';
import { type Envelope, EnvelopeKind, type Recipient } from '../generated/weft/sequencer/v1/sequencing.js';
import { type MediatorId, ParticipantId, type SynchronizerId } from '../identity/index.js';
import type { Tracer } from '../observability/index.js';
import {
  type ConfirmationRequest,
  confirmationResultEnvelopes,
  decodeConfirmationResponses,
  decodeProtocolMessage,
  memberRecipient,
  ProtocolErrors,
  signConfirmationResult,
  summarizeVerdict,
  verifyConfirmationResponses,
  viewPositionKey,
} from '../protocol/index.js';
import type { ReceivedEvent, SendHandle, SendRequest } from '../sequencer/index.js';
import {
  GroupCommitWindow,
  groupCommitOf,
  retryTransient,
  type StorageRetryOptions,
} from '../storage/index.js';
import { type Clock, sleep } from '../time/index.js';
import {
  processSequencedTopology,
  type TopologyProcessor,
  topologyTransactionsOf,
} from '../topology/index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { type AggregationFactory, ResponseAggregation } from './aggregation.js';
import type { MediatorSettings } from './config.js';
import { MediatorErrors } from './errors.js';
import type { MediatorMetrics } from './metrics.js';
import type {
  EventPosition,
  LoadedMediatorState,
  MediatorCursor,
  MediatorStore,
  VerdictDelivery,
  VerdictRecord,
} from './store.js';
import { type RequestEnvelopes, validateRequest } from './validation.js';

/** What the mediator needs of its sequencer connection (the SequencerClient in production). */
export interface MediatorTransport {
  send(request: SendRequest): Promise<SendHandle>;
  acknowledge(timestamp: bigint): Promise<void>;
}

export interface MediatorOptions {
  readonly mediatorId: MediatorId;
  readonly synchronizerId: SynchronizerId;
  readonly signingKey: SigningPrivateKey;
  /** The mediator's own topology state, fed with the broadcasts of its event stream. */
  readonly topology: TopologyProcessor;
  readonly store: MediatorStore;
  /** What the store held at start. */
  readonly loaded: LoadedMediatorState;
  readonly transport: MediatorTransport;
  readonly settings: MediatorSettings;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly tracer: Tracer;
  readonly logger: Logger;
  readonly metrics: MediatorMetrics;
  /** Called once when the mediator cannot go on (its database failed). */
  readonly onFatal: (error: WeftError) => void;
  /**
   * How a request's responses are aggregated; default {@link ResponseAggregation}. Only the simulation replaces
   * it, with a planted bug it must find (src/simulation/planted.ts).
   */
  readonly aggregation?: AggregationFactory;
}

/** The message id of a request's verdict: the same on every resend, so the sequencer orders it at most once. */
export function verdictMessageId(requestId: bigint): string {
  return `verdict:${requestId}`;
}

const VERDICT_PREFIX = 'verdict:';
const TICK_PREFIX = 'tick:';

interface PendingRequest {
  readonly requestId: bigint;
  /** The event before the request's: a restart while the request is pending resumes after it. */
  readonly before: EventPosition | undefined;
  readonly request: ConfirmationRequest;
  readonly aggregation: ResponseAggregation;
  readonly responseDeadline: bigint;
  readonly decisionTime: bigint;
  readonly recipients: readonly string[];
  readonly traceparent: string | undefined;
}

/**
 * The mediator's protocol logic (Phases 2, 5 and 6): it processes its sequencer events in order, registers
 * confirmation requests, aggregates responses, decides approve, reject or timeout, and sends signed verdicts.
 *
 * State is a deterministic function of the event stream: only decisions and a resume cursor are persisted. The
 * cursor points before the earliest undecided request, so after a restart the stream is replayed from there and
 * rebuilds the pending requests and their responses; requests decided before are recognised and skipped. A verdict
 * is sent as soon as it is decided, while its decision is being written, with a message id derived from the
 * request: a crash before the write lets the replay decide the request again, with the same verdict under the same
 * message id, and the sequencer never orders it twice.
 */
export class Mediator {
  readonly #o: MediatorOptions;
  readonly #log: Logger;
  /** Undecided requests in request order (a Map keeps insertion order). */
  readonly #pending = new Map<bigint, PendingRequest>();
  /** Response deadlines of undecided requests (decided ones are dropped lazily). */
  readonly #deadlines = new DeadlineQueue();
  /** Decided requests whose response window is still open, so late responses are recognised (→ deadline). */
  readonly #decided = new Map<bigint, bigint>();
  /** Requests decided before a restart that the replay will meet again. */
  readonly #decidedBefore: Map<bigint, VerdictRecord>;
  readonly #writer: VerdictWriter;
  #last: EventPosition | undefined;
  #observed: bigint | undefined;
  #tick: { deadline: bigint; cancel: () => void } | undefined;
  /** No more events or ticks (stopping or stopped). */
  #stopped = false;
  /** No more sends either (killed, or failed). */
  #killed = false;
  /** The event being processed, awaited by a graceful stop. */
  #handling: Promise<void> | undefined;
  /** Verdict sends under way, awaited by a graceful stop. */
  readonly #sending = new Set<Promise<void>>();
  #failure: WeftError | undefined;

  constructor(options: MediatorOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#decidedBefore = new Map(options.loaded.finalizedAfterCursor);
    this.#last = options.loaded.cursor?.last;
    this.#writer = new VerdictWriter(options);
    this.#writer.onFailure = (e) => this.#fail(e);
  }

  /** Sends the verdicts decided before a restart whose own event has not come back yet. */
  start(): void {
    for (const v of this.#o.loaded.undelivered) this.#startSend(v);
  }

  /** Undecided requests. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /** Why the mediator stopped processing, if it did. */
  get failure(): WeftError | undefined {
    return this.#failure;
  }

  /** The transient storage failure the mediator is waiting out, while it is. */
  get storageStalled(): unknown {
    return this.#writer.stalled;
  }

  /**
   * Graceful stop: processes no more events, writes what is decided and the cursor, and waits for the verdicts'
   * sends (one attempt each; a restart sends what did not get through).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#tick?.cancel();
    this.#tick = undefined;
    await this.#handling?.catch(() => {});
    this.#writer.markCursorDue();
    this.#writer.kick();
    await this.#writer.idle();
    while (this.#sending.size > 0) await Promise.all(this.#sending);
  }

  /** Stops at once and drops unwritten decisions, as a crash would (tests). */
  kill(): void {
    this.#stopped = true;
    this.#killed = true;
    this.#tick?.cancel();
    this.#tick = undefined;
    this.#writer.drop();
  }

  /** The sequencer client's handler: one event at a time, in order. */
  async handle(event: ReceivedEvent): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#stopped) return;
    this.#handling = this.#o.tracer.withSpan('mediator.event', () => this.#handle(event), {
      ...(event.traceparent ? { parent: event.traceparent } : {}),
    });
    await this.#handling;
    if (this.#writer.backlog > this.#o.settings.writeQueueSize) await this.#writer.idle();
  }

  async #handle(event: ReceivedEvent): Promise<void> {
    const ts = event.timestamp;
    this.#observe(ts);
    const messageId = event.messageId;
    if (messageId?.startsWith(VERDICT_PREFIX)) {
      this.#writer.addDelivery({
        requestId: BigInt(messageId.slice(VERDICT_PREFIX.length)),
        sequencedAt: ts,
        errorCode: event.error?.code,
      });
      if (event.error) {
        this.#log.warn({ messageId, error: event.error }, 'the sequencer refused a verdict');
      }
    }
    if (!messageId?.startsWith(TICK_PREFIX)) await this.#process(event);
    this.#last = { counter: event.counter, timestamp: ts };
    this.#writer.setCursor(this.#cursor());
    this.#writer.kick();
    this.#armTick();
  }

  async #process(event: ReceivedEvent): Promise<void> {
    const informeeMessages: { message: InformeeMessage; recipients: readonly Recipient[] }[] = [];
    const rootHashMessages: { message: RootHashMessage; recipients: readonly Recipient[] }[] = [];
    const responses: { envelope: Envelope; signed: SignedProtocolMessage }[] = [];
    const topology = topologyTransactionsOf(event.envelopes, this.#o.synchronizerId, this.#log);
    for (const envelope of event.envelopes) {
      if (envelope.kind === EnvelopeKind.TOPOLOGY_BROADCAST) continue;
      let message: ReturnType<typeof decodeProtocolMessage>;
      try {
        message = decodeProtocolMessage(envelope);
      } catch (e) {
        if (!isWeftError(e)) throw e;
        this.#log.warn({ err: e, ts: event.timestamp }, 'ignoring an envelope that is no protocol message');
        continue;
      }
      switch (message.oneofKind) {
        case 'informeeMessage':
          informeeMessages.push({ message: message.informeeMessage, recipients: envelope.recipients });
          break;
        case 'rootHashMessage':
          rootHashMessages.push({ message: message.rootHashMessage, recipients: envelope.recipients });
          break;
        case 'confirmationResponses':
          responses.push({ envelope, signed: message.confirmationResponses });
          break;
        case 'confirmationResult':
          // Our own verdict, addressed to ourselves for the record (its delivery is tracked by message id).
          break;
        case 'encryptedViewMessage':
          this.#log.warn({ ts: event.timestamp }, 'ignoring an encrypted view addressed to the mediator');
          break;
      }
    }
    if (topology) {
      // Replaying a topology event is what a restart does, so a transient failure is simply tried again.
      await retryTransient(
        () => processSequencedTopology(this.#o.topology, event.timestamp, topology),
        this.#writer.retryOptions('processing a topology event'),
      );
    }
    if (informeeMessages.length > 0) {
      this.#register(event, { informeeMessages, rootHashMessages, withTopology: topology !== undefined });
    } else if (rootHashMessages.length > 0) {
      this.#log.warn({ ts: event.timestamp }, 'ignoring root hash messages without an informee message');
    }
    for (const r of responses) this.#respond(event.timestamp, r.envelope, r.signed);
  }

  // ---- Phase 2: requests ---------------------------------------------------------------------------------

  #register(event: ReceivedEvent, envelopes: RequestEnvelopes): void {
    const requestId = event.timestamp;
    const known = this.#decidedBefore.get(requestId);
    if (known) {
      this.#decidedBefore.delete(requestId);
      this.#decided.set(requestId, this.#deadlinesOf(requestId).responseDeadline);
      this.#log.debug({ requestId }, 'replayed request was decided before the restart');
      return;
    }
    const { responseDeadline, decisionTime } = this.#deadlinesOf(requestId);
    const validation = validateRequest(
      {
        requestId,
        mediatorId: this.#o.mediatorId,
        synchronizerId: this.#o.synchronizerId,
        snapshot: this.#o.topology.snapshot(requestId),
      },
      envelopes,
    );
    if (validation.kind === 'discard') {
      this.#log.warn({ requestId, reason: validation.reason }, 'discarding a confirmation request');
      return;
    }
    this.#o.metrics.requests.inc();
    if (validation.kind === 'reject') {
      this.#log.warn(
        { requestId, code: validation.code.code, reason: validation.reason },
        'Phase 2: rejecting a confirmation request',
      );
      this.#decide(
        {
          requestId,
          rootHash: validation.rootHash,
          request: validation.request,
          recipients: validation.recipients,
          decisionTime,
          traceparent: event.traceparent,
        },
        {
          verdict: {
            oneofKind: 'mediatorReject',
            mediatorReject: { code: validation.code.code, reason: validation.reason },
          },
        },
        requestId,
        responseDeadline,
      );
      return;
    }
    const { request } = validation;
    const pending: PendingRequest = {
      requestId,
      before:
        event.counter === 0n || event.previousTimestamp === undefined
          ? undefined
          : { counter: event.counter - 1n, timestamp: event.previousTimestamp },
      request,
      aggregation: (this.#o.aggregation ?? newAggregation)(
        request.views.map((v) => ({
          key: v.key,
          confirmingParties: v.confirmingParties.map(String),
          threshold: v.threshold,
        })),
        validation.confirmers,
      ),
      responseDeadline,
      decisionTime,
      recipients: validation.informeeParticipants,
      traceparent: event.traceparent,
    };
    this.#pending.set(requestId, pending);
    this.#deadlines.add(responseDeadline, requestId);
    this.#o.metrics.outstandingRequests.set(this.#pending.size);
    this.#log.info(
      {
        requestId,
        rootHash: request.rootHash.toHex(),
        submittingParticipant: String(request.submittingParticipant),
        views: request.views.length,
        responseDeadline,
      },
      'Phase 2: registered request',
    );
  }

  #deadlinesOf(requestId: bigint): { responseDeadline: bigint; decisionTime: bigint } {
    const p = this.#o.topology.snapshot(requestId).synchronizerParameters();
    const responseDeadline = requestId + p.confirmationResponseTimeout;
    return { responseDeadline, decisionTime: responseDeadline + p.mediatorReactionTimeout };
  }

  // ---- Phase 5: responses --------------------------------------------------------------------------------

  #respond(ts: bigint, envelope: Envelope, signed: SignedProtocolMessage): void {
    const ignored = this.#applyResponses(ts, envelope, signed);
    if (!ignored) return;
    this.#o.metrics.responses.inc({ result: ignored.result });
    const level = ignored.result === 'after_decision' ? 'debug' : 'warn';
    this.#log[level](
      { ts, ...ignored.fields },
      `Phase 5: ignoring a confirmation response: ${ignored.message}`,
    );
  }

  /** Checks and applies one participant's responses; returns why they are ignored, if they are. */
  #applyResponses(
    ts: bigint,
    envelope: Envelope,
    signed: SignedProtocolMessage,
  ): { result: string; message: string; fields?: Record<string, unknown> } | undefined {
    const ignore = (result: string, message: string, fields: Record<string, unknown> = {}) => ({
      result,
      message,
      fields,
    });
    let responses: ReturnType<typeof decodeConfirmationResponses>;
    try {
      responses = decodeConfirmationResponses(signed);
    } catch (e) {
      if (!isWeftError(e)) throw e;
      return ignore('malformed', e.message);
    }
    const { requestId, sender } = responses;
    const fields = { requestId, sender };
    if (responses.synchronizerId !== String(this.#o.synchronizerId)) {
      return ignore('malformed', `it is for synchronizer ${responses.synchronizerId}`, fields);
    }
    if (requestId > ts) return ignore('malformed', 'its request id lies after its sequencing time', fields);
    const pending = this.#pending.get(requestId);
    if (!pending) {
      if (this.#decided.has(requestId) || this.#decidedBefore.has(requestId)) {
        return ignore('after_decision', 'the request is decided already', fields);
      }
      return ignore('unknown_request', 'no such request is pending', fields);
    }
    if (ts > pending.responseDeadline) {
      return ignore('late', `it arrived after the response deadline ${pending.responseDeadline}`, fields);
    }
    if (!envelope.recipients.some((r) => isGroup(r, pending.request.mediatorGroup))) {
      return ignore(
        'malformed',
        `it is not addressed to mediator group ${pending.request.mediatorGroup}`,
        fields,
      );
    }
    if (!Buffer.from(responses.rootHash).equals(Buffer.from(pending.request.rootHash.toMultihash()))) {
      return ignore('malformed', 'its root hash differs from the request', fields);
    }
    let participant: ParticipantId;
    try {
      participant = ParticipantId.parse(sender);
    } catch (e) {
      if (!isWeftError(e)) throw e;
      return ignore('malformed', e.message, fields);
    }
    try {
      const keys = this.#o.topology.snapshot(requestId).memberKeys(participant)?.signing ?? [];
      verifyConfirmationResponses(signed, keys, `the confirmation responses of ${sender}`);
    } catch (e) {
      if (!isWeftError(e)) throw e;
      return ignore('invalid_signature', e.message, fields);
    }
    const problems: string[] = [];
    for (const response of responses.responses) {
      if (pending.aggregation.decision) break;
      const problem = pending.aggregation.apply(sender, {
        viewKey: response.viewPosition.length === 0 ? undefined : viewPositionKey(response.viewPosition),
        verdict: response.localVerdict ?? { verdict: { oneofKind: undefined } },
        parties: response.confirmingParties,
      });
      if (problem) problems.push(problem);
    }
    if (problems.length === responses.responses.length) {
      return ignore('unauthorized', problems.join('; ') || 'it holds no response', fields);
    }
    if (problems.length > 0) this.#log.warn({ ...fields, problems }, 'Phase 5: ignored some responses');
    this.#o.metrics.responses.inc({ result: 'counted' });
    this.#o.metrics.responseLatency.observe(Number(ts - requestId) / 1e6);
    this.#log.info({ ...fields, responses: responses.responses.length }, 'Phase 5: received responses');
    const verdict = pending.aggregation.decision;
    if (verdict) this.#decidePending(pending, verdict, ts);
    return undefined;
  }

  // ---- Phase 6: verdicts ---------------------------------------------------------------------------------

  /** Processes the passage of sequencer time: requests whose response deadline lies before `ts` time out. */
  #observe(ts: bigint): void {
    this.#observed = ts;
    for (;;) {
      const next = this.#deadlines.first((id) => this.#pending.has(id));
      if (!next || next.deadline >= ts) break;
      this.#deadlines.shift();
      const pending = this.#pending.get(next.requestId)!;
      this.#decidePending(pending, pending.aggregation.timeout(next.requestId), ts);
    }
    // A decided request's window closes at its deadline (responses after it are late anyway). Entries are in about
    // deadline order, so stopping at the first open one keeps this cheap; a few stay a little longer.
    for (const [requestId, deadline] of this.#decided) {
      if (deadline >= ts) break;
      this.#decided.delete(requestId);
    }
    // The replay has passed these requests' events without meeting them (they were not addressed to us).
    for (const requestId of this.#decidedBefore.keys()) {
      if (requestId >= ts) break;
      this.#decidedBefore.delete(requestId);
    }
  }

  #decidePending(pending: PendingRequest, verdict: Verdict, finalizedAt: bigint): void {
    this.#pending.delete(pending.requestId);
    this.#o.metrics.outstandingRequests.set(this.#pending.size);
    this.#decide(
      {
        requestId: pending.requestId,
        rootHash: pending.request.rootHash,
        request: pending.request,
        recipients: pending.recipients,
        decisionTime: pending.decisionTime,
        traceparent: pending.traceparent,
      },
      verdict,
      finalizedAt,
      pending.responseDeadline,
    );
  }

  /**
   * Signs the verdict, sends it and queues it for the database. The send does not wait for the write: the write is
   * the audit record and saves a replay, not what makes the verdict final (the event stream decides it again).
   */
  #decide(
    r: {
      requestId: bigint;
      rootHash: Hash;
      request: ConfirmationRequest | undefined;
      recipients: readonly string[];
      decisionTime: bigint;
      traceparent: string | undefined;
    },
    verdict: Verdict,
    finalizedAt: bigint,
    responseDeadline: bigint,
  ): void {
    const summary = summarizeVerdict(verdict);
    const signed = signConfirmationResult(this.#o.signingKey, {
      synchronizerId: String(this.#o.synchronizerId),
      viewType: ViewType.TRANSACTION,
      requestId: r.requestId,
      rootHash: r.rootHash.toMultihash(),
      verdict,
    });
    this.#decided.set(r.requestId, responseDeadline);
    const record: VerdictRecord = {
      requestId: r.requestId,
      rootHash: r.rootHash.toHex(),
      requestUuid: r.request?.requestUuid ?? '',
      submittingParticipant: r.request ? String(r.request.submittingParticipant) : '',
      verdict: summary.kind,
      reasonCode: summary.code,
      reason: summary.reason,
      finalizedAt,
      decisionTime: r.decisionTime,
      recipients: r.recipients,
      result: SignedProtocolMessage.toBinary(signed, FAST_WRITE_OPTIONS),
      traceparent: r.traceparent,
    };
    this.#writer.addVerdict(record);
    this.#startSend(record, signed);
    const timedOut = summary.code === ProtocolErrors.MEDIATOR_REQUEST_TIMED_OUT.code;
    this.#o.metrics.verdicts.inc({ verdict: timedOut ? 'timeout' : summary.kind });
    if (summary.kind === 'approve') this.#o.metrics.approvedRequests.inc();
    this.#o.metrics.decisionLatency.observe(Number(finalizedAt - r.requestId) / 1e6);
    // Logged in the request's trace, whichever event decided it, so one trace id finds the whole request.
    this.#o.tracer.withSpan(
      'mediator.verdict',
      () =>
        this.#log.info(
          { requestId: r.requestId, verdict: summary.kind, code: summary.code, reason: summary.reason },
          'Phase 6: finalized request',
        ),
      r.traceparent ? { parent: r.traceparent } : {},
    );
  }

  /** `signed` is the record's result decoded, when the caller has it (the record holds it as bytes for the store). */
  #startSend(record: VerdictRecord, signed = SignedProtocolMessage.fromBinary(record.result)): void {
    const sending = this.#send(record, signed).finally(() => this.#sending.delete(sending));
    this.#sending.add(sending);
  }

  /**
   * Sends a verdict to its participants and to the mediator itself; retries a refusal as overloaded while
   * the verdict can still arrive and the mediator is not stopping.
   */
  async #send(record: VerdictRecord, signed: SignedProtocolMessage): Promise<void> {
    const envelopes = confirmationResultEnvelopes(signed, [...record.recipients, String(this.#o.mediatorId)]);
    for (;;) {
      if (this.#killed) return;
      try {
        await this.#o.transport.send({
          envelopes,
          maxSequencingTime: record.decisionTime,
          messageId: verdictMessageId(record.requestId),
          ...(record.traceparent ? { traceparent: record.traceparent } : {}),
        });
        return;
      } catch (e) {
        const retry =
          isWeftError(e) && e.retryable && !this.#stopped && this.#o.clock.now() < record.decisionTime;
        this.#log[retry ? 'warn' : 'error'](
          { err: e, requestId: record.requestId },
          'sending a verdict failed',
        );
        if (!retry) return;
        await sleep(this.#o.clock, this.#o.settings.sendRetryMs);
      }
    }
  }

  // ---- time ----------------------------------------------------------------------------------------------

  /**
   * Keeps one timer for the earliest response deadline: when the local clock passes it and no later event came,
   * the mediator sends itself a tick so that the sequencer's next timestamp tells it the deadline passed.
   */
  #armTick(): void {
    if (this.#stopped) return;
    const next = this.#deadlines.first((id) => this.#pending.has(id))?.deadline;
    if (this.#tick?.deadline === next) return;
    this.#tick?.cancel();
    this.#tick = undefined;
    if (next === undefined) return;
    const waitMs = Math.max(0, Number((next - this.#o.clock.now()) / 1000n)) + 1;
    this.#tick = { deadline: next, cancel: this.#o.clock.schedule(waitMs, () => void this.#sendTick(next)) };
  }

  async #sendTick(deadline: bigint): Promise<void> {
    if (this.#stopped || this.#tick?.deadline !== deadline) return;
    if (this.#observed !== undefined && this.#observed > deadline) return;
    // Ask again later if this tick is sequenced before the deadline (clock skew) or lost.
    this.#tick = {
      deadline,
      cancel: this.#o.clock.schedule(this.#o.settings.tickIntervalMs, () => void this.#sendTick(deadline)),
    };
    const self = String(this.#o.mediatorId);
    try {
      await this.#o.transport.send({
        envelopes: [
          { content: new Uint8Array(), recipients: [memberRecipient(self)], kind: EnvelopeKind.PROTOCOL },
        ],
        maxSequencingTime: this.#o.clock.now() + BigInt(this.#o.settings.tickMaxSequencingMs) * 1000n,
        messageId: `${TICK_PREFIX}${Buffer.from(this.#o.random.bytes(8)).toString('hex')}`,
      });
      this.#log.debug({ deadline }, 'asked the sequencer for a time after a response deadline');
    } catch (e) {
      if (!this.#stopped) this.#log.warn({ err: e }, 'sending a tick failed');
    }
  }

  /** Resume after the event before the earliest undecided request, or after the last event when none is. */
  #cursor(): MediatorCursor | undefined {
    const last = this.#last;
    if (!last) return undefined;
    const first = this.#pending.values().next();
    return { clean: first.done ? last : first.value.before, last };
  }

  #fail(e: unknown): void {
    if (this.#failure) return;
    this.#failure = isWeftError(e)
      ? new WeftError(MediatorErrors.MEDIATOR_FAILED, `the mediator stopped: ${e.message}`, {}, { cause: e })
      : new WeftError(MediatorErrors.MEDIATOR_FAILED, `the mediator stopped: ${String(e)}`, {}, { cause: e });
    this.#log.error({ err: this.#failure }, 'mediator failed');
    this.kill();
    this.#o.onFatal(this.#failure);
  }
}

/**
 * Deadlines in ascending order. Deadlines mostly arrive in order (they are request time plus a timeout), so adding
 * is a push; entries of requests decided early are dropped when they reach the head.
 */
class DeadlineQueue {
  #items: { deadline: bigint; requestId: bigint }[] = [];
  #head = 0;

  add(deadline: bigint, requestId: bigint): void {
    const items = this.#items;
    let i = items.length;
    while (i > this.#head && items[i - 1]!.deadline > deadline) i--;
    items.splice(i, 0, { deadline, requestId });
  }

  /** The earliest entry whose request is still `live`; earlier entries are dropped. */
  first(live: (requestId: bigint) => boolean): { deadline: bigint; requestId: bigint } | undefined {
    while (this.#head < this.#items.length && !live(this.#items[this.#head]!.requestId)) this.#head++;
    this.#compact();
    return this.#items[this.#head];
  }

  shift(): void {
    this.#head++;
    this.#compact();
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

const isGroup = (r: Recipient, group: number) =>
  r.recipient.oneofKind === 'mediatorGroup' && r.recipient.mediatorGroup === group;

/**
 * Batches the mediator's durable writes: everything decided while a write runs goes into the next one (one
 * transaction per batch, docs/architecture.md, 'Batch every durable write'). The cursor and the delivery records
 * (bookkeeping a restart can redo: an undelivered verdict is sent again under its message id, which the sequencer
 * deduplicates) go with the next verdicts, else at most every `cursor-interval-ms`: a verdict costs one commit, not
 * two. Under load a batch also waits for the verdicts decided within its group-commit window
 * ({@link GroupCommitWindow}).
 */
class VerdictWriter {
  #verdicts: VerdictRecord[] = [];
  #deliveries: VerdictDelivery[] = [];
  #cursor: MediatorCursor | undefined;
  #cursorDirty = false;
  #lastWrite = 0n;
  /** Cancels the timer that writes the cursor and deliveries once their interval has passed. */
  #cancelDue: (() => void) | undefined;
  #lastAck = 0n;
  #acked: bigint | undefined;
  #running: Promise<void> | undefined;
  #dropped = false;
  /** The transient storage failure being retried, while one is. */
  #stalled: unknown;
  /** Ends the retries when the mediator is killed. */
  readonly #dropping = new AbortController();
  readonly #window: GroupCommitWindow;
  onFailure: (e: unknown) => void = () => {};

  constructor(private readonly o: MediatorOptions) {
    this.#window = new GroupCommitWindow(groupCommitOf(o.settings), o.clock);
  }

  get backlog(): number {
    return this.#verdicts.length + this.#deliveries.length;
  }

  get stalled(): unknown {
    return this.#stalled;
  }

  /** How the mediator's storage operations wait out transient failures (readiness shows the failure meanwhile). */
  retryOptions(what: string): StorageRetryOptions {
    const s = this.o.settings;
    return {
      clock: this.o.clock,
      logger: this.o.logger,
      what,
      policy: { initialDelayMs: s.storageRetryInitialDelayMs, maxDelayMs: s.storageRetryMaxDelayMs },
      signal: this.#dropping.signal,
      onRetry: (e) => {
        this.#stalled = e;
      },
      onRecovered: () => {
        this.#stalled = undefined;
      },
    };
  }

  addVerdict(v: VerdictRecord): void {
    this.#verdicts.push(v);
    this.#window.arrived();
  }

  addDelivery(d: VerdictDelivery): void {
    this.#deliveries.push(d);
  }

  setCursor(cursor: MediatorCursor | undefined): void {
    this.#cursor = cursor;
    this.#cursorDirty = true;
  }

  markCursorDue(): void {
    this.#lastWrite = 0n;
  }

  kick(): void {
    if (this.#running || this.#dropped) return;
    if (!this.#due()) {
      this.#scheduleDue();
      return;
    }
    this.#cancelDue?.();
    this.#cancelDue = undefined;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      // What arrived after the loop's last look (a delivery during its last write, say) is written or scheduled.
      this.kick();
    });
  }

  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  drop(): void {
    this.#cancelDue?.();
    this.#dropped = true;
    this.#dropping.abort();
    this.#verdicts = [];
    this.#deliveries = [];
  }

  #due(): boolean {
    if (this.#verdicts.length > 0 || this.#deliveries.length >= this.o.settings.writeQueueSize) return true;
    const interval = BigInt(this.o.settings.cursorIntervalMs) * 1000n;
    return this.#bookkeeping() && this.o.clock.now() - this.#lastWrite >= interval;
  }

  #bookkeeping(): boolean {
    return this.#cursorDirty || this.#deliveries.length > 0;
  }

  /** Bookkeeping left without verdicts to go with is written once its interval has passed. */
  #scheduleDue(): void {
    if (this.#cancelDue || !this.#bookkeeping()) return;
    const waitUs = this.#lastWrite + BigInt(this.o.settings.cursorIntervalMs) * 1000n - this.o.clock.now();
    this.#cancelDue = this.o.clock.schedule(Math.max(1, Number(waitUs / 1000n)), () => {
      this.#cancelDue = undefined;
      this.kick();
    });
  }

  async #loop(): Promise<void> {
    while (!this.#dropped && this.#due()) {
      // Let the events that already arrived be processed first: they join this batch (a synchronous SQLite commit
      // would otherwise run once per event, holding them back in the event loop).
      await new Promise((resolve) => setImmediate(resolve));
      await this.#window.wait(this.#dropping.signal);
      if (this.#dropped) return;
      // Taken together, synchronously: the cursor never runs ahead of the verdicts written with or before it.
      const verdicts = this.#verdicts;
      const deliveries = this.#deliveries;
      const cursor = this.#cursor;
      this.#verdicts = [];
      this.#deliveries = [];
      this.#cursorDirty = false;
      this.#window.taken();
      try {
        // Every part of the write is idempotent (verdicts and deliveries keyed by request, the cursor replaced), so
        // repeating one whose commit went through before its connection was lost changes nothing.
        await retryTransient(
          () => this.o.store.write({ verdicts, deliveries, cursor }),
          this.retryOptions('writing mediator verdicts'),
        );
      } catch (e) {
        this.#stalled = undefined;
        if (!this.#dropped) this.onFailure(e);
        return;
      }
      this.#lastWrite = this.o.clock.now();
      if (this.#dropped) return;
      this.#acknowledge(cursor);
    }
  }

  /** Lets the sequencer prune what the mediator will never replay. */
  #acknowledge(cursor: MediatorCursor | undefined): void {
    const clean = cursor?.clean?.timestamp;
    const now = this.o.clock.now();
    if (clean === undefined || clean === this.#acked) return;
    if (now - this.#lastAck < BigInt(this.o.settings.acknowledgeIntervalMs) * 1000n) return;
    this.#lastAck = now;
    this.#acked = clean;
    this.o.transport.acknowledge(clean).catch((e) => {
      this.o.logger.warn({ err: e }, 'acknowledging processed events failed');
    });
  }
}

const newAggregation: AggregationFactory = (views, confirmers) => new ResponseAggregation(views, confirmers);
