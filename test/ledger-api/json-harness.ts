import { readFileSync } from 'node:fs';
import { systemRandom } from '../../src/crypto/index.js';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import type {
  GetUpdateByIdRequest,
  GetUpdateResponse,
} from '../../src/generated/com/daml/ledger/api/v2/update_service.js';
import { WILDCARD_CLAIMS } from '../../src/ledger-api/auth/index.js';
import { type JsonApiServer, startJsonApi } from '../../src/ledger-api/json/index.js';
import type { Authenticator } from '../../src/ledger-api/json/server.js';
import type { ServiceImpl, UnaryHandler } from '../../src/ledger-api/service.js';
import { contractService } from '../../src/ledger-api/services/contracts.js';
import { eventQueryService } from '../../src/ledger-api/services/events.js';
import { identityProviderConfigService } from '../../src/ledger-api/services/identity-providers.js';
import { commandServices } from '../../src/ledger-api/services/participant-commands.js';
import type { ReadServiceDeps } from '../../src/ledger-api/services/reads.js';
import { stateService } from '../../src/ledger-api/services/state.js';
import { updateService } from '../../src/ledger-api/services/updates.js';
import { userManagementService } from '../../src/ledger-api/services/users.js';
import { versionService } from '../../src/ledger-api/services/version.js';
import { UserStore } from '../../src/ledger-api/users/index.js';
import { createLogger } from '../../src/observability/index.js';
import type { ParticipantNode } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  type StartedParticipant,
} from '../../src/participant/testing.js';

/**
 * Two participants of one synchronizer, each serving the JSON Ledger API over the Ledger API's service handlers
 * (the factories the gRPC server binds), with the token DAR uploaded.
 */
export interface JsonApiNetwork {
  readonly net: ParticipantTestNetwork;
  readonly nodes: readonly ParticipantNode[];
  readonly users: readonly UserStore[];
  readonly apis: readonly JsonApiServer[];
  close(): Promise<void>;
}

export const WILDCARD_AUTHENTICATOR: Authenticator = {
  authenticate: async () => WILDCARD_CLAIMS,
  watchStream: () => () => {},
};

/** The Ledger API services of a participant, as its daemon assembles them. */
export async function participantServices(p: StartedParticipant, users: UserStore): Promise<ServiceImpl[]> {
  const node = p.node;
  const reads: ReadServiceDeps = {
    reads: node.reads,
    packages: node.engine.packages,
    ledgerEnd: () => node.durableEnd,
    prunedUpTo: async () => 0n,
  };
  const updates = updateService(reads);
  return [
    versionService({
      maxRightsPerUser: 1000,
      maxUsersPageSize: 1000,
      maxPartiesPageSize: 10_000,
      maxVettedPackagesPageSize: 100,
      maxOffsetCheckpointEmissionDelayMs: 0,
      staticTime: false,
    }),
    stateService({
      ...reads,
      participantId: String(node.id),
      connectedSynchronizers: () =>
        node.synchronizerIds.map((synchronizerId) => ({ synchronizerId, alias: 'test' })),
      parties: () => node.parties(),
    }),
    updates,
    eventQueryService(reads),
    contractService(reads),
    ...(await commandServices({
      participant: node,
      storage: p.storage,
      users,
      random: systemRandom,
      getUpdateById: updates.handlers.GetUpdateById as UnaryHandler<GetUpdateByIdRequest, GetUpdateResponse>,
      prunedUpTo: async () => 0n,
    })),
    userManagementService({
      users,
      knownParties: async (parties) => {
        const known = new Set(node.knownParties().map((k) => k.party));
        return new Set(parties.filter((q) => known.has(q)));
      },
    }),
    identityProviderConfigService({ users }),
  ];
}

export async function jsonApiNetwork(
  seed: string,
  o: { auth?: (users: UserStore) => Promise<Authenticator> } = {},
): Promise<JsonApiNetwork> {
  const net = await participantTestNetwork({ seed });
  const started = await Promise.all(['p1', 'p2'].map((name) => net.startParticipant(name)));
  const nodes = started.map((p) => p.node);
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all(nodes.map((n) => n.uploadDar(dar)));
  const users = await Promise.all(started.map((p) => UserStore.open(p.storage)));
  const apis = await Promise.all(
    started.map(async (p, i) =>
      startJsonApi({
        address: '127.0.0.1',
        port: 0,
        services: await participantServices(p, users[i]!),
        authenticator: o.auth ? await o.auth(users[i]!) : WILDCARD_AUTHENTICATOR,
        daml: p.node.engine,
        logger: createLogger({ level: 'silent' }),
      }),
    ),
  );
  return {
    net,
    nodes,
    users,
    apis,
    close: async () => {
      await Promise.all(apis.map((a) => a.close()));
      await net.close();
    },
  };
}
