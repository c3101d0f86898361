import { WeftError } from '../errors/index.js';
import type { SequencedEventBlock } from '../generated/weft/sequencer/v1/sequencing.js';
import {
  type EncodedBatch,
  EncodedSequencedEvent,
  StoredBatch,
} from '../generated/weft/sequencer/v1/stored_batch.js';
import type { Logger } from '../observability/index.js';
import { retryTransient } from '../storage/index.js';
import type { Clock } from '../time/index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { SequencerErrors } from './errors.js';
import type { EventsBuffer } from './events-buffer.js';
import type { DeliveryHead } from './head.js';
import { BROADCAST_RECIPIENT, type EventRow, isDead, type MemberRow, type SequencerStore } from './store.js';

/** Events fetched per query. */
const PAGE = 500;
/** Every this many events of a member, its (counter, timestamp) is recorded, bounding the work of a resume. */
export const CHECKPOINT_INTERVAL = 256n;
const BATCH_CACHE_SIZE = 2048;
/** A stream message carries a member's events of one block up to this many bytes (or a single larger event). */
const MESSAGE_BYTES = 4 << 20;

/** Where a member's stream stands. */
interface Position {
  /** Counter of the member's last event so far (-1 before its first). */
  counter: bigint;
  /** Timestamp of that event: the previous timestamp of the next. */
  last: bigint | undefined;
  /** Everything up to this timestamp has been read. */
  readUpTo: bigint;
}

