import { CommonErrors, WeftError } from '../errors/index.js';
import type { INodeStatusService } from '../generated/weft/admin/v1/node_status_service.grpc-server.js';
import {
  type GetStatusResponse,
  KeyPurpose,
  NodeKind,
} from '../generated/weft/admin/v1/node_status_service.js';
import type { ISynchronizerBootstrapService } from '../generated/weft/admin/v1/synchronizer_bootstrap_service.grpc-server.js';
import type { BootstrapParameters } from '../generated/weft/admin/v1/synchronizer_bootstrap_service.js';
import type { ITopologyService } from '../generated/weft/admin/v1/topology_service.grpc-server.js';
import {
  type TopologyChangeResult,
  type TopologyTransactionInfo,
  TrustLevel,
} from '../generated/weft/admin/v1/topology_service.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import type { CallLogging } from '../grpc/index.js';
import { auditedUnary } from '../grpc/index.js';
import { identityTransactions, type NodeKind as Kind } from '../node/index.js';
import { healthDump, LOG_LEVELS, type LogLevel } from '../observability/index.js';
import {
  type DynamicSynchronizerParameters,
  describeMapping,
  MAPPING_CODES,
  type MappingKind,
  mappingFromProto,
  mappingToProto,
  type OnboardingRestriction,
  type ParticipantPermission,
  type TopologyChangeOp,
} from '../topology/index.js';
import { AdminErrors } from './errors.js';
import { genesisGroups } from './genesis.js';
import { memberIdentityOf } from './identity.js';
import type { AdminNode } from './node.js';
import { participantAdminService } from './participant.js';
import {
  type AdminSynchronizer,
  TopologyAdmin,
  type TopologyChange,
  type TopologyEntry,
} from './topology.js';

const KINDS: Readonly<Record<Kind, NodeKind>> = {
  participant: NodeKind.PARTICIPANT,
  sequencer: NodeKind.SEQUENCER,
  mediator: NodeKind.MEDIATOR,
  topology: NodeKind.TOPOLOGY,
};

const KIND_OF_CODE = new Map<pb.TopologyMappingCode, MappingKind>(
  Object.entries(MAPPING_CODES).map(([kind, code]) => [code, kind as MappingKind]),
);

const PERMISSIONS = new Map<pb.ParticipantPermission, ParticipantPermission>([
  [pb.ParticipantPermission.UNSPECIFIED, 'Submission'],
  [pb.ParticipantPermission.SUBMISSION, 'Submission'],
  [pb.ParticipantPermission.CONFIRMATION, 'Confirmation'],
  [pb.ParticipantPermission.OBSERVATION, 'Observation'],
]);

const RESTRICTIONS = new Map<pb.OnboardingRestriction, OnboardingRestriction>([
  [pb.OnboardingRestriction.UNRESTRICTED_OPEN, 'UnrestrictedOpen'],
  [pb.OnboardingRestriction.UNRESTRICTED_LOCKED, 'UnrestrictedLocked'],
  [pb.OnboardingRestriction.RESTRICTED_OPEN, 'RestrictedOpen'],
  [pb.OnboardingRestriction.RESTRICTED_LOCKED, 'RestrictedLocked'],
]);

function invalid(message: string): WeftError {
  return new WeftError(CommonErrors.INVALID_ARGUMENT, message);
}

function known<K, V>(map: ReadonlyMap<K, V>, value: K, what: string): V {
  const v = map.get(value);
  if (v === undefined) throw invalid(`${what} ${String(value)} is unknown`);
  return v;
}

function entryInfo(entry: TopologyEntry): TopologyTransactionInfo {
  const signed = entry.signed;
  return {
    signedTransaction: signed.toBytes(),
    operation: signed.operation === 'Remove' ? pb.TopologyChangeOp.REMOVE : pb.TopologyChangeOp.ADD_REPLACE,
    serial: signed.serial,
    mapping: mappingToProto(signed.mapping),
    description: describeMapping(signed.mapping),
    hash: signed.hash.toHex(),
    signedBy: [...signed.signers],
    proposal: entry.status === 'proposal',
    sequenced: entry.sequenced,
    validFrom: entry.validFrom,
    ...(entry.validUntil === undefined ? {} : { validUntil: entry.validUntil }),
  };
}

function changeResult(change: TopologyChange): { result: TopologyChangeResult } {
  return {
    result: { transaction: entryInfo(change.transaction), fullyAuthorized: change.fullyAuthorized },
  };
}

