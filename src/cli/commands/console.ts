import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type ConsoleNetwork,
  type ConsoleNode,
  ConsoleSession,
  errorLine,
  startConsoleRepl,
} from '../../console/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { runScript, startLocalNetwork } from './run.js';
import { startSandbox } from './sandbox.js';

/** The sandbox's nodes under the console's names: sequencer1, mediator1, participant1, participant2. */
async function sandboxNetwork(version: string, out: (line: string) => void, staticTime: boolean) {
  const sandbox = await startSandbox({
    publicPort: 0,
    adminPorts: { sequencer: 0, mediator: 0, participant1: 0, participant2: 0 },
    ledgerApiPorts: { participant1: 0, participant2: 0 },
    jsonApiPorts: { participant1: 0, participant2: 0 },
    pings: 1,
    version,
    out,
    ...(staticTime ? { staticTime } : {}),
  });
  const names = { sequencer: 'sequencer1', mediator: 'mediator1' } as const;
  const nodes: ConsoleNode[] = sandbox.nodes.map((running) => {
    const config = running.runtime.config;
    const urls = Object.fromEntries(running.node.endpoints().map((e) => [e.api, e.url]));
    const kind = config.kind as ConsoleNode['kind'];
    return {
      name: kind === 'participant' ? config.name : names[kind],
      kind,
      local: true,
      admin: { url: urls['admin-api']! },
      ...(urls['ledger-api'] ? { ledgerApi: { url: urls['ledger-api'] } } : {}),
      ...(urls['public-api'] ? { publicApi: { url: urls['public-api'] } } : {}),
    };
  });
  return { network: { nodes } satisfies ConsoleNetwork, close: () => sandbox.stop() };
}

/** `weft console`: the REPL, or a script with --script, on the nodes of a config file or on the sandbox. */
export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description(
      "Canton's console: a handle per node (participant1.health.ping(participant2), …) in a REPL or a script, on the nodes of a config file (run here or remote) or on the sandbox",
    )
    .option(
      '-c, --config <file>',
      "the network: Weft's layout or Canton's (remote-participants, remote-sequencers, …); repeat to combine files",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--sandbox', 'start the sandbox network in this process and open the console on it')
    .option('--static-time', "with --sandbox: run it on static time (weft sandbox's --static-time)")
    .option(
      '--script <file>',
      'run this console script (JavaScript) and exit: non-zero on the first failed command',
    )
    .option('--bootstrap <file>', "Canton's name for --script")
    .option(
      '--history <file>',
      'keep the REPL history in this file',
      join(homedir(), '.weft_console_history'),
    )
    .action(
      async (o: {
        config?: string[];
        sandbox?: boolean;
        staticTime?: boolean;
        script?: string;
        bootstrap?: string;
        history: string;
      }) => {
        const version = program.version() ?? 'unknown';
        let opened: { network: ConsoleNetwork; close(): Promise<void> };
        try {
          if (!o.sandbox === !o.config) {
            throw new WeftError(
              CommonErrors.INVALID_ARGUMENT,
              'give the network with -c FILE or --sandbox (one of them)',
            );
          }
          if (o.staticTime && !o.sandbox) {
            throw new WeftError(
              CommonErrors.INVALID_ARGUMENT,
              '--static-time goes with --sandbox; a config file runs on static time with canton.parameters.clock.type = sim-clock',
            );
          }
          opened = o.sandbox
            ? await sandboxNetwork(
                version,
                (line) => process.stderr.write(`${line}\n`),
                o.staticTime === true,
              )
            : await startLocalNetwork(o.config!, version);
        } catch (e) {
          process.stderr.write(`weft console: ${errorLine(e)}\n`);
          process.exit(1);
        }
        const script = o.script ?? o.bootstrap;
        if (script) {
          const ok = await runScript(opened.network, script, 'console');
          await opened.close();
          process.exit(ok ? 0 : 1);
        }
        const session = new ConsoleSession(opened.network, { stopAfterFailure: false });
        process.stdout.write(
          `Weft console: ${session.handleNames().join(', ')}; help() lists the commands\n`,
        );
        await startConsoleRepl(session, {
          input: process.stdin,
          output: process.stdout,
          historyFile: o.history,
        });
        session.close();
        await opened.close();
        process.exit(0);
      },
    );
}
