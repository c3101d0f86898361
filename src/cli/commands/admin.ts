import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AdminClient, type AdminClientOptions } from '../../admin-api/index.js';
import { oneLine } from '../../daemon/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import {
  GetIdentityResponse,
  GetStatusResponse,
  IdentityTransactions,
  KeyPurpose,
  NodeKind,
  SetLogLevelResponse,
} from '../../generated/weft/admin/v1/node_status_service.js';
import {
  ConnectedSynchronizer,
  DarDescription,
  HostedParty,
} from '../../generated/weft/admin/v1/participant_admin_service.js';
import { BootstrapResponse } from '../../generated/weft/admin/v1/synchronizer_bootstrap_service.js';
import {
  AddMediatorResponse,
  ListTransactionsResponse,
  type TopologyChangeResult,
  TopologyTransactionInfo,
  TrustLevel,
} from '../../generated/weft/admin/v1/topology_service.js';
import {
  OnboardingRestriction,
  ParticipantPermission,
  TopologyChangeOp,
} from '../../generated/weft/topology/v1/topology.js';
import { ParticipantId } from '../../identity/index.js';
import { withSpan } from '../../observability/index.js';
import { MAPPING_CODES, type MappingKind } from '../../topology/index.js';

interface ConnectionOptions {
  endpoint: string;
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  insecure?: boolean;
  json?: boolean;
}

const DEFAULT_ENDPOINT = 'http://127.0.0.1:5002';

function usage(message: string): WeftError {
  return new WeftError(CommonErrors.INVALID_ARGUMENT, message);
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw usage(`cannot read ${option} ${file}: ${(e as Error).message}`);
  }
}

function clientOf(o: ConnectionOptions, endpoint = o.endpoint): AdminClient {
  if ((o.clientCert === undefined) !== (o.clientKey === undefined)) {
    throw usage('--client-cert and --client-key go together');
  }
  const options: AdminClientOptions = {
    ...(o.ca ? { customTrustCertificates: readPem(o.ca, '--ca') } : {}),
    ...(o.clientCert && o.clientKey
      ? {
          clientCertificate: {
            certChain: readPem(o.clientCert, '--client-cert'),
            privateKey: readPem(o.clientKey, '--client-key'),
          },
        }
      : {}),
    ...(o.insecure ? { insecure: true } : {}),
  };
  return new AdminClient(endpoint, options);
}

/**
 * The identity transactions of mediators or sequencers, fetched from their admin endpoints (with the same TLS
 * options as the node's) or read from files that `weft admin export-identity` wrote.
 */
