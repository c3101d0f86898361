import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../daml/dar/testing.js';
import { loadEngine } from '../../daml/engine/testing.js';
import type { Engine } from '../../daml/index.js';
import { type Filters, TransactionShape } from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import {
  type GetUpdatesRequest,
  GetUpdatesResponse,
} from '../../generated/com/daml/ledger/api/v2/update_service.js';
import { createLogger } from '../../observability/index.js';
import type { EventFormat } from '../../participant/read-model.js';
import { restartedReads, type TokenReadLedger, tokenReadLedger } from '../../participant/reads-testing.js';
import { openStorage, type Storage } from '../../storage/index.js';
import { WILDCARD_CLAIMS } from '../auth/index.js';
import { type CallContext, EncodedMessages } from '../service.js';
import { validateUpdateFormat } from './formats.js';
import { EVENT_ENCODER } from './read-encoding.js';
import { EncodedUpdateCache } from './update-cache.js';
import { updateService } from './updates.js';

/**
 * The update streams assembled from the participant's pre-encoded events decode to exactly what the decoding path
 * gives (the spec of the pre-encoded path), for every shape and kind of format, and for every reader.
 */

const FP = `1220${'ab'.repeat(32)}`;
const ADMIN = `admin::${FP}`;
const ALICE = `alice::${FP}`;
const BOB = `bob::${FP}`;
const TOKEN_PACKAGE = '#splice-test-token-v1';
const TOKEN_MODULE = 'Splice.Testing.Tokens.TestTokenV1';
const TRANSFER_INSTRUCTION = {
  packageId: '#splice-api-token-transfer-instruction-v1',
  moduleName: 'Splice.Api.Token.TransferInstructionV1',
  entityName: 'TransferInstruction',
};

let engine: Engine;
let storages: Storage[];
/** The token workflow stored with pre-encoded events, and the same stored without (as before v5). */
let indexed: TokenReadLedger;
let plain: TokenReadLedger;
beforeAll(async () => {
  engine = loadEngine(TOKEN_DAR);
  storages = [
    await openStorage({ kind: 'sqlite', path: ':memory:' }),
    await openStorage({ kind: 'sqlite', path: ':memory:' }),
  ];
  const parties = { admin: ADMIN, alice: ALICE, bob: BOB };
  indexed = await tokenReadLedger(storages[0]!, engine, parties, EVENT_ENCODER);
  plain = await tokenReadLedger(storages[1]!, engine, parties);
  for (const ledger of [indexed, plain]) {
    await ledger.accept();
    ledger.stop();
  }
});
afterAll(async () => {
  for (const s of storages) await s.close();
});

const ctx = (encoded: boolean): CallContext => ({
  claims: WILDCARD_CLAIMS,
  signal: new AbortController().signal,
  correlationId: 'test',
  traceparent: undefined,
  logger: createLogger({ level: 'silent' }),
  encoded,
});

const wildcard: Filters = { cumulative: [] };
const template = (entityName: string, includeCreatedEventBlob = false): Filters => ({
  cumulative: [
    {
      identifierFilter: {
        oneofKind: 'templateFilter',
        templateFilter: {
          templateId: { packageId: TOKEN_PACKAGE, moduleName: TOKEN_MODULE, entityName },
          includeCreatedEventBlob,
        },
      },
    },
  ],
});
const iface: Filters = {
  cumulative: [
    {
      identifierFilter: {
        oneofKind: 'interfaceFilter',
        interfaceFilter: {
          interfaceId: TRANSFER_INSTRUCTION,
          includeInterfaceView: true,
          includeCreatedEventBlob: false,
        },
      },
    },
  ],
};

/** Formats by what they exercise: who reads (submitters or not, a subtree only), and which filters. */
const FORMATS: Record<string, { byParty: Record<string, Filters>; any?: Filters; indexable: boolean }> = {
  'alice, a submitter': { byParty: { [ALICE]: wildcard }, indexable: true },
  'bob, who sees subtrees of alice’s transactions': { byParty: { [BOB]: wildcard }, indexable: true },
  'the admin': { byParty: { [ADMIN]: wildcard }, indexable: true },
  'alice and bob': { byParty: { [ALICE]: wildcard, [BOB]: wildcard }, indexable: true },
  'templates per party': {
    byParty: { [ALICE]: template('Token'), [BOB]: template('TokenRules'), [ADMIN]: template('Token') },
    indexable: true,
  },
  'any party': { byParty: {}, any: wildcard, indexable: true },
  'any party and bob’s template': {
    byParty: { [BOB]: template('Token') },
    any: template('TokenRules'),
    indexable: true,
  },
  'a created-event blob (decoded)': { byParty: { [ALICE]: template('Token', true) }, indexable: false },
  'an interface view (decoded)': { byParty: { [BOB]: iface, [ALICE]: wildcard }, indexable: false },
};

const request = (
  f: (typeof FORMATS)[string],
  shape: TransactionShape,
  end: bigint,
  verbose = true,
): GetUpdatesRequest => ({
  beginExclusive: 0n,
  endInclusive: end,
  updateFormat: {
    includeTransactions: {
      eventFormat: {
        filtersByParty: f.byParty,
        ...(f.any ? { filtersForAnyParty: f.any } : {}),
        verbose,
      },
      transactionShape: shape,
    },
  },
});

