import type { Expr, Identifier } from '../lf/ast.js';
import type { ContractId } from '../values/contract-id.js';
import { crash } from '../values/errors.js';
import { contractId, type FunctionValue, TOKEN, type Value } from '../values/value.js';
import { Compiler, type PackageLookup } from './compiler.js';
import type { LedgerHost } from './host.js';
import type { NativeCode } from './ir.js';
import { Machine, Suspension } from './machine.js';
import { Natives } from './natives.js';

/** Steps allowed per run unless configured otherwise (`DA.List.sort` of 100 000 Ints takes 5·10⁷). */
export const DEFAULT_STEP_BUDGET = 1_000_000_000;

export interface InterpreterOptions {
  /** Maximum machine steps per run; exceeding it fails with DAML_STEP_BUDGET_EXCEEDED. */
  readonly stepBudget?: number;
  /** Receives `trace` messages (default: dropped). */
  readonly trace?: (message: string) => void;
}

export interface RunOptions {
  readonly stepBudget?: number;
  /** See `MachineOptions.packageResolution`. */
  readonly packageResolution?: ReadonlyMap<string, string>;
}

/**
 * Evaluates Daml-LF: pure expressions and functions off ledger, and Updates against a ledger host. Compiled code
 * and top-level values are cached across runs; each run gets a fresh machine.
 */
export class Interpreter {
  readonly compiler: Compiler;
  private readonly natives = new Natives();
  private readonly stepBudget: number;
  private readonly trace: (message: string) => void;
  /** Machine steps taken by the last run (for metrics and benchmarks). */
  lastSteps = 0;

  constructor(packages: PackageLookup, options: InterpreterOptions = {}) {
    this.compiler = new Compiler(packages, this.natives);
    this.stepBudget = options.stepBudget ?? DEFAULT_STEP_BUDGET;
    this.trace = options.trace ?? (() => {});
  }

  /** Evaluates a closed expression off ledger. */
  evaluate(expr: Expr, options: RunOptions = {}): Value {
    const code = this.compiler.compileExpression(expr);
    return this.runSync(this.machine(undefined, options), (m) => m.start(code));
  }

  /** The value of the top-level definition `id`. */
  value(id: Identifier, options: RunOptions = {}): Value {
    return this.evaluate({ tag: 'Val', ref: id }, options);
  }

  /** Applies a function value (e.g. a stdlib function and its dictionaries) off ledger. */
  apply(fn: Value, args: readonly Value[], options: RunOptions = {}): Value {
    return this.runSync(this.machine(undefined, options), (m) => m.startApply(fn, args));
  }

  /** Runs an `Update` value against `host`; fails if the host answers a contract lookup with a promise. */
  runUpdate(update: Value, host: LedgerHost, options: RunOptions = {}): Value {
    return this.runSync(this.machine(host, options), (m) => m.startApply(update, [TOKEN]));
  }

  /** Runs an `Update` value against `host`, awaiting the contract lookups it answers with promises. */
  async runUpdateAsync(update: Value, host: LedgerHost, options: RunOptions = {}): Promise<Value> {
    const m = this.machine(host, options);
    m.startApply(update, [TOKEN]);
    for (;;) {
      const r = m.run();
      this.lastSteps = m.steps;
      if (!(r instanceof Suspension)) return r;
      m.answer(r, await r.promise);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Commands, as Update values to run with `runUpdate`.

  createCommand(templateId: Identifier, arg: Value): Value {
    return this.partial(this.natives.create(templateId), [arg]);
  }

  exerciseCommand(templateId: Identifier, cid: ContractId, choice: string, arg: Value): Value {
    return this.partial(this.natives.exercise(templateId, choice), [contractId(cid), arg]);
  }

  exerciseInterfaceCommand(interfaceId: Identifier, cid: ContractId, choice: string, arg: Value): Value {
    return this.partial(this.natives.exerciseInterface(interfaceId, choice), [contractId(cid), arg]);
  }

  fetchCommand(templateId: Identifier, cid: ContractId): Value {
    return this.partial(this.natives.fetch(templateId), [contractId(cid)]);
  }

  fetchInterfaceCommand(interfaceId: Identifier, cid: ContractId): Value {
    return this.partial(this.natives.fetchInterface(interfaceId), [contractId(cid)]);
  }

  /** Creates a contract and exercises a choice on it in the same transaction. */
  createAndExerciseCommand(templateId: Identifier, arg: Value, choice: string, choiceArg: Value): Value {
    const create = this.createCommand(templateId, arg);
    const exercise = this.natives.exercise(templateId, choice);
    const code: NativeCode = {
      kind: 'native',
      name: `createAndExercise ${choice}`,
      arity: 1,
      run: (m) =>
        m.call(create, [TOKEN], (m, cid) => m.apply(this.partial(exercise, [cid, choiceArg]), [TOKEN])),
    };
    return this.partial(code, []);
  }

  private partial(code: NativeCode, args: readonly Value[]): FunctionValue {
    return { kind: 'Function', code, free: [], args };
  }

  private machine(host: LedgerHost | undefined, options: RunOptions): Machine {
    return new Machine({
      compiler: this.compiler,
      stepBudget: options.stepBudget ?? this.stepBudget,
      onLedger: host !== undefined,
      trace: this.trace,
      host,
      ...(options.packageResolution === undefined ? {} : { packageResolution: options.packageResolution }),
    });
  }

  private runSync(m: Machine, start: (m: Machine) => void): Value {
    try {
      start(m);
      const r = m.run();
      if (r instanceof Suspension)
        return crash('the ledger host answered a contract lookup asynchronously; use runUpdateAsync');
      return r;
    } finally {
      this.lastSteps = m.steps;
    }
  }
}
