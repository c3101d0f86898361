import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { type Deliverability, deliverability, type SequencerStore } from './store.js';

/** What readers may deliver, and whether there is anything new to deliver. */
export interface Head extends Deliverability {
  /** The highest event timestamp up to `safe` (possibly of a dead event); readers beyond it need not query. */
  readonly lastEvent: bigint;
}

const EMPTY: Head = { safe: -1n, offline: new Map(), lastEvent: -1n };

/**
 * Follows the watermarks of all writers sharing the database and publishes the safe watermark, so that every
 * node delivers the same events in the same order. It polls (other nodes' writes are only visible in the
 * database) and re-reads at once when the local writer committed.
 */
export class DeliveryHead {
  readonly #store: SequencerStore;
  readonly #clock: Clock;
  readonly #pollMs: number;
  readonly #logger: Logger;
  #head: Head = EMPTY;
  #waiters: (() => void)[] = [];
  #poked = false;
  #wakePoller: (() => void) | undefined;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(store: SequencerStore, clock: Clock, pollMs: number, logger: Logger) {
    this.#store = store;
    this.#clock = clock;
    this.#pollMs = pollMs;
    this.#logger = logger;
  }

  get current(): Head {
    return this.#head;
  }

  async start(): Promise<void> {
    await this.#refresh();
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wakePoller?.();
    await this.#loop;
    this.#release();
  }

  /** Re-reads the watermarks soon (the local writer committed). */
  poke(): void {
    this.#poked = true;
    this.#wakePoller?.();
  }

  /** Resolves when the head changes, or when the head is stopped. */
  changed(signal?: AbortSignal): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      if (!this.#poked) {
        await new Promise<void>((resolve) => {
          const cancel = this.#clock.schedule(this.#pollMs, () => resolve());
          this.#wakePoller = () => {
            cancel();
            resolve();
          };
        });
        this.#wakePoller = undefined;
      }
      this.#poked = false;
      if (!this.#running) return;
      await this.#refresh().catch((e) =>
        this.#logger.warn({ err: e }, 'could not read sequencer watermarks'),
      );
    }
  }

  async #refresh(): Promise<void> {
    const d = deliverability(await this.#store.watermarks());
    const lastEvent =
      d.safe === this.#head.safe ? this.#head.lastEvent : ((await this.#store.lastEventUpTo(d.safe)) ?? -1n);
    const head: Head = { ...d, lastEvent };
    if (!sameHead(head, this.#head)) {
      this.#head = head;
      this.#release();
    }
  }

  #release(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

function sameHead(a: Head, b: Head): boolean {
  if (a.safe !== b.safe || a.lastEvent !== b.lastEvent || a.offline.size !== b.offline.size) return false;
  for (const [k, v] of a.offline) if (b.offline.get(k) !== v) return false;
  return true;
}
