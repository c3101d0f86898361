import { createHash } from 'node:crypto';

/** Upper bound on the trace lines kept: a run is small, a runaway loop must not eat the memory. */
const MAX_TRACE = 200_000;

/**
 * What happened in a run, in order, with the simulated time: the same seed gives the same lines, so the hash of the
 * trace tells two runs apart.
 */
export class Trace {
  readonly lines: string[] = [];
  #dropped = 0;

  constructor(private readonly now: () => bigint) {}

  add(what: string): void {
    if (this.lines.length >= MAX_TRACE) {
      this.#dropped++;
      return;
    }
    this.lines.push(`${this.now()} ${what}`);
  }

  /** SHA-256 of the lines (and of how many were dropped). */
  hash(): string {
    const h = createHash('sha256');
    for (const line of this.lines) h.update(line).update('\n');
    h.update(`dropped ${this.#dropped}`);
    return h.digest('hex');
  }
}
