import { WeftError } from '../errors/index.js';
import {
  type Migration,
  type Queryable,
  type SqlValue,
  type Storage,
  StorageErrors,
} from '../storage/index.js';
import { SequencerErrors } from './errors.js';

/** The recipient id of events addressed to all members (member ids start at 1). */
export const BROADCAST_RECIPIENT = 0n;

export const SEQUENCER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sequencer tables',
    up: [
      `CREATE TABLE sequencer_settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)`,
      `CREATE TABLE sequencer_members (
        id BIGINT NOT NULL PRIMARY KEY,
        member TEXT NOT NULL UNIQUE,
        registered_ts BIGINT NOT NULL
      )`,
      // Written first; the id is the timestamp of the event that delivers it.
      `CREATE TABLE sequencer_payloads (
        id BIGINT NOT NULL PRIMARY KEY,
        node_index INTEGER NOT NULL,
        content BYTEA NOT NULL
      )`,
      `CREATE INDEX sequencer_payloads_node ON sequencer_payloads (node_index, id)`,
      `CREATE TABLE sequencer_events (
        ts BIGINT NOT NULL PRIMARY KEY,
        node_index INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('deliver', 'error')),
        sender_id BIGINT NOT NULL,
        message_id TEXT NOT NULL,
        is_topology BOOLEAN NOT NULL,
        error_code TEXT,
        error_message TEXT,
        traceparent TEXT,
        tracestate TEXT,
        UNIQUE (message_id, sender_id)
      )`,
      `CREATE INDEX sequencer_events_node ON sequencer_events (node_index, ts)`,
      `CREATE INDEX sequencer_events_topology ON sequencer_events (is_topology, ts)`,
      // One row per member an event goes to (its recipients and its sender), or one BROADCAST_RECIPIENT row.
      `CREATE TABLE sequencer_event_recipients (
        recipient_id BIGINT NOT NULL,
        ts BIGINT NOT NULL,
        node_index INTEGER NOT NULL,
        PRIMARY KEY (recipient_id, ts)
      )`,
      `CREATE INDEX sequencer_event_recipients_node ON sequencer_event_recipients (node_index, ts)`,
      `CREATE INDEX sequencer_event_recipients_ts ON sequencer_event_recipients (ts)`,
      `CREATE TABLE sequencer_watermarks (
        node_index INTEGER NOT NULL PRIMARY KEY,
        watermark_ts BIGINT NOT NULL,
        online BOOLEAN NOT NULL,
        owner TEXT NOT NULL,
        node_name TEXT NOT NULL
      )`,
      `CREATE TABLE sequencer_acknowledgements (member_id BIGINT NOT NULL PRIMARY KEY, ts BIGINT NOT NULL)`,
      // (counter, ts) of some of a member's events, so a subscription need not count from the beginning.
      `CREATE TABLE sequencer_counter_checkpoints (
        member_id BIGINT NOT NULL,
        counter BIGINT NOT NULL,
        ts BIGINT NOT NULL,
        PRIMARY KEY (member_id, counter)
      )`,
      `CREATE TABLE sequencer_lower_bound (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), ts BIGINT NOT NULL)`,
    ],
  },
];

export interface WatermarkRow {
  readonly nodeIndex: number;
  readonly watermark: bigint;
  readonly online: boolean;
  readonly owner: string;
  readonly nodeName: string;
}

export interface MemberRow {
  readonly id: bigint;
  readonly member: string;
  readonly registeredTs: bigint;
}

