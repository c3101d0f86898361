/**
 * The console (`weft console`): Canton's operator console for Weft. A handle per node whose commands, in
 * Canton's names, call the node's Admin and Ledger APIs; an interactive REPL and scripts over the same globals.
 * The command table (commands.ts) is the one source of handles, help(), completion and docs/console.md.
 */
export {
  type ArgDefinition,
  COMMANDS,
  type CommandDefinition,
  GROUP_ALIASES,
  signature,
} from './commands.js';
export { ConsoleErrors } from './errors.js';
export type { ConsoleEndpoint, ConsoleNetwork, ConsoleNode, ConsoleNodeKind, LocalNodes } from './network.js';
export { MAX_QUEUED_COMMANDS } from './queue.js';
export { errorLine, render } from './render.js';
export { type ReplOptions, startConsoleRepl } from './repl.js';
export { runConsoleScript } from './script.js';
export { ConsoleSession } from './session.js';
