import type { LocalVerdict } from '../generated/weft/protocol/v1/confirmation_response.js';
import type { ParticipantRejection, Verdict } from '../generated/weft/protocol/v1/confirmation_result.js';
import { approveVerdict, mediatorRejectVerdict, ProtocolErrors } from '../protocol/index.js';

/** Who may confirm for a party at the request's topology: its PartyToParticipant threshold and participants. */
export interface PartyConfirmers {
  readonly threshold: number;
  /** Hosting participants with Confirmation or Submission permission. */
  readonly participants: readonly string[];
}

export interface AggregationView {
  readonly key: string;
  readonly confirmingParties: readonly string[];
  readonly threshold: number;
}

/** Creates the aggregation of one request's responses; {@link ResponseAggregation} unless a test replaces it. */
export type AggregationFactory = (
  views: readonly AggregationView[],
  confirmers: ReadonlyMap<string, PartyConfirmers>,
) => ResponseAggregation;

/** One response of a ConfirmationResponses message. */
export interface ResponseInput {
  /** Undefined: a malformed rejection that applies to every view. */
  readonly viewKey: string | undefined;
  readonly verdict: LocalVerdict;
  readonly parties: readonly string[];
}

type NonPositive = Exclude<LocalVerdict['verdict'], { oneofKind: 'approve' } | { oneofKind: undefined }>;

/** The votes of the hosting participants of one confirming party (a "consortium" when it has several). */
class PartyVote {
  readonly approvals = new Set<string>();
  /** Most recent first. */
  readonly rejections: { participant: string; verdict: LocalVerdict }[] = [];
  readonly abstains = new Set<string>();

  constructor(readonly confirmers: PartyConfirmers) {}

  responded(participant: string): boolean {
    return (
      this.approvals.has(participant) ||
      this.abstains.has(participant) ||
      this.rejections.some((r) => r.participant === participant)
    );
  }

  /** A participant's first vote counts; later ones are ignored. */
  record(participant: string, verdict: LocalVerdict): void {
    if (this.responded(participant)) return;
    const kind = verdict.verdict.oneofKind;
    if (kind === 'approve') this.approvals.add(participant);
    else if (kind === 'reject') this.rejections.unshift({ participant, verdict });
    else this.abstains.add(participant);
  }

  get approved(): boolean {
    return this.approvals.size >= this.confirmers.threshold;
  }

  /** Enough rejections, or too many rejections and abstentions left for the threshold to be reachable. */
  get rejected(): boolean {
    const hosts = Math.max(this.confirmers.participants.length, 1);
    return (
      this.rejections.length >= this.confirmers.threshold ||
      this.rejections.length + this.abstains.size + this.confirmers.threshold > hosts
    );
  }

  nonResponsive(): string[] {
    return this.confirmers.participants.filter((p) => !this.responded(p));
  }
}

class ViewState {
  /** Confirming parties that neither approved nor rejected yet. */
  readonly pending: Set<string>;
  /** Approvals of confirming parties still needed. */
  threshold: number;
  readonly votes = new Map<string, PartyVote>();
  /** Most recent first. */
  rejections: ParticipantRejection[] = [];

  constructor(
    readonly view: AggregationView,
    confirmers: ReadonlyMap<string, PartyConfirmers>,
  ) {
    this.pending = new Set(view.confirmingParties);
    this.threshold = view.threshold;
    for (const party of view.confirmingParties) {
      this.votes.set(party, new PartyVote(confirmers.get(party) ?? { threshold: 1, participants: [] }));
    }
  }

  get satisfied(): boolean {
    return this.threshold === 0;
  }

  get satisfiable(): boolean {
    return this.threshold <= this.pending.size;
  }
}

/**
 * Collects the responses to one request and decides it (Canton's ResponseAggregation with every confirming party
 * weighing 1). Per view, `threshold` confirming parties must approve. A confirming party approves once
 * `threshold` of its PartyToParticipant confirmers approved, and rejects once that many rejected or too few are
 * left to reach it. The request is approved when every view is; it is rejected as soon as one view can no longer
 * be approved. Deterministic: the same responses in the same order give the same verdict.
 */
export class ResponseAggregation {
  readonly #views = new Map<string, ViewState>();
  readonly #confirmers: ReadonlyMap<string, PartyConfirmers>;
  #decision: Verdict | undefined;

  constructor(views: readonly AggregationView[], confirmers: ReadonlyMap<string, PartyConfirmers>) {
    this.#confirmers = confirmers;
    for (const v of views) this.#views.set(v.key, new ViewState(v, confirmers));
  }

  get decision(): Verdict | undefined {
    return this.#decision;
  }

  canConfirm(participant: string, party: string): boolean {
    return this.#confirmers.get(party)?.participants.includes(participant) ?? false;
  }

