import { describe, expect, it } from 'vitest';
import { type Dar, readDarFile } from '../dar/index.js';
import { PING_DAR, TOKEN_DAR } from '../dar/testing.js';
import {
  BUILTIN_FUNCTIONS,
  type DefValue,
  type Expr,
  type Identifier,
  type Module,
  type Package,
  PackageRegistry,
  type TemplateChoice,
  type Type,
} from '../lf/index.js';
import { BUILTIN_FUNCTION_TYPES } from './builtins.js';
import { checkPackage, formatTypeCheckError } from './index.js';
import { T_BOOL, T_INT64, T_PARTY, T_TEXT, T_UNIT, tCon, tFun, tList, tNumeric } from './types.js';

/*
 * Negative tests: a real package's AST with one definition altered must fail with a precise message, while the
 * unaltered package checks clean (the first test of typecheck.test.ts).
 */

const ping = readDarFile(PING_DAR);
const PING_MODULE = 'Canton.Internal.Ping';
const pingModule = ping.main.module(PING_MODULE)!;
const pingTemplate = pingModule.templates.get('Ping')!;
const respond = pingTemplate.choices.get('Respond')!;
const PING: Identifier = { packageId: ping.main.id, module: pingModule.name, name: ['Ping'] };
const T_PING = tCon(PING);
const value = (name: string): Expr => ({ tag: 'Val', ref: { ...PING, name: [name] } });
const v = (name: string): Expr => ({ tag: 'Var', name });
const app = (fun: Expr, ...args: Expr[]): Expr => ({ tag: 'App', fun, args });
const field = (name: string, record: Expr, args: readonly Type[] = []): Expr => ({
  tag: 'RecProj',
  tycon: { tycon: PING, args },
  field: name,
  record,
});

/** The package with one module replaced by `patch` applied to it. */
function patched(pkg: Package, moduleName: string, patch: (m: Module) => Partial<Module>): Package {
  const original = pkg.module(moduleName)!;
  const replaced: Module = { ...original, ...patch(original) };
  const module = (name: string) => (name === moduleName ? replaced : pkg.module(name));
  return {
    id: pkg.id,
    languageVersion: pkg.languageVersion,
    metadata: pkg.metadata,
    moduleNames: pkg.moduleNames,
    imports: pkg.imports,
    module,
    modules: () => pkg.moduleNames.map((n) => module(n)!),
  };
}

function withEntry<V>(map: ReadonlyMap<string, V>, key: string, entry: V): Map<string, V> {
  expect(map.has(key)).toBe(true);
  return new Map([...map, [key, entry]]);
}

/** Type errors of `pkg` checked in place of its original in the DAR's registry. */
function errorsOf(dar: Dar, pkg: Package): string[] {
  const registry = new PackageRegistry();
  registry.add(pkg);
  registry.addAll(dar.packages);
  return checkPackage(registry, pkg.id).map(formatTypeCheckError);
}

const withValue = (name: string, change: Partial<DefValue>) =>
  patched(ping.main, PING_MODULE, (m) => ({
    values: withEntry(m.values, name, { ...m.values.get(name)!, ...change, location: undefined }),
  }));

const withChoice = (change: Partial<TemplateChoice>) =>
  patched(ping.main, PING_MODULE, (m) => ({
    templates: withEntry(m.templates, 'Ping', {
      ...pingTemplate,
      location: undefined,
      choices: withEntry(pingTemplate.choices, 'Respond', { ...respond, ...change, location: undefined }),
    }),
  }));

