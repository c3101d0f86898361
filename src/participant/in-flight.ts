import { WeftError } from '../errors/index.js';
import { type Clock, type Deferred, deferred, monotonicMs } from '../time/index.js';
import { ParticipantErrors } from './errors.js';
import type { JournalEntry } from './journal.js';
import type { ParticipantMetrics } from './metrics.js';
import type { CommandRow, CompletionRow } from './store.js';
import { type Completion, completionOf, type PhaseTimings } from './updates.js';
import type { OpenedRequest } from './validation.js';

/** A command this participant sent, until its completion. */
export interface InFlightCommand extends CommandRow {
  requestId: bigint | undefined;
  /**
   * The request as this participant built it from its own interpretation and opens it (see
   * `ConfirmationRequestBatch.own`); in memory only (after a restart the request is opened and validated in full).
   */
  readonly own?: OpenedRequest;
  /** Monotonic marks (ms) of the phases on the node's clock, for the submitter's own timings (metrics, not protocol time). */
  readonly marks: {
    start: number;
    interpreted?: number;
    created?: number;
    sequenced?: number;
    validated?: number;
    verdict?: number;
  };
}

/** How a command left flight: its transaction committed at an offset, or it failed. */
export type CommandOutcome =
  | { readonly updateId: string }
  | { readonly failure: { readonly code: string; readonly reason: string } };

/**
 * What the transaction protocol of one synchronizer needs of the commands this participant sent there: find them
 * by their message (receipt) and request (verdict), take them out of flight once decided, and write their
 * completions when the decision is published.
 */
export interface SubmissionTracking {
  /** The receipt of message `messageId` as request `requestId`, if it carried a command of this participant. */
  sequenced(messageId: string, requestId: bigint): void;
  /**
   * Request `requestId` as this participant built it, if it built it with this root hash (a multihash, as the
   * root hash message gives it): its views are this participant's own interpretation, so there is nothing to
   * decrypt, decode or recompute (model conformance). The root hash binds every recipient's views to the same tree.
   */
  ownRequest(requestId: bigint, rootHash: Uint8Array): OpenedRequest | undefined;
  /** The command of a message the sequencer refused, taken out of flight; undefined when not one of ours. */
  refused(messageId: string): InFlightCommand | undefined;
  /** Marks a phase of the command of request `requestId` (for its timings), if it is one of ours. */
  mark(requestId: bigint, phase: 'validated' | 'verdict'): void;
  /** The command of a decided request, taken out of flight; undefined when not one of ours. */
  decided(requestId: bigint): InFlightCommand | undefined;
  /** The commands whose request was not sequenced before `ts`, taken out of flight. */
  expired(ts: bigint): InFlightCommand[];
  /** The completion of a command taken out of flight, at `offset`; the submitter hears of it once durable. */
  completion(cmd: InFlightCommand, recordTime: bigint, offset: bigint, outcome: CommandOutcome): JournalEntry;
}

/**
 * Canton's in-flight submission tracker: every command from the moment `submit` admits it until its completion is
 * durable. Admission is bounded (PARTICIPANT_OVERLOADED beyond `limit`); a command is registered right before its
 * request is sent, found again by its message id on receipt and by its request id on the verdict, and its
 * submitter's promise resolves with the completion once that is written.
 */
export class InFlightSubmissions {
  /** Submissions admitted and not finished, from interpretation to completion. */
  #admitted = 0;
  /** By message id (random, unique across synchronizers). */
  readonly #byMessage = new Map<string, InFlightCommand>();
  /** By synchronizer id, then request id: commands whose request was sequenced. */
  readonly #byRequest = new Map<string, Map<bigint, InFlightCommand>>();
  /**
   * Change ids of admitted submissions not yet registered in the store (deduplication, interpretation, routing):
   * a concurrent duplicate is refused before it is interpreted. At most one per admitted submission.
   */
  readonly #preparing = new Set<string>();
  /** By change id: the submitters waiting for their completion, and their commands. */
  readonly #waiters = new Map<
    string,
    { readonly cmd: InFlightCommand; readonly waiter: Deferred<Completion> }
  >();

  constructor(
    private readonly limit: number,
    private readonly metrics: ParticipantMetrics,
    private readonly clock: Clock,
  ) {}

  /** Submissions admitted and not finished. */
  get size(): number {
    return this.#admitted;
  }

