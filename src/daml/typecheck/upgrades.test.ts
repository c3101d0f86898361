import { describe, expect, it } from 'vitest';
import { readDar, readDarFile } from '../dar/index.js';
import { DUMMY_HOLDING_DARS, editedDummyHolding, relabelledDar, TRADING_APP_DARS } from '../dar/testing.js';
import {
  type DefDataType,
  type FieldWithType,
  type Package,
  PackageRegistry,
  type Type,
} from '../lf/index.js';
import { upgradeIncompatibility, validateDar } from './index.js';

/*
 * Upgrade validation on the two real chains (every version upgrades every earlier one), on a real package relabelled
 * into a chain it does not fit, and on the 0.0.1 package with one definition altered, as a later version.
 */

const holding = DUMMY_HOLDING_DARS.map((f) => readDarFile(f));
const registry = new PackageRegistry();
for (const d of holding) registry.addAll(d.packages);
const v1 = holding[0]!.main;
const MODULE = 'Splice.Api.Token.Test.DummyHolding';
const T_OPTIONAL_TEXT: Type = {
  tag: 'Builtin',
  builtin: 'OPTIONAL',
  args: [{ tag: 'Builtin', builtin: 'TEXT', args: [] }],
};

/** 0.0.1 as a version 0.0.9, edited. */
const edited = (edit: Parameters<typeof editedDummyHolding>[2]) =>
  editedDummyHolding(v1, 'ffff'.repeat(16), edit);

function thrown(f: () => void): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected an error');
}
const fields = (d: DefDataType) => (d.cons.tag === 'Record' ? d.cons.fields : []);
const withFields = (d: DefDataType, f: readonly FieldWithType[]): DefDataType => ({
  ...d,
  cons: { tag: 'Record', fields: f },
});

describe('upgrade validation', () => {
  it('accepts the real chains in any upload order, and each version upgrades every earlier one', () => {
    for (const files of [DUMMY_HOLDING_DARS, TRADING_APP_DARS]) {
      const r = new PackageRegistry();
      for (const f of [...files].reverse()) {
        const dar = readDarFile(f);
        validateDar(dar, r);
        r.addAll(dar.packages);
      }
      const mains = files.map((f) => r.getPackage(readDarFile(f).main.id));
      for (let i = 0; i < mains.length; i++)
        for (let j = i + 1; j < mains.length; j++)
          expect(upgradeIncompatibility(r, mains[i]!, mains[j]!)).toBeUndefined();
    }
  });

  it('refuses 0.0.1 relabelled 0.0.5: it lacks the module 0.0.4 added', () => {
    const bad = readDar(relabelledDar(DUMMY_HOLDING_DARS[0]!, '0.0.1', '0.0.5'));
    expect(bad.main.metadata.version).toBe('0.0.5');
    const error = thrown(() => validateDar(bad, registry));
    expect(error.code).toBe('DAR_NOT_VALID_UPGRADE');
    expect(error.message).toMatch(
      /^splice-token-test-dummy-holding 0\.0\.5 \(\w+\) is not a valid upgrade of splice-token-test-dummy-holding 0\.0\.4 \(1385c84f\w+\): module Splice\.Api\.Token\.Test\.DummyTwoInterfaces appears in the package being upgraded but not in the upgrading package$/,
    );
    // 0.0.1 relabelled 0.0.0 sits below 0.0.1 and every later version upgrades it.
    expect(() =>
      validateDar(readDar(relabelledDar(DUMMY_HOLDING_DARS[0]!, '0.0.1', '0.0.0')), registry),
    ).not.toThrow();
  });

  it('refuses a second package with a known name and version', () => {
    const dup = readDar(relabelledDar(DUMMY_HOLDING_DARS[1]!, '0.0.2', '0.0.3'));
    const error = thrown(() => validateDar(dup, registry));
    expect(error.code).toBe('KNOWN_PACKAGE_VERSION');
    expect(error.message).toContain('splice-token-test-dummy-holding 0.0.3 (26c72abb');
  });

  const check = (pkg: Package) => {
    const r = new PackageRegistry();
    r.addAll(registry.packages());
    r.add(pkg);
    return upgradeIncompatibility(r, v1, pkg);
  };

  it('accepts an appended Optional field and refuses an appended non-Optional one', () => {
    expect(
      check(edited({ data: (d) => withFields(d, [...fields(d), { field: 'memo', type: T_OPTIONAL_TEXT }]) })),
    ).toBeUndefined();
    expect(
      check(
        edited({
          data: (d) =>
            withFields(d, [
              ...fields(d),
              { field: 'memo', type: { tag: 'Builtin', builtin: 'TEXT', args: [] } },
            ]),
        }),
      ),
    ).toBe(
      'record Splice.Api.Token.Test.DummyHolding:DummyHolding adds the field memo of type Text, which is not Optional',
    );
  });

  it('refuses a removed, reordered or retyped field', () => {
    expect(check(edited({ data: (d) => withFields(d, fields(d).slice(0, 2)) }))).toBe(
      'record Splice.Api.Token.Test.DummyHolding:DummyHolding is missing its original field amount',
    );
    expect(
      check(edited({ data: (d) => withFields(d, [fields(d)[1]!, fields(d)[0]!, fields(d)[2]!]) })),
    ).toMatch(/changes the order of its fields \(field 0 was owner, is issuer\)/);
    expect(
      check(
        edited({
          data: (d) => withFields(d, [...fields(d).slice(0, 2), { field: 'amount', type: T_OPTIONAL_TEXT }]),
        }),
      ),
    ).toBe(
      'record Splice.Api.Token.Test.DummyHolding:DummyHolding changes the type of its field amount from Numeric 10 to Optional Text',
    );
  });

  it('refuses a removed choice, a changed consumption and a dropped interface instance', () => {
    const archive = v1.module(MODULE)!.templates.get('DummyHolding')!.choices.get('Archive')!;
    expect(check(edited({ template: (t) => ({ ...t, choices: new Map() }) }))).toBe(
      'choice Splice.Api.Token.Test.DummyHolding:DummyHolding:Archive appears in the package being upgraded but not in the upgrading package',
    );
    expect(
      check(
        edited({
          template: (t) => ({ ...t, choices: new Map([['Archive', { ...archive, consuming: false }]]) }),
        }),
      ),
    ).toBe(
      'choice Splice.Api.Token.Test.DummyHolding:DummyHolding:Archive changes from consuming to non-consuming',
    );
    expect(check(edited({ template: (t) => ({ ...t, implements: [] }) }))).toBe(
      'template Splice.Api.Token.Test.DummyHolding:DummyHolding no longer implements interface #splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:Holding',
    );
  });
});