describe('type errors in mutated real packages', () => {
  it('wrong declared type of a value', () => {
    expect(errorsOf(ping, withValue('$$WAbortPing', { type: tFun(T_PARTY, T_TEXT) }))).toEqual([
      `${PING_MODULE}:$$WAbortPing: type mismatch: expected Party -> Text, found Party -> ${PING_MODULE}:AbortPing`,
    ]);
  });

  it('wrong arity of type applications', () => {
    const abortPing = tCon({ ...PING, name: ['AbortPing'] }, [T_INT64]);
    expect(errorsOf(ping, withValue('$$WAbortPing', { type: tFun(T_PARTY, abortPing) }))).toEqual([
      `${PING_MODULE}:$$WAbortPing: ${PING_MODULE}:AbortPing Int64 applies a type of kind * to too many arguments`,
    ]);
    const projection: Expr = {
      tag: 'Abs',
      params: [{ name: 'p', type: T_PING }],
      body: field('id', v('p'), [T_INT64]),
    };
    expect(errorsOf(ping, withValue('$$$$sc_Ping_1', { expr: projection }))).toEqual([
      `${PING_MODULE}:$$$$sc_Ping_1: type constructor ${PING_MODULE}:Ping takes 0 type arguments, found 1`,
    ]);
    const tyApp: Expr = { tag: 'TyApp', expr: value('$$censure'), types: [T_INT64] };
    expect(errorsOf(ping, withValue('$$censure', { expr: tyApp }))).toEqual([
      `${PING_MODULE}:$$censure: expected a universally quantified type, found ${PING_MODULE}:Ping -> Bool`,
    ]);
  });

  it('kind mismatch: Numeric applied to a type instead of a scale', () => {
    expect(errorsOf(ping, withValue('$$WAbortPing', { type: tFun(tNumeric(T_TEXT), T_BOOL) }))).toEqual([
      `${PING_MODULE}:$$WAbortPing: kind mismatch: expected nat, found * for Text`,
    ]);
  });

  it('unbound variable in the signatories', () => {
    const pkg = patched(ping.main, PING_MODULE, (m) => ({
      templates: withEntry(m.templates, 'Ping', {
        ...pingTemplate,
        location: undefined,
        signatories: app(value('$$csignatory'), v('self')),
      }),
    }));
    expect(errorsOf(ping, pkg)).toEqual([`${PING_MODULE}:Ping: signatories: unknown variable self`]);
  });

  it('bad record field', () => {
    const projection: Expr = {
      tag: 'Abs',
      params: [{ name: 'p', type: T_PING }],
      body: field('amount', v('p')),
    };
    expect(errorsOf(ping, withValue('$$$$sc_Ping_1', { expr: projection }))).toEqual([
      `${PING_MODULE}:$$$$sc_Ping_1: record ${PING_MODULE}:Ping has no field amount`,
    ]);
  });

  it('choice body that is not an Update', () => {
    expect(errorsOf(ping, withChoice({ update: app(value('$$$$sc_Ping_3'), v('this'), v('arg')) }))).toEqual([
      `${PING_MODULE}:Ping: choice Respond: type mismatch: expected Update Unit, found List Party`,
    ]);
  });

  it('controller of the wrong type', () => {
    expect(errorsOf(ping, withChoice({ controllers: field('responder', v('this')) }))).toEqual([
      `${PING_MODULE}:Ping: choice Respond controllers: type mismatch: expected List Party, found Party`,
    ]);
  });

  it('unserializable choice argument', () => {
    const argBinder = { name: 'arg', type: tFun(T_TEXT, T_TEXT) };
    expect(errorsOf(ping, withChoice({ argBinder }))).toEqual([
      // The choice's users no longer type-check either.
      `${PING_MODULE}:$$fHasExercisePingRespond$u0028$u0029: type mismatch: expected Text -> Text, found ${PING_MODULE}:Respond`,
      `${PING_MODULE}:Ping: choice Respond: choice argument type Text -> Text is not serializable (function type)`,
    ]);
  });

  it('precondition that is not a Bool', () => {
    const pkg = patched(ping.main, PING_MODULE, (m) => ({
      templates: withEntry(m.templates, 'Ping', {
        ...pingTemplate,
        location: undefined,
        precond: { tag: 'BuiltinLit', lit: { tag: 'Text', value: 'yes' } },
      }),
    }));
    expect(errorsOf(ping, pkg)).toEqual([
      `${PING_MODULE}:Ping: precondition: type mismatch: expected Bool, found Text`,
    ]);
  });

  it('non-exhaustive case and differing alternatives', () => {
    const tt: Expr = { tag: 'BuiltinCon', con: 'True' };
    const nonExhaustive: Expr = {
      tag: 'Abs',
      params: [{ name: 'this', type: T_PING }],
      body: { tag: 'Case', scrut: tt, alts: [{ pattern: { tag: 'BuiltinCon', con: 'True' }, body: tt }] },
    };
    expect(errorsOf(ping, withValue('$$censure', { expr: nonExhaustive }))).toEqual([
      `${PING_MODULE}:$$censure: non-exhaustive case on Bool: missing False`,
    ]);
    const differing: Expr = {
      tag: 'Abs',
      params: [{ name: 'this', type: T_PING }],
      body: {
        tag: 'Case',
        scrut: tt,
        alts: [
          { pattern: { tag: 'BuiltinCon', con: 'True' }, body: tt },
          { pattern: { tag: 'Default' }, body: { tag: 'BuiltinCon', con: 'Unit' } },
        ],
      },
    };
    expect(errorsOf(ping, withValue('$$censure', { expr: differing }))).toEqual([
      `${PING_MODULE}:$$censure: case alternatives differ in type: expected Bool, found Unit`,
    ]);
  });

  it('wrong view of an interface instance', () => {
    const token = readDarFile(TOKEN_DAR);
    const name = 'Splice.Testing.Tokens.TestTokenV1';
    const tpl = token.main.module(name)!.templates.get('Token')!;
    const [holding] = tpl.implements;
    const pkg = patched(token.main, name, (m) => ({
      templates: withEntry(m.templates, 'Token', {
        ...tpl,
        location: undefined,
        implements: [
          {
            ...holding!,
            location: undefined,
            body: { ...holding!.body, view: { tag: 'BuiltinCon', con: 'Unit' } },
          },
          ...tpl.implements.slice(1),
        ],
      }),
    }));
    expect(errorsOf(token, pkg)).toEqual([
      `${name}:Token: interface instance Splice.Api.Token.HoldingV1:Holding: view: ` +
        'expected Splice.Api.Token.HoldingV1:HoldingView, found Unit',
    ]);
  });

  it('interface instance methods: wrong type, missing method', () => {
    const token = readDarFile(TOKEN_DAR);
    const name = 'Splice.Testing.Tokens.TestTokenV1';
    const tpl = token.main.module(name)!.templates.get('TokenAllocation')!;
    const allocation = tpl.implements.find((i) => i.iface.name.join('.') === 'Allocation');
    const withMethods = (methods: Map<string, Expr>) =>
      patched(token.main, name, (m) => ({
        templates: withEntry(m.templates, 'TokenAllocation', {
          ...tpl,
          location: undefined,
          implements: tpl.implements.map((i) =>
            i === allocation ? { ...i, location: undefined, body: { ...i.body, methods } } : i,
          ),
        }),
      }));
    const unit: Expr = { tag: 'BuiltinCon', con: 'Unit' };
    const api = 'Splice.Api.Token.AllocationV1';
    expect(
      errorsOf(token, withMethods(withEntry(allocation!.body.methods, 'allocation_cancelImpl', unit))),
    ).toEqual([
      `${name}:TokenAllocation: interface instance ${api}:Allocation: method allocation_cancelImpl of ` +
        `${api}:Allocation for ${name}:TokenAllocation: expected ContractId ${api}:Allocation -> ` +
        `${api}:Allocation_Cancel -> Update ${api}:Allocation_CancelResult, found Unit`,
    ]);
    const missing = new Map(allocation!.body.methods);
    missing.delete('allocation_withdrawImpl');
    expect(errorsOf(token, withMethods(missing))).toEqual([
      `${name}:TokenAllocation: interface instance Splice.Api.Token.AllocationV1:Allocation: missing method allocation_withdrawImpl`,
    ]);
  });

  it('exception message of the wrong type', () => {
    const general = ping.packages.find((p) => p.metadata.name === 'daml-prim-DA-Exception-GeneralError')!;
    const name = 'DA.Exception.GeneralError';
    const self = tCon({ packageId: general.id, module: name.split('.'), name: ['GeneralError'] });
    const pkg = patched(general, name, (m) => ({
      exceptions: withEntry(m.exceptions, 'GeneralError', {
        name: ['GeneralError'],
        message: { tag: 'Abs', params: [{ name: 'e', type: self }], body: v('e') },
      }),
    }));
    expect(errorsOf(ping, pkg)).toEqual([
      `${name}:GeneralError: message: type mismatch: expected ${name}:GeneralError -> Text, ` +
        `found ${name}:GeneralError -> ${name}:GeneralError`,
    ]);
  });

  it('reports one error per faulty definition, including the users of a changed one', () => {
    const pkg = patched(ping.main, PING_MODULE, (m) => ({
      values: new Map([
        ...m.values,
        ['$$censure', { ...m.values.get('$$censure')!, type: T_UNIT, location: undefined }],
        [
          '$$WAbortPing',
          { ...m.values.get('$$WAbortPing')!, type: tFun(T_PARTY, tList(T_PARTY)), location: undefined },
        ],
      ]),
    }));
    expect(errorsOf(ping, pkg)).toEqual([
      `${PING_MODULE}:$$censure: type mismatch: expected Unit, found ${PING_MODULE}:Ping -> Bool`,
      `${PING_MODULE}:$$fHasEnsurePing: type mismatch: expected DA.Internal.Template.Functions:HasEnsure ${PING_MODULE}:Ping, found <m_ensure: Unit -> Unit>`,
      `${PING_MODULE}:$$WAbortPing: type mismatch: expected Party -> List Party, found Party -> ${PING_MODULE}:AbortPing`,
      `${PING_MODULE}:Ping (line 6, column 10): precondition: expected a function type, found Unit`,
    ]);
  });
});

