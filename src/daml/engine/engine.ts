import { WeftError } from '../../errors/index.js';
import { Interpreter, type InterpreterOptions } from '../interpreter/index.js';
import type { Expr, Identifier, Type } from '../lf/ast.js';
import type { PackageRegistry } from '../lf/packages.js';
import { crash } from '../values/errors.js';
import { isValidParty } from '../values/text.js';
import { identifierToString, type Value } from '../values/value.js';
import { type ContractStore, type Seeding, TransactionBuilder } from './builder.js';
import { type Command, CommandPreprocessor, type PreparedCommand } from './commands.js';
import { DamlEngineErrors } from './errors.js';
import { type ReinterpretRequest, type ReinterpretResult, reinterpret } from './reinterpret.js';
import { deriveTransactionSeed, SEED_BYTES } from './seeds.js';
import type { FatContract, Party, Transaction, TransactionMetadata } from './transaction.js';
import { ValueTranslator } from './translator.js';
import { TypeResolver } from './types.js';

export interface SubmitRequest {
  /** The submitting parties: the authorizers of the root actions. */
  readonly actAs: readonly Party[];
  readonly commands: readonly Command[];
  /** Package ids that `#name` references resolve to (default: the highest version of each name). */
  readonly packagePreference?: readonly string[];
  /** The ledger time `getTime` returns, µs since the epoch. */
  readonly ledgerTime: bigint;
  /** The time contract ids are derived from (default: `ledgerTime`). */
  readonly preparationTime?: bigint;
  /** 32 random bytes chosen by the submitting participant; all node seeds and contract ids derive from it. */
  readonly submissionSeed: Uint8Array;
  readonly participantId: string;
}

export interface Submission {
  readonly transaction: Transaction;
  readonly metadata: TransactionMetadata;
  /** The result of each command (the created contract id, or the choice's result). */
  readonly results: readonly Value[];
}

export type EngineOptions = InterpreterOptions;

function invalidCommand(path: string, message: string): never {
  throw new WeftError(DamlEngineErrors.DAML_COMMAND_INVALID, `${path}: ${message}`, { path });
}

/**
 * The Daml engine: turns a party's commands into a transaction tree (`submit`), and recomputes a part of a
 * transaction to validate it (`reinterpret`, see `reinterpret.ts`). Interpretation is deterministic: the same
 * request against the same contracts yields the same transaction, byte for byte.
 */
export class Engine {
  readonly interpreter: Interpreter;
  readonly types: TypeResolver;
  readonly translator: ValueTranslator;
  readonly commands: CommandPreprocessor;
  private catchAll: Value | undefined;

  constructor(
    readonly packages: PackageRegistry,
    options: EngineOptions = {},
  ) {
    this.interpreter = new Interpreter(packages, options);
    this.types = new TypeResolver(packages, this.interpreter.compiler);
    this.translator = new ValueTranslator(this.types);
    this.commands = new CommandPreprocessor(packages, this.translator);
  }

  /** Interprets commands into a transaction, checking authorization against `actAs`. */
  async submit(request: SubmitRequest, contracts: ContractStore): Promise<Submission> {
    if (request.submissionSeed.length !== SEED_BYTES) crash(`a submission seed has ${SEED_BYTES} bytes`);
    if (request.actAs.length === 0) invalidCommand('actAs', 'at least one party must submit');
    for (const [i, p] of request.actAs.entries())
      if (!isValidParty(p)) invalidCommand(`actAs[${i}]`, `${JSON.stringify(p)} is not a valid party`);
    const prepared = this.commands.prepare(request.commands, request.packagePreference);
    const preparationTime = request.preparationTime ?? request.ledgerTime;
    const seed = deriveTransactionSeed(request.submissionSeed, request.participantId, preparationTime);
    return this.run(
      prepared.map((c) => this.update(c)),
      contracts,
      {
        committers: request.actAs,
        seeding: { kind: 'transaction', seed },
        preparationTime,
        ledgerTime: request.ledgerTime,
        packageResolution: this.commands.resolution(request.packagePreference),
      },
    );
  }

