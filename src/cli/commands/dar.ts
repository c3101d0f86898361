import type { Command } from 'commander';
import { type Dar, readDarFile } from '../../daml/dar/index.js';
import { type Identifier, PackageRegistry, type TemplateChoice } from '../../daml/lf/index.js';
import { validateDar } from '../../daml/typecheck/index.js';
import { isWeftError } from '../../errors/index.js';

interface ChoiceJson {
  name: string;
  consuming: boolean;
}

interface PackageJson {
  id: string;
  name: string;
  version: string;
  languageVersion: string;
  main: boolean;
  modules: {
    name: string;
    templates: { name: string; choices: ChoiceJson[]; implements: string[] }[];
    interfaces: { name: string; methods: string[]; choices: ChoiceJson[]; requires: string[] }[];
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
const choicesOf = (choices: ReadonlyMap<string, TemplateChoice>): ChoiceJson[] =>
  [...choices.values()].map((c) => ({ name: c.name, consuming: c.consuming }));

/** Summarises a DAR: every package with its modules, templates (choices, instances) and interfaces. */
export function inspectDar(dar: Dar): DarInspection {
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
          choices: choicesOf(t.choices),
          implements: t.implements.map((i) => ref(i.iface)),
        })),
        interfaces: [...m.interfaces.values()].map((i) => ({
          name: i.tycon.join('.'),
          methods: [...i.methods.keys()],
          choices: choicesOf(i.choices),
          requires: i.requires.map(ref),
        })),
      })),
    })),
  };
}

/** Renders the inspection as indented text; package ids of referenced interfaces are shown as package names. */
export function renderDarInspection(dar: Dar, inspection: DarInspection): string {
  const registry = new PackageRegistry();
  registry.addAll(dar.packages);
  const named = (r: string): string => {
    const [pkgId, module, name] = r.split(':');
    const pkg = registry.lookupPackage(pkgId!);
    return pkg === undefined ? r : `${module}:${name} (${pkg.metadata.name} ${pkg.metadata.version})`;
  };
  const choiceLine = (c: ChoiceJson): string =>
    `choice ${c.name} (${c.consuming ? 'consuming' : 'non-consuming'})`;
  const out: string[] = [];
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
        for (const c of t.choices) out.push(`      ${choiceLine(c)}`);
        for (const i of t.implements) out.push(`      implements ${named(i)}`);
      }
      for (const i of m.interfaces) {
        out.push(`    interface ${i.name}`);
        for (const r of i.requires) out.push(`      requires ${named(r)}`);
        for (const meth of i.methods) out.push(`      method ${meth}`);
        for (const c of i.choices) out.push(`      ${choiceLine(c)}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** `weft dar …` subcommands. */
export function registerDarCommands(program: Command): void {
  const dar = program.command('dar').description('Daml archives (DAR files)');
  dar
    .command('inspect')
    .description(
      'decode and validate a DAR (package ids, Daml-LF type checking) and list its packages, templates and interfaces',
    )
    .argument('<file>', 'the DAR file')
    .option('--json', 'print JSON instead of text')
    .action((file: string, options: { json?: boolean }) => {
      try {
        const decoded = readDarFile(file);
        validateDar(decoded);
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
