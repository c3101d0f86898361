import { describe, expect, it } from 'vitest';
import type {
  DefDataType,
  DefInterface,
  DefTypeSyn,
  DefValue,
  Expr,
  Identifier,
  LanguageVersion,
  Module,
  Package,
  Type,
} from '../lf/index.js';
import { PackageRegistry } from '../lf/index.js';
import { checkPackage, formatTypeCheckError } from './index.js';
import { STAR, T_INT64, T_TEXT, T_UNIT, tCon, tForall, tFun, tList, tUpdate, tVar } from './types.js';

/*
 * Hand-built packages for the rules real archives exercise rarely: synonyms, cycles, serializability of data
 * types, interface requirements, capture-avoiding instantiation and deep nesting.
 */

const PKG = 'a'.repeat(64);
const id = (module: string, name: string, packageId = PKG): Identifier => ({
  packageId,
  module: module.split('.'),
  name: name.split('.'),
});

interface ModuleParts {
  synonyms?: DefTypeSyn[];
  dataTypes?: DefDataType[];
  values?: DefValue[];
  interfaces?: DefInterface[];
}

function pkg(
  modules: Record<string, ModuleParts>,
  packageId = PKG,
  languageVersion: LanguageVersion = '2.1',
): Package {
  const built = new Map<string, Module>(
    Object.entries(modules).map(([name, parts]) => {
      const byName = <T extends { name: readonly string[] }>(defs: T[] = []) =>
        new Map(defs.map((d) => [d.name.join('.'), d]));
      const module: Module = {
        name: name.split('.'),
        synonyms: byName(parts.synonyms),
        dataTypes: byName(parts.dataTypes),
        values: byName(parts.values),
        templates: new Map(),
        exceptions: new Map(),
        interfaces: new Map((parts.interfaces ?? []).map((i) => [i.tycon.join('.'), i])),
      };
      return [name, module];
    }),
  );
  return {
    id: packageId,
    languageVersion,
    metadata: { name: `test-${packageId.slice(0, 4)}`, version: '1.0.0' },
    moduleNames: [...built.keys()],
    module: (name) => built.get(name),
    modules: () => [...built.values()],
  };
}

function errors(...pkgs: Package[]): string[] {
  const registry = new PackageRegistry();
  registry.addAll(pkgs);
  return checkPackage(registry, pkgs[0]!.id).map(formatTypeCheckError);
}

const value = (name: string, type: Type, expr: Expr): DefValue => ({ name: [name], type, expr });
const val = (module: string, name: string): Expr => ({ tag: 'Val', ref: id(module, name) });
const syn = (module: string, name: string, args: Type[] = []): Type => ({
  tag: 'Syn',
  tysyn: id(module, name),
  args,
});
const nil = (type: Type): Expr => ({ tag: 'Nil', type });
const unit: Expr = { tag: 'BuiltinCon', con: 'Unit' };
const int = (n: number): Expr => ({ tag: 'BuiltinLit', lit: { tag: 'Int64', value: BigInt(n) } });
const star = (...names: string[]) => names.map((name) => ({ name, kind: STAR }));

describe('type synonyms', () => {
  it('expands synonyms when comparing types and checks their arity', () => {
    const listOf: DefTypeSyn = { name: ['ListOf'], params: star('a'), type: tList(tVar('a')) };
    expect(
      errors(
        pkg({ M: { synonyms: [listOf], values: [value('x', syn('M', 'ListOf', [T_INT64]), nil(T_INT64))] } }),
      ),
    ).toEqual([]);
    expect(
      errors(
        pkg({ M: { synonyms: [listOf], values: [value('x', syn('M', 'ListOf', [T_INT64]), nil(T_TEXT))] } }),
      ),
    ).toEqual(['M:x: type mismatch: expected M:ListOf Int64, found List Text']);
    expect(
      errors(pkg({ M: { synonyms: [listOf], values: [value('x', syn('M', 'ListOf'), nil(T_TEXT))] } })),
    ).toEqual(['M:x: type synonym M:ListOf takes 1 type arguments, found 0']);
  });

  it('compares synonym applications by their definitions when their arguments differ', () => {
    // Phantom a = Int64: `Phantom Text` and `Phantom Bool` are the same type.
    const phantom: DefTypeSyn = { name: ['Phantom'], params: star('a'), type: T_INT64 };
    const values = [
      value('x', syn('M', 'Phantom', [T_TEXT]), int(1)),
      value('y', syn('M', 'Phantom', [T_UNIT]), val('M', 'x')),
    ];
    expect(errors(pkg({ M: { synonyms: [phantom], values } }))).toEqual([]);
  });

  it('rejects cycles between synonyms', () => {
    const s: DefTypeSyn = { name: ['S'], params: [], type: tList(syn('M', 'T')) };
    const t: DefTypeSyn = { name: ['T'], params: [], type: syn('M', 'S') };
    expect(errors(pkg({ M: { synonyms: [s, t] } }))).toEqual([
      'M:S: cycle in type synonym definitions through M:S',
      'M:T: cycle in type synonym definitions through M:T',
    ]);
  });
});

