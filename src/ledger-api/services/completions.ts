import { CATEGORIES, errorCatalogue, WeftError } from '../../errors/index.js';
import {
  CommandCompletionService,
  type CompletionStreamRequest,
  type CompletionStreamResponse,
} from '../../generated/com/daml/ledger/api/v2/command_completion_service.js';
import type { Completion as ProtoCompletion } from '../../generated/com/daml/ledger/api/v2/completion.js';
import { Any } from '../../generated/google/protobuf/any.js';
import { ErrorInfo } from '../../generated/google/rpc/error_details.js';
import type { Status } from '../../generated/google/rpc/status.js';
import type { Completion, CompletionFilter, DeduplicationPeriod } from '../../participant/index.js';
import type { OffsetCheckpoint } from '../../participant/read-model.js';
import { effectiveUserId, requireReadAs } from '../auth/index.js';
import type { CallContext, ServiceImpl } from '../service.js';
import {
  missingField,
  RequestValidationErrors,
  requireNonNegativeOffset,
  requireOffsetAtMostEnd,
  requireParty,
} from '../validation/index.js';
import { durationToProto, timestampToProto } from './protobuf-time.js';
import { offsetCheckpointToProto } from './read-encoding.js';

/**
 * A completion's google.rpc.Status as Canton publishes it: OK for a success; for a rejection the code of its
 * category, the message `CODE(category,submission): cause` and an ErrorInfo whose reason is the code.
 */
export function completionStatus(c: Completion): Status {
  if (c.status === 'succeeded' || c.code === undefined) return { code: 0, message: '', details: [] };
  const category =
    CATEGORIES[
      errorCatalogue().find((e) => e.code === c.code)?.category ?? 'SystemInternalAssumptionViolated'
    ];
  return {
    code: category.grpc,
    message: `${c.code}(${category.id},${c.submissionId.slice(0, 8)}): ${c.message}`,
    details: [
      Any.pack(
        { reason: c.code, domain: '', metadata: { category: String(category.id), commandId: c.commandId } },
        ErrorInfo,
      ),
    ],
  };
}

/** A completion on the wire; `parties` limits its acting parties to those the reader asked for (as Canton). */
export function completionToProto(c: Completion, parties?: ReadonlySet<string>): ProtoCompletion {
  return {
    commandId: c.commandId,
    status: completionStatus(c),
    updateId: c.updateId ?? '',
    userId: c.userId,
    actAs: parties ? c.actAs.filter((p) => parties.has(p)) : [...c.actAs],
    submissionId: c.submissionId,
    deduplicationPeriod: deduplicationPeriodToProto(c.deduplicationPeriod),
    offset: c.offset,
    synchronizerTime: { synchronizerId: c.synchronizerId, recordTime: timestampToProto(c.recordTime) },
  };
}

/** The deduplication period the participant applied (Canton sets it on every completion of a submission). */
function deduplicationPeriodToProto(
  p: DeduplicationPeriod | undefined,
): ProtoCompletion['deduplicationPeriod'] {
  if (p === undefined) return { oneofKind: undefined };
  return p.kind === 'duration'
    ? { oneofKind: 'deduplicationDuration', deduplicationDuration: durationToProto(p.micros) }
    : { oneofKind: 'deduplicationOffset', deduplicationOffset: p.offset };
}

export interface CompletionServiceDeps {
  /** The last offset assigned. */
  ledgerEnd(): bigint;
  /** The offset the participant is pruned up to (inclusive; 0 when never pruned). */
  prunedUpTo(): Promise<bigint>;
  /** The completions, and offset checkpoints once caught up (Canton's completion stream has both). */
  completions(
    filter: CompletionFilter,
    o: { after: bigint; signal?: AbortSignal },
  ): AsyncIterable<Completion | OffsetCheckpoint>;
}

/**
 * The Ledger API's CommandCompletionService: the completions of one user's commands for some of their acting
 * parties, from an offset (exclusive), then as they come. Authorized as Canton: the token's user (another user
 * only for a reader of any party) and CanReadAs each party.
 */
export function completionService(deps: CompletionServiceDeps): ServiceImpl {
  return {
    type: CommandCompletionService,
    handlers: {
      CompletionStream: async function* (
        r: CompletionStreamRequest,
        ctx: CallContext,
      ): AsyncIterable<CompletionStreamResponse> {
        const userId = effectiveUserId(ctx.claims, r.userId, { anyPartyReaderMayNameOthers: true });
        requireReadAs(ctx.claims, r.parties);
        if (r.parties.length === 0) throw missingField('parties');
        for (const [i, p] of r.parties.entries()) requireParty(p, `parties[${i}]`);
        const after = requireNonNegativeOffset(r.beginExclusive, 'begin_exclusive');
        requireOffsetAtMostEnd('Begin', after, deps.ledgerEnd());
        const pruned = await deps.prunedUpTo();
        if (after < pruned) {
          throw new WeftError(
            RequestValidationErrors.PARTICIPANT_PRUNED_DATA_ACCESSED,
            `Command completions request from ${after} precedes pruned offset ${pruned}`,
            { earliest_offset: pruned },
          );
        }
        const parties = new Set(r.parties);
        for await (const c of deps.completions({ userId, parties }, { after, signal: ctx.signal })) {
          yield {
            completionResponse:
              'kind' in c
                ? { oneofKind: 'offsetCheckpoint', offsetCheckpoint: offsetCheckpointToProto(c) }
                : { oneofKind: 'completion', completion: completionToProto(c, parties) },
          };
        }
      },
    },
  };
}
