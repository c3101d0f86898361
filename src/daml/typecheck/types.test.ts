import { describe, expect, it } from 'vitest';
import type { Identifier, Kind, Type } from '../lf/index.js';
import {
  alphaEquivalent,
  NAT,
  STAR,
  showKind,
  showType,
  T_BOOL,
  T_INT64,
  T_TEXT,
  tCon,
  tContractId,
  tForall,
  tFun,
  tList,
  tNat,
  tNumeric,
  tVar,
} from './types.js';

const ID: Identifier = { packageId: 'p', module: ['M'], name: ['T'] };
const forall = (names: string[], body: Type, kind: Kind = STAR): Type =>
  tForall(
    names.map((name) => ({ name, kind })),
    body,
  );
const struct = (...fields: [string, Type][]): Type => ({
  tag: 'Struct',
  fields: fields.map(([field, type]) => ({ field, type })),
});

describe('alpha-equivalence', () => {
  it('ignores the names of bound variables but not of free ones', () => {
    expect(
      alphaEquivalent(forall(['a'], tFun(tVar('a'), tVar('a'))), forall(['b'], tFun(tVar('b'), tVar('b')))),
    ).toBe(true);
    expect(alphaEquivalent(tVar('a'), tVar('b'))).toBe(false);
    // A bound variable never equals a free one of the same name.
    expect(
      alphaEquivalent(forall(['a'], tFun(tVar('a'), tVar('b'))), forall(['b'], tFun(tVar('b'), tVar('b')))),
    ).toBe(false);
    // Binder order matters.
    expect(
      alphaEquivalent(
        forall(['a', 'b'], tFun(tVar('a'), tVar('b'))),
        forall(['b', 'a'], tFun(tVar('a'), tVar('b'))),
      ),
    ).toBe(false);
  });

  it('compares nested quantifiers binder by binder and checks kinds', () => {
    const nested: Type = { tag: 'Forall', vars: [{ name: 'a', kind: STAR }], body: forall(['b'], tVar('a')) };
    expect(nested.tag === 'Forall' && nested.vars.length).toBe(1);
    expect(alphaEquivalent(nested, forall(['x', 'y'], tVar('x')))).toBe(true);
    expect(alphaEquivalent(forall(['n'], tNumeric(tVar('n')), NAT), forall(['n'], tNumeric(tVar('n'))))).toBe(
      false,
    );
  });

  it('compares struct fields by name whatever their order', () => {
    expect(
      alphaEquivalent(struct(['a', T_INT64], ['b', T_TEXT]), struct(['b', T_TEXT], ['a', T_INT64])),
    ).toBe(true);
    expect(
      alphaEquivalent(struct(['a', T_INT64], ['b', T_TEXT]), struct(['a', T_TEXT], ['b', T_INT64])),
    ).toBe(false);
    expect(alphaEquivalent(struct(['a', T_INT64]), struct(['a', T_INT64], ['b', T_TEXT]))).toBe(false);
  });

  it('compares constructors by identifier value, and applications argument by argument', () => {
    expect(alphaEquivalent(tCon(ID, [T_INT64]), tCon({ ...ID }, [T_INT64]))).toBe(true);
    expect(alphaEquivalent(tCon(ID, [T_INT64]), tCon({ ...ID, packageId: 'q' }, [T_INT64]))).toBe(false);
    expect(alphaEquivalent(tCon(ID, [T_INT64]), tCon(ID, [T_BOOL]))).toBe(false);
    expect(alphaEquivalent(tNumeric(tNat(10)), tNumeric(tNat(10)))).toBe(true);
    expect(alphaEquivalent(tNumeric(tNat(10)), tNumeric(tNat(2)))).toBe(false);
  });
});

describe('printing', () => {
  it('prints types in Daml-LF notation', () => {
    expect(showType(tFun(tFun(T_INT64, T_BOOL), tList(tContractId(tCon(ID))), T_TEXT))).toBe(
      '(Int64 -> Bool) -> List (ContractId M:T) -> Text',
    );
    expect(showType(forall(['a'], tFun(tNumeric(tVar('a')), tNumeric(tNat(10))), NAT))).toBe(
      'forall (a : nat). Numeric a -> Numeric 10',
    );
    expect(showType(struct(['key', T_TEXT], ['value', tVar('a')]))).toBe('<key: Text, value: a>');
    expect(showKind({ tag: 'Arrow', param: { tag: 'Arrow', param: STAR, result: STAR }, result: STAR })).toBe(
      '(* -> *) -> *',
    );
  });
});