  /**
   * Admits a submission, or refuses it with PARTICIPANT_OVERLOADED when `limit` are in flight; the returned function
   * releases the slot once the submission finished (completed, or failed before it was sent).
   */
  admit(): () => void {
    if (this.#admitted >= this.limit) {
      this.metrics.submissions.inc({ result: ParticipantErrors.PARTICIPANT_OVERLOADED.code });
      throw new WeftError(
        ParticipantErrors.PARTICIPANT_OVERLOADED,
        `the participant has ${this.#admitted} submissions in flight, its maximum (maxSubmissionsInFlight); retry once some completed`,
        { limit: this.limit },
      );
    }
    this.#admitted++;
    this.metrics.submissionsInFlight.set(this.#admitted);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#admitted--;
      this.metrics.submissionsInFlight.set(this.#admitted);
    };
  }

  /**
   * Reserves `changeId` for an admitted submission until its command is registered in the store (which then
   * deduplicates it); undefined while another submission of the change id holds it. The returned function
   * releases it.
   */
  reserve(changeId: string): (() => void) | undefined {
    if (this.#preparing.has(changeId)) return undefined;
    this.#preparing.add(changeId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#preparing.delete(changeId);
    };
  }

  /** Takes up the commands sent to `synchronizerId` before a restart and not completed (no one waits for them). */
  restore(synchronizerId: string, rows: readonly CommandRow[]): void {
    for (const row of rows) {
      const cmd: InFlightCommand = { ...row, marks: { start: monotonicMs(this.clock) } };
      this.#byMessage.set(row.messageId, cmd);
      if (row.requestId !== undefined) this.#requests(synchronizerId).set(row.requestId, cmd);
    }
  }

  /** Registers a command about to be sent; resolves with its completion once durable. */
  track(cmd: InFlightCommand): Promise<Completion> {
    const waiter = deferred<Completion>();
    this.#byMessage.set(cmd.messageId, cmd);
    this.#waiters.set(cmd.changeId, { cmd, waiter });
    return waiter.promise;
  }

  /**
   * Forgets a command whose request could not be sent, its receipt too if one came first: a later command with the
   * same change id must not be completed by this one's verdict.
   */
  untrack(cmd: InFlightCommand): void {
    this.#byMessage.delete(cmd.messageId);
    if (cmd.requestId !== undefined) this.#byRequest.get(cmd.synchronizerId)?.delete(cmd.requestId);
    this.#waiters.delete(cmd.changeId);
  }

  /** Rejects every waiting submitter (the participant stopped or failed). */
  abandon(error: WeftError): void {
    for (const { waiter } of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }

  /**
   * Rejects the submitters waiting on commands sent to `synchronizerId` (the participant disconnected from it), which
   * frees their admission slots, and forgets those commands: a reconnection takes them up again from the store, as
   * after a restart, and publishes their completions.
   */
  abandonOn(synchronizerId: string, error: (cmd: InFlightCommand) => WeftError): void {
    for (const [changeId, { cmd, waiter }] of this.#waiters) {
      if (cmd.synchronizerId !== synchronizerId) continue;
      this.#waiters.delete(changeId);
      waiter.reject(error(cmd));
    }
    for (const [messageId, cmd] of this.#byMessage) {
      if (cmd.synchronizerId === synchronizerId) this.#byMessage.delete(messageId);
    }
    this.#byRequest.delete(synchronizerId);
  }

  /** The commands this participant sent to `synchronizerId`, as its protocol processor sees them. */
  on(synchronizerId: string): SubmissionTracking {
    const requests = this.#requests(synchronizerId);
    const take = (cmd: InFlightCommand) => {
      this.#byMessage.delete(cmd.messageId);
      if (cmd.requestId !== undefined) requests.delete(cmd.requestId);
      return cmd;
    };
    return {
      sequenced: (messageId, requestId) => {
        const cmd = this.#byMessage.get(messageId);
        if (!cmd) return;
        cmd.requestId = requestId;
        cmd.marks.sequenced = monotonicMs(this.clock);
        // Not written: a restart replays from before the request (it is undecided), receipt included.
        requests.set(requestId, cmd);
      },
      ownRequest: (requestId, rootHash) => {
        const own = requests.get(requestId)?.own;
        return own && Buffer.compare(own.rootHash.toMultihash(), rootHash) === 0 ? own : undefined;
      },
      refused: (messageId) => {
        const cmd = this.#byMessage.get(messageId);
        return cmd && take(cmd);
      },
      mark: (requestId, phase) => {
        const cmd = requests.get(requestId);
        if (cmd) cmd.marks[phase] = monotonicMs(this.clock);
      },
      decided: (requestId) => {
        const cmd = requests.get(requestId);
        return cmd && take(cmd);
      },
      expired: (ts) => {
        const out: InFlightCommand[] = [];
        for (const cmd of this.#byMessage.values()) {
          if (
            cmd.synchronizerId === synchronizerId &&
            cmd.requestId === undefined &&
            cmd.maxSequencingTime < ts
          )
            out.push(cmd);
        }
        return out.map(take);
      },
      completion: (cmd, recordTime, offset, outcome) => this.#completion(cmd, recordTime, offset, outcome),
    };
  }

  #requests(synchronizerId: string): Map<bigint, InFlightCommand> {
    const known = this.#byRequest.get(synchronizerId);
    if (known) return known;
    const m = new Map<bigint, InFlightCommand>();
    this.#byRequest.set(synchronizerId, m);
    return m;
  }

  #completion(
    cmd: InFlightCommand,
    recordTime: bigint,
    offset: bigint,
    outcome: CommandOutcome,
  ): JournalEntry {
    const failure = 'failure' in outcome ? outcome.failure : undefined;
    const completion: CompletionRow = {
      offset,
      changeId: cmd.changeId,
      commandId: cmd.commandId,
      userId: cmd.userId,
      submissionId: cmd.submissionId,
      actAs: cmd.actAs,
      code: failure?.code,
      message: failure?.reason ?? '',
      updateId: 'updateId' in outcome ? outcome.updateId : undefined,
      requestId: cmd.requestId,
      recordTime,
      synchronizerId: cmd.synchronizerId,
      deduplicationPeriod: cmd.deduplicationPeriod,
    };
    return {
      offset,
      fill: (b) => {
        b.completions.push(completion);
        b.commands.push({ changeId: cmd.changeId, completionOffset: offset, completedAt: recordTime });
      },
      durable: () => {
        const timings = phaseTimings(cmd.marks, monotonicMs(this.clock));
        if (timings && !failure) this.metrics.recordPhases(timings);
        const waiting = this.#waiters.get(cmd.changeId);
        this.#waiters.delete(cmd.changeId);
        waiting?.waiter.resolve({ ...completionOf(completion), ...(timings ? { timings } : {}) });
      },
    };
  }
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
