import type { Migration, Queryable, SqlValue, Storage } from '../storage/index.js';
import { reencodeContracts } from './migrations/v3-contract-format.js';

export const PARTICIPANT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'contracts, updates, completions, commands, requests, DARs, cursor',
    up: [
      // Contracts a hosted party is a stakeholder of or witnessed; active while archived_offset is NULL.
      `CREATE TABLE participant_contracts (
         contract_id TEXT PRIMARY KEY NOT NULL,
         template_id TEXT NOT NULL,
         contract BYTEA NOT NULL,
         created_at BIGINT NOT NULL,
         created_offset BIGINT,
         archived_offset BIGINT
       )`,
      // Which hosted parties may use a contract: its hosted stakeholders, and hosted parties it was divulged to.
      `CREATE TABLE participant_contract_parties (
         party TEXT NOT NULL,
         contract_id TEXT NOT NULL,
         stakeholder BOOLEAN NOT NULL,
         PRIMARY KEY (party, contract_id)
       )`,
      'CREATE INDEX participant_contract_parties_contract ON participant_contract_parties (contract_id)',
      // One row per committed transaction: the part of it this participant saw (the union of its views).
      `CREATE TABLE participant_updates (
         update_offset BIGINT PRIMARY KEY NOT NULL,
         update_id TEXT NOT NULL,
         request_id BIGINT NOT NULL,
         ledger_time BIGINT NOT NULL,
         workflow_id TEXT NOT NULL,
         transaction_bytes BYTEA NOT NULL,
         command_id TEXT,
         act_as TEXT
       )`,
      'CREATE UNIQUE INDEX participant_updates_id ON participant_updates (update_id)',
      // The hosted parties that witness something of an update: its per-party streams.
      `CREATE TABLE participant_update_parties (
         party TEXT NOT NULL,
         update_offset BIGINT NOT NULL,
         PRIMARY KEY (party, update_offset)
       )`,
      // Completions of this participant's commands; a success shares its transaction's offset.
      `CREATE TABLE participant_completions (
         completion_offset BIGINT PRIMARY KEY NOT NULL,
         change_id TEXT NOT NULL,
         command_id TEXT NOT NULL,
         user_id TEXT NOT NULL,
         submission_id TEXT NOT NULL,
         act_as TEXT NOT NULL,
         status_code TEXT,
         message TEXT NOT NULL,
         update_id TEXT,
         request_id BIGINT,
         record_time BIGINT NOT NULL
       )`,
      // Command deduplication: in flight until completed, then kept for the deduplication window.
      `CREATE TABLE participant_commands (
         change_id TEXT PRIMARY KEY NOT NULL,
         command_id TEXT NOT NULL,
         user_id TEXT NOT NULL,
         submission_id TEXT NOT NULL,
         act_as TEXT NOT NULL,
         message_id TEXT NOT NULL,
         max_sequencing_time BIGINT NOT NULL,
         submitted_at BIGINT NOT NULL,
         request_id BIGINT,
         completion_offset BIGINT,
         completed_at BIGINT
       )`,
      'CREATE UNIQUE INDEX participant_commands_message ON participant_commands (message_id)',
      // Decided requests, so that a replayed request or verdict is not processed twice.
      `CREATE TABLE participant_requests (
         request_id BIGINT PRIMARY KEY NOT NULL,
         root_hash TEXT NOT NULL,
         outcome TEXT NOT NULL,
         decided_at BIGINT NOT NULL
       )`,
      `CREATE TABLE participant_dars (
         main_package_id TEXT PRIMARY KEY NOT NULL,
         name TEXT NOT NULL,
         version TEXT NOT NULL,
         dar BYTEA NOT NULL,
         uploaded_at BIGINT NOT NULL,
         admin_workflow BOOLEAN NOT NULL
       )`,
      // Where the event stream resumes after a restart: after this event every effect is durable.
      `CREATE TABLE participant_cursor (
         synchronizer_id TEXT PRIMARY KEY NOT NULL,
         clean_counter BIGINT NOT NULL,
         clean_timestamp BIGINT NOT NULL
       )`,
    ],
  },
  {
    version: 2,
    // A participant connected to several synchronizers: contracts are assigned to one, request ids (sequencing
    // times) are per synchronizer. Before, a participant had at most one synchronizer: its cursor's.
    name: 'synchronizer of contracts, updates, completions, commands and requests',
    up: [
      ...[
        'participant_contracts',
        'participant_updates',
        'participant_completions',
        'participant_commands',
      ].flatMap((table) => [
        `ALTER TABLE ${table} ADD COLUMN synchronizer_id TEXT NOT NULL DEFAULT ''`,
        `UPDATE ${table} SET synchronizer_id = COALESCE((SELECT MIN(synchronizer_id) FROM participant_cursor), '')`,
      ]),
      `CREATE TABLE participant_decided_requests (
         synchronizer_id TEXT NOT NULL,
         request_id BIGINT NOT NULL,
         root_hash TEXT NOT NULL,
         outcome TEXT NOT NULL,
         decided_at BIGINT NOT NULL,
         PRIMARY KEY (synchronizer_id, request_id)
       )`,
      `INSERT INTO participant_decided_requests (synchronizer_id, request_id, root_hash, outcome, decided_at)
       SELECT COALESCE((SELECT MIN(synchronizer_id) FROM participant_cursor), ''), request_id, root_hash, outcome,
              decided_at FROM participant_requests`,
      'DROP TABLE participant_requests',
    ],
  },
  {
    version: 3,
    // Stored contracts were a hand-written framing before; now the generated protobuf SerializedContract.
    name: 'contracts as SerializedContract',
    up: reencodeContracts,
  },
  {
    version: 4,
    // The deduplication period a command was deduplicated with, which its completion reports (Canton's
    // Completion.deduplication_period): a duration (µs) or an offset; both NULL for rows written before.
    name: 'deduplication period of commands and completions',
    up: ['participant_commands', 'participant_completions'].flatMap((table) => [
      `ALTER TABLE ${table} ADD COLUMN deduplication_duration BIGINT`,
      `ALTER TABLE ${table} ADD COLUMN deduplication_offset BIGINT`,
    ]),
  },
  {
    version: 5,
    // The pre-encoded events of a transaction (weft.participant.v1.IndexedTransaction, see `indexTransaction`);
    // NULL for transactions stored before, or while no Ledger API supplied the encoding: those are decoded.
    name: 'pre-encoded events of updates',
    up: ['ALTER TABLE participant_updates ADD COLUMN events_index BYTEA'],
  },
];

