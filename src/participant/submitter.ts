import { Hash, type RandomSource, randomUuid, type SigningPrivateKey } from '../crypto/index.js';
import type {
  Command,
  ContractLookup,
  ContractStore,
  Engine,
  FatContract,
  Transaction,
} from '../daml/index.js';
import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import { type ParticipantId, PartyId, type SynchronizerId } from '../identity/index.js';
import type { SessionKeyStore } from '../protocol/index.js';
import type { SendHandle, SendRequest } from '../sequencer/index.js';
import { type Clock, monotonicMs, sleep } from '../time/index.js';
import type { TopologyProcessor, TopologySnapshot } from '../topology/index.js';
import type { ActiveContracts } from './acs.js';
import type { CommandProgress, CommandStatuses } from './command-status.js';
import type { ParticipantSettings } from './config.js';
import { absolutizeTransaction, isAuthentic, ParticipantHashPurpose } from './contracts.js';
import { ParticipantErrors } from './errors.js';
import type { InFlightCommand, InFlightSubmissions } from './in-flight.js';
import type { Journal } from './journal.js';
import type { ParticipantMetrics } from './metrics.js';
import { vettedPackagePreference } from './packages.js';
import type { CommandState, DeduplicationPeriod, ParticipantStore } from './store.js';
import { buildConfirmationRequest } from './submission.js';
import type { Completion } from './updates.js';

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
  /** Distinguishes the completions of resubmissions of one change id; a random UUID when absent or empty. */
  readonly submissionId?: string;
  readonly workflowId?: string;
  readonly packagePreference?: readonly string[];
  /**
   * Canton's `deduplication_period`: how far back an accepted command of the same change id makes this one a
   * duplicate. Default (as Canton): the maximum, the participant's deduplication window.
   */
  readonly deduplicationPeriod?: DeduplicationPeriod;
  /** Lower bound of the transaction's ledger time (µs since the epoch): `min_ledger_time_abs`. */
  readonly minLedgerTimeAbs?: bigint;
  /** Lower bound of the ledger time relative to when the participant takes the command (µs): `min_ledger_time_rel`. */
  readonly minLedgerTimeRel?: bigint;
  /**
   * Contracts the submitters may use although this participant does not know them (explicit disclosure), each
   * with the synchronizer it is assigned to when known. Only authentic contracts (their id matches their content)
   * are accepted.
   */
  readonly disclosedContracts?: readonly DisclosedContract[];
}

export interface DisclosedContract {
  readonly contract: FatContract;
  readonly synchronizerId: string | undefined;
}

/** The key of command deduplication: the user, the acting parties (as a set) and the command id. */
export function changeIdOf(userId: string, actAs: readonly string[], commandId: string): string {
  const parties = [...new Set(actAs)].sort();
  const b = Hash.build(ParticipantHashPurpose.ChangeId).addString(userId).addInt32(parties.length);
  for (const p of parties) b.addString(p);
  return b.addString(commandId).finish().toHex();
}

/** A synchronizer connection as the submitter uses it: its topology, and its sequencer to send the request to. */
export interface SubmissionRoute {
  readonly synchronizerId: SynchronizerId;
  readonly topology: TopologyProcessor;
  readonly client: { send(request: SendRequest): Promise<SendHandle> };
}

export interface SubmitterContext {
  readonly participantId: ParticipantId;
  readonly signingKey: SigningPrivateKey;
  readonly engine: Engine;
  readonly acs: ActiveContracts;
  readonly store: ParticipantStore;
  /** Registers a command in flight with the participant's next group commit. */
  readonly journal: Pick<Journal, 'startCommand'>;
  readonly inFlight: InFlightSubmissions;
  /** The connections a submission may go to: the one named, or every one (NOT_CONNECTED_TO_SYNCHRONIZER if none). */
  readonly routes: (synchronizerId: string | undefined) => readonly SubmissionRoute[];
  readonly settings: ParticipantSettings;
  readonly metrics: ParticipantMetrics;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly sessionKeys: SessionKeyStore;
  /** The recent submissions, for command inspection. */
  readonly statuses: CommandStatuses;
}

