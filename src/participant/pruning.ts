import { CommonErrors, defineErrorCode, WeftError } from '../errors/index.js';
import type { Logger } from '../observability/index.js';
import type { Migration, Storage } from '../storage/index.js';
import { ParticipantStore } from './store.js';

/** Codes of participant pruning (Canton's names). */
export const PruningErrors = {
  OFFSET_OUT_OF_RANGE: defineErrorCode(
    'OFFSET_OUT_OF_RANGE',
    'InvalidGivenCurrentSystemStateOther',
    'The offsets of the request are outside the range it allows: a pruning offset at or after the ledger end, or an update range whose end is before its begin.',
    'Read the ledger end (StateService.GetLedgerEnd): prune strictly before it; send an end offset at or after the begin offset, or none for an open-ended stream.',
  ),
} as const;

export const PRUNING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'pruning watermark',
    up: [
      // One row: how far the participant's history is pruned (0 = nothing pruned).
      'CREATE TABLE participant_pruning (id INTEGER PRIMARY KEY NOT NULL, pruned_up_to BIGINT NOT NULL)',
      'INSERT INTO participant_pruning (id, pruned_up_to) VALUES (1, 0)',
    ],
  },
];

/** Rows deleted per transaction, so that pruning a long history never holds the commit pipeline up for long. */
const CHUNK = 1000;

/**
 * Pruning of the participant's history (Canton 3.4's ParticipantPruningService.Prune): removes the updates and
 * completions at or below an offset, the contracts archived at or below it, the contracts only divulged to this
 * participant that it learnt of by then (archived or not), and the replay-protection entries of requests it will
 * not see again. Active contracts of hosted stakeholders, commands in flight and the completions deduplication
 * still needs stay. The watermark is raised before anything is deleted, so reads below it are refused from then on
 * (a crash half-way leaves data no reader can reach, and the next prune removes it).
 */
export class ParticipantPruning {
  #prunedUpTo: bigint;
  /** Prunes run one at a time. */
  #running: Promise<void> = Promise.resolve();

  private constructor(
    private readonly storage: Storage,
    private readonly store: Pick<ParticipantStore, 'ledgerEnd' | 'cursor'>,
    private readonly logger: Logger,
    prunedUpTo: bigint,
  ) {
    this.#prunedUpTo = prunedUpTo;
  }

  /** Pruning of the participant whose tables are in `storage`. */
  static async open(storage: Storage, logger: Logger): Promise<ParticipantPruning> {
    const store = await ParticipantStore.open(storage);
    await storage.migrate('participant_pruning', PRUNING_MIGRATIONS);
    const row = await storage.queryOne<{ pruned_up_to: bigint }>(
      'SELECT pruned_up_to FROM participant_pruning WHERE id = 1',
    );
    if (row === undefined)
      throw new WeftError(CommonErrors.INTERNAL, 'participant_pruning has no watermark row');
    return new ParticipantPruning(storage, store, logger, row.pruned_up_to);
  }

  /**
   * Everything at or below this offset may be gone (divulged contracts included): reads of it answer
   * PARTICIPANT_PRUNED_DATA_ACCESSED. 0 until the first prune.
   */
  prunedUpTo(): bigint {
    return this.#prunedUpTo;
  }

  /** Prunes up to `upTo` inclusive, which must be before the ledger end (OFFSET_OUT_OF_RANGE otherwise). */
  prune(upTo: bigint): Promise<void> {
    const run = this.#running.then(() => this.#prune(upTo));
    this.#running = run.catch(() => {});
    return run;
  }

