import { isWeftError, WeftError } from '../../errors/index.js';
import type { DefTemplate, Identifier, TemplateChoice, Type } from '../lf/ast.js';
import { type PackageRegistry, showIdentifier } from '../lf/packages.js';
import type { ContractId } from '../values/contract-id.js';
import type { Value } from '../values/value.js';
import { DamlEngineErrors } from './errors.js';
import type { ValueTranslator } from './translator.js';

/**
 * Commands in the JSON shape of the Ledger API (`JsCommands.commands`). `templateId` is
 * `packageId:Module.Name:Entity` or `#package-name:Module.Name:Entity`; an `ExerciseCommand` may name a template
 * (for its own choices, or an interface choice the template inherits) or an interface.
 */
export type Command =
  | { readonly CreateCommand: { readonly templateId: string; readonly createArguments: unknown } }
  | {
      readonly ExerciseCommand: {
        readonly templateId: string;
        readonly contractId: string;
        readonly choice: string;
        readonly choiceArgument: unknown;
      };
    }
  | {
      readonly CreateAndExerciseCommand: {
        readonly templateId: string;
        readonly createArguments: unknown;
        readonly choice: string;
        readonly choiceArgument: unknown;
      };
    };

/**
 * An argument in another encoding than JSON (the Ledger API's protobuf `Value`), which decodes itself once the
 * preprocessor knows the type it must have; may stand wherever a command takes an argument.
 */
export interface TypedArgument {
  decodeAs(type: Type, path: string): Value;
}

function isTypedArgument(v: unknown): v is TypedArgument {
  return typeof v === 'object' && v !== null && typeof (v as Partial<TypedArgument>).decodeAs === 'function';
}

/** A command with resolved identifiers and typed arguments. */
export type PreparedCommand =
  | { readonly kind: 'Create'; readonly templateId: Identifier; readonly arg: Value }
  | {
      readonly kind: 'Exercise';
      /** The template, or the interface for an interface choice. */
      readonly templateId: Identifier;
      readonly viaInterface: boolean;
      readonly contractId: ContractId;
      readonly choice: string;
      readonly arg: Value;
    }
  | {
      readonly kind: 'CreateAndExercise';
      readonly templateId: Identifier;
      readonly arg: Value;
      readonly choice: string;
      readonly choiceArg: Value;
    };

const tcon = (tycon: Identifier): Type => ({ tag: 'Con', tycon, args: [] });

function invalid(path: string, message: string): never {
  throw new WeftError(DamlEngineErrors.DAML_COMMAND_INVALID, `${path}: ${message}`, { path });
}

/** Turns API commands into prepared commands: resolves package names, templates and choices, types arguments. */
export class CommandPreprocessor {
  constructor(
    private readonly registry: PackageRegistry,
    private readonly translator: ValueTranslator,
  ) {}

  /**
   * `preference` lists package ids that `#name` references resolve to (at most one per name); other names resolve
   * to the highest version loaded.
   */
  prepare(commands: readonly Command[], preference: readonly string[] = []): PreparedCommand[] {
    const preferred = this.resolution(preference);
    return commands.map((c, i) => this.prepareOne(c, `commands[${i}]`, preferred));
  }

  /** The package name → package id map of a package preference; DAML_COMMAND_INVALID for an unknown id. */
  resolution(preference: readonly string[] = []): Map<string, string> {
    const preferred = new Map<string, string>();
    for (const id of preference) {
      const pkg = this.registry.lookupPackage(id);
      if (pkg === undefined) invalid('packagePreference', `unknown package ${id}`);
      preferred.set(pkg.metadata.name, id);
    }
    return preferred;
  }

  private resolve(ref: unknown, path: string, preferred: ReadonlyMap<string, string>): Identifier {
    if (typeof ref !== 'string') return invalid(path, 'expected an identifier PKG:Module:Entity');
    const name = ref.startsWith('#') ? ref.slice(1).split(':')[0]! : undefined;
    const pinned = name === undefined ? undefined : preferred.get(name);
    try {
      return this.registry.parseRef(pinned === undefined ? ref : `${pinned}${ref.slice(1 + name!.length)}`);
    } catch (e) {
      if (isWeftError(e)) return invalid(path, e.message);
      throw e;
    }
  }

