import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../daml/dar/testing.js';
import { loadEngine } from '../../daml/engine/testing.js';
import { CreatedEvent } from '../../generated/com/daml/ledger/api/v2/event.js';
import { TransactionShape } from '../../generated/com/daml/ledger/api/v2/transaction_filter.js';
import {
  type GetUpdatesRequest,
  GetUpdatesResponse,
} from '../../generated/com/daml/ledger/api/v2/update_service.js';
import type { Value } from '../../generated/com/daml/ledger/api/v2/value.js';
import { createLogger } from '../../observability/index.js';
import { tokenReadLedger } from '../../participant/reads-testing.js';
import { openStorage } from '../../storage/index.js';
import { FAST_WRITE_OPTIONS } from '../../wire/index.js';
import { WILDCARD_CLAIMS } from '../auth/index.js';
import type { CallContext, EncodedMessages } from '../service.js';
import { EVENT_ENCODER } from '../services/read-encoding.js';
import { updateService } from '../services/updates.js';
import { JsonCodec } from './codec.js';
import { damlValues } from './daml-values.js';

/** `binaryToJson` (values read straight from their bytes) gives what decoding to proto objects and `toJson` gives. */

let codec: JsonCodec;
let engine: ReturnType<typeof loadEngine>;
beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
  codec = new JsonCodec(damlValues(engine));
});

const both = (bytes: Uint8Array) => [
  codec.binaryToJson(GetUpdatesResponse, bytes),
  codec.toJson(GetUpdatesResponse, GetUpdatesResponse.fromBinary(bytes)),
];

const v = (sum: Value['sum']): Value => ({ sum });
const text = (t: string) => v({ oneofKind: 'text', text: t });
const optional = (value?: Value) => v({ oneofKind: 'optional', optional: value ? { value } : {} });
const id = { packageId: 'ab'.repeat(32), moduleName: 'M', entityName: 'T' };

describe('JsonCodec.binaryToJson', () => {
  it('converts every kind of Daml value as the proto objects convert', () => {
    const record = v({
      oneofKind: 'record',
      record: {
        recordId: id,
        fields: [
          { label: 'unit', value: v({ oneofKind: 'unit', unit: {} }) },
          { label: 'bool', value: v({ oneofKind: 'bool', bool: true }) },
          { label: 'int', value: v({ oneofKind: 'int64', int64: '-9223372036854775808' }) },
          { label: 'date', value: v({ oneofKind: 'date', date: -719162 }) },
          { label: 'time', value: v({ oneofKind: 'timestamp', timestamp: '1750000000123456' }) },
          { label: 'numeric', value: v({ oneofKind: 'numeric', numeric: '12.5000000000' }) },
          { label: 'party', value: v({ oneofKind: 'party', party: 'alice::1220ab' }) },
          { label: 'text', value: text('ünïcödé ✓') },
          { label: 'cid', value: v({ oneofKind: 'contractId', contractId: '00ab' }) },
          { label: 'none', value: optional() },
          { label: 'some', value: optional(text('x')) },
          { label: 'someNone', value: optional(optional()) },
          { label: 'someSome', value: optional(optional(text('y'))) },
          { label: 'someSomeNone', value: optional(optional(optional())) },
          { label: 'list', value: v({ oneofKind: 'list', list: { elements: [text('a'), optional()] } }) },
          {
            label: 'textMap',
            value: v({
              oneofKind: 'textMap',
              textMap: { entries: [{ key: 'k', value: text('v') }, { key: 'e' }] },
            }),
          },
          {
            label: 'genMap',
            value: v({
              oneofKind: 'genMap',
              genMap: { entries: [{ key: text('k'), value: text('v') }, {}] },
            }),
          },
          {
            label: 'variant',
            value: v({
              oneofKind: 'variant',
              variant: { variantId: id, constructor: 'C', value: text('z') },
            }),
          },
          { label: 'bare', value: v({ oneofKind: 'variant', variant: { constructor: 'D' } }) },
          { label: 'enum', value: v({ oneofKind: 'enum', enum: { enumId: id, constructor: 'Red' } }) },
          { label: '', value: text('positional') },
          { label: 'missing' },
          { label: 'empty', value: v({ oneofKind: undefined }) },
        ],
      },
    });
    if (record.sum.oneofKind !== 'record') throw new Error('a record');
    const event = {
      ...CreatedEvent.create(),
      offset: 7n,
      nodeId: 1,
      contractId: '00cd',
      templateId: id,
      createArguments: record.sum.record,
      contractKey: record,
    };
    const response = GetUpdatesResponse.toBinary(
      {
        update: {
          oneofKind: 'transaction',
          transaction: {
            updateId: 'u',
            commandId: '',
            workflowId: '',
            events: [{ event: { oneofKind: 'created', created: event } }],
            offset: 7n,
            synchronizerId: 's',
          },
        },
      },
      FAST_WRITE_OPTIONS,
    );
    const [fromBytes, fromObjects] = both(response);
    expect(fromBytes).toEqual(fromObjects);
    expect(JSON.stringify(fromBytes)).toEqual(JSON.stringify(fromObjects));
  });

  it('converts the token workflow’s update stream as the proto objects convert, in both shapes', async () => {
    const storage = await openStorage({ kind: 'sqlite', path: ':memory:' });
    const parties = { admin: 'admin::1220ab', alice: 'alice::1220ab', bob: 'bob::1220ab' };
    const ledger = await tokenReadLedger(storage, engine, parties, EVENT_ENCODER);
    await ledger.accept();
    ledger.stop();
    const deps = {
      reads: ledger.reads,
      packages: engine.packages,
      ledgerEnd: () => ledger.journal.durableOffset,
      prunedUpTo: async () => 0n,
    };
    const handler = updateService(deps).handlers.GetUpdates as (
      r: GetUpdatesRequest,
      c: CallContext,
    ) => AsyncIterable<EncodedMessages>;
    const ctx: CallContext = {
      claims: WILDCARD_CLAIMS,
      signal: new AbortController().signal,
      correlationId: 'test',
      traceparent: undefined,
      logger: createLogger({ level: 'silent' }),
      encoded: true,
    };
    let frames = 0;
    for (const shape of [TransactionShape.ACS_DELTA, TransactionShape.LEDGER_EFFECTS]) {
      const request: GetUpdatesRequest = {
        beginExclusive: 0n,
        endInclusive: ledger.journal.durableOffset,
        updateFormat: {
          includeTransactions: {
            eventFormat: { filtersByParty: {}, filtersForAnyParty: { cumulative: [] }, verbose: true },
            transactionShape: shape,
          },
        },
      };
      for await (const m of handler(request, ctx)) {
        for (const bytes of m.messages) {
          const [fromBytes, fromObjects] = both(bytes);
          expect(JSON.stringify(fromBytes)).toEqual(JSON.stringify(fromObjects));
          frames++;
        }
      }
    }
    expect(frames).toBe(8);
    await storage.close();
  });
});