async function memberIdentities(
  o: ConnectionOptions,
  role: 'mediator' | 'sequencer',
  urls: readonly string[],
  files: readonly string[],
): Promise<IdentityTransactions[]> {
  const prefix = role === 'mediator' ? 'MED::' : 'SEQ::';
  const fetched: IdentityTransactions[] = [];
  for (const url of urls) {
    const client = clientOf(o, url);
    try {
      const identity = await client.identityTransactions();
      if (!identity.memberId.startsWith(prefix))
        throw usage(`the node at ${url} is ${identity.memberId || 'no member'}, not a ${role}`);
      fetched.push(identity);
    } finally {
      client.close();
    }
  }
  for (const file of files) {
    try {
      fetched.push(IdentityTransactions.fromJsonString(readFileSync(file, 'utf8')));
    } catch (e) {
      throw usage(`cannot read the identity file ${file}: ${(e as Error).message}`);
    }
  }
  return fetched;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** µs since the epoch as an ISO time. */
const time = (us: bigint) => new Date(Number(us / 1000n)).toISOString();

function print(lines: readonly string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printJson(json: unknown): void {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
}

function renderStatus(s: GetStatusResponse): string[] {
  const kind = NodeKind[s.kind]?.toLowerCase() ?? 'unknown';
  const width = Math.max(...s.checks.map((c) => c.name.length), ...s.endpoints.map((e) => e.api.length));
  return [
    `node          ${s.name} (${kind}), Weft ${s.version}`,
    `uid           ${s.uid}`,
    ...(s.memberId ? [`member        ${s.memberId}`] : []),
    s.synchronizerIds.length > 1
      ? `synchronizers ${s.synchronizerIds.join(', ')}`
      : `synchronizer  ${s.synchronizerId ? `${s.synchronizerId} (protocol ${s.protocolVersion})` : 'none yet'}`,
    `ready         ${s.ready ? 'yes' : 'no'}`,
    ...s.checks.map((c) => `  ${c.name.padEnd(width)}  ${c.detail}`),
    'endpoints',
    ...s.endpoints.map((e) => `  ${e.api.padEnd(width)}  ${e.url}`),
    `started       ${time(s.startedAt)}`,
  ];
}

function renderIdentity(id: GetIdentityResponse): string[] {
  // The member id first: it is what a participant's operator sends to the synchronizer owner for allow-listing.
  return [
    ...(id.memberId ? [`member     ${id.memberId}`] : []),
    `uid        ${id.uid}`,
    `namespace  ${id.namespace}`,
    'keys',
    ...id.keys.map(
      (k) =>
        `  ${(KeyPurpose[k.purpose] ?? '').toLowerCase().padEnd(10)}  ${k.scheme.padEnd(7)}  ${k.fingerprint}  ${Buffer.from(k.publicKey).toString('hex')}`,
    ),
  ];
}

function renderTransaction(t: TopologyTransactionInfo): string {
  const op = t.operation === TopologyChangeOp.REMOVE ? 'Remove ' : '';
  const validity = t.proposal
    ? 'proposal'
    : `valid from ${time(t.validFrom)}${t.validUntil === undefined ? '' : ` until ${time(t.validUntil)}`}`;
  return `${op}${t.description}  serial ${t.serial}  ${validity}  signed by ${t.signedBy.join(', ')}  hash ${t.hash}`;
}

function renderChange(verb: string, r: TopologyChangeResult): string[] {
  const t = r.transaction!;
  return r.fullyAuthorized
    ? [`${verb}: ${t.description} (serial ${t.serial}), in force since ${time(t.validFrom)}`]
    : [
        `${verb}: ${t.description} (serial ${t.serial}) is a proposal; it needs more signatures (hash ${t.hash})`,
      ];
}

function mappingKind(name: string): MappingKind {
  const kinds = Object.keys(MAPPING_CODES) as MappingKind[];
  const kind = kinds.find((k) => k.toLowerCase() === name.toLowerCase());
  if (!kind) throw usage(`mapping type '${name}' is not one of ${kinds.join(', ')}`);
  return kind;
}

function participantIdArg(id: string): string {
  // Checked here so a typo is reported before anything is sent, naming what is wrong with the id.
  return String(ParticipantId.parse(id));
}

function permissionArg(name: string): ParticipantPermission {
  const permissions = {
    submission: ParticipantPermission.SUBMISSION,
    confirmation: ParticipantPermission.CONFIRMATION,
    observation: ParticipantPermission.OBSERVATION,
  };
  const p = permissions[name.toLowerCase() as keyof typeof permissions];
  if (p === undefined)
    throw usage(`permission '${name}' is not one of Submission, Confirmation, Observation`);
  return p;
}

function trustLevelArg(name: string): TrustLevel {
  const levels = { ordinary: TrustLevel.ORDINARY, vip: TrustLevel.VIP };
  const level = levels[name.toLowerCase() as keyof typeof levels];
  if (level === undefined) throw usage(`trust level '${name}' is not one of Ordinary, Vip`);
  return level;
}

/**
 * grpc-js sets the TLS server name to the host even when it is an IP address (https://127.0.0.1:5002), for which
 * Node prints a deprecation warning (DEP0123) on stderr; the name only matters for SNI, so the warning is dropped.
 */
function dropIpServerNameWarning(): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string }).code : rest[1];
    if (code === 'DEP0123') return;
    (emit as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** Runs one admin command: one line on stderr and exit code 1 on failure. */
function action<A extends unknown[]>(
  name: string,
  run: (client: AdminClient, options: ConnectionOptions, ...args: A) => Promise<void>,
) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.optsWithGlobals<ConnectionOptions>();
    let client: AdminClient | undefined;
    dropIpServerNameWarning();
    try {
      client = clientOf(options);
      const c = client;
      await withSpan(`weft admin ${name}`, () => run(c, options, ...(args.slice(0, -2) as A)));
    } catch (e) {
      process.stderr.write(`weft admin ${name}: ${oneLine(e)}\n`);
      process.exitCode = 1;
    } finally {
      client?.close();
    }
  };
}