  private template(id: Identifier, path: string): DefTemplate {
    return this.registry.lookupTemplate(id) ?? invalid(path, `${showIdentifier(id)} is not a template`);
  }

  private prepareOne(
    command: Command,
    path: string,
    preferred: ReadonlyMap<string, string>,
  ): PreparedCommand {
    if (typeof command !== 'object' || command === null) return invalid(path, 'expected a command object');
    if ('CreateCommand' in command) {
      const c = command.CreateCommand;
      const templateId = this.resolve(c.templateId, `${path}.templateId`, preferred);
      this.template(templateId, `${path}.templateId`);
      return {
        kind: 'Create',
        templateId,
        arg: this.argument(c.createArguments, tcon(templateId), `${path}.createArguments`),
      };
    }
    if ('ExerciseCommand' in command) {
      const c = command.ExerciseCommand;
      const targetId = this.resolve(c.templateId, `${path}.templateId`, preferred);
      const { owner, viaInterface, choice } = this.choice(targetId, c.choice, `${path}.choice`);
      const cid = this.translator.fromJson(
        c.contractId,
        { tag: 'Builtin', builtin: 'CONTRACT_ID', args: [tcon(targetId)] },
        `${path}.contractId`,
      );
      return {
        kind: 'Exercise',
        templateId: owner,
        viaInterface,
        contractId: (cid as { cid: ContractId }).cid,
        choice: choice.name,
        arg: this.argument(c.choiceArgument, choice.argBinder.type, `${path}.choiceArgument`),
      };
    }
    if ('CreateAndExerciseCommand' in command) {
      const c = command.CreateAndExerciseCommand;
      const templateId = this.resolve(c.templateId, `${path}.templateId`, preferred);
      const tpl = this.template(templateId, `${path}.templateId`);
      const choice =
        tpl.choices.get(c.choice) ??
        invalid(`${path}.choice`, `template ${showIdentifier(templateId)} has no choice ${c.choice}`);
      return {
        kind: 'CreateAndExercise',
        templateId,
        arg: this.argument(c.createArguments, tcon(templateId), `${path}.createArguments`),
        choice: choice.name,
        choiceArg: this.argument(c.choiceArgument, choice.argBinder.type, `${path}.choiceArgument`),
      };
    }
    return invalid(path, 'expected CreateCommand, ExerciseCommand or CreateAndExerciseCommand');
  }

  private argument(raw: unknown, type: Type, path: string): Value {
    return isTypedArgument(raw) ? raw.decodeAs(type, path) : this.translator.fromJson(raw, type, path);
  }

  /** A choice of a template (its own, or inherited from exactly one interface it implements) or of an interface. */
  private choice(
    target: Identifier,
    name: unknown,
    path: string,
  ): { owner: Identifier; viaInterface: boolean; choice: TemplateChoice } {
    if (typeof name !== 'string') return invalid(path, 'expected a choice name');
    const tpl = this.registry.lookupTemplate(target);
    if (tpl !== undefined) {
      const own = tpl.choices.get(name);
      if (own !== undefined) return { owner: target, viaInterface: false, choice: own };
      const inherited = tpl.implements.flatMap((i) => {
        const c = this.registry.lookupInterface(i.iface)?.choices.get(name);
        return c === undefined ? [] : [{ owner: i.iface, viaInterface: true, choice: c }];
      });
      if (inherited.length === 1) return inherited[0]!;
      if (inherited.length > 1)
        return invalid(
          path,
          `choice ${name} of ${showIdentifier(target)} is ambiguous: it is declared by ${inherited.map((c) => showIdentifier(c.owner)).join(' and ')}; name the interface`,
        );
      return invalid(path, `template ${showIdentifier(target)} has no choice ${name}`);
    }
    const iface = this.registry.lookupInterface(target);
    if (iface === undefined)
      return invalid(path, `${showIdentifier(target)} is neither a template nor an interface`);
    const c =
      iface.choices.get(name) ?? invalid(path, `interface ${showIdentifier(target)} has no choice ${name}`);
    return { owner: target, viaInterface: true, choice: c };
  }
}
