import type { Command } from 'commander';
import { systemRandom } from '../../crypto/index.js';
import { oneLine } from '../../daemon/index.js';
import { createLogger, type Logger } from '../../observability/index.js';
import { systemClock } from '../../time/index.js';
import { loadTriggerServiceConfig, TriggerService } from '../../triggers/index.js';

/**
 * Runs an HTTP service started from a config file until SIGTERM or SIGINT; a start failure is one line on stderr
 * and exit 1 (the shape of `weft trigger-service` and `weft oauth2-middleware`).
 */
export async function serveUntilSignal(
  name: string,
  start: (logger: Logger) => Promise<{ readonly url: string; close(): Promise<void> }>,
): Promise<void> {
  const logger = createLogger({});
  let service: { readonly url: string; close(): Promise<void> };
  try {
    service = await start(logger);
  } catch (e) {
    process.stderr.write(`weft ${name}: ${oneLine(e)}\n`);
    process.exit(1);
  }
  logger.info({ url: service.url }, `${name} listening`);
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/** `weft trigger-service -c FILE`: Daml's trigger service over a participant's Ledger API, until SIGTERM/SIGINT. */
export function registerTriggerServiceCommand(program: Command): void {
  program
    .command('trigger-service')
    .description(
      "run the trigger service (Daml's REST API) against a participant's Ledger API, from a config file's trigger-service section",
    )
    .requiredOption('-c, --config <file>', 'the config file (.conf HOCON, .yaml, .json)')
    .action((options: { config: string }) =>
      serveUntilSignal('trigger-service', async (logger) =>
        TriggerService.start({
          config: await loadTriggerServiceConfig(options.config),
          clock: systemClock,
          random: systemRandom,
          logger,
        }),
      ),
    );
}
