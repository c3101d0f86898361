import type { VerdictKind } from '../protocol/index.js';
import type { Migration, Queryable, Storage } from '../storage/index.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'verdicts, deliveries, cursor',
    up: [
      // One row per finalized request: the decision, and the signed result exactly as sent.
      `CREATE TABLE mediator_verdicts (
         request_id BIGINT PRIMARY KEY NOT NULL,
         root_hash TEXT NOT NULL,
         request_uuid TEXT NOT NULL,
         submitting_participant TEXT NOT NULL,
         verdict TEXT NOT NULL,
         reason_code TEXT,
         reason TEXT,
         finalized_at BIGINT NOT NULL,
         decision_time BIGINT NOT NULL,
         recipients TEXT NOT NULL,
         result BYTEA NOT NULL,
         traceparent TEXT
       )`,
      'CREATE INDEX mediator_verdicts_finalized ON mediator_verdicts (finalized_at, request_id)',
      // When the verdict's own event came back from the sequencer: delivered, or refused (error_code).
      `CREATE TABLE mediator_verdict_deliveries (
         request_id BIGINT PRIMARY KEY NOT NULL,
         sequenced_at BIGINT NOT NULL,
         error_code TEXT
       )`,
      // Where the event stream resumes after a restart: after the clean event (none: from the first event).
      `CREATE TABLE mediator_cursor (
         id BIGINT PRIMARY KEY NOT NULL,
         clean_counter BIGINT,
         clean_timestamp BIGINT,
         last_counter BIGINT NOT NULL,
         last_timestamp BIGINT NOT NULL
       )`,
    ],
  },
];

/** An event of the mediator's stream: its counter and sequencing time. */
export interface EventPosition {
  readonly counter: bigint;
  readonly timestamp: bigint;
}

export interface MediatorCursor {
  /** The stream resumes after this event; undefined: from the first event. */
  readonly clean: EventPosition | undefined;
  /** The last event processed when the cursor was written. */
  readonly last: EventPosition;
}

/** A finalized request as the mediator decided it (the audit record). */
export interface VerdictRecord {
  /** The request's sequencing time. */
  readonly requestId: bigint;
  /** Hex multihash. */
  readonly rootHash: string;
  /** Empty when the request could not be parsed. */
  readonly requestUuid: string;
  /** Empty when the request could not be parsed. */
  readonly submittingParticipant: string;
  readonly verdict: VerdictKind;
  readonly reasonCode: string | undefined;
  readonly reason: string | undefined;
  /** Sequencing time of the event that decided it (a response, a later event after the deadline, the request). */
  readonly finalizedAt: bigint;
  /** The verdict's max sequencing time. */
  readonly decisionTime: bigint;
  /** The participants the verdict goes to. */
  readonly recipients: readonly string[];
  /** The encoded SignedProtocolMessage holding the ConfirmationResultMessage, as sent. */
  readonly result: Uint8Array;
  readonly traceparent: string | undefined;
}

export interface VerdictDelivery {
  readonly requestId: bigint;
  readonly sequencedAt: bigint;
  /** Set when the sequencer refused the verdict (e.g. past its max sequencing time). */
  readonly errorCode: string | undefined;
}

export interface StoredVerdict extends VerdictRecord {
  readonly delivery: Omit<VerdictDelivery, 'requestId'> | undefined;
}

/** What a restart needs from storage. */
export interface LoadedMediatorState {
  readonly cursor: MediatorCursor | undefined;
  /** Verdicts whose own event has not come back: to be sent again (same message id, so at most once). */
  readonly undelivered: readonly VerdictRecord[];
  /** Requests after the clean event that are decided already: the replay must not decide them again. */
  readonly finalizedAfterCursor: ReadonlyMap<bigint, VerdictRecord>;
}

/** What one flush writes, in one transaction. */
export interface MediatorWrite {
  readonly verdicts: readonly VerdictRecord[];
  readonly deliveries: readonly VerdictDelivery[];
  readonly cursor: MediatorCursor | undefined;
}

interface VerdictRow {
  request_id: bigint;
  root_hash: string;
  request_uuid: string;
  submitting_participant: string;
  verdict: string;
  reason_code: string | null;
  reason: string | null;
  finalized_at: bigint;
  decision_time: bigint;
  recipients: string;
  result: Uint8Array;
  traceparent: string | null;
  sequenced_at?: bigint | null;
  error_code?: string | null;
}

const VERDICT_COLUMNS = [
  'request_id',
  'root_hash',
  'request_uuid',
  'submitting_participant',
  'verdict',
  'reason_code',
  'reason',
  'finalized_at',
  'decision_time',
  'recipients',
  'result',
  'traceparent',
] as const;

const SELECT_VERDICTS = `SELECT ${VERDICT_COLUMNS.map((c) => `v.${c}`).join(', ')}, d.sequenced_at, d.error_code
  FROM mediator_verdicts v LEFT JOIN mediator_verdict_deliveries d ON d.request_id = v.request_id`;

function toRecord(row: VerdictRow): VerdictRecord {
  return {
    requestId: row.request_id,
    rootHash: row.root_hash,
    requestUuid: row.request_uuid,
    submittingParticipant: row.submitting_participant,
    verdict: row.verdict as VerdictKind,
    reasonCode: row.reason_code ?? undefined,
    reason: row.reason ?? undefined,
    finalizedAt: row.finalized_at,
    decisionTime: row.decision_time,
    recipients: JSON.parse(row.recipients) as string[],
    result: new Uint8Array(row.result),
    traceparent: row.traceparent ?? undefined,
  };
}

