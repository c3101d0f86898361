import type { Command } from 'commander';
import { systemRandom } from '../../crypto/index.js';
import { loadOAuth2MiddlewareConfig, OAuth2Middleware } from '../../oauth2/index.js';
import { systemClock } from '../../time/index.js';
import { serveUntilSignal } from './trigger-service.js';

/** `weft oauth2-middleware -c FILE`: Daml's auth middleware over an OpenID provider, until SIGTERM/SIGINT. */
export function registerOAuth2MiddlewareCommand(program: Command): void {
  program
    .command('oauth2-middleware')
    .description(
      "run the OAuth2 middleware (Daml's auth middleware API over an OpenID provider), from a config file's oauth2-middleware section",
    )
    .requiredOption('-c, --config <file>', 'the config file (.conf HOCON, .yaml, .json)')
    .action((options: { config: string }) =>
      serveUntilSignal('oauth2-middleware', async (logger) =>
        OAuth2Middleware.start({
          config: await loadOAuth2MiddlewareConfig(options.config),
          clock: systemClock,
          random: systemRandom,
          logger,
        }),
      ),
    );
}
