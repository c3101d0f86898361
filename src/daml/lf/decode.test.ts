import { createHash } from 'node:crypto';
import { BinaryWriter, WireType } from '@protobuf-ts/runtime';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';
import { decodeArchive } from './archive.js';
import type { Expr, Package } from './ast.js';

// Hand-built archives: each test spells out the protobuf fields (numbers from daml_lf.proto / daml_lf2.proto).
type Field = readonly [number, number | bigint | string | Uint8Array];

function msg(...fields: Field[]): Uint8Array {
  const w = new BinaryWriter();
  for (const [no, v] of fields) {
    if (typeof v === 'number') w.tag(no, WireType.Varint).int32(v);
    else if (typeof v === 'bigint') w.tag(no, WireType.Varint).sint64(v);
    else if (typeof v === 'string') w.tag(no, WireType.LengthDelimited).string(v);
    else w.tag(no, WireType.LengthDelimited).bytes(v);
  }
  return w.finish();
}

function archive(minor: string, lf2: Uint8Array, opts: { patch?: number; lf1?: boolean } = {}): Uint8Array {
  const payload = msg([3, minor], [5, opts.patch ?? 0], [opts.lf1 ? 2 : 4, lf2]);
  return msg([1, 0], [3, payload], [4, createHash('sha256').update(payload).digest('hex')]);
}

const FLAGS = msg([1, 1], [2, 1], [3, 1]);
const BOOL = msg([3, msg([1, 1])]);
const typeRef = (i: number) => msg([8, i]);
const selfModule = (dname: number) => msg([1, msg([1, msg()])], [2, dname]);
/** Interned strings: 0 Mod, 1 x, 2 pkg, 3 1.0.0, 4 y. Dotted names: 0 [Mod], 1 [x], 2 [y]. */
const STRINGS = ['Mod', 'x', 'pkg', '1.0.0', 'y'];

function pkg(opts: {
  values: Uint8Array[];
  templates?: Uint8Array[];
  types?: Uint8Array[];
  exprs?: Uint8Array[];
  flags?: boolean;
}): Uint8Array {
  const module = msg(
    [1, 0],
    ...(opts.flags === false ? [] : [[2, FLAGS] as const]),
    ...opts.values.map((v) => [5, v] as const),
    ...(opts.templates ?? []).map((t) => [6, t] as const),
  );
  return msg(
    [1, module],
    ...STRINGS.map((s) => [2, s] as const),
    [3, msg([1, 0])],
    [3, msg([1, 1])],
    [3, msg([1, 4])],
    [4, msg([1, 2], [2, 3])],
    ...(opts.types ?? [BOOL]).map((t) => [5, t] as const),
    ...(opts.exprs ?? []).map((e) => [7, e] as const),
  );
}

/** `name : types[type] = expr`; `name` indexes the dotted names (1 = x, 2 = y). */
const value = (expr: Uint8Array, name = 1, type = 0) =>
  msg([2, msg([1, name], [2, typeRef(type)])], [3, expr]);
const TRUE = msg([5, 2]);

function decodeValue(minor: string, p: Uint8Array, name = 'x'): Expr {
  return decodeArchive(archive(minor, p), 'test.dalf').module('Mod')!.values.get(name)!.expr;
}

function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isWeftError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a WeftError');
}

