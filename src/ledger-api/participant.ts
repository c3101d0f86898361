import { readFileSync } from 'node:fs';
import { WeftError } from '../errors/index.js';
import { isLoopback } from '../grpc/index.js';
import type { Logger } from '../observability/index.js';
import type { Clock } from '../time/index.js';
import type { Claims } from './auth/claims.js';
import type { LedgerApiSettings } from './config.js';
import { LedgerApiErrors } from './errors.js';
import { type Authenticator, type LedgerApiServer, serveLedgerApi } from './server.js';
import type { ServiceImpl } from './service.js';
import { versionService } from './services/version.js';

/**
 * The FileDescriptorSet of the Ledger API protos (generated with the TypeScript by `npm run proto`), for server
 * reflection; resolved from this module so that it is found from `src/` and from `dist/` alike.
 */
export const LEDGER_API_DESCRIPTORS = new URL(
  '../../resources/ledger-api/descriptors.binpb',
  import.meta.url,
);

/** What the Ledger API of a participant is served from. */
export interface LedgerApiHost {
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Every right: what a call has when no auth service is configured (Canton's wildcard claims). */
const WILDCARD: Claims = {
  wildcard: true,
  userId: undefined,
  identityProviderId: '',
  participantAdmin: true,
  identityProviderAdmin: true,
  actAs: new Set(),
  readAs: new Set(),
  readAsAnyParty: true,
  executeAs: new Set(),
  executeAsAnyParty: true,
};
const wildcardAuthenticator: Authenticator = { authenticate: async () => WILDCARD };

/**
 * Serves the Ledger API of a participant as `settings` configure it, with every service this build has. Without
 * auth services every caller has every right, which is refused off loopback.
 */
export async function startLedgerApi(
  host: LedgerApiHost,
  settings: LedgerApiSettings,
): Promise<LedgerApiServer> {
  if (!isLoopback(settings.address)) {
    throw new WeftError(
      LedgerApiErrors.LEDGER_API_AUTH_REQUIRED,
      `the Ledger API on ${settings.address} has no auth-services: anyone reaching it could act as any party; configure ledger-api.auth-services or bind it to a loopback address`,
      { address: settings.address },
    );
  }
  const services: ServiceImpl[] = [
    versionService({
      maxRightsPerUser: 1000,
      maxUsersPageSize: 1000,
      maxPartiesPageSize: 10_000,
      maxVettedPackagesPageSize: 100,
      maxOffsetCheckpointEmissionDelayMs: 0,
      staticTime: false,
    }),
  ];
  return serveLedgerApi({
    address: settings.address,
    port: settings.port,
    ...(settings.tls ? { tls: settings.tls } : {}),
    maxInboundMessageBytes: settings.maxInboundMessageBytes,
    maxStreams: settings.maxStreams,
    services,
    authenticator: wildcardAuthenticator,
    descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
    logger: host.logger.child({ component: 'ledger-api' }),
    clock: host.clock,
  });
}
