import type { ErrorCode } from '../errors/index.js';
import type { LocalVerdict } from '../generated/weft/protocol/v1/confirmation_response.js';
import type { Verdict } from '../generated/weft/protocol/v1/confirmation_result.js';
import { ProtocolErrors } from './errors.js';

export type VerdictKind = 'approve' | 'mediator_reject' | 'participant_reject';

/** A verdict reduced to what completions, logs and the audit stream show. */
export interface VerdictSummary {
  readonly kind: VerdictKind;
  /** The decisive error code: the mediator's, or that of the most recent participant rejection. */
  readonly code?: string;
  readonly reason?: string;
}

export function summarizeVerdict(verdict: Verdict | undefined): VerdictSummary {
  const v = verdict?.verdict;
  switch (v?.oneofKind) {
    case 'approve':
      return { kind: 'approve' };
    case 'mediatorReject':
      return { kind: 'mediator_reject', code: v.mediatorReject.code, reason: v.mediatorReject.reason };
    case 'participantReject': {
      const first = v.participantReject.rejections[0];
      const local = summarizeLocalVerdict(first?.localVerdict);
      return {
        kind: 'participant_reject',
        ...(local.code === undefined ? {} : { code: local.code }),
        reason: v.participantReject.rejections
          .map((r) => {
            const l = summarizeLocalVerdict(r.localVerdict);
            return `${r.participant} for ${r.parties.join(', ')}: ${l.code ?? l.kind}${l.reason ? ` (${l.reason})` : ''}`;
          })
          .join('; '),
      };
    }
    default:
      return {
        kind: 'mediator_reject',
        code: ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED.code,
        reason: 'the verdict is empty',
      };
  }
}

export function summarizeLocalVerdict(verdict: LocalVerdict | undefined): {
  readonly kind: 'approve' | 'reject' | 'abstain' | 'none';
  readonly code?: string;
  readonly reason?: string;
} {
  const v = verdict?.verdict;
  switch (v?.oneofKind) {
    case 'approve':
      return { kind: 'approve' };
    case 'reject':
      return { kind: 'reject', code: v.reject.code, reason: v.reject.reason };
    case 'abstain':
      return { kind: 'abstain', code: v.abstain.code, reason: v.abstain.reason };
    default:
      return { kind: 'none' };
  }
}

export const approveVerdict = (): Verdict => ({ verdict: { oneofKind: 'approve', approve: {} } });

export const mediatorRejectVerdict = (code: ErrorCode, reason: string): Verdict => ({
  verdict: { oneofKind: 'mediatorReject', mediatorReject: { code: code.code, reason } },
});

export const localApprove = (): LocalVerdict => ({ verdict: { oneofKind: 'approve', approve: {} } });

export const localReject = (code: string, reason: string, malformed = false): LocalVerdict => ({
  verdict: { oneofKind: 'reject', reject: { code, reason, malformed } },
});

export const localAbstain = (code: string, reason: string): LocalVerdict => ({
  verdict: { oneofKind: 'abstain', abstain: { code, reason } },
});