export interface ReaderOptions {
  readonly store: SequencerStore;
  readonly head: DeliveryHead;
  /** Serves the recent events that the head put there; the rest is read from the store. */
  readonly buffer: EventsBuffer;
  readonly synchronizerId: string;
  /** Puts a member's encoded SequencedEvents into a block signed by the sequencer, with their inclusion proofs. */
  readonly sign: (member: string, events: readonly Uint8Array[]) => Promise<SequencedEventBlock>;
  /** Told where each page came from. */
  readonly pageRead?: (source: 'buffer' | 'database') => void;
  /** Times the waits of a read that failed transiently. */
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Turns the stored total order into each member's stream: its events up to the safe watermark, numbered by
 * per-member counters that every node derives identically (the count of the member's earlier events), each
 * carrying only the envelopes addressed to the member, and delivered a block at a time under the sequencer's
 * signature of the block.
 */
export class EventReader {
  readonly #o: ReaderOptions;
  /** Decoded payloads by timestamp: the members of one broadcast read the same payload. */
  readonly #batches = new Map<bigint, StoredBatch>();

  constructor(options: ReaderOptions) {
    this.#o = options;
  }

  /**
   * Streams `member`'s events from counter `from` to `emit`, one message per block (a page read, split at
   * {@link MESSAGE_BYTES}), until `signal` aborts; `started` is called once the start position is found. Fails with
   * SEQUENCER_SUBSCRIPTION_PRUNED when event `from` was pruned.
   */
  async stream(
    member: MemberRow,
    from: bigint,
    emit: (block: SequencedEventBlock) => Promise<void>,
    signal: AbortSignal,
    started: () => void,
  ): Promise<void> {
    const position = await this.#start(member, from);
    started();
    const { store, head } = this.#o;
    while (!signal.aborted) {
      const h = head.current;
      if (h.safe <= position.readUpTo) {
        await head.changed(signal);
        continue;
      }
      if (
        position.readUpTo >= h.previousSafe &&
        !h.touched.has(member.id) &&
        !h.touched.has(BROADCAST_RECIPIENT)
      ) {
        position.readUpTo = h.safe;
        continue;
      }
      // A read that failed transiently (a lost connection, the database restarting) is repeated here rather than
      // ending the subscription: the member would only reconnect and read the same page.
      const retry = { clock: this.#o.clock, logger: this.#o.logger, signal };
      let rows = this.#o.buffer.read(member, position.readUpTo, h.safe, PAGE);
      this.#o.pageRead?.(rows ? 'buffer' : 'database');
      rows ??= await retryTransient(() => store.readEvents(member, position.readUpTo, h.safe, PAGE), {
        ...retry,
        what: `reading the events of ${member.member}`,
      });
      let events: Uint8Array[] = [];
      let bytes = 0;
      const flush = async () => {
        if (events.length > 0) await emit(await this.#o.sign(member.member, events));
        events = [];
        bytes = 0;
      };
      for (const row of rows) {
        if (signal.aborted) return;
        position.readUpTo = row.ts;
        if (isDead(h, row.nodeIndex, row.ts)) continue;
        const counter = position.counter + 1n;
        if (counter >= from) {
          const event = this.#event(row, member, counter, position.last);
          if (bytes > 0 && bytes + event.length > MESSAGE_BYTES) await flush();
          events.push(event);
          bytes += event.length;
        }
        position.counter = counter;
        position.last = row.ts;
        if (counter % CHECKPOINT_INTERVAL === 0n) {
          await retryTransient(() => store.saveCheckpoint(member.id, counter, row.ts), {
            ...retry,
            what: `saving a checkpoint of ${member.member}`,
          });
        }
      }
      if (signal.aborted) return;
      await flush();
      // Everything deliverable up to the safe watermark is visible (or buffered), so a short page means none is left.
      if (rows.length < PAGE) position.readUpTo = h.safe;
    }
  }

  async #start(member: MemberRow, from: bigint): Promise<Position> {
    const { store } = this.#o;
    if (from < 0n) {
      throw new WeftError(SequencerErrors.SEQUENCER_SUBSCRIPTION_PRUNED, `counter ${from} is negative`);
    }
    const lowerBound = await store.lowerBound();
    if (lowerBound !== undefined) {
      // Another node sharing the database may have pruned.
      this.#o.buffer.prune(lowerBound);
      const pruned = await store.prunedCounter(member.id, lowerBound);
      if (pruned !== undefined && from <= pruned) {
        throw new WeftError(
          SequencerErrors.SEQUENCER_SUBSCRIPTION_PRUNED,
          `events of ${member.member} up to counter ${pruned} were pruned (before ${lowerBound}); cannot subscribe from counter ${from}`,
          { member: member.member, prunedCounter: pruned, lowerBound },
        );
      }
    }
    const checkpoint = await store.checkpointBefore(member.id, from);
    return checkpoint
      ? { counter: checkpoint.counter, last: checkpoint.ts, readUpTo: checkpoint.ts }
      : { counter: -1n, last: undefined, readUpTo: member.registeredTs - 1n };
  }

  #event(row: EventRow, member: MemberRow, counter: bigint, previous: bigint | undefined): Uint8Array {
    const own = row.senderId === member.id;
    // Encoded as a SequencedEvent whose envelopes are the sender's bytes, copied rather than re-encoded.
    const event: EncodedSequencedEvent = {
      counter,
      timestamp: row.ts,
      previousTimestamp: previous,
      synchronizerId: this.#o.synchronizerId,
      event:
        row.kind === 'error'
          ? {
              oneofKind: 'deliverError',
              deliverError: {
                messageId: row.messageId,
                code: row.errorCode ?? '',
                reason: row.errorMessage ?? '',
              },
            }
          : {
              oneofKind: 'deliver',
              deliver: { messageId: own ? row.messageId : '', batch: this.#batchFor(row, member.id) },
            },
      traceContext:
        row.traceparent === null
          ? undefined
          : { traceparent: row.traceparent, tracestate: row.tracestate ?? '' },
    };
    return EncodedSequencedEvent.toBinary(event, FAST_WRITE_OPTIONS);
  }

  #batchFor(row: EventRow, memberId: bigint): EncodedBatch {
    let stored = this.#batches.get(row.ts);
    if (!stored) {
      stored = StoredBatch.fromBinary(row.content ?? new Uint8Array());
      if (this.#batches.size >= BATCH_CACHE_SIZE) this.#batches.delete(this.#batches.keys().next().value!);
      this.#batches.set(row.ts, stored);
    }
    return {
      envelopes: stored.envelopes
        .filter((e) => e.allMembers || e.memberIds.includes(memberId))
        .map((e) => e.envelope),
    };
  }
}
