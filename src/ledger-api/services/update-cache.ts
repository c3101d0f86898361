import type { TransactionFormat } from './formats.js';

/**
 * The GetUpdates responses already encoded for one transaction format, over a contiguous offset range: every
 * update in `(from, to]` that the format selects, in offset order. A stream starting inside the range serves its
 * responses from here without reading, decoding or encoding again; past `to` it reads and extends the run.
 */
interface Run {
  readonly from: bigint;
  to: bigint;
  readonly offsets: bigint[];
  readonly responses: Uint8Array[];
  bytes: number;
  /** For eviction: the last time (a counter) a stream used the run. */
  used: number;
}

/** Accounted per cached response besides its bytes (the array slots, the typed array object). */
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * Encoded GetUpdates responses by transaction format, shared by the streams of every client: a client catching
 * up from offset 0 reads the ledger the way an earlier client with the same format already read it, as bytes:
 * no database read, selection or assembly of the participant's pre-encoded events (~30 µs per update; ~130 µs
 * where a transaction is decoded and encoded instead), only a copy to the transport. What a format selects at an
 * offset never changes (the ledger is append-only; pruned offsets are refused before a stream starts), so
 * entries never go stale; they only go for space: at most `maxBytes` in all and `maxFormats` runs, the least
 * recently used run first.
 */
export class EncodedUpdateCache {
  readonly #runs = new Map<string, Run>();
  #bytes = 0;
  #clock = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxFormats: number,
  ) {}

  /** The bytes held now (responses and their accounting overhead). */
  get bytes(): number {
    return this.#bytes;
  }

  /** A cursor for one stream of `format` starting after offset `after`. */
  cursor(format: TransactionFormat, after: bigint): UpdateCacheCursor {
    return new UpdateCacheCursor(this, formatKey(format), after);
  }

  /** The cached responses after `after` and the offset they cover up to, if the run of `key` covers `after`. */
  read(
    key: string,
    after: bigint,
  ): { offsets: bigint[]; responses: Uint8Array[]; start: number; to: bigint } | undefined {
    const run = this.#runs.get(key);
    if (!run || after < run.from || after > run.to) return undefined;
    run.used = ++this.#clock;
    return {
      offsets: run.offsets,
      responses: run.responses,
      start: firstAfter(run.offsets, after),
      to: run.to,
    };
  }

  /**
   * Records that the format selects nothing in `(position, offset)` and `response` at `offset` (none: only that
   * nothing up to `offset` was selected). Extends the run that ends at `position`, or starts one there if the
   * format has none; does nothing if another stream moved the run elsewhere or the bytes would not fit. Returns
   * the bytes kept (a copy where the encoder's output is a view of a larger buffer), or `response` when not kept.
   */
  extend<R extends Uint8Array | undefined>(key: string, position: bigint, offset: bigint, response: R): R {
    if (this.maxBytes === 0) return response;
    let run = this.#runs.get(key);
    if (run && run.to !== position) return response;
    const size = response ? response.byteLength + ENTRY_OVERHEAD_BYTES : 0;
    if (!run) {
      run = { from: position, to: position, offsets: [], responses: [], bytes: 0, used: ++this.#clock };
      this.#runs.set(key, run);
      this.#evict(run);
    }
    if (size > 0 && !this.#makeRoom(size, run)) return response;
    run.to = offset;
    if (!response) return response;
    const kept = (ownsBuffer(response) ? response : Uint8Array.prototype.slice.call(response)) as R &
      Uint8Array;
    run.offsets.push(offset);
    run.responses.push(kept);
    run.bytes += size;
    this.#bytes += size;
    return kept;
  }

  /** Frees `size` bytes, evicting runs other than `keep` by least recent use; false if that is not enough. */
  #makeRoom(size: number, keep: Run): boolean {
    if (this.#bytes + size <= this.maxBytes) return true;
    const others = [...this.#runs].filter(([, r]) => r !== keep).sort(([, a], [, b]) => a.used - b.used);
    for (const [key, run] of others) {
      if (this.#bytes + size <= this.maxBytes) break;
      this.#drop(key, run);
    }
    return this.#bytes + size <= this.maxBytes;
  }

  /** Keeps at most `maxFormats` runs, dropping the least recently used other than `keep`. */
  #evict(keep: Run): void {
    while (this.#runs.size > this.maxFormats) {
      let oldest: [string, Run] | undefined;
      for (const entry of this.#runs) {
        if (entry[1] !== keep && (!oldest || entry[1].used < oldest[1].used)) oldest = entry;
      }
      if (!oldest) return;
      this.#drop(...oldest);
    }
  }

  #drop(key: string, run: Run): void {
    this.#runs.delete(key);
    this.#bytes -= run.bytes;
  }
}

/**
 * One stream's view of the cache: `take` serves what the cache covers from the stream's position, `record` adds
 * what the stream read past it.
 */
export class UpdateCacheCursor {
  constructor(
    private readonly cache: EncodedUpdateCache,
    private readonly key: string,
    /** Everything up to here was delivered (or skipped as not selected). */
    public position: bigint,
  ) {}

  /**
   * Up to `max` cached responses after the position up to `end` (inclusive; none: as far as cached), moving the
   * position past them (to the end of the covered range once it is exhausted). Empty when nothing more is cached.
   */
  take(end: bigint | undefined, max: number): Uint8Array[] {
    const hit = this.cache.read(this.key, this.position);
    if (!hit) return [];
    const upTo = end !== undefined && end < hit.to ? end : hit.to;
    const out: Uint8Array[] = [];
    let i = hit.start;
    while (out.length < max && i < hit.offsets.length && hit.offsets[i]! <= upTo)
      out.push(hit.responses[i++]!);
    this.position = out.length === max ? hit.offsets[i - 1]! : upTo;
    return out;
  }

  /**
   * The stream read up to `offset` and delivers `response` there (none: nothing selected up to `offset`); the
   * bytes to deliver, the cache's own copy if it kept them.
   */
  record<R extends Uint8Array | undefined>(offset: bigint, response: R): R {
    const kept = this.cache.extend(this.key, this.position, offset, response);
    this.position = offset;
    return kept;
  }
}

/** Whether `bytes` is all of its buffer (keeping it keeps nothing else alive). */
function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** The first index of `offsets` (ascending) above `after`. */
function firstAfter(offsets: readonly bigint[], after: bigint): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Formats that select and present the same events get the same key (the parties in any order). */
export function formatKey(format: TransactionFormat): string {
  const e = format.eventFormat;
  const byParty = [...e.byParty].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([format.shape, e.verbose, e.anyParty ?? null, byParty]);
}
