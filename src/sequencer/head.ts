import type { Logger } from 'pino';
import type { Clock } from '../time/index.js';
import type { EventsBuffer } from './events-buffer.js';
import {
  type BufferedEvent,
  type Deliverability,
  deliverability,
  isDead,
  type SequencerStore,
  type WatermarkRow,
} from './store.js';

/** What readers may deliver, and who has anything new. */
export interface Head extends Deliverability {
  /** The safe watermark before this one. */
  readonly previousSafe: bigint;
  /**
   * Recipient ids (BROADCAST_RECIPIENT included) of the events in (previousSafe, safe], possibly dead ones
   * included: a reader that had read up to previousSafe and is not among them has nothing to read.
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

/** How often the head reads the watermarks: `ms` while other writers are online, `aloneMs` while none is. */
export interface HeadPolling {
  readonly ms: number;
  readonly aloneMs: number;
}

/** Recipient rows the head reads per advance of the safe watermark; more are read by the readers themselves. */
const FILL_ROWS = 2000;

/**
 * Follows the watermarks of all writers sharing the database and publishes the safe watermark, so that every
 * node delivers the same events in the same order. It polls (other nodes' writes are only visible in the
 * database), less often while no other writer is online, and re-reads at once when the local writer committed.
 * Before publishing an advance it fills the events buffer up to the new safe watermark: with the local writer's
 * events as handed over, and other writers' events read in one query, none when no other writer can have any in
 * the range.
 */
export class DeliveryHead {
  readonly #store: SequencerStore;
  readonly #buffer: EventsBuffer;
  readonly #clock: Clock;
  readonly #poll: HeadPolling;
  readonly #logger: Logger;
  /** The last reading showed the local writer online and no other: polls wait `poll.aloneMs`. */
  #alone = false;
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
    buffer: EventsBuffer,
    clock: Clock,
    poll: HeadPolling,
    logger: Logger,
    ownIndex: () => number,
    onBehind: () => void,
  ) {
    this.#store = store;
    this.#buffer = buffer;
    this.#clock = clock;
    this.#poll = poll;
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
          const ms = this.#alone ? this.#poll.aloneMs : this.#poll.ms;
          const cancel = this.#clock.schedule(ms, () => resolve());
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
    const rows = this.#capOwn(await this.#store.watermarks());
    const own = this.#ownIndex();
    this.#alone =
      rows.some((r) => r.nodeIndex === own && r.online) &&
      rows.every((r) => r.nodeIndex === own || !r.online);
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
    if (old === EMPTY) {
      // Local events up to it are read from the database, by readers behind the buffer.
      this.#buffer.takeLocal(d.safe, d.safe);
      this.#buffer.reset(d.safe);
      const lastTopology = (await this.#store.lastTopologyEventUpTo(d.safe)) ?? -1n;
      this.#head = { ...d, previousSafe: d.safe, touched: new Set(), lastTopology };
    } else {
      // The local events taken for the range are gone from the buffer's hands: a failed fill reads it again.
      const added = await this.#fill(rows, old, d).catch((e: unknown) => {
        this.#buffer.unknown(d.safe);
        throw e;
      });
      this.#head = { ...d, previousSafe: old.safe, ...added };
    }
    this.#release();
  }

  /**
   * The local writer's watermark as far as it handed its events over: a commit is visible in the database a
   * moment before the writer hands its events to the buffer, and no event may reach the safe watermark without
   * being there. Only while online: an offline writer's watermark says which of its events are dead.
   */
  #capOwn(rows: WatermarkRow[]): WatermarkRow[] {
    const own = this.#ownIndex();
    const complete = this.#buffer.localComplete;
    return rows.map((r) =>
      r.nodeIndex === own && r.online && r.watermark > complete ? { ...r, watermark: complete } : r,
    );
  }

  /** Adds the live events of (old.safe, d.safe] to the buffer; returns who they touch and the last topology. */
  async #fill(
    rows: readonly WatermarkRow[],
    old: Head,
    d: Deliverability,
  ): Promise<Pick<Head, 'touched' | 'lastTopology'>> {
    const local = this.#buffer.takeLocal(old.safe, d.safe);
    const own = this.#ownIndex();
    // The local writer's slot holds only what it handed over, unless it is offline or an earlier incarnation's
    // events may lie in the range; another slot holds nothing live in the range when it went offline below it.
    const handedOver = (r: WatermarkRow) =>
      r.nodeIndex === own && r.online && old.safe >= this.#buffer.localSince;
    const others =
      local === undefined
        ? undefined
        : rows.some((r) => (r.online || r.watermark > old.safe) && !handedOver(r))
          ? await this.#store.readEventsBetween(
              old.safe,
              d.safe,
              rows.some(handedOver) ? own : undefined,
              FILL_ROWS,
            )
          : [];
    if (local === undefined || others === undefined) {
      // Not all of the range is at hand: the buffer starts over above it, readers read the range from the database.
      this.#buffer.reset(d.safe);
      return {
        touched: new Set(await this.#store.recipientsBetween(old.safe, d.safe)),
        lastTopology: (await this.#store.lastTopologyEventUpTo(d.safe)) ?? -1n,
      };
    }
    const events = merge(
      local,
      others.filter((e) => !isDead(d, e.nodeIndex, e.ts)),
    );
    this.#buffer.append(events, d.safe);
    const touched = new Set<bigint>();
    let lastTopology = old.lastTopology;
    for (const e of events) {
      for (const r of e.recipientIds) touched.add(r);
      if (e.isTopology) lastTopology = e.ts;
    }
    return { touched, lastTopology };
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

/** The events of both in timestamp order, each once (an event the local writer handed over may be read too). */
function merge(a: readonly BufferedEvent[], b: readonly BufferedEvent[]): BufferedEvent[] {
  if (b.length === 0) return [...a];
  const byTs = new Map<bigint, BufferedEvent>();
  for (const e of b) byTs.set(e.ts, e);
  for (const e of a) byTs.set(e.ts, e);
  return [...byTs.values()].sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
}

function sameOffline(a: ReadonlyMap<number, bigint>, b: ReadonlyMap<number, bigint>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
