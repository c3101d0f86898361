import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin.js';
import { registerConsoleCommand } from './commands/console.js';
import { registerDaemonCommand } from './commands/daemon.js';
import { registerDamlCommands } from './commands/daml.js';
import { registerDarCommands } from './commands/dar.js';
import { registerLedgerCommands } from './commands/ledger.js';
import { registerLogsCommands } from './commands/logs.js';
import { registerOAuth2MiddlewareCommand } from './commands/oauth2-middleware.js';
import { registerRunCommand } from './commands/run.js';
import { registerSandboxCommand } from './commands/sandbox.js';
import { registerTriggerServiceCommand } from './commands/trigger-service.js';

/** The package version, read from package.json so `weft --version` never drifts from the release. */
export function weftVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The `weft` command tree; each component registers its subcommands here. */
export function buildProgram(): Command {
  const program = new Command('weft')
    .description('Weft: privacy-preserving, permissioned distributed ledgers in the Canton architecture')
    .version(weftVersion(), '-V, --version', 'print the Weft version');
  registerDarCommands(program);
  registerDamlCommands(program);
  registerDaemonCommand(program);
  registerAdminCommands(program);
  registerLedgerCommands(program);
  registerSandboxCommand(program);
  registerTriggerServiceCommand(program);
  registerOAuth2MiddlewareCommand(program);
  registerConsoleCommand(program);
  registerRunCommand(program);
  registerLogsCommands(program);
  return program;
}