function parametersOf(p: BootstrapParameters | undefined): Partial<DynamicSynchronizerParameters> {
  if (!p) return {};
  const restriction = p.onboardingRestriction;
  return {
    ...(restriction === pb.OnboardingRestriction.UNSPECIFIED
      ? {}
      : { onboardingRestriction: known(RESTRICTIONS, restriction, 'onboarding restriction') }),
    ...(p.confirmationResponseTimeoutMicros === undefined
      ? {}
      : { confirmationResponseTimeout: p.confirmationResponseTimeoutMicros }),
    ...(p.mediatorReactionTimeoutMicros === undefined
      ? {}
      : { mediatorReactionTimeout: p.mediatorReactionTimeoutMicros }),
    ...(p.ledgerTimeRecordTimeToleranceMicros === undefined
      ? {}
      : { ledgerTimeRecordTimeTolerance: p.ledgerTimeRecordTimeToleranceMicros }),
    ...(p.maxRequestSize === undefined ? {} : { maxRequestSize: p.maxRequestSize }),
    ...(p.topologyChangeDelayMicros === undefined
      ? {}
      : { topologyChangeDelay: p.topologyChangeDelayMicros }),
  };
}

function synchronizerOf(node: AdminNode, synchronizerId?: string): AdminSynchronizer {
  const sync = node.synchronizer(synchronizerId);
  const connected = node.participantHost?.connections().map((c) => c.synchronizerId) ?? [];
  if (!sync && synchronizerId === undefined && connected.length > 1) {
    throw invalid(
      `participant ${node.runtime.config.name} is connected to several synchronizers (${connected.join(', ')}); name one`,
    );
  }
  if (!sync && synchronizerId !== undefined) {
    throw new WeftError(
      AdminErrors.ADMIN_NODE_NOT_INITIALISED,
      `${node.runtime.config.kind} node ${node.runtime.config.name} is not connected to synchronizer ${synchronizerId}`,
    );
  }
  if (!sync) {
    throw new WeftError(
      AdminErrors.ADMIN_NODE_NOT_INITIALISED,
      `${node.runtime.config.kind} node ${node.runtime.config.name} has no synchronizer yet; bootstrap one first (weft admin bootstrap --name NAME on a sequencer node)`,
    );
  }
  return sync;
}

