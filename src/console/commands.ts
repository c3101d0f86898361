/**
 * The console's commands, in Canton's 3.x names: one definition per command (its path under a node's handle, the
 * kinds of node that have it, a one-line summary, typed arguments and what it does through the node's Admin or
 * Ledger API). Handles, help(), completion and docs/console.md are all built from this table.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AdminClient } from '../admin-api/index.js';
import { CommonErrors, WeftError } from '../errors/index.js';
import type { Right } from '../generated/com/daml/ledger/api/v2/admin/user_management_service.js';
import { Command, Commands } from '../generated/com/daml/ledger/api/v2/commands.js';
import { TransactionShape } from '../generated/com/daml/ledger/api/v2/transaction_filter.js';
import { KeyPurpose, NodeKind } from '../generated/weft/admin/v1/node_status_service.js';
import { TrustLevel as TrustLevelProto } from '../generated/weft/admin/v1/topology_service.js';
import {
  ParticipantPermission as PermissionProto,
  TopologyChangeOp,
} from '../generated/weft/topology/v1/topology.js';
import { transportError } from '../grpc/index.js';
import { ParticipantId as ParsedParticipantId } from '../identity/index.js';
import { type LedgerApiClient, ledgerApiErrorOf } from '../ledger-api/index.js';
import { protoToJson } from '../ledger-api/json/index.js';
import { MAPPING_CODES, type MappingKind } from '../topology/index.js';
import { ConsoleErrors } from './errors.js';
import type { ConsoleEndpoint, ConsoleNode, ConsoleNodeKind } from './network.js';
import { ConsoleId } from './values.js';

/** What a command runs against: its node, clients of the node's APIs, and the signal Ctrl-C aborts. */
export interface CommandContext {
  readonly node: ConsoleNode;
  readonly admin: AdminClient;
  /** The node's Ledger API client (participants configured with one). */
  ledgerApi(): LedgerApiClient;
  readonly signal: AbortSignal;
  /** The Admin API client of another node (a handle passed as an argument). */
  adminOf(node: ConsoleNode): AdminClient;
}

/** An argument's type: a name for help and errors, and a check that turns a value into what the command uses. */
export interface ArgType<T> {
  readonly name: string;
  check(value: unknown, context: CommandContext): T | Promise<T>;
}

export interface ArgDefinition {
  readonly name: string;
  readonly type: ArgType<unknown>;
  /** The value when the argument is left out; required when absent. */
  readonly default?: unknown;
  readonly optional?: boolean;
}

export interface CommandDefinition {
  /** The path under the node's handle, e.g. `synchronizers.connect_multi`. */
  readonly path: string;
  readonly kinds: readonly ConsoleNodeKind[];
  readonly summary: string;
  readonly args: readonly ArgDefinition[];
  // biome-ignore lint/suspicious/noExplicitAny: each command's arguments were checked against its ArgTypes
  run(context: CommandContext, ...args: any[]): Promise<unknown>;
}

/** The node a handle stands for; handles carry it under this symbol so that arguments can take handles. */
export const NODE_OF = Symbol('weft.console.node');

export function nodeOf(value: unknown): ConsoleNode | undefined {
  return typeof value === 'object' || typeof value === 'function'
    ? ((value as { [NODE_OF]?: ConsoleNode } | null)?.[NODE_OF] ?? undefined)
    : undefined;
}

export function invalid(message: string): WeftError {
  return new WeftError(ConsoleErrors.CONSOLE_INVALID_ARGUMENT, message);
}

const describe = (value: unknown): string =>
  value === undefined
    ? 'nothing'
    : value === null
      ? 'null'
      : Array.isArray(value)
        ? 'a list'
        : nodeOf(value)
          ? `the ${nodeOf(value)!.kind} ${nodeOf(value)!.name}`
          : typeof value === 'string'
            ? `the string '${value}'`
            : `a ${typeof value}`;

const text: ArgType<string> = {
  name: 'string',
  check(value) {
    if (typeof value === 'string' && value !== '') return value;
    if (value instanceof ConsoleId) return value.value;
    throw new TypeError(describe(value));
  },
};

const positive: ArgType<number> = {
  name: 'positive integer',
  check(value) {
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
    throw new TypeError(describe(value));
  },
};

