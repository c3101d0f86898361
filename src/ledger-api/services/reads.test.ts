import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../daml/dar/testing.js';
import { loadEngine } from '../../daml/engine/testing.js';
import type { Engine } from '../../daml/index.js';
import { isWeftError } from '../../errors/index.js';
import type { GetContractResponse } from '../../generated/com/daml/ledger/api/v2/contract_service.js';
import type { Event } from '../../generated/com/daml/ledger/api/v2/event.js';
import type { GetEventsByContractIdResponse } from '../../generated/com/daml/ledger/api/v2/event_query_service.js';
import type { GetActiveContractsResponse } from '../../generated/com/daml/ledger/api/v2/state_service.js';
import type { Transaction } from '../../generated/com/daml/ledger/api/v2/transaction.js';
import type { Filters } from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import { TransactionShape } from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import {
  type GetUpdateResponse,
  GetUpdatesResponse,
} from '../../generated/com/daml/ledger/api/v2/update_service.js';
import type { Record as ProtoRecord } from '../../generated/com/daml/ledger/api/v2/value.js';
import { createLogger } from '../../observability/index.js';
import { TEST_SYNCHRONIZER, type TokenReadLedger, tokenReadLedger } from '../../participant/reads-testing.js';
import { openStorage, type Storage } from '../../storage/index.js';
import { type Claims, WILDCARD_CLAIMS } from '../auth/index.js';
import { type CallContext, EncodedMessages, type ServiceImpl } from '../service.js';
import { contractService } from './contracts.js';
import { eventQueryService } from './events.js';
import type { ReadServiceDeps } from './reads.js';
import { stateService } from './state.js';
import { EncodedUpdateCache } from './update-cache.js';
import { updateService } from './updates.js';

const FP = `1220${'ab'.repeat(32)}`;
const ADMIN = `admin::${FP}`;
const ALICE = `alice::${FP}`;
const BOB = `bob::${FP}`;
const PARTICIPANT = `PAR::participant1::${FP}`;

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

let storage: Storage;
let ledger: TokenReadLedger;
let pruned = 0n;
let deps: ReadServiceDeps;
beforeEach(async () => {
  storage = await openStorage({ kind: 'sqlite', path: ':memory:' });
  ledger = await tokenReadLedger(storage, engine, { admin: ADMIN, alice: ALICE, bob: BOB });
  pruned = 0n;
  deps = {
    reads: ledger.reads,
    packages: engine.packages,
    ledgerEnd: () => ledger.journal.durableOffset,
    prunedUpTo: async () => pruned,
  };
});
afterEach(async () => {
  ledger.stop();
  await storage.close();
});

const ctx = (claims: Claims = WILDCARD_CLAIMS, signal = new AbortController().signal): CallContext => ({
  claims,
  signal,
  correlationId: 'test',
  traceparent: undefined,
  logger: createLogger({ level: 'silent' }),
});

/** A user's claims: reading as `readAs`, nothing else. */
const reader = (...readAs: string[]): Claims => ({
  ...WILDCARD_CLAIMS,
  wildcard: false,
  userId: 'reader',
  participantAdmin: false,
  identityProviderAdmin: false,
  readAs: new Set(readAs),
  readAsAnyParty: false,
  executeAsAnyParty: false,
});

type Handler = (request: object, ctx: CallContext) => Promise<unknown> | AsyncIterable<unknown>;
const handler = (service: ServiceImpl, method: string) => service.handlers[method] as Handler;

const unary = <T>(service: ServiceImpl, method: string, request: object, c = ctx()): Promise<T> =>
  handler(service, method)(request, c) as Promise<T>;

async function stream<T>(service: ServiceImpl, method: string, request: object, c = ctx()): Promise<T[]> {
  const out: T[] = [];
  for await (const r of handler(service, method)(request, c) as AsyncIterable<T>) out.push(r);
  return out;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isWeftError(e)) return e.code;
    throw e;
  }
  throw new Error('expected the call to fail');
}

