import { readFileSync } from 'node:fs';
import type { RandomSource } from '../crypto/index.js';
import type {
  GetUpdateByIdRequest,
  GetUpdateResponse,
} from '../generated/com/daml/ledger/api/v2/update_service.js';
import { ApiMetrics, type AuditLog, type Logger, type NodeMetrics } from '../observability/index.js';
import { type ParticipantNode, ParticipantPruning } from '../participant/index.js';
import type { Storage } from '../storage/index.js';
import type { Clock } from '../time/index.js';
import { type Authenticator, createAuthenticator, type LedgerApiAuthConfig } from './auth/index.js';
import type { LedgerApiSettings } from './config.js';
import { type JsonApiServer, type JsonApiSettings, startJsonApi } from './json/index.js';
import { PartyRecords } from './parties/index.js';
import { type LedgerApiServer, serveLedgerApi } from './server.js';
import type { ServiceImpl, UnaryHandler } from './service.js';
import { contractService } from './services/contracts.js';
import { eventQueryService } from './services/events.js';
import { identityProviderConfigService } from './services/identity-providers.js';
import { commandServices } from './services/participant-commands.js';
import { participantPruningService } from './services/pruning.js';
import { EVENT_ENCODER } from './services/read-encoding.js';
import { participantReadDeps } from './services/reads.js';
import { stateService } from './services/state.js';
import type { StaticTime } from './services/time.js';
import { EncodedUpdateCache } from './services/update-cache.js';
import { updateService } from './services/updates.js';
import { userManagementService } from './services/users.js';
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

/**
 * Encoded GetUpdates responses kept for clients catching up with the same format (wallets, indexers reading as the
 * same parties): 64 MiB holds ~100,000 typical transactions, a few times a sandbox's ledger, at a fraction of a
 * participant's memory.
 */
const UPDATE_CACHE_BYTES = 64 * 1024 * 1024;
/** Formats cached at once: each client population reads with a few formats; more evicts the least recently used. */
const UPDATE_CACHE_FORMATS = 32;

/** What the Ledger API of a participant is served from: the participant and what its daemon knows. */
export interface LedgerApiHost {
  readonly participant: ParticipantNode;
  /** The participant's storage, which also keeps the Ledger API's users, party records and pruning offset. */
  readonly storage: Storage;
  /** Times the calls, token lifetimes and API timeouts: real time, also when the participant runs on static time. */
  readonly clock: Clock;
  readonly random: RandomSource;
  /** The participant's static time (the sandbox's `--static-time`): then the testing TimeService is served. */
  readonly staticTime?: StaticTime;
  readonly logger: Logger;
  /** Where each call is audited; absent, calls are only logged. */
  readonly audit?: AuditLog;
  /** The node's metrics, for the calls' counts and durations. */
  readonly metrics?: NodeMetrics;
  /** The synchronizers the participant is connected to now, with the aliases its operator gave them. */
  connectedSynchronizers(): readonly { readonly synchronizerId: string; readonly alias: string }[];
}

/** The Ledger API of a participant, independent of its transport: its services, authenticator and users. */
export interface ParticipantLedgerApi {
  readonly services: readonly ServiceImpl[];
  /** Close it when the transports serving the services stop. */
  readonly authenticator: Authenticator;
  /** The user store the services and the authenticator share (its changes clear the authenticator's cache). */
  readonly users: UserStore;
}

/**
 * Every service of Canton 3.4's Ledger API for a participant, each over the narrow part of the participant it
 * needs, and the authenticator `auth` configures (no auth services: every caller has every right). The gRPC server
 * and the JSON API serve the same handlers.
 */
