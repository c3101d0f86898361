import { describe, expect, it } from 'vitest';
import { Any } from '../../generated/google/protobuf/any.js';
import { ErrorInfo } from '../../generated/google/rpc/error_details.js';
import { type Completion, ParticipantErrors } from '../../participant/index.js';
import { completionError } from './commands.js';
import { completionToProto } from './completions.js';

const completion = (o: Partial<Completion> = {}): Completion => ({
  offset: 7n,
  commandId: 'cmd',
  submissionId: 'sub-12345678-x',
  userId: 'app',
  actAs: ['alice::1220aa', 'bob::1220bb'],
  status: 'succeeded',
  code: undefined,
  message: '',
  updateId: 'upd',
  recordTime: 1_500_000n,
  synchronizerId: 'sync::1220cc',
  deduplicationPeriod: undefined,
  ...o,
});

describe('completions on the wire', () => {
  it('carry an OK status when accepted, only the requested acting parties, and the synchronizer time', () => {
    const c = completionToProto(completion(), new Set(['bob::1220bb']));
    expect(c).toMatchObject({
      commandId: 'cmd',
      updateId: 'upd',
      userId: 'app',
      actAs: ['bob::1220bb'],
      offset: 7n,
    });
    expect(c.status).toEqual({ code: 0, message: '', details: [] });
    expect(c.synchronizerTime).toEqual({
      synchronizerId: 'sync::1220cc',
      recordTime: { seconds: 1n, nanos: 500_000_000 },
    });
  });

  it('carry the rejection as Canton: the category code, the message and an ErrorInfo with the catalogue code', () => {
    const rejected = completion({
      status: 'failed',
      code: ParticipantErrors.LOCAL_VERDICT_LOCKED_CONTRACTS.code,
      message: 'locked',
      updateId: undefined,
    });
    const status = completionToProto(rejected).status!;
    expect(status.code).toBe(10); // ABORTED: contention
    expect(status.message).toBe('LOCAL_VERDICT_LOCKED_CONTRACTS(2,sub-1234): locked');
    const info = Any.unpack(status.details[0]!, ErrorInfo);
    expect(info.reason).toBe('LOCAL_VERDICT_LOCKED_CONTRACTS');
    // SubmitAndWait answers the same rejection as an error of that code.
    const e = completionError(rejected);
    expect([e.code, e.retryable, e.message]).toEqual(['LOCAL_VERDICT_LOCKED_CONTRACTS', true, 'locked']);
  });

  it('carry the deduplication period the participant applied: a duration, an offset, or none stored', () => {
    const period = (p: Completion['deduplicationPeriod']) =>
      completionToProto(completion({ deduplicationPeriod: p })).deduplicationPeriod;
    expect(period({ kind: 'duration', micros: 90_000_250n })).toEqual({
      oneofKind: 'deduplicationDuration',
      deduplicationDuration: { seconds: 90n, nanos: 250_000 },
    });
    expect(period({ kind: 'offset', offset: 42n })).toEqual({
      oneofKind: 'deduplicationOffset',
      deduplicationOffset: 42n,
    });
    expect(period(undefined)).toEqual({ oneofKind: undefined });
  });
});
