import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../daml/dar/testing.js';
import { loadEngine } from '../daml/engine/testing.js';
import type { Engine, Type } from '../daml/index.js';
import { NONE, type Value } from '../daml/values/index.js';
import { isWeftError } from '../errors/index.js';
import type {
  Record as ProtoRecord,
  Value as ProtoValue,
} from '../generated/com/daml/ledger/api/v2/value.js';
import { Value as ProtoValueType } from '../generated/com/daml/ledger/api/v2/value.js';
import { recordToProto, valueToProto } from './values.js';

/** The Ledger API's protobuf values against real package types (the Splice token standard and daml-stdlib). */

let engine: Engine;
const con = (ref: string, ...args: Type[]): Type => ({
  tag: 'Con',
  tycon: engine.packages.parseRef(ref),
  args,
});
const builtin = (b: Extract<Type, { tag: 'Builtin' }>['builtin'], ...args: Type[]): Type => ({
  tag: 'Builtin',
  builtin: b,
  args,
});
const HOLDING_VIEW = () => con('#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:HoldingView');
const INSTRUMENT_ID = () => con('#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:InstrumentId');
const ANY_VALUE = () => con('#splice-api-token-metadata-v1:Splice.Api.Token.MetadataV1:AnyValue');
const DAY = () => con('#daml-stdlib-DA-Date-Types:DA.Date.Types:DayOfWeek');
const SET = (k: Type) => con('#daml-stdlib-DA-Set-Types:DA.Set.Types:Set', k);

beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

const holdingJson = {
  owner: 'alice',
  instrumentId: { admin: 'admin', id: 'TOK' },
  amount: '12.5',
  lock: { holders: ['admin'], expiresAt: '2025-01-01T00:00:00.25Z', expiresAfter: null, context: 'why' },
  meta: { values: { b: '2', a: '1' } },
};

const fromProto = (v: ProtoValue | undefined, type: Type, allowLocal = false) =>
  engine.translator.fromProto(v, type, 'arg', { allowLocalContractIds: allowLocal });

function error(v: ProtoValue | undefined, type: Type, code = 'DAML_COMMAND_INVALID'): string {
  try {
    fromProto(v, type);
  } catch (e) {
    if (isWeftError(e) && e.code === code) return e.message;
    throw e;
  }
  throw new Error(`${JSON.stringify(v)} was accepted`);
}

// Small builders for hand-written inputs.
const t = (text: string): ProtoValue => ({ sum: { oneofKind: 'text', text } });
const p = (party: string): ProtoValue => ({ sum: { oneofKind: 'party', party } });
const i64 = (int64: string): ProtoValue => ({ sum: { oneofKind: 'int64', int64 } });
const none: ProtoValue = { sum: { oneofKind: 'optional', optional: {} } };
const someOf = (value: ProtoValue): ProtoValue => ({ sum: { oneofKind: 'optional', optional: { value } } });
const rec = (...fields: [string, ProtoValue | undefined][]): ProtoValue => ({
  sum: { oneofKind: 'record', record: { fields: fields.map(([label, value]) => ({ label, value })) } },
});
const variant = (tag: string, value: ProtoValue): ProtoValue => ({
  sum: { oneofKind: 'variant', variant: { constructor: tag, value } },
});
const list = (...elements: ProtoValue[]): ProtoValue => ({ sum: { oneofKind: 'list', list: { elements } } });

/** Value → proto (verbose and not) → bytes → proto → value, which must give the value back. */
function roundTrip(v: Value, type: Type): void {
  for (const verbose of [true, false]) {
    const wire = ProtoValueType.fromBinary(ProtoValueType.toBinary(valueToProto(v, verbose)));
    expect(fromProto(wire, type, true)).toEqual(v);
  }
}

