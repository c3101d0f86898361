import { WeftError } from '../errors/index.js';
import type { Migration, Queryable, Row, SqlValue, Storage } from '../storage/index.js';
import { TopologyErrors } from './errors.js';
import { StoredTopologyTransaction } from './state.js';
import { SignedTopologyTransaction } from './transaction.js';

/** How the processor disposed of one sequenced transaction. */
export type TopologyOutcome = 'accepted' | 'proposal' | 'duplicate' | 'rejected';

/** One processed transaction as persisted (rejected and duplicate ones too, so a replay returns the same outcome). */
export interface TopologyRecord {
  readonly id: bigint;
  readonly sequenced: bigint;
  readonly validFrom: bigint;
  readonly validUntil: bigint | undefined;
  readonly outcome: TopologyOutcome;
  /** The signed transaction as stored (accepted: only the authorizing signatures), or the bytes received. */
  readonly signedTransaction: Uint8Array;
  /** Set unless the bytes could not be decoded. */
  readonly transaction?: {
    readonly uniqueKey: string;
    readonly mappingKind: string;
    readonly operation: string;
    readonly serial: number;
    readonly hash: string;
  };
  readonly rejection?: { readonly code: string; readonly message: string };
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'topology transactions',
    up: [
      `CREATE TABLE topology_transactions (
        store_id TEXT NOT NULL,
        id BIGINT NOT NULL,
        sequenced BIGINT NOT NULL,
        valid_from BIGINT NOT NULL,
        valid_until BIGINT,
        outcome TEXT NOT NULL,
        unique_key TEXT,
        mapping_kind TEXT,
        operation TEXT,
        serial BIGINT,
        tx_hash TEXT,
        signed_transaction BYTEA NOT NULL,
        rejection_code TEXT,
        rejection_reason TEXT,
        PRIMARY KEY (store_id, id)
      )`,
      'CREATE INDEX topology_transactions_sequenced ON topology_transactions (store_id, sequenced)',
      `CREATE TABLE topology_watermarks (
        store_id TEXT NOT NULL PRIMARY KEY,
        last_sequenced BIGINT NOT NULL
      )`,
    ],
  },
];

const COLUMNS = [
  'store_id',
  'id',
  'sequenced',
  'valid_from',
  'valid_until',
  'outcome',
  'unique_key',
  'mapping_kind',
  'operation',
  'serial',
  'tx_hash',
  'signed_transaction',
  'rejection_code',
  'rejection_reason',
] as const;

/** Ids per UPDATE statement when expiring replaced transactions. */
const EXPIRE_CHUNK = 500;

interface DbRow extends Row {
  id: bigint;
  sequenced: bigint;
  valid_from: bigint;
  valid_until: bigint | null;
  outcome: string;
  unique_key: string | null;
  mapping_kind: string | null;
  operation: string | null;
  serial: bigint | null;
  tx_hash: string | null;
  signed_transaction: Uint8Array;
  rejection_code: string | null;
  rejection_reason: string | null;
}

export interface LoadedTopology {
  /** Accepted transactions and proposals, in processing order. */
  readonly transactions: readonly StoredTopologyTransaction[];
  readonly lastSequenced: bigint | undefined;
  readonly lastEffective: bigint | undefined;
  readonly nextId: bigint;
}

/**
 * The persisted topology of one node (`topology_` tables). Several stores can share a database under different
 * `storeId`s. Nodes that process the same sequenced batches (sequencer nodes of one synchronizer sharing a database)
 * may also share one store: they compute identical records, so writes are idempotent, and a record another node
 * wrote differently is reported as TOPOLOGY_STORE_DIVERGED.
 */
export class TopologyStore {
  private constructor(
    private readonly storage: Storage,
    readonly storeId: string,
  ) {}

  static async open(storage: Storage, storeId = 'synchronizer'): Promise<TopologyStore> {
    await storage.migrate('topology', MIGRATIONS);
    return new TopologyStore(storage, storeId);
  }

  async load(): Promise<LoadedTopology> {
    // The watermark first, then only the rows at or before it: nodes sharing the store (sequencers on one ordering
    // storage) append while another loads, and each append writes its rows and the watermark in one transaction,
    // so this reads a state some append left, never rows without their watermark or a watermark without its rows.
    const watermark = await this.storage.queryOne<{ last_sequenced: bigint }>(
      'SELECT last_sequenced FROM topology_watermarks WHERE store_id = $1',
      [this.storeId],
    );
    const upTo = watermark?.last_sequenced ?? -1n;
    const rows = await this.storage.query<DbRow>(
      `SELECT * FROM topology_transactions
       WHERE store_id = $1 AND sequenced <= $2 AND outcome IN ('accepted', 'proposal') ORDER BY id`,
      [this.storeId, upTo],
    );
    // The next id too: rows of a batch appended since the watermark was read belong to a batch this node will
    // process itself, with the ids it had when the other node processed it.
    const last = await this.storage.queryOne<{ e: bigint | null; i: bigint | null }>(
      `SELECT MAX(CASE WHEN outcome IN ('accepted', 'proposal') THEN valid_from END) AS e, MAX(id) AS i
       FROM topology_transactions WHERE store_id = $1 AND sequenced <= $2`,
      [this.storeId, upTo],
    );
    return {
      transactions: rows.map(
        (r) =>
          new StoredTopologyTransaction(
            r.id,
            r.sequenced,
            r.valid_from,
            r.valid_until ?? undefined,
            r.outcome as 'accepted' | 'proposal',
            SignedTopologyTransaction.decode(r.signed_transaction),
          ),
      ),
      lastSequenced: watermark?.last_sequenced,
      lastEffective: last?.e ?? undefined,
      nextId: (last?.i ?? 0n) + 1n,
    };
  }

