import type { REPLEval } from 'node:repl';
import { errorLine, render } from './render.js';
import type { ConsoleSession } from './session.js';

export interface ReplOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Where the history is kept between sessions; none when absent. */
  readonly historyFile?: string;
  readonly prompt?: string;
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  (typeof x === 'object' || typeof x === 'function') &&
  x !== null &&
  typeof (x as { then?: unknown }).then === 'function';

/** The REPL's completer evaluates `try { <expression> } catch {}` to list properties: never run a command for it. */
const isCompletion = (code: string) => /^try \{ .* \} catch \{\}$/s.test(code.trim());

/**
 * The interactive console: Node's REPL over the session's globals. Results that are promises are awaited (commands
 * return them), errors print as one line (`lastError` keeps the last one, with its stack), Ctrl-C cancels the
 * running command and a second Ctrl-C on an empty line leaves. Resolves when the user leaves (.exit, Ctrl-D).
 */
export async function startConsoleRepl(session: ConsoleSession, options: ReplOptions): Promise<void> {
  // Loaded here, not with the CLI: node:repl loads node:domain, whose hooks every daemon would pay on each emit.
  const { default: repl } = await import('node:repl');
  const server = repl.start({
    prompt: options.prompt ?? 'weft> ',
    input: options.input,
    output: options.output,
    terminal: (options.input as { isTTY?: boolean }).isTTY === true,
    useGlobal: false,
    ignoreUndefined: true,
    preview: false,
    breakEvalOnSigint: true,
    writer: render,
  });
  for (const [name, value] of Object.entries(session.globals)) {
    Object.defineProperty(server.context, name, { value, enumerable: true });
  }
  const report = (e: unknown) => {
    server.context.lastError = e;
    options.output.write(`${errorLine(e)}\n`);
  };
  const evaluate = server.eval;
  const awaiting: REPLEval = (code, context, file, callback) =>
    evaluate.call(server, code, context, file, (error, value) => {
      if (error || isCompletion(code) || !isThenable(value)) return callback(error, value);
      // Called now, not in a microtask: a command that is a property (participant1.id) queues in line order.
      value.then(
        (result) => callback(null, result),
        (e) => {
          report(e);
          callback(null, undefined);
        },
      );
    });
  // The REPL calls its eval property for each line; replacing it keeps Node's own eval (top-level await,
  // multi-line input) underneath.
  (server as { eval: REPLEval }).eval = awaiting;
  // Ctrl-C while a command runs cancels it (and the commands queued behind it); otherwise the REPL's own handling.
  const onSigint = server.listeners('SIGINT') as Array<() => void>;
  server.removeAllListeners('SIGINT');
  server.on('SIGINT', () => {
    if (session.queue.cancelAll()) return;
    for (const listener of onSigint) listener.call(server);
  });
  return new Promise((resolve, reject) => {
    if (options.historyFile) {
      server.setupHistory(options.historyFile, (e) => {
        if (e) reject(e);
      });
    }
    // Input that ends (a pipe) leaves the REPL while commands may still run: their results print first.
    server.on('exit', () => void session.queue.idle().then(resolve));
  });
}