/** Indexes of the Ledger API's reads, a component of their own so they version apart from the tables. */
export const READ_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'active contracts in creation order',
    // The ACS as of an offset pages through contracts by (created_offset, contract_id).
    up: ['CREATE INDEX participant_contracts_created ON participant_contracts (created_offset, contract_id)'],
  },
];

/** Canton's deduplication period of a command: a duration back from now (record time), or a completion offset. */
export type DeduplicationPeriod =
  | {
      readonly kind: 'duration' /** µs, at least 0, at most the deduplication window */;
      readonly micros: bigint;
    }
  | { readonly kind: 'offset' /** exclusive; 0 is the participant's begin */; readonly offset: bigint };

/** A deduplication period as its two nullable columns, `deduplication_duration` and `deduplication_offset`. */
const periodColumns = (p: DeduplicationPeriod | undefined): [SqlValue, SqlValue] => [
  p?.kind === 'duration' ? p.micros : null,
  p?.kind === 'offset' ? p.offset : null,
];

function periodOf(r: {
  deduplication_duration: bigint | null;
  deduplication_offset: bigint | null;
}): DeduplicationPeriod | undefined {
  if (r.deduplication_duration !== null) return { kind: 'duration', micros: r.deduplication_duration };
  if (r.deduplication_offset !== null) return { kind: 'offset', offset: r.deduplication_offset };
  return undefined;
}

export interface ContractRow {
  readonly contractId: string;
  /** The synchronizer the contract is assigned to (where it was created). */
  readonly synchronizerId: string;
  readonly templateId: string;
  readonly contract: Uint8Array;
  readonly createdAt: bigint;
  readonly createdOffset: bigint | undefined;
}

export interface UpdateRow {
  readonly offset: bigint;
  readonly updateId: string;
  readonly synchronizerId: string;
  readonly requestId: bigint;
  readonly ledgerTime: bigint;
  readonly workflowId: string;
  readonly transaction: Uint8Array;
  /** Its pre-encoded events (see `indexTransaction`), when the participant was given an encoding. */
  readonly events?: Uint8Array | undefined;
  /** For a transaction this participant submitted: the command and its acting parties. */
  readonly submission: { readonly commandId: string; readonly actAs: readonly string[] } | undefined;
  /** Hosted parties that witness something of it. */
  readonly parties: readonly string[];
}

export interface CompletionRow {
  readonly offset: bigint;
  readonly changeId: string;
  readonly commandId: string;
  readonly userId: string;
  readonly submissionId: string;
  readonly actAs: readonly string[];
  /** Undefined for a success. */
  readonly code: string | undefined;
  readonly message: string;
  readonly updateId: string | undefined;
  readonly requestId: bigint | undefined;
  readonly recordTime: bigint;
  /** The synchronizer the command was routed to. */
  readonly synchronizerId: string;
  /** The period the command was deduplicated with; undefined for completions stored before it was recorded. */
  readonly deduplicationPeriod: DeduplicationPeriod | undefined;
}

