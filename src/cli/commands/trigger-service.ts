import type { Command } from 'commander';
import { systemRandom } from '../../crypto/index.js';
import { oneLine } from '../../daemon/index.js';
import { createLogger } from '../../observability/index.js';
import { systemClock } from '../../time/index.js';
import { loadTriggerServiceConfig, TriggerService } from '../../triggers/index.js';

/** `weft trigger-service -c FILE`: Daml's trigger service over a participant's Ledger API, until SIGTERM/SIGINT. */
export function registerTriggerServiceCommand(program: Command): void {
  program
    .command('trigger-service')
    .description(
      "run the trigger service (Daml's REST API) against a participant's Ledger API, from a config file's trigger-service section",
    )
    .requiredOption('-c, --config <file>', 'the config file (.conf HOCON, .yaml, .json)')
    .action(async (options: { config: string }) => {
      const logger = createLogger({});
      let service: TriggerService;
      try {
        service = await TriggerService.start({
          config: await loadTriggerServiceConfig(options.config),
          clock: systemClock,
          random: systemRandom,
          logger,
        });
      } catch (e) {
        process.stderr.write(`weft trigger-service: ${oneLine(e)}\n`);
        process.exit(1);
      }
      logger.info({ url: service.url }, 'trigger service listening');
      const stop = async () => {
        await service.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });
}