/** An event as a writer hands it to the store. */
export interface NewEvent {
  readonly ts: bigint;
  readonly kind: 'deliver' | 'error';
  readonly senderId: bigint;
  readonly messageId: string;
  readonly isTopology: boolean;
  /** An encoded StoredBatch, for deliver events. */
  readonly payload?: Uint8Array;
  /** Member ids the event goes to (the sender included), or just BROADCAST_RECIPIENT. */
  readonly recipientIds: readonly bigint[];
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface EventRow {
  readonly ts: bigint;
  readonly nodeIndex: number;
  readonly kind: 'deliver' | 'error';
  readonly senderId: bigint;
  readonly messageId: string;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly traceparent: string | null;
  readonly tracestate: string | null;
  readonly content: Uint8Array | null;
}

/** An event as the events buffer holds it: the stored row and the members it goes to. */
export interface BufferedEvent extends EventRow {
  /** Member ids the event goes to (the sender included), or just BROADCAST_RECIPIENT. */
  readonly recipientIds: readonly bigint[];
  readonly isTopology: boolean;
}

interface RawEventRow {
  ts: bigint;
  node_index: bigint;
  kind: 'deliver' | 'error';
  sender_id: bigint;
  message_id: string;
  error_code: string | null;
  error_message: string | null;
  traceparent: string | null;
  tracestate: string | null;
  content: Uint8Array | null;
}

/**
 * Which delivered-looking rows are not deliverable: those of an offline writer above its last watermark, which it
 * never confirmed and deletes when it rejoins.
 */
export interface Deliverability {
  /** Events up to this timestamp are final: the minimum watermark of the online writers. */
  readonly safe: bigint;
  /** Watermarks of offline writers: their events above it are dead. */
  readonly offline: ReadonlyMap<number, bigint>;
}

export function isDead(d: Deliverability, nodeIndex: number, ts: bigint): boolean {
  const wm = d.offline.get(nodeIndex);
  return wm !== undefined && ts > wm;
}

/** The deliverability implied by the watermark rows. */
export function deliverability(rows: readonly WatermarkRow[]): Deliverability {
  const offline = new Map<number, bigint>();
  let safe: bigint | undefined;
  let highest = -1n;
  for (const r of rows) {
    if (r.watermark > highest) highest = r.watermark;
    if (!r.online) offline.set(r.nodeIndex, r.watermark);
    else if (safe === undefined || r.watermark < safe) safe = r.watermark;
  }
  // With no writer online nothing new can appear below the highest watermark: a writer rejoins above it.
  return { safe: safe ?? highest, offline };
}

const toEvent = (r: RawEventRow): EventRow => ({
  ts: r.ts,
  nodeIndex: Number(r.node_index),
  kind: r.kind,
  senderId: r.sender_id,
  messageId: r.message_id,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  traceparent: r.traceparent,
  tracestate: r.tracestate,
  content: r.content,
});

const asBool = (v: SqlValue): boolean => v === true || v === 1n;

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/** How often a conflicting concurrent write (another node, same key) is retried before giving up. */
const CONFLICT_RETRIES = 5;

function isConflict(e: unknown): boolean {
  return (
    e instanceof WeftError &&
    (e.code === StorageErrors.STORAGE_CONSTRAINT_VIOLATION.code ||
      e.code === StorageErrors.STORAGE_CONTENTION.code)
  );
}

/** Runs `fn`, again when a concurrent writer on another node made it conflict. */
async function retryConflicts<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= CONFLICT_RETRIES || !isConflict(e)) throw e;
    }
  }
}

/** All SQL of the sequencer: one instance per node, over the node's (possibly shared) storage. */
export class SequencerStore {
  constructor(readonly storage: Storage) {}

  async migrate(): Promise<void> {
    await this.storage.migrate('sequencer', SEQUENCER_MIGRATIONS);
  }