export interface CommandRow {
  readonly changeId: string;
  readonly commandId: string;
  readonly userId: string;
  readonly submissionId: string;
  readonly actAs: readonly string[];
  readonly messageId: string;
  /** The synchronizer the command was routed to. */
  readonly synchronizerId: string;
  readonly maxSequencingTime: bigint;
  readonly submittedAt: bigint;
  readonly requestId: bigint | undefined;
  readonly completionOffset: bigint | undefined;
  readonly completedAt: bigint | undefined;
  /** The period it was deduplicated with (the requested one, or the deduplication window); for its completion. */
  readonly deduplicationPeriod: DeduplicationPeriod | undefined;
}

export interface DarRow {
  readonly mainPackageId: string;
  readonly name: string;
  readonly version: string;
  readonly dar: Uint8Array;
  readonly uploadedAt: bigint;
  readonly adminWorkflow: boolean;
}

/** Everything one group commit writes, in one database transaction. */
export interface WriteBatch {
  contracts: ContractRow[];
  contractParties: { party: string; contractId: string; stakeholder: boolean }[];
  archivals: { contractId: string; offset: bigint }[];
  updates: UpdateRow[];
  completions: CompletionRow[];
  /** Commands that got sequenced (request id) or completed. */
  commands: { changeId: string; requestId?: bigint; completionOffset?: bigint; completedAt?: bigint }[];
  requests: {
    synchronizerId: string;
    requestId: bigint;
    rootHash: string;
    outcome: string;
    decidedAt: bigint;
  }[];
  /** Where each synchronizer's event stream resumes, by synchronizer id. */
  cursors: Map<string, Cursor>;
  /**
   * Commands to register in flight (deduplication) before they are sent, written first; `registered` is set by the
   * write: false when another entry of the change id is in flight or was accepted after `dedupFrom`.
   */
  startedCommands: { row: CommandRow; dedupFrom: bigint; registered?: boolean }[];
}

export interface Cursor {
  readonly counter: bigint;
  readonly timestamp: bigint;
}

export function emptyBatch(): WriteBatch {
  return {
    contracts: [],
    contractParties: [],
    archivals: [],
    updates: [],
    completions: [],
    commands: [],
    requests: [],
    cursors: new Map(),
    startedCommands: [],
  };
}

const optional = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export type StoredUpdate = Omit<UpdateRow, 'parties'>;

/**
 * An update as a reader of pre-encoded events has it: the transaction's bytes only where it has no index (they are
 * most of a row, and such a reader does not decode them).
 */
export type IndexedStoredUpdate = Omit<StoredUpdate, 'transaction' | 'events'> &
  (
    | { readonly events: Uint8Array; readonly transaction?: undefined }
    | { readonly events?: undefined; readonly transaction: Uint8Array }
  );

const UPDATE_COLUMNS =
  'u.update_offset, u.update_id, u.synchronizer_id, u.request_id, u.ledger_time, u.workflow_id, u.transaction_bytes, u.events_index, u.command_id, u.act_as';
const INDEXED_UPDATE_COLUMNS = UPDATE_COLUMNS.replace(
  'u.transaction_bytes',
  'CASE WHEN u.events_index IS NULL THEN u.transaction_bytes END AS transaction_bytes',
);

interface RawUpdate {
  update_offset: bigint;
  update_id: string;
  synchronizer_id: string;
  request_id: bigint;
  ledger_time: bigint;
  workflow_id: string;
  transaction_bytes: Uint8Array | null;
  events_index: Uint8Array | null;
  command_id: string | null;
  act_as: string | null;
}

function updateOf(r: RawUpdate): StoredUpdate {
  return { ...updateHeaderOf(r), transaction: r.transaction_bytes!, events: optional(r.events_index) };
}

function indexedUpdateOf(r: RawUpdate): IndexedStoredUpdate {
  const header = updateHeaderOf(r);
  return r.events_index === null
    ? { ...header, transaction: r.transaction_bytes! }
    : { ...header, events: r.events_index };
}

function updateHeaderOf(r: RawUpdate): Omit<StoredUpdate, 'transaction' | 'events'> {
  return {
    offset: r.update_offset,
    updateId: r.update_id,
    synchronizerId: r.synchronizer_id,
    requestId: r.request_id,
    ledgerTime: r.ledger_time,
    workflowId: r.workflow_id,
    submission:
      r.command_id === null
        ? undefined
        : { commandId: r.command_id, actAs: JSON.parse(r.act_as ?? '[]') as string[] },
  };
}

interface RawCommand {
  change_id: string;
  command_id: string;
  user_id: string;
  submission_id: string;
  act_as: string;
  message_id: string;
  synchronizer_id: string;
  max_sequencing_time: bigint;
  submitted_at: bigint;
  request_id: bigint | null;
  completion_offset: bigint | null;
  completed_at: bigint | null;
  deduplication_duration: bigint | null;
  deduplication_offset: bigint | null;
}

