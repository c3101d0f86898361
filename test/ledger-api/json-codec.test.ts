import { describe, expect, it } from 'vitest';
import { Engine, PackageRegistry } from '../../src/daml/index.js';
import { isWeftError } from '../../src/errors/index.js';
import { Right } from '../../src/generated/com/daml/ledger/api/v2/admin/user_management_service.js';
import { Command } from '../../src/generated/com/daml/ledger/api/v2/commands.js';
import { Completion } from '../../src/generated/com/daml/ledger/api/v2/completion.js';
import { Event } from '../../src/generated/com/daml/ledger/api/v2/event.js';
import { PriorTopologySerial } from '../../src/generated/com/daml/ledger/api/v2/package_reference.js';
import { GetActiveContractsResponse } from '../../src/generated/com/daml/ledger/api/v2/state_service.js';
import {
  CumulativeFilter,
  TransactionFormat,
  TransactionShape,
} from '../../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import { GetUpdatesRequest } from '../../src/generated/com/daml/ledger/api/v2/update_service.js';
import type { Value } from '../../src/generated/com/daml/ledger/api/v2/value.js';
import { formatInstant, JsonCodec, parseInstant } from '../../src/ledger-api/json/codec.js';
import { damlValues, protoToJson } from '../../src/ledger-api/json/daml-values.js';

/** Canton's JSON encoding of Ledger API messages, case by case (the shapes of Canton 3.4's openapi.yaml). */

const engine = new Engine(new PackageRegistry());
const codec = new JsonCodec(damlValues(engine));

