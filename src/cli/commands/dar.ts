import type { Command } from 'commander';
import { type Dar, readDarFile } from '../../daml/dar/index.js';
import {
  EXAMPLE_CONTRACT_ID,
  EXAMPLE_PARTY,
  exampleJson,
  type Json,
  TypeResolver,
} from '../../daml/engine/index.js';
import { DamlLfErrors } from '../../daml/errors.js';
import {
  type DefDataType,
  type Identifier,
  type Package,
  PackageRegistry,
  type TemplateChoice,
  type Type,
} from '../../daml/lf/index.js';
import { showType, validateDar } from '../../daml/typecheck/index.js';
import { isWeftError, WeftError } from '../../errors/index.js';

interface FieldJson {
  name: string;
  /** The field's Daml type, e.g. `Numeric 10`, `Optional Party`, `ContractId Splice.Api.Token.HoldingV1:Holding`. */
  type: string;
}

interface ChoiceJson {
  name: string;
  consuming: boolean;
  /** The choice argument's Daml type (a record named like the choice, in Daml source). */
  argument: string;
  /** The argument record's fields, when the argument is a record. */
  argumentFields?: FieldJson[];
  result: string;
}

interface PackageJson {
  id: string;
  name: string;
  version: string;
  languageVersion: string;
  main: boolean;
  modules: {
    name: string;
    templates: { name: string; fields: FieldJson[]; choices: ChoiceJson[]; implements: string[] }[];
    interfaces: {
      name: string;
      view: string;
      methods: FieldJson[];
      choices: ChoiceJson[];
      requires: string[];
    }[];
  }[];
}

/** The summary `weft dar inspect --json` prints. */
export interface DarInspection {
  name?: string;
  sdkVersion?: string;
  mainPackageId: string;
  packages: PackageJson[];
}

const ref = (id: Identifier): string => `${id.packageId}:${id.module.join('.')}:${id.name.join('.')}`;

const recordFields = (def: DefDataType | undefined): FieldJson[] | undefined =>
  def?.cons.tag === 'Record'
    ? def.cons.fields.map((f) => ({ name: f.field, type: showType(f.type) }))
    : undefined;

function choicesOf(registry: PackageRegistry, choices: ReadonlyMap<string, TemplateChoice>): ChoiceJson[] {
  return [...choices.values()].map((c) => {
    const arg = c.argBinder.type;
    const fields = arg.tag === 'Con' ? recordFields(registry.lookupDataType(arg.tycon)) : undefined;
    return {
      name: c.name,
      consuming: c.consuming,
      argument: showType(arg),
      ...(fields === undefined ? {} : { argumentFields: fields }),
      result: showType(c.returnType),
    };
  });
}

const registryOf = (dar: Dar): PackageRegistry => {
  const registry = new PackageRegistry();
  registry.addAll(dar.packages);
  return registry;
};

/**
 * Summarises a DAR: every package with its modules, templates (fields, choices with argument and result types,
 * interface instances) and interfaces (view, methods, choices).
 */
export function inspectDar(dar: Dar): DarInspection {
  const registry = registryOf(dar);
  const id = (p: Package, module: readonly string[], name: readonly string[]): Identifier => ({
    packageId: p.id,
    module,
    name,
  });
  return {
    ...(dar.manifest.name === undefined ? {} : { name: dar.manifest.name }),
    ...(dar.manifest.sdkVersion === undefined ? {} : { sdkVersion: dar.manifest.sdkVersion }),
    mainPackageId: dar.main.id,
    packages: dar.packages.map((p) => ({
      id: p.id,
      name: p.metadata.name,
      version: p.metadata.version,
      languageVersion: p.languageVersion,
      main: p === dar.main,
      modules: p.modules().map((m) => ({
        name: m.name.join('.'),
        templates: [...m.templates.values()].map((t) => ({
          name: t.tycon.join('.'),
          fields: recordFields(registry.lookupDataType(id(p, m.name, t.tycon))) ?? [],
          choices: choicesOf(registry, t.choices),
          implements: t.implements.map((i) => ref(i.iface)),
        })),
        interfaces: [...m.interfaces.values()].map((i) => ({
          name: i.tycon.join('.'),
          view: showType(i.view),
          methods: [...i.methods.values()].map((meth) => ({ name: meth.name, type: showType(meth.type) })),
          choices: choicesOf(registry, i.choices),
          requires: i.requires.map(ref),
        })),
      })),
    })),
  };
}