function commandOf(r: RawCommand): CommandRow {
  return {
    changeId: r.change_id,
    commandId: r.command_id,
    userId: r.user_id,
    submissionId: r.submission_id,
    actAs: JSON.parse(r.act_as) as string[],
    messageId: r.message_id,
    synchronizerId: r.synchronizer_id,
    maxSequencingTime: r.max_sequencing_time,
    submittedAt: r.submitted_at,
    requestId: optional(r.request_id),
    completionOffset: optional(r.completion_offset),
    completedAt: optional(r.completed_at),
    deduplicationPeriod: periodOf(r),
  };
}

interface RawCompletion {
  completion_offset: bigint;
  change_id: string;
  command_id: string;
  user_id: string;
  submission_id: string;
  act_as: string;
  status_code: string | null;
  message: string;
  update_id: string | null;
  request_id: bigint | null;
  record_time: bigint;
  synchronizer_id: string;
  deduplication_duration: bigint | null;
  deduplication_offset: bigint | null;
}

function completionOf(r: RawCompletion): CompletionRow {
  return {
    offset: r.completion_offset,
    changeId: r.change_id,
    commandId: r.command_id,
    userId: r.user_id,
    submissionId: r.submission_id,
    actAs: JSON.parse(r.act_as) as string[],
    code: optional(r.status_code),
    message: r.message,
    updateId: optional(r.update_id),
    requestId: optional(r.request_id),
    recordTime: r.record_time,
    synchronizerId: r.synchronizer_id,
    deduplicationPeriod: periodOf(r),
  };
}

interface RawContract {
  contract_id: string;
  synchronizer_id: string;
  template_id: string;
  contract: Uint8Array;
  created_at: bigint;
  created_offset: bigint | null;
}

function contractRowOf(r: RawContract): ContractRow {
  return {
    contractId: r.contract_id,
    synchronizerId: r.synchronizer_id,
    templateId: r.template_id,
    contract: r.contract,
    createdAt: r.created_at,
    createdOffset: optional(r.created_offset),
  };
}

/** A change id's deduplication entry: its latest command and, once it completed, its completion. */
export interface CommandState {
  readonly command: CommandRow;
  readonly completion: CompletionRow | undefined;
}

/** A stored contract with the hosted parties that may use it. */
export interface StoredContract {
  readonly row: ContractRow;
  readonly parties: readonly { readonly party: string; readonly stakeholder: boolean }[];
}

/** Contract ids per query: far below the bind-parameter limits of SQLite and PostgreSQL. */
const ID_CHUNK = 500;

const inList = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/** The participant's tables (`participant_*`): reads, and the batched writes of the commit pipeline. */
export class ParticipantStore {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<ParticipantStore> {
    await storage.migrate('participant', PARTICIPANT_MIGRATIONS);
    await storage.migrate('participant_reads', READ_MIGRATIONS);
    return new ParticipantStore(storage);
  }

  /** Writes a group commit in one transaction. */
  async write(b: WriteBatch): Promise<void> {
    await this.storage.transaction(async (tx) => {
      for (const c of b.startedCommands) c.registered = await registerCommand(tx, c.row, c.dedupFrom);
      if (b.contracts.length > 0) {
        await tx.insertMany(
          'participant_contracts',
          ['contract_id', 'synchronizer_id', 'template_id', 'contract', 'created_at', 'created_offset'],
          b.contracts.map((c) => [
            c.contractId,
            c.synchronizerId,
            c.templateId,
            c.contract,
            c.createdAt,
            c.createdOffset ?? null,
          ]),
          { onConflict: 'ignore' },
        );
      }
      if (b.contractParties.length > 0) {
        await tx.insertMany(
          'participant_contract_parties',
          ['party', 'contract_id', 'stakeholder'],
          b.contractParties.map((p) => [p.party, p.contractId, p.stakeholder]),
          { onConflict: 'ignore' },
        );
      }
      for (const [offset, ids] of groupBy(
        b.archivals,
        (a) => a.offset,
        (a) => a.contractId,
      )) {
        await tx.execute(
          `UPDATE participant_contracts SET archived_offset = $1 WHERE archived_offset IS NULL AND contract_id IN (${inList(ids.length, 2)})`,
          [offset, ...ids],
        );
      }
      if (b.updates.length > 0) {
        await tx.insertMany(
          'participant_updates',
          [
            'update_offset',
            'update_id',
            'synchronizer_id',
            'request_id',
            'ledger_time',
            'workflow_id',
            'transaction_bytes',
            'events_index',
            'command_id',
            'act_as',
          ],
          b.updates.map((u) => [
            u.offset,
            u.updateId,
            u.synchronizerId,
            u.requestId,
            u.ledgerTime,
            u.workflowId,
            u.transaction,
            u.events ?? null,
            u.submission?.commandId ?? null,
            u.submission ? JSON.stringify(u.submission.actAs) : null,
          ]),
        );
        const parties = b.updates.flatMap((u) => u.parties.map((p): SqlValue[] => [p, u.offset]));
        if (parties.length > 0) {
          await tx.insertMany('participant_update_parties', ['party', 'update_offset'], parties);
        }
      }
      if (b.completions.length > 0) {
        await tx.insertMany(
          'participant_completions',
          [
            'completion_offset',
            'change_id',
            'command_id',
            'user_id',
            'submission_id',
            'act_as',
            'status_code',
            'message',
            'update_id',
            'request_id',
            'record_time',
            'synchronizer_id',
            'deduplication_duration',
            'deduplication_offset',
          ],
          b.completions.map((c) => [
            c.offset,
            c.changeId,
            c.commandId,
            c.userId,
            c.submissionId,
            JSON.stringify(c.actAs),
            c.code ?? null,
            c.message,
            c.updateId ?? null,
            c.requestId ?? null,
            c.recordTime,
            c.synchronizerId,
            ...periodColumns(c.deduplicationPeriod),
          ]),
        );
      }
      for (const c of b.commands) {
        await tx.execute(
          `UPDATE participant_commands SET request_id = COALESCE($2, request_id),
             completion_offset = COALESCE($3, completion_offset), completed_at = COALESCE($4, completed_at)
           WHERE change_id = $1`,
          [c.changeId, c.requestId ?? null, c.completionOffset ?? null, c.completedAt ?? null],
        );
      }
      if (b.requests.length > 0) {
        await tx.insertMany(
          'participant_decided_requests',
          ['synchronizer_id', 'request_id', 'root_hash', 'outcome', 'decided_at'],
          b.requests.map((r) => [r.synchronizerId, r.requestId, r.rootHash, r.outcome, r.decidedAt]),
          { onConflict: 'ignore' },
        );
      }
      for (const [synchronizerId, c] of b.cursors) await writeCursor(tx, synchronizerId, c);
    });
  }

