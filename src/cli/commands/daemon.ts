import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, selectNode } from '../../config/index.js';
import { DAEMON_SCHEMAS, type DaemonNode, oneLine, startDaemonNode } from '../../daemon/index.js';
import type { Logger } from '../../observability/index.js';

function writePortFile(file: string, ports: Record<string, number>): void {
  // Written whole under a temporary name, so a reader never sees a partial file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(ports)}\n`);
  renameSync(`${file}.tmp`, file);
}

async function flush(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}

/** `weft daemon -c FILE [--node NAME] [--port-file FILE]`: runs one node until SIGTERM or SIGINT. */
export function registerDaemonCommand(program: Command): void {
  program
    .command('daemon')
    .description(
      'run one node (sequencer, mediator or participant) from a config file until SIGTERM or SIGINT',
    )
    .requiredOption('-c, --config <file>', 'the config file (.conf HOCON, .yaml, .json)')
    .option('--node <name>', 'the node to run when the file defines several')
    .option(
      '--port-file <file>',
      'write the bound ports as JSON ({"admin","public","ledgerApi","monitoring"}; only a sequencer has a public API, only a participant a Ledger API) to this file',
    )
    .action(async (options: { config: string; node?: string; portFile?: string }) => {
      let running: DaemonNode | undefined;
      try {
        const config = selectNode(
          await loadConfig(options.config, { nodeSchemas: DAEMON_SCHEMAS }),
          options.node,
        );
        running = await startDaemonNode(config, program.version() ?? 'unknown');
      } catch (e) {
        process.stderr.write(`weft daemon: ${oneLine(e)}\n`);
        process.exit(1);
      }
      const { runtime, node } = running;
      // A node that stopped itself (it lost its storage lease) exits non-zero, so that a supervisor restarts it.
      void runtime.failed.then(async (e) => {
        process.stderr.write(`weft daemon: ${oneLine(e)}\n`);
        await flush(runtime.logger);
        process.exit(1);
      });
      const ports = node.ports;
      runtime.logger.info({ ports }, `node ${runtime.config.name} listening`);
      if (options.portFile) writePortFile(options.portFile, ports);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) {
          // A second signal while stopping: give up on a graceful stop.
          process.exit(1);
        }
        stopping = true;
        runtime.logger.info({ signal }, `stopping node ${runtime.config.name}`);
        await runtime.stop();
        await flush(runtime.logger);
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });
}
