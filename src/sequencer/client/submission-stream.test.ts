import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { WeftError } from '../../errors/index.js';
import type {
  SendAsyncRequest,
  SendAsyncResponse,
  SendStreamRequest,
  SendStreamResponse,
} from '../../generated/weft/sequencer/v1/sequencer_service.js';
import { ManualClock } from '../../time/index.js';
import { SequencerErrors } from '../errors.js';
import { MAX_CALLS_PER_SUBMISSION_STREAM, sequencerError } from '../grpc-common.js';
import { SubmissionStream } from './submission-stream.js';

/** A SendStream as the client sees it: what it wrote, and the sequencer's side to answer with. */
class FakeStream extends EventEmitter {
  readonly written: SendStreamRequest[] = [];
  readonly metadata: grpc.Metadata;
  halfClosed = false;
  cancelled = false;

  constructor(metadata: grpc.Metadata) {
    super();
    this.metadata = metadata;
  }
  write(message: SendStreamRequest): boolean {
    this.written.push(message);
    return true;
  }
  end(): void {
    this.halfClosed = true;
  }
  cancel(): void {
    this.cancelled = true;
    this.emit(
      'error',
      Object.assign(new Error('Cancelled'), { code: grpc.status.CANCELLED, details: 'Cancelled' }),
    );
  }
  answer(callId: bigint, outcome: SendStreamResponse['outcome']): void {
    this.emit('data', { callId, outcome } satisfies SendStreamResponse);
  }
}

const OK: SendAsyncResponse = { results: [{}] };
const request = (n: number): SendAsyncRequest => ({
  signedSubmissionRequestBatch: {
    content: Uint8Array.of(n),
    signature: new Uint8Array(64),
    signedBy: 'f',
    purpose: 1003,
  } as never,
});

function setup() {
  const clock = new ManualClock(0n);
  const streams: FakeStream[] = [];
  const unaryCalls: SendAsyncRequest[] = [];
  const stream = new SubmissionStream({
    open: (metadata) => {
      const s = new FakeStream(metadata);
      streams.push(s);
      return s as unknown as grpc.ClientDuplexStream<SendStreamRequest, SendStreamResponse>;
    },
    toError: (e) => sequencerError(e, 'http://127.0.0.1:1'),
    clock,
    timeoutMs: 1000,
  });
  const unary = (r: SendAsyncRequest) => {
    unaryCalls.push(r);
    return Promise.resolve(OK);
  };
  const token = Uint8Array.of(1, 2, 3);
  const send = (n: number, t = token) => stream.send(request(n), t, () => new grpc.Metadata(), unary);
  return { clock, streams, unaryCalls, stream, send };
}

describe('SubmissionStream', () => {
  it('carries calls over one stream and answers each by its call id, in any order', async () => {
    const { streams, unaryCalls, send } = setup();
    const calls = [send(0), send(1), send(2)];
    expect(streams).toHaveLength(1);
    const [s] = streams as [FakeStream];
    expect(s.written.map((w) => w.callId)).toEqual([0n, 1n, 2n]);
    s.answer(2n, { oneofKind: 'response', response: { results: [{}, {}] } });
    s.answer(0n, { oneofKind: 'response', response: OK });
    s.answer(1n, {
      oneofKind: 'error',
      error: { code: SequencerErrors.SEQUENCER_OVERLOADED.code, reason: 'full', context: { member: 'm' } },
    });
    await expect(calls[0]).resolves.toEqual(OK);
    await expect(calls[2]).resolves.toEqual({ results: [{}, {}] });
    const refused = await calls[1]!.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WeftError);
    expect(refused).toMatchObject({ code: SequencerErrors.SEQUENCER_OVERLOADED.code, message: 'full' });
    expect(unaryCalls).toHaveLength(0);
  });

  it('fails the calls of a broken stream as a broken connection, and opens a new stream for the next call', async () => {
    const { streams, send } = setup();
    const lost = send(0);
    streams[0]!.emit(
      'error',
      Object.assign(new Error('gone'), { code: grpc.status.UNAVAILABLE, details: 'connection reset' }),
    );
    await expect(lost).rejects.toMatchObject({ code: SequencerErrors.SEQUENCER_CONNECTION_FAILED.code });
    const next = send(1);
    expect(streams).toHaveLength(2);
    streams[1]!.answer(1n, { oneofKind: 'response', response: OK });
    await expect(next).resolves.toEqual(OK);
  });

  it('fails calls still in progress when the sequencer ends the stream', async () => {
    const { streams, send } = setup();
    const call = send(0);
    streams[0]!.emit('end');
    await expect(call).rejects.toMatchObject({ code: SequencerErrors.SEQUENCER_UNAVAILABLE.code });
  });

  it('opens a new stream for a new token and lets the old one answer its calls', async () => {
    const { streams, send } = setup();
    const old = send(0);
    const fresh = send(1, Uint8Array.of(9));
    expect(streams).toHaveLength(2);
    expect(streams[0]!.halfClosed).toBe(true);
    streams[1]!.answer(1n, { oneofKind: 'response', response: OK });
    streams[0]!.answer(0n, { oneofKind: 'response', response: OK });
    streams[0]!.emit('end');
    await expect(old).resolves.toEqual(OK);
    await expect(fresh).resolves.toEqual(OK);
  });

  it('times a call out on its own deadline and ignores a late answer', async () => {
    const { clock, streams, send } = setup();
    const call = send(0);
    clock.advance(1000);
    const e = await call.catch((x: unknown) => x);
    expect(e).toMatchObject({ code: SequencerErrors.SEQUENCER_CONNECTION_FAILED.code });
    expect(String((e as Error).message)).toMatch(/Deadline exceeded/);
    streams[0]!.answer(0n, { oneofKind: 'response', response: OK });
    expect(clock.pending).toBe(0);
  });

  it('falls back to unary calls for a sequencer without SendStream', async () => {
    const { streams, unaryCalls, send } = setup();
    const first = send(0);
    streams[0]!.emit(
      'error',
      Object.assign(new Error('unimplemented'), {
        code: grpc.status.UNIMPLEMENTED,
        details: 'unknown method',
      }),
    );
    await expect(first).resolves.toEqual(OK);
    await expect(send(1)).resolves.toEqual(OK);
    expect(unaryCalls.map((r) => r.signedSubmissionRequestBatch!.content[0])).toEqual([0, 1]);
    expect(streams).toHaveLength(1);
  });

  it('sends calls beyond its bound as unary calls, and everything after close', async () => {
    const { streams, unaryCalls, stream, send } = setup();
    for (let i = 0; i < MAX_CALLS_PER_SUBMISSION_STREAM; i++) void send(i).catch(() => {});
    await expect(send(-1)).resolves.toEqual(OK);
    expect(unaryCalls).toHaveLength(1);
    expect(streams[0]!.written).toHaveLength(MAX_CALLS_PER_SUBMISSION_STREAM);
    stream.close();
    expect(streams[0]!.cancelled).toBe(true);
    await expect(send(-2)).resolves.toEqual(OK);
    expect(unaryCalls).toHaveLength(2);
  });
});