/** Renders the inspection as indented text; package ids of referenced interfaces are shown as package names. */
export function renderDarInspection(dar: Dar, inspection: DarInspection): string {
  const registry = registryOf(dar);
  const named = (r: string): string => {
    const [pkgId, module, name] = r.split(':');
    const pkg = registry.lookupPackage(pkgId!);
    return pkg === undefined ? r : `${module}:${name} (${pkg.metadata.name} ${pkg.metadata.version})`;
  };
  const out: string[] = [];
  const choiceLines = (c: ChoiceJson, indent: string): void => {
    out.push(
      `${indent}choice ${c.name} (${c.consuming ? 'consuming' : 'non-consuming'}) : ${c.argument} -> ${c.result}`,
    );
    for (const f of c.argumentFields ?? []) out.push(`${indent}  ${f.name} : ${f.type}`);
  };
  out.push(
    `DAR ${inspection.name ?? '(unnamed)'}${inspection.sdkVersion ? `, SDK ${inspection.sdkVersion}` : ''}: ` +
      `${inspection.packages.length} packages, main ${inspection.mainPackageId}`,
  );
  for (const p of inspection.packages) {
    out.push(`package ${p.id} ${p.name} ${p.version} (LF ${p.languageVersion})${p.main ? ' [main]' : ''}`);
    for (const m of p.modules) {
      out.push(`  module ${m.name}`);
      for (const t of m.templates) {
        out.push(`    template ${t.name}`);
        for (const f of t.fields) out.push(`      field ${f.name} : ${f.type}`);
        for (const c of t.choices) choiceLines(c, '      ');
        for (const i of t.implements) out.push(`      implements ${named(i)}`);
      }
      for (const i of m.interfaces) {
        out.push(`    interface ${i.name} (view ${i.view})`);
        for (const r of i.requires) out.push(`      requires ${named(r)}`);
        for (const meth of i.methods) out.push(`      method ${meth.name} : ${meth.type}`);
        for (const c of i.choices) choiceLines(c, '      ');
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * Example Ledger API JSON commands for a template of the DAR's main package (`Module:Template`, or the template's
 * name alone when unambiguous): its `CreateCommand`, then an `ExerciseCommand` per choice, its own choices through
 * the template id and its interfaces' choices through the interface id. Ids are `#package-name:…` references, so
 * the commands name whatever version the participant prefers; every argument is accepted by the engine as is.
 */
export function exampleCommands(dar: Dar, template: string): Json[] {
  const registry = registryOf(dar);
  const types = new TypeResolver(registry, {
    dataInfo: (tycon) => {
      const def = registry.getDataType(tycon);
      return { fields: def.cons.tag === 'Record' ? def.cons.fields.map((f) => f.field) : [] };
    },
  });
  const main = dar.main;
  const matches = main
    .modules()
    .flatMap((m) =>
      [...m.templates.values()]
        .filter(
          (t) => template === `${m.name.join('.')}:${t.tycon.join('.')}` || template === t.tycon.join('.'),
        )
        .map((t) => ({ module: m.name, t })),
    );
  if (matches.length !== 1) {
    const known = main
      .modules()
      .flatMap((m) => [...m.templates.values()].map((t) => `${m.name.join('.')}:${t.tycon.join('.')}`));
    throw new WeftError(
      DamlLfErrors.DAML_LF_DEFINITION_NOT_FOUND,
      `${matches.length === 0 ? 'no' : 'more than one'} template ${template} in ${main.metadata.name} ` +
        `(templates: ${known.join(', ') || 'none'})`,
    );
  }
  const { module, t } = matches[0]!;
  const nameRef = (pkgId: string, mod: readonly string[], name: readonly string[]): string =>
    `#${registry.getPackage(pkgId).metadata.name}:${mod.join('.')}:${name.join('.')}`;
  const example = (type: Type): Json => exampleJson(types, type) ?? null;
  const tplId: Identifier = { packageId: main.id, module, name: t.tycon };
  const templateId = nameRef(main.id, module, t.tycon);
  const exercise = (id: string, c: TemplateChoice): Json => ({
    ExerciseCommand: {
      templateId: id,
      contractId: EXAMPLE_CONTRACT_ID,
      choice: c.name,
      choiceArgument: example(c.argBinder.type),
    },
  });
  return [
    {
      CreateCommand: {
        templateId,
        createArguments: example({ tag: 'Con', tycon: tplId, args: [] }),
      },
    },
    ...[...t.choices.values()].map((c) => exercise(templateId, c)),
    ...t.implements.flatMap((i) => {
      const iface = registry.getInterface(i.iface);
      const ifaceId = nameRef(i.iface.packageId, i.iface.module, i.iface.name);
      return [...iface.choices.values()].map((c) => exercise(ifaceId, c));
    }),
  ];
}

/** `weft dar …` subcommands. */
export function registerDarCommands(program: Command): void {
  const dar = program.command('dar').description('Daml archives (DAR files)');
  dar
    .command('inspect')
    .description(
      'decode and validate a DAR (package ids, Daml-LF type checking) and list its packages, templates ' +
        '(fields, choices with argument and result types, interfaces) and interfaces',
    )
    .argument('<file>', 'the DAR file')
    .option('--json', 'print JSON instead of text')
    .option(
      '--example <template>',
      `print example Ledger API JSON commands (create, and exercise of each choice) for a template of the main package (Module:Template); placeholders: party ${EXAMPLE_PARTY}, contract id ${EXAMPLE_CONTRACT_ID}`,
    )
    .action((file: string, options: { json?: boolean; example?: string }) => {
      try {
        const decoded = readDarFile(file);
        validateDar(decoded);
        if (options.example !== undefined) {
          const commands = exampleCommands(decoded, options.example);
          process.stdout.write(`${JSON.stringify({ commands }, null, 2)}\n`);
          return;
        }
        const inspection = inspectDar(decoded);
        process.stdout.write(
          options.json
            ? `${JSON.stringify(inspection, null, 2)}\n`
            : renderDarInspection(decoded, inspection),
        );
      } catch (e) {
        const message = isWeftError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
        process.stderr.write(`weft dar inspect: ${file}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
        process.exitCode = 1;
      }
    });
}