  /** The records of the batch sequenced at `sequenced`, in processing order. */
  async batch(sequenced: bigint): Promise<TopologyRecord[]> {
    const rows = await this.storage.query<DbRow>(
      'SELECT * FROM topology_transactions WHERE store_id = $1 AND sequenced = $2 ORDER BY id',
      [this.storeId, sequenced],
    );
    return rows.map(recordOf);
  }

  /**
   * Writes processed batches atomically: their records (multi-row inserts), the end of validity of the earlier
   * transactions they replaced (`expired`, at `validUntil`) and the last sequencing time processed.
   */
  async append(
    records: readonly TopologyRecord[],
    expired: readonly bigint[],
    validUntil: bigint,
    lastSequenced: bigint,
  ): Promise<void> {
    await this.storage.transaction(async (tx) => {
      const inserted = await tx.insertMany(
        'topology_transactions',
        COLUMNS,
        records.map((r) => this.#values(r)),
        { onConflict: 'ignore' },
      );
      if (inserted < records.length) await this.#checkSame(tx, records);
      await this.#expire(tx, expired, validUntil);
      // Monotonic, so that a node lagging behind another one sharing the store never moves it back.
      await tx.execute(
        `INSERT INTO topology_watermarks (store_id, last_sequenced) VALUES ($1, $2)
         ON CONFLICT (store_id) DO UPDATE SET last_sequenced = CASE
           WHEN excluded.last_sequenced > topology_watermarks.last_sequenced THEN excluded.last_sequenced
           ELSE topology_watermarks.last_sequenced END`,
        [this.storeId, lastSequenced],
      );
    });
  }

  /** Records written before by another node must be the ones this node computed. */
  async #checkSame(tx: Queryable, records: readonly TopologyRecord[]): Promise<void> {
    const first = records[0]!.id;
    const last = records[records.length - 1]!.id;
    const stored = await tx.query<Pick<DbRow, 'id' | 'sequenced' | 'valid_from' | 'outcome' | 'tx_hash'>>(
      `SELECT id, sequenced, valid_from, outcome, tx_hash FROM topology_transactions
       WHERE store_id = $1 AND id >= $2 AND id <= $3`,
      [this.storeId, first, last],
    );
    const byId = new Map(stored.map((r) => [r.id, r]));
    for (const r of records) {
      const s = byId.get(r.id);
      if (
        s === undefined ||
        s.sequenced !== r.sequenced ||
        s.valid_from !== r.validFrom ||
        s.outcome !== r.outcome ||
        s.tx_hash !== (r.transaction?.hash ?? null)
      ) {
        throw new WeftError(
          TopologyErrors.TOPOLOGY_STORE_DIVERGED,
          `topology store '${this.storeId}' holds a different record ${r.id} (sequenced at ${s?.sequenced}, ${s?.outcome}) than this node computed (sequenced at ${r.sequenced}, ${r.outcome})`,
        );
      }
    }
  }

  async #expire(tx: Queryable, ids: readonly bigint[], validUntil: bigint): Promise<void> {
    for (let i = 0; i < ids.length; i += EXPIRE_CHUNK) {
      const chunk = ids.slice(i, i + EXPIRE_CHUNK);
      const placeholders = chunk.map((_, j) => `$${j + 3}`).join(', ');
      await tx.execute(
        `UPDATE topology_transactions SET valid_until = $1 WHERE store_id = $2 AND id IN (${placeholders})`,
        [validUntil, this.storeId, ...chunk],
      );
    }
  }

  #values(r: TopologyRecord): SqlValue[] {
    return [
      this.storeId,
      r.id,
      r.sequenced,
      r.validFrom,
      r.validUntil ?? null,
      r.outcome,
      r.transaction?.uniqueKey ?? null,
      r.transaction?.mappingKind ?? null,
      r.transaction?.operation ?? null,
      r.transaction === undefined ? null : BigInt(r.transaction.serial),
      r.transaction?.hash ?? null,
      r.signedTransaction,
      r.rejection?.code ?? null,
      r.rejection?.message ?? null,
    ];
  }
}

function recordOf(r: DbRow): TopologyRecord {
  return {
    id: r.id,
    sequenced: r.sequenced,
    validFrom: r.valid_from,
    validUntil: r.valid_until ?? undefined,
    outcome: r.outcome as TopologyOutcome,
    signedTransaction: new Uint8Array(r.signed_transaction),
    ...(r.unique_key !== null && {
      transaction: {
        uniqueKey: r.unique_key,
        mappingKind: r.mapping_kind ?? '',
        operation: r.operation ?? '',
        serial: Number(r.serial),
        hash: r.tx_hash ?? '',
      },
    }),
    ...(r.rejection_code !== null && {
      rejection: { code: r.rejection_code, message: r.rejection_reason ?? '' },
    }),
  };
}
