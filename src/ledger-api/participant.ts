import { readFileSync } from 'node:fs';
import type { Logger } from '../observability/index.js';
import type { ParticipantNode } from '../participant/index.js';
import type { Storage } from '../storage/index.js';
import type { Clock } from '../time/index.js';
import { createAuthenticator } from './auth/index.js';
import type { LedgerApiSettings } from './config.js';
import { type LedgerApiServer, serveLedgerApi } from './server.js';
import type { ServiceImpl } from './service.js';
import { contractService } from './services/contracts.js';
import { eventQueryService } from './services/events.js';
import type { ReadServiceDeps } from './services/reads.js';
import { stateService } from './services/state.js';
import { updateService } from './services/updates.js';
import { versionService } from './services/version.js';
import { MAX_RIGHTS_PER_USER, MAX_USERS_PAGE_SIZE, UserStore } from './users/index.js';

/**
 * The FileDescriptorSet of the Ledger API protos (generated with the TypeScript by `npm run proto`), for server
 * reflection; resolved from this module so that it is found from `src/` and from `dist/` alike.
 */
export const LEDGER_API_DESCRIPTORS = new URL(
  '../../resources/ledger-api/descriptors.binpb',
  import.meta.url,
);

/** Canton's default page size of PartyManagementService.ListKnownParties. */
const MAX_PARTIES_PAGE_SIZE = 10_000;
/** Canton's default page size of the vetted package listings. */
const MAX_VETTED_PACKAGES_PAGE_SIZE = 100;

/** What the Ledger API of a participant is served from: the participant and what its daemon knows. */
export interface LedgerApiHost {
  readonly participant: ParticipantNode;
  /** The participant's storage, which also keeps the Ledger API's users. */
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The synchronizers the participant is connected to now, with the aliases its operator gave them. */
  connectedSynchronizers(): readonly { readonly synchronizerId: string; readonly alias: string }[];
}

/**
 * Serves the Ledger API of a participant as `settings` configure it, with every service this build has (a service
 * without a handler factory yet is not registered: its calls answer UNIMPLEMENTED). Without auth services every
 * caller has every right (`ledgerApiSettings` refuses that off loopback).
 */
export async function startLedgerApi(
  host: LedgerApiHost,
  settings: LedgerApiSettings,
): Promise<LedgerApiServer> {
  const { participant } = host;
  const logger = host.logger.child({ component: 'ledger-api' });
  const users = await UserStore.open(host.storage);
  const authenticator = await createAuthenticator(settings, {
    // The Ledger API names a participant by its unique identifier, without the member code (`PAR::`).
    participantId: participant.id.uid.toString(),
    users,
    clock: host.clock,
    logger,
  });
  const reads: ReadServiceDeps = {
    reads: participant.reads,
    packages: participant.registry,
    ledgerEnd: () => participant.durableEnd,
    // Nothing is pruned until the participant prunes (ParticipantPruningService).
    prunedUpTo: async () => 0n,
  };
  const services: ServiceImpl[] = [
    versionService({
      maxRightsPerUser: MAX_RIGHTS_PER_USER,
      maxUsersPageSize: MAX_USERS_PAGE_SIZE,
      maxPartiesPageSize: MAX_PARTIES_PAGE_SIZE,
      maxVettedPackagesPageSize: MAX_VETTED_PACKAGES_PAGE_SIZE,
      maxOffsetCheckpointEmissionDelayMs: 0,
      staticTime: false,
    }),
    stateService({
      ...reads,
      participantId: String(participant.id),
      connectedSynchronizers: () => host.connectedSynchronizers(),
      parties: () => participant.parties(),
    }),
    updateService(reads),
    eventQueryService(reads),
    contractService(reads),
  ];
  let server: LedgerApiServer;
  try {
    server = await serveLedgerApi({
      address: settings.address,
      port: settings.port,
      ...(settings.tls ? { tls: settings.tls } : {}),
      maxInboundMessageBytes: settings.maxInboundMessageBytes,
      maxStreams: settings.maxStreams,
      services,
      authenticator,
      descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
      logger,
      clock: host.clock,
    });
  } catch (e) {
    authenticator.close();
    throw e;
  }
  return {
    port: server.port,
    url: server.url,
    close: async () => {
      await server.close();
      authenticator.close();
    },
  };
}