const groupNumber: ArgType<number> = {
  name: 'mediator group number (0 or more)',
  check(value) {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
    throw new TypeError(describe(value));
  },
};

const flag: ArgType<boolean> = {
  name: 'boolean',
  check(value) {
    if (typeof value === 'boolean') return value;
    throw new TypeError(describe(value));
  },
};

const texts: ArgType<string[]> = {
  name: 'list of strings',
  check(value, context) {
    if (!Array.isArray(value)) throw new TypeError(describe(value));
    return value.map((v) => text.check(v, context) as string);
  },
};

/** A node handle of one kind. */
function handle(kind: ConsoleNodeKind): ArgType<ConsoleNode> {
  return {
    name: `${kind} handle`,
    check(value) {
      const node = nodeOf(value);
      if (node?.kind === kind) return node;
      throw new TypeError(describe(value));
    },
  };
}

/** A participant: its handle (its id is asked), an id from ParticipantId.tryFromProtoPrimitive, or PAR::… text. */
const participant: ArgType<string> = {
  name: 'participant handle or id',
  async check(value, context) {
    const node = nodeOf(value);
    if (node?.kind === 'participant') return (await context.adminOf(node).identity()).memberId;
    if (typeof value === 'string' || value instanceof ConsoleId) {
      try {
        return String(ParsedParticipantId.parse(String(value)));
      } catch (e) {
        throw new TypeError(`${describe(String(value))}: ${(e as Error).message}`);
      }
    }
    throw new TypeError(describe(value));
  },
};

/** A sequencer's public endpoint: its handle, or its URL. */
interface SequencerEndpoint {
  readonly url: string;
  readonly ca?: string;
}

function sequencerEndpoint(value: unknown): SequencerEndpoint {
  const node = nodeOf(value);
  if (node?.kind === 'sequencer') {
    if (!node.publicApi) throw new TypeError(`the sequencer ${node.name} has no public API in the config`);
    return node.publicApi;
  }
  if (typeof value === 'string' && /^https?:\/\//.test(value)) return { url: value };
  throw new TypeError(`${describe(value)} (not a sequencer handle or an http(s):// URL)`);
}

const sequencers: ArgType<SequencerEndpoint[]> = {
  name: 'Seq of sequencer handles or URLs',
  check(value) {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) throw new TypeError('an empty list');
    return list.map(sequencerEndpoint);
  },
};

const sequencerArg: ArgType<SequencerEndpoint> = {
  name: 'sequencer handle or URL',
  check: sequencerEndpoint,
};

const PERMISSIONS = {
  submission: PermissionProto.SUBMISSION,
  confirmation: PermissionProto.CONFIRMATION,
  observation: PermissionProto.OBSERVATION,
} as const;

const permission: ArgType<PermissionProto> = {
  name: 'ParticipantPermission',
  check(value) {
    const p =
      typeof value === 'string' ? PERMISSIONS[value.toLowerCase() as keyof typeof PERMISSIONS] : undefined;
    if (p === undefined)
      throw new TypeError(
        `${describe(value)}; use ParticipantPermission.Submission, .Confirmation or .Observation`,
      );
    return p;
  },
};

const trustLevel: ArgType<TrustLevelProto> = {
  name: 'TrustLevel',
  check(value) {
    const levels = { ordinary: TrustLevelProto.ORDINARY, vip: TrustLevelProto.VIP } as const;
    const level = typeof value === 'string' ? levels[value.toLowerCase() as keyof typeof levels] : undefined;
    if (level === undefined)
      throw new TypeError(`${describe(value)}; use TrustLevel.Ordinary or TrustLevel.Vip`);
    return level;
  },
};