  /**
   * Applies one response of `sender` (a verified participant). Returns why the response is ignored, or undefined
   * when it counted (which includes a vote that changes nothing, e.g. a repeated one).
   */
  apply(sender: string, response: ResponseInput): string | undefined {
    if (this.#decision) return 'the request is decided already';
    const kind = response.verdict.verdict.oneofKind;
    if (kind === undefined) return 'the response has no local verdict';
    const malformed = kind === 'reject' && response.verdict.verdict.reject.malformed;
    let targets: { state: ViewState; parties: string[] }[];
    if (response.viewKey === undefined) {
      if (!malformed) return 'only a malformed rejection may omit the view position';
      targets = [...this.#views.values()].map((state) => ({
        state,
        parties: state.view.confirmingParties.filter((p) => this.canConfirm(sender, p)),
      }));
    } else {
      const state = this.#views.get(response.viewKey);
      if (!state) return `the request has no view ${response.viewKey}`;
      if (malformed) {
        targets = [
          { state, parties: state.view.confirmingParties.filter((p) => this.canConfirm(sender, p)) },
        ];
      } else {
        const declared = new Set(state.view.confirmingParties);
        const unexpected = response.parties.filter((p) => !declared.has(p));
        if (unexpected.length > 0) {
          return `${unexpected.join(', ')} are not confirming parties of view ${response.viewKey}`;
        }
        const unauthorized = response.parties.filter((p) => !this.canConfirm(sender, p));
        if (unauthorized.length > 0) {
          return `${sender} may not confirm for ${unauthorized.join(', ')} (not hosted with confirmation permission)`;
        }
        targets = [{ state, parties: [...new Set(response.parties)] }];
      }
    }
    for (const { state, parties } of targets) {
      if (parties.length > 0) this.#progress(state, sender, response.verdict, parties);
      if (this.#decision) break;
    }
    return undefined;
  }

  #progress(state: ViewState, sender: string, verdict: LocalVerdict, parties: readonly string[]): void {
    const newly = parties.filter((p) => state.pending.has(p));
    for (const party of newly) state.votes.get(party)!.record(sender, verdict);
    const body = verdict.verdict;
    if (body.oneofKind === 'approve') {
      const approved = newly.filter((p) => state.votes.get(p)!.approved);
      for (const p of approved) state.pending.delete(p);
      state.threshold = Math.max(0, state.threshold - approved.length);
      if ([...this.#views.values()].every((v) => v.satisfied)) this.#decision = approveVerdict();
      return;
    }
    if (body.oneofKind === undefined) return;
    const rejectedParties = newly.filter((p) => state.votes.get(p)!.rejected);
    if (rejectedParties.length === 0) return;
    for (const p of rejectedParties) state.pending.delete(p);
    state.rejections = [...this.#rejectionsFor(state, sender, body, rejectedParties), ...state.rejections];
    if (!state.satisfiable) {
      this.#decision = {
        verdict: {
          oneofKind: 'participantReject',
          participantReject: { rejections: state.rejections },
        },
      };
    }
  }

  /**
   * The reasons to report for parties that just became rejected. An abstention is reported with the party's
   * earlier rejection when it has one, since that says more.
   */
  #rejectionsFor(
    state: ViewState,
    sender: string,
    body: NonPositive,
    parties: readonly string[],
  ): ParticipantRejection[] {
    const verdict: LocalVerdict = { verdict: body };
    if (body.oneofKind === 'reject')
      return [{ parties: [...parties], participant: sender, localVerdict: verdict }];
    const earlier: ParticipantRejection[] = [];
    const without: string[] = [];
    for (const party of parties) {
      const previous = state.votes.get(party)!.rejections[0];
      if (previous)
        earlier.push({ parties: [party], participant: previous.participant, localVerdict: previous.verdict });
      else without.push(party);
    }
    return [
      ...(without.length > 0 ? [{ parties: without, participant: sender, localVerdict: verdict }] : []),
      ...earlier,
    ];
  }

  /**
   * Decides the request as timed out: the confirming parties still awaited (sorted, so every mediator gives the
   * same reason) and their silent participants.
   */
  timeout(requestId: bigint): Verdict {
    if (this.#decision) return this.#decision;
    const awaited = new Map<string, string[]>();
    for (const state of this.#views.values()) {
      if (state.satisfied) continue;
      for (const party of state.pending) awaited.set(party, state.votes.get(party)!.nonResponsive());
    }
    const parties = [...awaited.keys()].sort();
    const details = parties.map((p) => {
      const silent = awaited.get(p)!;
      return silent.length > 0 ? `${p} (no answer from ${silent.join(', ')})` : p;
    });
    this.#decision = mediatorRejectVerdict(
      ProtocolErrors.MEDIATOR_REQUEST_TIMED_OUT,
      `request ${requestId} timed out awaiting confirming parties ${details.join(', ')}`,
    );
    return this.#decision;
  }
}
