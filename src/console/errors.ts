import { defineErrorCode } from '../errors/index.js';

/** Errors of the console (`weft console`): its commands, handles and scripts. */
export const ConsoleErrors = {
  CONSOLE_UNKNOWN_COMMAND: defineErrorCode(
    'CONSOLE_UNKNOWN_COMMAND',
    'InvalidIndependentOfSystemState',
    'A handle has no command or group of that name (the message suggests the nearest one).',
    'Use the name the message suggests, or list what the handle offers with help(handle).',
  ),
  CONSOLE_INVALID_ARGUMENT: defineErrorCode(
    'CONSOLE_INVALID_ARGUMENT',
    'InvalidIndependentOfSystemState',
    "A command's argument is missing or of the wrong type; the message names the argument and what it takes.",
    'Call the command with the arguments help(handle.group) lists; nothing was sent to a node.',
  ),
  CONSOLE_COMMAND_CANCELLED: defineErrorCode(
    'CONSOLE_COMMAND_CANCELLED',
    'InvalidGivenCurrentSystemStateOther',
    'The command was cancelled with Ctrl-C, or skipped because an earlier command of the script failed. A request already sent may still take effect on the node.',
    'Check the node (health.status, or the list commands) before running the command again.',
  ),
  CONSOLE_TOO_MANY_COMMANDS: defineErrorCode(
    'CONSOLE_TOO_MANY_COMMANDS',
    'ContentionOnSharedResources',
    'More commands are waiting to run than the console queues (commands run one at a time, in the order called).',
    'Await commands (or results) in loops that issue many, so that they do not pile up.',
  ),
  CONSOLE_CONDITION_TIMEOUT: defineErrorCode(
    'CONSOLE_CONDITION_TIMEOUT',
    'DeadlineExceededRequestStateUnknown',
    'utils.retry_until_true gave up: the condition did not hold within the time allowed.',
    'Check why the condition does not hold (e.g. list_connected), or give retry_until_true a longer timeout.',
  ),
  CONSOLE_SCRIPT_FAILED: defineErrorCode(
    'CONSOLE_SCRIPT_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    'A console script (--script, --bootstrap) stopped at a failed command or statement; the message names the file and line and gives the cause.',
    'Fix the cause the message gives at the line it names; commands before it did run.',
  ),
} as const;