  async cursor(synchronizerId: string): Promise<Cursor | undefined> {
    const row = await this.storage.queryOne<{ clean_counter: bigint; clean_timestamp: bigint }>(
      'SELECT clean_counter, clean_timestamp FROM participant_cursor WHERE synchronizer_id = $1',
      [synchronizerId],
    );
    return row && { counter: row.clean_counter, timestamp: row.clean_timestamp };
  }

  /** Where every synchronizer's event stream is processed up to (its clean sequencing time), by synchronizer. */
  async cursors(): Promise<Map<string, Cursor>> {
    const rows = await this.storage.query<{
      synchronizer_id: string;
      clean_counter: bigint;
      clean_timestamp: bigint;
    }>(
      'SELECT synchronizer_id, clean_counter, clean_timestamp FROM participant_cursor ORDER BY synchronizer_id',
    );
    return new Map(
      rows.map((r) => [r.synchronizer_id, { counter: r.clean_counter, timestamp: r.clean_timestamp }]),
    );
  }

  /** The highest offset assigned to an update or a completion. */
  async ledgerEnd(): Promise<bigint> {
    const row = await this.storage.queryOne<{ u: bigint | null; c: bigint | null }>(
      `SELECT (SELECT MAX(update_offset) FROM participant_updates) AS u,
              (SELECT MAX(completion_offset) FROM participant_completions) AS c`,
    );
    const u = row?.u ?? 0n;
    const c = row?.c ?? 0n;
    return u > c ? u : c;
  }

  /** How many contracts are active now (a scan of the contracts not archived: the ACS size metric, per scrape). */
  async activeContractCount(): Promise<number> {
    const row = await this.storage.queryOne<{ n: bigint | number }>(
      'SELECT COUNT(*) AS n FROM participant_contracts WHERE archived_offset IS NULL',
    );
    return Number(row?.n ?? 0);
  }

  /**
   * The requests on `synchronizerId` sequenced after `after` that are decided already (a replay after a restart
   * skips them).
   */
  async decidedAfter(synchronizerId: string, after: bigint): Promise<bigint[]> {
    const rows = await this.storage.query<{ request_id: bigint }>(
      'SELECT request_id FROM participant_decided_requests WHERE synchronizer_id = $1 AND request_id > $2',
      [synchronizerId, after],
    );
    return rows.map((r) => r.request_id);
  }

