/**
 * Sequencing timestamps of one writer: strictly increasing, never below the clock, and all congruent to the
 * writer's node index modulo the total node count, so writers sharing a database never produce the same
 * timestamp without coordinating.
 */
export class PartitionedTimestamps {
  readonly #index: bigint;
  readonly #total: bigint;
  #last: bigint;

  constructor(nodeIndex: number, totalNodeCount: number, floor: bigint) {
    if (!Number.isInteger(nodeIndex) || nodeIndex < 0 || nodeIndex >= totalNodeCount) {
      throw new RangeError(`node index ${nodeIndex} is not in 0..${totalNodeCount - 1}`);
    }
    this.#index = BigInt(nodeIndex);
    this.#total = BigInt(totalNodeCount);
    this.#last = floor;
  }

  /** The last timestamp handed out (or the floor): every later one is greater. */
  get last(): bigint {
    return this.#last;
  }

  /** The next timestamp at or after `now`. */
  next(now: bigint): bigint {
    const candidate = now > this.#last ? now : this.#last + 1n;
    const offset = (((this.#index - candidate) % this.#total) + this.#total) % this.#total;
    this.#last = candidate + offset;
    return this.#last;
  }
}
