import { describe, it } from 'vitest';
import { keepsEveryInvariant } from './testing.js';

/** The second half of the seeds of seeds.test.ts, in its own file so that the other core runs it. */
describe('simulation over many seeds, continued', () => {
  it('keeps every invariant for seeds 151 to 300', () => keepsEveryInvariant(151, 150), 600_000);
});
