import { describe, expect, it } from 'vitest';
import { CommonErrors, isWeftError, type WeftError } from '../../errors/index.js';
import { createLogger } from '../../observability/index.js';
import { ParticipantPruning, PruningErrors } from '../../participant/pruning.js';
import { emptyBatch, ParticipantStore } from '../../participant/store.js';
import { openStorage } from '../../storage/index.js';
import { type Claims, WILDCARD_CLAIMS } from '../auth/index.js';
import type { CallContext } from '../service.js';
import { RequestValidationErrors } from '../validation/index.js';
import { participantPruningService } from './pruning.js';

const logger = createLogger({ level: 'silent' });

async function failure(p: Promise<unknown>): Promise<WeftError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isWeftError(e)) throw new Error(`expected a WeftError, got ${String(e)}`);
  return e;
}

describe('participant pruning service', () => {
  it('prunes for participant admins, with Canton validation', async () => {
    const storage = await openStorage({ kind: 'sqlite', path: ':memory:' });
    const store = await ParticipantStore.open(storage);
    const b = emptyBatch();
    for (const i of [1n, 2n, 3n]) {
      b.updates.push({
        offset: i,
        updateId: `u${i}`,
        synchronizerId: 'sync',
        requestId: 1000n + i,
        ledgerTime: i,
        workflowId: '',
        transaction: Buffer.from('tx'),
        submission: undefined,
        parties: ['alice'],
      });
    }
    await store.write(b);
    const pruning = await ParticipantPruning.open(storage, logger);
    const service = participantPruningService({ pruning });
    const prune = (req: object, claims: Claims = WILDCARD_CLAIMS) =>
      (service.handlers.Prune as (r: object, c: CallContext) => Promise<object>)(
        { submissionId: '', pruneAllDivulgedContracts: false, ...req },
        { claims, signal: new AbortController().signal, correlationId: 'c', traceparent: undefined, logger },
      );

    expect(Object.keys(service.handlers)).toEqual(service.type.methods.map((m) => m.name));
    const cases: [object, string, RegExp][] = [
      [{ pruneUpTo: 0n }, CommonErrors.INVALID_ARGUMENT.code, /not specified or zero/],
      [{ pruneUpTo: -1n }, RequestValidationErrors.NON_POSITIVE_OFFSET.code, /not a positive integer/],
      [{ pruneUpTo: 1n, submissionId: 'bad!' }, CommonErrors.INVALID_ARGUMENT.code, /submission_id/],
      [{ pruneUpTo: 3n }, PruningErrors.OFFSET_OUT_OF_RANGE.code, /before ledger end 3/],
    ];
    for (const [req, code, message] of cases) {
      const e = await failure(prune(req));
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(message)]);
    }
    const notAdmin: Claims = { ...WILDCARD_CLAIMS, wildcard: false, userId: 'u', participantAdmin: false };
    expect((await failure(prune({ pruneUpTo: 2n }, notAdmin))).code).toBe(
      CommonErrors.PERMISSION_DENIED.code,
    );
    expect(pruning.prunedUpTo()).toBe(0n);
    expect(await prune({ pruneUpTo: 2n, submissionId: 'prune-1' })).toEqual({});
    expect(pruning.prunedUpTo()).toBe(2n);
    expect((await store.updates('alice', 0n, 10n, 10)).map((u) => u.offset)).toEqual([3n]);
  });
});
