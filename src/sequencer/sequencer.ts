import type { Logger } from 'pino';
import type { RandomSource, SigningPrivateKey } from '../crypto/index.js';
import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import {
  Acknowledgement,
  Envelope,
  EnvelopeKind,
  type SequencedEventBlock,
  type SignedContent,
  type SubmissionRequest,
  SubmissionRequestBatch,
} from '../generated/weft/sequencer/v1/sequencing.js';
import {
  EncodedSubmissionRequest,
  StoredBatch,
  type StoredEnvelope,
} from '../generated/weft/sequencer/v1/stored_batch.js';
import type { NodeMetrics } from '../observability/index.js';
import { isTransientStorageError, type Storage } from '../storage/index.js';
import type { Clock } from '../time/index.js';
import {
  decodeTopologyBroadcast,
  TopologyErrors,
  topologyBroadcastEnvelope,
  topologyTransactionsOf,
} from '../topology/index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { MemberAuthenticator } from './auth.js';
import { BlockSigner } from './blocks.js';
import type { SequencerSettings } from './config.js';
import { SequencerErrors } from './errors.js';
import { EventsBuffer } from './events-buffer.js';
import { DeliveryHead } from './head.js';
import { type SequencerMetrics, sequencerMetrics } from './metrics.js';
import { EventReader } from './reader.js';
import { SignaturePurpose, verifyContent } from './signing.js';
import { BROADCAST_RECIPIENT, isDead, type MemberRow, SequencerStore } from './store.js';
import { MAX_REQUESTS_PER_SEND, type SequencerTopology } from './topology.js';
import { SequencerWriter, type WriteOutcome, type WriteRequest } from './writer.js';

const MAX_MESSAGE_ID_LENGTH = 256;

/** A request's synchronous outcome in its batch: stored (its receipt or deliver error follows), or refused. */
export type SendResult =
  | { readonly kind: 'accepted'; readonly outcome: WriteOutcome }
  | { readonly kind: 'refused'; readonly error: WeftError };

/** An accepted envelope as stored, with the kind the sequencer needs before it stores it. */
interface ResolvedEnvelope {
  readonly kind: EnvelopeKind;
  readonly stored: StoredEnvelope;
}
/** Recipients whose member rows were not in memory when a submission was checked, by how they were named. */
interface UncachedRecipients {
  readonly members: Set<string>;
  readonly mediators: Set<string>;
}

/** How long the sequencer gives its own topology broadcasts (onboarding, operator changes) to be sequenced. */
const OWN_SEND_WINDOW_US = 60_000_000n;
const TOPOLOGY_PAGE = 100;

export interface SequencerOptions {
  /** Identifies this node among the nodes sharing the database (logs, writer slot reclaim after a restart). */
  readonly nodeName: string;
  readonly synchronizerId: string;
  /** The sequencer's member id (`SEQ::…`), shared by all its nodes. */
  readonly sequencerId: string;
  /** The sequencer's signing key, which signs every block of delivered events. */
  readonly signingKey: SigningPrivateKey;
  readonly storage: Storage;
  readonly topology: SequencerTopology;
  readonly settings: SequencerSettings;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly metrics?: NodeMetrics;
  /**
   * Told when the node's storage fails with an error that is not transient (corruption, a schema from the future),
   * or its topology store diverged from the sequenced topology (TOPOLOGY_STORE_DIVERGED), so that the process can
   * exit and a supervisor restart it.
   */
  readonly onFatal?: (error: WeftError) => void;
}

export interface PruningStatus {
  /** Events before this timestamp have been pruned. */
  readonly lowerBound: bigint | undefined;
  /** The largest `before` that {@link Sequencer.prune} accepts now, or undefined when a member blocks pruning. */
  readonly safeToPrune: bigint | undefined;
  /** The member whose acknowledgement holds pruning back. */
  readonly blockingMember: string | undefined;
}

/**
 * One sequencer node: validates and orders submissions into the database shared with the other nodes of the same
 * sequencer, streams each connected member its events, and applies topology broadcasts to its topology state.
 * Transport-independent: the gRPC services in `grpc-server.ts` call it.
 */
