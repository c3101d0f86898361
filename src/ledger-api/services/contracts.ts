import { WeftError } from '../../errors/index.js';
import {
  ContractService,
  type GetContractRequest,
  type GetContractResponse,
} from '../../generated/com/daml/ledger/api/v2/contract_service.js';
import { createdEventOf } from '../../participant/read-model.js';
import { requireReadAs, requireReadAsAnyParty } from '../auth/index.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { RequestValidationErrors, requireParty } from '../validation/index.js';
import { requireContractId } from './events.js';
import { createdEventToProto } from './read-encoding.js';
import type { ReadServiceDeps } from './reads.js';

/**
 * ContractService: a contract known to the participant (active or archived, not pruned) by id, for querying
 * parties among its stakeholders. As in Canton, the event carries no offset, node id, blob or views worth reading.
 */
export function contractService(deps: ReadServiceDeps): ServiceImpl {
  return {
    type: ContractService,
    handlers: {
      GetContract: async (request: GetContractRequest, ctx: CallContext): Promise<GetContractResponse> => {
        if (request.queryingParties.length === 0) requireReadAsAnyParty(ctx.claims);
        else requireReadAs(ctx.claims, request.queryingParties);
        const contractId = requireContractId(request.contractId, 'contract_id');
        const parties = request.queryingParties.map((p) => requireParty(p, 'querying_parties'));
        const found = await deps.reads.contract(contractId, parties);
        if (!found) {
          throw new WeftError(
            RequestValidationErrors.CONTRACT_PAYLOAD_NOT_FOUND,
            `Contract payload not found, or not visible: ${contractId}`,
            { contract_id: contractId },
          );
        }
        // Canton answers offset 1 and node 0 here: the contract store does not know where it was created.
        const event = createdEventOf(
          found.contract,
          { offset: 1n, nodeId: 0, acsDelta: false },
          found.witnesses,
        );
        return { createdEvent: createdEventToProto(event, false) };
      },
    },
  };
}
