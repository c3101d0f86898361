import {
  BROADCAST_RECIPIENT,
  type BufferedEvent,
  type EventRow,
  type MemberRow,
  type NewEvent,
} from './store.js';

/** The event as the store holds it once the writer of slot `nodeIndex` committed it. */
export function bufferedEvent(e: NewEvent, nodeIndex: number): BufferedEvent {
  return {
    ts: e.ts,
    nodeIndex,
    kind: e.kind,
    senderId: e.senderId,
    messageId: e.messageId,
    errorCode: e.errorCode ?? null,
    errorMessage: e.errorMessage ?? null,
    traceparent: e.traceparent ?? null,
    tracestate: e.tracestate ?? null,
    content: e.payload ?? null,
    recipientIds: e.recipientIds,
    isTopology: e.isTopology,
  };
}

export interface EventsBufferLimits {
  /** Events held at most; 0 turns the buffer off (every read goes to the database). */
  readonly maxEvents: number;
  /** Bytes held at most, counted by {@link eventBytes}. */
  readonly maxBytes: number;
}

/** What an event costs besides its variable fields: the row's other fields, the arrays and the bookkeeping. */
const EVENT_OVERHEAD_BYTES = 256;

/** An event's share of the buffer's byte bound. */
export function eventBytes(e: BufferedEvent): number {
  return (
    EVENT_OVERHEAD_BYTES +
    (e.content?.byteLength ?? 0) +
    8 * e.recipientIds.length +
    2 *
      (e.messageId.length +
        (e.errorMessage?.length ?? 0) +
        (e.traceparent?.length ?? 0) +
        (e.tracestate?.length ?? 0))
  );
}

/**
 * The most recent events of the total order in memory (the role of Canton's sequencer events cache), so that
 * delivery does not read back what was just written: it holds every deliverable event with `from < ts <= upTo`,
 * `upTo` being the delivery head's safe watermark. The delivery head fills it as the safe watermark advances,
 * with the events the local writer handed over after their commit and the other writers' events read from the
 * database in one query per advance; readers of members whose position is at or above `from` read it instead of
 * the database. Dead events (of an offline writer, above its watermark) are never added: their writer deletes
 * them when it rejoins, and deadness is final (see {@link isDead}), so leaving them out changes no reader's stream.
 *
 * Bounded by events and bytes: the oldest are evicted and `from` moves up; a reader behind `from` (catching up,
 * resubscribing from an old counter, restarting) reads the database as without the buffer, and joins the buffer
 * when it reaches `from`. Eviction is therefore no error. Nothing survives a restart: the buffer starts empty at
 * the first safe watermark, and everything below it is read from the database.
 */
export class EventsBuffer {
  readonly #limits: EventsBufferLimits;
  /** Ascending timestamps; the oldest at `#first` (evicted entries before it are dropped in bulk). */
  #events: BufferedEvent[] = [];
  #first = 0;
  #bytes = 0;
  #from = -1n;
  #upTo = -1n;
  /** Committed local events above `upTo`, waiting for the safe watermark. */
  #pending: BufferedEvent[] = [];
  #pendingBytes = 0;
  /** Every event the local writer committed with a timestamp up to this was handed over. */
  #localComplete = -1n;
  /** The local writer's slot may hold events up to this that it did not hand over (an earlier incarnation's). */
  #localSince = -1n;
  /** Local events up to this may be committed without having been handed over (dropped or of unknown outcome). */
  #unknownUpTo = -1n;

  constructor(limits: EventsBufferLimits) {
    this.#limits = limits;
  }

  /** Events are held from after this timestamp… */
  get from(): bigint {
    return this.#from;
  }

  /** …up to this one. */
  get upTo(): bigint {
    return this.#upTo;
  }

  get size(): number {
    return this.#events.length - this.#first;
  }

  get bytes(): number {
    return this.#bytes;
  }

  // ---- the local writer's side ---------------------------------------------------------------------------

