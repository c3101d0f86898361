import {
  type Engine,
  type FatContract,
  TransactionDecoder,
  type Type,
  type TypedArgument,
} from '../../daml/index.js';
import type { Value as LfValue } from '../../daml/values/index.js';
import { CommonErrors, errorCatalogue, WeftError } from '../../errors/index.js';
import type {
  SubmitAndWaitForReassignmentRequest,
  SubmitAndWaitForTransactionRequest,
  SubmitAndWaitForTransactionResponse,
  SubmitAndWaitRequest,
  SubmitAndWaitResponse,
} from '../../generated/com/daml/ledger/api/v2/command_service.js';
import { CommandService } from '../../generated/com/daml/ledger/api/v2/command_service.js';
import type { Command, Commands } from '../../generated/com/daml/ledger/api/v2/commands.js';
import {
  type TransactionFormat,
  TransactionShape,
} from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import type {
  GetUpdateByIdRequest,
  GetUpdateResponse,
} from '../../generated/com/daml/ledger/api/v2/update_service.js';
import type { Identifier, Value } from '../../generated/com/daml/ledger/api/v2/value.js';
import { decodeContract } from '../../participant/contracts.js';
import { type Completion, ParticipantErrors, type SubmitRequest } from '../../participant/index.js';
import type { Claims } from '../auth/claims.js';
import { effectiveUserId, requireActAs } from '../auth/index.js';
import { identifierToRef } from '../identifiers.js';
import type { CallContext, ServiceImpl, UnaryHandler } from '../service.js';
import { invalidField, missingField, requireNonNegativeOffset, requireParty } from '../validation/index.js';
import { durationMicros, timestampMicros, timestampToProto } from './protobuf-time.js';

/** What turning a Ledger API `Commands` into a participant submission needs. */
export interface CommandDecoding {
  /** A Daml value of the request as the type the engine expects (type-directed: labels and ids are optional). */
  decodeValue(value: Value, type: Type, path: string): LfValue;
  /** A disclosed contract's `created_event_blob`, decoded (INVALID_DISCLOSED_CONTRACT when it is not one). */
  disclosedContract(blob: Uint8Array): FatContract;
}

/**
 * The decoding of a participant's engine: values by ValueTranslator.fromProto; a disclosed contract's blob as the
 * participant serializes contracts (what the read services put in `created_event_blob`).
 */
