import { expect } from 'vitest';
import type { Completion } from '../../src/participant/index.js';

export { rejection as failure } from '../../src/sequencer/testing.js';

/** Expects a successful completion (showing the code and message of a failed one); returns it. */
export function succeeded(c: Completion): Completion {
  expect({ status: c.status, code: c.code, message: c.message }).toEqual({
    status: 'succeeded',
    code: undefined,
    message: '',
  });
  return c;
}
