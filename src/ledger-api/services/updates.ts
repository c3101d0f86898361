import { WeftError } from '../../errors/index.js';
import {
  type GetUpdateByIdRequest,
  type GetUpdateByOffsetRequest,
  type GetUpdateResponse,
  type GetUpdatesRequest,
  GetUpdatesResponse,
  UpdateService,
} from '../../generated/com/daml/ledger/api/v2/update_service.js';
import type { LedgerTransaction, OffsetCheckpoint } from '../../participant/read-model.js';
import { FAST_WRITE_OPTIONS } from '../../wire/index.js';
import { type CallContext, EncodedMessages, type ServiceImpl } from '../service.js';
import {
  invalidField,
  missingField,
  RequestValidationErrors,
  requireNonNegativeOffset,
  requireOffsetAtMostEnd,
  requirePositiveOffset,
} from '../validation/index.js';
import { authorizeUpdateFormat, type UpdateFormat, validateUpdateFormat } from './formats.js';
import { indexedUpdateResponse, offsetCheckpointToProto, transactionToProto } from './read-encoding.js';
import { type ReadServiceDeps, requireNotPruned } from './reads.js';
import type { EncodedUpdateCache } from './update-cache.js';

/** Encoded responses handed to the transport at once: bounds what a slow client makes the transport hold. */
const BATCH = 64;

/** Canton's LedgerString: what an update id may be. */
const LEDGER_STRING = /^[A-Za-z0-9#:\-_/ ]{1,255}$/;

/**
 * UpdateService: the participant's updates as the requesting parties see them — a stream from an offset (tailing
 * live updates unless `end_inclusive` is given) and single updates by offset or id. Only transactions exist in
 * Weft today: reassignment and topology formats are accepted and authorized but select nothing. Streams to a
 * transport that writes protobuf get encoded responses: of a verbose format, assembled from the participant's
 * pre-encoded events where it has them; with a `cache`, served and recorded there (see {@link EncodedUpdateCache}).
 */
export function updateService(deps: ReadServiceDeps, cache?: EncodedUpdateCache): ServiceImpl {
  const transactionsOf = (format: UpdateFormat) => {
    const t = format.transactions;
    return (
      t && {
        format: t,
        filter: deps.reads.eventFilter(t.eventFormat),
        shape: t.shape,
        verbose: t.eventFormat.verbose,
      }
    );
  };
  const single = (tx: LedgerTransaction | undefined, verbose: boolean, what: string): GetUpdateResponse => {
    if (!tx)
      throw new WeftError(
        RequestValidationErrors.UPDATE_NOT_FOUND,
        `Update not found, or not visible: ${what}`,
      );
    return { update: { oneofKind: 'transaction', transaction: transactionToProto(tx, verbose) } };
  };
  const notFound = (what: string) =>
    new WeftError(RequestValidationErrors.UPDATE_NOT_FOUND, `Update not found, or not visible: ${what}`);

  return {
    type: UpdateService,
    handlers: {
      GetUpdates: async function* (
        request: GetUpdatesRequest,
        ctx: CallContext,
      ): AsyncGenerator<GetUpdatesResponse | EncodedMessages> {
        authorizeUpdateFormat(ctx.claims, request.updateFormat);
        const begin = requireNonNegativeOffset(request.beginExclusive, 'begin_exclusive');
        const end =
          request.endInclusive === undefined
            ? undefined
            : requirePositiveOffset(request.endInclusive, 'end_inclusive');
        const ledgerEnd = deps.ledgerEnd();
        requireOffsetAtMostEnd('Begin', begin, ledgerEnd);
        if (end !== undefined) requireOffsetAtMostEnd('End', end, ledgerEnd);
        const format = validateUpdateFormat(request.updateFormat, deps.packages);
        if (end !== undefined && end < begin) {
          throw new WeftError(
            RequestValidationErrors.OFFSET_OUT_OF_RANGE,
            `End offset ${end} is before begin offset ${begin}.`,
          );
        }
        await requireNotPruned(
          deps,
          begin,
          `Transactions request from ${begin} to ${end ?? 'the ledger end'}`,
        );
        const t = transactionsOf(format);
        if (!t) {
          // Nothing Weft serves is selected: an open-ended stream stays open (as a tailing one would) until the
          // client goes away.
          if (end === undefined && !ctx.signal.aborted) {
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          }
          return;
        }
        // Only a tailing stream has checkpoints, as in Canton.
        const options = { after: begin, end, signal: ctx.signal, checkpoints: end === undefined };
        if (!ctx.encoded) {
          for await (const u of deps.reads.transactions(t.filter, t.shape, options))
            yield updateResponse(u, t.verbose);
          return;
        }
        // The encoded responses another stream of this format read already, then the rest read (and recorded).
        const cursor = cache?.cursor(t.format, begin);
        if (cursor) {
          for (let cached = cursor.take(end, BATCH); cached.length > 0; cached = cursor.take(end, BATCH)) {
            if (ctx.signal.aborted) return;
            yield new EncodedMessages(cached);
          }
          if (end !== undefined && cursor.position >= end) return;
        }
        const from = { ...options, after: cursor?.position ?? begin, indexed: t.verbose };
        // Verbose is the encoding events are stored pre-encoded in.
        for await (const page of deps.reads.transactionPages(t.filter, t.shape, from)) {
          if ('kind' in page) {
            cursor?.record(page.offset, undefined);
            yield updateResponse(page, t.verbose);
            continue;
          }
          for (let i = 0; i < page.length; i += BATCH) {
            if (ctx.signal.aborted) return;
            yield new EncodedMessages(
              page.slice(i, i + BATCH).map((u) => {
                const bytes =
                  u.kind === 'indexed'
                    ? indexedUpdateResponse(u)
                    : GetUpdatesResponse.toBinary(updateResponse(u, t.verbose), FAST_WRITE_OPTIONS);
                return cursor ? cursor.record(u.offset, bytes) : bytes;
              }),
            );
          }
        }
      },

      GetUpdateByOffset: async (request: GetUpdateByOffsetRequest, ctx: CallContext) => {
        authorizeUpdateFormat(ctx.claims, request.updateFormat);
        const offset = requirePositiveOffset(request.offset, 'offset');
        const t = transactionsOf(validateUpdateFormat(request.updateFormat, deps.packages));
        if (!t) throw notFound(`offset ${offset}`);
        return single(
          await deps.reads.transactionAt(offset, t.filter, t.shape),
          t.verbose,
          `offset ${offset}`,
        );
      },

      GetUpdateById: async (request: GetUpdateByIdRequest, ctx: CallContext) => {
        authorizeUpdateFormat(ctx.claims, request.updateFormat);
        if (request.updateId === '') throw missingField('update_id');
        if (!LEDGER_STRING.test(request.updateId)) {
          throw invalidField('update_id', `${JSON.stringify(request.updateId)} is not a valid ledger string`);
        }
        const t = transactionsOf(validateUpdateFormat(request.updateFormat, deps.packages));
        if (!t) throw notFound(`update id ${request.updateId}`);
        return single(
          await deps.reads.transactionById(request.updateId, t.filter, t.shape),
          t.verbose,
          `update id ${request.updateId}`,
        );
      },
    },
  };
}

function updateResponse(u: LedgerTransaction | OffsetCheckpoint, verbose: boolean): GetUpdatesResponse {
  return u.kind === 'transaction'
    ? { update: { oneofKind: 'transaction', transaction: transactionToProto(u, verbose) } }
    : {
        update: { oneofKind: 'offsetCheckpoint', offsetCheckpoint: offsetCheckpointToProto(u) },
      };
}
