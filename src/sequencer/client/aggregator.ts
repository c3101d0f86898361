import { bytesEqual } from '../../crypto/bytes.js';
import { WeftError } from '../../errors/index.js';
import { SequencerErrors } from '../errors.js';

/** One sequencer's copy of an event, with what the caller keeps alongside (e.g. the signed bytes). */
export interface Vote<T> {
  readonly sequencerId: string;
  readonly value: T;
}

/** An event `threshold` sequencers delivered identically. */
export interface Agreed<T> {
  readonly counter: bigint;
  readonly content: Uint8Array;
  /** The first `threshold` sequencers that delivered it, in arrival order. */
  readonly votes: readonly Vote<T>[];
}

/** A sequencer delivered an event that differs from another copy of the same counter. */
export interface Disagreement {
  readonly counter: bigint;
  readonly sequencerId: string;
  /** `differs`: from another sequencer's; `equivocates`: from its own earlier copy (which keeps counting). */
  readonly kind: 'differs' | 'equivocates';
  /** The sequencers behind each distinct event of the counter. */
  readonly candidates: readonly (readonly string[])[];
}

export interface AggregatorOptions {
  /** Identical copies needed before an event is delivered (Canton's sequencer trust threshold). */
  readonly threshold: number;
  /** How many distinct sequencers may deliver events. */
  readonly sequencers: number;
  /** The counter to deliver first. */
  readonly next: bigint;
  readonly onDisagreement?: (d: Disagreement) => void;
}

interface Candidate<T> {
  readonly content: Uint8Array;
  readonly votes: Vote<T>[];
}

interface Entry<T> {
  readonly candidates: Candidate<T>[];
  /** Which candidate each sequencer voted for. */
  readonly voted: Map<string, Candidate<T>>;
}

/**
 * Canton's SequencerAggregator: fed each sequencer's events of one member's stream, it releases every counter once,
 * in counter order, when `threshold` distinct sequencers delivered byte-identical events for it. A sequencer may
 * run ahead of or behind the others; copies of counters already released are dropped, so memory holds only the
 * counters between the next one and the furthest any sequencer got. When a counter can no longer reach the
 * threshold (the sequencers disagree, or too few remain), it fails with SEQUENCER_AGGREGATION_FAILED.
 */
export class SequencerAggregator<T> {
  readonly threshold: number;
  readonly #onDisagreement: ((d: Disagreement) => void) | undefined;
  #sequencers: number;
  #next: bigint;
  /** The first counter without agreement yet (counters from `next` below it are agreed). */
  #agreedUpTo: bigint;
  readonly #entries = new Map<bigint, Entry<T>>();
  readonly #excluded = new Set<string>();

