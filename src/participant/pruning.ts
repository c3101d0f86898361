import { CommonErrors, defineErrorCode, WeftError } from '../errors/index.js';
import type { Logger } from '../observability/index.js';
import type { Migration, Queryable, Storage } from '../storage/index.js';
import type { ParticipantStore } from './store.js';

/** Codes of participant pruning (Canton's names). */
export const PruningErrors = {
  OFFSET_OUT_OF_RANGE: defineErrorCode(
    'OFFSET_OUT_OF_RANGE',
    'InvalidGivenCurrentSystemStateOther',
    'The offset is outside the range the request allows: pruning must stay strictly before the ledger end.',
    'Read the ledger end (StateService.GetLedgerEnd) and choose an offset before it.',
  ),
} as const;

export const PRUNING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'pruning watermarks',
    up: [
      // One row: how far the participant's history is pruned (0 = nothing pruned).
      `CREATE TABLE participant_pruning (
         id INTEGER PRIMARY KEY NOT NULL,
         pruned_up_to BIGINT NOT NULL,
         divulged_pruned_up_to BIGINT NOT NULL
       )`,
      'INSERT INTO participant_pruning (id, pruned_up_to, divulged_pruned_up_to) VALUES (1, 0, 0)',
    ],
  },
];

/** Rows deleted per transaction, so that pruning a long history never holds the commit pipeline up for long. */
const CHUNK = 1000;

/**
 * Pruning of the participant's history (Canton's ParticipantPruningService.Prune): removes the updates,
 * completions and archived contracts at or below an offset, and the replay-protection entries of requests the
 * participant will not see again. Active contracts, commands in flight and the completions deduplication still
 * needs stay. The watermark is raised before anything is deleted, so reads below it are refused from then on (a
 * crash half-way leaves data no reader can reach, and the next prune removes it).
 */
export class ParticipantPruning {
  #prunedUpTo: bigint;
  #divulgedPrunedUpTo: bigint;
  /** Prunes run one at a time. */
  #running: Promise<void> = Promise.resolve();

  private constructor(
    private readonly storage: Storage,
    private readonly store: Pick<ParticipantStore, 'ledgerEnd' | 'cursor'>,
    private readonly logger: Logger,
    row: { pruned_up_to: bigint; divulged_pruned_up_to: bigint },
  ) {
    this.#prunedUpTo = row.pruned_up_to;
    this.#divulgedPrunedUpTo = row.divulged_pruned_up_to;
  }

  static async open(
    storage: Storage,
    store: Pick<ParticipantStore, 'ledgerEnd' | 'cursor'>,
    logger: Logger,
  ): Promise<ParticipantPruning> {
    await storage.migrate('participant_pruning', PRUNING_MIGRATIONS);
    const row = await storage.queryOne<{ pruned_up_to: bigint; divulged_pruned_up_to: bigint }>(
      'SELECT pruned_up_to, divulged_pruned_up_to FROM participant_pruning WHERE id = 1',
    );
    if (row === undefined)
      throw new WeftError(CommonErrors.INTERNAL, 'participant_pruning has no watermark row');
    return new ParticipantPruning(storage, store, logger, row);
  }

  /** Everything at or below this offset may be gone: reads of it answer PARTICIPANT_PRUNED_DATA_ACCESSED. */
  prunedUpTo(): bigint {
    return this.#prunedUpTo;
  }

  /** Divulged contracts are pruned up to this offset whether or not they were archived. */
  allDivulgedContractsPrunedUpTo(): bigint {
    return this.#divulgedPrunedUpTo;
  }

  /**
   * Prunes up to `upTo` inclusive, which must be before the ledger end (OFFSET_OUT_OF_RANGE otherwise). With
   * `pruneAllDivulgedContracts`, contracts that no hosted party is a stakeholder of go too when they became known
   * at or before `upTo`, active or not.
   */
  prune(upTo: bigint, options: { readonly pruneAllDivulgedContracts: boolean }): Promise<void> {
    const run = this.#running.then(() => this.#prune(upTo, options.pruneAllDivulgedContracts));
    this.#running = run.catch(() => {});
    return run;
  }

