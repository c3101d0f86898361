import { describe, expect, it } from 'vitest';
import { CommandStatuses } from './command-status.js';

const start = (s: CommandStatuses, commandId: string, started: bigint) =>
  s.start({ commandId, userId: 'u', submissionId: 's', actAs: ['alice'], commands: [], started });

describe('command statuses', () => {
  it('keeps at most `limit` per state, dropping the oldest, and lists newest first', () => {
    const s = new CommandStatuses(2);
    const progress = [1, 2, 3].map((i) => start(s, `c${i}`, BigInt(i)));
    // The oldest pending one is no longer listed; once it finishes, it is listed in its final state.
    expect(s.list({ commandIdPrefix: '', state: 'pending', limit: 10 }).map((c) => c.commandId)).toEqual([
      'c3',
      'c2',
    ]);
    progress[0]!.failed('X', 'gone', 10n);
    expect(s.list({ commandIdPrefix: '', state: 'failed', limit: 10 }).map((c) => c.commandId)).toEqual([
      'c1',
    ]);
    progress[1]!.failed('X', 'bad', 11n);
    progress[2]!.failed('X', 'bad', 12n);
    const failed = s.list({ commandIdPrefix: '', state: 'failed', limit: 10 });
    expect(failed.map((c) => [c.commandId, c.completed])).toEqual([
      ['c3', 12n],
      ['c2', 11n],
    ]);
    expect(s.list({ commandIdPrefix: '', state: 'pending', limit: 10 })).toEqual([]);
    // A finished command stays as it finished.
    progress[2]!.failed('Y', 'again', 13n);
    expect(s.list({ commandIdPrefix: 'c3', state: undefined, limit: 10 })[0]!.completion).toEqual({
      status: 'failed',
      code: 'X',
      message: 'bad',
    });
  });
});