/** The first wait before resending a confirmation request whose send failed retryably; doubles up to `maxBackoffMs`. */
const RESEND_DELAY_MS = 10;

/** Why a synchronizer cannot take a transaction, so that routing tries the next one. */
const ROUTING_REASONS = new Set([
  ParticipantErrors.INFORMEES_NOT_HOSTED.code,
  ParticipantErrors.PACKAGE_NOT_VETTED_BY_RECIPIENTS.code,
]);

/** A command ready to be sent: registered in flight (deduplicated), with its request for the chosen synchronizer. */
interface PreparedCommand {
  readonly cmd: InFlightCommand;
  readonly route: SubmissionRoute;
  readonly request: SendRequest;
  readonly transaction: Transaction;
}

/**
 * Phase 1 of the transaction protocol, on the submitting participant: admits the command (bounded), deduplicates
 * it, interprets it, routes the transaction to a synchronizer, splits it into encrypted views, registers it in
 * flight and sends the confirmation request; the in-flight submissions follow it from there to its completion.
 */
export class Submitter {
  constructor(private readonly o: SubmitterContext) {}

  /**
   * Resolves with the command's completion once its outcome is durable; rejects (without a completion) when the
   * command fails before it is sent: invalid, overloaded participant, interpretation error, a party not hosted, no
   * synchronizer for it, a duplicate command id, a request the sequencer refuses.
   */
  async submit(request: SubmitRequest): Promise<Completion> {
    return (await this.send(request)).completion;
  }

  /**
   * Submits as {@link submit}, but resolves as soon as the confirmation request is sent (Canton's
   * CommandSubmissionService), with the completion still to come; rejects as `submit` before sending.
   */
  async send(request: SubmitRequest): Promise<{ readonly completion: Promise<Completion> }> {
    const o = this.o;
    const marks: InFlightCommand['marks'] = { start: monotonicMs(o.clock) };
    this.#validate(request);
    const r = { ...request, submissionId: request.submissionId || randomUuid(o.random) };
    const progress = o.statuses.start({
      commandId: r.commandId,
      userId: r.userId ?? '',
      submissionId: r.submissionId,
      actAs: [...new Set(r.actAs)].sort(),
      commands: r.commands,
      started: o.clock.now(),
    });
    const failed = (e: unknown) =>
      progress.failed(
        isWeftError(e) ? e.code : CommonErrors.INTERNAL.code,
        e instanceof Error ? e.message : String(e),
        o.clock.now(),
      );
    let release: (() => void) | undefined;
    try {
      release = o.inFlight.admit();
      const { completion } = await this.#submit(r, marks, progress);
      const done = completion.then(
        (c) => {
          progress.completed(c, o.clock.now());
          return c;
        },
        (e: unknown) => {
          failed(e);
          throw e;
        },
      );
      // The slot is held until the completion: admission bounds the commands in flight, not just the sends.
      void done.finally(release).catch(() => {});
      return { completion: done };
    } catch (e) {
      release?.();
      failed(e);
      throw e;
    }
  }