export function commandDecoding(engine: Engine): CommandDecoding {
  const decoder = new TransactionDecoder(engine.types);
  return {
    decodeValue: (value, type, path) => engine.translator.fromProto(value, type, path),
    disclosedContract: (blob) => {
      try {
        return decodeContract(blob, decoder);
      } catch (e) {
        throw new WeftError(
          ParticipantErrors.INVALID_DISCLOSED_CONTRACT,
          `the created_event_blob is not a contract this participant can read: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    },
  };
}

/** A command argument as the request gave it, decoded when the engine knows its type; kept for inspection. */
export class ProtoArgument implements TypedArgument {
  constructor(
    readonly value: Value,
    private readonly decoding: CommandDecoding,
  ) {}

  decodeAs(type: Type, path: string): LfValue {
    return this.decoding.decodeValue(this.value, type, path);
  }
}

/** Canton's LedgerString: command, submission and workflow ids. */
const LEDGER_STRING = /^[A-Za-z0-9#:\-_/ ]{1,255}$/;

function ledgerString(value: string, field: string): string {
  if (!LEDGER_STRING.test(value)) {
    throw invalidField(
      field,
      `${JSON.stringify(value)} is not a valid LedgerString: 1 to 255 of A-Z a-z 0-9 # : - _ / and space`,
    );
  }
  return value;
}

function templateRef(id: Identifier | undefined, field: string): string {
  if (!id) throw missingField(field);
  return identifierToRef(id, field);
}

function engineCommand(c: Command, path: string, d: CommandDecoding): unknown {
  const value = (v: Value | undefined, field: string) => {
    if (!v) throw missingField(field);
    return new ProtoArgument(v, d);
  };
  switch (c.command.oneofKind) {
    case 'create': {
      const cc = c.command.create;
      if (!cc.createArguments) throw missingField(`${path}.create_arguments`);
      return {
        CreateCommand: {
          templateId: templateRef(cc.templateId, `${path}.template_id`),
          createArguments: new ProtoArgument({ sum: { oneofKind: 'record', record: cc.createArguments } }, d),
        },
      };
    }
    case 'exercise': {
      const e = c.command.exercise;
      if (e.contractId === '') throw missingField(`${path}.contract_id`);
      if (e.choice === '') throw missingField(`${path}.choice`);
      return {
        ExerciseCommand: {
          templateId: templateRef(e.templateId, `${path}.template_id`),
          contractId: e.contractId,
          choice: e.choice,
          choiceArgument: value(e.choiceArgument, `${path}.choice_argument`),
        },
      };
    }
    case 'createAndExercise': {
      const ce = c.command.createAndExercise;
      if (!ce.createArguments) throw missingField(`${path}.create_arguments`);
      if (ce.choice === '') throw missingField(`${path}.choice`);
      return {
        CreateAndExerciseCommand: {
          templateId: templateRef(ce.templateId, `${path}.template_id`),
          createArguments: new ProtoArgument({ sum: { oneofKind: 'record', record: ce.createArguments } }, d),
          choice: ce.choice,
          choiceArgument: value(ce.choiceArgument, `${path}.choice_argument`),
        },
      };
    }
    case 'exerciseByKey':
      throw invalidField(
        `${path}.exercise_by_key`,
        'contract keys are not part of Daml-LF 2.1, which this participant runs',
      );
    default:
      throw missingField(`${path}.command`);
  }
}

/** The parties a submission acts and reads as, as Canton's CommandsValidator.effectiveSubmitters counts them. */
export function effectiveSubmitters(commands: Commands | undefined): { actAs: string[]; readAs: string[] } {
  const actAs = [...new Set(commands?.actAs ?? [])];
  return { actAs, readAs: [...new Set(commands?.readAs ?? [])].filter((p) => !actAs.includes(p)) };
}

/**
 * Checks a submission's `Commands` as Canton's CommandsValidator does and turns it into the participant's submit
 * request, after its authorization (CanActAs each acting party, CanReadAs each reading one, the token's user).
 */
export function submitRequestOf(
  commands: Commands | undefined,
  claims: Claims,
  d: CommandDecoding,
): SubmitRequest {
  if (!commands) throw missingField('commands');
  const { actAs, readAs } = effectiveSubmitters(commands);
  const userId = effectiveUserId(claims, commands.userId);
  requireActAs(claims, actAs, readAs);
  if (commands.commandId === '') throw missingField('command_id');
  ledgerString(commands.commandId, 'command_id');
  if (commands.workflowId !== '') ledgerString(commands.workflowId, 'workflow_id');
  if (commands.submissionId !== '') ledgerString(commands.submissionId, 'submission_id');
  if (actAs.length === 0) throw missingField('act_as');
  for (const [i, p] of actAs.entries()) requireParty(p, `act_as[${i}]`);
  for (const [i, p] of readAs.entries()) requireParty(p, `read_as[${i}]`);
  if (commands.commands.length === 0) throw missingField('commands');
  if (commands.prefetchContractKeys.length > 0) {
    throw invalidField(
      'prefetch_contract_keys',
      'contract keys are not part of Daml-LF 2.1, which this participant runs',
    );
  }
  const period = commands.deduplicationPeriod;
  let deduplicationPeriod: SubmitRequest['deduplicationPeriod'];
  if (period.oneofKind === 'deduplicationDuration') {
    const micros = durationMicros(period.deduplicationDuration);
    if (micros < 0n) throw invalidField('deduplication_duration', 'Duration must be positive');
    deduplicationPeriod = { kind: 'duration', micros };
  } else if (period.oneofKind === 'deduplicationOffset') {
    deduplicationPeriod = {
      kind: 'offset',
      offset: requireNonNegativeOffset(period.deduplicationOffset, 'deduplication_offset'),
    };
  }
  const disclosedContracts = commands.disclosedContracts.map((dc, i) => {
    if (dc.createdEventBlob.length === 0) throw missingField(`disclosed_contracts[${i}].created_event_blob`);
    const contract = d.disclosedContract(dc.createdEventBlob);
    const mismatch = (what: string) =>
      new WeftError(
        ParticipantErrors.INVALID_DISCLOSED_CONTRACT,
        `disclosed_contracts[${i}]: the created_event_blob holds ${what}`,
        { contractId: contract.contractId.coid },
      );
    if (dc.contractId !== '' && dc.contractId !== contract.contractId.coid)
      throw mismatch(`contract ${contract.contractId.coid}, not ${dc.contractId}`);
    const t = contract.templateId;
    if (
      dc.templateId &&
      (dc.templateId.packageId !== t.packageId ||
        dc.templateId.moduleName !== t.module.join('.') ||
        dc.templateId.entityName !== t.name.join('.'))
    )
      throw mismatch(`a contract of ${t.packageId}:${t.module.join('.')}:${t.name.join('.')}`);
    return { contract, synchronizerId: dc.synchronizerId === '' ? undefined : dc.synchronizerId };
  });
  return {
    commands: commands.commands.map((c, i) => engineCommand(c, `commands[${i}]`, d)),
    actAs,
    readAs,
    commandId: commands.commandId,
    userId,
    ...(commands.submissionId !== '' ? { submissionId: commands.submissionId } : {}),
    ...(commands.workflowId !== '' ? { workflowId: commands.workflowId } : {}),
    ...(commands.synchronizerId !== '' ? { synchronizerId: commands.synchronizerId } : {}),
    ...(commands.packageIdSelectionPreference.length > 0
      ? { packagePreference: commands.packageIdSelectionPreference }
      : {}),
    ...(deduplicationPeriod ? { deduplicationPeriod } : {}),
    ...(commands.minLedgerTimeAbs ? { minLedgerTimeAbs: timestampMicros(commands.minLedgerTimeAbs) } : {}),
    ...(commands.minLedgerTimeRel ? { minLedgerTimeRel: durationMicros(commands.minLedgerTimeRel) } : {}),
    ...(disclosedContracts.length > 0 ? { disclosedContracts } : {}),
  };
}

/** A failed completion as the error SubmitAndWait answers (Canton propagates the rejection's own code). */
export function completionError(c: Completion): WeftError {
  const def = errorCatalogue().find((e) => e.code === c.code) ?? CommonErrors.INTERNAL;
  return new WeftError(def, c.message, {
    commandId: c.commandId,
    submissionId: c.submissionId,
    offset: c.offset,
  });
}

export interface CommandServiceDeps extends CommandDecoding {
  submit(r: SubmitRequest): Promise<Completion>;
  /** The UpdateService's GetUpdateById (it checks the format and the caller's right to read its parties). */
  readonly getUpdateById: UnaryHandler<GetUpdateByIdRequest, GetUpdateResponse>;
}

/**
 * Canton's default format of SubmitAndWaitForTransaction: every event of the submitting and reading parties, in
 * the ACS delta shape, verbose.
 */
function defaultFormat(parties: readonly string[]): TransactionFormat {
  const wildcard = {
    cumulative: [
      {
        identifierFilter: {
          oneofKind: 'wildcardFilter' as const,
          wildcardFilter: { includeCreatedEventBlob: false },
        },
      },
    ],
  };
  return {
    eventFormat: { filtersByParty: Object.fromEntries(parties.map((p) => [p, wildcard])), verbose: true },
    transactionShape: TransactionShape.ACS_DELTA,
  };
}

/** The Ledger API's CommandService: submits a command and waits for its completion (and transaction). */
export function commandService(deps: CommandServiceDeps): ServiceImpl {
  const submitAndWait = async (commands: Commands | undefined, ctx: CallContext): Promise<Completion> => {
    const completion = await deps.submit(submitRequestOf(commands, ctx.claims, deps));
    if (completion.status === 'failed') throw completionError(completion);
    return completion;
  };
  const handlers = {
    SubmitAndWait: async (r: SubmitAndWaitRequest, ctx: CallContext): Promise<SubmitAndWaitResponse> => {
      const c = await submitAndWait(r.commands, ctx);
      return { updateId: c.updateId ?? '', completionOffset: c.offset };
    },
    SubmitAndWaitForTransaction: async (
      r: SubmitAndWaitForTransactionRequest,
      ctx: CallContext,
    ): Promise<SubmitAndWaitForTransactionResponse> => {
      const c = await submitAndWait(r.commands, ctx);
      const { actAs, readAs } = effectiveSubmitters(r.commands);
      const format = r.transactionFormat ?? defaultFormat([...actAs, ...readAs]);
      try {
        const update = await deps.getUpdateById(
          { updateId: c.updateId!, updateFormat: { includeTransactions: format } },
          ctx,
        );
        if (update.update.oneofKind === 'transaction') return { transaction: update.update.transaction };
      } catch (e) {
        // A format that filters out every event still answers the transaction, empty (as Canton).
        if (!(e instanceof WeftError && e.code === 'UPDATE_NOT_FOUND')) throw e;
      }
      return {
        transaction: {
          updateId: c.updateId!,
          commandId: c.commandId,
          workflowId: r.commands?.workflowId ?? '',
          events: [],
          offset: c.offset,
          synchronizerId: c.synchronizerId,
          recordTime: timestampToProto(c.recordTime),
        },
      };
    },
    SubmitAndWaitForReassignment: async (_r: SubmitAndWaitForReassignmentRequest): Promise<never> => {
      throw reassignmentUnsupported();
    },
  };
  return { type: CommandService, handlers };
}

/** Reassignment between synchronizers does not exist in Weft yet. */
export function reassignmentUnsupported(): WeftError {
  return new WeftError(
    CommonErrors.UNSUPPORTED_OPERATION,
    'The request exercised an unsupported operation: reassignments (unassign, assign) are not supported: Weft does not move contracts between synchronizers yet',
  );
}
