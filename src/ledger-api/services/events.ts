import { parseContractId } from '../../daml/values/index.js';
import { WeftError } from '../../errors/index.js';
import {
  EventQueryService,
  type GetEventsByContractIdRequest,
  type GetEventsByContractIdResponse,
} from '../../generated/com/daml/ledger/api/v2/event_query_service.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { invalidField, missingField, RequestValidationErrors } from '../validation/index.js';
import { authorizeEventFormat, validateEventFormat } from './formats.js';
import { archivedEventToProto, createdEventToProto } from './read-encoding.js';
import type { ReadServiceDeps } from './reads.js';

/** A contract id field: required, and a contract id in Canton's syntax. */
export function requireContractId(contractId: string, field: string): string {
  if (contractId === '') throw missingField(field);
  if (parseContractId(contractId) === undefined) {
    throw invalidField(field, `${JSON.stringify(contractId)} is not a valid contract id`);
  }
  return contractId;
}

/** EventQueryService: the create and archive events of a contract, for the requesting parties (stakeholders). */
export function eventQueryService(deps: ReadServiceDeps): ServiceImpl {
  return {
    type: EventQueryService,
    handlers: {
      GetEventsByContractId: async (
        request: GetEventsByContractIdRequest,
        ctx: CallContext,
      ): Promise<GetEventsByContractIdResponse> => {
        authorizeEventFormat(ctx.claims, request.eventFormat);
        const contractId = requireContractId(request.contractId, 'contract_id');
        const format = validateEventFormat(request.eventFormat, 'event_format', deps.packages);
        const { created, archived } = await deps.reads.contractEvents(
          contractId,
          deps.reads.eventFilter(format),
        );
        if (!created && !archived) {
          throw new WeftError(
            RequestValidationErrors.CONTRACT_EVENTS_NOT_FOUND,
            `Contract events not found, or not visible: ${contractId}`,
            { contract_id: contractId },
          );
        }
        return {
          ...(created && {
            created: {
              createdEvent: createdEventToProto(created.event, format.verbose),
              synchronizerId: created.synchronizerId,
            },
          }),
          ...(archived && {
            archived: {
              archivedEvent: archivedEventToProto(archived.event),
              synchronizerId: archived.synchronizerId,
            },
          }),
        };
      },
    },
  };
}
