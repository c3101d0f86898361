import type { Command } from 'commander';
import { loadScenario, ScenarioRunner, type StepReport } from '../../daml/scenario/index.js';
import { isWeftError } from '../../errors/index.js';

function renderStep(r: StepReport): string {
  const head = `[${r.ok ? 'ok' : 'FAIL'}] step ${r.index} ${JSON.stringify(r.name)}${r.ok ? '' : `: ${r.failure}`}`;
  return [head, ...r.lines.map((l) => `    ${l}`)].join('\n');
}

/** `weft daml …` subcommands. */
export function registerDamlCommands(program: Command): void {
  const daml = program.command('daml').description('Daml models: run scenarios against an in-memory ledger');
  daml
    .command('test')
    .description(
      'run a scenario file (YAML or JSON; see docs/daml-scenarios.md) against an in-memory ledger; exits 1 at the first unmet expectation',
    )
    .argument('<scenario>', 'the scenario file')
    .option('--json', 'print one JSON object per step instead of text')
    .action(async (file: string, options: { json?: boolean }) => {
      try {
        const scenario = loadScenario(file);
        if (!options.json)
          process.stdout.write(`scenario ${JSON.stringify(scenario.name)}: ${scenario.steps.length} steps\n`);
        const report = await new ScenarioRunner(scenario).run((r) =>
          process.stdout.write(`${options.json ? JSON.stringify(r) : renderStep(r)}\n`),
        );
        if (!report.ok) {
          const failed = report.steps.at(-1)!;
          process.stderr.write(
            `weft daml test: ${file}: step ${failed.index} ${JSON.stringify(failed.name)} failed: ${failed.failure}\n`,
          );
          process.exitCode = 1;
        } else if (!options.json) process.stdout.write(`all ${report.steps.length} steps passed\n`);
      } catch (e) {
        const message = isWeftError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
        process.stderr.write(`weft daml test: ${file}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
        process.exitCode = 2;
      }
    });
}