/** `weft admin …`: operator commands against a node's Admin API (the console of Canton). */
export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description(
      'operate a node through its Admin API (status, identity, bootstrap, topology, allow-listing, mediators; on a participant: connect, parties, DARs, ping)',
    )
    .option(
      '-e, --endpoint <url>',
      "the node's admin endpoint, http://host:port or https://host:port",
      process.env.WEFT_ADMIN_ENDPOINT ?? DEFAULT_ENDPOINT,
    )
    .option('--ca <file>', 'PEM root certificate to trust for an https endpoint (a custom root CA)')
    .option(
      '--client-cert <file>',
      'PEM client certificate, for a node that authenticates clients by certificate',
    )
    .option('--client-key <file>', 'PEM private key of the client certificate')
    .option('--insecure', 'allow plaintext to a non-loopback host')
    .option('--json', 'print JSON');

  admin
    .command('status')
    .description('kind, identity, synchronizer, readiness and endpoints of the node')
    .action(
      action('status', async (client, o) => {
        const s = await client.status();
        if (o.json) printJson(GetStatusResponse.toJson(s));
        else print(renderStatus(s));
      }),
    );

  admin
    .command('id')
    .description(
      "the node's member id (PAR::…, what a participant operator sends to the synchronizer owner), unique identifier, namespace and public keys",
    )
    .option('--member', 'print only the member id')
    .action(
      action('id', async (client, o) => {
        const id = await client.identity();
        if (o.json) printJson(GetIdentityResponse.toJson(id));
        else if ((o as { member?: boolean }).member) print([id.memberId]);
        else print(renderIdentity(id));
      }),
    );

  admin
    .command('bootstrap')
    .description(
      'create the synchronizer on a sequencer node that has none (idempotent for the same name), with other sequencers and mediators in its genesis',
    )
    .requiredOption(
      '--name <name>',
      'the synchronizer name (the synchronizer id is <name>::<owner namespace>)',
    )
    .option('--restricted', 'permissioned mode: only allow-listed participants may join (RestrictedOpen)')
    .option('--topology-change-delay <ms>', 'delay between sequencing and effect of topology changes, in ms')
    .option('--mediator <url>', 'a mediator of the genesis, by its admin endpoint (repeatable)', collect)
    .option(
      '--mediator-identity <file>',
      'a mediator of the genesis, by the file its operator wrote with export-identity (repeatable)',
      collect,
    )
    .option(
      '--sequencer <url>',
      "another sequencer of the genesis, sharing this node's ordering storage, by its admin endpoint (repeatable)",
      collect,
    )
    .option(
      '--sequencer-identity <file>',
      'another sequencer of the genesis, by the file its operator wrote with export-identity (repeatable)',
      collect,
    )
    .option('--sequencer-threshold <n>', 'how many sequencers a member must trust (default 1)')
    .action(
      action('bootstrap', async (client, o) => {
        const flags = o as ConnectionOptions & {
          name: string;
          restricted?: boolean;
          topologyChangeDelay?: string;
          mediator?: string[];
          mediatorIdentity?: string[];
          sequencer?: string[];
          sequencerIdentity?: string[];
          sequencerThreshold?: string;
        };
        const delay = flags.topologyChangeDelay;
        if (delay !== undefined && !/^\d+$/.test(delay))
          throw usage(`--topology-change-delay '${delay}' is not a number of milliseconds`);
        const threshold = flags.sequencerThreshold;
        if (threshold !== undefined && !/^[1-9]\d{0,8}$/.test(threshold))
          throw usage(`--sequencer-threshold '${threshold}' is not a positive number`);
        const r = await client.bootstrap(
          flags.name,
          {
            onboardingRestriction: flags.restricted
              ? OnboardingRestriction.RESTRICTED_OPEN
              : OnboardingRestriction.UNSPECIFIED,
            ...(delay === undefined ? {} : { topologyChangeDelayMicros: BigInt(delay) * 1000n }),
          },
          {
            mediators: await memberIdentities(
              o,
              'mediator',
              flags.mediator ?? [],
              flags.mediatorIdentity ?? [],
            ),
            sequencers: await memberIdentities(
              o,
              'sequencer',
              flags.sequencer ?? [],
              flags.sequencerIdentity ?? [],
            ),
            ...(threshold === undefined ? {} : { sequencerThreshold: Number(threshold) }),
          },
        );
        if (o.json) printJson(BootstrapResponse.toJson(r));
        else
          print([
            r.alreadyBootstrapped
              ? `synchronizer ${r.synchronizerId} was bootstrapped already (at ${time(r.genesisTime)})`
              : `bootstrapped synchronizer ${r.synchronizerId}`,
            ...(r.sequencerIds.length > 1
              ? [
                  ...r.sequencerIds.map(
                    (id) => `sequencer ${id}${id === r.sequencerId ? '  (this node)' : ''}`,
                  ),
                  `sequencer threshold ${r.sequencerThreshold}`,
                ]
              : [`sequencer ${r.sequencerId}`]),
            ...r.mediatorIds.map((m) => `mediator  ${m}`),
          ]);
      }),
    );

  admin
    .command('export-identity')
    .description(
      "the node's identity transactions, signed by its own keys, as JSON (for a synchronizer owner to onboard it)",
    )
    .option('--out <file>', 'write them to this file instead of stdout')
    .action(
      action('export-identity', async (client, o) => {
        const { out } = o as ConnectionOptions & { out?: string };
        const text = `${IdentityTransactions.toJsonString(await client.identityTransactions(), { prettySpaces: 2 })}\n`;
        if (out) writeFileSync(out, text);
        else process.stdout.write(text);
      }),
    );

  admin
    .command('log-level')
    .description("set the node's log level, or one component's, at run time (until the node restarts)")
    .argument('<level>', 'trace, debug, info, warn, error, fatal or silent')
    .option('--component <name>', 'only this component (the component field of log lines, e.g. ledger-api)')
    .action(
      action('log-level', async (client, o, level: string) => {
        const { component } = o as ConnectionOptions & { component?: string };
        const r = await client.setLogLevel(level, component ?? '');
        if (o.json) printJson(SetLogLevelResponse.toJson(r));
        else print([`level ${r.level}`, ...Object.entries(r.components).map(([c, l]) => `${c} ${l}`)]);
      }),
    );

  admin
    .command('health')
    .description("the node's health")
    .command('dump')
    .description(
      'write a zip archive of the node’s status, config (secrets redacted), recent log lines and metrics, for a support request',
    )
    .option('--out <file>', 'the archive to write', 'weft-health-dump.zip')
    .action(
      action('health dump', async (client, o) => {
        const { out } = o as ConnectionOptions & { out: string };
        writeFileSync(out, await client.healthDump());
        print([`wrote ${out}`]);
      }),
    );

  const mediators = admin
    .command('mediators')
    .description("the synchronizer's mediators (MediatorSynchronizerState), on a sequencer node of an owner");
  mediators
    .command('add')
    .description(
      'onboard a mediator: sequence its identity transactions with a MediatorSynchronizerState adding it to the group',
    )
    .option('--mediator <url>', "the mediator's admin endpoint, to fetch its identity transactions from")
    .option('--identity <file>', 'the identity transactions the mediator operator exported (export-identity)')
    .option('--group <n>', 'the mediator group', '0')
    .action(
      action('mediators add', async (client, o) => {
        const flags = o as ConnectionOptions & { mediator?: string; identity?: string; group: string };
        if ((flags.mediator === undefined) === (flags.identity === undefined))
          throw usage('give the mediator with exactly one of --mediator URL and --identity FILE');
        if (!/^\d+$/.test(flags.group)) throw usage(`--group '${flags.group}' is not a group number`);
        const [identity] = await memberIdentities(
          o,
          'mediator',
          flags.mediator ? [flags.mediator] : [],
          flags.identity ? [flags.identity] : [],
        );
        const r = await client.addMediator(identity!, Number(flags.group));
        if (o.json) printJson(AddMediatorResponse.toJson(r));
        else if (r.alreadyActive)
          print([`mediator ${r.mediatorId} is in mediator group ${flags.group} already`]);
        else
          print([
            `added mediator ${r.mediatorId} to mediator group ${flags.group}`,
            ...r.results.flatMap((c) => renderChange('  sequenced', c)),
          ]);
      }),
    );

  const topology = admin.command('topology').description('the synchronizer topology as the node sees it');
  topology
    .command('list')
    .description('topology transactions in force (head state), optionally of one type and mentioning an id')
    .option('--type <mapping>', `only this mapping type (${Object.keys(MAPPING_CODES).join(', ')})`)
    .option('--filter <text>', 'only transactions mentioning an identifier that contains this text')
    .option('--proposals', 'also list pending proposals')
    .option('--as-of <time>', 'the state effective at this ISO time instead of the head state')
    .option('--synchronizer <id>', 'on a participant connected to several synchronizers: whose topology')
    .action(
      action('topology list', async (client, o) => {
        const flags = o as ConnectionOptions & {
          type?: string;
          filter?: string;
          proposals?: boolean;
          asOf?: string;
          synchronizer?: string;
        };
        let asOf: bigint | undefined;
        if (flags.asOf !== undefined) {
          const ms = Date.parse(flags.asOf);
          if (Number.isNaN(ms))
            throw usage(`--as-of '${flags.asOf}' is not an ISO time like 2026-01-31T12:00:00Z`);
          asOf = BigInt(ms) * 1000n;
        }
        const r = await client.listTopology({
          ...(flags.type ? { mappingCode: MAPPING_CODES[mappingKind(flags.type)] } : {}),
          ...(flags.filter ? { filter: flags.filter } : {}),
          includeProposals: flags.proposals ?? false,
          ...(asOf === undefined ? {} : { asOf }),
          ...(flags.synchronizer ? { synchronizerId: flags.synchronizer } : {}),
        });
        if (o.json) printJson(ListTransactionsResponse.toJson(r));
        else
          print([
            `synchronizer ${r.synchronizerId}: ${r.transactions.length} transactions`,
            ...r.transactions.map(renderTransaction),
          ]);
      }),
    );

  const participants = admin
    .command('participants')
    .description("the synchronizer's allow-list (ParticipantSynchronizerPermission)");
  participants
    .command('set-state')
    .description(
      'allow-list a participant (Canton 2.x participants.set_state); the trust level is accepted and ignored',
    )
    .argument('<participant-id>', 'PAR::name::fingerprint, as the participant operator reports it')
    .argument('[permission]', 'Submission, Confirmation or Observation', 'Submission')
    .argument('[trust-level]', 'Ordinary or Vip (no effect)', 'Ordinary')
    .action(
      action('participants set-state', async (client, o, id: string, permission: string, trust: string) => {
        const r = await client.setParticipantState({
          participantId: participantIdArg(id),
          permission: permissionArg(permission),
          trustLevel: trustLevelArg(trust),
        });
        if (o.json) printJson(TopologyTransactionInfo.toJson(r.transaction!));
        else print(renderChange('allow-listed', r));
      }),
    );
  participants
    .command('revoke')
    .description("remove a participant's permission; on a restricted synchronizer it loses access")
    .argument('<participant-id>', 'PAR::name::fingerprint')
    .action(
      action('participants revoke', async (client, o, id: string) => {
        const r = await client.revokeParticipant(participantIdArg(id));
        if (o.json) printJson(TopologyTransactionInfo.toJson(r.transaction!));
        else print(renderChange('revoked', r));
      }),
    );

  const participant = admin
    .command('participant')
    .description("a participant node's synchronizer connections");
  participant
    .command('connect')
    .description(
      "connect the participant to a synchronizer through its sequencer's endpoints (connect_multi: failover between them), or through several distinct sequencers with a trust threshold (connect_bft); on a restricted synchronizer an owner allow-lists the participant first",
    )
    .requiredOption('--alias <alias>', "the operator's name for the connection")
    .option(
      '--sequencer <url>',
      'a sequencer endpoint, http://host:port or https://host:port (repeatable: nodes of one sequencer)',
      collect,
    )
    .option(
      '--bft-sequencer <urls>',
      'one of several distinct sequencers, by its endpoints (comma-separated; repeatable: one per sequencer)',
      collect,
    )
    .option(
      '--trust-threshold <n>',
      'with --bft-sequencer: how many sequencers must deliver an event identically',
    )
    .option(
      '--sequencer-ca <file>',
      'PEM root certificate to trust for https sequencer endpoints (a custom root CA)',
    )
    .option(
      '--sequencer-insecure',
      'allow plaintext to a non-loopback sequencer (behind a TLS-terminating proxy)',
    )
    .action(
      action('participant connect', async (client, o) => {
        const flags = o as ConnectionOptions & {
          alias: string;
          sequencer?: string[];
          bftSequencer?: string[];
          trustThreshold?: string;
          sequencerCa?: string;
          sequencerInsecure?: boolean;
        };
        if (!flags.sequencer === !flags.bftSequencer)
          throw usage('give the endpoints of one sequencer (--sequencer) or of several (--bft-sequencer)');
        if (flags.trustThreshold !== undefined && !/^[1-9]\d*$/.test(flags.trustThreshold))
          throw usage(`--trust-threshold '${flags.trustThreshold}' is not a positive number`);
        const r = await client.connectSynchronizer({
          alias: flags.alias,
          endpoints: flags.sequencer ?? [],
          sequencers: (flags.bftSequencer ?? []).map((urls) => ({ endpoints: urls.split(',') })),
          sequencerTrustThreshold: Number(flags.trustThreshold ?? 0),
          insecure: flags.sequencerInsecure ?? false,
          ...(flags.sequencerCa
            ? { customTrustCertificates: readPem(flags.sequencerCa, '--sequencer-ca').toString('utf8') }
            : {}),
        });
        if (o.json) printJson({ synchronizerId: r.synchronizerId, participantId: r.participantId });
        else print([`participant ${r.participantId} is connected to ${r.synchronizerId} (${flags.alias})`]);
      }),
    );
  participant
    .command('disconnect')
    .description(
      'disconnect the participant from the synchronizer connected under an alias and forget the connection (its data stays)',
    )
    .requiredOption('--alias <alias>', 'the connection to close')
    .action(
      action('participant disconnect', async (client, o) => {
        const { alias } = o as ConnectionOptions & { alias: string };
        const synchronizerId = await client.disconnectSynchronizer(alias);
        if (o.json) printJson({ synchronizerId });
        else print([`disconnected from ${synchronizerId} (${alias})`]);
      }),
    );
  participant
    .command('list-connected')
    .description('the synchronizers the participant is connected to')
    .action(
      action('participant list-connected', async (client, o) => {
        const list = await client.connectedSynchronizers();
        if (o.json) printJson(list.map((c) => ConnectedSynchronizer.toJson(c)));
        else
          print(
            list.length === 0
              ? ['not connected to a synchronizer']
              : list.map(
                  (c) =>
                    `${c.alias}  ${c.synchronizerId}  ${c.healthy ? 'connected' : 'reconnecting'}  ${c.endpoints.join(', ')}`,
                ),
          );
      }),
    );

  const parties = admin.command('parties').description('parties hosted on a participant node');
  parties
    .command('enable')
    .description('allocate a party NAME::<participant namespace> hosted here (Submission permission)')
    .argument('<name>', "the party's name")
    .option('--synchronizer <id>', 'where to host it (needed when the participant is connected to several)')
    .action(
      action('parties enable', async (client, o, name: string) => {
        const { synchronizer } = o as ConnectionOptions & { synchronizer?: string };
        const party = await client.enableParty(name, synchronizer);
        if (o.json) printJson({ partyId: party });
        else print([party]);
      }),
    );
  parties
    .command('list')
    .description('the parties hosted on the participant')
    .action(
      action('parties list', async (client, o) => {
        const list = await client.parties();
        if (o.json) printJson(list.map((p) => HostedParty.toJson(p)));
        else
          print(
            list.map(
              (p) =>
                `${p.partyId}  ${p.permission}${p.admin ? '  (admin party)' : ''}  on ${p.synchronizerIds.join(', ')}`,
            ),
          );
      }),
    );

  const dars = admin.command('dars').description('DARs uploaded to a participant node');
  dars
    .command('upload')
    .description("validate a DAR, store it and vet its packages on the participant's synchronizer")
    .argument('<file>', 'the .dar file')
    .option('--skip-vetting', 'load the packages without vetting them')
    .action(
      action('dars upload', async (client, o, file: string) => {
        let bytes: Buffer;
        try {
          bytes = readFileSync(file);
        } catch (e) {
          throw usage(`cannot read the DAR ${file}: ${(e as Error).message}`);
        }
        const id = await client.uploadDar(bytes, (o as { skipVetting?: boolean }).skipVetting ?? false);
        if (o.json) printJson({ mainPackageId: id });
        else print([`uploaded ${file}: main package ${id}`]);
      }),
    );
  dars
    .command('list')
    .description('the DARs on the participant')
    .action(
      action('dars list', async (client, o) => {
        const list = await client.dars();
        if (o.json) printJson(list.map((d) => DarDescription.toJson(d)));
        else
          print(
            list.map(
              (d) =>
                `${d.name}-${d.version}  ${d.mainPackageId}  ${d.packageIds.length} packages${d.adminWorkflow ? '  (admin workflow)' : ''}`,
            ),
          );
      }),
    );

  admin
    .command('ping')
    .description('health.ping: run the admin workflow Ping with another participant and print the round trip')
    .argument('<participant-id>', 'PAR::name::fingerprint of the participant to ping')
    .option('--timeout <ms>', 'give up after this many milliseconds', '20000')
    .action(
      action('ping', async (client, o, id: string) => {
        const { timeout } = o as ConnectionOptions & { timeout: string };
        if (!/^\d+$/.test(timeout)) throw usage(`--timeout '${timeout}' is not a number of milliseconds`);
        const ms = await client.ping(participantIdArg(id), Number(timeout));
        if (o.json) printJson({ participantId: id, roundTripMs: ms });
        else print([`ping ${id}: ${ms.toFixed(1)} ms`]);
      }),
    );
}