async function responses(
  ledger: TokenReadLedger,
  r: GetUpdatesRequest,
  encoded: boolean,
  cache?: EncodedUpdateCache,
): Promise<GetUpdatesResponse[]> {
  const deps = {
    reads: ledger.reads,
    packages: engine.packages,
    ledgerEnd: () => ledger.journal.durableOffset,
    prunedUpTo: async () => 0n,
  };
  const handler = updateService(deps, cache).handlers.GetUpdates as (
    r: GetUpdatesRequest,
    c: CallContext,
  ) => AsyncIterable<GetUpdatesResponse | EncodedMessages>;
  const out: GetUpdatesResponse[] = [];
  // Messages as a client decodes them (byte fields as Uint8Array, whoever built them).
  for await (const m of handler(r, ctx(encoded))) {
    const encodings = m instanceof EncodedMessages ? m.messages : [GetUpdatesResponse.toBinary(m)];
    out.push(...encodings.map((b) => GetUpdatesResponse.fromBinary(new Uint8Array(b))));
  }
  return out;
}

const SHAPES = [TransactionShape.ACS_DELTA, TransactionShape.LEDGER_EFFECTS];

describe('GetUpdates from pre-encoded events', () => {
  for (const shape of SHAPES) {
    for (const [name, f] of Object.entries(FORMATS)) {
      it(`serves what decoding serves: ${TransactionShape[shape]}, ${name}`, async () => {
        const end = indexed.journal.durableOffset;
        const decoded = await responses(indexed, request(f, shape, end), false);
        expect(decoded.length).toBeGreaterThan(0);
        expect(await responses(indexed, request(f, shape, end), true)).toEqual(decoded);
        // Through the cache of encoded responses too, as its first and as a later reader.
        const cache = new EncodedUpdateCache(1024 * 1024, 4);
        expect(await responses(indexed, request(f, shape, end), true, cache)).toEqual(decoded);
        expect(await responses(indexed, request(f, shape, end), true, cache)).toEqual(decoded);
        // Stored without pre-encoded events (before v5): the same, decoded.
        expect(await responses(plain, request(f, shape, end), true)).toEqual(decoded);
      });
    }
  }

  it('serves every transaction of a plain verbose format from its pre-encoded events', async () => {
    for (const shape of SHAPES) {
      for (const f of Object.values(FORMATS)) {
        const t = validateUpdateFormat(request(f, shape, 0n).updateFormat, engine.packages).transactions!;
        const filter = indexed.reads.eventFilter(t.eventFormat as EventFormat);
        expect(filter.indexable).toBe(f.indexable);
        const kinds = new Set<string>();
        for await (const page of indexed.reads.transactionPages(filter, t.shape, {
          after: 0n,
          end: indexed.journal.durableOffset,
          checkpoints: false,
          indexed: true,
        })) {
          if (!('kind' in page)) for (const u of page) kinds.add(u.kind);
        }
        expect([...kinds]).toEqual([f.indexable ? 'indexed' : 'transaction']);
      }
    }
  });

  it('serves a ledger stored partly before v5: its pre-encoded events where it has them, decoded elsewhere', async () => {
    const f = FORMATS['alice and bob']!;
    const end = indexed.journal.durableOffset;
    const decoded = await Promise.all(
      SHAPES.map((shape) => responses(indexed, request(f, shape, end), false)),
    );
    const storage = storages[0]!;
    await storage.execute(
      'CREATE TABLE saved_index AS SELECT update_offset, events_index FROM participant_updates',
    );
    // A node started on that database: it reads what is stored (a running one serves what it wrote from memory).
    const restarted = restartedReads(indexed, engine, EVENT_ENCODER);
    try {
      await storage.execute('UPDATE participant_updates SET events_index = NULL WHERE update_offset % 2 = 0');
      for (const [i, shape] of SHAPES.entries()) {
        expect(await responses(restarted, request(f, shape, end), true)).toEqual(decoded[i]);
        const t = validateUpdateFormat(request(f, shape, 0n).updateFormat, engine.packages).transactions!;
        const kinds = new Set<string>();
        const pages = restarted.reads.transactionPages(
          restarted.reads.eventFilter(t.eventFormat as EventFormat),
          t.shape,
          {
            after: 0n,
            end,
            checkpoints: false,
            indexed: true,
          },
        );
        for await (const page of pages) if (!('kind' in page)) for (const u of page) kinds.add(u.kind);
        expect([...kinds].sort()).toEqual(['indexed', 'transaction']);
      }
    } finally {
      await storage.execute(
        `UPDATE participant_updates SET events_index =
           (SELECT s.events_index FROM saved_index s WHERE s.update_offset = participant_updates.update_offset)`,
      );
      await storage.execute('DROP TABLE saved_index');
    }
  });

  it('decodes for a format that is not verbose', async () => {
    const f = FORMATS['alice and bob']!;
    const end = indexed.journal.durableOffset;
    const decoded = await responses(indexed, request(f, TransactionShape.LEDGER_EFFECTS, end, false), false);
    expect(await responses(indexed, request(f, TransactionShape.LEDGER_EFFECTS, end, false), true)).toEqual(
      decoded,
    );
  });
});
