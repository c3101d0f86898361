import { describe, expect, it } from 'vitest';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { deferred } from '../../time/index.js';
import { SequencerErrors } from '../errors.js';
import { type SendBatchSettings, SendQueue, sendBatchSettings } from './send-queue.js';

/**
 * A queue whose calls the test answers one at a time; `calls` records each call's requests as text. The end of a
 * turn is the test's to call (`endTurn`), so that what a turn gathers is exact.
 */
function harness(settings: Partial<SendBatchSettings> = {}) {
  const calls: string[][] = [];
  const answers: ((refusals?: readonly (WeftError | undefined)[] | Error) => void)[] = [];
  const deferredRuns: (() => void)[] = [];
  const queue = new SendQueue(
    { ...sendBatchSettings(), ...settings },
    (requests) => {
      calls.push(requests.map((r) => Buffer.from(r).toString()));
      const answer = deferred<readonly (WeftError | undefined)[]>();
      answers.push((r) =>
        r instanceof Error ? answer.reject(r) : answer.resolve(r ?? requests.map(() => undefined)),
      );
      return answer.promise;
    },
    (run) => deferredRuns.push(run),
  );
  const endTurn = () => {
    for (const run of deferredRuns.splice(0)) run();
  };
  const settled: string[] = [];
  const submit = (text: string) => {
    const p = queue.submit(Buffer.from(text));
    p.then(
      () => settled.push(`${text} ok`),
      (e: WeftError) => settled.push(`${text} ${e.code}`),
    );
    return p.catch(() => {});
  };
  /** Answers the oldest unanswered call. */
  const answer = async (r?: readonly (WeftError | undefined)[] | Error) => {
    answers.shift()!(r);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { queue, calls, settled, submit, answer, endTurn };
}

describe('send queue', () => {
  it('sends a lone request at once, and batches only what queued while a call was in flight, in order', async () => {
    const h = harness({ maxCallsInFlight: 1 });
    void h.submit('a');
    // No timer: the call starts synchronously.
    expect(h.calls).toEqual([['a']]);
    void h.submit('b');
    void h.submit('c');
    void h.submit('d');
    expect(h.calls).toEqual([['a']]);
    expect(h.queue.queued).toBe(3);
    await h.answer();
    expect(h.calls).toEqual([['a'], ['b', 'c', 'd']]);
    void h.submit('e');
    await h.answer();
    expect(h.calls).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    await h.answer();
    expect(h.settled).toEqual(['a ok', 'b ok', 'c ok', 'd ok', 'e ok']);
    // Idle again: the next request goes out at once, alone.
    void h.submit('f');
    expect(h.calls.at(-1)).toEqual(['f']);
  });

  it('keeps each batch within the request and byte limits; a request above the byte limit goes alone', async () => {
    const h = harness({ maxRequests: 2, maxBytes: 1024, maxCallsInFlight: 1 });
    void h.submit('first');
    for (const text of ['1', '2', '3', 'x'.repeat(1000), 'y'.repeat(30), 'z'.repeat(2000), '4'])
      void h.submit(text);
    for (let i = 0; i < 6; i++) await h.answer();
    expect(h.calls.map((c) => c.map((t) => (t.length > 10 ? `${t[0]}*${t.length}` : t)))).toEqual([
      ['first'],
      ['1', '2'],
      ['3', 'x*1000'],
      ['y*30'],
      ['z*2000'],
      ['4'],
    ]);
  });

  it('refuses a request beyond the queue size with SEQUENCER_CLIENT_SEND_QUEUE_FULL', async () => {
    const h = harness({ queueSize: 2, maxCallsInFlight: 1 });
    void h.submit('in flight');
    void h.submit('q1');
    void h.submit('q2');
    await h.submit('q3');
    expect(h.settled).toEqual([`q3 ${SequencerErrors.SEQUENCER_CLIENT_SEND_QUEUE_FULL.code}`]);
    await h.answer();
    // Taken into the next call, the queue has room again.
    void h.submit('q4');
    await h.answer();
    await h.answer();
    expect(h.calls).toEqual([['in flight'], ['q1', 'q2'], ['q4']]);
  });

  it('while busy, sends what one turn submitted in one call at the end of the turn', async () => {
    const h = harness({ maxCallsInFlight: 4 });
    void h.submit('a');
    // Idle: at once, alone.
    expect(h.calls).toEqual([['a']]);
    for (const text of ['b', 'c', 'd']) void h.submit(text);
    expect(h.calls).toEqual([['a']]);
    h.endTurn();
    expect(h.calls).toEqual([['a'], ['b', 'c', 'd']]);
    // The next turn's requests make a call of their own, without waiting for the calls in flight.
    void h.submit('e');
    void h.submit('f');
    h.endTurn();
    expect(h.calls).toEqual([['a'], ['b', 'c', 'd'], ['e', 'f']]);
    for (let i = 0; i < 3; i++) await h.answer();
    expect(h.settled).toEqual(['a ok', 'b ok', 'c ok', 'd ok', 'e ok', 'f ok']);
    // A call that returns before the turn ends takes what the turn gathered; the end of the turn sends nothing more.
    void h.submit('g');
    void h.submit('h');
    await h.answer();
    expect(h.calls.at(-1)).toEqual(['h']);
    await h.answer();
    // Idle again before the turn ended: the next request goes out at once, not at the end of the turn.
    void h.submit('i');
    expect(h.calls.at(-1)).toEqual(['i']);
    h.endTurn();
    expect(h.calls).toHaveLength(6);
    await h.answer();
    expect(h.settled).toEqual(['a ok', 'b ok', 'c ok', 'd ok', 'e ok', 'f ok', 'g ok', 'h ok', 'i ok']);
  });

  it('has up to max-calls-in-flight calls out, each taking what queued when it leaves', async () => {
    const h = harness({ maxCallsInFlight: 2 });
    for (const text of ['a', 'b', 'c', 'd', 'e']) void h.submit(text);
    // One leaves at once, alone; the rest of the turn goes in a second call at its end.
    expect(h.calls).toEqual([['a']]);
    h.endTurn();
    expect(h.calls).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    // At the limit: the next requests wait for a call to return, whatever the turn.
    void h.submit('f');
    void h.submit('g');
    h.endTurn();
    expect(h.calls).toHaveLength(2);
    await h.answer();
    expect(h.calls.at(-1)).toEqual(['f', 'g']);
    await h.answer();
    await h.answer();
    expect(h.settled).toEqual(['a ok', 'b ok', 'c ok', 'd ok', 'e ok', 'f ok', 'g ok']);
  });

  it('fails only the refused request of a batch, and a whole batch when its call fails', async () => {
    const h = harness({ maxCallsInFlight: 1 });
    void h.submit('a');
    void h.submit('b');
    void h.submit('c');
    void h.submit('d');
    await h.answer(new WeftError(SequencerErrors.SEQUENCER_CONNECTION_FAILED, 'down'));
    await h.answer([undefined, new WeftError(CommonErrors.INVALID_ARGUMENT, 'bad'), undefined]);
    expect(h.settled).toEqual([
      `a ${SequencerErrors.SEQUENCER_CONNECTION_FAILED.code}`,
      'b ok',
      `c ${CommonErrors.INVALID_ARGUMENT.code}`,
      'd ok',
    ]);
  });

  it('takes its limits from config with bounds', () => {
    expect(sendBatchSettings()).toEqual({
      maxCallsInFlight: 64,
      maxRequests: 100,
      maxBytes: 4 << 20,
      queueSize: 10_000,
    });
    expect(() => sendBatchSettings({ 'max-calls-in-flight': 0 })).toThrow(/send-batch.max-calls-in-flight/);
    expect(sendBatchSettings({ 'max-requests': 7 }).maxRequests).toBe(7);
    expect(() => sendBatchSettings({ 'max-requests': 1001 })).toThrow(/send-batch.max-requests/);
    expect(() => sendBatchSettings({ 'queue-size': 0 })).toThrow(/send-batch.queue-size/);
  });
});