/** A PEM root certificate: the text itself, or the path of a file holding it. */
const pem: ArgType<string> = {
  name: 'PEM text or file',
  async check(value) {
    if (typeof value !== 'string' || value === '') throw new TypeError(describe(value));
    if (value.includes('-----BEGIN')) return value;
    try {
      return await readFile(value, 'utf8');
    } catch (e) {
      throw invalid(
        `cannot read the root certificate file ${value}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  },
};

const arg = (name: string, type: ArgType<unknown>, extra: Partial<ArgDefinition> = {}): ArgDefinition => ({
  name,
  type,
  ...extra,
});

/** µs since the epoch as an ISO time. */
const time = (us: bigint) => new Date(Number(us / 1000n)).toISOString();

async function connectWith(
  context: CommandContext,
  alias: string,
  endpoints: readonly SequencerEndpoint[],
  ca: string | undefined,
  bft?: { threshold: number },
): Promise<ConsoleId> {
  const trust = ca ?? endpoints.find((e) => e.ca)?.ca;
  const r = await context.admin.connectSynchronizer({
    alias,
    ...(bft
      ? {
          sequencers: endpoints.map((e) => ({ endpoints: [e.url] })),
          sequencerTrustThreshold: bft.threshold,
        }
      : { endpoints: endpoints.map((e) => e.url) }),
    ...(trust ? { customTrustCertificates: trust } : {}),
  });
  return new ConsoleId(r.synchronizerId);
}

async function ledgerCall<T>(context: CommandContext, call: (c: LedgerApiClient) => Promise<T>): Promise<T> {
  const client = context.ledgerApi();
  try {
    return await call(client);
  } catch (e) {
    throw ledgerApiErrorOf(e) ?? transportError(e, CommonErrors.UNAVAILABLE, 'Ledger API', client.url);
  }
}

const partyFormat = (parties: readonly string[]) => ({
  filtersByParty: Object.fromEntries(parties.map((p) => [p, { cumulative: [] }])),
  verbose: true,
});

function rights(actAs: readonly string[], readAs: readonly string[], admin: boolean): Right[] {
  return [
    ...(admin ? [{ kind: { oneofKind: 'participantAdmin' as const, participantAdmin: {} } }] : []),
    ...actAs.map((party) => ({ kind: { oneofKind: 'canActAs' as const, canActAs: { party } } })),
    ...readAs.map((party) => ({ kind: { oneofKind: 'canReadAs' as const, canReadAs: { party } } })),
  ];
}

/** Canton's topology read commands (`topology.<name>.list`), one per mapping. */
const TOPOLOGY_LISTS: ReadonlyArray<readonly [string, MappingKind]> = [
  ['namespace_delegations', 'NamespaceDelegation'],
  ['decentralized_namespaces', 'DecentralizedNamespaceDefinition'],
  ['owner_to_key_mappings', 'OwnerToKeyMapping'],
  ['synchronizer_trust_certificates', 'SynchronizerTrustCertificate'],
  ['participant_synchronizer_permissions', 'ParticipantSynchronizerPermission'],
  ['vetted_packages', 'VettedPackages'],
  ['party_to_participant_mappings', 'PartyToParticipant'],
  ['synchronizer_parameters', 'SynchronizerParametersState'],
  ['mediators', 'MediatorSynchronizerState'],
  ['sequencers', 'SequencerSynchronizerState'],
];

async function topologyList(
  context: CommandContext,
  kind: MappingKind | undefined,
  filter: string | undefined,
) {
  const r = await context.admin.listTopology({
    ...(kind ? { mappingCode: MAPPING_CODES[kind] } : {}),
    ...(filter ? { filter } : {}),
  });
  return r.transactions.map((t) => ({
    mapping: `${t.operation === TopologyChangeOp.REMOVE ? 'Remove ' : ''}${t.description}`,
    serial: t.serial,
    validFrom: time(t.validFrom),
    signedBy: t.signedBy.join(', '),
  }));
}

const ALL: readonly ConsoleNodeKind[] = ['participant', 'sequencer', 'mediator'];
const P: readonly ConsoleNodeKind[] = ['participant'];
const S: readonly ConsoleNodeKind[] = ['sequencer'];

const setState = {
  kinds: S,
  summary:
    'allow-list a participant on the synchronizer (ParticipantSynchronizerPermission); the trust level is accepted and has no effect',
  args: [
    arg('participant', participant),
    arg('permission', permission, { default: 'Submission' }),
    arg('trustLevel', trustLevel, { default: 'Ordinary' }),
  ],
  async run(c: CommandContext, participantId: string, p: PermissionProto, level: TrustLevelProto) {
    const r = await c.admin.setParticipantState({ participantId, permission: p, trustLevel: level });
    return r.transaction!.description;
  },
};

const revoke = {
  kinds: S,
  summary: "remove a participant's permission; on a restricted synchronizer it loses access",
  args: [arg('participant', participant)],
  async run(c: CommandContext, participantId: string) {
    return (await c.admin.revokeParticipant(participantId)).transaction!.description;
  },
};

const connectBft = {
  kinds: P,
  summary: 'connect to a synchronizer through several distinct sequencers, trusting `threshold` of them',
  args: [
    arg('sequencers', sequencers),
    arg('alias', text),
    arg('threshold', positive, { default: 1 }),
    arg('rootCa', pem, { optional: true }),
  ],
  run: (c: CommandContext, s: SequencerEndpoint[], alias: string, threshold: number, ca?: string) =>
    connectWith(c, alias, s, ca, { threshold }),
};

export const COMMANDS: readonly CommandDefinition[] = [
  {
    path: 'id',
    kinds: ALL,
    summary: "the node's member id (PAR::…, SEQ::…, MED::…); .toProtoPrimitive() gives it as a string",
    args: [],
    run: async (c) => new ConsoleId((await c.admin.identity()).memberId),
  },
  {
    path: 'keys.public.list',
    kinds: ALL,
    summary: "the node's public keys: purpose, scheme and fingerprint",
    args: [],
    run: async (c) =>
      (await c.admin.identity()).keys.map((k) => ({
        purpose: (KeyPurpose[k.purpose] ?? '').toLowerCase(),
        scheme: k.scheme,
        fingerprint: k.fingerprint,
      })),
  },
  {
    path: 'health.status',
    kinds: ALL,
    summary: "the node's kind, identity, synchronizer, readiness and endpoints",
    args: [],
    async run(c) {
      const s = await c.admin.status();
      return {
        name: s.name,
        kind: NodeKind[s.kind]?.toLowerCase() ?? 'unknown',
        version: s.version,
        member: s.memberId,
        synchronizers:
          s.synchronizerIds.length > 0 ? s.synchronizerIds : s.synchronizerId ? [s.synchronizerId] : [],
        ready: s.ready,
        checks: Object.fromEntries(s.checks.map((x) => [x.name, x.detail])),
        endpoints: Object.fromEntries(s.endpoints.map((e) => [e.api, e.url])),
        started: time(s.startedAt),
      };
    },
  },
  {
    path: 'health.dump',
    kinds: ALL,
    summary:
      "write a zip of the node's status, config (secrets redacted), recent log lines and metrics; the file's path",
    args: [arg('file', text, { optional: true })],
    async run(c, file?: string) {
      const out = resolve(file ?? `${c.node.name}-health-dump.zip`);
      await writeFile(out, await c.admin.healthDump());
      return out;
    },
  },
  {
    path: 'health.ping',
    kinds: P,
    summary: 'run the admin workflow Ping with another participant; the round trip in ms',
    args: [arg('participant', participant), arg('timeoutMs', positive, { default: 20_000 })],
    run: (c, id: string, timeoutMs: number) => c.admin.ping(id, timeoutMs),
  },
  {
    path: 'synchronizers.connect',
    kinds: P,
    summary: 'connect to a synchronizer through one sequencer URL, under a local alias',
    args: [arg('alias', text), arg('url', sequencerArg), arg('rootCa', pem, { optional: true })],
    run: (c, alias: string, s: SequencerEndpoint, ca?: string) => connectWith(c, alias, [s], ca),
  },
  {
    path: 'synchronizers.connect_local',
    kinds: P,
    summary:
      'connect to the synchronizer of a sequencer handle (its public API from the config), under an alias',
    args: [arg('sequencer', handle('sequencer')), arg('alias', text)],
    run: (c, s: ConsoleNode, alias: string) =>
      connectWith(c, alias, [sequencerEndpoint({ [NODE_OF]: s })], undefined),
  },
  {
    path: 'synchronizers.connect_multi',
    kinds: P,
    summary:
      'connect to a synchronizer through several endpoints of one sequencer (failover), by URL or handle, with an optional custom root CA',
    args: [arg('alias', text), arg('sequencers', sequencers), arg('rootCa', pem, { optional: true })],
    run: (c, alias: string, s: SequencerEndpoint[], ca?: string) => connectWith(c, alias, s, ca),
  },
  { path: 'synchronizers.connect_bft', ...connectBft },
  { path: 'synchronizers.connect_local_bft', ...connectBft },
  {
    path: 'synchronizers.list_connected',
    kinds: P,
    summary: 'the synchronizers the participant is connected to',
    args: [],
    run: async (c) =>
      (await c.admin.connectedSynchronizers()).map((s) => ({
        alias: s.alias,
        synchronizerId: s.synchronizerId,
        healthy: s.healthy,
        endpoints: s.endpoints.join(', '),
      })),
  },
  {
    path: 'synchronizers.active',
    kinds: P,
    summary: 'whether the participant is connected, and healthy, to the synchronizer under the alias',
    args: [arg('alias', text)],
    run: async (c, alias: string) =>
      (await c.admin.connectedSynchronizers()).some((s) => s.alias === alias && s.healthy),
  },
  {
    path: 'synchronizers.disconnect',
    kinds: P,
    summary: 'disconnect from the synchronizer under the alias and forget the connection (its data stays)',
    args: [arg('alias', text)],
    run: async (c, alias: string) => new ConsoleId(await c.admin.disconnectSynchronizer(alias)),
  },
  {
    path: 'dars.upload',
    kinds: P,
    summary: 'validate a DAR file, store it and vet its packages; the main package id',
    args: [arg('path', text), arg('vetAllPackages', flag, { default: true })],
    async run(c, path: string, vet: boolean) {
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (e) {
        throw invalid(
          `cannot read the DAR ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
      return c.admin.uploadDar(bytes, !vet);
    },
  },
  {
    path: 'dars.list',
    kinds: P,
    summary: 'the DARs on the participant',
    args: [],
    run: async (c) =>
      (await c.admin.dars()).map((d) => ({
        name: d.name,
        version: d.version,
        mainPackageId: d.mainPackageId,
        packages: d.packageIds.length,
      })),
  },
  {
    path: 'packages.list',
    kinds: P,
    summary: 'the packages on the participant, with the DAR each came in',
    args: [],
    run: async (c) =>
      (await c.admin.dars()).flatMap((d) =>
        d.packageIds.map((packageId) => ({ packageId, dar: `${d.name}-${d.version}` })),
      ),
  },
  {
    path: 'parties.enable',
    kinds: P,
    summary: 'allocate a party NAME::<participant namespace> hosted here; its id',
    args: [arg('name', text), arg('synchronizer', text, { optional: true })],
    run: async (c, name: string, synchronizer?: string) =>
      new ConsoleId(await c.admin.enableParty(name, synchronizer)),
  },
  {
    path: 'parties.list',
    kinds: P,
    summary: 'the parties hosted on the participant',
    args: [],
    run: async (c) =>
      (await c.admin.parties()).map((p) => ({
        party: p.partyId,
        permission: p.permission,
        synchronizers: p.synchronizerIds.join(', '),
      })),
  },
  {
    path: 'participants.set_state',
    ...setState,
  },
  { path: 'participants.revoke', ...revoke },
  { path: 'topology.participant_synchronizer_permissions.propose', ...setState },
  { path: 'topology.participant_synchronizer_permissions.revoke', ...revoke },
  ...TOPOLOGY_LISTS.map(
    ([name, kind]): CommandDefinition => ({
      path: `topology.${name}.list`,
      kinds: ALL,
      summary: `the ${kind} mappings in force, optionally only those mentioning an id containing filter`,
      args: [arg('filter', text, { optional: true })],
      run: (c, filter?: string) => topologyList(c, kind, filter),
    }),
  ),
  {
    path: 'topology.transactions.list',
    kinds: ALL,
    summary: 'every topology transaction in force, optionally only those mentioning an id containing filter',
    args: [arg('filter', text, { optional: true })],
    run: (c, filter?: string) => topologyList(c, undefined, filter),
  },
  {
    path: 'mediators.add',
    kinds: S,
    summary: "onboard a mediator (by its handle) into a mediator group of this owner's synchronizer",
    args: [arg('mediator', handle('mediator')), arg('group', groupNumber, { default: 0 })],
    async run(c, mediator: ConsoleNode, group: number) {
      const identity = await c.adminOf(mediator).identityTransactions();
      const r = await c.admin.addMediator(identity, group);
      return new ConsoleId(r.mediatorId);
    },
  },
  {
    path: 'mediators.list',
    kinds: S,
    summary: "the synchronizer's mediator groups (MediatorSynchronizerState)",
    args: [],
    run: (c) => topologyList(c, 'MediatorSynchronizerState', undefined),
  },
  {
    path: 'sequencers.list',
    kinds: S,
    summary: "the synchronizer's sequencers and their trust threshold (SequencerSynchronizerState)",
    args: [],
    run: (c) => topologyList(c, 'SequencerSynchronizerState', undefined),
  },
  {
    path: 'ledger_api.parties.allocate',
    kinds: P,
    summary: 'allocate a party through the Ledger API (PartyManagementService); its id',
    args: [arg('hint', text)],
    run: (c, hint: string) =>
      ledgerCall(c, async (l) => {
        const r = await l.unary(l.parties, l.parties.allocateParty, {
          partyIdHint: hint,
          identityProviderId: '',
          synchronizerId: '',
          userId: '',
        });
        return new ConsoleId(r.partyDetails!.party);
      }),
  },
  {
    path: 'ledger_api.parties.list',
    kinds: P,
    summary: 'the parties the Ledger API knows',
    args: [],
    run: (c) =>
      ledgerCall(c, async (l) => {
        const r = await l.unary(l.parties, l.parties.listKnownParties, {
          pageToken: '',
          pageSize: 0,
          identityProviderId: '',
          filterParty: '',
        });
        return r.partyDetails.map((p) => ({ party: p.party, local: p.isLocal }));
      }),
  },
  {
    path: 'ledger_api.users.create',
    kinds: P,
    summary: 'create a Ledger API user with rights to act and read as parties',
    args: [
      arg('id', text),
      arg('actAs', texts, { default: [] }),
      arg('readAs', texts, { default: [] }),
      arg('primaryParty', text, { optional: true }),
      arg('participantAdmin', flag, { default: false }),
    ],
    run: (
      c,
      id: string,
      actAs: string[],
      readAs: string[],
      primaryParty: string | undefined,
      admin: boolean,
    ) =>
      ledgerCall(c, async (l) => {
        const r = await l.unary(l.users, l.users.createUser, {
          user: { id, primaryParty: primaryParty ?? '', isDeactivated: false, identityProviderId: '' },
          rights: rights(actAs, readAs, admin),
        });
        return r.user!.id;
      }),
  },
  {
    path: 'ledger_api.users.list',
    kinds: P,
    summary: "the participant's Ledger API users",
    args: [],
    run: (c) =>
      ledgerCall(c, async (l) => {
        const r = await l.unary(l.users, l.users.listUsers, {
          pageToken: '',
          pageSize: 0,
          identityProviderId: '',
        });
        return r.users.map((u) => ({ id: u.id, primaryParty: u.primaryParty }));
      }),
  },
  {
    path: 'ledger_api.users.rights.grant',
    kinds: P,
    summary: 'grant a user rights to act and read as parties; the rights newly granted',
    args: [
      arg('id', text),
      arg('actAs', texts, { default: [] }),
      arg('readAs', texts, { default: [] }),
      arg('participantAdmin', flag, { default: false }),
    ],
    run: (c, id: string, actAs: string[], readAs: string[], admin: boolean) =>
      ledgerCall(c, async (l) => {
        const r = await l.unary(l.users, l.users.grantUserRights, {
          userId: id,
          rights: rights(actAs, readAs, admin),
          identityProviderId: '',
        });
        return r.newlyGrantedRights.map((x) => x.kind.oneofKind);
      }),
  },
  {
    path: 'ledger_api.state.end',
    kinds: P,
    summary: 'the ledger end: the offset of the last update',
    args: [],
    run: (c) => ledgerCall(c, async (l) => (await l.unary(l.state, l.state.getLedgerEnd, {})).offset),
  },
  {
    path: 'ledger_api.state.acs.of_party',
    kinds: P,
    summary: "a party's active contracts at the ledger end: contract id, template and arguments",
    args: [arg('party', text)],
    run: (c, party: string) =>
      ledgerCall(c, async (l) => {
        const { offset } = await l.unary(l.state, l.state.getLedgerEnd, {});
        const responses = await l.collect(l.state, l.state.getActiveContracts, {
          activeAtOffset: offset,
          eventFormat: partyFormat([party]),
        });
        return responses.flatMap((r) => {
          const e =
            r.contractEntry.oneofKind === 'activeContract'
              ? r.contractEntry.activeContract.createdEvent
              : undefined;
          if (!e) return [];
          const t = e.templateId;
          return [
            {
              contractId: e.contractId,
              template: t ? `${t.moduleName}:${t.entityName}` : '?',
              arguments: e.createArguments
                ? protoToJson({ sum: { oneofKind: 'record', record: e.createArguments } })
                : null,
            },
          ];
        });
      }),
  },
  {
    path: 'ledger_api.updates.transactions',
    kinds: P,
    summary: "the parties' transactions after an offset (default the start), up to the ledger end",
    args: [arg('parties', texts), arg('beginOffset', positive, { optional: true })],
    run: (c, parties: string[], begin?: number) =>
      ledgerCall(c, async (l) => {
        const { offset: end } = await l.unary(l.state, l.state.getLedgerEnd, {});
        const from = BigInt(begin ?? 0);
        if (from >= end) return [];
        const responses = await l.collect(l.updates, l.updates.getUpdates, {
          beginExclusive: from,
          endInclusive: end,
          updateFormat: {
            includeTransactions: {
              eventFormat: partyFormat(parties),
              transactionShape: TransactionShape.ACS_DELTA,
            },
          },
        });
        return responses.flatMap((r) =>
          r.update.oneofKind === 'transaction'
            ? [
                {
                  offset: r.update.transaction.offset,
                  updateId: r.update.transaction.updateId,
                  commandId: r.update.transaction.commandId,
                  events: r.update.transaction.events.length,
                },
              ]
            : [],
        );
      }),
  },
  {
    path: 'ledger_api.commands.submit',
    kinds: P,
    summary:
      'submit commands (Ledger API Command messages in the protobuf JSON mapping) as the parties and wait; the update id',
    args: [
      arg('actAs', texts),
      arg('commands', { name: 'list of Command objects', check: (v) => v }),
      arg('commandId', text),
      arg('readAs', texts, { default: [] }),
      arg('userId', text, { optional: true }),
    ],
    async run(c, actAs: string[], commands: unknown, commandId: string, readAs: string[], userId?: string) {
      if (!Array.isArray(commands))
        throw invalid('commands: takes a list of Command objects, got a non-list');
      const list = commands.map((json, i) => {
        try {
          return Command.fromJson(json);
        } catch (e) {
          throw invalid(`commands[${i}] is not a Ledger API Command: ${(e as Error).message}`);
        }
      });
      return ledgerCall(c, async (l) => {
        const r = await l.unary(l.commands, l.commands.submitAndWait, {
          // The message's defaults for every field the console does not set.
          commands: Commands.create({
            userId: userId ?? '',
            commandId,
            commands: list,
            actAs,
            readAs,
          }),
        });
        return new ConsoleId(r.updateId);
      });
    },
  },
];

/** Canton 2.x names the seed's documentation uses, for the 3.x groups. */
export const GROUP_ALIASES: Readonly<Record<string, string>> = { domains: 'synchronizers' };

/** Checks `values` against `definition`'s arguments, naming the first that does not fit. */
export async function checkArgs(
  definition: CommandDefinition,
  label: string,
  values: readonly unknown[],
  context: CommandContext,
): Promise<unknown[]> {
  const { args } = definition;
  if (values.length > args.length) {
    throw invalid(
      `${label} takes at most ${args.length} arguments (${signature(definition)}), got ${values.length}`,
    );
  }
  const checked: unknown[] = [];
  for (const [i, a] of args.entries()) {
    const value = values[i];
    if (value === undefined) {
      if (a.default === undefined && !a.optional) {
        throw invalid(
          `${label}: argument ${a.name} (${a.type.name}) is missing; ${label}(${signature(definition)})`,
        );
      }
      checked.push(a.default);
      continue;
    }
    try {
      checked.push(await a.type.check(value, context));
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      throw invalid(`${label}: argument ${a.name} takes a ${a.type.name}, got ${e.message}`);
    }
  }
  return checked;
}

/** `alias, sequencers, rootCa?` */
export function signature(definition: CommandDefinition): string {
  return definition.args
    .map((a) => `${a.name}${a.default !== undefined || a.optional ? '?' : ''}`)
    .join(', ');
}

/** The Admin endpoint as AdminClient options. */
export function adminOptions(endpoint: ConsoleEndpoint) {
  return {
    ...(endpoint.ca ? { customTrustCertificates: endpoint.ca } : {}),
    ...(endpoint.clientCert ? { clientCertificate: endpoint.clientCert } : {}),
  };
}
