import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { type Clock, realTime } from '../time/index.js';

/**
 * The checkpoint thread: a second connection to the same database file that runs a PASSIVE checkpoint whenever it
 * is asked. Plain CommonJS evaluated in the worker, so that it runs the same under the compiled build and under tsx
 * and vitest (a worker file would need their loaders); `driver` is better-sqlite3's resolved entry point.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ frames: r.log, copied: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
  }
});
`;

/** How long closing waits for the thread to close its connection before terminating it. */
const CLOSE_TIMEOUT_MS = 2_000;

export interface CheckpointerOptions {
  /** The database file (WAL mode). */
  readonly path: string;
  /** Times the wait for the thread to close (its real time: static time must not hold a close up forever). */
  readonly clock: Clock;
  /** Called once if the thread fails or exits on its own: checkpoints must go back to the writer's connection. */
  readonly onFailure: (reason: string) => void;
}

/**
 * Checkpoints a SQLite WAL on a thread of its own. A checkpoint copies the WAL's pages into the database file and
 * syncs both files; run by SQLite's autocheckpoint it happens inside the COMMIT that crosses the threshold, on the
 * event loop, which then stalls for several milliseconds (docs/storage.md, "Checkpoints"). A PASSIVE checkpoint
 * never waits for or blocks the writer; once it has copied the whole WAL, the writer's next transaction starts the
 * WAL from its beginning again, so it stays small. Under a steady stream of commits it never catches up on its own:
 * the writer therefore holds its writes back (not the event loop) for a last short checkpoint of what came in
 * meanwhile (see the SQLite driver).
 */
export class Checkpointer {
  readonly #worker: Worker;
  /** Who awaits the answers to the checkpoints asked for, in order. */
  #answers: ((complete: boolean) => void)[] = [];
  #failed = false;
  #exited = false;
  #closing: Promise<void> | undefined;
  readonly #clock: Clock;

  constructor(options: CheckpointerOptions) {
    this.#clock = realTime(options.clock);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { path: options.path, driver } });
    // Never what keeps a process alive: a node that dies without closing its storage leaves nothing to finish.
    this.#worker.unref();
    const fail = (reason: string) => {
      for (const answer of this.#answers.splice(0)) answer(false);
      if (this.#failed || this.#closing) return;
      this.#failed = true;
      options.onFailure(reason);
    };
    this.#worker.on('message', (m: { frames: number; copied: number } | { error: string }) => {
      if ('error' in m) fail(`a WAL checkpoint failed: ${m.error}`);
      this.#answers.shift()?.(!('error' in m) && m.copied === m.frames);
    });
    this.#worker.on('error', (e) => fail(`the checkpoint thread failed: ${e.message}`));
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      fail(`the checkpoint thread exited (${code})`);
    });
  }

  /**
   * Checkpoints what the WAL holds now; resolves with whether every frame is in the database file (the writer's
   * next transaction then starts the WAL afresh), false too when the thread failed or is closing.
   */
  run(): Promise<boolean> {
    if (this.#failed || this.#closing) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#answers.push(resolve);
      this.#worker.postMessage('check');
    });
  }

  /** Closes the thread's connection and ends the thread. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#exited) return resolve();
      const cancel = this.#clock.schedule(CLOSE_TIMEOUT_MS, () => void this.#worker.terminate());
      // The exit handler above has answered what was asked already.
      this.#worker.once('exit', () => {
        cancel();
        resolve();
      });
      this.#worker.postMessage('close');
    });
    return this.#closing;
  }
}
