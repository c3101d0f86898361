import { describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import type {
  BuiltinFunction,
  CaseAlt,
  CasePattern,
  DefDataType,
  DefException,
  DefTemplate,
  DefValue,
  Expr,
  Identifier,
  Module,
  Package,
  TemplateChoice,
  Type,
  Update,
} from '../lf/ast.js';
import type { ContractId } from '../values/contract-id.js';
import { DamlInterpretationError, DamlRuntimeErrors } from '../values/errors.js';
import {
  FALSE,
  int64,
  listFromArray,
  NONE,
  party,
  some,
  TRUE,
  text,
  UNIT,
  type Value,
} from '../values/value.js';
import { Interpreter } from './interpreter.js';
import { RecordingHost } from './testing.js';

// ---------------------------------------------------------------------------------------------------------------
// A small hand-written package.

const PKG = 'test-package';
const id = (name: string): Identifier => ({ packageId: PKG, module: ['M'], name: [name] });
const T_ANY: Type = { tag: 'Builtin', builtin: 'UNIT', args: [] };
const tInt: Type = { tag: 'Builtin', builtin: 'INT64', args: [] };
const tCon = (name: string): Type => ({ tag: 'Con', tycon: id(name), args: [] });

const v = (name: string): Expr => ({ tag: 'Var', name });
const val = (name: string): Expr => ({ tag: 'Val', ref: id(name) });
const b = (fn: BuiltinFunction): Expr => ({ tag: 'Builtin', fn });
const app = (fun: Expr, ...args: Expr[]): Expr => ({ tag: 'App', fun, args });
const call = (fn: BuiltinFunction, ...args: Expr[]) => app(b(fn), ...args);
const lam = (params: string[], body: Expr): Expr => ({
  tag: 'Abs',
  params: params.map((name) => ({ name, type: T_ANY })),
  body,
});
const int = (n: number): Expr => ({ tag: 'BuiltinLit', lit: { tag: 'Int64', value: BigInt(n) } });
const str = (s: string): Expr => ({ tag: 'BuiltinLit', lit: { tag: 'Text', value: s } });
const unit: Expr = { tag: 'BuiltinCon', con: 'Unit' };
const tru: Expr = { tag: 'BuiltinCon', con: 'True' };
const trace = (msg: string, e: Expr) => call('TRACE', str(msg), e);
const let1 = (binder: string, bound: Expr, body: Expr): Expr => ({
  tag: 'Let',
  bindings: [{ binder, type: T_ANY, bound }],
  body,
});
const cases = (scrut: Expr, ...alts: [CasePattern, Expr][]): Expr => ({
  tag: 'Case',
  scrut,
  alts: alts.map(([pattern, body]): CaseAlt => ({ pattern, body })),
});
const ifThen = (c: Expr, t: Expr, e: Expr) =>
  cases(c, [{ tag: 'BuiltinCon', con: 'True' }, t], [{ tag: 'Default' }, e]);
const list = (...xs: Expr[]): Expr =>
  xs.length === 0
    ? { tag: 'Nil', type: T_ANY }
    : { tag: 'Cons', type: T_ANY, front: xs, tail: { tag: 'Nil', type: T_ANY } };
const rec = (name: string, fields: [string, Expr][]): Expr => ({
  tag: 'RecCon',
  tycon: { tycon: id(name), args: [] },
  fields: fields.map(([field, expr]) => ({ field, expr })),
});
const proj = (name: string, field: string, record: Expr): Expr => ({
  tag: 'RecProj',
  tycon: { tycon: id(name), args: [] },
  field,
  record,
});
const upd = (update: Update): Expr => ({ tag: 'Update', update });
const pure = (expr: Expr) => upd({ tag: 'Pure', type: T_ANY, expr });
const bind = (bindings: [string, Expr][], body: Expr) =>
  upd({ tag: 'Block', bindings: bindings.map(([binder, bound]) => ({ binder, type: T_ANY, bound })), body });
const throwEx = (message: Expr): Expr => ({
  tag: 'Throw',
  returnType: T_ANY,
  exceptionType: tCon('Ex'),
  exception: rec('Ex', [['msg', message]]),
});
const tryCatch = (tryExpr: Expr, binder: string, catchExpr: Expr) =>
  upd({ tag: 'TryCatch', returnType: T_ANY, tryExpr, binder, catchExpr });

const record = (name: string, fields: [string, Type][]): DefDataType => ({
  name: [name],
  params: [],
  serializable: true,
  cons: { tag: 'Record', fields: fields.map(([field, type]) => ({ field, type })) },
});

function choice(
  name: string,
  consuming: boolean,
  update: Expr,
  controllers = list(proj('T', 'owner', v('this'))),
): TemplateChoice {
  return {
    name,
    consuming,
    controllers: trace(`controllers ${name}`, controllers),
    observers: trace(`observers ${name}`, list()),
    selfBinder: 'self',
    argBinder: { name: 'arg', type: tInt },
    returnType: T_ANY,
    update,
  };
}

const template: DefTemplate = {
  tycon: ['T'],
  param: 'this',
  precond: trace('precondition', call('GREATER_EQ', proj('T', 'n', v('this')), int(0))),
  signatories: trace('signatories', list(proj('T', 'owner', v('this')))),
  observers: trace('observers', list()),
  choices: new Map([
    [
      'Incr',
      choice(
        'Incr',
        true,
        trace(
          'body Incr',
          upd({
            tag: 'Create',
            template: id('T'),
            arg: {
              tag: 'RecUpd',
              tycon: { tycon: id('T'), args: [] },
              field: 'n',
              record: v('this'),
              update: call('ADD_INT64', proj('T', 'n', v('this')), v('arg')),
            },
          }),
        ),
      ),
    ],
    ['Fail', choice('Fail', false, throwEx(str('choice failed')))],
    ['FetchSelf', choice('FetchSelf', true, upd({ tag: 'Fetch', template: id('T'), cid: v('self') }))],
  ]),
  implements: [],
};

const values: [string, Expr][] = [
  ['constant', trace('evaluating constant', int(42))],
  // sumTo n = if n == 0 then 0 else n + sumTo (n - 1): not tail recursive
  [
    'sumTo',
    lam(
      ['n'],
      ifThen(
        call('EQUAL', v('n'), int(0)),
        int(0),
        call('ADD_INT64', v('n'), app(val('sumTo'), call('SUB_INT64', v('n'), int(1)))),
      ),
    ),
  ],
  ['loop', lam(['x'], app(val('loop'), v('x')))],
  // The reference engine's EvaluationOrderTest: LF definitions of foldl and foldr, and a tracing step function.
  [
    'foldl',
    lam(
      ['f', 'acc', 'xs'],
      cases(
        v('xs'),
        [{ tag: 'Nil' }, v('acc')],
        [
          { tag: 'Cons', head: 'x', tail: 'rest' },
          app(val('foldl'), v('f'), app(v('f'), v('acc'), v('x')), v('rest')),
        ],
      ),
    ),
  ],
  [
    'foldr',
    lam(
      ['f', 'acc', 'xs'],
      cases(
        v('xs'),
        [{ tag: 'Nil' }, v('acc')],
        [
          { tag: 'Cons', head: 'x', tail: 'rest' },
          app(v('f'), v('x'), app(val('foldr'), v('f'), v('acc'), v('rest'))),
        ],
      ),
    ),
  ],
  [
    'traceStep',
    lam(['x'], call('TRACE', v('x'), lam(['y'], call('TRACE', v('y'), call('APPEND_TEXT', v('x'), v('y')))))),
  ],
  ['badMessage', rec('BadEx', [])],
];

const moduleM: Module = {
  name: ['M'],
  synonyms: new Map(),
  dataTypes: new Map<string, DefDataType>([
    [
      'R',
      record('R', [
        ['a', tInt],
        ['b', T_ANY],
      ]),
    ],
    [
      'T',
      record('T', [
        ['owner', T_ANY],
        ['n', tInt],
      ]),
    ],
    ['Ex', record('Ex', [['msg', T_ANY]])],
    ['BadEx', record('BadEx', [])],
    [
      'V',
      {
        name: ['V'],
        params: [],
        serializable: true,
        cons: {
          tag: 'Variant',
          variants: [
            { field: 'A', type: tInt },
            { field: 'B', type: T_ANY },
          ],
        },
      },
    ],
    [
      'E',
      { name: ['E'], params: [], serializable: true, cons: { tag: 'Enum', constructors: ['X', 'Y', 'Z'] } },
    ],
  ]),
  values: new Map<string, DefValue>(
    values.map(([name, expr]) => [name, { name: [name], type: T_ANY, expr }]),
  ),
  templates: new Map([['T', template]]),
  exceptions: new Map<string, DefException>([
    ['Ex', { name: ['Ex'], message: lam(['e'], proj('Ex', 'msg', v('e'))) }],
    ['BadEx', { name: ['BadEx'], message: lam(['e'], throwEx(str('message failed'))) }],
  ]),
  interfaces: new Map(),
};

const pkg: Package = {
  id: PKG,
  languageVersion: '2.2',
  metadata: { name: 'test', version: '1.0.0' },
  moduleNames: ['M'],
  module: (name) => (name === 'M' ? moduleM : undefined),
  modules: () => [moduleM],
};

function setup(stepBudget?: number) {
  const traces: string[] = [];
  const interpreter = new Interpreter(
    { lookupPackage: (pid) => (pid === PKG ? pkg : undefined) },
    { trace: (m) => traces.push(m), ...(stepBudget === undefined ? {} : { stepBudget }) },
  );
  return { traces, interpreter, evaluate: (e: Expr) => interpreter.evaluate(e) };
}

function failure(run: () => unknown): DamlInterpretationError {
  try {
    run();
  } catch (e) {
    if (e instanceof DamlInterpretationError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

// ---------------------------------------------------------------------------------------------------------------

describe('functions', () => {
  it('builds closures and partial applications, and over-applies', () => {
    const { evaluate } = setup();
    const sub = lam(['x', 'y'], call('SUB_INT64', v('x'), v('y')));
    expect(evaluate(let1('f', app(sub, int(10)), app(v('f'), int(3))))).toEqual(int64(7n));
    // \x -> \y -> …  merged, applied to both at once; and a function returning a function, over-applied.
    const curried = lam(
      ['x'],
      let1('k', int(100), lam(['y'], call('ADD_INT64', v('k'), call('MUL_INT64', v('x'), v('y'))))),
    );
    expect(evaluate(app(curried, int(2), int(3)))).toEqual(int64(106n));
    expect(evaluate(app(b('ADD_INT64'), int(1), int(2)))).toEqual(int64(3n));
    const partial = app(b('APPEND_TEXT'), str('a'));
    expect(evaluate(app(lam(['g'], app(v('g'), str('b'))), partial))).toEqual(text('ab'));
  });

  it('evaluates arguments right to left, as the reference engine does', () => {
    const { evaluate, traces } = setup();
    evaluate(app(lam(['a', 'b'], v('a')), trace('first', int(1)), trace('second', int(2))));
    evaluate(
      rec('R', [
        ['a', trace('field a', int(1))],
        ['b', trace('field b', unit)],
      ]),
    );
    expect(traces).toEqual(['second', 'first', 'field b', 'field a']);
  });

  it('computes top-level values once', () => {
    const { evaluate, traces } = setup();
    expect(evaluate(call('ADD_INT64', val('constant'), val('constant')))).toEqual(int64(84n));
    expect(evaluate(val('constant'))).toEqual(int64(42n));
    expect(traces).toEqual(['evaluating constant']);
  });

  it('recurses 100 000 deep without host recursion, and bounds the steps', () => {
    const { evaluate, interpreter } = setup();
    expect(evaluate(app(val('sumTo'), int(100_000)))).toEqual(int64(5_000_050_000n));
    expect(interpreter.lastSteps).toBeGreaterThan(100_000);
    const limited = setup(10_000);
    try {
      limited.evaluate(app(val('loop'), unit));
      expect.unreachable();
    } catch (e) {
      expect(isWeftError(e, DamlRuntimeErrors.DAML_STEP_BUDGET_EXCEEDED)).toBe(true);
      expect((e as Error).message).toBe('Daml evaluation exceeded its budget of 10000 steps');
    }
  });
});

describe('data', () => {
  const { evaluate } = setup();

  it('matches every kind of pattern', () => {
    const variant = (c: string, arg: Expr): Expr => ({
      tag: 'VariantCon',
      tycon: { tycon: id('V'), args: [] },
      variant: c,
      arg,
    });
    const onV = (e: Expr) =>
      cases(
        e,
        [{ tag: 'Variant', tycon: id('V'), variant: 'B', binder: 'x' }, v('x')],
        [{ tag: 'Variant', tycon: id('V'), variant: 'A', binder: 'n' }, call('INT64_TO_TEXT', v('n'))],
      );
    expect(evaluate(onV(variant('A', int(5))))).toEqual(text('5'));
    expect(evaluate(onV(variant('B', str('b'))))).toEqual(text('b'));
    const onE = (c: string) =>
      cases(
        { tag: 'EnumCon', tycon: id('E'), con: c },
        [{ tag: 'Enum', tycon: id('E'), con: 'Y' }, str('y')],
        [{ tag: 'Default' }, str('other')],
      );
    expect([evaluate(onE('Y')), evaluate(onE('Z'))]).toEqual([text('y'), text('other')]);
    const onList = (e: Expr) =>
      cases(e, [{ tag: 'Nil' }, int(-1)], [{ tag: 'Cons', head: 'h', tail: 't' }, v('h')]);
    expect([evaluate(onList(list())), evaluate(onList(list(int(7), int(8))))]).toEqual([
      int64(-1n),
      int64(7n),
    ]);
    const onOpt = (e: Expr) =>
      cases(e, [{ tag: 'OptionalNone' }, int(0)], [{ tag: 'OptionalSome', binder: 'x' }, v('x')]);
    expect(evaluate(onOpt({ tag: 'OptionalSome', type: T_ANY, value: int(3) }))).toEqual(int64(3n));
    expect(evaluate(onOpt({ tag: 'OptionalNone', type: T_ANY }))).toEqual(int64(0n));
    expect(evaluate(cases(unit, [{ tag: 'BuiltinCon', con: 'Unit' }, tru]))).toEqual(TRUE);
    expect(() => evaluate(cases(tru, [{ tag: 'BuiltinCon', con: 'False' }, unit]))).toThrow(
      /no case alternative/,
    );
  });

  it('updates and projects records and structs', () => {
    const r = rec('R', [
      ['a', int(1)],
      ['b', str('x')],
    ]);
    const updated: Expr = {
      tag: 'RecUpd',
      tycon: { tycon: id('R'), args: [] },
      field: 'b',
      record: { tag: 'RecUpd', tycon: { tycon: id('R'), args: [] }, field: 'a', record: r, update: int(2) },
      update: str('y'),
    };
    expect(evaluate(updated)).toMatchObject({
      kind: 'Record',
      fields: ['a', 'b'],
      values: [int64(2n), text('y')],
    });
    const s: Expr = {
      tag: 'StructCon',
      fields: [
        { field: 'z', expr: int(1) },
        { field: 'a', expr: int(2) },
      ],
    };
    expect(evaluate(s)).toEqual({ kind: 'Struct', fields: ['a', 'z'], values: [int64(2n), int64(1n)] });
    expect(evaluate({ tag: 'StructProj', field: 'z', struct: s })).toEqual(int64(1n));
    expect(evaluate({ tag: 'StructUpd', field: 'a', struct: s, update: int(9) })).toMatchObject({
      values: [int64(9n), int64(1n)],
    });
  });

  it('wraps values in Any and compares type representations', () => {
    const any: Expr = { tag: 'ToAny', type: tInt, expr: int(3) };
    expect(evaluate({ tag: 'FromAny', type: tInt, expr: any })).toEqual(some(int64(3n)));
    expect(evaluate({ tag: 'FromAny', type: tCon('R'), expr: any })).toEqual(NONE);
    const rep = (t: Type): Expr => ({ tag: 'TypeRep', type: t });
    expect(evaluate(call('EQUAL', rep(tInt), rep(tInt)))).toEqual(TRUE);
    expect(evaluate(call('LESS', rep(tInt), rep(tCon('R'))))).toEqual(TRUE);
  });
});

describe('list builtins', () => {
  const { evaluate, traces } = setup();
  const f = lam(['x', 'y'], call('ADD_INT64', int(3), call('MUL_INT64', v('x'), v('y'))));
  const g = lam(
    ['x'],
    let1('z', int(3), lam(['y'], call('ADD_INT64', v('z'), call('MUL_INT64', v('x'), v('y'))))),
  );

  it('folds with the reference answers', () => {
    expect(evaluate(call('FOLDL', f, int(5), list()))).toEqual(int64(5n));
    expect(evaluate(call('FOLDL', f, int(5), list(int(7), int(11), int(13))))).toEqual(int64(5476n));
    expect(evaluate(call('FOLDR', f, int(5), list(int(7), int(11), int(13))))).toEqual(int64(5260n));
    expect(evaluate(call('FOLDR', g, int(5), list(int(7), int(11), int(13))))).toEqual(int64(5260n));
  });

  it('folds in the order of the Daml definitions of foldl and foldr', () => {
    const step = (name: string) => lam(['a', 'b'], trace(name, call('APPEND_TEXT', v('a'), v('b'))));
    const digits = list(str('0'), str('1'), str('2'));
    traces.length = 0;
    expect(evaluate(call('FOLDL', step('l'), str(''), digits))).toEqual(text('012'));
    expect(evaluate(call('FOLDR', step('r'), str(''), digits))).toEqual(text('012'));
    expect(traces).toEqual(['l', 'l', 'l', 'r', 'r', 'r']);
  });

  it('folds natively in the order of the LF definitions (reference answers)', () => {
    const run = (fold: Expr) => {
      const { evaluate, traces } = setup();
      expect(
        evaluate(app(fold, val('traceStep'), str('0'), list(str('1'), str('2'), str('3')))),
      ).toBeDefined();
      return traces;
    };
    expect(run(b('FOLDL'))).toEqual(['0', '1', '01', '2', '012', '3']);
    expect(run(val('foldl'))).toEqual(run(b('FOLDL')));
    expect(run(b('FOLDR'))).toEqual(['3', '0', '2', '30', '1', '230']);
    expect(run(val('foldr'))).toEqual(run(b('FOLDR')));
  });

  it('compares lists with EQUAL_LIST (reference answers)', () => {
    const sameParity = lam(
      ['x', 'y'],
      call('EQUAL', call('MOD_INT64', v('x'), int(2)), call('MOD_INT64', v('y'), int(2))),
    );
    const eq = (xs: Expr, ys: Expr) => evaluate(call('EQUAL_LIST', sameParity, xs, ys));
    expect(eq(list(), list())).toEqual(TRUE);
    expect(eq(list(int(1), int(2), int(3)), list(int(5), int(6), int(7)))).toEqual(TRUE);
    expect(eq(list(), list(int(1)))).toEqual(FALSE);
    expect(eq(list(int(1)), list(int(1), int(2)))).toEqual(FALSE);
    expect(eq(list(int(1), int(2), int(3)), list(int(5), int(6), int(4)))).toEqual(FALSE);
  });
});

describe('exceptions', () => {
  const messageOf: Expr = {
    tag: 'OptionalSome',
    type: T_ANY,
    value: pure(call('ANY_EXCEPTION_MESSAGE', v('e'))),
  };

  it('catches a thrown exception, rolling back its effects', () => {
    const { interpreter } = setup();
    const host = new RecordingHost();
    const create = upd({
      tag: 'Create',
      template: id('T'),
      arg: rec('T', [
        ['owner', v('p')],
        ['n', int(1)],
      ]),
    });
    const u = interpreter.evaluate(
      lam(['p'], tryCatch(bind([['c', create]], throwEx(str('boom'))), 'e', messageOf)),
    );
    expect(interpreter.runUpdate(interpreter.apply(u, [party('alice')]), host)).toEqual(text('boom'));
    expect(host.events.map((e) => e.kind)).toEqual(['beginTry', 'create', 'rollbackTry']);
  });

  it('catches arithmetic errors but not fatal errors', () => {
    const { interpreter } = setup();
    const host = new RecordingHost();
    const div = interpreter.evaluate(tryCatch(pure(call('DIV_INT64', int(1), int(0))), 'e', messageOf));
    expect(interpreter.runUpdate(div, host)).toEqual(
      text('ArithmeticError while evaluating (DIV_INT64 1 0).'),
    );
    const fatal = interpreter.evaluate(tryCatch(pure(call('ERROR', str('fatal'))), 'e', messageOf));
    expect(failure(() => interpreter.runUpdate(fatal, host)).detail).toEqual({
      kind: 'UserError',
      message: 'fatal',
    });
  });

  it('rethrows when the handler declines, and reports the uncaught exception as a failure status', () => {
    const { interpreter } = setup();
    const host = new RecordingHost();
    const declined = interpreter.evaluate(
      tryCatch(throwEx(str('boom')), 'e', { tag: 'OptionalNone', type: T_ANY }),
    );
    expect(failure(() => interpreter.runUpdate(declined, host)).detail).toEqual({
      kind: 'FailureStatus',
      errorId: 'UNHANDLED_EXCEPTION/M:Ex',
      categoryId: 9,
      message: 'boom',
      metadata: new Map(),
    });
    expect(failure(() => interpreter.evaluate(throwEx(str('pure')))).detail).toMatchObject({
      message: 'pure',
    });
    const bad: Expr = {
      tag: 'Throw',
      returnType: T_ANY,
      exceptionType: tCon('BadEx'),
      exception: val('badMessage'),
    };
    expect(failure(() => interpreter.evaluate(bad)).detail).toMatchObject({
      errorId: 'UNHANDLED_EXCEPTION/M:BadEx',
      message: '<Failed to calculate message as M:Ex was thrown during conversion>',
    });
  });
});

describe('updates', () => {
  const owner = party('alice');
  const contract = (n: number): Value => ({
    kind: 'Record',
    tycon: id('T'),
    fields: ['owner', 'n'],
    values: [owner, int64(BigInt(n))],
  });

  it('evaluates precondition, signatories and observers before creating, in that order', () => {
    const { interpreter, traces } = setup();
    const host = new RecordingHost();
    interpreter.runUpdate(interpreter.createCommand(id('T'), contract(1)), host);
    expect(traces).toEqual(['precondition', 'signatories', 'observers']);
    expect(
      failure(() => interpreter.runUpdate(interpreter.createCommand(id('T'), contract(-1)), host)).detail,
    ).toEqual({
      kind: 'TemplatePreconditionViolated',
      templateId: `${PKG}:M:T`,
    });
  });

  it('evaluates controllers and choice observers before the exercise opens, then runs the body', () => {
    const { interpreter, traces } = setup();
    const host = new RecordingHost();
    const cid = host.add({ templateId: id('T'), arg: contract(1) });
    const result = interpreter.runUpdate(interpreter.exerciseCommand(id('T'), cid, 'Incr', int64(2n)), host);
    expect(traces).toEqual([
      'precondition',
      'signatories',
      'observers',
      'controllers Incr',
      'observers Incr',
      'body Incr',
      'precondition',
      'signatories',
      'observers',
    ]);
    expect(host.events.map((e) => e.kind)).toEqual(['exercise', 'create', 'endExercise']);
    const created = host.contracts.get((result as { cid: ContractId }).cid.coid)!;
    expect(created.instance.arg).toEqual(contract(3));
  });

  it('archives a consumed contract before its choice body runs', () => {
    const { interpreter } = setup();
    const host = new RecordingHost();
    const cid = host.add({ templateId: id('T'), arg: contract(1) });
    expect(() =>
      interpreter.runUpdate(interpreter.exerciseCommand(id('T'), cid, 'FetchSelf', int64(0n)), host),
    ).toThrow(/not active/);
  });

  it('aborts exercises an exception unwinds through and rolls back to the try', () => {
    const { interpreter } = setup();
    const host = new RecordingHost();
    const cid = host.add({ templateId: id('T'), arg: contract(1) });
    const exercise = upd({ tag: 'Exercise', template: id('T'), choice: 'Fail', cid: v('cid'), arg: int(0) });
    const u = interpreter.evaluate(
      lam(
        ['cid'],
        tryCatch(exercise, 'e', { tag: 'OptionalSome', type: T_ANY, value: pure(str('handled')) }),
      ),
    );
    const run = interpreter.apply(u, [{ kind: 'ContractId', cid }]);
    expect(interpreter.runUpdate(run, host)).toEqual(text('handled'));
    expect(host.events.map((e) => e.kind)).toEqual(['beginTry', 'exercise', 'abortExercise', 'rollbackTry']);
  });

  it('reads the ledger time through the host and sequences blocks', () => {
    const { interpreter } = setup();
    const host = new RecordingHost(1_000n);
    const u = bind(
      [
        ['t', upd({ tag: 'GetTime' })],
        [
          'before',
          upd({
            tag: 'LedgerTimeLt',
            time: { tag: 'BuiltinLit', lit: { tag: 'Timestamp', micros: 2_000n } },
          }),
        ],
        ['x', upd({ tag: 'EmbedExpr', type: T_ANY, body: pure(int(7)) })],
      ],
      pure(listFromArrayExpr([v('t'), v('before'), v('x')])),
    );
    expect(interpreter.runUpdate(interpreter.evaluate(u), host)).toEqual(
      listFromArray([{ kind: 'Timestamp', micros: 1_000n }, TRUE, int64(7n)]),
    );
    expect(host.events.map((e) => e.kind)).toEqual(['getTime', 'ledgerTimeLt']);
    expect(interpreter.runUpdate(interpreter.evaluate(pure(unit)), host)).toEqual(UNIT);
  });
});

function listFromArrayExpr(xs: Expr[]): Expr {
  return list(...xs);
}