export class Sequencer {
  readonly auth: MemberAuthenticator;
  readonly #o: SequencerOptions;
  readonly #store: SequencerStore;
  readonly #head: DeliveryHead;
  readonly #writer: SequencerWriter;
  readonly #reader: EventReader;
  readonly #buffer: EventsBuffer;
  readonly #metrics: SequencerMetrics | undefined;
  readonly #members = new Map<string, MemberRow>();
  readonly #stopping = new AbortController();
  #topologyFeed: Promise<void> | undefined;
  /** Open subscriptions, to end those of members the topology deactivates. */
  readonly #open = new Map<AbortController, string>();
  readonly #pendingChecks = new Set<() => void>();
  /** The broadcast being applied: a member it introduces is in the topology before it is registered here. */
  #applying: Promise<void> = Promise.resolve();

  private constructor(o: SequencerOptions) {
    this.#o = o;
    this.#metrics = o.metrics && sequencerMetrics(o.metrics);
    this.#store = new SequencerStore(o.storage);
    this.#buffer = new EventsBuffer(o.settings.eventsBuffer);
    this.#head = new DeliveryHead(
      this.#store,
      this.#buffer,
      o.clock,
      {
        ms: o.settings.highAvailability.pollIntervalMs,
        aloneMs: o.settings.highAvailability.alonePollIntervalMs,
      },
      o.logger,
      () => this.#writer.nodeIndex,
      () => this.#writer.nudge(),
    );
    this.#writer = new SequencerWriter({
      store: this.#store,
      settings: o.settings,
      nodeName: o.nodeName,
      clock: o.clock,
      random: o.random,
      logger: o.logger,
      onWatermark: () => this.#head.poke(),
      events: this.#buffer,
      ...(this.#metrics
        ? { metrics: { batch: this.#metrics.batch, writerLag: this.#metrics.writerLag } }
        : {}),
      ...(o.onFatal ? { onFatal: o.onFatal } : {}),
    });
    const signer = new BlockSigner(o.signingKey, o.synchronizerId);
    this.#reader = new EventReader({
      store: this.#store,
      head: this.#head,
      buffer: this.#buffer,
      ...(this.#metrics ? { pageRead: this.#metrics.pageRead } : {}),
      synchronizerId: o.synchronizerId,
      sign: (member, events) => signer.sign(member, events),
      clock: o.clock,
      logger: o.logger,
    });
    this.auth = new MemberAuthenticator(
      o.topology,
      o.synchronizerId,
      o.sequencerId,
      o.clock,
      o.random,
      o.settings.authentication,
    );
  }

  /** Migrates the tables, joins the writers, registers the members the topology knows, and starts reading. */
  static async start(options: SequencerOptions): Promise<Sequencer> {
    const s = new Sequencer(options);
    await s.#store.migrate();
    await s.#store.claimNodeName(options.nodeName, options.sequencerId);
    const last = await options.topology.lastProcessed();
    await s.#registerKnownMembers(last ?? 0n);
    await s.#register(options.sequencerId, 0n);
    await s.#writer.start();
    try {
      await s.#head.start();
    } catch (e) {
      await s.#writer.stop(true);
      throw e;
    }
    s.#topologyFeed = s.#followTopology(last ?? -1n);
    return s;
  }

  get nodeIndex(): number {
    return this.#writer.nodeIndex;
  }

  /** Events up to this timestamp are delivered identically by every node. */
  get safeWatermark(): bigint {
    return this.#head.current.safe;
  }

  /** A sequencing time earlier than that of any request sent through this node afterwards. */
  getTime(): bigint {
    return this.#writer.now;
  }

  /** Stops reading and writing; see {@link SequencerWriter.stop} for `graceful`. */
  async stop(graceful = true): Promise<void> {
    this.#stopping.abort();
    for (const cancel of this.#pendingChecks) cancel();
    await this.#writer.stop(graceful);
    await this.#head.stop();
    await this.#topologyFeed;
  }

  // ---- sending ---------------------------------------------------------------------------------------------

  /**
   * Validates a batch of submissions of the authenticated `member` and stores the requests it accepts in the total
   * order, in the batch's order: the batch's signature is verified once, then each request is accepted or refused
   * on its own, exactly as if it had come alone. Rejects only when the batch as a whole is refused (malformed, for
   * another synchronizer, an inactive sender, a bad signature, or a request on behalf of another member); nothing
   * of it is stored then.
   */
  async sendAsync(member: string, signed: SignedContent): Promise<readonly SendResult[]> {
    let requests: readonly (EncodedSubmissionRequest | WeftError)[];
    let sender: MemberRow;
    const now = this.#o.clock.now();
    try {
      ({ sender, requests } = await this.#openBatch(member, signed, now));
    } catch (e) {
      this.#metrics?.sends.inc({ result: e instanceof WeftError ? e.code : 'error' });
      throw this.#refusal(e);
    }
    this.#metrics?.requestsPerSend(requests.length);
    // Checked in order, then handed to the writer in one go, so that they are sequenced in the batch's order.
    const checked: (WriteRequest | WeftError)[] = [];
    for (const request of requests) {
      checked.push(
        request instanceof WeftError
          ? request
          : await this.#check(member, sender.id, request, now).catch((e: unknown) => this.#refusal(e)),
      );
    }
    const written = await Promise.allSettled(
      checked.map((c) => (c instanceof WeftError ? Promise.reject(c) : this.#writer.submit(c))),
    );
    return written.map((w): SendResult => {
      if (w.status === 'fulfilled') {
        this.#metrics?.sends.inc({ result: w.value.kind });
        return { kind: 'accepted', outcome: w.value };
      }
      const error = this.#refusal(w.reason);
      this.#metrics?.sends.inc({ result: error.code });
      return { kind: 'refused', error };
    });
  }

  /**
   * The batch's sender (checked active) and its requests, each decoded or the error that refuses it, once the
   * batch's signature verified.
   */
  async #openBatch(
    member: string,
    signed: SignedContent,
    now: bigint,
  ): Promise<{ sender: MemberRow; requests: (EncodedSubmissionRequest | WeftError)[] }> {
    const batch = decode(SubmissionRequestBatch, signed.content, 'submission request batch');
    if (batch.sender !== member) {
      throw new WeftError(
        CommonErrors.PERMISSION_DENIED,
        `${member} cannot send a batch signed as ${batch.sender || '(no sender)'}`,
        { member },
      );
    }
    if (batch.synchronizerId !== this.#o.synchronizerId) {
      throw invalid(
        `the submission batch is for synchronizer ${batch.synchronizerId}, this is ${this.#o.synchronizerId}`,
      );
    }
    if (batch.requests.length === 0 || batch.requests.length > MAX_REQUESTS_PER_SEND) {
      throw invalid(
        `a submission batch must have 1 to ${MAX_REQUESTS_PER_SEND} requests, not ${batch.requests.length}`,
      );
    }
    const sender = await this.#activeMember(member);
    verifyContent(
      signed,
      SignaturePurpose.submissionBatch,
      this.#o.topology.signingKeys(member, now),
      `the submission batch of ${member}`,
    );
    const params = this.#o.topology.parameters(now);
    const limit = params.maxRequestSize || this.#o.settings.maxRequestSize;
    const requests = batch.requests.map((bytes) => {
      if (bytes.byteLength > limit) {
        return new WeftError(
          SequencerErrors.SEQUENCER_REQUEST_TOO_LARGE,
          `the submission of ${member} has ${bytes.byteLength} bytes; the synchronizer accepts at most ${limit}`,
          { member, size: bytes.byteLength, limit },
        );
      }
      try {
        // The envelopes stay the sender's bytes: they are stored and delivered as such, never re-encoded.
        return decode(EncodedSubmissionRequest, bytes, 'submission request');
      } catch (e) {
        return e as WeftError;
      }
    });
    // The signature vouches for the batch's sender only: a request on behalf of another member taints all of it.
    const foreign = requests.find(
      (r): r is EncodedSubmissionRequest => !(r instanceof WeftError) && r.sender !== member,
    );
    if (foreign) {
      throw new WeftError(
        CommonErrors.PERMISSION_DENIED,
        `${member} cannot send on behalf of ${foreign.sender || '(no sender)'}`,
        { member },
      );
    }
    return { sender, requests };
  }

  /**
   * A refusal as the sender sees it: it resends (to this node or another) on SEQUENCER_UNAVAILABLE, while storage
   * codes mean nothing to it; anything that is no WeftError is an internal error, logged here.
   */
  #refusal(e: unknown): WeftError {
    if (isTransientStorageError(e)) {
      return new WeftError(
        SequencerErrors.SEQUENCER_UNAVAILABLE,
        `the sequencer's storage is unavailable for now: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
    if (e instanceof WeftError) return e;
    this.#o.logger.error({ err: e }, 'accepting a submission failed');
    return new WeftError(
      CommonErrors.INTERNAL,
      'internal error in the sequencer; see its log',
      {},
      { cause: e },
    );
  }

  /** A request of `member`'s batch checked as if it had come alone: what to write, or why it is refused. */
  async #check(
    member: string,
    senderId: bigint,
    request: EncodedSubmissionRequest,
    now: bigint,
  ): Promise<WriteRequest> {
    if (request.synchronizerId !== this.#o.synchronizerId) {
      throw invalid(
        `the submission is for synchronizer ${request.synchronizerId}, this is ${this.#o.synchronizerId}`,
      );
    }
    if (request.messageId === '' || request.messageId.length > MAX_MESSAGE_ID_LENGTH) {
      throw invalid(`message id must have 1 to ${MAX_MESSAGE_ID_LENGTH} characters`);
    }
    const envelopes = request.batch?.envelopes ?? [];
    if (envelopes.length === 0) throw invalid('the submission has no envelopes');
    // Recipients resolve from the member rows in memory; only rows missing there (a member that just joined) are
    // loaded, after which the resolution runs again with every row it can have in memory.
    const decoded: Envelope[] = [];
    const uncached: UncachedRecipients = { members: new Set(), mediators: new Set() };
    let { resolved, unknown } = this.#resolveAll(envelopes, decoded, now, uncached);
    if (uncached.members.size > 0 || uncached.mediators.size > 0) {
      await this.#loadRecipients(uncached);
      ({ resolved, unknown } = this.#resolveAll(envelopes, decoded, now, undefined));
    }
    if (unknown.size > 0) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_UNKNOWN_RECIPIENTS,
        `submission ${request.messageId} of ${member} names recipients that are not active members: ${[...unknown].join(', ')}`,
        { member, recipients: [...unknown].join(',') },
      );
    }
    return this.#writeRequest(senderId, request, resolved);
  }

  #writeRequest(
    senderId: bigint,
    request: Pick<SubmissionRequest, 'messageId' | 'maxSequencingTime' | 'traceContext'>,
    resolved: readonly ResolvedEnvelope[],
  ): WriteRequest {
    const stored = resolved.map((e) => e.stored);
    const broadcast = stored.some((e) => e.allMembers);
    const recipients = new Set<bigint>([senderId]);
    for (const e of stored) for (const id of e.memberIds) recipients.add(id);
    return {
      senderId,
      messageId: request.messageId,
      maxSequencingTime: request.maxSequencingTime,
      isTopology: resolved.some((e) => e.kind === EnvelopeKind.TOPOLOGY_BROADCAST),
      payload: StoredBatch.toBinary({ envelopes: stored }, FAST_WRITE_OPTIONS),
      recipientIds: broadcast ? [BROADCAST_RECIPIENT] : [...recipients],
      ...(request.traceContext?.traceparent ? { traceparent: request.traceContext.traceparent } : {}),
      ...(request.traceContext?.tracestate ? { tracestate: request.traceContext.tracestate } : {}),
    };
  }

  /**
   * Decodes (once, into `decoded`) and resolves a request's envelopes in order, collecting the recipients that are
   * not active members in `unknown`, or in `uncached` while their rows may still be loaded.
   */
  #resolveAll(
    envelopes: readonly Uint8Array[],
    decoded: Envelope[],
    now: bigint,
    uncached: UncachedRecipients | undefined,
  ): { resolved: ResolvedEnvelope[]; unknown: Set<string> } {
    const unknown = new Set<string>();
    const resolved = envelopes.map((bytes, i): ResolvedEnvelope => {
      decoded[i] ??= decode(Envelope, bytes, 'envelope');
      const envelope = decoded[i];
      return { kind: envelope.kind, stored: this.#resolve(envelope, bytes, now, unknown, uncached) };
    });
    return { resolved, unknown };
  }

  /**
   * Resolves an envelope's recipients to member ids now, so that every node delivers it to the same members. A
   * recipient whose row is not in memory goes to `uncached` if given, else counts as unknown.
   */
  #resolve(
    envelope: Envelope,
    bytes: Uint8Array,
    now: bigint,
    unknown: Set<string>,
    uncached: UncachedRecipients | undefined,
  ): StoredEnvelope {
    if (envelope.recipients.length === 0) throw invalid('an envelope has no recipients');
    if (envelope.kind === EnvelopeKind.UNSPECIFIED) throw invalid('an envelope has no kind');
    const ids = new Set<bigint>();
    let allMembers = false;
    for (const r of envelope.recipients) {
      const recipient = r.recipient;
      switch (recipient.oneofKind) {
        case 'allMembers':
          allMembers = true;
          break;
        case 'member': {
          let row: MemberRow | undefined;
          try {
            row = this.#cachedActiveMember(recipient.member);
          } catch {
            unknown.add(recipient.member);
            break;
          }
          if (row) ids.add(row.id);
          else if (uncached) uncached.members.add(recipient.member);
          else unknown.add(recipient.member);
          break;
        }
        case 'mediatorGroup': {
          const mediators = this.#o.topology.mediatorGroup(recipient.mediatorGroup, now);
          let complete = mediators.length > 0;
          for (const m of mediators) {
            const row = this.#members.get(m);
            if (row) ids.add(row.id);
            else if (uncached) uncached.mediators.add(m);
            else complete = false;
          }
          if (!complete) unknown.add(`mediator group ${recipient.mediatorGroup}`);
          break;
        }
        default:
          throw invalid('an envelope has an empty recipient');
      }
    }
    if (envelope.kind === EnvelopeKind.TOPOLOGY_BROADCAST) {
      if (!allMembers || ids.size > 0)
        throw invalid('a topology broadcast must be addressed to all members only');
      decodeTopologyBroadcast(envelope.content, this.#o.synchronizerId);
    }
    return { envelope: bytes, memberIds: [...ids].sort((a, b) => (a < b ? -1 : 1)), allMembers };
  }

  /**
   * For a participant that is not a member yet: checks its onboarding transactions and sequences them as a
   * topology broadcast sent by the sequencer itself.
   */
  async registerOnboarding(signedTransactions: readonly Uint8Array[]): Promise<void> {
    if (signedTransactions.length === 0) throw invalid('no onboarding topology transactions');
    const check = await this.#o.topology.checkOnboarding(signedTransactions, this.#o.clock.now());
    if (!check.ok) {
      throw new WeftError(SequencerErrors.SEQUENCER_ONBOARDING_REJECTED, check.reason);
    }
    const outcome = await this.#broadcastTopology(signedTransactions, 'onboarding');
    this.#o.logger.info({ outcome: outcome.kind }, 'sequenced onboarding topology transactions');
  }

  /**
   * Sequences the node operator's topology transactions (Admin API) as a topology broadcast sent by the sequencer
   * itself, and resolves with their sequencing time. Every member validates them when they are delivered.
   */
  async submitTopology(signedTransactions: readonly Uint8Array[]): Promise<bigint> {
    if (signedTransactions.length === 0) throw invalid('no topology transactions');
    const outcome = await this.#broadcastTopology(signedTransactions, 'topology');
    if (outcome.kind !== 'sequenced') {
      throw new WeftError(
        CommonErrors.INTERNAL,
        'a topology broadcast with a fresh message id was a duplicate',
      );
    }
    return outcome.ts;
  }

  async #broadcastTopology(signedTransactions: readonly Uint8Array[], kind: string): Promise<WriteOutcome> {
    const now = this.#o.clock.now();
    const envelope = topologyBroadcastEnvelope(this.#o.synchronizerId, signedTransactions);
    const sender = await this.#activeMember(this.#o.sequencerId);
    const request: SubmissionRequest = {
      sender: this.#o.sequencerId,
      // A retry after a rejected onboarding must be sequenced again, so every broadcast gets its own id.
      messageId: `${kind}-${Buffer.from(this.#o.random.bytes(16)).toString('hex')}`,
      maxSequencingTime: now + OWN_SEND_WINDOW_US,
      synchronizerId: this.#o.synchronizerId,
    };
    return this.#writer.submit(
      this.#writeRequest(sender.id, request, [
        {
          kind: EnvelopeKind.TOPOLOGY_BROADCAST,
          stored: {
            envelope: Envelope.toBinary(envelope, FAST_WRITE_OPTIONS),
            memberIds: [],
            allMembers: true,
          },
        },
      ]),
    );
  }

  // ---- members ---------------------------------------------------------------------------------------------

  async #member(member: string): Promise<MemberRow | undefined> {
    const cached = this.#members.get(member);
    if (cached) return cached;
    const row = await this.#store.member(member);
    if (row) this.#members.set(member, row);
    return row;
  }

  /**
   * The member's registration if this node has it in memory, after checking (throwing otherwise) that the topology
   * has it active now.
   */
  #cachedActiveMember(member: string): MemberRow | undefined {
    if (member !== this.#o.sequencerId) this.auth.requireActive(member);
    return this.#members.get(member);
  }

  /**
   * The registration of a member not in memory, from the store; a member introduced by the broadcast being applied
   * is registered once that broadcast is.
   */
  async #loadMember(member: string): Promise<MemberRow | undefined> {
    const row = await this.#member(member);
    if (row) return row;
    await this.#applying.catch(() => {});
    return this.#member(member);
  }

  /**
   * Loads the rows of recipients missing from memory into it: a mediator's from the store (a storage failure refuses
   * the request), an active member's as {@link #loadMember} does (any failure leaves it unknown).
   */
  async #loadRecipients(uncached: UncachedRecipients): Promise<void> {
    for (const m of uncached.mediators) await this.#member(m);
    for (const m of uncached.members) await this.#loadMember(m).catch(() => undefined);
  }

  /** The member's registration, after checking that the topology has it active now. */
  async #activeMember(member: string): Promise<MemberRow> {
    const row = this.#cachedActiveMember(member) ?? (await this.#loadMember(member));
    if (!row) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE,
        `member ${member} is not registered with the sequencer yet (its topology transactions are still being processed); retry shortly`,
        { member },
      );
    }
    return row;
  }

  async #register(member: string, ts: bigint): Promise<void> {
    if (this.#members.has(member)) return;
    this.#members.set(member, await this.#store.registerMember(member, ts));
  }

  async #registerKnownMembers(ts: bigint): Promise<void> {
    for (const m of await this.#o.topology.knownMembers()) await this.#register(m, ts);
  }

  // ---- topology ----------------------------------------------------------------------------------------

  /** Applies topology broadcasts in sequencing order and registers the members they introduce. */
  async #followTopology(after: bigint): Promise<void> {
    const signal = this.#stopping.signal;
    let readUpTo = after;
    while (!signal.aborted) {
      try {
        const h = this.#head.current;
        if (h.lastTopology <= readUpTo || h.safe <= readUpTo) {
          await this.#head.changed(signal);
          continue;
        }
        const rows = await this.#store.readTopologyEvents(readUpTo, h.safe, TOPOLOGY_PAGE);
        for (const row of rows) {
          if (signal.aborted) return;
          if (!isDead(h, row.nodeIndex, row.ts)) {
            this.#applying = this.#applyTopology(row.ts, row.content);
            await this.#applying;
          }
          readUpTo = row.ts;
        }
        if (rows.length < TOPOLOGY_PAGE) readUpTo = h.safe;
      } catch (e) {
        if (isWeftError(e, TopologyErrors.TOPOLOGY_STORE_DIVERGED)) {
          // Not transient: the same broadcast diverges on every retry, and a node that stops applying topology
          // serves members with a stale view of who may send and receive. The process exits for an operator.
          this.#o.logger.error({ err: e }, 'the topology store diverged; this node stops applying topology');
          this.#o.onFatal?.(e);
          return;
        }
        this.#o.logger.error({ err: e }, 'applying sequenced topology failed; retrying');
        await this.#head.changed(signal);
      }
    }
  }

  async #applyTopology(ts: bigint, content: Uint8Array | null): Promise<void> {
    const envelopes = StoredBatch.fromBinary(content ?? new Uint8Array()).envelopes.map((e) =>
      Envelope.fromBinary(e.envelope),
    );
    const txs = topologyTransactionsOf(envelopes, this.#o.synchronizerId, this.#o.logger) ?? [];
    await this.#o.topology.processSequencedTopology(ts, txs);
    await this.#registerKnownMembers(ts);
    // A revocation takes effect after the topology change delay; subscriptions end when it does.
    const delay = this.#o.topology.parameters(ts).topologyChangeDelayMicros;
    const cancel = this.#o.clock.schedule(Number(delay / 1000n) + 1, () => {
      this.#pendingChecks.delete(cancel);
      this.#closeInactiveSubscriptions().catch((e) =>
        this.#o.logger.warn({ err: e }, 'checking subscriptions against the topology failed'),
      );
    });
    this.#pendingChecks.add(cancel);
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /**
   * Streams the events of the authenticated `member` from counter `from` to `emit` until `signal` aborts;
   * `started` is called once the subscription is valid. Fails when the member is not active or the counter was
   * pruned.
   */
  async subscribe(
    member: string,
    from: bigint,
    emit: (block: SequencedEventBlock) => Promise<void>,
    signal: AbortSignal,
    started: () => void = () => {},
  ): Promise<void> {
    const row = await this.#activeMember(member);
    const revoked = new AbortController();
    const both = AbortSignal.any([signal, this.#stopping.signal, revoked.signal]);
    this.#open.set(revoked, member);
    this.#metrics?.subscriptions.inc();
    try {
      await this.#reader.stream(
        row,
        from,
        async (block) => {
          await emit(block);
          this.#metrics?.delivered.inc(block.events.length);
        },
        both,
        started,
      );
      if (revoked.signal.aborted) throw revoked.signal.reason;
    } finally {
      this.#open.delete(revoked);
      this.#metrics?.subscriptions.dec();
    }
  }

  /** Ends the subscriptions of members that are no longer active. */
  async #closeInactiveSubscriptions(): Promise<void> {
    const now = this.#o.clock.now();
    for (const [controller, member] of this.#open) {
      const status = this.#o.topology.isMemberActive(member, now);
      if (status.active) continue;
      controller.abort(
        new WeftError(
          SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE,
          `member ${member} is no longer active on synchronizer ${this.#o.synchronizerId}: ${status.reason}`,
          { member },
        ),
      );
    }
  }

  // ---- acknowledgements and pruning ----------------------------------------------------------------------

  async acknowledge(member: string, signed: SignedContent): Promise<void> {
    const ack = decode(Acknowledgement, signed.content, 'acknowledgement');
    if (ack.member !== member) {
      throw new WeftError(CommonErrors.PERMISSION_DENIED, `${member} cannot acknowledge for ${ack.member}`, {
        member,
      });
    }
    if (ack.synchronizerId !== this.#o.synchronizerId) {
      throw invalid(`the acknowledgement is for synchronizer ${ack.synchronizerId}`);
    }
    const row = await this.#activeMember(member);
    verifyContent(
      signed,
      SignaturePurpose.acknowledgement,
      this.#o.topology.signingKeys(member, this.#o.clock.now()),
      `acknowledgement of ${member}`,
    );
    await this.#store.acknowledge(row.id, ack.timestamp);
  }

  async pruningStatus(): Promise<PruningStatus> {
    const lowerBound = await this.#store.lowerBound();
    const acks = await this.#store.acknowledgements();
    const now = this.#o.clock.now();
    let safe = this.#head.current.safe + 1n;
    let blocking: string | undefined;
    for (const m of await this.#store.members()) {
      if (m.member === this.#o.sequencerId) continue;
      // A member that is no longer active cannot read its events any more, so it does not hold pruning back.
      if (!this.#o.topology.isMemberActive(m.member, now).active) continue;
      const ack = acks.get(m.id);
      if (ack === undefined) return { lowerBound, safeToPrune: undefined, blockingMember: m.member };
      if (ack + 1n < safe) {
        safe = ack + 1n;
        blocking = m.member;
      }
    }
    return { lowerBound, safeToPrune: safe, blockingMember: blocking };
  }

  /** Deletes the events before `before`; every active member must have acknowledged them. */
  async prune(before: bigint): Promise<void> {
    const status = await this.pruningStatus();
    if (status.safeToPrune === undefined || before > status.safeToPrune) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_PRUNING_NOT_SAFE,
        status.safeToPrune === undefined
          ? `cannot prune: member ${status.blockingMember} has not acknowledged any event`
          : `cannot prune before ${before}: the latest safe point is ${status.safeToPrune}${
              status.blockingMember ? ` (held back by ${status.blockingMember})` : ''
            }`,
        { before },
      );
    }
    await this.#store.prune(before);
    this.#buffer.prune(before);
    this.#o.logger.info({ before: String(before) }, 'pruned sequencer events');
  }
}

function invalid(message: string): WeftError {
  return new WeftError(CommonErrors.INVALID_ARGUMENT, message);
}

function decode<T extends object>(
  codec: { fromBinary(bytes: Uint8Array): T },
  bytes: Uint8Array,
  what: string,
): T {
  try {
    return codec.fromBinary(bytes);
  } catch (e) {
    throw invalid(`the ${what} is not valid protobuf: ${e instanceof Error ? e.message : String(e)}`);
  }
}