function failure(f: () => unknown) {
  try {
    f();
  } catch (e) {
    if (isWeftError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('oneofs', () => {
  it('wraps scalapb cases in {value} and writes an unset oneof as Empty', () => {
    const right = codec.fromJson(Right, { kind: { CanActAs: { value: { party: 'alice::1220' } } } });
    expect(right.kind).toEqual({ oneofKind: 'canActAs', canActAs: { party: 'alice::1220' } });
    expect(codec.toJson(Right, right)).toEqual({ kind: { CanActAs: { value: { party: 'alice::1220' } } } });
    expect(codec.toJson(Right, Right.create())).toEqual({ kind: { Empty: {} } });
    const filter = codec.toJson(CumulativeFilter, {
      identifierFilter: { oneofKind: 'wildcardFilter', wildcardFilter: { includeCreatedEventBlob: true } },
    });
    expect(filter).toEqual({
      identifierFilter: { WildcardFilter: { value: { includeCreatedEventBlob: true } } },
    });
  });

  it('inlines the Js* mirrors: events flat, contract entries keyed Js*, an empty entry JsEmpty', () => {
    const event = codec.toJson(Event, {
      event: {
        oneofKind: 'archived',
        archived: {
          offset: 7n,
          nodeId: 1,
          contractId: '00ab',
          templateId: { packageId: 'pkg', moduleName: 'M.N', entityName: 'T' },
          witnessParties: ['a'],
          packageName: 'p',
          implementedInterfaces: [],
        },
      },
    });
    expect(event).toEqual({
      ArchivedEvent: {
        offset: 7,
        nodeId: 1,
        contractId: '00ab',
        templateId: 'pkg:M.N:T',
        witnessParties: ['a'],
        packageName: 'p',
        implementedInterfaces: [],
      },
    });
    expect(codec.toJson(GetActiveContractsResponse, GetActiveContractsResponse.create())).toEqual({
      workflowId: '',
      contractEntry: { JsEmpty: {} },
    });
  });

  it('writes a google.protobuf.Empty case as {} and a scalar case as {value}', () => {
    expect(codec.toJson(PriorTopologySerial, { serial: { oneofKind: 'noPrior', noPrior: {} } })).toEqual({
      serial: { NoPrior: {} },
    });
    expect(codec.toJson(PriorTopologySerial, { serial: { oneofKind: 'prior', prior: 3 } })).toEqual({
      serial: { Prior: { value: 3 } },
    });
    const completion = codec.toJson(Completion, {
      ...Completion.create(),
      deduplicationPeriod: { oneofKind: 'deduplicationOffset', deduplicationOffset: 12n },
    });
    expect(completion.deduplicationPeriod).toEqual({ DeduplicationOffset: { value: 12 } });
  });

  it('names the unknown case and the known ones', () => {
    const e = failure(() => codec.fromJson(Right, { kind: { CanFly: {} } }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('CanFly');
    expect(e.message).toContain('CanReadAsAnyParty');
  });
});

describe('scalars', () => {
  it('reads offsets as numbers or strings, writes numbers, and refuses what is not an int64', () => {
    const r = codec.fromJson(GetUpdatesRequest, { beginExclusive: '5', endInclusive: 9 });
    expect(r.beginExclusive).toBe(5n);
    expect(r.endInclusive).toBe(9n);
    expect(codec.toJson(GetUpdatesRequest, r)).toEqual({ beginExclusive: 5, endInclusive: 9 });
    expect(failure(() => codec.fromJson(GetUpdatesRequest, { beginExclusive: 1.5 })).message).toContain(
      'beginExclusive',
    );
    expect(
      failure(() => codec.fromJson(GetUpdatesRequest, { beginExclusive: '9223372036854775808' })).message,
    ).toContain('out of range');
  });

  it('writes enums by their proto names and reads them with or without the prefix', () => {
    const f = codec.fromJson(TransactionFormat, { transactionShape: 'TRANSACTION_SHAPE_LEDGER_EFFECTS' });
    expect(f.transactionShape).toBe(TransactionShape.LEDGER_EFFECTS);
    expect(codec.toJson(TransactionFormat, f).transactionShape).toBe('TRANSACTION_SHAPE_LEDGER_EFFECTS');
    expect(failure(() => codec.fromJson(TransactionFormat, { transactionShape: 'FLAT' })).message).toContain(
      'TRANSACTION_SHAPE_ACS_DELTA',
    );
  });

  it('writes timestamps as Java instants, bytes as base64, identifiers as strings; reads #package-name ids', () => {
    const c = codec.toJson(Completion, {
      ...Completion.create(),
      synchronizerTime: { synchronizerId: 's', recordTime: { seconds: 1_700_000_000n, nanos: 120_000_000 } },
    });
    expect(c.synchronizerTime).toEqual({ synchronizerId: 's', recordTime: '2023-11-14T22:13:20.120Z' });
    const filter = codec.fromJson(CumulativeFilter, {
      identifierFilter: { TemplateFilter: { value: { templateId: '#my-pkg:Main.Sub:Tpl' } } },
    });
    expect(filter.identifierFilter).toMatchObject({
      templateFilter: { templateId: { packageId: '#my-pkg', moduleName: 'Main.Sub', entityName: 'Tpl' } },
    });
    const bad = failure(() =>
      codec.fromJson(CumulativeFilter, {
        identifierFilter: { TemplateFilter: { value: { templateId: 'Tpl' } } },
      }),
    );
    expect(bad.message).toContain('body.identifierFilter.TemplateFilter.templateId');
  });

  it('decodes missing and null fields to their defaults (relaxed), ignoring unknown ones', () => {
    expect(codec.fromJson(GetUpdatesRequest, { updateFormat: null, somethingElse: 1 })).toEqual(
      GetUpdatesRequest.create(),
    );
  });
});

describe('Daml values', () => {
  const v = (sum: Value['sum']): Value => ({ sum });
  it("encodes values as Canton's LF JSON: strings for Int64, nested optionals, variants, enums, maps", () => {
    const record = v({
      oneofKind: 'record',
      record: {
        fields: [
          { label: 'n', value: v({ oneofKind: 'int64', int64: '42' }) },
          { label: 'none', value: v({ oneofKind: 'optional', optional: {} }) },
          {
            label: 'someNone',
            value: v({
              oneofKind: 'optional',
              optional: { value: v({ oneofKind: 'optional', optional: {} }) },
            }),
          },
          {
            label: 'variant',
            value: v({
              oneofKind: 'variant',
              variant: { constructor: 'Left', value: v({ oneofKind: 'text', text: 'x' }) },
            }),
          },
          { label: 'enum', value: v({ oneofKind: 'enum', enum: { constructor: 'Red' } }) },
          { label: 'unit', value: v({ oneofKind: 'unit', unit: {} }) },
          { label: 'date', value: v({ oneofKind: 'date', date: 0 }) },
          {
            label: 'genMap',
            value: v({
              oneofKind: 'genMap',
              genMap: {
                entries: [
                  { key: v({ oneofKind: 'int64', int64: '1' }), value: v({ oneofKind: 'bool', bool: true }) },
                ],
              },
            }),
          },
        ],
      },
    });
    expect(protoToJson(record)).toEqual({
      n: '42',
      none: null,
      someNone: [],
      variant: { tag: 'Left', value: 'x' },
      enum: 'Red',
      unit: {},
      date: '1970-01-01',
      genMap: [['1', true]],
    });
  });

  it('refuses a command argument whose template the participant does not know', () => {
    const e = failure(() =>
      codec.fromJson(Command, { CreateCommand: { templateId: '#nope:Main:T', createArguments: {} } }),
    );
    expect(e.code).toBe('DAML_COMMAND_INVALID');
    expect(e.message).toContain('body.CreateCommand.createArguments');
  });
});

describe('formatInstant', () => {
  it('writes Java’s Instant.toString: the fraction in groups of three digits as needed', () => {
    const cases: [bigint, number, string][] = [
      [0n, 0, '1970-01-01T00:00:00Z'],
      [1_700_000_000n, 120_000_000, '2023-11-14T22:13:20.120Z'],
      [1_700_000_000n, 5_000_000, '2023-11-14T22:13:20.005Z'],
      [1_700_000_000n, 123_456_000, '2023-11-14T22:13:20.123456Z'],
      [1_700_000_000n, 1_000, '2023-11-14T22:13:20.000001Z'],
      [1_700_000_001n, 1, '2023-11-14T22:13:21.000000001Z'],
      [1_700_000_001n, 999_999_999, '2023-11-14T22:13:21.999999999Z'],
      [1_700_000_000n, 0, '2023-11-14T22:13:20Z'],
    ];
    for (const [seconds, nanos, text] of cases) {
      expect(formatInstant(seconds, nanos)).toBe(text);
      expect(parseInstant(text, 't')).toEqual({ seconds, nanos });
    }
  });
});