describe('Daml-LF 2 decoder on hand-built archives', () => {
  it('decodes a minimal LF 2.1 package and computes its id from the payload', () => {
    const bytes = archive('1', pkg({ values: [value(TRUE)] }));
    const p: Package = decodeArchive(bytes, 'test.dalf');
    expect(p.languageVersion).toBe('2.1');
    expect(p.metadata).toEqual({ name: 'pkg', version: '1.0.0' });
    expect(p.moduleNames).toEqual(['Mod']);
    const x = p.module('Mod')!.values.get('x')!;
    expect(x.type).toEqual({ tag: 'Builtin', builtin: 'BOOL', args: [] });
    expect(x.expr).toEqual({ tag: 'BuiltinCon', con: 'True' });
    expect(p.module('Mod')).toBe(p.module('Mod'));
    expect(p.module('Nope')).toBeUndefined();
  });

  it('rejects a tampered payload, LF 1, LF 2.dev and unknown patch versions', () => {
    const bytes = archive('1', pkg({ values: [value(TRUE)] }));
    const tampered = Uint8Array.from(bytes);
    tampered[bytes.length - 70] = tampered[bytes.length - 70]! ^ 1;
    expect(errorOf(() => decodeArchive(tampered, 'a.dalf')).code).toBe('DAR_HASH_MISMATCH');
    const lf1 = errorOf(() => decodeArchive(archive('15', msg(), { lf1: true }), 'a.dalf'));
    expect(lf1).toEqual({
      code: 'DAML_LF_UNSUPPORTED_VERSION',
      message: 'a.dalf: Daml-LF 1.15 is not supported (supported: 2.1, 2.2)',
    });
    expect(errorOf(() => decodeArchive(archive('dev', pkg({ values: [] })), 'a.dalf')).message).toContain(
      'Daml-LF 2.dev is not supported',
    );
    expect(
      errorOf(() => decodeArchive(archive('1', pkg({ values: [] }), { patch: 1 }), 'a.dalf')).message,
    ).toContain('unknown patch version 1');
    const noHashFn = msg([1, 7], [3, msg()], [4, 'x']);
    expect(errorOf(() => decodeArchive(noHashFn, 'a.dalf')).code).toBe('DAML_LF_UNKNOWN_ENUM');
  });

  it('rejects unknown and unsupported enum values instead of defaulting', () => {
    const unknownBuiltin = errorOf(() => decodeValue('1', pkg({ values: [value(msg([4, 999]))] })));
    expect(unknownBuiltin.code).toBe(DamlLfErrors.DAML_LF_UNKNOWN_ENUM.code);
    expect(unknownBuiltin.message).toContain('unknown BuiltinFunction value 999');
    const devBuiltin = errorOf(() => decodeValue('1', pkg({ values: [value(msg([4, 2003]))] })));
    expect(devBuiltin).toMatchObject({ code: 'DAML_LF_MALFORMED' });
    expect(devBuiltin.message).toContain('ADD_BIGNUMERIC is not supported by Daml-LF 2.1');
    const unknownType = errorOf(() =>
      decodeArchive(archive('1', pkg({ values: [], types: [msg([3, msg([1, 12])])] })), 't'),
    );
    expect(unknownType).toMatchObject({ code: 'DAML_LF_UNKNOWN_ENUM' });
    const unknownCon = errorOf(() => decodeValue('1', pkg({ values: [value(msg([5, 3]))] })));
    expect(unknownCon.message).toContain('unknown BuiltinCon value 3');
    expect(decodeValue('1', pkg({ values: [value(msg([4, 34]))] }))).toEqual({
      tag: 'Builtin',
      fn: 'APPEND_TEXT',
    });
  });

  it('checks literals: numeric scale, timestamp and date ranges', () => {
    const withNumeric = (text: string) => {
      const p = pkg({ values: [value(msg([6, msg([3, 5])]))] });
      // Append the numeric text as interned string 5.
      return decodeValue('1', Uint8Array.from([...p, ...msg([2, text])]));
    };
    expect(withNumeric('-12.50')).toEqual({
      tag: 'BuiltinLit',
      lit: { tag: 'Numeric', text: '-12.50', scale: 2 },
    });
    expect(withNumeric('0.')).toEqual({ tag: 'BuiltinLit', lit: { tag: 'Numeric', text: '0.', scale: 0 } });
    expect(errorOf(() => withNumeric('01.5')).message).toContain('invalid numeric literal');
    expect(errorOf(() => withNumeric(`1.${'0'.repeat(38)}`)).message).toContain('invalid numeric literal');
    const w = new BinaryWriter();
    w.tag(2, WireType.Bit64).sfixed64(-62135596800000001n);
    const ts = errorOf(() => decodeValue('1', pkg({ values: [value(msg([6, w.finish()]))] })));
    expect(ts.message).toContain('timestamp literal -62135596800000001 is out of range');
    expect(decodeValue('1', pkg({ values: [value(msg([6, msg([5, -719162])]))] }))).toEqual({
      tag: 'BuiltinLit',
      lit: { tag: 'Date', days: -719162 },
    });
    expect(
      errorOf(() => decodeValue('1', pkg({ values: [value(msg([6, msg([5, 2932897])]))] }))).message,
    ).toContain('date literal 2932897 is out of range');
    expect(decodeValue('1', pkg({ values: [value(msg([6, msg([1, -(2n ** 63n)])]))] }))).toEqual({
      tag: 'BuiltinLit',
      lit: { tag: 'Int64', value: -(2n ** 63n) },
    });
  });

  it('decodes unsafe_from_interface in LF 2.1 and rejects it from LF 2.2, where it was removed', () => {
    const tycon = msg([1, selfModule(0)], [2, 1]);
    const unsafe = msg([39, msg([1, tycon], [2, tycon], [3, TRUE], [4, TRUE])]);
    const d = decodeValue('1', pkg({ values: [value(unsafe)] }));
    expect(d).toMatchObject({ tag: 'UnsafeFromInterface', contractId: { tag: 'BuiltinCon' } });
    expect(d.tag === 'UnsafeFromInterface' && d.iface.name).toEqual(['x']);
    expect(errorOf(() => decodeValue('2', pkg({ values: [value(unsafe)] }))).message).toContain(
      'Expr.unsafe_from_interface is not supported by Daml-LF 2.2',
    );
  });

  it('decodes deeply nested LF 2.1 expressions', () => {
    // (\x : Bool -> ... (\x : Bool -> True)) nested 999 times (1000 levels, the limit): real archives nest ≤ 95 levels.
    let e = TRUE;
    for (let i = 0; i < 999; i++) e = msg([17, msg([1, msg([3, 1], [2, typeRef(0)])], [2, e])]);
    let d = decodeValue('1', pkg({ values: [value(e)] }));
    let depth = 0;
    while (d.tag === 'Abs') {
      expect(d.params).toEqual([{ name: 'x', type: { tag: 'Builtin', builtin: 'BOOL', args: [] } }]);
      d = d.body;
      depth++;
    }
    expect(depth).toBe(999);
    let tooDeep = TRUE;
    for (let i = 0; i < 1000; i++) tooDeep = msg([17, msg([1, msg([3, 1], [2, typeRef(0)])], [2, tooDeep])]);
    expect(errorOf(() => decodeValue('1', pkg({ values: [value(tooDeep)] }))).message).toContain(
      'expressions or types nested deeper than 1000 levels',
    );
  });

  it('shares LF 2.2 interned expressions and decodes long reference chains without recursion', () => {
    // exprs[0] = True; exprs[i] = Some @Bool exprs[i-1]; x = exprs[4999], y = exprs[3].
    const exprs = [TRUE];
    for (let i = 1; i < 5000; i++) exprs.push(msg([26, msg([1, typeRef(0)], [2, msg([44, i - 1])])]));
    const p = decodeArchive(
      archive('2', pkg({ values: [value(msg([44, 4999])), value(msg([44, 3]), 2)], exprs })),
      'flat.dalf',
    );
    let x = p.module('Mod')!.values.get('x')!.expr;
    const y = p.module('Mod')!.values.get('y')!.expr;
    for (let i = 4999; i > 3; i--) {
      if (x.tag !== 'OptionalSome') throw new Error(`unexpected ${x.tag}`);
      x = x.value;
    }
    expect(x).toBe(y);
  });

  it('enforces the interning rules of flat archives', () => {
    const forward = [msg([26, msg([1, typeRef(0)], [2, msg([44, 1])])]), TRUE];
    expect(
      errorOf(() => decodeValue('2', pkg({ values: [value(msg([44, 0]))], exprs: forward }))).message,
    ).toContain('interned expression 0 refers to interned expression 1');
    expect(
      errorOf(() => decodeValue('1', pkg({ values: [value(msg([44, 0]))], exprs: [TRUE] }))).message,
    ).toContain('Expr.interned_expr is not supported by Daml-LF 2.1');
    const listOfBool = msg([9, msg([1, msg([3, msg([1, 10])])], [2, typeRef(0)])]);
    expect(
      errorOf(() => decodeArchive(archive('1', pkg({ values: [], types: [BOOL, listOfBool] })), 't')).message,
    ).toContain('Type.TApp is not supported by Daml-LF 2.1');
    // 2.2 forbids the locally flattened forms: multi-parameter lambdas and Con/Builtin argument lists.
    const twoParams = msg([
      17,
      msg([1, msg([3, 1], [2, typeRef(0)])], [1, msg([3, 4], [2, typeRef(0)])], [2, TRUE]),
    ]);
    expect(errorOf(() => decodeValue('2', pkg({ values: [value(twoParams)] }))).message).toContain(
      'Abs.param must have exactly one element in Daml-LF 2.2',
    );
    const listArgs = msg([3, msg([1, 10], [2, BOOL])]);
    expect(
      errorOf(() => decodeArchive(archive('2', pkg({ values: [], types: [listArgs] })), 't')).message,
    ).toContain('Type.Builtin arguments are not allowed in Daml-LF 2.2');
    // Outside the table a type must be a reference into it.
    expect(
      errorOf(() => decodeValue('1', pkg({ values: [msg([2, msg([1, 1], [2, BOOL])], [3, TRUE])] }))).message,
    ).toContain('Type case 3 is not allowed outside the type interning table');
  });

  it('folds LF 2.2 type applications into the same canonical types as LF 2.1', () => {
    const list = msg([3, msg([1, 10])]);
    const flat = decodeArchive(
      archive(
        '2',
        pkg({
          values: [value(TRUE, 1, 2)],
          types: [list, BOOL, msg([9, msg([1, typeRef(0)], [2, typeRef(1)])])],
        }),
      ),
      't',
    );
    const local = decodeArchive(
      archive('1', pkg({ values: [value(TRUE)], types: [msg([3, msg([1, 10], [2, BOOL])])] })),
      't',
    );
    const listOfBool = {
      tag: 'Builtin',
      builtin: 'LIST',
      args: [{ tag: 'Builtin', builtin: 'BOOL', args: [] }],
    };
    expect(flat.module('Mod')!.values.get('x')!.type).toEqual(listOfBool);
    expect(local.module('Mod')!.values.get('x')!.type).toEqual(listOfBool);
  });

  it('decodes templates and choices; rejects contract keys and choice authorizers below LF 2.3', () => {
    const nil = msg([21, msg([1, typeRef(0)])]);
    const choice = (...extra: Field[]) =>
      msg(
        [2, 0],
        [3, 1],
        [4, nil],
        [5, nil],
        [6, msg([3, 1], [2, typeRef(0)])],
        [8, typeRef(0)],
        [9, TRUE],
        [10, 4],
        ...extra,
      );
    const template = (...extra: Field[]) => msg([1, 1], [2, 4], [4, nil], [7, nil], [6, choice()], ...extra);
    const t = decodeArchive(archive('1', pkg({ values: [], templates: [template()] })), 't')
      .module('Mod')!
      .templates.get('x')!;
    expect(t.param).toBe('y');
    expect(t.precond).toEqual({ tag: 'BuiltinCon', con: 'True' });
    expect(t.signatories).toEqual({ tag: 'Nil', type: { tag: 'Builtin', builtin: 'BOOL', args: [] } });
    expect([...t.choices.values()]).toMatchObject([
      {
        name: 'Mod',
        consuming: true,
        selfBinder: 'y',
        argBinder: { name: 'x' },
        update: { tag: 'BuiltinCon' },
      },
    ]);
    const keyed = template([9, msg([1, typeRef(0)], [3, nil], [4, nil])]);
    expect(
      errorOf(() => decodeArchive(archive('2', pkg({ values: [], templates: [keyed] })), 't').modules())
        .message,
    ).toContain('contract keys (DefTemplate.key) is not supported by Daml-LF 2.2');
    const authorizers = msg([1, 1], [2, 4], [4, nil], [7, nil], [6, choice([1001, nil])]);
    expect(
      errorOf(() => decodeArchive(archive('1', pkg({ values: [], templates: [authorizers] })), 't').modules())
        .message,
    ).toContain('choice authorizers is not supported by Daml-LF 2.1');
    const twoChoices = msg([1, 1], [2, 4], [4, nil], [7, nil], [6, choice()], [6, choice()]);
    expect(
      errorOf(() => decodeArchive(archive('1', pkg({ values: [], templates: [twoChoices] })), 't').modules())
        .message,
    ).toContain('collision on choice name Mod');
  });

  it('rejects invalid names, missing feature flags and missing metadata', () => {
    const badVar = errorOf(() =>
      decodeValue('1', Uint8Array.from([...pkg({ values: [value(msg([2, 5]))] }), ...msg([2, 'a-b'])])),
    );
    expect(badVar.message).toContain('invalid name "a-b"');
    expect(errorOf(() => decodeValue('1', pkg({ values: [value(TRUE)], flags: false }))).message).toContain(
      'deprecated feature flag settings',
    );
    const noMetadata = msg([2, 'Mod'], [3, msg([1, 0])]);
    expect(errorOf(() => decodeArchive(archive('1', noMetadata), 't')).message).toContain(
      'Package.metadata is required in Daml-LF 2.1',
    );
    const truncated = archive('1', pkg({ values: [value(TRUE)] }).subarray(0, 20));
    expect(errorOf(() => decodeArchive(truncated, 't')).code).toBe('DAML_LF_MALFORMED');
  });

  it('resolves self references and records module-less locations of interned expressions as such', () => {
    const loc = msg([2, msg([1, 3], [2, 4], [3, 3], [4, 9])]);
    const valX = msg([3, msg([1, selfModule(0)], [2, 1])]);
    const p = decodeArchive(
      archive(
        '2',
        pkg({ values: [value(msg([1, loc], [44, 0])), value(valX, 2)], exprs: [msg([1, loc], [5, 2])] }),
      ),
      'loc.dalf',
    );
    const m = p.module('Mod')!;
    expect(m.values.get('x')!.expr).toEqual({
      tag: 'Loc',
      loc: { module: { packageId: p.id, module: ['Mod'] }, startLine: 3, startCol: 4, endLine: 3, endCol: 9 },
      expr: {
        tag: 'Loc',
        loc: { startLine: 3, startCol: 4, endLine: 3, endCol: 9 },
        expr: { tag: 'BuiltinCon', con: 'True' },
      },
    });
    expect(m.values.get('y')!.expr).toEqual({
      tag: 'Val',
      ref: { packageId: p.id, module: ['Mod'], name: ['x'] },
    });
  });
});