  /** The active contracts among `ids`, with the hosted parties that may use them (a cache miss of the ACS). */
  async contracts(ids: readonly string[]): Promise<StoredContract[]> {
    const out: StoredContract[] = [];
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const chunk = ids.slice(i, i + ID_CHUNK);
      out.push(
        ...(await this.#contractsWhere(
          `c.archived_offset IS NULL AND c.contract_id IN (${inList(chunk.length)})`,
          chunk,
          `p.contract_id IN (${inList(chunk.length)})`,
          chunk,
        )),
      );
    }
    return out;
  }

  /**
   * The contracts `party` is a hosted stakeholder of that are active as of offset `asOf` (created at or before it,
   * not archived at or before it), in creation order: a consistent snapshot while later batches are written.
   */
  async activeContractsOf(party: string, asOf: bigint): Promise<StoredContract[]> {
    return this.#contractsWhere(
      `c.created_offset <= $2 AND (c.archived_offset IS NULL OR c.archived_offset > $2)
       AND c.contract_id IN (SELECT contract_id FROM participant_contract_parties WHERE party = $1 AND stakeholder)`,
      [party, asOf],
      `p.contract_id IN (SELECT contract_id FROM participant_contract_parties WHERE party = $1 AND stakeholder)`,
      [party],
    );
  }

  async #contractsWhere(
    contracts: string,
    contractParams: readonly SqlValue[],
    parties: string,
    partyParams: readonly SqlValue[],
  ): Promise<StoredContract[]> {
    const rows = await this.storage.query<RawContract>(
      `SELECT c.contract_id, c.synchronizer_id, c.template_id, c.contract, c.created_at, c.created_offset
       FROM participant_contracts c WHERE ${contracts} ORDER BY c.created_offset, c.contract_id`,
      [...contractParams],
    );
    if (rows.length === 0) return [];
    const byContract = new Map<string, { party: string; stakeholder: boolean }[]>();
    for (const p of await this.storage.query<{ party: string; contract_id: string; stakeholder: boolean }>(
      `SELECT p.party, p.contract_id, p.stakeholder FROM participant_contract_parties p WHERE ${parties}`,
      [...partyParams],
    )) {
      const list = byContract.get(p.contract_id) ?? [];
      list.push({ party: p.party, stakeholder: p.stakeholder });
      byContract.set(p.contract_id, list);
    }
    return rows.map((r) => ({ row: contractRowOf(r), parties: byContract.get(r.contract_id) ?? [] }));
  }

  /** Whether the contract is known and archived (for a lookup of a contract that is not active). */
  async isArchived(contractId: string, readers: readonly string[]): Promise<boolean> {
    if (readers.length === 0) return false;
    const row = await this.storage.queryOne(
      `SELECT c.contract_id FROM participant_contracts c JOIN participant_contract_parties p
         ON p.contract_id = c.contract_id
       WHERE c.contract_id = $1 AND c.archived_offset IS NOT NULL AND p.party IN (${inList(readers.length, 2)})
       LIMIT 1`,
      [contractId, ...readers],
    );
    return row !== undefined;
  }

  /**
   * Updates after offset `after`, up to `upTo`, at most `limit`, in offset order: those a hosted party among
   * `parties` witnesses, or every update when `parties` is undefined. Each party's offsets are read through its
   * index, at most `limit` of them, so a page costs the same however far the range reaches. Many parties read every
   * update (the caller filters the events by party anyway) rather than exceed the bind-parameter limits.
   */
  updates(
    parties: string | readonly string[] | undefined,
    after: bigint,
    upTo: bigint,
    limit: number,
  ): Promise<StoredUpdate[]> {
    return this.#updates(UPDATE_COLUMNS, updateOf, parties, after, upTo, limit);
  }

  /** {@link updates} for a reader of pre-encoded events: a transaction's bytes only where it has none. */
  indexedUpdates(
    parties: string | readonly string[] | undefined,
    after: bigint,
    upTo: bigint,
    limit: number,
  ): Promise<IndexedStoredUpdate[]> {
    return this.#updates(INDEXED_UPDATE_COLUMNS, indexedUpdateOf, parties, after, upTo, limit);
  }

  async #updates<U>(
    columns: string,
    map: (r: RawUpdate) => U,
    parties: string | readonly string[] | undefined,
    after: bigint,
    upTo: bigint,
    limit: number,
  ): Promise<U[]> {
    const list = typeof parties === 'string' ? [parties] : parties;
    if (list === undefined || list.length > ID_CHUNK) {
      const rows = await this.storage.query<RawUpdate>(
        `SELECT ${columns} FROM participant_updates u
         WHERE u.update_offset > $1 AND u.update_offset <= $2 ORDER BY u.update_offset LIMIT $3`,
        [after, upTo, limit],
      );
      return rows.map(map);
    }
    if (list.length === 1) {
      const rows = await this.storage.query<RawUpdate>(
        `SELECT ${columns}
         FROM participant_update_parties p JOIN participant_updates u ON u.update_offset = p.update_offset
         WHERE p.party = $1 AND p.update_offset > $2 AND p.update_offset <= $3
         ORDER BY p.update_offset LIMIT $4`,
        [list[0]!, after, upTo, limit],
      );
      return rows.map(map);
    }
    const offsets = new Set<bigint>();
    for (const party of list) {
      const rows = await this.storage.query<{ update_offset: bigint }>(
        `SELECT update_offset FROM participant_update_parties
         WHERE party = $1 AND update_offset > $2 AND update_offset <= $3 ORDER BY update_offset LIMIT $4`,
        [party, after, upTo, limit],
      );
      for (const r of rows) offsets.add(r.update_offset);
    }
    const page = [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit);
    const out: U[] = [];
    for (let i = 0; i < page.length; i += ID_CHUNK) {
      const chunk = page.slice(i, i + ID_CHUNK);
      const rows = await this.storage.query<RawUpdate>(
        `SELECT ${columns} FROM participant_updates u WHERE u.update_offset IN (${inList(chunk.length)})
         ORDER BY u.update_offset`,
        chunk,
      );
      out.push(...rows.map(map));
    }
    return out;
  }

  async update(updateId: string): Promise<StoredUpdate | undefined> {
    const r = await this.storage.queryOne<RawUpdate>(
      `SELECT ${UPDATE_COLUMNS} FROM participant_updates u WHERE u.update_id = $1`,
      [updateId],
    );
    return r && updateOf(r);
  }

  async updateAt(offset: bigint): Promise<StoredUpdate | undefined> {
    const r = await this.storage.queryOne<RawUpdate>(
      `SELECT ${UPDATE_COLUMNS} FROM participant_updates u WHERE u.update_offset = $1`,
      [offset],
    );
    return r && updateOf(r);
  }

  /**
   * A page of the contracts active as of offset `asOf` (created at or before it, not archived at or before it)
   * that a hosted party among `parties` (any hosted party when undefined) is a stakeholder of, by creation offset
   * and contract id after `from` (the last contract of the previous page), with the workflow id of the creating update.
   */
  async activeContractsPage(
    parties: readonly string[] | undefined,
    asOf: bigint,
    from: { readonly offset: bigint; readonly contractId: string } | undefined,
    limit: number,
  ): Promise<(ContractRow & { readonly workflowId: string })[]> {
    const list = parties !== undefined && parties.length <= ID_CHUNK ? parties : undefined;
    const params: SqlValue[] = [asOf, from?.offset ?? -1n, from?.contractId ?? '', limit];
    const partyCondition =
      list === undefined
        ? 'p.stakeholder'
        : `p.stakeholder AND p.party IN (${inList(list.length, params.length + 1)})`;
    params.push(...(list ?? []));
    const rows = await this.storage.query<RawContract & { workflow_id: string | null }>(
      `SELECT c.contract_id, c.synchronizer_id, c.template_id, c.contract, c.created_at, c.created_offset,
              u.workflow_id
       FROM participant_contracts c LEFT JOIN participant_updates u ON u.update_offset = c.created_offset
       WHERE c.created_offset <= $1 AND (c.archived_offset IS NULL OR c.archived_offset > $1)
         AND (c.created_offset > $2 OR (c.created_offset = $2 AND c.contract_id > $3))
         AND EXISTS (SELECT 1 FROM participant_contract_parties p WHERE p.contract_id = c.contract_id
                     AND ${partyCondition})
       ORDER BY c.created_offset, c.contract_id LIMIT $4`,
      params,
    );
    return rows.map((r) => ({ ...contractRowOf(r), workflowId: r.workflow_id ?? '' }));
  }

  /** A stored contract, active or archived, with the offsets of its creation and archival here. */
  async contractEvents(
    contractId: string,
  ): Promise<(ContractRow & { readonly archivedOffset: bigint | undefined }) | undefined> {
    const r = await this.storage.queryOne<RawContract & { archived_offset: bigint | null }>(
      `SELECT c.contract_id, c.synchronizer_id, c.template_id, c.contract, c.created_at, c.created_offset,
              c.archived_offset
       FROM participant_contracts c WHERE c.contract_id = $1`,
      [contractId],
    );
    return r && { ...contractRowOf(r), archivedOffset: optional(r.archived_offset) };
  }

  async completions(after: bigint, upTo: bigint, limit: number): Promise<CompletionRow[]> {
    const rows = await this.storage.query<RawCompletion>(
      `SELECT * FROM participant_completions WHERE completion_offset > $1 AND completion_offset <= $2
       ORDER BY completion_offset LIMIT $3`,
      [after, upTo, limit],
    );
    return rows.map(completionOf);
  }

  async completion(offset: bigint): Promise<CompletionRow | undefined> {
    const r = await this.storage.queryOne<RawCompletion>(
      'SELECT * FROM participant_completions WHERE completion_offset = $1',
      [offset],
    );
    return r && completionOf(r);
  }

  async command(changeId: string): Promise<CommandRow | undefined> {
    const r = await this.storage.queryOne<RawCommand>(
      'SELECT * FROM participant_commands WHERE change_id = $1',
      [changeId],
    );
    return r && commandOf(r);
  }

  /**
   * The deduplication entry of a change id: its latest command, with its completion once it completed (both are
   * written in one batch).
   */
  async commandState(changeId: string): Promise<CommandState | undefined> {
    const command = await this.command(changeId);
    if (!command) return undefined;
    const completion =
      command.completionOffset === undefined ? undefined : await this.completion(command.completionOffset);
    return { command, completion };
  }

  /**
   * Commands sent to `synchronizerId` but not completed (after a restart: their outcome is still to come or to
   * time out).
   */
  async commandsInFlight(synchronizerId: string): Promise<CommandRow[]> {
    const rows = await this.storage.query<RawCommand>(
      `SELECT * FROM participant_commands WHERE synchronizer_id = $1 AND completion_offset IS NULL
       ORDER BY submitted_at`,
      [synchronizerId],
    );
    return rows.map(commandOf);
  }

  /** Registers a command as in flight in a transaction of its own (see {@link registerCommand}). */
  async startCommand(row: CommandRow, dedupFrom: bigint): Promise<boolean> {
    return this.storage.transaction((tx) => registerCommand(tx, row, dedupFrom));
  }

  /** Forgets a command that was never sent (its submission failed before sequencing). */
  async dropCommand(changeId: string, messageId: string): Promise<void> {
    await this.storage.execute('DELETE FROM participant_commands WHERE change_id = $1 AND message_id = $2', [
      changeId,
      messageId,
    ]);
  }

  async saveDar(row: DarRow): Promise<void> {
    await this.storage.insertMany(
      'participant_dars',
      ['main_package_id', 'name', 'version', 'dar', 'uploaded_at', 'admin_workflow'],
      [[row.mainPackageId, row.name, row.version, row.dar, row.uploadedAt, row.adminWorkflow]],
      { onConflict: 'ignore' },
    );
  }

  async dars(): Promise<DarRow[]> {
    const rows = await this.storage.query<{
      main_package_id: string;
      name: string;
      version: string;
      dar: Uint8Array;
      uploaded_at: bigint;
      admin_workflow: boolean;
    }>('SELECT * FROM participant_dars ORDER BY uploaded_at, main_package_id');
    return rows.map((r) => ({
      mainPackageId: r.main_package_id,
      name: r.name,
      version: r.version,
      dar: r.dar,
      uploadedAt: r.uploaded_at,
      adminWorkflow: r.admin_workflow,
    }));
  }
}

