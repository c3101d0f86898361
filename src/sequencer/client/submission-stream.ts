import * as grpc from '@grpc/grpc-js';
import { WeftError } from '../../errors/index.js';
import type {
  SendAsyncRequest,
  SendAsyncResponse,
  SendStreamRequest,
  SendStreamResponse,
} from '../../generated/weft/sequencer/v1/sequencer_service.js';
import { weftErrorNamed } from '../../grpc/index.js';
import { currentTraceparent } from '../../observability/index.js';
import type { Clock } from '../../time/index.js';
import { SequencerErrors } from '../errors.js';
import { MAX_CALLS_PER_SUBMISSION_STREAM } from '../grpc-common.js';

type Stream = grpc.ClientDuplexStream<SendStreamRequest, SendStreamResponse>;

type Unary = (request: SendAsyncRequest) => Promise<SendAsyncResponse>;

interface Pending {
  readonly stream: Stream;
  readonly request: SendAsyncRequest;
  readonly unary: Unary;
  readonly resolve: (response: SendAsyncResponse) => void;
  readonly reject: (e: unknown) => void;
  readonly cancelDeadline: () => void;
}

export interface SubmissionStreamOptions {
  /** Opens a SendStream with the call metadata (the member's token). */
  readonly open: (metadata: grpc.Metadata) => Stream;
  /** Maps a failure of the stream to the WeftError a failed unary call would have given. */
  readonly toError: (e: unknown) => WeftError;
  /** Times the calls' deadlines (real time, as gRPC deadlines). */
  readonly clock: Clock;
  readonly timeoutMs: number;
}

/**
 * A member's SendAsync calls over one long-lived SendStream instead of a unary call each (docs/sequencer.md,
 * 'Submission streams'): a unary call costs both sides the setup of an HTTP/2 stream (headers, deadline, trailers;
 * ~300 µs of CPU on loopback against ~40 µs for a message of an open stream). Each call keeps its own deadline and
 * gets exactly the result or the error the unary call would have given; when the stream fails, its calls in
 * progress fail as a broken connection fails a unary call, and the next call opens a new stream. A new token opens
 * a new stream (the metadata is the stream's); the old one is half-closed and still answers its calls.
 */
export class SubmissionStream {
  readonly #o: SubmissionStreamOptions;
  readonly #pending = new Map<bigint, Pending>();
  #stream: Stream | undefined;
  /** The token bytes the open stream carries: another token needs another stream. */
  #token: Uint8Array | undefined;
  #nextCallId = 0n;
  /** The sequencer answered UNIMPLEMENTED (an older node): every call is unary from then on. */
  #unsupported = false;
  #closed = false;

  constructor(options: SubmissionStreamOptions) {
    this.#o = options;
  }

  /**
   * One SendAsync call with `token` (whose call metadata `metadata` builds); `unary` makes it a unary call instead,
   * for a sequencer without SendStream and for calls beyond the stream's bound.
   */
  send(
    request: SendAsyncRequest,
    token: Uint8Array,
    metadata: () => grpc.Metadata,
    unary: Unary,
  ): Promise<SendAsyncResponse> {
    if (this.#unsupported || this.#closed || this.#pending.size >= MAX_CALLS_PER_SUBMISSION_STREAM) {
      return unary(request);
    }
    if (!this.#stream || this.#token !== token) this.#reopen(token, metadata());
    const stream = this.#stream!;
    const callId = this.#nextCallId++;
    return new Promise((resolve, reject) => {
      const cancelDeadline = this.#o.clock.schedule(this.#o.timeoutMs, () => {
        if (!this.#pending.delete(callId)) return;
        reject(
          this.#o.toError({
            code: grpc.status.DEADLINE_EXCEEDED,
            details: `Deadline exceeded after ${this.#o.timeoutMs} ms`,
            metadata: new grpc.Metadata(),
          }),
        );
      });
      this.#pending.set(callId, { stream, request, unary, resolve, reject, cancelDeadline });
      stream.write({ callId, request, traceparent: currentTraceparent() ?? '' });
    });
  }

  /** Cancels the streams; calls in progress fail as on a closed channel. */
  close(): void {
    this.#closed = true;
    this.#stream?.cancel();
    this.#stream = undefined;
  }

  #reopen(token: Uint8Array, metadata: grpc.Metadata): void {
    this.#stream?.end();
    const stream = this.#o.open(metadata);
    this.#stream = stream;
    this.#token = token;
    stream.on('data', (response: SendStreamResponse) => this.#answer(response));
    stream.on('error', (e: grpc.ServiceError) => {
      if (e.code === grpc.status.UNIMPLEMENTED) this.#unsupported = true;
      this.#fail(stream, e);
    });
    stream.on('end', () =>
      this.#fail(
        stream,
        new WeftError(SequencerErrors.SEQUENCER_UNAVAILABLE, 'the sequencer ended the submission stream'),
      ),
    );
  }

  #answer(response: SendStreamResponse): void {
    const pending = this.#pending.get(response.callId);
    if (!pending) return;
    this.#pending.delete(response.callId);
    pending.cancelDeadline();
    const { outcome } = response;
    if (outcome.oneofKind === 'response') pending.resolve(outcome.response);
    else if (outcome.oneofKind === 'error')
      pending.reject(weftErrorNamed(outcome.error.code, outcome.error.reason, outcome.error.context));
    else
      pending.reject(this.#o.toError(new Error(`SendStream answered call ${response.callId} with nothing`)));
  }

  /** Fails the calls in progress on `stream` (or, when the sequencer lacks SendStream, makes them unary). */
  #fail(stream: Stream, e: unknown): void {
    if (this.#stream === stream) this.#stream = undefined;
    for (const [callId, pending] of this.#pending) {
      if (pending.stream !== stream) continue;
      this.#pending.delete(callId);
      pending.cancelDeadline();
      if (this.#unsupported) pending.unary(pending.request).then(pending.resolve, pending.reject);
      else pending.reject(e instanceof WeftError ? e : this.#o.toError(e));
    }
  }
}