describe('builtin function types', () => {
  /** A package of one module whose values are the builtins at their declared types. */
  function builtinPackage(types: (fn: (typeof BUILTIN_FUNCTIONS)[number]) => Type): Package {
    const values = new Map<string, DefValue>(
      BUILTIN_FUNCTIONS.map((fn) => [fn, { name: [fn], type: types(fn), expr: { tag: 'Builtin', fn } }]),
    );
    const module: Module = {
      name: ['Builtins'],
      synonyms: new Map(),
      dataTypes: new Map(),
      values,
      templates: new Map(),
      exceptions: new Map(),
      interfaces: new Map(),
    };
    return {
      id: '0'.repeat(64),
      languageVersion: '2.1',
      metadata: { name: 'builtins', version: '1.0.0' },
      moduleNames: ['Builtins'],
      module: (name) => (name === 'Builtins' ? module : undefined),
      modules: () => [module],
    };
  }

  it('gives all 67 stable builtins a well-kinded closed type', () => {
    expect(BUILTIN_FUNCTIONS).toHaveLength(67);
    expect(
      errorsOf(
        ping,
        builtinPackage((fn) => BUILTIN_FUNCTION_TYPES[fn]),
      ),
    ).toEqual([]);
  });

  it('rejects a builtin used at another type', () => {
    const pkg = builtinPackage((fn) =>
      fn === 'ADD_INT64' ? tFun(T_INT64, T_INT64) : BUILTIN_FUNCTION_TYPES[fn],
    );
    expect(errorsOf(ping, pkg)).toEqual([
      'Builtins:ADD_INT64: type mismatch: expected Int64 -> Int64, found Int64 -> Int64 -> Int64',
    ]);
  });
});
