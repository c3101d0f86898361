import {
  ConfigErrors,
  formatProblems,
  type Infer,
  integer,
  object,
  withDefault,
} from '../../config/index.js';
import { WeftError } from '../../errors/index.js';
import { SequencerErrors } from '../errors.js';
import { MAX_REQUESTS_PER_SEND } from '../topology.js';

/**
 * How a member batches its submissions to one sequencer connection (`sequencer-connection.send-batch`): while a call
 * is in flight, the requests of one turn of the event loop go out together, signed once, and so do those that queue
 * while all calls are in flight (docs/sequencer.md).
 */
export const sendBatchSchema = object({
  /**
   * Calls in flight at once; beyond, requests queue and batch. A call returns once its requests are durable, so a
   * request queued behind one waits for that commit before it is even sent, and the sequencer's writer sees the
   * member's requests a commit apart instead of together: measured at 8 transfers in flight, one call in flight
   * made the network commit twice as often for the same signatures, four calls ×1.3, while 64 matched unbatched
   * sends (docs/performance.md, 'Batched submissions'). Below the limit, a busy connection batches each turn's
   * requests instead, which waits for no commit.
   */
  'max-calls-in-flight': withDefault(integer({ min: 1, max: 64 }), 64),
  /**
   * Requests in one call at most; the sequencer takes up to 1,000. The batch shares one signature and one call's
   * overhead, but a refusal of the call as a whole (a connection lost) sends all of them again.
   */
  'max-requests': withDefault(integer({ min: 1, max: MAX_REQUESTS_PER_SEND }), 100),
  /**
   * Bytes of encoded requests in one call at most (a larger request goes alone): well below the sequencer's gRPC
   * receive limit (`sequencer.max-request-size`, 16 MiB by default), which refuses a larger call as a whole.
   */
  'max-bytes': withDefault(integer({ min: 1024, max: 1 << 30 }), 4 << 20),
  /**
   * Requests waiting for the call in flight at most; beyond, a send fails with SEQUENCER_CLIENT_SEND_QUEUE_FULL
   * (retryable) instead of holding unbounded memory while the sequencer answers slowly.
   */
  'queue-size': withDefault(integer({ min: 1, max: 1_000_000 }), 10_000),
});

export type SendBatchSettings = Infer<typeof sendBatchSchema>;

/** The settings with every default filled in; `raw` is written as in a config file (kebab-case keys). */
export function sendBatchSettings(raw: unknown = {}): SendBatchSettings {
  const parsed = sendBatchSchema.parse(raw, 'send-batch');
  if (!parsed.ok) throw new WeftError(ConfigErrors.CONFIG_INVALID, formatProblems(parsed.problems));
  return parsed.value;
}

/**
 * Sends one batch of encoded requests in one call: resolves with each request's refusal (undefined where it was
 * accepted), in order; rejects when the call failed as a whole.
 */
export type SendBatch = (requests: readonly Uint8Array[]) => Promise<readonly (WeftError | undefined)[]>;

interface Queued {
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * The submissions of a member to one sequencer connection, with up to `maxCallsInFlight` calls in flight.
 * - **Idle:** a request submitted while no call is in flight goes out at once, alone: a lone send waits for nothing.
 * - **Busy:** a request submitted while calls are in flight, but fewer than the limit, waits for the end of the
 *   event loop's turn (`defer`), and goes out with every other request submitted in that turn, in one call. A block
 *   of events makes a member answer several requests in one turn (the mediator's verdicts of one commit, say); they
 *   share one signature and one call instead of one each, and wait for no commit.
 * - **At the limit:** requests queue up and go out together in the next call once one returns.
 * Each call takes requests in order, up to `maxRequests` and `maxBytes`. Batches thus form only under load.
 */
export class SendQueue {
  readonly #settings: SendBatchSettings;
  readonly #send: SendBatch;
  /** Runs the gathered requests' call once the current turn has submitted what it will. */
  readonly #defer: (run: () => void) => void;
  readonly #queue: Queued[] = [];
  #inFlight = 0;
  #gathering = false;

  constructor(settings: SendBatchSettings, send: SendBatch, defer: (run: () => void) => void = setImmediate) {
    this.#settings = settings;
    this.#send = send;
    this.#defer = defer;
  }

  /** Requests waiting for a call to leave. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves once the sequencer stored the request; rejects with its refusal, or with why its call failed. */
  submit(bytes: Uint8Array): Promise<void> {
    if (this.#queue.length >= this.#settings.queueSize) {
      return Promise.reject(
        new WeftError(
          SequencerErrors.SEQUENCER_CLIENT_SEND_QUEUE_FULL,
          `${this.#queue.length} requests wait for the calls in flight to the sequencer already; retry later`,
          { queueSize: this.#settings.queueSize },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, resolve, reject });
      this.#schedule();
    });
  }

  /** Starts a call for what waits: now when idle, at the end of the turn when busy, later at the limit. */
  #schedule(): void {
    if (this.#inFlight >= this.#settings.maxCallsInFlight) return;
    // Idle even while a gathering is pending: the calls it waited behind returned, and took what it gathered.
    if (this.#inFlight === 0) {
      void this.#drain();
      return;
    }
    if (this.#gathering) return;
    this.#gathering = true;
    this.#defer(() => {
      this.#gathering = false;
      // A call that returned meanwhile may have taken them already.
      if (this.#queue.length > 0 && this.#inFlight < this.#settings.maxCallsInFlight) void this.#drain();
    });
  }

  /** One of the calls in flight: sends batches while requests wait. */
  async #drain(): Promise<void> {
    this.#inFlight++;
    while (this.#queue.length > 0) {
      const batch = this.#take();
      try {
        const refusals = await this.#send(batch.map((q) => q.bytes));
        batch.forEach((q, i) => {
          const refusal = refusals[i];
          if (refusal) q.reject(refusal);
          else q.resolve();
        });
      } catch (e) {
        for (const q of batch) q.reject(e);
      }
    }
    this.#inFlight--;
  }

  /** The next batch: the first waiting request, and those after it that fit the limits. */
  #take(): Queued[] {
    const { maxRequests, maxBytes } = this.#settings;
    let bytes = this.#queue[0]!.bytes.byteLength;
    let n = 1;
    while (n < this.#queue.length && n < maxRequests) {
      const next = this.#queue[n]!.bytes.byteLength;
      if (bytes + next > maxBytes) break;
      bytes += next;
      n++;
    }
    return this.#queue.splice(0, n);
  }
}
