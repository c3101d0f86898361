import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { deferred } from '../time/index.js';
import { CommandQueue, MAX_QUEUED_COMMANDS } from './queue.js';

const code = (e: unknown) => (isWeftError(e) ? e.code : String(e));

describe('the command queue', () => {
  it('runs commands in call order, one at a time; a command called inside a running one runs at once', async () => {
    const queue = new CommandQueue(false);
    const log: string[] = [];
    const slow = deferred<void>();
    const first = queue.run(async () => {
      log.push('first starts');
      await slow.promise;
      log.push('first ends');
    }, '');
    const second = queue.run(async () => {
      log.push('second');
      // As utils.retry_until_true calls its condition's command: not behind itself.
      return queue.run(async () => 'nested', '');
    }, '');
    await Promise.resolve();
    expect(log).toEqual(['first starts']);
    slow.resolve();
    await first;
    expect(await second).toBe('nested');
    expect(log).toEqual(['first starts', 'first ends', 'second']);
  });

  it('Ctrl-C cancels the running command and skips the queued ones; later commands run', async () => {
    const queue = new CommandQueue(false);
    expect(queue.cancelAll()).toBe(false);
    let aborted = false;
    const running = queue.run(
      (signal) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
      '',
    );
    const queued = queue.run(async () => 'never', '');
    await Promise.resolve();
    expect(queue.cancelAll()).toBe(true);
    await expect(running).rejects.toThrow(/cancelled with Ctrl-C/);
    await expect(queued).rejects.toThrow(/skipped: an earlier command was cancelled/);
    expect(aborted).toBe(true);
    expect(await queue.run(async () => 'after', '')).toBe('after');
  });

  it("after a failure, a script's queue skips the rest and keeps the first failure with its call", async () => {
    const queue = new CommandQueue(true);
    const failing = queue.run(async () => {
      throw new Error('boom');
    }, 'at script.js:3:1');
    const skipped = queue.run(async () => 'never', 'at script.js:4:1');
    await expect(failing).rejects.toThrow('boom');
    await expect(skipped).rejects.toThrow(/skipped: an earlier command of the script failed/);
    await queue.idle();
    expect(queue.firstFailure?.callStack).toBe('at script.js:3:1');
    expect(queue.firstFailure!.error).toBeInstanceOf(Error);
    expect((queue.firstFailure!.error as Error).message).toBe('boom');
  });

  it(`refuses more than ${MAX_QUEUED_COMMANDS} waiting commands`, async () => {
    const queue = new CommandQueue(false);
    const gate = deferred<void>();
    const waiting = Array.from({ length: MAX_QUEUED_COMMANDS }, () => queue.run(() => gate.promise, ''));
    const refused = await queue.run(async () => undefined, '').catch((e: unknown) => e);
    expect(code(refused)).toBe('CONSOLE_TOO_MANY_COMMANDS');
    gate.resolve();
    await Promise.all(waiting);
  });
});