export async function participantLedgerApi(
  host: LedgerApiHost,
  auth: LedgerApiAuthConfig,
  logger: Logger,
): Promise<ParticipantLedgerApi> {
  const { participant, storage } = host;
  const users = await UserStore.open(storage);
  const records = await PartyRecords.open(storage);
  const pruning = await ParticipantPruning.open(storage, logger);
  const prunedUpTo = async () => pruning.prunedUpTo();
  const reads = {
    ...participantReadDeps(participant, prunedUpTo),
    connectedSynchronizers: () => host.connectedSynchronizers(),
  };
  // Transactions committed from now on are stored with their events pre-encoded for the update streams.
  participant.reads.encodeEventsWith(EVENT_ENCODER);
  const updates = updateService(reads, new EncodedUpdateCache(UPDATE_CACHE_BYTES, UPDATE_CACHE_FORMATS));
  const services: ServiceImpl[] = [
    versionService({
      maxRightsPerUser: MAX_RIGHTS_PER_USER,
      maxUsersPageSize: MAX_USERS_PAGE_SIZE,
      maxPartiesPageSize: MAX_PARTIES_PAGE_SIZE,
      maxVettedPackagesPageSize: MAX_VETTED_PACKAGES_PAGE_SIZE,
      maxOffsetCheckpointEmissionDelayMs: 0,
      staticTime: host.staticTime !== undefined,
    }),
    stateService(reads),
    updates,
    eventQueryService(reads),
    contractService(reads),
    ...(await commandServices({
      participant,
      storage,
      users,
      random: host.random,
      getUpdateById: updates.handlers.GetUpdateById as UnaryHandler<GetUpdateByIdRequest, GetUpdateResponse>,
      prunedUpTo,
      ...(host.staticTime ? { staticTime: host.staticTime } : {}),
    })),
    userManagementService({
      users,
      knownParties: async (parties, identityProviderId) => {
        if (identityProviderId === undefined) {
          const known = new Set(participant.knownParties().map((p) => p.party));
          return new Set(parties.filter((p) => known.has(p)));
        }
        const inProvider = await records.get(parties);
        return new Set(parties.filter((p) => inProvider.get(p)?.identityProviderId === identityProviderId));
      },
    }),
    identityProviderConfigService({ users }),
    participantPruningService({ pruning }),
  ];
  const authenticator = await createAuthenticator(auth, {
    // The Ledger API names a participant by its unique identifier, without the member code (`PAR::`).
    participantId: participant.id.uid.toString(),
    users,
    clock: host.clock,
    logger,
  });
  return { services, authenticator, users };
}

/** The transports a participant's Ledger API is served over; each is `undefined` when not configured. */
export interface ParticipantLedgerApiServers {
  readonly grpc: LedgerApiServer | undefined;
  readonly json: JsonApiServer | undefined;
  /** Stops both transports, then the authenticator they share. */
  close(): Promise<void>;
}

/**
 * Serves the Ledger API of a participant over gRPC (when `grpc` is given) and as the JSON Ledger API (when `json`
 * is given): one set of handlers and one authenticator, which `auth` configures (the `ledger-api` section's
 * auth-services). Without auth services every caller has every right; both transports refuse that off loopback.
 */
export async function startLedgerApi(
  host: LedgerApiHost,
  auth: LedgerApiAuthConfig,
  transports: { readonly grpc?: LedgerApiSettings; readonly json?: JsonApiSettings },
): Promise<ParticipantLedgerApiServers> {
  const logger = host.logger.child({ component: 'ledger-api' });
  const { services, authenticator } = await participantLedgerApi(host, auth, logger);
  let grpc: LedgerApiServer | undefined;
  let json: JsonApiServer | undefined;
  const close = async () => {
    await Promise.all([grpc?.close(), json?.close()]);
    authenticator.close();
  };
  try {
    if (transports.grpc) {
      const settings = transports.grpc;
      grpc = await serveLedgerApi({
        address: settings.address,
        port: settings.port,
        ...(settings.tls ? { tls: settings.tls } : {}),
        maxInboundMessageBytes: settings.maxInboundMessageBytes,
        maxStreams: settings.maxStreams,
        services,
        authenticator,
        descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
        logger,
        ...(host.audit ? { audit: host.audit } : {}),
        ...(host.metrics ? { metrics: ApiMetrics.grpc(host.metrics, 'ledger-api') } : {}),
        clock: host.clock,
      });
    }
    if (transports.json) {
      json = await startJsonApi({
        ...transports.json,
        services,
        authenticator,
        daml: host.participant.engine,
        logger: host.logger.child({ component: 'json-api' }),
        ...(host.audit ? { audit: host.audit } : {}),
        ...(host.metrics ? { metrics: ApiMetrics.http(host.metrics, 'json-api') } : {}),
        clock: host.clock,
        ready: () => host.participant.readiness() === undefined,
      });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { grpc, json, close };
}