  async #prune(upTo: bigint): Promise<void> {
    const ledgerEnd = await this.store.ledgerEnd();
    if (upTo >= ledgerEnd) {
      throw new WeftError(
        PruningErrors.OFFSET_OUT_OF_RANGE,
        `prune_up_to needs to be before ledger end ${ledgerEnd}`,
        { pruneUpTo: upTo, ledgerEnd },
      );
    }
    if (upTo <= this.#prunedUpTo) return;
    // Contracts divulged as inputs carry no offset, only their creation time: those created by the ledger time of
    // the newest update pruned go.
    const horizon = (
      await this.storage.queryOne<{ t: bigint | null }>(
        'SELECT MAX(ledger_time) AS t FROM participant_updates WHERE update_offset <= $1',
        [upTo],
      )
    )?.t;
    // Replay protection that no restart needs any more: requests up to those pruned, before the clean cursor.
    const requestBounds = await this.storage.query<{ synchronizer_id: string; request_id: bigint }>(
      `SELECT synchronizer_id, MAX(request_id) AS request_id FROM participant_updates WHERE update_offset <= $1
       GROUP BY synchronizer_id`,
      [upTo],
    );
    await this.storage.execute('UPDATE participant_pruning SET pruned_up_to = $1 WHERE id = 1', [upTo]);
    this.#prunedUpTo = upTo;

    let removed = 0;
    removed += await this.#chunked(
      'SELECT update_offset AS k FROM participant_updates WHERE update_offset <= $1 ORDER BY update_offset LIMIT $2',
      [upTo],
      ['participant_update_parties', 'update_offset'],
      ['participant_updates', 'update_offset'],
    );
    removed += await this.#chunked(
      `SELECT completion_offset AS k FROM participant_completions c WHERE completion_offset <= $1
         AND NOT EXISTS (SELECT 1 FROM participant_commands m WHERE m.completion_offset = c.completion_offset)
       ORDER BY completion_offset LIMIT $2`,
      [upTo],
      ['participant_completions', 'completion_offset'],
    );
    removed += await this.#chunked(
      `SELECT contract_id AS k FROM participant_contracts WHERE archived_offset IS NOT NULL AND archived_offset <= $1
       ORDER BY contract_id LIMIT $2`,
      [upTo],
      ['participant_contract_parties', 'contract_id'],
      ['participant_contracts', 'contract_id'],
    );
    // Immediately divulged contracts: no hosted party is a stakeholder, only a witness.
    removed += await this.#chunked(
      `SELECT contract_id AS k FROM participant_contracts c
       WHERE (c.created_offset <= $1 OR (c.created_offset IS NULL AND c.created_at <= $2))
         AND NOT EXISTS (SELECT 1 FROM participant_contract_parties p
                         WHERE p.contract_id = c.contract_id AND p.stakeholder)
       ORDER BY contract_id LIMIT $3`,
      [upTo, horizon ?? -1n],
      ['participant_contract_parties', 'contract_id'],
      ['participant_contracts', 'contract_id'],
    );
    for (const { synchronizer_id: synchronizerId, request_id: lastPruned } of requestBounds) {
      const cursor = await this.store.cursor(synchronizerId);
      if (cursor === undefined) continue;
      const bound = lastPruned < cursor.timestamp ? lastPruned : cursor.timestamp - 1n;
      removed += await this.#chunked(
        `SELECT request_id AS k FROM participant_decided_requests WHERE synchronizer_id = $1 AND request_id <= $2
         ORDER BY request_id LIMIT $3`,
        [synchronizerId, bound],
        ['participant_decided_requests', 'request_id', 'synchronizer_id'],
      );
    }
    this.logger.info({ prunedUpTo: upTo, rows: removed }, `pruned up to offset ${upTo}`);
  }

  /**
   * Deletes, chunk by chunk, the rows whose key `select` lists (its last parameter is the chunk size) from each
   * `[table, key column, scope column?]`; a scope column must equal `select`'s first parameter. Returns the number
   * of keys deleted. Every round deletes what it selected, so the rounds end with the rows.
   */
  async #chunked(
    select: string,
    params: readonly (bigint | string)[],
    ...tables: readonly (readonly [string, string, string?])[]
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.storage.transaction(async (tx) => {
        const keys = (await tx.query<{ k: bigint | string }>(select, [...params, CHUNK])).map((r) => r.k);
        if (keys.length === 0) return 0;
        for (const [table, column, scope] of tables) {
          const first = scope === undefined ? 1 : 2;
          const list = keys.map((_, i) => `$${i + first}`).join(', ');
          await tx.execute(
            scope === undefined
              ? `DELETE FROM ${table} WHERE ${column} IN (${list})`
              : `DELETE FROM ${table} WHERE ${scope} = $1 AND ${column} IN (${list})`,
            scope === undefined ? keys : [params[0] ?? null, ...keys],
          );
        }
        return keys.length;
      });
      total += n;
      if (n < CHUNK) return total;
    }
  }
}
