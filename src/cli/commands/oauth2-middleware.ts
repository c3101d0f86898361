import type { Command } from 'commander';
import { systemRandom } from '../../crypto/index.js';
import { oneLine } from '../../daemon/index.js';
import { loadOAuth2MiddlewareConfig, OAuth2Middleware } from '../../oauth2/index.js';
import { createLogger } from '../../observability/index.js';
import { systemClock } from '../../time/index.js';

/** `weft oauth2-middleware -c FILE`: Daml's auth middleware over an OpenID provider, until SIGTERM/SIGINT. */
export function registerOAuth2MiddlewareCommand(program: Command): void {
  program
    .command('oauth2-middleware')
    .description(
      "run the OAuth2 middleware (Daml's auth middleware API over an OpenID provider), from a config file's oauth2-middleware section",
    )
    .requiredOption('-c, --config <file>', 'the config file (.conf HOCON, .yaml, .json)')
    .action(async (options: { config: string }) => {
      const logger = createLogger({});
      let middleware: OAuth2Middleware;
      try {
        middleware = await OAuth2Middleware.start({
          config: await loadOAuth2MiddlewareConfig(options.config),
          clock: systemClock,
          random: systemRandom,
          logger,
        });
      } catch (e) {
        process.stderr.write(`weft oauth2-middleware: ${oneLine(e)}\n`);
        process.exit(1);
      }
      logger.info({ url: middleware.url }, 'oauth2 middleware listening');
      const stop = async () => {
        await middleware.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });
}