describe('polymorphism', () => {
  it('instantiates quantifiers without capturing free variables', () => {
    const a = tVar('a');
    const b = tVar('b');
    // k : ∀ a b. a → b → a
    const k = value('k', tForall(star('a', 'b'), tFun(a, b, a)), {
      tag: 'TyAbs',
      params: star('a', 'b'),
      body: {
        tag: 'Abs',
        params: [
          { name: 'x', type: a },
          { name: 'y', type: b },
        ],
        body: { tag: 'Var', name: 'x' },
      },
    });
    // u : ∀ b c. b → c → b = Λ b. k @b — the remaining binder `b` of k must be renamed, not capture `b`.
    const u = value('u', tForall(star('b', 'c'), tFun(b, tVar('c'), b)), {
      tag: 'TyAbs',
      params: star('b'),
      body: { tag: 'TyApp', expr: val('M', 'k'), types: [b] },
    });
    expect(errors(pkg({ M: { values: [k, u] } }))).toEqual([]);
    const wrong = value('u', tForall(star('b'), tFun(b, b, b)), u.expr);
    expect(errors(pkg({ M: { values: [k, wrong] } }))).toEqual([
      'M:u: type mismatch: expected forall b. b -> b -> b, found forall b b$. b -> b$ -> b',
    ]);
  });
});

describe('data types and serializability', () => {
  const record = (
    name: string,
    serializable: boolean,
    fields: [string, Type][],
    params = star(),
  ): DefDataType => ({
    name: [name],
    params,
    serializable,
    cons: { tag: 'Record', fields: fields.map(([field, type]) => ({ field, type })) },
  });

  it('checks the kinds of field types', () => {
    expect(errors(pkg({ M: { dataTypes: [record('R', false, [['f', tVar('a')]])] } }))).toEqual([
      'M:R: unknown type variable a',
    ]);
    expect(
      errors(
        pkg({
          M: {
            dataTypes: [
              record('R', false, [
                ['f', tList(T_INT64)],
                ['f', T_INT64],
              ]),
            ],
          },
        }),
      ),
    ).toEqual(['M:R: duplicate field f']);
  });

  it('rejects unserializable fields of a serializable data type', () => {
    expect(errors(pkg({ M: { dataTypes: [record('R', true, [['f', tFun(T_INT64, T_INT64)]])] } }))).toEqual([
      'M:R: serializable data type: type of f Int64 -> Int64 is not serializable (function type)',
    ]);
    expect(errors(pkg({ M: { dataTypes: [record('R', false, [['f', tFun(T_INT64, T_INT64)]])] } }))).toEqual(
      [],
    );
    const higher = record(
      'H',
      true,
      [['f', T_UNIT]],
      [{ name: 'f', kind: { tag: 'Arrow', param: STAR, result: STAR } }],
    );
    expect(errors(pkg({ M: { dataTypes: [higher] } }))).toEqual([
      'M:H: serializable data type: type parameter f : * -> * is higher-kinded, so not serializable',
    ]);
  });
});

