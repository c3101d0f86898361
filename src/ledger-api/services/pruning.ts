import { CommonErrors, WeftError } from '../../errors/index.js';
import {
  ParticipantPruningService,
  type PruneRequest,
  type PruneResponse,
} from '../../generated/com/daml/ledger/api/v2/admin/participant_pruning_service.js';
import type { ParticipantPruning } from '../../participant/pruning.js';
import { requireAdmin } from '../auth/index.js';
import type { ServiceImpl, UnaryHandler } from '../service.js';
import { requirePositiveOffset } from '../validation/index.js';

/** What the pruning service needs. */
export interface PruningServiceDeps {
  readonly pruning: Pick<ParticipantPruning, 'prune'>;
}

const SUBMISSION_ID = /^[a-zA-Z0-9#:\-_/ ]{1,255}$/;

/** Canton's admin.ParticipantPruningService: participant admins prune the history up to an offset. */
export function participantPruningService(deps: PruningServiceDeps): ServiceImpl {
  const prune: UnaryHandler<PruneRequest, PruneResponse> = async (req, ctx) => {
    requireAdmin(ctx.claims);
    if (req.submissionId !== '' && !SUBMISSION_ID.test(req.submissionId)) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `submission_id '${req.submissionId.slice(0, 255)}' is not a valid submission id (at most 255 characters of ASCII letters, digits and '#:-_/ ')`,
        { field: 'submission_id' },
      );
    }
    if (req.pruneUpTo === 0n) {
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'prune_up_to not specified or zero', {
        field: 'prune_up_to',
      });
    }
    requirePositiveOffset(req.pruneUpTo, 'prune_up_to');
    ctx.logger.info(
      { pruneUpTo: req.pruneUpTo, submissionId: req.submissionId },
      `pruning up to offset ${req.pruneUpTo}`,
    );
    // prune_all_divulged_contracts is a no-op in Canton 3.4: divulged contracts are always pruned.
    await deps.pruning.prune(req.pruneUpTo);
    return {};
  };
  return { type: ParticipantPruningService, handlers: { Prune: prune } };
}
