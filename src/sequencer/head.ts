import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';
import { type Deliverability, deliverability, type SequencerStore, type WatermarkRow } from './store.js';

/** What readers may deliver, and who has anything new. */
export interface Head extends Deliverability {
  /** The safe watermark before this one. */
  readonly previousSafe: bigint;
  /**
   * Recipient ids (BROADCAST_RECIPIENT included) of the events in (previousSafe, safe], dead ones included: a
   * reader that had read up to previousSafe and is not among them has nothing to read.
   */
  readonly touched: ReadonlySet<bigint>;
  /** The latest topology broadcast up to `safe` (possibly a dead one). */
  readonly lastTopology: bigint;
}

const EMPTY: Head = {
  safe: -1n,
  previousSafe: -1n,
  offline: new Map(),
  touched: new Set(),
  lastTopology: -1n,
};

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

  readonly #ownIndex: () => number;
  readonly #onBehind: () => void;

  /**
   * `ownIndex` is the local writer's slot; `onBehind` is called when the local writer's watermark is the one
   * holding back events that other writers committed above it.
   */
  constructor(
    store: SequencerStore,
    clock: Clock,
    pollMs: number,
    logger: Logger,
    ownIndex: () => number,
    onBehind: () => void,
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#pollMs = pollMs;
    this.#logger = logger;
    this.#ownIndex = ownIndex;
    this.#onBehind = onBehind;
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
    const rows = await this.#store.watermarks();
    const d = deliverability(rows);
    await this.#checkBehind(rows, d.safe);
    const old = this.#head;
    if (d.safe === old.safe) {
      if (!sameOffline(d.offline, old.offline)) {
        this.#head = { ...old, offline: d.offline };
        this.#release();
      }
      return;
    }
    // The first reading says nothing about who is touched: every reader is behind it and reads.
    const first = old === EMPTY;
    const touched = first
      ? new Set<bigint>()
      : new Set(await this.#store.recipientsBetween(old.safe, d.safe));
    const lastTopology = (await this.#store.lastTopologyEventUpTo(d.safe)) ?? -1n;
    this.#head = { ...d, previousSafe: first ? d.safe : old.safe, touched, lastTopology };
    this.#release();
  }

  /**
   * An idle writer advances its watermark only every keep-alive interval, which would hold back events of busier
   * writers that long. When the local writer is the minimum and events wait above it, it advances at once. Only
   * the minimum does, so the writers do not keep advancing each other.
   */
  async #checkBehind(rows: readonly WatermarkRow[], safe: bigint): Promise<void> {
    const own = rows.find((r) => r.nodeIndex === this.#ownIndex());
    if (!own?.online || own.watermark !== safe) return;
    if (!rows.some((r) => r.online && r.watermark > safe)) return;
    if (await this.#store.hasEventAbove(safe)) this.#onBehind();
  }

  #release(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

function sameOffline(a: ReadonlyMap<number, bigint>, b: ReadonlyMap<number, bigint>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
