import { describe, it } from 'vitest';
import { keepsEveryInvariant } from './testing.js';

/**
 * The correct build over many seeds, each run small (three participants, a handful of pings, at most two faults
 * of each kind). The seeds are split over two files so that both cores run them; a failure prints the line that
 * replays it (`npm run simulate -- --seed <seed> --runs 1`).
 */
describe('simulation over many seeds', () => {
  it('keeps every invariant for seeds 1 to 150', () => keepsEveryInvariant(1, 150), 600_000);
});