  /**
   * The local writer (re)joined at `floor`: it hands over every event it commits from now on, all above `floor`;
   * what its slot holds up to `floor` is in the database only.
   */
  joined(floor: bigint): void {
    this.#localSince = floor;
    if (floor > this.#localComplete) this.#localComplete = floor;
  }

  /** The local writer committed `events` (ascending timestamps) with its watermark at `watermark`. */
  committed(events: readonly BufferedEvent[], watermark: bigint): void {
    for (const e of events) {
      this.#pending.push(e);
      this.#pendingBytes += eventBytes(e);
    }
    // Held back by a safe watermark that does not advance (a peer about to be marked offline): the events stay in
    // the database, and the advance that covers them reads it.
    if (this.#pending.length > this.#limits.maxEvents || this.#pendingBytes > this.#limits.maxBytes) {
      this.unknown(this.#pending[this.#pending.length - 1]!.ts);
    }
    if (watermark > this.#localComplete) this.#localComplete = watermark;
  }

  /**
   * Local events up to `upTo` may have been committed without being handed over: read them from the database.
   * The pending events are dropped, so the range covers them too.
   */
  unknown(upTo: bigint): void {
    const last = this.#pending[this.#pending.length - 1]?.ts ?? upTo;
    const to = last > upTo ? last : upTo;
    if (to > this.#unknownUpTo) this.#unknownUpTo = to;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /** The local writer's watermark as far as its events were handed over: the delivery head goes no further. */
  get localComplete(): bigint {
    return this.#localComplete;
  }

  /** See {@link joined}. */
  get localSince(): bigint {
    return this.#localSince;
  }

  /**
   * Removes and returns the local events up to `upTo`, all of them above `after`; undefined when some of those
   * may be missing (then the caller reads the database).
   */
  takeLocal(after: bigint, upTo: bigint): BufferedEvent[] | undefined {
    let n = 0;
    while (n < this.#pending.length && this.#pending[n]!.ts <= upTo) n++;
    const taken = this.#pending.splice(0, n);
    for (const e of taken) this.#pendingBytes -= eventBytes(e);
    return this.#unknownUpTo > after ? undefined : taken.filter((e) => e.ts > after);
  }

  // ---- the delivery head's side --------------------------------------------------------------------------

  /** Adds the events with `upTo` < ts <= `to` (ascending, dead ones left out) and evicts beyond the bounds. */
  append(events: readonly BufferedEvent[], to: bigint): void {
    for (const e of events) {
      this.#events.push(e);
      this.#bytes += eventBytes(e);
    }
    this.#upTo = to;
    const { maxEvents, maxBytes } = this.#limits;
    while (this.size > 0 && (this.size > maxEvents || this.#bytes > maxBytes)) this.#evictOldest();
    this.#compact();
  }

  /** Empties the buffer: it holds the events after `to` from now on. */
  reset(to: bigint): void {
    this.#events = [];
    this.#first = 0;
    this.#bytes = 0;
    this.#from = to;
    this.#upTo = to;
  }

  /** Drops the events before `before` (pruned from the database). */
  prune(before: bigint): void {
    while (this.size > 0 && this.#events[this.#first]!.ts < before) this.#evictOldest();
    if (before - 1n > this.#from) this.#from = before - 1n < this.#upTo ? before - 1n : this.#upTo;
    this.#compact();
  }

  // ---- readers' side -------------------------------------------------------------------------------------

  /**
   * As {@link SequencerStore.readEvents}: up to `limit` events of `member` with `after < ts <= upTo` (and at or
   * after its registration), in timestamp order. Undefined when the buffer does not hold that whole range.
   */
  read(member: MemberRow, after: bigint, upTo: bigint, limit: number): EventRow[] | undefined {
    const from = after >= member.registeredTs ? after : member.registeredTs - 1n;
    if (from < this.#from || upTo > this.#upTo) return undefined;
    const rows: EventRow[] = [];
    for (let i = this.#firstAbove(from); i < this.#events.length && rows.length < limit; i++) {
      const e = this.#events[i]!;
      if (e.ts > upTo) break;
      if (e.recipientIds.some((r) => r === member.id || r === BROADCAST_RECIPIENT)) rows.push(e);
    }
    return rows;
  }

  /** Index of the first held event with a timestamp above `ts`. */
  #firstAbove(ts: bigint): number {
    let lo = this.#first;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#events[mid]!.ts <= ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #evictOldest(): void {
    const e = this.#events[this.#first]!;
    this.#first++;
    this.#bytes -= eventBytes(e);
    this.#from = e.ts;
  }

  /** Drops evicted entries once they are half the array, so eviction stays amortised O(1). */
  #compact(): void {
    if (this.#first > 0 && this.#first * 2 >= this.#events.length) {
      this.#events = this.#events.slice(this.#first);
      this.#first = 0;
    }
  }
}