describe('interfaces', () => {
  const view: DefDataType = {
    name: ['View'],
    params: [],
    serializable: true,
    cons: { tag: 'Record', fields: [] },
  };
  const iface = (name: string, requires: Identifier[]): DefInterface => ({
    tycon: [name],
    param: 'this',
    methods: new Map(),
    choices: new Map(),
    view: tCon(id('M', 'View')),
    requires,
  });
  const ifaceType = (name: string): DefDataType => ({
    name: [name],
    params: [],
    serializable: false,
    cons: { tag: 'Interface' },
  });

  it('requires the set of required interfaces to be transitively closed', () => {
    const modules = {
      M: {
        dataTypes: [view, ifaceType('A'), ifaceType('B'), ifaceType('C')],
        interfaces: [iface('A', []), iface('B', [id('M', 'A')]), iface('C', [id('M', 'B')])],
      },
    };
    expect(errors(pkg(modules))).toEqual(['M:C: requires M:B but not M:A, which that interface requires']);
  });
});

describe('package-level checks', () => {
  it('rejects cycles between modules', () => {
    const a = { values: [value('x', T_UNIT, val('B', 'y'))] };
    const b = { values: [value('y', T_UNIT, val('A', 'x'))] };
    expect(errors(pkg({ A: a, B: b }))).toEqual(['A: cycle in module dependencies A -> B -> A']);
  });

  it('rejects a dependency on a newer Daml-LF version', () => {
    const dep = pkg({ D: { values: [value('y', T_UNIT, unit)] } }, 'b'.repeat(64), '2.2');
    const main = pkg({ M: { values: [value('x', T_UNIT, { tag: 'Val', ref: id('D', 'y', dep.id) })] } });
    expect(errors(main, dep)).toEqual([
      `Daml-LF 2.1 package depends on package ${dep.id} (test-bbbb 1.0.0) of the newer Daml-LF 2.2`,
    ]);
  });
});

describe('deep nesting', () => {
  it('checks 100 000 nested lets and update binds without exhausting the stack', () => {
    let lets: Expr = { tag: 'Var', name: 'x0' };
    let binds: Expr = {
      tag: 'Update',
      update: { tag: 'Pure', type: T_INT64, expr: { tag: 'Var', name: 'x0' } },
    };
    for (let i = 0; i < 100_000; i++) {
      lets = { tag: 'Let', bindings: [{ binder: `x${i % 7}`, type: T_INT64, bound: int(i) }], body: lets };
      const bound: Expr = { tag: 'Update', update: { tag: 'Pure', type: T_INT64, expr: int(i) } };
      binds = {
        tag: 'Update',
        update: { tag: 'Block', bindings: [{ binder: `x${i % 7}`, type: T_INT64, bound }], body: binds },
      };
    }
    expect(
      errors(pkg({ M: { values: [value('lets', T_INT64, lets), value('binds', tUpdate(T_INT64), binds)] } })),
    ).toEqual([]);
    expect(errors(pkg({ M: { values: [value('lets', T_TEXT, lets)] } }))).toEqual([
      'M:lets: type mismatch: expected Text, found Int64',
    ]);
  });

  it('rejects expressions nested beyond the bound outside tail position, not the process', () => {
    const nest = (depth: number, wrap: (e: Expr) => Expr): Expr => {
      let e = int(1);
      for (let i = 0; i < depth; i++) e = wrap(e);
      return e;
    };
    const add = (e: Expr): Expr => ({
      tag: 'App',
      fun: { tag: 'Builtin', fn: 'ADD_INT64' },
      args: [e, int(1)],
    });
    expect(errors(pkg({ M: { values: [value('x', T_INT64, nest(999, add))] } }))).toEqual([]);
    expect(errors(pkg({ M: { values: [value('x', T_INT64, nest(1000, add))] } }))).toEqual([
      'M:x: expression nested deeper than 1000 levels',
    ]);
    const struct = (e: Expr): Expr => ({
      tag: 'StructProj',
      field: 'f',
      struct: { tag: 'StructCon', fields: [{ field: 'f', expr: e }] },
    });
    const [error] = errors(pkg({ M: { values: [value('x', T_INT64, nest(5000, struct))] } }));
    expect(error).toMatch(/^M:x: (expression nested deeper than 1000 levels|nested too deeply to check)$/);
  });
});
