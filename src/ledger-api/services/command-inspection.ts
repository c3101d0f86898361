import {
  CommandInspectionService,
  CommandState,
  type GetCommandStatusRequest,
  type GetCommandStatusResponse,
  type CommandStatus as ProtoCommandStatus,
} from '../../generated/com/daml/ledger/api/v2/admin/command_inspection_service.js';
import type { Command } from '../../generated/com/daml/ledger/api/v2/commands.js';
import type { Identifier, Value } from '../../generated/com/daml/ledger/api/v2/value.js';
import type { CommandStatus, CommandStatusState } from '../../participant/index.js';
import { requireAdmin } from '../auth/index.js';
import { identifierToProto } from '../identifiers.js';
import type { CallContext, ServiceImpl } from '../service.js';
import { ProtoArgument } from './commands.js';
import { completionToProto } from './completions.js';
import { timestampToProto } from './protobuf-time.js';

/** Canton's default when the request sets no limit (the participant keeps 100 per state anyway). */
const DEFAULT_LIMIT = 100;

const STATES: Record<CommandStatusState, CommandState> = {
  pending: CommandState.PENDING,
  succeeded: CommandState.SUCCEEDED,
  failed: CommandState.FAILED,
};

/** An engine command's `PKG:Module:Entity` reference as an Identifier. */
function identifierOf(ref: string): Identifier {
  const [packageId = '', moduleName = '', entityName = ''] = ref.split(':');
  return { packageId, moduleName, entityName };
}

/**
 * A submitted command on the wire. Arguments are those the Ledger API request carried; commands submitted inside
 * the participant (its admin workflows) carry none here.
 */
function commandOf(c: unknown): Command {
  const proto = (v: unknown): Value | undefined => (v instanceof ProtoArgument ? v.value : undefined);
  const record = (v: unknown) => {
    const value = proto(v);
    return value?.sum.oneofKind === 'record' ? value.sum.record : undefined;
  };
  const cmd = c as Record<string, Record<string, unknown> | undefined>;
  if (cmd.CreateCommand) {
    const x = cmd.CreateCommand;
    const createArguments = record(x.createArguments);
    return {
      command: {
        oneofKind: 'create',
        create: {
          templateId: identifierOf(String(x.templateId)),
          ...(createArguments ? { createArguments } : {}),
        },
      },
    };
  }
  if (cmd.ExerciseCommand) {
    const x = cmd.ExerciseCommand;
    const choiceArgument = proto(x.choiceArgument);
    return {
      command: {
        oneofKind: 'exercise',
        exercise: {
          templateId: identifierOf(String(x.templateId)),
          contractId: String(x.contractId),
          choice: String(x.choice),
          ...(choiceArgument ? { choiceArgument } : {}),
        },
      },
    };
  }
  if (cmd.CreateAndExerciseCommand) {
    const x = cmd.CreateAndExerciseCommand;
    const createArguments = record(x.createArguments);
    const choiceArgument = proto(x.choiceArgument);
    return {
      command: {
        oneofKind: 'createAndExercise',
        createAndExercise: {
          templateId: identifierOf(String(x.templateId)),
          choice: String(x.choice),
          ...(createArguments ? { createArguments } : {}),
          ...(choiceArgument ? { choiceArgument } : {}),
        },
      },
    };
  }
  return { command: { oneofKind: undefined } };
}

function statusToProto(s: CommandStatus): ProtoCommandStatus {
  const c = s.completion;
  const completion =
    c === undefined
      ? undefined
      : 'offset' in c
        ? completionToProto(c)
        : {
            ...completionToProto({
              offset: 0n,
              commandId: s.commandId,
              submissionId: s.submissionId,
              userId: s.userId,
              actAs: s.actAs,
              status: 'failed',
              code: c.code,
              message: c.message,
              updateId: undefined,
              recordTime: 0n,
              synchronizerId: '',
              deduplicationPeriod: undefined,
            }),
            synchronizerTime: undefined,
          };
  return {
    started: timestampToProto(s.started),
    ...(s.completed !== undefined ? { completed: timestampToProto(s.completed) } : {}),
    ...(completion ? { completion } : {}),
    state: STATES[s.state],
    commands: s.commands.map(commandOf),
    ...(s.statistics ? { requestStatistics: s.statistics } : {}),
    ...(s.updates
      ? {
          updates: {
            created: s.updates.created.map((x) => ({
              templateId: identifierToProto(x.templateId),
              contractId: x.contractId,
            })),
            archived: s.updates.archived.map((x) => ({
              templateId: identifierToProto(x.templateId),
              contractId: x.contractId,
            })),
            exercised: s.updates.exercised,
            fetched: s.updates.fetched,
            lookedUpByKey: s.updates.lookedUpByKey,
          },
        }
      : {}),
  };
}

export interface CommandInspectionServiceDeps {
  commandStatuses(o: {
    commandIdPrefix: string;
    state: CommandStatusState | undefined;
    limit: number;
  }): CommandStatus[];
}

/** The Ledger API's CommandInspectionService: the participant's recent submissions (admins only, as Canton). */
export function commandInspectionService(deps: CommandInspectionServiceDeps): ServiceImpl {
  return {
    type: CommandInspectionService,
    handlers: {
      GetCommandStatus: async (
        r: GetCommandStatusRequest,
        ctx: CallContext,
      ): Promise<GetCommandStatusResponse> => {
        requireAdmin(ctx.claims);
        const state = (Object.keys(STATES) as CommandStatusState[]).find((k) => STATES[k] === r.state);
        const limit = r.limit === 0 ? DEFAULT_LIMIT : r.limit;
        return {
          commandStatus: deps
            .commandStatuses({ commandIdPrefix: r.commandIdPrefix, state, limit })
            .map(statusToProto),
        };
      },
    },
  };
}