const wildcard: Filters = { cumulative: [] };
const eventFormat = (byParty: Record<string, Filters>, verbose = false) => ({
  filtersByParty: byParty,
  verbose,
});
const updateFormat = (byParty: Record<string, Filters>, shape = TransactionShape.ACS_DELTA) => ({
  includeTransactions: { eventFormat: eventFormat(byParty, true), transactionShape: shape },
});
const templateFilter = (packageId: string, moduleName: string, entityName: string): Filters => ({
  cumulative: [
    {
      identifierFilter: {
        oneofKind: 'templateFilter',
        templateFilter: { templateId: { packageId, moduleName, entityName }, includeCreatedEventBlob: false },
      },
    },
  ],
});
const TOKEN_MODULE = 'Splice.Testing.Tokens.TestTokenV1';

const transactionOf = (r: GetUpdatesResponse | GetUpdateResponse): Transaction => {
  if (r.update.oneofKind !== 'transaction')
    throw new Error(`expected a transaction, got ${r.update.oneofKind}`);
  return r.update.transaction;
};
const createdOf = (e: Event | undefined) => (e?.event.oneofKind === 'created' ? e.event.created : undefined);
const field = (r: ProtoRecord | undefined, label: string) =>
  r?.fields.find((f) => f.label === label)?.value?.sum;

