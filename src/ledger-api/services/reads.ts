import type { PackageRegistry } from '../../daml/index.js';
import { WeftError } from '../../errors/index.js';
import type { ParticipantNode } from '../../participant/node.js';
import type { ParticipantReads } from '../../participant/reads.js';
import type { HostedParty } from '../../participant/topology-requests.js';
import { RequestValidationErrors } from '../validation/index.js';

/** What the read services (state, updates, event query, contracts) need of the participant. */
export interface ReadServiceDeps {
  readonly reads: Pick<
    ParticipantReads,
    | 'eventFilter'
    | 'transactions'
    | 'transactionPages'
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

/** What the state service needs besides: the participant's identity, connections and hosted parties. */
export interface StateServiceDeps extends ReadServiceDeps {
  readonly participantId: string;
  /** The synchronizers the participant is connected to now. */
  connectedSynchronizers(): readonly { readonly synchronizerId: string; readonly alias: string }[];
  /** The parties hosted here, with their permission and synchronizers. */
  parties(): readonly HostedParty[];
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

/** The participant as the read services see it (what `startLedgerApi` passes to their factories). */
export function participantReadDeps(
  node: Pick<ParticipantNode, 'reads' | 'engine' | 'durableEnd' | 'id' | 'synchronizerIds' | 'parties'>,
  prunedUpTo: () => Promise<bigint>,
): StateServiceDeps {
  return {
    reads: node.reads,
    packages: node.engine.packages,
    // Reads serve what is durable: a completion's offset is readable once its submitter heard of it.
    ledgerEnd: () => node.durableEnd,
    prunedUpTo,
    participantId: String(node.id),
    // Weft names synchronizers by id only: the id doubles as the alias.
    connectedSynchronizers: () =>
      node.synchronizerIds.map((synchronizerId) => ({ synchronizerId, alias: synchronizerId })),
    parties: () => node.parties(),
  };
}
