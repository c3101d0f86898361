import { readFileSync } from 'node:fs';
import type { Logger } from '../observability/index.js';
import type { Clock } from '../time/index.js';
import { WILDCARD_CLAIMS } from './auth/index.js';
import type { LedgerApiSettings } from './config.js';
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

/** No auth service: every call has every right (Canton's wildcard claims). */
const wildcardAuthenticator: Authenticator = {
  authenticate: async () => WILDCARD_CLAIMS,
  watchStream: () => () => {},
};

/**
 * Serves the Ledger API of a participant as `settings` configure it, with every service this build has. Without
 * auth services every caller has every right (`ledgerApiSettings` refuses that off loopback).
 */
export async function startLedgerApi(
  host: LedgerApiHost,
  settings: LedgerApiSettings,
): Promise<LedgerApiServer> {
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