  /** Records the total node count on first use; nodes sharing the database must agree on it. */
  async checkTotalNodeCount(total: number): Promise<void> {
    await this.storage.insertMany(
      'sequencer_settings',
      ['name', 'value'],
      [['total_node_count', String(total)]],
      {
        onConflict: 'ignore',
      },
    );
    const row = await this.storage.queryOne<{ value: string }>(
      'SELECT value FROM sequencer_settings WHERE name = $1',
      ['total_node_count'],
    );
    if (row?.value !== String(total)) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_HA_CONFIG_MISMATCH,
        `this node has high-availability total-node-count ${total} but the database was set up with ${row?.value}; use the same value on every node`,
      );
    }
  }

  /**
   * Records which sequencer `nodeName` belongs to on first use. Writer slots are reclaimed by node name after a
   * restart, so distinct sequencers sharing the ordering storage must not use the same name.
   */
  async claimNodeName(nodeName: string, sequencerId: string): Promise<void> {
    const name = `node:${nodeName}`;
    await this.storage.insertMany('sequencer_settings', ['name', 'value'], [[name, sequencerId]], {
      onConflict: 'ignore',
    });
    const row = await this.storage.queryOne<{ value: string }>(
      'SELECT value FROM sequencer_settings WHERE name = $1',
      [name],
    );
    if (row?.value !== sequencerId) {
      throw new WeftError(
        SequencerErrors.SEQUENCER_NODE_NAME_TAKEN,
        `node name ${nodeName} belongs to sequencer ${row?.value} in the ordering storage, not to ${sequencerId}; give this node another name`,
        { nodeName },
      );
    }
  }

  // ---- members -------------------------------------------------------------------------------------------

  async member(member: string): Promise<MemberRow | undefined> {
    const row = await this.storage.queryOne<{ id: bigint; registered_ts: bigint }>(
      'SELECT id, registered_ts FROM sequencer_members WHERE member = $1',
      [member],
    );
    return row && { id: row.id, member, registeredTs: row.registered_ts };
  }

  async members(): Promise<MemberRow[]> {
    const rows = await this.storage.query<{ id: bigint; member: string; registered_ts: bigint }>(
      'SELECT id, member, registered_ts FROM sequencer_members ORDER BY id',
    );
    return rows.map((r) => ({ id: r.id, member: r.member, registeredTs: r.registered_ts }));
  }

  /**
   * Registers `member` from `ts` on, unless it is registered already (then its first registration stands, which
   * every node computes identically from the same topology broadcast).
   */
  async registerMember(member: string, ts: bigint): Promise<MemberRow> {
    for (let attempt = 1; ; attempt++) {
      const existing = await this.member(member);
      if (existing) return existing;
      // Two nodes registering different members at once may pick the same id; the loser retries.
      await this.storage.execute(
        `INSERT INTO sequencer_members (id, member, registered_ts)
         SELECT COALESCE(MAX(id), 0) + 1, $1, $2 FROM sequencer_members WHERE TRUE
         ON CONFLICT DO NOTHING`,
        [member, ts],
      );
      if (attempt >= CONFLICT_RETRIES * 4) {
        const registered = await this.member(member);
        if (registered) return registered;
        throw new WeftError(
          StorageErrors.STORAGE_CONTENTION,
          `could not register member ${member}: member ids kept colliding with other nodes`,
        );
      }
    }
  }

  // ---- watermarks and writer slots -----------------------------------------------------------------------

  async watermarks(q: Queryable = this.storage): Promise<WatermarkRow[]> {
    const rows = await q.query<{
      node_index: bigint;
      watermark_ts: bigint;
      online: SqlValue;
      owner: string;
      node_name: string;
    }>(
      'SELECT node_index, watermark_ts, online, owner, node_name FROM sequencer_watermarks ORDER BY node_index',
    );
    return rows.map((r) => ({
      nodeIndex: Number(r.node_index),
      watermark: r.watermark_ts,
      online: asBool(r.online),
      owner: r.owner,
      nodeName: r.node_name,
    }));
  }

  /**
   * Claims a writer slot for `owner` (a fresh id per process incarnation) and marks it offline until the writer
   * has recovered it. A node reclaims the slot last held under its own name at once (it restarted); otherwise it
   * takes a free slot, or one whose holder is offline or has not advanced its watermark since `staleBefore`.
   * The previous holder, if still alive, notices on its next write that it lost the slot.
   */
  async acquireSlot(
    nodeName: string,
    owner: string,
    total: number,
    staleBefore: bigint,
    reclaimOwnName: boolean,
  ): Promise<number> {
    return retryConflicts(() =>
      this.storage.transaction(async (tx) => {
        const rows = await this.watermarks(tx);
        const taken = new Map(rows.map((r) => [r.nodeIndex, r]));
        const own = rows.find((r) => r.nodeName === nodeName);
        // Rejoining: a live node that took this name's slot meanwhile keeps the name.
        if (!reclaimOwnName && own && own.owner !== owner && own.online) throw nameInUse(nodeName, own);
        const pick =
          (reclaimOwnName ? own : undefined) ??
          (() => {
            for (let i = 0; i < total; i++) if (!taken.has(i)) return undefined;
            return rows.find((r) => r.nodeIndex < total && (!r.online || r.watermark < staleBefore));
          })();
        if (pick) {
          const updated = await tx.execute(
            `UPDATE sequencer_watermarks SET owner = $1, node_name = $2, online = FALSE
             WHERE node_index = $3 AND owner = $4`,
            [owner, nodeName, pick.nodeIndex, pick.owner],
          );
          if (updated !== 1)
            throw new WeftError(StorageErrors.STORAGE_CONTENTION, 'writer slot changed hands');
          return pick.nodeIndex;
        }
        for (let i = 0; i < total; i++) {
          if (taken.has(i)) continue;
          await tx.execute(
            `INSERT INTO sequencer_watermarks (node_index, watermark_ts, online, owner, node_name)
             VALUES ($1, $2, FALSE, $3, $4)`,
            [i, 0n, owner, nodeName],
          );
          return i;
        }
        throw new WeftError(
          SequencerErrors.SEQUENCER_NO_FREE_NODE_INDEX,
          `all ${total} writer slots of the sequencer database are held by online nodes (${rows
            .map((r) => r.nodeName)
            .join(', ')}); stop one or raise high-availability total-node-count on every node`,
        );
      }),
    );
  }

  /**
   * Deletes what the slot's previous holder wrote above its last watermark (never delivered: readers stop at the
   * watermark of an offline writer), then brings the slot online with a watermark no lower than any other, so
   * that nothing this writer writes can fall below what readers have delivered already. Returns the highest
   * watermark seen afterwards: the writer's timestamps must exceed it.
   */
  async recoverAndGoOnline(nodeIndex: number, owner: string, now: bigint): Promise<bigint> {
    await this.storage.transaction(async (tx) => {
      const own = await this.#ownSlot(tx, nodeIndex, owner);
      for (const table of ['sequencer_event_recipients', 'sequencer_events']) {
        await tx.execute(`DELETE FROM ${table} WHERE node_index = $1 AND ts > $2`, [
          nodeIndex,
          own.watermark,
        ]);
      }
      await tx.execute('DELETE FROM sequencer_payloads WHERE node_index = $1 AND id > $2', [
        nodeIndex,
        own.watermark,
      ]);
    });
    const highest = async () =>
      (
        await this.storage.queryOne<{ m: bigint | null }>(
          'SELECT MAX(watermark_ts) AS m FROM sequencer_watermarks',
        )
      )?.m ?? 0n;
    const before = await highest();
    const start = before > now ? before : now;
    const updated = await this.storage.execute(
      'UPDATE sequencer_watermarks SET watermark_ts = $1, online = TRUE WHERE node_index = $2 AND owner = $3',
      [start, nodeIndex, owner],
    );
    if (updated !== 1) throw lostSlot(nodeIndex);
    // A reader that computed its safe watermark before this slot was online may have gone up to any other
    // writer's watermark at that moment; all of those are at most what this reads.
    return highest();
  }

  async #ownSlot(q: Queryable, nodeIndex: number, owner: string): Promise<WatermarkRow> {
    const own = (await this.watermarks(q)).find((r) => r.nodeIndex === nodeIndex);
    if (!own || own.owner !== owner) throw lostSlot(nodeIndex);
    return own;
  }

  /** Marks the slot offline on a clean shutdown, so peers need not wait for the offline duration. */
  async goOffline(nodeIndex: number, owner: string): Promise<void> {
    await this.storage.execute(
      'UPDATE sequencer_watermarks SET online = FALSE WHERE node_index = $1 AND owner = $2',
      [nodeIndex, owner],
    );
  }

  /** Advances an idle writer's watermark; fails with SEQUENCER_NODE_INDEX_LOST when the slot is no longer its. */
  async advanceWatermark(nodeIndex: number, owner: string, watermark: bigint): Promise<void> {
    await this.#advance(this.storage, nodeIndex, owner, watermark);
  }

  async #advance(q: Queryable, nodeIndex: number, owner: string, watermark: bigint): Promise<void> {
    const updated = await q.execute(
      `UPDATE sequencer_watermarks SET watermark_ts = $1
       WHERE node_index = $2 AND owner = $3 AND online = TRUE AND watermark_ts <= $1`,
      [watermark, nodeIndex, owner],
    );
    if (updated !== 1) throw lostSlot(nodeIndex);
  }

  /** Marks online writers whose watermark is below `cutoff` offline; returns their node indexes. */
  async markLaggingOffline(cutoff: bigint, except: number): Promise<number[]> {
    const lagging = (await this.watermarks()).filter(
      (r) => r.online && r.watermark < cutoff && r.nodeIndex !== except,
    );
    const marked: number[] = [];
    for (const r of lagging) {
      // Conditional on the watermark read: a writer that advanced meanwhile stays online.
      const n = await this.storage.execute(
        `UPDATE sequencer_watermarks SET online = FALSE
         WHERE node_index = $1 AND online = TRUE AND watermark_ts = $2`,
        [r.nodeIndex, r.watermark],
      );
      if (n === 1) marked.push(r.nodeIndex);
    }
    return marked;
  }

  // ---- writing -------------------------------------------------------------------------------------------

  /**
   * Writes a batch of events in one transaction: payloads, then events and their recipient rows, then the
   * writer's watermark (the batch's last timestamp). A request whose (sender, message id) already has a live
   * event is skipped: its index is in the returned set. An event of the same request that an offline writer left
   * above its watermark is dead and replaced.
   */
  async writeEvents(
    nodeIndex: number,
    owner: string,
    events: readonly NewEvent[],
    watermark: bigint,
  ): Promise<ReadonlySet<number>> {
    return retryConflicts(() =>
      this.storage.transaction(async (tx) => {
        const duplicates = await this.#duplicates(tx, events);
        const fresh = events.filter((_, i) => !duplicates.has(i));
        await tx.insertMany(
          'sequencer_payloads',
          ['id', 'node_index', 'content'],
          fresh.flatMap((e) => (e.payload ? [[e.ts, nodeIndex, e.payload]] : [])),
        );
        await tx.insertMany(
          'sequencer_events',
          [
            'ts',
            'node_index',
            'kind',
            'sender_id',
            'message_id',
            'is_topology',
            'error_code',
            'error_message',
            'traceparent',
            'tracestate',
          ],
          fresh.map((e) => [
            e.ts,
            nodeIndex,
            e.kind,
            e.senderId,
            e.messageId,
            e.isTopology,
            e.errorCode ?? null,
            e.errorMessage ?? null,
            e.traceparent ?? null,
            e.tracestate ?? null,
          ]),
        );
        await tx.insertMany(
          'sequencer_event_recipients',
          ['recipient_id', 'ts', 'node_index'],
          fresh.flatMap((e) => e.recipientIds.map((r) => [r, e.ts, nodeIndex])),
        );
        await this.#advance(tx, nodeIndex, owner, watermark);
        return duplicates;
      }),
    );
  }

  async #duplicates(tx: Queryable, events: readonly NewEvent[]): Promise<Set<number>> {
    const duplicates = new Set<number>();
    const seen = new Set<string>();
    const key = (sender: bigint, messageId: string) => `${sender}/${messageId}`;
    events.forEach((e, i) => {
      const k = key(e.senderId, e.messageId);
      if (seen.has(k)) duplicates.add(i);
      seen.add(k);
    });
    const ids = [...new Set(events.map((e) => e.messageId))];
    const existing = await tx.query<{
      ts: bigint;
      node_index: bigint;
      sender_id: bigint;
      message_id: string;
    }>(
      `SELECT ts, node_index, sender_id, message_id FROM sequencer_events WHERE message_id IN (${placeholders(ids.length)})`,
      ids,
    );
    const matching = existing.filter((r) => seen.has(key(r.sender_id, r.message_id)));
    if (matching.length === 0) return duplicates;
    const d = deliverability(await this.watermarks(tx));
    const live = new Set<string>();
    for (const r of matching) {
      if (isDead(d, Number(r.node_index), r.ts)) await this.#deleteEvent(tx, r.ts);
      else live.add(key(r.sender_id, r.message_id));
    }
    events.forEach((e, i) => {
      if (live.has(key(e.senderId, e.messageId))) duplicates.add(i);
    });
    return duplicates;
  }

  async #deleteEvent(tx: Queryable, ts: bigint): Promise<void> {
    await tx.execute('DELETE FROM sequencer_event_recipients WHERE ts = $1', [ts]);
    await tx.execute('DELETE FROM sequencer_payloads WHERE id = $1', [ts]);
    await tx.execute('DELETE FROM sequencer_events WHERE ts = $1', [ts]);
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /**
   * Up to `limit` events of a member with `after < ts <= upTo`, in timestamp order, with their payloads. Rows of
   * dead events are included: callers filter them with {@link isDead} under the same deliverability.
   */
  async readEvents(member: MemberRow, after: bigint, upTo: bigint, limit: number): Promise<EventRow[]> {
    const from = after >= member.registeredTs ? after : member.registeredTs - 1n;
    const rows = await this.storage.query<RawEventRow>(
      `SELECT e.ts, e.node_index, e.kind, e.sender_id, e.message_id, e.error_code, e.error_message,
              e.traceparent, e.tracestate, p.content
       FROM sequencer_event_recipients r
       JOIN sequencer_events e ON e.ts = r.ts
       LEFT JOIN sequencer_payloads p ON p.id = r.ts
       WHERE r.recipient_id IN ($1, $2) AND r.ts > $3 AND r.ts <= $4
       ORDER BY r.ts
       LIMIT $5`,
      [member.id, BROADCAST_RECIPIENT, from, upTo, limit],
    );
    return rows.map(toEvent);
  }

  /**
   * The events with `after < ts <= upTo`, of every writer but `except`, in timestamp order, with their payloads
   * and recipients: what the delivery head adds to the events buffer besides the local writer's events. At most
   * `limit` recipient rows are read; undefined when there are more (the caller reads the range otherwise). Dead
   * events are included (see {@link readEvents}).
   */
  async readEventsBetween(
    after: bigint,
    upTo: bigint,
    except: number | undefined,
    limit: number,
  ): Promise<BufferedEvent[] | undefined> {
    const rows = await this.storage.query<RawEventRow & { is_topology: SqlValue; recipient_id: bigint }>(
      `SELECT e.ts, e.node_index, e.kind, e.sender_id, e.message_id, e.error_code, e.error_message,
              e.traceparent, e.tracestate, e.is_topology, p.content, r.recipient_id
       FROM sequencer_events e
       JOIN sequencer_event_recipients r ON r.ts = e.ts
       LEFT JOIN sequencer_payloads p ON p.id = e.ts
       WHERE e.ts > $1 AND e.ts <= $2 AND e.node_index <> $3
       ORDER BY e.ts
       LIMIT $4`,
      [after, upTo, except ?? -1, limit + 1],
    );
    if (rows.length > limit) return undefined;
    const events: (BufferedEvent & { recipientIds: bigint[] })[] = [];
    for (const r of rows) {
      const last = events[events.length - 1];
      if (last?.ts === r.ts) last.recipientIds.push(r.recipient_id);
      else events.push({ ...toEvent(r), isTopology: asBool(r.is_topology), recipientIds: [r.recipient_id] });
    }
    return events;
  }

  /** The recipient ids of the events with `after < ts <= upTo` (BROADCAST_RECIPIENT for broadcasts). */
  async recipientsBetween(after: bigint, upTo: bigint): Promise<bigint[]> {
    const rows = await this.storage.query<{ recipient_id: bigint }>(
      'SELECT DISTINCT recipient_id FROM sequencer_event_recipients WHERE ts > $1 AND ts <= $2',
      [after, upTo],
    );
    return rows.map((r) => r.recipient_id);
  }

  async hasEventAbove(ts: bigint): Promise<boolean> {
    return (
      (await this.storage.queryOne('SELECT ts FROM sequencer_events WHERE ts > $1 ORDER BY ts LIMIT 1', [
        ts,
      ])) !== undefined
    );
  }

  /** The latest topology broadcast up to `upTo`. */
  async lastTopologyEventUpTo(upTo: bigint): Promise<bigint | undefined> {
    const row = await this.storage.queryOne<{ m: bigint | null }>(
      'SELECT MAX(ts) AS m FROM sequencer_events WHERE is_topology = TRUE AND ts <= $1',
      [upTo],
    );
    return row?.m ?? undefined;
  }

  /** Topology broadcasts with `after < ts <= upTo`, dead ones included (see {@link readEvents}). */
  async readTopologyEvents(after: bigint, upTo: bigint, limit: number): Promise<EventRow[]> {
    const rows = await this.storage.query<RawEventRow>(
      `SELECT e.ts, e.node_index, e.kind, e.sender_id, e.message_id, e.error_code, e.error_message,
              e.traceparent, e.tracestate, p.content
       FROM sequencer_events e
       JOIN sequencer_payloads p ON p.id = e.ts
       WHERE e.is_topology = TRUE AND e.ts > $1 AND e.ts <= $2
       ORDER BY e.ts
       LIMIT $3`,
      [after, upTo, limit],
    );
    return rows.map(toEvent);
  }

  async saveCheckpoint(memberId: bigint, counter: bigint, ts: bigint): Promise<void> {
    await this.storage.insertMany(
      'sequencer_counter_checkpoints',
      ['member_id', 'counter', 'ts'],
      [[memberId, counter, ts]],
      { onConflict: 'ignore' },
    );
  }

  /** The latest checkpoint of the member with a counter below `counter`. */
  async checkpointBefore(
    memberId: bigint,
    counter: bigint,
  ): Promise<{ counter: bigint; ts: bigint } | undefined> {
    return this.storage.queryOne<{ counter: bigint; ts: bigint }>(
      `SELECT counter, ts FROM sequencer_counter_checkpoints
       WHERE member_id = $1 AND counter < $2 ORDER BY counter DESC LIMIT 1`,
      [memberId, counter],
    );
  }

  /** The timestamp before which events were pruned, if any were. */
  async lowerBound(): Promise<bigint | undefined> {
    return (await this.storage.queryOne<{ ts: bigint }>('SELECT ts FROM sequencer_lower_bound WHERE id = 1'))
      ?.ts;
  }

  /** The counter of the member's last pruned event, if any of its events were pruned. */
  async prunedCounter(memberId: bigint, lowerBound: bigint): Promise<bigint | undefined> {
    const row = await this.storage.queryOne<{ c: bigint | null }>(
      'SELECT MAX(counter) AS c FROM sequencer_counter_checkpoints WHERE member_id = $1 AND ts < $2',
      [memberId, lowerBound],
    );
    return row?.c ?? undefined;
  }

  // ---- acknowledgements and pruning ----------------------------------------------------------------------

  async acknowledge(memberId: bigint, ts: bigint): Promise<void> {
    await this.storage.execute(
      `INSERT INTO sequencer_acknowledgements (member_id, ts) VALUES ($1, $2)
       ON CONFLICT (member_id) DO UPDATE SET ts = excluded.ts WHERE excluded.ts > sequencer_acknowledgements.ts`,
      [memberId, ts],
    );
  }

  async acknowledgements(): Promise<Map<bigint, bigint>> {
    const rows = await this.storage.query<{ member_id: bigint; ts: bigint }>(
      'SELECT member_id, ts FROM sequencer_acknowledgements',
    );
    return new Map(rows.map((r) => [r.member_id, r.ts]));
  }

  /**
   * Deletes every event before `before` (and dead events of offline writers), first recording for each member
   * a checkpoint at its last pruned event so that counters continue unchanged. The caller checks that `before` is
   * acknowledged by every member and below the safe watermark.
   */
  async prune(before: bigint): Promise<void> {
    await this.storage.transaction(async (tx) => {
      for (const w of await this.watermarks(tx)) {
        if (w.online) continue;
        for (const table of ['sequencer_event_recipients', 'sequencer_events']) {
          await tx.execute(`DELETE FROM ${table} WHERE node_index = $1 AND ts > $2`, [
            w.nodeIndex,
            w.watermark,
          ]);
        }
        await tx.execute('DELETE FROM sequencer_payloads WHERE node_index = $1 AND id > $2', [
          w.nodeIndex,
          w.watermark,
        ]);
      }
      const members = await tx.query<{ id: bigint; registered_ts: bigint }>(
        'SELECT id, registered_ts FROM sequencer_members',
      );
      for (const m of members) {
        const base = await tx.queryOne<{ counter: bigint; ts: bigint }>(
          `SELECT counter, ts FROM sequencer_counter_checkpoints
           WHERE member_id = $1 AND ts < $2 ORDER BY counter DESC LIMIT 1`,
          [m.id, before],
        );
        const after = base ? base.ts : m.registered_ts - 1n;
        const counted = await tx.queryOne<{ n: bigint; last: bigint | null }>(
          `SELECT COUNT(*) AS n, MAX(ts) AS last FROM sequencer_event_recipients
           WHERE recipient_id IN ($1, $2) AND ts > $3 AND ts < $4 AND ts >= $5`,
          [m.id, BROADCAST_RECIPIENT, after, before, m.registered_ts],
        );
        if (counted && counted.n > 0n && counted.last !== null) {
          await tx.insertMany(
            'sequencer_counter_checkpoints',
            ['member_id', 'counter', 'ts'],
            [[m.id, (base ? base.counter : -1n) + counted.n, counted.last]],
            { onConflict: 'ignore' },
          );
        }
      }
      await tx.execute(
        `DELETE FROM sequencer_counter_checkpoints WHERE ts < $1 AND counter < (
           SELECT MAX(c.counter) FROM sequencer_counter_checkpoints c
           WHERE c.member_id = sequencer_counter_checkpoints.member_id AND c.ts < $1)`,
        [before],
      );
      await tx.execute('DELETE FROM sequencer_event_recipients WHERE ts < $1', [before]);
      await tx.execute('DELETE FROM sequencer_payloads WHERE id < $1', [before]);
      await tx.execute('DELETE FROM sequencer_events WHERE ts < $1', [before]);
      await tx.execute(
        `INSERT INTO sequencer_lower_bound (id, ts) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET ts = excluded.ts WHERE excluded.ts > sequencer_lower_bound.ts`,
        [before],
      );
    });
  }
}

export function nameInUse(nodeName: string, slot: WatermarkRow): WeftError {
  return new WeftError(
    SequencerErrors.SEQUENCER_NODE_NAME_IN_USE,
    `sequencer node name ${nodeName} is in use by a live node (writer slot ${slot.nodeIndex}, whose watermark advances); stop that node first, or give this node another name`,
    { nodeName, nodeIndex: slot.nodeIndex },
  );
}

function lostSlot(nodeIndex: number): WeftError {
  return new WeftError(
    SequencerErrors.SEQUENCER_NODE_INDEX_LOST,
    `sequencer writer slot ${nodeIndex} was taken over by another instance or marked offline by peers`,
    { nodeIndex },
  );
}