/**
 * Registers a command as in flight, replacing a completed entry that was rejected or is outside the deduplication
 * window (as Canton, only accepted commands are deduplicated). False when another entry for the change id is in
 * flight or was accepted after `dedupFrom`: the insert is the arbiter between concurrent submissions. Finding its
 * own entry (a batch repeated after its commit's answer was lost) counts as registered.
 */
async function registerCommand(tx: Queryable, row: CommandRow, dedupFrom: bigint): Promise<boolean> {
  await tx.execute(
    `DELETE FROM participant_commands WHERE change_id = $1 AND completed_at IS NOT NULL
       AND (completed_at < $2 OR EXISTS (SELECT 1 FROM participant_completions c
         WHERE c.completion_offset = participant_commands.completion_offset AND c.status_code IS NOT NULL))`,
    [row.changeId, dedupFrom],
  );
  const inserted = await tx.insertMany(
    'participant_commands',
    [
      'change_id',
      'command_id',
      'user_id',
      'submission_id',
      'act_as',
      'message_id',
      'synchronizer_id',
      'max_sequencing_time',
      'submitted_at',
      'deduplication_duration',
      'deduplication_offset',
    ],
    [
      [
        row.changeId,
        row.commandId,
        row.userId,
        row.submissionId,
        JSON.stringify(row.actAs),
        row.messageId,
        row.synchronizerId,
        row.maxSequencingTime,
        row.submittedAt,
        ...periodColumns(row.deduplicationPeriod),
      ],
    ],
    { onConflict: 'ignore' },
  );
  if (inserted === 1) return true;
  const holder = await tx.queryOne<{ message_id: string }>(
    'SELECT message_id FROM participant_commands WHERE change_id = $1',
    [row.changeId],
  );
  return holder?.message_id === row.messageId;
}

async function writeCursor(tx: Queryable, synchronizerId: string, c: Cursor): Promise<void> {
  await tx.execute(
    `INSERT INTO participant_cursor (synchronizer_id, clean_counter, clean_timestamp) VALUES ($1, $2, $3)
     ON CONFLICT (synchronizer_id) DO UPDATE SET clean_counter = excluded.clean_counter,
       clean_timestamp = excluded.clean_timestamp`,
    [synchronizerId, c.counter, c.timestamp],
  );
}

function groupBy<T, K, V>(items: readonly T[], key: (t: T) => K, value: (t: T) => V): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(value(item));
    out.set(k, list);
  }
  return out;
}