/** The Admin API's services over `node`; every call is audit-logged through `logging`. */
export function adminServices(node: AdminNode, logging: CallLogging) {
  const runtime = node.runtime;
  const topology = (synchronizerId?: string) => {
    const sync = synchronizerOf(node, synchronizerId);
    return new TopologyAdmin(sync, runtime.identity.namespaceKey.privateKey);
  };

  const statusOf = async (): Promise<GetStatusResponse> => {
    const readiness = await runtime.readiness();
    const sync = node.synchronizer();
    const id = runtime.identity;
    return {
      name: runtime.config.name,
      kind: KINDS[runtime.config.kind],
      uid: String(id.uid),
      memberId: id.member ? String(id.member) : '',
      synchronizerId: sync ? String(sync.synchronizerId) : '',
      ready: readiness.ready,
      checks: Object.entries(readiness.checks).map(([name, detail]) => ({
        name,
        ok: detail === 'ok',
        detail: String(detail),
      })),
      endpoints: node.endpoints().map((e) => ({ ...e })),
      version: node.version,
      startedAt: node.startedAt,
      protocolVersion: sync?.protocolVersion ?? 0,
      synchronizerIds: node.participantHost
        ? node.participantHost.connections().map((c) => c.synchronizerId)
        : sync
          ? [String(sync.synchronizerId)]
          : [],
    };
  };

  /** A change this node signed, recorded in the audit log with its signer, as the Admin API answers it. */
  const audited = (operation: string, change: TopologyChange) => {
    const signed = change.transaction.signed;
    runtime.audit?.topology({
      operation,
      mapping: describeMapping(signed.mapping),
      signer: runtime.identity.namespace.toString(),
      signedBy: [...signed.signers],
      hash: signed.hash.toHex(),
    });
    return changeResult(change);
  };

  const status: INodeStatusService = {
    getStatus: auditedUnary(logging, 'GetStatus', statusOf),
    getIdentity: auditedUnary(logging, 'GetIdentity', async () => {
      const id = runtime.identity;
      const key = (
        purpose: KeyPurpose,
        k: { fingerprint: { value: string }; scheme: string; bytes: Uint8Array },
      ) => ({
        purpose,
        fingerprint: k.fingerprint.value,
        scheme: k.scheme,
        publicKey: k.bytes,
      });
      return {
        uid: String(id.uid),
        namespace: String(id.namespace),
        memberId: id.member ? String(id.member) : '',
        keys: [
          key(KeyPurpose.NAMESPACE, id.namespaceKey.publicKey),
          key(KeyPurpose.SIGNING, id.signingKey.publicKey),
          key(KeyPurpose.ENCRYPTION, id.encryptionKey.publicKey),
        ],
      };
    }),
    setLogLevel: auditedUnary(logging, 'SetLogLevel', async (call) => {
      const levels = runtime.logLevels;
      if (levels === undefined) {
        throw new WeftError(
          AdminErrors.ADMIN_NOT_SUPPORTED,
          `node ${runtime.config.name} logs through a logger given by its embedder, whose levels it does not control`,
        );
      }
      const { level, component } = call.request;
      if (!(LOG_LEVELS as readonly string[]).includes(level)) {
        throw invalid(`log level '${level}' is not one of ${LOG_LEVELS.join(', ')}`);
      }
      levels.set(level as LogLevel, component === '' ? undefined : component);
      const now = levels.levels();
      runtime.logger.info(
        { level, ...(component === '' ? {} : { component }) },
        `log level of ${component === '' ? 'the node' : component} set to ${level}`,
      );
      return { level: now.level, components: { ...now.components } };
    }),
    healthDump: auditedUnary(logging, 'HealthDump', async () => ({
      archive: await healthDump({
        status: await statusOf(),
        config: runtime.config,
        metrics: await runtime.metrics.registry.metrics(),
        ...(runtime.config.monitoring.logging.file === undefined
          ? {}
          : { logFile: runtime.config.monitoring.logging.file }),
      }),
    })),
    getIdentityTransactions: auditedUnary(logging, 'GetIdentityTransactions', async () => ({
      identity: {
        memberId: String(runtime.identity.member ?? ''),
        signedTransactions: identityTransactions(runtime.identity),
      },
    })),
  };

  const topologyService: ITopologyService = {
    listTransactions: auditedUnary(logging, 'ListTransactions', async (call) => {
      const r = call.request;
      const sync = synchronizerOf(node, r.synchronizerId || undefined);
      const kind =
        r.mappingCode === pb.TopologyMappingCode.UNSPECIFIED
          ? undefined
          : known(KIND_OF_CODE, r.mappingCode, 'mapping code');
      if (r.asOf !== undefined && r.includeProposals) {
        throw invalid('proposals are listed with the head state only: drop as_of or include_proposals');
      }
      const entries = topology(r.synchronizerId || undefined).list({
        ...(kind === undefined ? {} : { kind }),
        ...(r.filter ? { filter: r.filter } : {}),
        includeProposals: r.includeProposals,
        ...(r.asOf === undefined ? {} : { asOf: r.asOf }),
      });
      return { synchronizerId: String(sync.synchronizerId), transactions: entries.map(entryInfo) };
    }),
    propose: auditedUnary(logging, 'Propose', async (call) => {
      const r = call.request;
      if (!r.mapping) throw invalid('Propose needs a mapping');
      const op: TopologyChangeOp = r.operation === pb.TopologyChangeOp.REMOVE ? 'Remove' : 'AddReplace';
      return audited('propose', await topology().propose(mappingFromProto(r.mapping), op, r.serial));
    }),
    authorize: auditedUnary(logging, 'Authorize', async (call) => {
      if (!call.request.transactionHash) throw invalid('Authorize needs the hash of a proposal');
      return audited('authorize', await topology().authorize(call.request.transactionHash));
    }),
    setParticipantState: auditedUnary(logging, 'SetParticipantState', async (call) => {
      const r = call.request;
      const trust = r.trustLevel === TrustLevel.VIP ? 'Vip' : 'Ordinary';
      return audited(
        'set-participant-state',
        await topology().setParticipantState(
          r.participantId,
          known(PERMISSIONS, r.permission, 'participant permission'),
          trust,
          r.loginAfter,
        ),
      );
    }),
    revokeParticipant: auditedUnary(logging, 'RevokeParticipant', async (call) =>
      audited('revoke-participant', await topology().revokeParticipant(call.request.participantId)),
    ),
    addMediator: auditedUnary(logging, 'AddMediator', async (call) => {
      const r = call.request;
      if (!r.identity) throw invalid("AddMediator needs the mediator's identity transactions");
      const identity = memberIdentityOf('mediator', r.identity.signedTransactions, r.identity.memberId);
      const outcome = await topology().addMediator(identity, r.group);
      return {
        mediatorId: String(outcome.mediator),
        results: outcome.changes.map((c) => audited('add-mediator', c).result),
        alreadyActive: outcome.alreadyActive,
      };
    }),
  };

  const bootstrap: ISynchronizerBootstrapService = {
    bootstrap: auditedUnary(logging, 'Bootstrap', async (call) => {
      const r = call.request;
      if (!r.synchronizerName) throw invalid('Bootstrap needs a synchronizer name');
      const outcome = await node.bootstrap({
        name: r.synchronizerName,
        parameters: parametersOf(r.parameters),
        mediators: r.mediators.map((m) => memberIdentityOf('mediator', m.signedTransactions, m.memberId)),
        sequencers: r.sequencers.map((s) => memberIdentityOf('sequencer', s.signedTransactions, s.memberId)),
        ...(r.sequencerThreshold === 0 ? {} : { sequencerThreshold: r.sequencerThreshold }),
      });
      const groups = genesisGroups(outcome.genesis);
      return {
        synchronizerId: String(outcome.genesis.synchronizerId),
        sequencerId: String(runtime.identity.member),
        alreadyBootstrapped: !outcome.created,
        genesisTime: outcome.genesis.genesisTs,
        mediatorIds: groups.mediators,
        sequencerIds: groups.sequencers,
        sequencerThreshold: groups.sequencerThreshold,
      };
    }),
  };

  return {
    status,
    topology: topologyService,
    bootstrap,
    participant: participantAdminService(node, logging),
  };
}
