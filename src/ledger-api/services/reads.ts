import type { PackageRegistry } from '../../daml/index.js';
import { WeftError } from '../../errors/index.js';
import type { ParticipantReads } from '../../participant/reads.js';
import { RequestValidationErrors } from '../validation/index.js';

/** What the read services (state, updates, event query, contracts) need of the participant. */
export interface ReadServiceDeps {
  readonly reads: Pick<
    ParticipantReads,
    | 'eventFilter'
    | 'transactions'
    | 'transactionAt'
    | 'transactionById'
    | 'activeContractsAt'
    | 'contractEvents'
    | 'contract'
  >;
  /** The packages uploaded here: filters name templates and interfaces of them. */
  readonly packages: PackageRegistry;
  /** The ledger end the reads serve up to (everything at or below is durable). */
  ledgerEnd(): bigint;
  /** The offset the participant is pruned up to, inclusive (0 = never pruned). */
  prunedUpTo(): Promise<bigint>;
}

/** Canton's check that a read does not start below the pruning offset. */
export async function requireNotPruned(deps: ReadServiceDeps, offset: bigint, what: string): Promise<void> {
  const pruned = await deps.prunedUpTo();
  if (offset < pruned) {
    throw new WeftError(
      RequestValidationErrors.PARTICIPANT_PRUNED_DATA_ACCESSED,
      `${what} precedes pruned offset ${pruned}`,
      { earliest_offset: pruned },
    );
  }
}