  constructor(o: AggregatorOptions) {
    if (!Number.isInteger(o.threshold) || o.threshold < 1 || o.threshold > o.sequencers) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_CONNECTIONS_INVALID,
        `the sequencer trust threshold must be between 1 and the number of sequencers (${o.sequencers}), not ${o.threshold}`,
      );
    }
    this.threshold = o.threshold;
    this.#sequencers = o.sequencers;
    this.#next = o.next;
    this.#agreedUpTo = o.next;
    this.#onDisagreement = o.onDisagreement;
  }

  /** The counter released next. */
  get next(): bigint {
    return this.#next;
  }

  /** Counters held: from the next one to the furthest any sequencer delivered. */
  get pending(): number {
    return this.#entries.size;
  }

  /** Sequencers that may still deliver. */
  get sequencers(): number {
    return this.#sequencers;
  }

  /**
   * Counts `sequencerId`'s event for `counter`. Copies of released counters, repeats of the same copy, and events of
   * excluded sequencers are ignored; a copy that differs from the others is reported and counts only for itself.
   */
  offer(sequencerId: string, counter: bigint, content: Uint8Array, value: T): void {
    if (counter < this.#next || this.#excluded.has(sequencerId)) return;
    let entry = this.#entries.get(counter);
    if (!entry) {
      entry = { candidates: [], voted: new Map() };
      this.#entries.set(counter, entry);
    }
    const own = entry.voted.get(sequencerId);
    if (own) {
      if (!bytesEqual(own.content, content)) this.#report(counter, sequencerId, 'equivocates', entry);
      return;
    }
    let candidate = entry.candidates.find((c) => bytesEqual(c.content, content));
    if (!candidate) {
      candidate = { content, votes: [] };
      entry.candidates.push(candidate);
    }
    candidate.votes.push({ sequencerId, value });
    entry.voted.set(sequencerId, candidate);
    if (entry.candidates.length > 1) {
      this.#report(counter, sequencerId, 'differs', entry);
      this.#checkReachable(counter, entry);
    }
    this.#advance();
  }

  /** The next counter's event, once agreed; it stays until {@link take}n. */
  peek(): Agreed<T> | undefined {
    if (this.#next >= this.#agreedUpTo) return undefined;
    const counter = this.#next;
    const candidate = this.#agreed(this.#entries.get(counter)!)!;
    return { counter, content: candidate.content, votes: candidate.votes.slice(0, this.threshold) };
  }

  /** Releases the next counter's agreed event and forgets everything about that counter. */
  take(): Agreed<T> | undefined {
    const agreed = this.peek();
    if (agreed) {
      this.#entries.delete(agreed.counter);
      this.#next++;
    }
    return agreed;
  }

  /** The last agreed counter's event while it is not taken yet (the agreed run from `next` may be longer). */
  latest(): Agreed<T> | undefined {
    if (this.#next >= this.#agreedUpTo) return undefined;
    const counter = this.#agreedUpTo - 1n;
    const candidate = this.#agreed(this.#entries.get(counter)!)!;
    return { counter, content: candidate.content, votes: candidate.votes.slice(0, this.threshold) };
  }

  /**
   * One sequencer can no longer be trusted or reached (its connection was given up). With its id, its copies stop
   * counting, including those not yet released. Fails when the threshold can no longer be reached.
   */
  exclude(sequencerId: string | undefined): void {
    if (sequencerId !== undefined) {
      if (this.#excluded.has(sequencerId)) return;
      this.#excluded.add(sequencerId);
      for (const entry of this.#entries.values()) {
        const candidate = entry.voted.get(sequencerId);
        if (!candidate) continue;
        entry.voted.delete(sequencerId);
        candidate.votes.splice(
          candidate.votes.findIndex((v) => v.sequencerId === sequencerId),
          1,
        );
        if (candidate.votes.length === 0) entry.candidates.splice(entry.candidates.indexOf(candidate), 1);
      }
    }
    this.#sequencers--;
    if (this.#sequencers < this.threshold) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_AGGREGATION_FAILED,
        `only ${this.#sequencers} sequencer(s) remain, fewer than the trust threshold ${this.threshold}`,
        { threshold: this.threshold, sequencers: this.#sequencers },
      );
    }
    this.#agreedUpTo = this.#next;
    for (const [counter, entry] of this.#entries) this.#checkReachable(counter, entry);
    this.#advance();
  }

  #agreed(entry: Entry<T>): Candidate<T> | undefined {
    return entry.candidates.find((c) => c.votes.length >= this.threshold);
  }

  #advance(): void {
    for (;;) {
      const entry = this.#entries.get(this.#agreedUpTo);
      if (!entry || !this.#agreed(entry)) return;
      this.#agreedUpTo++;
    }
  }

  /** Fails when no event of `counter` can gather the threshold even if every sequencer still to deliver agrees. */
  #checkReachable(counter: bigint, entry: Entry<T>): void {
    const best = Math.max(0, ...entry.candidates.map((c) => c.votes.length));
    if (best + (this.#sequencers - entry.voted.size) >= this.threshold) return;
    throw new WeftError(
      SequencerErrors.SEQUENCER_AGGREGATION_FAILED,
      `the sequencers disagree on event ${counter}: ${describe(entry)}; no event can reach the trust threshold ${this.threshold} of ${this.#sequencers} sequencer(s)`,
      { counter, threshold: this.threshold },
    );
  }

  #report(counter: bigint, sequencerId: string, kind: Disagreement['kind'], entry: Entry<T>): void {
    this.#onDisagreement?.({
      counter,
      sequencerId,
      kind,
      candidates: entry.candidates.map((c) => c.votes.map((v) => v.sequencerId)),
    });
  }
}

function describe<T>(entry: Entry<T>): string {
  return entry.candidates.map((c) => `[${c.votes.map((v) => v.sequencerId).join(', ')}]`).join(' vs ');
}
