import { CommonErrors, WeftError } from '../errors/index.js';
import type { IParticipantAdminService } from '../generated/weft/admin/v1/participant_admin_service.grpc-server.js';
import { auditedUnary, type CallLogging } from '../grpc/index.js';
import type { ParticipantNode } from '../participant/index.js';
import { AdminErrors } from './errors.js';
import type { AdminNode } from './node.js';

/** How a participant reaches a synchronizer: Canton's SequencerConnections under an alias. */
export interface SynchronizerConnectionConfig {
  readonly alias: string;
  /** Endpoints of one sequencer (`connect_multi`); empty with `sequencers`. */
  readonly endpoints: readonly string[];
  /** Distinct sequencers, each with its endpoints (`connect_bft`), and how many must agree on an event. */
  readonly sequencers?: readonly (readonly string[])[];
  readonly trustThreshold?: number;
  /** PEM root certificate(s) for https endpoints instead of the public CAs. */
  readonly customTrustCertificates?: string;
  readonly insecure: boolean;
}

export interface ConnectedSynchronizerInfo {
  readonly config: SynchronizerConnectionConfig;
  readonly synchronizerId: string;
  readonly healthy: boolean;
}

/** What a participant node's process offers the Admin API beyond the participant itself: its connections. */
export interface ParticipantHost {
  readonly participant: ParticipantNode;
  /** Connects (onboarding on the first connection) and remembers the connection; resolves with the synchronizer id. */
  connect(config: SynchronizerConnectionConfig): Promise<string>;
  /** Disconnects the synchronizer connected under `alias` and forgets the connection; resolves with its id. */
  disconnect(alias: string): Promise<string>;
  connections(): readonly ConnectedSynchronizerInfo[];
}

/** Every endpoint of a connection: of its sequencer, or of all its distinct sequencers. */
export function endpointsOf(config: SynchronizerConnectionConfig): string[] {
  return config.sequencers?.length ? config.sequencers.flat() : [...config.endpoints];
}

function invalid(message: string): WeftError {
  return new WeftError(CommonErrors.INVALID_ARGUMENT, message);
}

const DEFAULT_PING_TIMEOUT_MS = 20_000;

/** `ParticipantAdminService` over `node`: participant nodes serve it, others answer ADMIN_NOT_SUPPORTED. */
export function participantAdminService(node: AdminNode, logging: CallLogging): IParticipantAdminService {
  const host = (): ParticipantHost => {
    if (!node.participantHost) {
      const { kind, name } = node.runtime.config;
      throw new WeftError(
        AdminErrors.ADMIN_NOT_SUPPORTED,
        `node ${name} is a ${kind}; participant commands go to a participant node's admin API`,
      );
    }
    return node.participantHost;
  };
  const participant = () => host().participant;
  return {
    connectSynchronizer: auditedUnary(logging, 'ConnectSynchronizer', async (call) => {
      const c = call.request.connection;
      if (!c?.alias) throw invalid('ConnectSynchronizer needs an alias');
      if (c.endpoints.length > 0 && c.sequencers.length > 0)
        throw invalid(
          'ConnectSynchronizer takes the endpoints of one sequencer or several sequencers, not both',
        );
      if (c.endpoints.length === 0 && c.sequencers.length === 0)
        throw invalid('ConnectSynchronizer needs at least one sequencer endpoint');
      if (c.sequencers.some((s) => s.endpoints.length === 0))
        throw invalid('every sequencer of ConnectSynchronizer needs at least one endpoint');
      const threshold = c.sequencerTrustThreshold || 1;
      if (threshold > Math.max(c.sequencers.length, 1)) {
        throw invalid(
          `sequencer trust threshold ${threshold} is above the number of sequencers (${Math.max(c.sequencers.length, 1)})`,
        );
      }
      const synchronizerId = await host().connect({
        alias: c.alias,
        endpoints: [...c.endpoints],
        ...(c.sequencers.length > 0
          ? { sequencers: c.sequencers.map((s) => [...s.endpoints]), trustThreshold: threshold }
          : {}),
        insecure: c.insecure,
        ...(c.customTrustCertificates ? { customTrustCertificates: c.customTrustCertificates } : {}),
      });
      return { synchronizerId, participantId: String(participant().id) };
    }),
    disconnectSynchronizer: auditedUnary(logging, 'DisconnectSynchronizer', async (call) => {
      if (!call.request.alias) throw invalid('DisconnectSynchronizer needs an alias');
      return { synchronizerId: await host().disconnect(call.request.alias) };
    }),
    listConnectedSynchronizers: auditedUnary(logging, 'ListConnectedSynchronizers', async () => ({
      synchronizers: host()
        .connections()
        .map((c) => ({
          alias: c.config.alias,
          synchronizerId: c.synchronizerId,
          endpoints: endpointsOf(c.config),
          healthy: c.healthy,
          sequencers: (c.config.sequencers ?? []).map((endpoints) => ({ endpoints: [...endpoints] })),
          sequencerTrustThreshold: c.config.trustThreshold ?? 1,
        })),
    })),
    enableParty: auditedUnary(logging, 'EnableParty', async (call) => {
      if (!call.request.name) throw invalid('EnableParty needs a party name');
      const { name, synchronizerId } = call.request;
      return {
        partyId: await participant().allocateParty(name, synchronizerId ? { synchronizerId } : {}),
      };
    }),
    listParties: auditedUnary(logging, 'ListParties', async () => ({
      parties: participant()
        .parties()
        .map((p) => ({
          partyId: p.party,
          permission: p.permission,
          admin: p.admin,
          synchronizerIds: [...p.synchronizerIds],
        })),
    })),
    uploadDar: auditedUnary(logging, 'UploadDar', async (call) => {
      if (call.request.dar.length === 0) throw invalid('UploadDar needs the DAR bytes');
      const mainPackageId = await participant().uploadDar(call.request.dar, {
        vet: !call.request.skipVetting,
      });
      return { mainPackageId };
    }),
    listDars: auditedUnary(logging, 'ListDars', async () => ({
      dars: (await participant().dars()).map((d) => ({ ...d, packageIds: [...d.packageIds] })),
    })),
    ping: auditedUnary(logging, 'Ping', async (call) => {
      const { participantId, timeoutMs } = call.request;
      if (!participantId) throw invalid('Ping needs the id of the participant to ping');
      const roundTripMs = await participant().ping(participantId, {
        timeoutMs: timeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
      });
      return { roundTripMs };
    }),
  };
}
