import { describe, expect, it } from 'vitest';
import { WILDCARD_FILTER } from '../../participant/read-model.js';
import type { TransactionFormat } from './formats.js';
import { EncodedUpdateCache } from './update-cache.js';

const format = (parties: string[]): TransactionFormat => ({
  eventFormat: {
    byParty: new Map(parties.map((p) => [p, WILDCARD_FILTER])),
    anyParty: undefined,
    verbose: true,
  },
  shape: 'acs-delta',
});
const bytes = (offset: number) => new Uint8Array(100).fill(offset);

/** Fills the cache for `f` as a stream from offset 0 would: responses at the even offsets up to `upTo`. */
function fill(cache: EncodedUpdateCache, f: TransactionFormat, upTo: number): void {
  const cursor = cache.cursor(f, 0n);
  for (let o = 1; o <= upTo; o++) cursor.record(BigInt(o), o % 2 === 0 ? bytes(o) : undefined);
}

function drain(
  cache: EncodedUpdateCache,
  f: TransactionFormat,
  after: bigint,
  end: bigint | undefined,
  max: number,
) {
  const cursor = cache.cursor(f, after);
  const out: number[] = [];
  for (let batch = cursor.take(end, max); batch.length > 0; batch = cursor.take(end, max)) {
    expect(batch.length).toBeLessThanOrEqual(max);
    out.push(...batch.map((b) => b[0]!));
  }
  return { offsets: out, position: cursor.position };
}

describe('EncodedUpdateCache', () => {
  it('serves the recorded responses after any offset, in batches, up to an end', () => {
    const cache = new EncodedUpdateCache(1024 * 1024, 4);
    fill(cache, format(['b', 'a']), 21);
    // The parties' order does not matter.
    const f = format(['a', 'b']);
    expect(drain(cache, f, 0n, undefined, 3)).toEqual({
      offsets: [2, 4, 6, 8, 10, 12, 14, 16, 18, 20],
      position: 21n,
    });
    expect(drain(cache, f, 5n, 12n, 2)).toEqual({ offsets: [6, 8, 10, 12], position: 12n });
    expect(drain(cache, f, 20n, undefined, 2)).toEqual({ offsets: [], position: 21n });
    // Past the covered range, or another format: nothing, and the position stays.
    expect(drain(cache, f, 22n, undefined, 2)).toEqual({ offsets: [], position: 22n });
    expect(drain(cache, format(['a']), 0n, undefined, 2)).toEqual({ offsets: [], position: 0n });
  });

  it('extends a run only from its end, and keeps within its bytes and formats', () => {
    const cache = new EncodedUpdateCache(10 * (100 + 96), 2);
    const f = format(['a']);
    fill(cache, f, 10);
    // A stream elsewhere does not extend the run.
    const elsewhere = cache.cursor(f, 30n);
    elsewhere.record(32n, bytes(32));
    expect(drain(cache, f, 0n, undefined, 100).position).toBe(10n);
    // Growing past the bytes stops the run where it fit.
    fill(cache, f, 40);
    expect(cache.bytes).toBeLessThanOrEqual(10 * (100 + 96));
    expect(drain(cache, f, 0n, undefined, 100).offsets).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    // A second and third format: the least recently used run goes.
    fill(cache, format(['b']), 4);
    fill(cache, format(['c']), 4);
    expect(drain(cache, f, 0n, undefined, 100).offsets).toEqual([]);
    expect(drain(cache, format(['c']), 0n, undefined, 100).offsets).toEqual([2, 4]);
  });
});
