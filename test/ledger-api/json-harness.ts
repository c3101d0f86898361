import { readFileSync } from 'node:fs';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { TransactionDecoder } from '../../src/daml/index.js';
import type {
  GetUpdateByIdRequest,
  GetUpdateResponse,
} from '../../src/generated/com/daml/ledger/api/v2/update_service.js';
import { WILDCARD_CLAIMS } from '../../src/ledger-api/auth/index.js';
import { type JsonApiServer, startJsonApi } from '../../src/ledger-api/json/index.js';
import type { Authenticator } from '../../src/ledger-api/json/server.js';
import type { ServiceImpl, UnaryHandler } from '../../src/ledger-api/service.js';
import { commandSubmissionService } from '../../src/ledger-api/services/command-submission.js';
import { type CommandDecoding, commandService } from '../../src/ledger-api/services/commands.js';
import { completionService } from '../../src/ledger-api/services/completions.js';
import { contractService } from '../../src/ledger-api/services/contracts.js';
import { eventQueryService } from '../../src/ledger-api/services/events.js';
import type { ReadServiceDeps } from '../../src/ledger-api/services/reads.js';
import { stateService } from '../../src/ledger-api/services/state.js';
import { updateService } from '../../src/ledger-api/services/updates.js';
import { LEDGER_API_VERSION, versionService } from '../../src/ledger-api/services/version.js';
import { createLogger } from '../../src/observability/index.js';
import { decodeContract } from '../../src/participant/contracts.js';
import type { ParticipantNode } from '../../src/participant/index.js';
import { type ParticipantTestNetwork, participantTestNetwork } from '../../src/participant/testing.js';

/**
 * Two participants of one synchronizer, each serving the JSON Ledger API over the Ledger API service handlers
 * that exist (the same factories the gRPC server binds), with the token DAR uploaded.
 */
export interface JsonApiNetwork {
  readonly net: ParticipantTestNetwork;
  readonly nodes: readonly ParticipantNode[];
  readonly apis: readonly JsonApiServer[];
  close(): Promise<void>;
}

export const WILDCARD_AUTHENTICATOR: Authenticator = {
  authenticate: async () => WILDCARD_CLAIMS,
  watchStream: () => () => {},
};

export { LEDGER_API_VERSION };

/** The Ledger API services of a participant, as its daemon assembles them. */
export function participantServices(node: ParticipantNode): ServiceImpl[] {
  const reads: ReadServiceDeps = {
    reads: node.reads,
    packages: node.engine.packages,
    ledgerEnd: () => node.durableEnd,
    prunedUpTo: async () => 0n,
  };
  const updates = updateService(reads);
  const decoder = new TransactionDecoder(node.engine.types);
  const decoding: CommandDecoding = {
    decodeValue: (value, type, path) => node.engine.translator.fromProto(value, type, path),
    disclosedContract: (blob) => decodeContract(blob, decoder),
  };
  return [
    commandService({
      ...decoding,
      submit: (r) => node.submit(r),
      getUpdateById: updates.handlers.GetUpdateById as UnaryHandler<GetUpdateByIdRequest, GetUpdateResponse>,
    }),
    commandSubmissionService({ ...decoding, send: (r) => node.send(r) }),
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
    completionService({
      ledgerEnd: () => node.durableEnd,
      prunedUpTo: async () => 0n,
      completions: (filter, o) => node.completions(filter, o),
    }),
  ];
}

export async function jsonApiNetwork(
  seed: string,
  o: { authenticator?: Authenticator; maxRequestBytes?: number } = {},
): Promise<JsonApiNetwork> {
  const net = await participantTestNetwork({ seed });
  const nodes = (await Promise.all(['p1', 'p2'].map((name) => net.startParticipant(name)))).map(
    (p) => p.node,
  );
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all(nodes.map((n) => n.uploadDar(dar)));
  const apis = await Promise.all(
    nodes.map((node) =>
      startJsonApi({
        address: '127.0.0.1',
        port: 0,
        services: participantServices(node),
        authenticator: o.authenticator ?? WILDCARD_AUTHENTICATOR,
        daml: node.engine,
        logger: createLogger({ level: 'silent' }),
        ...(o.maxRequestBytes ? { maxRequestBytes: o.maxRequestBytes } : {}),
      }),
    ),
  );
  return {
    net,
    nodes,
    apis,
    close: async () => {
      await Promise.all(apis.map((a) => a.close()));
      await net.close();
    },
  };
}
