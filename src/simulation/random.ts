import { DeterministicRandom } from '../crypto/index.js';

/** The simulation's own decisions (delays, faults, workload), from a seeded DRBG apart from the nodes' randomness. */
export class SimRandom {
  readonly #drbg: DeterministicRandom;

  constructor(seed: string) {
    this.#drbg = new DeterministicRandom(seed);
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`cannot draw an integer below ${n}`);
    const b = this.#drbg.bytes(6);
    const x = b[0]! * 2 ** 40 + b[1]! * 2 ** 32 + b[2]! * 2 ** 24 + b[3]! * 2 ** 16 + b[4]! * 2 ** 8 + b[5]!;
    return x % n;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.int(1_000_000) < p * 1_000_000;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}
