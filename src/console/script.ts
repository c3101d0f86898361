import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import vm from 'node:vm';
import { WeftError } from '../errors/index.js';
import { holdProcessOpen } from '../time/index.js';
import { ConsoleErrors } from './errors.js';
import { errorLine, render } from './render.js';
import type { ConsoleSession } from './session.js';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The script's line in a stack (`at … (/path/script.js:12:3)`, or `/path/script.js:12` first for a syntax error). */
function lineIn(stack: string | undefined, file: string): number | undefined {
  const m = stack ? new RegExp(`${escapeRegExp(file)}:(\\d+)`).exec(stack) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Runs a console script (Canton's `--bootstrap`): JavaScript with the session's globals and top-level await. Its
 * commands run in the order called, awaited or not; the first failed command (or uncaught error) stops it with
 * CONSOLE_SCRIPT_FAILED naming the file and line. `print` writes a result as the REPL would.
 */
export async function runConsoleScript(
  session: ConsoleSession,
  path: string,
  out: (line: string) => void,
): Promise<void> {
  const file = resolve(path);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    throw new WeftError(
      ConsoleErrors.CONSOLE_SCRIPT_FAILED,
      `cannot read the script ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const print = (...values: unknown[]) => out(values.map(render).join(' '));
  const context = vm.createContext({
    ...session.globals,
    print,
    console: { log: print, error: print },
  });
  let thrown: unknown;
  const release = holdProcessOpen();
  try {
    // On the script's first line, so that line numbers in stacks are the file's.
    const script = new vm.Script(`(async () => {${source}\n})()`, { filename: file });
    await script.runInContext(context);
  } catch (e) {
    thrown = e;
  }
  await session.queue.idle();
  release();
  const failed = session.queue.firstFailure;
  if (!failed && thrown === undefined) return;
  const [cause, stack] = failed ? [failed.error, failed.callStack] : [thrown, (thrown as Error)?.stack];
  const line = lineIn(stack, file) ?? lineIn((thrown as Error | undefined)?.stack, file);
  throw new WeftError(
    ConsoleErrors.CONSOLE_SCRIPT_FAILED,
    `${path}${line === undefined ? '' : `:${line}`}: ${errorLine(cause)}`,
    { file: path, ...(line === undefined ? {} : { line }) },
    { cause },
  );
}