  async #prune(upTo: bigint, divulged: boolean): Promise<void> {
    const ledgerEnd = await this.store.ledgerEnd();
    if (upTo >= ledgerEnd) {
      throw new WeftError(
        PruningErrors.OFFSET_OUT_OF_RANGE,
        `prune_up_to needs to be before ledger end ${ledgerEnd}`,
        {
          pruneUpTo: upTo,
          ledgerEnd,
        },
      );
    }
    const prunedUpTo = upTo > this.#prunedUpTo ? upTo : this.#prunedUpTo;
    // Divulged contracts carry no offset, only when they were created: they go up to the ledger time of the newest
    // update at or below the offset. Once that update is pruned the time is unknown, and the watermark stays.
    const horizon =
      divulged && upTo > this.#divulgedPrunedUpTo
        ? ((
            await this.storage.queryOne<{ t: bigint | null }>(
              'SELECT MAX(ledger_time) AS t FROM participant_updates WHERE update_offset <= $1',
              [upTo],
            )
          )?.t ?? null)
        : null;
    const divulgedUpTo = horizon === null ? this.#divulgedPrunedUpTo : upTo;
    // Replay protection that no restart needs any more: requests up to those pruned, before the clean cursor.
    const requestBounds = await this.storage.query<{ synchronizer_id: string; request_id: bigint }>(
      `SELECT synchronizer_id, MAX(request_id) AS request_id FROM participant_updates WHERE update_offset <= $1
       GROUP BY synchronizer_id`,
      [prunedUpTo],
    );
    await this.storage.execute(
      'UPDATE participant_pruning SET pruned_up_to = $1, divulged_pruned_up_to = $2 WHERE id = 1',
      [prunedUpTo, divulgedUpTo],
    );
    this.#prunedUpTo = prunedUpTo;
    this.#divulgedPrunedUpTo = divulgedUpTo;

    let removed = 0;
    removed += await this.#chunked(
      'SELECT update_offset AS k FROM participant_updates WHERE update_offset <= $1 ORDER BY update_offset LIMIT $2',
      [prunedUpTo],
      ['participant_update_parties', 'update_offset'],
      ['participant_updates', 'update_offset'],
    );
    removed += await this.#chunked(
      `SELECT completion_offset AS k FROM participant_completions c WHERE completion_offset <= $1
         AND NOT EXISTS (SELECT 1 FROM participant_commands m WHERE m.completion_offset = c.completion_offset)
       ORDER BY completion_offset LIMIT $2`,
      [prunedUpTo],
      ['participant_completions', 'completion_offset'],
    );
    removed += await this.#chunked(
      `SELECT contract_id AS k FROM participant_contracts WHERE archived_offset IS NOT NULL AND archived_offset <= $1
       ORDER BY contract_id LIMIT $2`,
      [prunedUpTo],
      ['participant_contract_parties', 'contract_id'],
      ['participant_contracts', 'contract_id'],
    );
    if (horizon !== null) {
      removed += await this.#chunked(
        `SELECT contract_id AS k FROM participant_contracts c
         WHERE (c.created_offset <= $1 OR (c.created_offset IS NULL AND c.created_at <= $2))
           AND NOT EXISTS (SELECT 1 FROM participant_contract_parties p WHERE p.contract_id = c.contract_id AND p.stakeholder)
         ORDER BY contract_id LIMIT $3`,
        [divulgedUpTo, horizon],
        ['participant_contract_parties', 'contract_id'],
        ['participant_contracts', 'contract_id'],
      );
    }
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
    this.logger.info(
      { prunedUpTo, divulgedPrunedUpTo: divulgedUpTo, rows: removed },
      `pruned up to offset ${prunedUpTo}`,
    );
  }

  /**
   * Deletes, chunk by chunk, the rows whose key `select` lists (its last parameter is the chunk size) from each
   * `[table, key column, scope column?]`; a scope column is matched against `select`'s first parameter. Returns the
   * number of keys deleted.
   */
  async #chunked(
    select: string,
    params: readonly (bigint | string)[],
    ...tables: readonly (readonly [string, string, string?])[]
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.storage.transaction(async (tx: Queryable) => {
        const keys = (await tx.query<{ k: bigint | string }>(select, [...params, CHUNK])).map((r) => r.k);
        if (keys.length === 0) return 0;
        for (const [table, column, scope] of tables) {
          const list = keys.map((_, i) => `$${i + (scope === undefined ? 1 : 2)}`).join(', ');
          const where =
            scope === undefined ? `${column} IN (${list})` : `${scope} = $1 AND ${column} IN (${list})`;
          await tx.execute(
            `DELETE FROM ${table} WHERE ${where}`,
            scope === undefined ? keys : [params[0] ?? '', ...keys],
          );
        }
        return keys.length;
      });
      total += n;
      if (n < CHUNK) return total;
    }
  }
}