describe('UpdateService', () => {
  it('streams transactions between offsets in the requested shape, with values encoded', async () => {
    const updates = updateService(deps);
    const txs = await stream<GetUpdatesResponse>(updates, 'GetUpdates', {
      beginExclusive: 1n,
      endInclusive: 3n,
      updateFormat: updateFormat({ [ALICE]: wildcard }),
    });
    expect(txs.map((r) => transactionOf(r).offset)).toEqual([2n, 3n]);
    const mint = transactionOf(txs[0]!);
    expect(mint).toMatchObject({
      updateId: 'update-2',
      commandId: 'mint',
      synchronizerId: TEST_SYNCHRONIZER,
    });
    const created = createdOf(mint.events[0])!;
    expect(created).toMatchObject({
      witnessParties: [ALICE],
      signatories: [ADMIN, ALICE].sort(),
      templateId: { moduleName: TOKEN_MODULE, entityName: 'Token' },
      packageName: 'splice-test-token-v1',
      acsDelta: true,
    });
    // Verbose: labels and record ids.
    expect(created.createArguments?.recordId?.entityName).toBe('Token');
    const holding = field(created.createArguments, 'holding');
    expect(field(holding?.oneofKind === 'record' ? holding.record : undefined, 'amount')).toEqual({
      oneofKind: 'numeric',
      numeric: '100.0000000000',
    });
    const effects = await stream<GetUpdatesResponse>(updates, 'GetUpdates', {
      beginExclusive: 2n,
      endInclusive: 3n,
      updateFormat: updateFormat({ [ALICE]: wildcard }, TransactionShape.LEDGER_EFFECTS),
    });
    expect(transactionOf(effects[0]!).events.map((e) => e.event.oneofKind)).toEqual([
      'exercised',
      'exercised',
      'created',
      'created',
    ]);
  });

  it('filters by a package-name or package-id template reference alike', async () => {
    const updates = updateService(deps);
    const tokenPackage = engine.packages.preferredPackageId('splice-test-token-v1')!;
    for (const packageId of ['#splice-test-token-v1', tokenPackage]) {
      const [offer] = await stream<GetUpdatesResponse>(updates, 'GetUpdates', {
        beginExclusive: 2n,
        endInclusive: 3n,
        updateFormat: updateFormat({
          [ALICE]: templateFilter(packageId, TOKEN_MODULE, 'TokenTransferOffer'),
        }),
      });
      expect(transactionOf(offer!).events.map((e) => createdOf(e)?.contractId)).toEqual([ledger.offer]);
    }
  });

  it('looks up single updates by offset and id, and answers UPDATE_NOT_FOUND when nothing is visible', async () => {
    const updates = updateService(deps);
    const format = updateFormat({ [BOB]: wildcard });
    const byOffset = await unary<GetUpdateResponse>(updates, 'GetUpdateByOffset', {
      offset: 3n,
      updateFormat: format,
    });
    expect(transactionOf(byOffset).updateId).toBe('update-3');
    const byId = await unary<GetUpdateResponse>(updates, 'GetUpdateById', {
      updateId: 'update-3',
      updateFormat: format,
    });
    expect(transactionOf(byId).offset).toBe(3n);
    expect(await code(unary(updates, 'GetUpdateByOffset', { offset: 2n, updateFormat: format }))).toBe(
      'UPDATE_NOT_FOUND',
    );
    expect(await code(unary(updates, 'GetUpdateById', { updateId: 'nope', updateFormat: format }))).toBe(
      'UPDATE_NOT_FOUND',
    );
    expect(await code(unary(updates, 'GetUpdateByOffset', { offset: 0n, updateFormat: format }))).toBe(
      'NON_POSITIVE_OFFSET',
    );
  });

  it("validates offsets, formats and filters as Canton's validators do", async () => {
    const updates = updateService(deps);
    const format = updateFormat({ [ALICE]: wildcard });
    const failure = (request: object) => code(stream(updates, 'GetUpdates', request));
    expect(await failure({ beginExclusive: -1n, updateFormat: format })).toBe('NEGATIVE_OFFSET');
    expect(await failure({ beginExclusive: 9n, updateFormat: format })).toBe('OFFSET_AFTER_LEDGER_END');
    expect(await failure({ beginExclusive: 0n, endInclusive: 9n, updateFormat: format })).toBe(
      'OFFSET_AFTER_LEDGER_END',
    );
    expect(await failure({ beginExclusive: 0n, endInclusive: 0n, updateFormat: format })).toBe(
      'NON_POSITIVE_OFFSET',
    );
    expect(await failure({ beginExclusive: 3n, endInclusive: 2n, updateFormat: format })).toBe(
      'OFFSET_OUT_OF_RANGE',
    );
    expect(await failure({ beginExclusive: 0n })).toBe('MISSING_FIELD');
    expect(
      await failure({
        beginExclusive: 0n,
        updateFormat: {
          includeTransactions: { eventFormat: eventFormat({ [ALICE]: wildcard }), transactionShape: 0 },
        },
      }),
    ).toBe('MISSING_FIELD');
    expect(
      await failure({ beginExclusive: 0n, updateFormat: { includeTransactions: { transactionShape: 1 } } }),
    ).toBe('MISSING_FIELD');
    expect(await failure({ beginExclusive: 0n, updateFormat: updateFormat({}) })).toBe('INVALID_ARGUMENT');
    expect(
      await failure({ beginExclusive: 0n, updateFormat: updateFormat({ 'not a party': wildcard }) }),
    ).toBe('INVALID_FIELD');
    const withTemplate = (packageId: string, entity = 'Token') =>
      failure({
        beginExclusive: 0n,
        updateFormat: updateFormat({ [ALICE]: templateFilter(packageId, TOKEN_MODULE, entity) }),
      });
    expect(await withTemplate('#no-such-package')).toBe('PACKAGE_NAMES_NOT_FOUND');
    expect(await withTemplate('#splice-test-token-v1', 'Nope')).toBe(
      'NO_TEMPLATES_FOR_PACKAGE_NAME_AND_QUALIFIED_NAME',
    );
    expect(await withTemplate('ab'.repeat(32))).toBe('TEMPLATES_OR_INTERFACES_NOT_FOUND');
    // Reading below the pruning offset.
    pruned = 2n;
    expect(await failure({ beginExclusive: 1n, updateFormat: format })).toBe(
      'PARTICIPANT_PRUNED_DATA_ACCESSED',
    );
    expect(
      (await stream(updates, 'GetUpdates', { beginExclusive: 2n, endInclusive: 3n, updateFormat: format }))
        .length,
    ).toBe(1);
  });

  it('checks the rights the format needs before anything else', async () => {
    const updates = updateService(deps);
    const request = {
      beginExclusive: 0n,
      endInclusive: 3n,
      updateFormat: updateFormat({ [ALICE]: wildcard }),
    };
    expect(await code(stream(updates, 'GetUpdates', request, ctx(reader(BOB))))).toBe('PERMISSION_DENIED');
    expect(await stream(updates, 'GetUpdates', request, ctx(reader(ALICE)))).toHaveLength(2);
    const any = {
      beginExclusive: 0n,
      updateFormat: {
        includeTransactions: {
          eventFormat: { filtersByParty: {}, filtersForAnyParty: wildcard, verbose: false },
          transactionShape: 1,
        },
      },
    };
    expect(await code(stream(updates, 'GetUpdates', any, ctx(reader(ALICE))))).toBe('PERMISSION_DENIED');
    // An unauthenticated caller (no user, no wildcard) is refused even without parties.
    const nobody = { ...reader(), userId: undefined };
    expect(await code(unary(updates, 'GetUpdateById', { updateId: 'update-1' }, ctx(nobody)))).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('serves nothing for formats without transactions, keeping an open-ended stream open', async () => {
    const updates = updateService(deps);
    const reassignments = { includeReassignments: eventFormat({ [ALICE]: wildcard }) };
    expect(
      await stream(updates, 'GetUpdates', {
        beginExclusive: 0n,
        endInclusive: 3n,
        updateFormat: reassignments,
      }),
    ).toEqual([]);
    const controller = new AbortController();
    let ended = false;
    const open = stream(
      updates,
      'GetUpdates',
      { beginExclusive: 0n, updateFormat: reassignments },
      ctx(WILDCARD_CLAIMS, controller.signal),
    ).then(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    controller.abort();
    await open;
    expect(ended).toBe(true);
  });

  it('tells a tailing stream with offset checkpoints how far it has caught up', async () => {
    const updates = updateService(deps);
    const controller = new AbortController();
    const seen: GetUpdatesResponse['update'][] = [];
    const done = (async () => {
      for await (const r of handler(updates, 'GetUpdates')(
        {
          beginExclusive: 0n,
          updateFormat: updateFormat({
            [BOB]: templateFilter('#splice-test-token-v1', TOKEN_MODULE, 'Token'),
          }),
        },
        ctx(WILDCARD_CLAIMS, controller.signal),
      ) as AsyncIterable<GetUpdatesResponse>) {
        seen.push(r.update);
        if (seen.length === 2) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    // Nothing of bob's tokens up to offset 3: a checkpoint there, then bob's new token.
    expect(seen).toEqual([
      { oneofKind: 'offsetCheckpoint', offsetCheckpoint: { offset: 3n, synchronizerTimes: [] } },
    ]);
    await ledger.accept();
    await done;
    expect(seen[1]?.oneofKind === 'transaction' && seen[1].transaction.offset).toBe(4n);
    // A stream with an end has no checkpoints.
    const bounded = await stream<GetUpdatesResponse>(updates, 'GetUpdates', {
      beginExclusive: 0n,
      endInclusive: 3n,
      updateFormat: updateFormat({ [BOB]: templateFilter('#splice-test-token-v1', TOKEN_MODULE, 'Token') }),
    });
    expect(bounded).toEqual([]);
  });

  it('tails live updates until the client goes away', async () => {
    const updates = updateService(deps);
    const controller = new AbortController();
    const seen: bigint[] = [];
    const done = (async () => {
      for await (const r of handler(updates, 'GetUpdates')(
        { beginExclusive: 0n, updateFormat: updateFormat({ [BOB]: wildcard }) },
        ctx(WILDCARD_CLAIMS, controller.signal),
      ) as AsyncIterable<GetUpdatesResponse>) {
        seen.push(transactionOf(r).offset);
        if (seen.length === 2) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([3n]);
    await ledger.accept();
    await done;
    expect(seen).toEqual([3n, 4n]);
  });
});

describe('UpdateService with the encoded-update cache', () => {
  /** A stream as the gRPC transport reads it: encoded responses decoded, message objects as they are. */
  async function encodedStream(service: ServiceImpl, request: object, c = { ...ctx(), encoded: true }) {
    const out: GetUpdatesResponse[] = [];
    for await (const r of handler(service, 'GetUpdates')(request, c) as AsyncIterable<
      GetUpdatesResponse | EncodedMessages
    >) {
      if (r instanceof EncodedMessages) out.push(...r.messages.map((m) => GetUpdatesResponse.fromBinary(m)));
      else out.push(r);
    }
    return out;
  }

  it('serves every range and format as the uncached stream does, from bytes once a format was read', async () => {
    const cache = new EncodedUpdateCache(1024 * 1024, 4);
    const cached = updateService(deps, cache);
    const plain = updateService(deps);
    await ledger.accept();
    const formats = [
      updateFormat({ [ALICE]: wildcard }),
      updateFormat({ [BOB]: wildcard }, TransactionShape.LEDGER_EFFECTS),
      updateFormat({
        [ALICE]: wildcard,
        [BOB]: templateFilter('#splice-test-token-v1', TOKEN_MODULE, 'Token'),
      }),
    ];
    const ranges: [bigint, bigint][] = [
      [1n, 2n],
      [0n, 4n],
      [2n, 3n],
      [0n, 4n],
      [3n, 4n],
      [0n, 1n],
    ];
    for (const format of formats) {
      for (const [beginExclusive, endInclusive] of ranges) {
        const request = { beginExclusive, endInclusive, updateFormat: format };
        expect(await encodedStream(cached, request)).toEqual(await stream(plain, 'GetUpdates', request));
      }
    }
    expect(cache.bytes).toBeGreaterThan(0);
    // JSON's streams (no `encoded`) get message objects, from the same service.
    const request = { beginExclusive: 0n, endInclusive: 4n, updateFormat: formats[0] };
    expect(await stream(cached, 'GetUpdates', request)).toEqual(await stream(plain, 'GetUpdates', request));
  });

  it('extends a cached format with what a tailing stream reads, and stays within its bytes', async () => {
    // Room for about two transactions: the rest is read from the ledger each time, with the same result.
    const cache = new EncodedUpdateCache(4000, 1);
    const cached = updateService(deps, cache);
    const plain = updateService(deps);
    const format = updateFormat({ [ALICE]: wildcard, [BOB]: wildcard }, TransactionShape.LEDGER_EFFECTS);
    const controller = new AbortController();
    const tailed: GetUpdatesResponse[] = [];
    const done = (async () => {
      for await (const r of handler(cached, 'GetUpdates')(
        { beginExclusive: 0n, updateFormat: format },
        { ...ctx(WILDCARD_CLAIMS, controller.signal), encoded: true },
      ) as AsyncIterable<GetUpdatesResponse | EncodedMessages>) {
        if (r instanceof EncodedMessages)
          tailed.push(...r.messages.map((m) => GetUpdatesResponse.fromBinary(m)));
        else tailed.push(r);
        if (tailed.length === 3) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await ledger.accept();
    await done;
    const request = { beginExclusive: 0n, endInclusive: 4n, updateFormat: format };
    const expected = await stream(plain, 'GetUpdates', request);
    expect(tailed).toEqual(expected);
    for (let i = 0; i < 3; i++) {
      expect(await encodedStream(cached, request)).toEqual(expected);
      // Another format evicts the first (one format at most).
      await encodedStream(cached, { ...request, updateFormat: updateFormat({ [BOB]: wildcard }) });
      expect(cache.bytes).toBeLessThanOrEqual(4000);
    }
  });
});

describe('StateService', () => {
  const state = () =>
    stateService({
      ...deps,
      participantId: PARTICIPANT,
      connectedSynchronizers: () => [{ synchronizerId: TEST_SYNCHRONIZER, alias: 'da' }],
      parties: () => [
        { party: ALICE, permission: 'Submission', admin: false, synchronizerIds: [TEST_SYNCHRONIZER] },
      ],
    });

  it('serves the active contracts as of an offset', async () => {
    await ledger.accept();
    const acs = (offset: bigint) =>
      stream<GetActiveContractsResponse>(state(), 'GetActiveContracts', {
        activeAtOffset: offset,
        eventFormat: eventFormat({ [ALICE]: wildcard }),
      });
    expect(await acs(0n)).toEqual([]);
    const at2 = await acs(2n);
    expect(at2).toHaveLength(1);
    expect(at2[0]).toMatchObject({
      workflowId: 'workflow-2',
      contractEntry: {
        oneofKind: 'activeContract',
        activeContract: {
          synchronizerId: TEST_SYNCHRONIZER,
          reassignmentCounter: 0n,
          createdEvent: { contractId: ledger.minted, offset: 2n, nodeId: 0, witnessParties: [ALICE] },
        },
      },
    });
    expect(
      (await acs(4n)).map(
        (r) =>
          r.contractEntry.oneofKind === 'activeContract' &&
          r.contractEntry.activeContract.createdEvent?.contractId,
      ),
    ).toEqual([ledger.change]);
    expect(await code(acs(5n))).toBe('OFFSET_AFTER_LEDGER_END');
    expect(await code(acs(-1n))).toBe('NEGATIVE_OFFSET');
    expect(await code(stream(state(), 'GetActiveContracts', { activeAtOffset: 1n }))).toBe('MISSING_FIELD');
    pruned = 3n;
    expect(await code(acs(2n))).toBe('PARTICIPANT_PRUNED_DATA_ACCESSED');
  });

  it('answers the ledger end, the pruning offsets and the connected synchronizers', async () => {
    expect(await unary(state(), 'GetLedgerEnd', {})).toEqual({ offset: 3n });
    pruned = 2n;
    expect(await unary(state(), 'GetLatestPrunedOffsets', {})).toEqual({
      participantPrunedUpToInclusive: 2n,
      allDivulgedContractsPrunedUpToInclusive: 2n,
    });
    const request = (party: string, participantId = '') => ({ party, participantId, identityProviderId: '' });
    expect(await unary(state(), 'GetConnectedSynchronizers', request(''))).toEqual({
      connectedSynchronizers: [{ synchronizerAlias: 'da', synchronizerId: TEST_SYNCHRONIZER, permission: 0 }],
    });
    expect(await unary(state(), 'GetConnectedSynchronizers', request(ALICE))).toEqual({
      connectedSynchronizers: [{ synchronizerAlias: 'da', synchronizerId: TEST_SYNCHRONIZER, permission: 1 }],
    });
    expect(await unary(state(), 'GetConnectedSynchronizers', request(BOB))).toEqual({
      connectedSynchronizers: [],
    });
    expect(await code(unary(state(), 'GetConnectedSynchronizers', request(ALICE), ctx(reader(BOB))))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await code(unary(state(), 'GetConnectedSynchronizers', request(ALICE, 'nonsense')))).toBe(
      'INVALID_FIELD',
    );
  });
});

describe('EventQueryService and ContractService', () => {
  it('serves the create and archive of a contract to its stakeholders', async () => {
    await ledger.accept();
    const events = eventQueryService(deps);
    const r = await unary<GetEventsByContractIdResponse>(events, 'GetEventsByContractId', {
      contractId: ledger.offer,
      eventFormat: eventFormat({ [BOB]: wildcard }),
    });
    expect(r.created).toMatchObject({
      synchronizerId: TEST_SYNCHRONIZER,
      createdEvent: { offset: 3n, witnessParties: [BOB] },
    });
    expect(r.archived).toMatchObject({ archivedEvent: { offset: 4n, nodeId: 0, witnessParties: [BOB] } });
    const query = (contractId: string) =>
      unary(events, 'GetEventsByContractId', { contractId, eventFormat: eventFormat({ [BOB]: wildcard }) });
    expect(await code(query(ledger.change))).toBe('CONTRACT_EVENTS_NOT_FOUND');
    expect(await code(query('not a contract id'))).toBe('INVALID_FIELD');
    expect(await code(query(''))).toBe('MISSING_FIELD');
  });

  it('serves a contract by id to querying stakeholders', async () => {
    const contracts = contractService(deps);
    const r = await unary<GetContractResponse>(contracts, 'GetContract', {
      contractId: ledger.offer,
      queryingParties: [BOB],
    });
    expect(r.createdEvent).toMatchObject({
      contractId: ledger.offer,
      witnessParties: [BOB],
      offset: 1n,
      acsDelta: false,
    });
    const everyone = await unary<GetContractResponse>(contracts, 'GetContract', {
      contractId: ledger.offer,
      queryingParties: [],
    });
    expect(everyone.createdEvent?.witnessParties).toEqual([ADMIN, ALICE, BOB].sort());
    expect(
      await code(unary(contracts, 'GetContract', { contractId: ledger.change, queryingParties: [BOB] })),
    ).toBe('CONTRACT_PAYLOAD_NOT_FOUND');
    expect(
      await code(
        unary(contracts, 'GetContract', { contractId: ledger.offer, queryingParties: [] }, ctx(reader(BOB))),
      ),
    ).toBe('PERMISSION_DENIED');
  });
});
