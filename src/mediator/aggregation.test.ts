import { describe, expect, it } from 'vitest';
import { localAbstain, localApprove, localReject, summarizeVerdict } from '../protocol/index.js';
import { type PartyConfirmers, ResponseAggregation } from './aggregation.js';

const [P1, P2, P3] = ['PAR::p1', 'PAR::p2', 'PAR::p3'];

function aggregation(
  views: { key: string; confirmingParties: string[]; threshold: number }[],
  confirmers: Record<string, PartyConfirmers>,
): ResponseAggregation {
  return new ResponseAggregation(views, new Map(Object.entries(confirmers)));
}

describe('response aggregation', () => {
  it('approves once every view has its threshold of approving parties', () => {
    const a = aggregation(
      [
        { key: '0', confirmingParties: ['alice', 'bob'], threshold: 2 },
        { key: '0.0', confirmingParties: ['bob'], threshold: 1 },
      ],
      { alice: { threshold: 1, participants: [P1] }, bob: { threshold: 1, participants: [P2] } },
    );
    expect(a.apply(P1, { viewKey: '0', verdict: localApprove(), parties: ['alice'] })).toBeUndefined();
    expect(a.apply(P2, { viewKey: '0', verdict: localApprove(), parties: ['bob'] })).toBeUndefined();
    expect(a.decision).toBeUndefined();
    a.apply(P2, { viewKey: '0.0', verdict: localApprove(), parties: ['bob'] });
    expect(summarizeVerdict(a.decision)).toEqual({ kind: 'approve' });
    expect(a.apply(P1, { viewKey: '0', verdict: localApprove(), parties: ['alice'] })).toMatch(
      /decided already/,
    );
  });

  it('needs the PartyToParticipant threshold of a party hosted on several participants', () => {
    const a = aggregation([{ key: '0', confirmingParties: ['c'], threshold: 1 }], {
      c: { threshold: 2, participants: [P1, P2, P3] },
    });
    a.apply(P1, { viewKey: '0', verdict: localApprove(), parties: ['c'] });
    // A repeated vote of the same participant does not count twice.
    a.apply(P1, { viewKey: '0', verdict: localApprove(), parties: ['c'] });
    expect(a.decision).toBeUndefined();
    // One rejection out of three leaves 2 of 3 reachable.
    a.apply(P3, { viewKey: '0', verdict: localReject('R', 'no'), parties: ['c'] });
    expect(a.decision).toBeUndefined();
    a.apply(P2, { viewKey: '0', verdict: localApprove(), parties: ['c'] });
    expect(summarizeVerdict(a.decision).kind).toBe('approve');
  });

  it('rejects as soon as a view can no longer reach its threshold, with the reasons', () => {
    const a = aggregation([{ key: '0', confirmingParties: ['c'], threshold: 1 }], {
      c: { threshold: 2, participants: [P1, P2, P3] },
    });
    a.apply(P1, { viewKey: '0', verdict: localReject('LOCKED', 'contract locked'), parties: ['c'] });
    expect(a.decision).toBeUndefined();
    // An abstention makes 2 of 3 unreachable; the earlier rejection is the reason reported.
    a.apply(P2, { viewKey: '0', verdict: localAbstain('NO_DATA', 'cannot tell'), parties: ['c'] });
    const v = a.decision?.verdict;
    expect(v?.oneofKind).toBe('participantReject');
    if (v?.oneofKind !== 'participantReject') return;
    expect(v.participantReject.rejections).toEqual([
      { parties: ['c'], participant: P1, localVerdict: localReject('LOCKED', 'contract locked') },
    ]);
    expect(summarizeVerdict(a.decision)).toMatchObject({ kind: 'participant_reject', code: 'LOCKED' });
  });

  it('tolerates rejections the threshold can absorb', () => {
    const a = aggregation([{ key: '0', confirmingParties: ['a', 'b', 'c'], threshold: 2 }], {
      a: { threshold: 1, participants: [P1] },
      b: { threshold: 1, participants: [P2] },
      c: { threshold: 1, participants: [P3] },
    });
    a.apply(P1, { viewKey: '0', verdict: localReject('X', 'x'), parties: ['a'] });
    expect(a.decision).toBeUndefined();
    a.apply(P2, { viewKey: '0', verdict: localApprove(), parties: ['b'] });
    a.apply(P3, { viewKey: '0', verdict: localApprove(), parties: ['c'] });
    expect(summarizeVerdict(a.decision).kind).toBe('approve');
  });

  it('refuses responses for parties the sender may not confirm for, or for unknown views', () => {
    const a = aggregation([{ key: '0', confirmingParties: ['a'], threshold: 1 }], {
      a: { threshold: 1, participants: [P1] },
    });
    expect(a.apply(P2, { viewKey: '0', verdict: localApprove(), parties: ['a'] })).toMatch(
      /may not confirm for a/,
    );
    expect(a.apply(P1, { viewKey: '0', verdict: localApprove(), parties: ['z'] })).toMatch(
      /not confirming parties/,
    );
    expect(a.apply(P1, { viewKey: '9', verdict: localApprove(), parties: ['a'] })).toMatch(/no view 9/);
    expect(a.apply(P1, { viewKey: undefined, verdict: localApprove(), parties: ['a'] })).toMatch(/malformed/);
    expect(a.decision).toBeUndefined();
  });

  it('applies a malformed rejection without a view to every view and hosted confirming party', () => {
    const a = aggregation(
      [
        { key: '0', confirmingParties: ['a'], threshold: 1 },
        { key: '1', confirmingParties: ['b'], threshold: 1 },
      ],
      { a: { threshold: 1, participants: [P1] }, b: { threshold: 1, participants: [P2] } },
    );
    a.apply(P2, { viewKey: undefined, verdict: localReject('BAD', 'malformed view', true), parties: [] });
    expect(summarizeVerdict(a.decision)).toMatchObject({ kind: 'participant_reject', code: 'BAD' });
  });

  it('times out naming the awaited parties and their silent participants, sorted', () => {
    const a = aggregation([{ key: '0', confirmingParties: ['z', 'c'], threshold: 2 }], {
      c: { threshold: 2, participants: [P1, P2] },
      z: { threshold: 1, participants: [P3] },
    });
    a.apply(P1, { viewKey: '0', verdict: localApprove(), parties: ['c'] });
    const summary = summarizeVerdict(a.timeout(7n));
    expect(summary).toMatchObject({ kind: 'mediator_reject', code: 'MEDIATOR_REQUEST_TIMED_OUT' });
    expect(summary.reason).toBe(
      `request 7 timed out awaiting confirming parties c (no answer from ${P2}), z (no answer from ${P3})`,
    );
  });
});
