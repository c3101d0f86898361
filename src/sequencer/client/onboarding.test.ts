import { describe, expect, it } from 'vitest';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { systemClock } from '../../time/index.js';
import { SequencerErrors } from '../errors.js';
import { untilActive } from './onboarding.js';

const notActive = () => new WeftError(SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE, 'not active yet');

/** An attempt that fails with `failures` in turn, then succeeds; counts its calls. */
function attempts(...failures: WeftError[]) {
  const calls = { n: 0 };
  const attempt = async () => {
    const failure = failures[calls.n++];
    if (failure) throw failure;
    return 'state';
  };
  return { attempt, calls };
}

describe('untilActive', () => {
  it('tries again while the member is not active yet, and reports each retry', async () => {
    const { attempt, calls } = attempts(notActive(), notActive());
    const retried: unknown[] = [];
    const state = await untilActive(attempt, {
      clock: systemClock,
      intervalMs: 1,
      onRetry: (e) => retried.push(e),
    });
    expect(state).toBe('state');
    expect(calls.n).toBe(3);
    expect(retried).toHaveLength(2);
  });

  it('fails at once on another failure unless told to retry it', async () => {
    const other = new WeftError(CommonErrors.FAILED_PRECONDITION, 'wrong synchronizer');
    await expect(untilActive(attempts(other).attempt, { clock: systemClock, intervalMs: 1 })).rejects.toBe(
      other,
    );
    const retryAll = attempts(other, other);
    expect(
      await untilActive(retryAll.attempt, { clock: systemClock, intervalMs: 1, retry: () => true }),
    ).toBe('state');
  });

  it('gives up with the last failure after the timeout, and stops when aborted', async () => {
    const always = Array.from({ length: 1000 }, notActive);
    await expect(
      untilActive(attempts(...always).attempt, { clock: systemClock, intervalMs: 5, timeoutMs: 30 }),
    ).rejects.toMatchObject({ code: SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code });
    const stop = new AbortController();
    const running = untilActive(attempts(...always).attempt, {
      clock: systemClock,
      intervalMs: 5,
      signal: stop.signal,
    });
    stop.abort();
    expect(await running).toBeUndefined();
  });
});