describe('Ledger API protobuf values', () => {
  it('round-trips records, optionals, numerics, timestamps, text maps, variants, enums and GenMaps', () => {
    const holding = engine.translator.fromJson(holdingJson, HOLDING_VIEW(), 'arg');
    roundTrip(holding, HOLDING_VIEW());
    const any = engine.translator.fromJson(
      {
        tag: 'AV_List',
        value: [
          { tag: 'AV_Int', value: '-7' },
          { tag: 'AV_Map', value: { k: { tag: 'AV_Bool', value: true } } },
        ],
      },
      ANY_VALUE(),
      'arg',
    );
    roundTrip(any, ANY_VALUE());
    roundTrip(engine.translator.fromJson('Wednesday', DAY(), 'arg'), DAY());
    roundTrip(
      engine.translator.fromJson({ map: [['carol', {}]] }, SET(builtin('PARTY')), 'arg'),
      SET(builtin('PARTY')),
    );
    const nested = builtin('OPTIONAL', builtin('OPTIONAL', builtin('INT64')));
    for (const json of [null, [], ['5']]) roundTrip(engine.translator.fromJson(json, nested, 'arg'), nested);
    const cid = builtin('CONTRACT_ID', HOLDING_VIEW());
    roundTrip(
      engine.translator.fromJson(`00${'ab'.repeat(32)}`, cid, 'arg', { allowLocalContractIds: true }),
      cid,
    );
    roundTrip(engine.translator.fromJson('2024-02-29', builtin('DATE'), 'arg'), builtin('DATE'));
  });

  it('encodes like Canton: labels and ids only when verbose, numerics at full scale', () => {
    const holding = engine.translator.fromJson(holdingJson, HOLDING_VIEW(), 'arg');
    const verbose = recordToProto(holding, true);
    const tycon = engine.packages.parseRef(
      '#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:HoldingView',
    );
    expect(verbose.recordId).toEqual({
      packageId: tycon.packageId,
      moduleName: 'Splice.Api.Token.HoldingV1',
      entityName: 'HoldingView',
    });
    expect(verbose.fields.map((f) => f.label)).toEqual(['owner', 'instrumentId', 'amount', 'lock', 'meta']);
    expect(verbose.fields[2]!.value).toEqual({ sum: { oneofKind: 'numeric', numeric: '12.5000000000' } });
    const terse = recordToProto(holding, false);
    expect(terse.recordId).toBeUndefined();
    expect(terse.fields.every((f) => f.label === '')).toBe(true);
    const day = valueToProto(engine.translator.fromJson('Monday', DAY(), 'arg'), false);
    expect(day).toEqual({ sum: { oneofKind: 'enum', enum: { constructor: 'Monday' } } });
    // Text map entries come out sorted by key.
    const meta = (verbose.fields[4]!.value!.sum as { record: ProtoRecord }).record.fields[0]!.value!;
    expect(meta.sum).toMatchObject({ textMap: { entries: [{ key: 'a' }, { key: 'b' }] } });
  });

  it('takes records fully labelled in any order, or by position with matching labels', () => {
    const expected = engine.translator.fromJson({ admin: 'admin', id: 'TOK' }, INSTRUMENT_ID(), 'arg');
    expect(fromProto(rec(['id', t('TOK')], ['admin', p('admin')]), INSTRUMENT_ID())).toEqual(expected);
    expect(fromProto(rec(['', p('admin')], ['', t('TOK')]), INSTRUMENT_ID())).toEqual(expected);
    // One unlabelled field makes the whole record positional; a label must then match its position.
    expect(fromProto(rec(['admin', p('admin')], ['', t('TOK')]), INSTRUMENT_ID())).toEqual(expected);
    expect(error(rec(['', p('admin')], ['admin', t('TOK')]), INSTRUMENT_ID())).toMatch(
      /^arg\.admin: field 1 of .*InstrumentId is id$/,
    );
    expect(error(rec(['admin', p('admin')], ['admin', p('admin')]), INSTRUMENT_ID())).toBe(
      'arg: the field admin is given twice',
    );
    expect(error(rec(['admin', p('admin')]), INSTRUMENT_ID())).toBe('arg.id: missing field of type Text');
    expect(error(rec(['', p('admin')]), INSTRUMENT_ID())).toBe('arg.id: missing field of type Text');
    // A field whose label is given but whose value is not.
    expect(error(rec(['admin', p('admin')], ['id', undefined]), INSTRUMENT_ID())).toBe(
      'arg.id: missing value',
    );
  });

  it('fills absent optional fields with None and drops extra fields only when they are None', () => {
    const lockType = con('#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:Lock');
    const lock = fromProto(rec(['holders', list(p('admin'))]), lockType);
    expect(lock).toMatchObject({ kind: 'Record', values: [{ kind: 'List' }, NONE, NONE, NONE] });
    expect(fromProto(rec(['', p('admin')], ['', t('TOK')], ['', none]), INSTRUMENT_ID())).toMatchObject({
      values: [{ value: 'admin' }, { value: 'TOK' }],
    });
    expect(error(rec(['', p('admin')], ['', t('TOK')], ['', someOf(t('x'))]), INSTRUMENT_ID())).toMatch(
      /^arg\.\[2\]: .*InstrumentId has no such field, and only a None value may be dropped$/,
    );
    expect(
      error(rec(['admin', p('admin')], ['id', t('TOK')], ['colour', t('red')]), INSTRUMENT_ID()),
    ).toMatch(/^arg\.colour: .*InstrumentId has no such field/);
  });

  it('checks type ids by module and entity name, ignoring the package version', () => {
    const withId = (packageId: string, moduleName: string, entityName: string): ProtoValue => ({
      sum: {
        oneofKind: 'record',
        record: {
          recordId: { packageId, moduleName, entityName },
          fields: [
            { label: '', value: p('admin') },
            { label: '', value: t('TOK') },
          ],
        },
      },
    });
    expect(
      fromProto(withId('another-version', 'Splice.Api.Token.HoldingV1', 'InstrumentId'), INSTRUMENT_ID()),
    ).toMatchObject({
      kind: 'Record',
    });
    // Type ids name packages by id: `#package-name` is for commands and filters.
    expect(
      error(
        withId('#splice-api-token-holding-v1', 'Splice.Api.Token.HoldingV1', 'InstrumentId'),
        INSTRUMENT_ID(),
      ),
    ).toBe('arg: the type id\'s package "#splice-api-token-holding-v1" is not a package id');
    expect(error(withId('', 'Splice.Api.Token.HoldingV1', 'InstrumentId'), INSTRUMENT_ID())).toMatch(
      /is not a package id/,
    );
    expect(error(withId('x', 'Splice.Api.Token.HoldingV1', 'Holding'), INSTRUMENT_ID())).toBe(
      'arg: the value says its type is Splice.Api.Token.HoldingV1:Holding, but Splice.Api.Token.HoldingV1:InstrumentId is expected',
    );
    const wrongEnum: ProtoValue = {
      sum: {
        oneofKind: 'enum',
        enum: {
          enumId: { packageId: 'abc', moduleName: 'DA.Date.Types', entityName: 'Month' },
          constructor: 'Monday',
        },
      },
    };
    expect(error(wrongEnum, DAY())).toMatch(/its type is DA.Date.Types:Month, but DA.Date.Types:DayOfWeek/);
  });

  it('rejects values of the wrong kind or out of range, naming the path', () => {
    const INT = builtin('INT64');
    expect(error(t('1'), INT)).toBe('arg: expected an Int64, got a Text');
    expect(error({ sum: { oneofKind: undefined } }, INT)).toBe('arg: missing value');
    expect(error(undefined, INT)).toBe('arg: missing value');
    expect(fromProto(i64('-9223372036854775808'), INT)).toEqual({ kind: 'Int64', value: -(2n ** 63n) });
    expect(error(i64('9223372036854775808'), INT)).toMatch(/out of the Int64 range/);
    expect(error(i64('1e3'), INT)).toMatch(/expected an Int64/);
    const num = (numeric: string): ProtoValue => ({ sum: { oneofKind: 'numeric', numeric } });
    expect(fromProto(num('1.5'), builtin('NUMERIC', { tag: 'Nat', value: 10 }))).toEqual({
      kind: 'Numeric',
      unscaled: 15_000_000_000n,
      scale: 10,
    });
    expect(error(num('1.05'), builtin('NUMERIC', { tag: 'Nat', value: 1 }))).toMatch(/expected a Numeric 1/);
    expect(error(num('1e5'), builtin('NUMERIC', { tag: 'Nat', value: 1 }))).toMatch(/expected a Numeric 1/);
    // Canton writes a Numeric 0 with a trailing point, and takes it back.
    const NUMERIC_0 = builtin('NUMERIC', { tag: 'Nat', value: 0 });
    const seven = { kind: 'Numeric', unscaled: 7n, scale: 0 } as const;
    expect(valueToProto(seven, false)).toEqual(num('7.'));
    expect(fromProto(num('7.'), NUMERIC_0)).toEqual(seven);
    expect(fromProto(num('+7'), NUMERIC_0)).toEqual(seven);
    expect(error({ sum: { oneofKind: 'date', date: 2932897 } }, builtin('DATE'))).toMatch(
      /out of the Date range/,
    );
    expect(
      error({ sum: { oneofKind: 'timestamp', timestamp: '253402300800000000' } }, builtin('TIMESTAMP')),
    ).toMatch(/out of the Time range/);
    expect(error(p('bad party!'), builtin('PARTY'))).toBe(
      'arg: expected a Party, got the string "bad party!"',
    );
    const cid = builtin('CONTRACT_ID', HOLDING_VIEW());
    const local = `00${'ab'.repeat(32)}`;
    expect(error({ sum: { oneofKind: 'contractId', contractId: local } }, cid)).toMatch(/has no suffix/);
    expect(error(variant('AV_Float', t('x')), ANY_VALUE())).toMatch(/has no constructor AV_Float/);
    expect(error(variant('AV_List', list(variant('AV_Int', t('x')))), ANY_VALUE())).toBe(
      'arg.value[0].value: expected an Int64, got a Text',
    );
    expect(error(variant('AV_Int', undefined as unknown as ProtoValue), ANY_VALUE())).toBe(
      'arg.value: missing value',
    );
  });

  it('rejects TextMap keys given twice; in a GenMap the last entry wins, as in Canton', () => {
    const textMap: ProtoValue = {
      sum: {
        oneofKind: 'textMap',
        textMap: {
          entries: [
            { key: 'a', value: t('1') },
            { key: 'a', value: t('2') },
          ],
        },
      },
    };
    expect(error(textMap, builtin('TEXTMAP', builtin('TEXT')))).toBe('arg: a TextMap has the key "a" twice');
    const genMap: ProtoValue = {
      sum: {
        oneofKind: 'genMap',
        genMap: {
          entries: [
            { key: t('b'), value: i64('1') },
            { key: t('a'), value: i64('2') },
            { key: t('b'), value: i64('3') },
          ],
        },
      },
    };
    const decoded = fromProto(genMap, builtin('GENMAP', builtin('TEXT'), builtin('INT64')));
    expect(valueToProto(decoded, false)).toEqual({
      sum: {
        oneofKind: 'genMap',
        genMap: {
          entries: [
            { key: t('a'), value: i64('2') },
            { key: t('b'), value: i64('3') },
          ],
        },
      },
    });
  });

  it('refuses values nested deeper than 100 levels', () => {
    const nest = (levels: number): ProtoValue => {
      let v = variant('AV_Int', i64('1'));
      // Each AV_List level is two values deep: the variant and its list.
      for (let i = 0; i < levels; i++) v = variant('AV_List', list(v));
      return v;
    };
    expect(fromProto(nest(49), ANY_VALUE())).toMatchObject({ kind: 'Variant' });
    expect(error(nest(60), ANY_VALUE(), 'DAML_VALUE_NESTING_LIMIT')).toMatch(/nested deeper than 100 levels/);
  });
});