  /** Recomputes an action of a transaction and checks that it matches (see `reinterpret.ts`). */
  reinterpret(request: ReinterpretRequest, contracts: ContractStore): Promise<ReinterpretResult> {
    return reinterpret(this, request, contracts);
  }

  /** Runs Update values, one root command each, against one transaction builder. */
  async run(
    updates: readonly Value[],
    contracts: ContractStore,
    context: {
      readonly committers: readonly Party[];
      readonly seeding: Seeding;
      readonly preparationTime: bigint;
      readonly ledgerTime: bigint;
      /** See `MachineOptions.packageResolution`. */
      readonly packageResolution?: ReadonlyMap<string, string>;
    },
  ): Promise<Submission> {
    const { packageResolution, ...options } = context;
    const builder = new TransactionBuilder({ packages: this.packages, contracts, ...options });
    const results: Value[] = [];
    const run = packageResolution === undefined ? {} : { packageResolution };
    for (const u of updates) results.push(await this.interpreter.runUpdateAsync(u, builder, run));
    return { ...builder.finish(), results };
  }

  /**
   * The view of a contract through an interface its template implements (the instance's `view` method, run off
   * ledger), as the Ledger API's interface filters ask for; DAML_COMMAND_INVALID when the template does not
   * implement the interface, and the interpreter's error when the view method fails.
   */
  interfaceView(contract: FatContract, interfaceId: Identifier): Value {
    const template = this.interpreter.compiler.template(contract.templateId);
    if (template === undefined) {
      throw new WeftError(
        DamlEngineErrors.DAML_COMMAND_INVALID,
        `unknown template ${identifierToString(contract.templateId)}`,
      );
    }
    const instance = template.implementation(interfaceId);
    if (instance === undefined) {
      throw new WeftError(
        DamlEngineErrors.DAML_COMMAND_INVALID,
        `${identifierToString(contract.templateId)} does not implement ${identifierToString(interfaceId)}`,
      );
    }
    return this.interpreter.apply(instance.view, [contract.arg]);
  }

  /** The Update value of a prepared command. */
  update(c: PreparedCommand): Value {
    const i = this.interpreter;
    switch (c.kind) {
      case 'Create':
        return i.createCommand(c.templateId, c.arg);
      case 'Exercise':
        return c.viaInterface
          ? i.exerciseInterfaceCommand(c.templateId, c.contractId, c.choice, c.arg)
          : i.exerciseCommand(c.templateId, c.contractId, c.choice, c.arg);
      case 'CreateAndExercise':
        return i.createAndExerciseCommand(c.templateId, c.arg, c.choice, c.choiceArg);
    }
  }

  /**
   * `update` wrapped in `try … catch _ -> pure ()`, as the reference engine compiles reinterpreted commands: an
   * action that failed with a (catchable) exception in the original transaction, under a rollback, yields a
   * Rollback node instead of failing. Built from Daml-LF so that the interpreter's own `try` semantics apply.
   */
  catching(update: Value): Value {
    if (this.catchAll === undefined) {
      const unit: Type = { tag: 'Builtin', builtin: 'UNIT', args: [] };
      const updateType: Type = { tag: 'Builtin', builtin: 'UPDATE', args: [unit] };
      const handler: Expr = {
        tag: 'OptionalSome',
        type: updateType,
        value: {
          tag: 'Update',
          update: { tag: 'Pure', type: unit, expr: { tag: 'BuiltinCon', con: 'Unit' } },
        },
      };
      this.catchAll = this.interpreter.evaluate({
        tag: 'Abs',
        params: [{ name: 'command', type: updateType }],
        body: {
          tag: 'Update',
          update: {
            tag: 'TryCatch',
            returnType: unit,
            tryExpr: { tag: 'Var', name: 'command' },
            binder: 'exception',
            catchExpr: handler,
          },
        },
      });
    }
    return this.interpreter.apply(this.catchAll, [update]);
  }
}