  #validate(r: SubmitRequest): void {
    if (r.actAs.length === 0)
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'a command needs at least one acting party');
    if (r.commandId === '')
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'a command needs a command id');
    if (r.commands.length === 0)
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'a submission needs at least one command');
    if (r.minLedgerTimeAbs !== undefined && r.minLedgerTimeRel !== undefined)
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        'min_ledger_time_abs and min_ledger_time_rel cannot both be set',
      );
    const period = r.deduplicationPeriod;
    const window = BigInt(this.o.settings.deduplicationWindowMs) * 1000n;
    if (
      (period?.kind === 'duration' && (period.micros < 0n || period.micros > window)) ||
      (period?.kind === 'offset' && period.offset < 0n)
    ) {
      throw new WeftError(
        ParticipantErrors.INVALID_DEDUPLICATION_PERIOD,
        period.kind === 'duration'
          ? `the deduplication duration of ${period.micros / 1000n} ms is negative or longer than the deduplication window of ${window / 1000n} ms`
          : `the deduplication offset ${period.offset} is negative`,
        { longest_duration: `${window / 1_000_000n}s` },
      );
    }
    for (const d of r.disclosedContracts ?? []) {
      if (!isAuthentic(d.contract))
        throw new WeftError(
          ParticipantErrors.DISCLOSED_CONTRACT_AUTHENTICATION_FAILED,
          `the id of disclosed contract ${d.contract.contractId.coid} does not match its content`,
          { contractId: d.contract.contractId.coid },
        );
    }
  }

  async #submit(
    r: SubmitRequest & { submissionId: string },
    marks: InFlightCommand['marks'],
    progress: CommandProgress,
  ): Promise<{ completion: Promise<Completion> }> {
    const o = this.o;
    const actAs = [...new Set(r.actAs)].sort();
    const changeId = changeIdOf(r.userId ?? '', actAs, r.commandId);
    // Deduplication before interpretation, so that a retry learns the original outcome (an accepted command's
    // inputs are consumed: interpreting it again would fail). The reservation refuses a concurrent duplicate here;
    // the store's atomic registration stays the arbiter once interpreted.
    const unreserve = o.inFlight.reserve(changeId);
    if (!unreserve) throw this.#inFlightError(r.commandId, actAs);
    let prepared: PreparedCommand;
    try {
      const existing = await o.store.commandState(changeId);
      const dedupFrom = this.#deduplicate(existing, r, actAs, o.clock.now());
      prepared = await this.#prepare(r, actAs, changeId, dedupFrom, marks);
    } finally {
      unreserve();
    }
    const { cmd, route, request } = prepared;
    progress.sent(request, prepared.transaction);
    const completion = o.inFlight.track(cmd);
    // stop() and kill() reject the waiter even while the send is under way, before anyone awaits it.
    completion.catch(() => {});
    const failed = await this.#send(route, request);
    o.metrics.submissions.inc({ result: failed ? failed.code : 'sent' });
    if (failed?.refused) {
      o.inFlight.untrack(cmd);
      await o.store.dropCommand(changeId, cmd.messageId);
      throw failed.error;
    }
    // Sent, or perhaps stored although the send failed: the command stays in flight (deduplicated) until its
    // completion — its transaction's, or SUBMISSION_NOT_SEQUENCED once its max sequencing time passed. A
    // disconnection or a stop fails this waiter instead; a reconnection or restart takes the command up again.
    return { completion };
  }

  /**
   * Canton's command deduplication: refuses a command whose change id is in flight, or was accepted within its
   * deduplication period (DUPLICATE_COMMAND with the original completion); a rejected command may be resubmitted.
   * Returns the record time before which the store may replace the change id's accepted entry.
   */
  #deduplicate(
    existing: CommandState | undefined,
    r: SubmitRequest,
    actAs: readonly string[],
    now: bigint,
  ): bigint {
    const period = this.#period(r);
    // With a duration, entries accepted before the period are replaceable; with an offset, only the one checked
    // here (an entry accepted since, by another node on the storage, makes the registration fail and come back).
    const replaceable = (completedAt: bigint | undefined) =>
      period.kind === 'duration' ? now - period.micros : (completedAt ?? -1n) + 1n;
    if (!existing) return replaceable(undefined);
    const { command, completion } = existing;
    if (command.completionOffset === undefined) throw this.#inFlightError(r.commandId, actAs);
    if (!completion || completion.code !== undefined) return replaceable(command.completedAt);
    const within =
      period.kind === 'duration'
        ? (command.completedAt ?? 0n) >= now - period.micros
        : completion.offset > period.offset;
    if (!within) return replaceable(command.completedAt);
    this.o.metrics.submissions.inc({ result: 'duplicate' });
    throw new WeftError(
      ParticipantErrors.DUPLICATE_COMMAND,
      `command ${r.commandId} of ${actAs.join(', ')} was accepted at offset ${completion.offset} (update ${completion.updateId}), within the deduplication ${r.deduplicationPeriod ? 'period' : 'window'}`,
      {
        commandId: r.commandId,
        existing_submission_id: completion.submissionId,
        offset: completion.offset,
        status: 'succeeded',
        updateId: completion.updateId,
        synchronizerId: completion.synchronizerId,
      },
    );
  }

  /** The period a command is deduplicated with: the one it asked for, else (as Canton) the deduplication window. */
  #period(r: SubmitRequest): DeduplicationPeriod {
    return (
      r.deduplicationPeriod ?? {
        kind: 'duration',
        micros: BigInt(this.o.settings.deduplicationWindowMs) * 1000n,
      }
    );
  }

  #inFlightError(commandId: string, actAs: readonly string[]): WeftError {
    this.o.metrics.submissions.inc({ result: 'duplicate' });
    return new WeftError(
      ParticipantErrors.SUBMISSION_ALREADY_IN_FLIGHT,
      `command ${commandId} of ${actAs.join(', ')} is still in flight`,
      { commandId },
    );
  }

  /**
   * Interprets the command, routes the transaction, builds its confirmation request and registers the command in
   * flight in the store (atomically: of concurrent submissions of one change id, one is registered).
   */
  async #prepare(
    r: SubmitRequest,
    actAs: string[],
    changeId: string,
    dedupFrom: bigint,
    marks: InFlightCommand['marks'],
  ): Promise<PreparedCommand> {
    const o = this.o;
    const now = o.clock.now();
    const candidates = this.#candidates(actAs, now, r.synchronizerId);
    const userId = r.userId ?? '';
    const readers = [...new Set([...actAs, ...(r.readAs ?? [])])];
    const submissionSeed = o.random.bytes(32);
    // The synchronizers the input contracts are assigned to, as the interpretation found them.
    const assignments = new Map<string, string>();
    let ledgerTime = now;
    if (r.minLedgerTimeAbs !== undefined && r.minLedgerTimeAbs > ledgerTime) ledgerTime = r.minLedgerTimeAbs;
    if (r.minLedgerTimeRel !== undefined && now + r.minLedgerTimeRel > ledgerTime)
      ledgerTime = now + r.minLedgerTimeRel;
    let result = await this.#interpret(r, actAs, readers, ledgerTime, submissionSeed, assignments);
    // The ledger time may not precede the creation of an input contract.
    const latest = result.metadata.inputContracts.reduce(
      (m, i) => (i.createdAt !== undefined && i.createdAt > m ? i.createdAt : m),
      0n,
    );
    if (latest > ledgerTime) {
      ledgerTime = latest;
      result = await this.#interpret(r, actAs, readers, ledgerTime, submissionSeed, assignments);
    }
    // Topology-aware package selection: again with the versions every informee's participant vetted.
    const vetted =
      r.packagePreference === undefined && candidates[0] !== undefined
        ? vettedPackagePreference(o.engine.packages, candidates[0].snapshot, result.transaction, ledgerTime)
        : undefined;
    if (vetted !== undefined) {
      const preferred = { ...r, packagePreference: vetted };
      result = await this.#interpret(preferred, actAs, readers, ledgerTime, submissionSeed, assignments);
    }
    marks.interpreted = monotonicMs(o.clock);
    const transaction = absolutizeTransaction(result.transaction, ledgerTime);
    const messageId = Buffer.from(o.random.bytes(16)).toString('hex');
    const assigned = [
      ...new Set(result.metadata.inputContracts.flatMap((i) => assignments.get(i.contractId.coid) ?? [])),
    ].sort();
    const routed = this.#route(candidates, assigned, (c, snapshot) => {
      const params = snapshot.synchronizerParameters();
      const delay = BigInt(o.settings.maxSequencingDelayMs) * 1000n;
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
          signingKey: o.signingKey,
          sessionKeys: o.sessionKeys,
          random: o.random,
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
            submittingParticipant: String(o.participantId),
            maxSequencingTime,
          },
        },
      );
      return { batch, maxSequencingTime };
    });
    marks.created = monotonicMs(o.clock);
    const { route, batch, maxSequencingTime } = routed;
    const cmd: InFlightCommand = {
      changeId,
      commandId: r.commandId,
      userId,
      submissionId: r.submissionId ?? '',
      actAs,
      messageId,
      synchronizerId: String(route.synchronizerId),
      maxSequencingTime,
      submittedAt: now,
      requestId: undefined,
      completionOffset: undefined,
      completedAt: undefined,
      deduplicationPeriod: this.#period(r),
      ...(batch.own ? { own: batch.own } : {}),
      marks,
    };
    // Only a command about to be sent is registered, as by Canton's in-flight submission tracker. Losing the
    // registration means another submission of the change id got there since the check above (another node on
    // the same storage, say): the same answer as the check.
    if (!(await o.journal.startCommand(cmd, dedupFrom))) {
      const existing = await o.store.commandState(changeId);
      if (existing) this.#deduplicate(existing, r, actAs, now);
      throw this.#inFlightError(r.commandId, actAs);
    }
    return {
      cmd,
      route,
      request: { envelopes: batch.envelopes, maxSequencingTime, messageId },
      transaction,
    };
  }

  /**
   * Sends the confirmation request, resending it under the same message id while the sequencer fails retryably
   * and the max sequencing time has not passed; undefined once a sequencer stored it, else how it failed.
   *
   * A failed send is ambiguous: the sequencer client resends a request whose answer was lost, and the sequencer
   * may have stored an earlier copy when it fails a later one (its write failing, say). It keeps one request per
   * message id, so resending is safe, whereas forgetting the command would let a resubmission (a fresh message id)
   * commit it twice. A first send that fails for good is `refused` and the command forgotten: refused for what
   * the request is (invalid, too large, recipients unknown: every copy gets that), or cut short by the client
   * closing (a disconnection, a crash). The latter is ambiguous too when the request was on the wire already;
   * keeping such a command in flight needs a time proof to publish its SUBMISSION_NOT_SEQUENCED, which the
   * participant does not request yet.
   */
  async #send(
    route: SubmissionRoute,
    request: SendRequest,
  ): Promise<{ error: unknown; code: string; refused: boolean } | undefined> {
    const { clock, settings } = this.o;
    for (let attempt = 0, delay = RESEND_DELAY_MS; ; attempt++) {
      try {
        await route.client.send(request);
        return undefined;
      } catch (e) {
        if (isWeftError(e) && e.retryable && clock.now() <= request.maxSequencingTime) {
          await sleep(clock, delay);
          delay = Math.min(2 * delay, settings.maxBackoffMs);
          continue;
        }
        const refused = attempt === 0 && isWeftError(e) && !e.retryable;
        return { error: e, code: isWeftError(e) ? e.code : 'INTERNAL', refused };
      }
    }
  }

  /**
   * The synchronizers a command of `actAs` may go to: the one named, or every connected one, where each acting
   * party is hosted here with submission permission.
   */
  #candidates(actAs: readonly string[], now: bigint, synchronizerId: string | undefined) {
    const routes = this.o.routes(synchronizerId);
    const candidates: { route: SubmissionRoute; snapshot: TopologySnapshot }[] = [];
    let notHosted: string | undefined;
    for (const route of routes) {
      const snapshot = route.topology.currentSnapshot(now);
      const missing = actAs.find(
        (party) =>
          snapshot
            .partyHosting(PartyId.parse(party))
            ?.participants.find((h) => h.participant.equals(this.o.participantId))?.permission !==
          'Submission',
      );
      if (missing === undefined) candidates.push({ route, snapshot });
      else notHosted ??= missing;
    }
    if (candidates.length === 0) {
      throw new WeftError(
        ParticipantErrors.SUBMITTER_NOT_HOSTED,
        `party ${notHosted} is not hosted on participant ${this.o.participantId} with submission permission` +
          (routes.length > 1 ? ' on any connected synchronizer' : ''),
        { party: notHosted },
      );
    }
    return candidates;
  }

  /**
   * Synchronizer routing (no reassignment): a transaction with input contracts goes to the synchronizer they are
   * `assigned` to; otherwise to the first candidate where `prepare` succeeds, i.e. every informee is hosted and
   * every recipient vetted the packages.
   */
  #route<T>(
    candidates: readonly { route: SubmissionRoute; snapshot: TopologySnapshot }[],
    assigned: readonly string[],
    prepare: (c: SubmissionRoute, snapshot: TopologySnapshot) => T,
  ): T & { route: SubmissionRoute } {
    if (assigned.length > 1) {
      throw new WeftError(
        ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION,
        `the transaction uses contracts assigned to different synchronizers (${assigned.join(', ')}); contracts cannot be reassigned`,
        { synchronizers: assigned.join(', ') },
      );
    }
    const eligible =
      assigned.length === 1
        ? candidates.filter((c) => c.route.synchronizerId.toString() === assigned[0])
        : candidates;
    if (eligible.length === 0) {
      throw new WeftError(
        ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION,
        `the transaction's input contracts are assigned to synchronizer ${assigned[0]}, where the submitters cannot submit or to which this participant is not connected`,
        { synchronizers: assigned[0]! },
      );
    }
    const reasons: string[] = [];
    for (const { route, snapshot } of eligible) {
      try {
        return { ...prepare(route, snapshot), route };
      } catch (e) {
        // With one synchronizer to choose from, its own reason is the answer.
        if (eligible.length === 1 || !(e instanceof WeftError && ROUTING_REASONS.has(e.code))) throw e;
        reasons.push(`${route.synchronizerId}: ${e.message}`);
      }
    }
    throw new WeftError(
      ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION,
      `no connected synchronizer can take the transaction: ${reasons.join('; ')}`,
      { synchronizers: eligible.map((c) => String(c.route.synchronizerId)).join(', ') },
    );
  }

  #interpret(
    r: SubmitRequest,
    actAs: string[],
    readers: string[],
    ledgerTime: bigint,
    submissionSeed: Uint8Array,
    assignments: Map<string, string>,
  ) {
    return this.o.engine.submit(
      {
        actAs,
        commands: r.commands as Command[],
        ...(r.packagePreference ? { packagePreference: r.packagePreference } : {}),
        ledgerTime,
        submissionSeed,
        participantId: String(this.o.participantId),
      },
      this.#contractStore(readers, r.disclosedContracts ?? [], assignments),
    );
  }

  /**
   * The contracts `readers` may use: active here and theirs (as stakeholders, or divulged to them), else disclosed
   * with the command (their activeness is for the stakeholders' participants to confirm); records the synchronizer
   * each is assigned to in `assignments`.
   */
  #contractStore(
    readers: readonly string[],
    disclosed: readonly DisclosedContract[],
    assignments: Map<string, string>,
  ): ContractStore {
    const { acs, store } = this.o;
    const disclosedById = new Map(disclosed.map((d) => [d.contract.contractId.coid, d]));
    return {
      lookupContract: async (cid): Promise<ContractLookup> => {
        const known = await acs.lookup(cid.coid);
        if (known && readers.some((p) => known.readers.has(p))) {
          assignments.set(cid.coid, known.synchronizerId);
          return { status: 'active', contract: known.contract };
        }
        const d = disclosedById.get(cid.coid);
        if (d) {
          if (d.synchronizerId) assignments.set(cid.coid, d.synchronizerId);
          return { status: 'active', contract: d.contract };
        }
        return { status: (await store.isArchived(cid.coid, readers)) ? 'archived' : 'unknown' };
      },
    };
  }
}
