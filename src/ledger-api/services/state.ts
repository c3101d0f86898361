import {
  type GetActiveContractsRequest,
  type GetActiveContractsResponse,
  type GetConnectedSynchronizersRequest,
  type GetConnectedSynchronizersResponse,
  ParticipantPermission,
  StateService,
} from '../../generated/com/daml/ledger/api/v2/state_service.js';
import { ParticipantId } from '../../identity/index.js';
import type { HostedParty } from '../../participant/topology-requests.js';
import { matchIdentityProviderId, requireAdminOrOperateAs, requireAuthenticated } from '../auth/index.js';
import type { CallContext, ServiceImpl } from '../service.js';
import {
  invalidField,
  requireNonNegativeOffset,
  requireOffsetAtMostEnd,
  requireParty,
} from '../validation/index.js';
import { authorizeEventFormat, validateEventFormat } from './formats.js';
import { createdEventToProto } from './read-encoding.js';
import { requireNotPruned, type StateServiceDeps } from './reads.js';

const PERMISSION: Record<HostedParty['permission'], ParticipantPermission> = {
  Submission: ParticipantPermission.SUBMISSION,
  Confirmation: ParticipantPermission.CONFIRMATION,
  Observation: ParticipantPermission.OBSERVATION,
};

/**
 * StateService: the active contract set as of an offset (a snapshot to start an update stream from), the
 * connected synchronizers, the ledger end and the pruning offsets.
 */
export function stateService(deps: StateServiceDeps): ServiceImpl {
  return {
    type: StateService,
    handlers: {
      GetActiveContracts: async function* (
        request: GetActiveContractsRequest,
        ctx: CallContext,
      ): AsyncGenerator<GetActiveContractsResponse> {
        authorizeEventFormat(ctx.claims, request.eventFormat);
        const format = validateEventFormat(request.eventFormat, 'event_format', deps.packages);
        const activeAt = requireNonNegativeOffset(request.activeAtOffset, 'active_at_offset');
        requireOffsetAtMostEnd('active_at_offset', activeAt, deps.ledgerEnd());
        await requireNotPruned(deps, activeAt, `Active contracts request at offset ${activeAt}`);
        // At the ledger begin nothing is active.
        if (activeAt === 0n) return;
        const filter = deps.reads.eventFilter(format);
        for await (const entry of deps.reads.activeContractsAt(filter, activeAt, ctx.signal)) {
          yield {
            workflowId: entry.workflowId,
            contractEntry: {
              oneofKind: 'activeContract',
              activeContract: {
                createdEvent: createdEventToProto(entry.createdEvent, format.verbose),
                synchronizerId: entry.synchronizerId,
                // Weft does not reassign contracts yet: every contract is where it was created.
                reassignmentCounter: 0n,
              },
            },
          };
        }
      },

      GetConnectedSynchronizers: async (
        request: GetConnectedSynchronizersRequest,
        ctx: CallContext,
      ): Promise<GetConnectedSynchronizersResponse> => {
        if (request.party === '') requireAuthenticated(ctx.claims);
        else {
          requireAdminOrOperateAs(ctx.claims, [request.party]);
          matchIdentityProviderId(ctx.claims, request.identityProviderId);
        }
        const party = request.party === '' ? undefined : requireParty(request.party, 'party');
        if (request.participantId !== '') {
          try {
            ParticipantId.parse(request.participantId);
          } catch (e) {
            throw invalidField('participant_id', e instanceof Error ? e.message : String(e));
          }
        }
        // Only this participant's own hosting is known here: another participant hosts nothing it could tell.
        if (request.participantId !== '' && request.participantId !== deps.participantId) {
          return { connectedSynchronizers: [] };
        }
        const connected = deps.connectedSynchronizers();
        if (party === undefined) {
          return {
            connectedSynchronizers: connected.map((s) => ({
              synchronizerAlias: s.alias,
              synchronizerId: s.synchronizerId,
              permission: ParticipantPermission.UNSPECIFIED,
            })),
          };
        }
        const hosted = deps.parties().find((p) => p.party === party);
        return {
          connectedSynchronizers: connected
            .filter((s) => hosted?.synchronizerIds.includes(s.synchronizerId))
            .map((s) => ({
              synchronizerAlias: s.alias,
              synchronizerId: s.synchronizerId,
              permission: PERMISSION[hosted!.permission],
            })),
        };
      },

      GetLedgerEnd: async (_request: object, ctx: CallContext) => {
        requireAuthenticated(ctx.claims);
        return { offset: deps.ledgerEnd() };
      },

      GetLatestPrunedOffsets: async (_request: object, ctx: CallContext) => {
        requireAuthenticated(ctx.claims);
        // Pruning always removes the divulged contracts up to its offset too (src/participant/pruning.ts), so both
        // watermarks are the one pruning offset.
        const prunedUpTo = await deps.prunedUpTo();
        return {
          participantPrunedUpToInclusive: prunedUpTo,
          allDivulgedContractsPrunedUpToInclusive: prunedUpTo,
        };
      },
    },
  };
}
