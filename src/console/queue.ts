import { AsyncLocalStorage } from 'node:async_hooks';
import { WeftError } from '../errors/index.js';
import { ConsoleErrors } from './errors.js';

/**
 * How many commands may wait to run. A script's loop that calls commands without awaiting them queues one per
 * iteration; beyond this it gets CONSOLE_TOO_MANY_COMMANDS instead of holding unbounded promises and requests.
 */
export const MAX_QUEUED_COMMANDS = 1000;

/** A command that failed, with the stack of its call (from which a script's line is read). */
export interface CommandFailure {
  readonly error: unknown;
  readonly callStack: string;
}

/**
 * Runs console commands one at a time, in the order they are called, so that a script's lines take effect in
 * order whether or not they await (`set_state(…)` then `connect_multi(…)`, as the seed writes them). A command
 * called from inside a running one (utils.retry_until_true's condition) runs at once, not behind it. Ctrl-C
 * cancels the running command and skips the queued ones; after a failure the queue skips the rest when asked to
 * (scripts stop at the first failed command).
 */
export class CommandQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #running: AbortController | undefined;
  /** Bumped by cancelAll: commands queued before it are skipped. */
  #generation = 0;
  readonly #inside = new AsyncLocalStorage<AbortSignal>();
  #firstFailure: CommandFailure | undefined;

  constructor(private readonly stopAfterFailure: boolean) {}

  get firstFailure(): CommandFailure | undefined {
    return this.#firstFailure;
  }

  /** Runs `command` after those called before it; its promise settles with the command. */
  run<T>(command: (signal: AbortSignal) => Promise<T>, callStack: string): Promise<T> {
    const outer = this.#inside.getStore();
    if (outer) return command(outer);
    if (this.#queued >= MAX_QUEUED_COMMANDS) {
      return Promise.reject(
        new WeftError(
          ConsoleErrors.CONSOLE_TOO_MANY_COMMANDS,
          `${MAX_QUEUED_COMMANDS} commands are waiting to run already; await results in loops`,
        ),
      );
    }
    this.#queued++;
    const generation = this.#generation;
    const result = this.#tail.then(async () => {
      this.#queued--;
      if (generation !== this.#generation) throw cancelled('skipped: an earlier command was cancelled');
      if (this.stopAfterFailure && this.#firstFailure)
        throw cancelled('skipped: an earlier command of the script failed');
      const controller = new AbortController();
      this.#running = controller;
      try {
        return await abortable(
          this.#inside.run(controller.signal, () => command(controller.signal)),
          controller.signal,
        );
      } catch (error) {
        this.#firstFailure ??= { error, callStack };
        throw error;
      } finally {
        this.#running = undefined;
      }
    });
    this.#tail = result.catch(() => undefined);
    // The caller may not await (a script line without await): its failure is reported through firstFailure.
    result.catch(() => undefined);
    return result;
  }

  /** Cancels the running command and skips the queued ones; false when nothing was running or queued. */
  cancelAll(): boolean {
    const busy = this.#running !== undefined || this.#queued > 0;
    this.#generation++;
    this.#running?.abort(cancelled('cancelled with Ctrl-C'));
    return busy;
  }

  /** Resolves once every command called so far has settled. */
  async idle(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.#tail;
      await tail;
    } while (tail !== this.#tail);
  }
}

function cancelled(why: string): WeftError {
  return new WeftError(ConsoleErrors.CONSOLE_COMMAND_CANCELLED, why);
}

/** `work`, or the signal's reason once it aborts (the request itself may still complete on the node). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
