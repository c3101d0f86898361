import { describe, expect, it } from 'vitest';
import { runSimulation } from './index.js';

/**
 * The correct build over many seeds, each run small (three participants, a handful of pings, one fault of each
 * kind at most). A failure names the seed; `npm run simulate -- --seed <seed> --runs 1 --trace` replays it.
 */
const SEEDS = 100;

describe('simulation over many seeds', () => {
  it(`keeps every invariant for seeds 1 to ${SEEDS}`, async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSimulation({ seed });
      for (const v of r.violations) failures.push(`seed ${seed}: ${v.invariant}: ${v.detail}`);
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