function toStored(row: VerdictRow): StoredVerdict {
  return {
    ...toRecord(row),
    delivery:
      row.sequenced_at === null || row.sequenced_at === undefined
        ? undefined
        : { sequencedAt: row.sequenced_at, errorCode: row.error_code ?? undefined },
  };
}

/**
 * The mediator's tables (`mediator_*`): finalized verdicts (also the audit stream), the sequencer's answers to
 * them, and the resume cursor. Writes come in batches, one transaction each.
 */
export class MediatorStore {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<MediatorStore> {
    await storage.migrate('mediator', MIGRATIONS);
    return new MediatorStore(storage);
  }

  async load(): Promise<LoadedMediatorState> {
    const row = await this.storage.queryOne<{
      clean_counter: bigint | null;
      clean_timestamp: bigint | null;
      last_counter: bigint;
      last_timestamp: bigint;
    }>(
      'SELECT clean_counter, clean_timestamp, last_counter, last_timestamp FROM mediator_cursor WHERE id = 1',
    );
    const cursor: MediatorCursor | undefined = row && {
      clean:
        row.clean_counter === null || row.clean_timestamp === null
          ? undefined
          : { counter: row.clean_counter, timestamp: row.clean_timestamp },
      last: { counter: row.last_counter, timestamp: row.last_timestamp },
    };
    const undelivered = (
      await this.storage.query<VerdictRow>(
        `${SELECT_VERDICTS} WHERE d.request_id IS NULL ORDER BY v.request_id`,
      )
    ).map(toRecord);
    const after = cursor?.clean?.timestamp ?? -1n;
    const finalized = await this.storage.query<VerdictRow>(
      `${SELECT_VERDICTS} WHERE v.request_id > $1 ORDER BY v.request_id`,
      [after],
    );
    return {
      cursor,
      undelivered,
      finalizedAfterCursor: new Map(finalized.map((r) => [r.request_id, toRecord(r)])),
    };
  }

  /** Writes a batch atomically. Verdicts and deliveries already stored are kept as they are (replays). */
  async write(batch: MediatorWrite): Promise<void> {
    await this.storage.transaction(async (tx) => {
      await insertVerdicts(tx, batch.verdicts);
      if (batch.deliveries.length > 0) {
        await tx.insertMany(
          'mediator_verdict_deliveries',
          ['request_id', 'sequenced_at', 'error_code'],
          batch.deliveries.map((d) => [d.requestId, d.sequencedAt, d.errorCode ?? null]),
          { onConflict: 'ignore' },
        );
      }
      if (batch.cursor) {
        const { clean, last } = batch.cursor;
        await tx.execute(
          `INSERT INTO mediator_cursor (id, clean_counter, clean_timestamp, last_counter, last_timestamp)
           VALUES (1, $1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET clean_counter = excluded.clean_counter,
             clean_timestamp = excluded.clean_timestamp, last_counter = excluded.last_counter,
             last_timestamp = excluded.last_timestamp`,
          [clean?.counter ?? null, clean?.timestamp ?? null, last.counter, last.timestamp],
        );
      }
    });
  }

  /** One finalized request, or undefined. */
  async verdict(requestId: bigint): Promise<StoredVerdict | undefined> {
    const row = await this.storage.queryOne<VerdictRow>(`${SELECT_VERDICTS} WHERE v.request_id = $1`, [
      requestId,
    ]);
    return row && toStored(row);
  }

  /**
   * The audit stream: finalized requests in the order they were decided (by `finalizedAt`, then request id),
   * starting after `after` (the last record a reader has seen), at most `limit` records.
   */
  async verdicts(
    options: { readonly after?: { finalizedAt: bigint; requestId: bigint }; readonly limit?: number } = {},
  ): Promise<StoredVerdict[]> {
    const limit = BigInt(options.limit ?? 100);
    const rows = options.after
      ? await this.storage.query<VerdictRow>(
          `${SELECT_VERDICTS} WHERE v.finalized_at > $1 OR (v.finalized_at = $1 AND v.request_id > $2)
           ORDER BY v.finalized_at, v.request_id LIMIT $3`,
          [options.after.finalizedAt, options.after.requestId, limit],
        )
      : await this.storage.query<VerdictRow>(
          `${SELECT_VERDICTS} ORDER BY v.finalized_at, v.request_id LIMIT $1`,
          [limit],
        );
    return rows.map(toStored);
  }
}

async function insertVerdicts(tx: Queryable, verdicts: readonly VerdictRecord[]): Promise<void> {
  if (verdicts.length === 0) return;
  await tx.insertMany(
    'mediator_verdicts',
    VERDICT_COLUMNS,
    verdicts.map((v) => [
      v.requestId,
      v.rootHash,
      v.requestUuid,
      v.submittingParticipant,
      v.verdict,
      v.reasonCode ?? null,
      v.reason ?? null,
      v.finalizedAt,
      v.decisionTime,
      JSON.stringify(v.recipients),
      v.result,
      v.traceparent ?? null,
    ]),
    { onConflict: 'ignore' },
  );
}
