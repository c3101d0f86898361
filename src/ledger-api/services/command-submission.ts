import {
  CommandSubmissionService,
  type SubmitReassignmentRequest,
  type SubmitRequest,
  type SubmitResponse,
} from '../../generated/com/daml/ledger/api/v2/command_submission_service.js';
import type { Completion, SubmitRequest as ParticipantSubmitRequest } from '../../participant/index.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { type CommandDecoding, reassignmentUnsupported, submitRequestOf } from './commands.js';

export interface CommandSubmissionServiceDeps extends CommandDecoding {
  /** Submits, resolving once the confirmation request is sent; the outcome comes as a completion. */
  send(r: ParticipantSubmitRequest): Promise<{ readonly completion: Promise<Completion> }>;
}

/**
 * The Ledger API's CommandSubmissionService: answers once the command is interpreted and sent; its outcome is
 * published in the completion stream. Errors before sending (invalid, not authorized, interpretation, duplicate)
 * answer the call.
 */
export function commandSubmissionService(deps: CommandSubmissionServiceDeps): ServiceImpl {
  return {
    type: CommandSubmissionService,
    handlers: {
      Submit: async (r: SubmitRequest, ctx: CallContext): Promise<SubmitResponse> => {
        await deps.send(submitRequestOf(r.commands, ctx.claims, deps));
        return {};
      },
      SubmitReassignment: async (_r: SubmitReassignmentRequest): Promise<never> => {
        throw reassignmentUnsupported();
      },
    },
  };
}
