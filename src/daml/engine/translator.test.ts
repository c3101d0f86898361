import { beforeAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { TOKEN_DAR } from '../dar/testing.js';
import type { Type } from '../lf/ast.js';
import type { Value } from '../values/value.js';
import { encodeValue, TransactionDecoder } from './codec.js';
import type { Engine } from './engine.js';
import { loadEngine } from './testing.js';
import { valueToJson } from './translator.js';

/** The Ledger API JSON value encoding against real package types (the Splice token standard and daml-stdlib). */

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
const PARTY = () => builtin('PARTY');
const INT = () => builtin('INT64');
const HOLDING_VIEW = () => con('#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:HoldingView');
const ANY_VALUE = () => con('#splice-api-token-metadata-v1:Splice.Api.Token.MetadataV1:AnyValue');
const DAY = () => con('#daml-stdlib-DA-Date-Types:DA.Date.Types:DayOfWeek');
const SET = (k: Type) => con('#daml-stdlib-DA-Set-Types:DA.Set.Types:Set', k);
const TUPLE2 = (a: Type, b: Type) => con('#daml-prim-DA-Types:DA.Types:Tuple2', a, b);

beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

const from = (json: unknown, type: Type, allowLocal = false) =>
  engine.translator.fromJson(json, type, 'arg', { allowLocalContractIds: allowLocal });

function error(json: unknown, type: Type): string {
  try {
    from(json, type);
  } catch (e) {
    if (isWeftError(e) && e.code === 'DAML_COMMAND_INVALID') return e.message;
    throw e;
  }
  throw new Error(`${JSON.stringify(json)} was accepted`);
}

/** JSON → value → JSON, and value → bytes → value. */
function roundTrip(json: unknown, type: Type): Value {
  const v = from(json, type, true);
  expect(from(valueToJson(v), type, true)).toEqual(v);
  expect(new TransactionDecoder(engine.types).decodeValue(encodeValue(v), type)).toEqual(v);
  return v;
}

const holding = {
  owner: 'alice',
  instrumentId: { admin: 'admin', id: 'TOK' },
  amount: '12.5',
  lock: { holders: ['admin'], expiresAt: '2025-01-01T00:00:00.25Z', expiresAfter: null, context: 'why' },
  meta: { values: { b: '2', a: '1' } },
};

describe('JSON values to Daml values', () => {
  it('translates records, optionals, numerics, timestamps and text maps', () => {
    const v = roundTrip(holding, HOLDING_VIEW());
    expect(valueToJson(v)).toEqual({
      owner: 'alice',
      instrumentId: { admin: 'admin', id: 'TOK' },
      amount: '12.5000000000',
      lock: { holders: ['admin'], expiresAt: '2025-01-01T00:00:00.250Z', expiresAfter: null, context: 'why' },
      meta: { values: { a: '1', b: '2' } },
    });
    // Missing optional fields are None; numbers are accepted for Numeric.
    const noLock = from({ ...holding, lock: undefined, amount: 3 }, HOLDING_VIEW());
    expect(valueToJson(noLock)).toMatchObject({ lock: null, amount: '3.0000000000' });
  });

  it('translates variants (recursive), enums, generic records and GenMaps', () => {
    const any = {
      tag: 'AV_List',
      value: [
        { tag: 'AV_Int', value: '-7' },
        { tag: 'AV_Map', value: { k: { tag: 'AV_Bool', value: true } } },
      ],
    };
    expect(valueToJson(roundTrip(any, ANY_VALUE()))).toEqual(any);
    expect(roundTrip('Wednesday', DAY())).toMatchObject({ kind: 'Enum', constructor: 'Wednesday', rank: 2 });
    const pair = roundTrip({ _1: '1', _2: ['x'] }, TUPLE2(INT(), builtin('LIST', builtin('TEXT'))));
    expect(valueToJson(pair)).toEqual({ _1: '1', _2: ['x'] });
    // GenMap keys are sorted by the generic order.
    const set = roundTrip(
      {
        map: [
          ['carol', {}],
          ['alice', {}],
        ],
      },
      SET(PARTY()),
    );
    expect(valueToJson(set)).toEqual({
      map: [
        ['alice', {}],
        ['carol', {}],
      ],
    });
  });

  it('distinguishes nested optionals', () => {
    const t = builtin('OPTIONAL', builtin('OPTIONAL', INT()));
    expect(valueToJson(roundTrip(null, t))).toBe(null);
    expect(valueToJson(roundTrip([], t))).toEqual([]);
    expect(valueToJson(roundTrip(['5'], t))).toEqual(['5']);
    expect(error([1, 2], t)).toMatch(/expected a nested Optional/);
  });

  it('translates dates, timestamps, Int64 and contract ids within their ranges', () => {
    expect(roundTrip('2024-02-29', builtin('DATE'))).toMatchObject({ kind: 'Date' });
    expect(error('2023-02-29', builtin('DATE'))).toMatch(/^arg: expected a Date/);
    expect(error('2025-01-01T00:00:00', builtin('TIMESTAMP'))).toMatch(/expected a Time/);
    expect(roundTrip('9223372036854775807', INT())).toEqual({ kind: 'Int64', value: 9223372036854775807n });
    expect(error('9223372036854775808', INT())).toMatch(/out of the Int64 range/);
    expect(error(1.5, INT())).toMatch(/expected an Int64/);
    const cid = builtin('CONTRACT_ID', HOLDING_VIEW());
    const local = `00${'ab'.repeat(32)}`;
    expect(error(local, cid)).toMatch(/has no suffix: commands cannot refer to local contracts/);
    expect(from(local, cid, true)).toMatchObject({ kind: 'ContractId', cid: { coid: local, suffix: '' } });
    expect(error('#1:0', cid)).toMatch(/expected a contract id/);
  });

  it('names the path of the offending field', () => {
    expect(error({ ...holding, amount: '1.00000000001' }, HOLDING_VIEW())).toMatch(
      /^arg\.amount: expected a Numeric 10/,
    );
    expect(
      error({ ...holding, lock: { ...holding.lock, holders: ['admin', 'bad party!'] } }, HOLDING_VIEW()),
    ).toBe('arg.lock.holders[1]: expected a Party, got the string "bad party!"');
    expect(error({ ...holding, meta: { values: { a: 1 } } }, HOLDING_VIEW())).toBe(
      'arg.meta.values["a"]: expected a Text, got number 1',
    );
    expect(error({ ...holding, owner: undefined }, HOLDING_VIEW())).toBe(
      'arg.owner: missing field of type Party',
    );
    expect(error({ ...holding, colour: 'red' }, HOLDING_VIEW())).toMatch(
      /^arg: .*HoldingView has no field colour$/,
    );
    expect(error({ tag: 'AV_Float', value: 1 }, ANY_VALUE())).toMatch(
      /has no constructor AV_Float \(constructors: AV_Text, /,
    );
    expect(error({ tag: 'AV_List', value: [{ tag: 'AV_Int', value: 'x' }] }, ANY_VALUE())).toMatch(
      /^arg\.value\[0\]\.value: expected an Int64/,
    );
    expect(error('Funday', DAY())).toMatch(/expected a constructor of enum .*DayOfWeek \(Monday, /);
    expect(
      error(
        {
          map: [
            ['alice', {}],
            ['alice', {}],
          ],
        },
        SET(PARTY()),
      ),
    ).toMatch(/the same key twice/);
    expect(error({}, builtin('ARROW', INT(), INT()))).toMatch(/is not serializable/);
  });
});
