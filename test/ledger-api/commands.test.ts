import { readFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRandom } from '../../src/crypto/index.js';
import { TOKEN_DAR, testDar } from '../../src/daml/dar/testing.js';
import { readDar } from '../../src/daml/index.js';
import { CommonErrors, type WeftError } from '../../src/errors/index.js';
import { CommandState } from '../../src/generated/com/daml/ledger/api/v2/admin/command_inspection_service.js';
import { UploadDarFileRequest_VettingChange } from '../../src/generated/com/daml/ledger/api/v2/admin/package_management_service.js';
import type { CompletionStreamResponse } from '../../src/generated/com/daml/ledger/api/v2/command_completion_service.js';
import type { Commands } from '../../src/generated/com/daml/ledger/api/v2/commands.js';
import type { Completion as ProtoCompletion } from '../../src/generated/com/daml/ledger/api/v2/completion.js';
import { TransactionShape } from '../../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import type { Value } from '../../src/generated/com/daml/ledger/api/v2/value.js';
import { WILDCARD_CLAIMS } from '../../src/ledger-api/auth/index.js';
import type { Claims } from '../../src/ledger-api/index.js';
import {
  LEDGER_API_DESCRIPTORS,
  type LedgerApiServer,
  ledgerApiErrorDetails,
  serveLedgerApi,
} from '../../src/ledger-api/index.js';
import type { CallContext, ServiceImpl } from '../../src/ledger-api/service.js';
import { commandServices } from '../../src/ledger-api/services/participant-commands.js';
import { updateService } from '../../src/ledger-api/services/updates.js';
import { UserStore } from '../../src/ledger-api/users/index.js';
import { createLogger } from '../../src/observability/index.js';
import { ParticipantErrors, type ParticipantNode } from '../../src/participant/index.js';
import { type ParticipantTestNetwork, participantTestNetwork } from '../../src/participant/testing.js';
import { rejection } from '../../src/sequencer/testing.js';
import type { Storage } from '../../src/storage/index.js';
import { TestLedgerClient } from './client.js';

/**
 * The command, completion, inspection, package and party services, called as the transport calls them (protobuf
 * message objects in and out, a CallContext with the caller's claims), over participants on a real synchronizer:
 * p1 hosts the token admin and alice, p2 hosts bob.
 */

let net: ParticipantTestNetwork;
let p1: ParticipantNode;
let p2: ParticipantNode;
let admin: string;
let alice: string;
let bob: string;
let users: UserStore;
let services: Record<string, ServiceImpl>;
let server: LedgerApiServer;
let client: TestLedgerClient;
let n = 0;

const TOKEN_PKG = '#splice-test-token-v1';
const logger = createLogger({ level: 'silent' });

function ctx(claims: Claims = WILDCARD_CLAIMS, signal = new AbortController().signal): CallContext {
  return { claims, signal, correlationId: `corr-${n++}`, traceparent: undefined, logger };
}

/** A user's claims as the authenticator resolves them. */
function userClaims(userId: string, o: Partial<Claims> = {}): Claims {
  return {
    ...WILDCARD_CLAIMS,
    wildcard: false,
    userId,
    participantAdmin: false,
    identityProviderAdmin: false,
    readAsAnyParty: false,
    executeAsAnyParty: false,
    ...o,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: handlers are typed per service; the tests call them by name
function call(service: string, method: string, request: object, c = ctx()): Promise<any> {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return (services[service]!.handlers[method] as any)(request, c);
}

async function take<T>(stream: AsyncIterable<T>, count: number): Promise<T[]> {
  const out: T[] = [];
  if (count === 0) return out;
  for await (const item of stream) {
    out.push(item);
    if (out.length === count) break;
  }
  return out;
}

const text = (s: string): Value => ({ sum: { oneofKind: 'text', text: s } });
const party = (p: string): Value => ({ sum: { oneofKind: 'party', party: p } });
const field = (label: string, value: Value) => ({ label, value });
const record = (...fields: ReturnType<typeof field>[]): Value => ({
  sum: { oneofKind: 'record', record: { fields } },
});

/** The token DAR's mint, as a Ledger API client writes it (labelled record fields, numeric as text). */
function mint(owner: string, amount: string): Commands['commands'][number] {
  const holding = record(
    field('owner', party(owner)),
    field('instrumentId', record(field('admin', party(admin)), field('id', text('TOK')))),
    field('amount', { sum: { oneofKind: 'numeric', numeric: amount } }),
    field('lock', { sum: { oneofKind: 'optional', optional: {} } }),
    field('meta', record(field('values', { sum: { oneofKind: 'textMap', textMap: { entries: [] } } }))),
  );
  return {
    command: {
      oneofKind: 'create',
      create: {
        templateId: {
          packageId: TOKEN_PKG,
          moduleName: 'Splice.Testing.Tokens.TestTokenV1',
          entityName: 'Token',
        },
        createArguments: { fields: [field('holding', holding)] },
      },
    },
  };
}

function commands(o: Partial<Commands> = {}): Commands {
  return {
    workflowId: '',
    userId: 'app',
    commandId: `cmd-${n++}`,
    commands: [mint(alice, '1.0')],
    deduplicationPeriod: { oneofKind: undefined },
    actAs: [admin, alice],
    readAs: [],
    submissionId: '',
    disclosedContracts: [],
    synchronizerId: '',
    packageIdSelectionPreference: [],
    prefetchContractKeys: [],
    ...o,
  };
}

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'ledger-api-commands' });
  const [s1, s2] = await Promise.all(['p1', 'p2'].map((name) => net.startParticipant(name)));
  [p1, p2] = [s1!.node, s2!.node];
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all([p1.uploadDar(dar), p2.uploadDar(dar)]);
  [admin, alice] = [await p1.allocateParty('admin'), await p1.allocateParty('alice')];
  bob = await p2.allocateParty('bob');
  users = await UserStore.open(s1!.storage);
  const reads = {
    reads: p1.reads,
    packages: p1.engine.packages,
    ledgerEnd: () => p1.durableEnd,
    prunedUpTo: async () => 0n,
  };
  const byName = (list: ServiceImpl[]) =>
    Object.fromEntries(list.map((s) => [s.type.typeName.split('.').at(-1)!, s]));
  const of = async (s: { node: ParticipantNode; storage: Storage }) =>
    byName(
      await commandServices({
        participant: s.node,
        storage: s.storage,
        users,
        random: systemRandom,
        getUpdateById: updateService(reads).handlers.GetUpdateById as never,
        prunedUpTo: async () => 0n,
      }),
    );
  const [one, two] = [await of(s1!), await of(s2!)];
  server = await serveLedgerApi({
    address: '127.0.0.1',
    port: 0,
    maxInboundMessageBytes: 4 * 1024 * 1024,
    maxStreams: 10,
    services: [...Object.values(one), updateService(reads)],
    authenticator: { authenticate: async () => WILDCARD_CLAIMS, watchStream: () => () => {} },
    descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
    logger,
  });
  client = new TestLedgerClient(`127.0.0.1:${server.port}`);
  services = {
    commands: one.CommandService!,
    submission: one.CommandSubmissionService!,
    completions: one.CommandCompletionService!,
    inspection: one.CommandInspectionService!,
    parties: one.PartyManagementService!,
    // p2 has the token DAR but not the admin's contracts: the package services are tested there.
    packages: two.PackageService!,
    packageManagement: two.PackageManagementService!,
  };
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  await net?.close();
});

describe('the command service', () => {
  it('submits and waits, answering the update id and offset', async () => {
    const r = await call('commands', 'SubmitAndWait', { commands: commands() });
    expect(r.updateId).toMatch(/^[0-9a-f]+$/);
    expect(r.completionOffset).toBeGreaterThan(0n);
  });

  it('answers the transaction in the ACS delta shape for the submitters by default', async () => {
    const r = await call('commands', 'SubmitAndWaitForTransaction', { commands: commands() });
    const tx = r.transaction;
    expect(tx.events).toHaveLength(1);
    const created = tx.events[0].event.created;
    expect(created.templateId.entityName).toBe('Token');
    // Verbose by default: record labels are there.
    expect(created.createArguments.fields[0].label).toBe('holding');
    const effects = await call('commands', 'SubmitAndWaitForTransaction', {
      commands: commands(),
      transactionFormat: {
        eventFormat: { filtersByParty: { [alice]: { cumulative: [] } }, verbose: false },
        transactionShape: TransactionShape.LEDGER_EFFECTS,
      },
    });
    expect(effects.transaction.events[0].event.created.createArguments.fields[0].label).toBe('');
  });

  it('refuses duplicates with the original submission, and honours deduplication periods', async () => {
    const c = commands({ submissionId: 'first' });
    await call('commands', 'SubmitAndWait', { commands: c });
    const dup = await rejection(
      call('commands', 'SubmitAndWait', { commands: { ...c, submissionId: 'second' } }),
    );
    expect(dup.code).toBe(ParticipantErrors.DUPLICATE_COMMAND.code);
    expect(dup.context.existing_submission_id).toBe('first');
    await call('commands', 'SubmitAndWait', {
      commands: {
        ...c,
        deduplicationPeriod: {
          oneofKind: 'deduplicationDuration',
          deduplicationDuration: { seconds: 0n, nanos: 0 },
        },
      },
    });
    const tooLong = await rejection(
      call('commands', 'SubmitAndWait', {
        commands: {
          ...c,
          deduplicationPeriod: {
            oneofKind: 'deduplicationDuration',
            deduplicationDuration: { seconds: 365n * 86_400n * 2n, nanos: 0 },
          },
        },
      }),
    );
    expect(tooLong.code).toBe(ParticipantErrors.INVALID_DEDUPLICATION_PERIOD.code);
  });

  it('validates commands as Canton does, before interpreting them', async () => {
    const cases: [Partial<Commands>, string][] = [
      [{ commandId: '' }, 'MISSING_FIELD'],
      [{ commandId: 'bad\u0000id' }, 'INVALID_FIELD'],
      [{ actAs: [] }, 'MISSING_FIELD'],
      [{ actAs: ['not a party'] }, 'INVALID_FIELD'],
      [{ commands: [] }, 'MISSING_FIELD'],
      [{ userId: '' }, 'INVALID_TOKEN'],
      [
        { deduplicationPeriod: { oneofKind: 'deduplicationOffset', deduplicationOffset: -1n } },
        'NEGATIVE_OFFSET',
      ],
      [
        { commands: [{ command: { oneofKind: 'exercise', exercise: { contractId: '', choice: 'X' } } }] },
        'MISSING_FIELD',
      ],
      [
        {
          commands: [
            {
              command: {
                oneofKind: 'create',
                create: {
                  templateId: {
                    packageId: TOKEN_PKG,
                    moduleName: 'Splice.Testing.Tokens.TestTokenV1',
                    entityName: 'Token',
                  },
                  createArguments: { fields: [field('holding', text('not a holding'))] },
                },
              },
            },
          ],
        },
        'DAML_COMMAND_INVALID',
      ],
      [
        {
          disclosedContracts: [
            { contractId: '', createdEventBlob: new Uint8Array([1, 2, 3]), synchronizerId: '' },
          ],
        },
        'INVALID_DISCLOSED_CONTRACT',
      ],
    ];
    for (const [change, code] of cases) {
      const e = await rejection(call('commands', 'SubmitAndWait', { commands: commands(change) }));
      expect(
        e.code,
        JSON.stringify(change, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).toBe(code);
    }
    const reassign = await rejection(call('commands', 'SubmitAndWaitForReassignment', {}));
    expect(reassign.code).toBe(CommonErrors.UNSUPPORTED_OPERATION.code);
  });

  it('checks the rights of the caller: act as each submitter, read as each reader, its own user', async () => {
    const carol = userClaims('carol', { actAs: new Set([alice]) });
    const denied = await rejection(
      call('commands', 'SubmitAndWait', { commands: commands({ userId: 'carol' }) }, ctx(carol)),
    );
    expect(denied.code).toBe(CommonErrors.PERMISSION_DENIED.code);
    expect(denied.message).toContain(admin);
    const otherUser = await rejection(
      call(
        'commands',
        'SubmitAndWait',
        { commands: commands({ actAs: [alice], userId: 'dave' }) },
        ctx(carol),
      ),
    );
    expect(otherUser.code).toBe(CommonErrors.PERMISSION_DENIED.code);
    // The token's user stands in for an empty user id, and the completion carries it.
    const own = await call(
      'commands',
      'SubmitAndWaitForTransaction',
      {
        commands: commands({
          actAs: [alice],
          userId: '',
          commands: [
            {
              command: {
                oneofKind: 'create',
                create: {
                  templateId: {
                    packageId: TOKEN_PKG,
                    moduleName: 'Splice.Testing.Tokens.TestTokenV1',
                    entityName: 'TokenRules',
                  },
                  createArguments: { fields: [field('admin', party(alice))] },
                },
              },
            },
          ],
        }),
      },
      ctx(carol),
    );
    expect(
      (await p1.completionOf({ userId: 'carol', actAs: [alice], commandId: own.transaction.commandId }))
        ?.updateId,
    ).toBe(own.transaction.updateId);
  });
});

describe('submissions and completions', () => {
  it('streams the completions of a user and its parties, from an offset, as they come', async () => {
    const begin = p1.durableEnd;
    const abort = new AbortController();
    const stream = call(
      'completions',
      'CompletionStream',
      { userId: 'streamer', parties: [alice], beginExclusive: begin },
      ctx(undefined, abort.signal),
    ) as unknown as AsyncIterable<CompletionStreamResponse>;
    // The completions, past the offset checkpoints the stream sends whenever it has caught up.
    const first = (async () => {
      const out: ProtoCompletion[] = [];
      for await (const r of stream) {
        if (r.completionResponse.oneofKind === 'completion') out.push(r.completionResponse.completion);
        if (out.length === 3) break;
      }
      return out;
    })();
    await call('submission', 'Submit', { commands: commands({ userId: 'streamer', submissionId: 's1' }) });
    await call('commands', 'SubmitAndWait', { commands: commands({ userId: 'someone-else' }) });
    await call('submission', 'Submit', {
      commands: commands({
        userId: 'streamer',
        actAs: [admin, alice],
        submissionId: 's2',
        deduplicationPeriod: { oneofKind: 'deduplicationOffset', deduplicationOffset: begin },
      }),
    });
    await call('submission', 'Submit', {
      commands: commands({
        userId: 'streamer',
        submissionId: 's3',
        deduplicationPeriod: {
          oneofKind: 'deduplicationDuration',
          deduplicationDuration: { seconds: 60n, nanos: 5_000 },
        },
      }),
    });
    const completions = await first;
    abort.abort();
    // A user with no completions after `begin`: the stream says at once how far it has caught up, as Canton does.
    const quiet = new AbortController();
    const [checkpoint] = await take(
      call(
        'completions',
        'CompletionStream',
        { userId: 'nobody', parties: [alice], beginExclusive: begin },
        ctx(undefined, quiet.signal),
      ) as unknown as AsyncIterable<CompletionStreamResponse>,
      1,
    );
    quiet.abort();
    expect(checkpoint?.completionResponse).toMatchObject({
      oneofKind: 'offsetCheckpoint',
      offsetCheckpoint: { offset: p1.durableEnd },
    });
    const times =
      checkpoint?.completionResponse.oneofKind === 'offsetCheckpoint'
        ? checkpoint.completionResponse.offsetCheckpoint.synchronizerTimes
        : [];
    expect(times.map((t) => t.synchronizerId)).toEqual([p1.synchronizerIds[0]]);
    expect(completions.map((c) => c.submissionId)).toEqual(['s1', 's2', 's3']);
    // The period each was deduplicated with: without one asked for, the participant's deduplication window.
    expect(completions.map((c) => c.deduplicationPeriod)).toEqual([
      {
        oneofKind: 'deduplicationDuration',
        deduplicationDuration: { seconds: BigInt(p1.settings.deduplicationWindowMs) / 1000n, nanos: 0 },
      },
      { oneofKind: 'deduplicationOffset', deduplicationOffset: begin },
      { oneofKind: 'deduplicationDuration', deduplicationDuration: { seconds: 60n, nanos: 5_000 } },
    ]);
    for (const c of completions) {
      expect(c.userId).toBe('streamer');
      // Only the requested parties among the acting ones.
      expect(c.actAs).toEqual([alice]);
      expect(c.status?.code).toBe(0);
      expect(c.synchronizerTime?.synchronizerId).toBe(p1.synchronizerIds[0]);
    }
    const beyond = await rejection(
      take(
        call('completions', 'CompletionStream', {
          userId: 'streamer',
          parties: [alice],
          beginExclusive: p1.durableEnd + 100n,
        }) as never,
        1,
      ),
    );
    expect(beyond.code).toBe('OFFSET_AFTER_LEDGER_END');
    const notMine = await rejection(
      take(
        call(
          'completions',
          'CompletionStream',
          { userId: 'streamer', parties: [alice], beginExclusive: 0n },
          ctx(userClaims('other', { readAs: new Set([alice]) })),
        ) as never,
        1,
      ),
    );
    expect(notMine.code).toBe(CommonErrors.PERMISSION_DENIED.code);
  });

  it('shows recent commands to admins, with their state, commands and effects', async () => {
    await call('commands', 'SubmitAndWait', { commands: commands({ commandId: 'inspected-1' }) });
    const r = await call('inspection', 'GetCommandStatus', {
      commandIdPrefix: 'inspected-',
      state: CommandState.UNSPECIFIED,
      limit: 0,
    });
    expect(r.commandStatus).toHaveLength(1);
    const [s] = r.commandStatus;
    expect(s.state).toBe(CommandState.SUCCEEDED);
    expect(s.commands[0].command.create.createArguments.fields[0].label).toBe('holding');
    expect(s.updates.created[0].templateId.entityName).toBe('Token');
    expect(s.completion.status.code).toBe(0);
    const notAdmin = await rejection(
      call(
        'inspection',
        'GetCommandStatus',
        { commandIdPrefix: '', state: 0, limit: 0 },
        ctx(userClaims('u')),
      ),
    );
    expect(notAdmin.code).toBe(CommonErrors.PERMISSION_DENIED.code);
  });
});

describe('the package services', () => {
  it('list packages, serve archives and statuses, to any authenticated caller', async () => {
    const main = readDar(readFileSync(TOKEN_DAR)).main;
    const caller = ctx(userClaims('reader'));
    expect((await call('packages', 'ListPackages', {}, caller)).packageIds).toContain(main.id);
    const pkg = await call('packages', 'GetPackage', { packageId: main.id }, caller);
    expect(pkg.hash).toBe(main.id);
    expect(pkg.archivePayload.length).toBeGreaterThan(0);
    expect((await call('packages', 'GetPackageStatus', { packageId: main.id }, caller)).packageStatus).toBe(
      1,
    );
    expect(
      (await call('packages', 'GetPackageStatus', { packageId: 'ab'.repeat(32) }, caller)).packageStatus,
    ).toBe(0);
    expect(
      (await rejection(call('packages', 'GetPackage', { packageId: 'ab'.repeat(32) }, caller))).code,
    ).toBe('PACKAGE_NOT_FOUND');
    expect((await rejection(call('packages', 'GetPackage', { packageId: 'nope' }, caller))).code).toBe(
      'INVALID_FIELD',
    );
  });

  it('list vetted packages by participant and synchronizer, filtered and in pages', async () => {
    const main = readDar(readFileSync(TOKEN_DAR)).main;
    const all = await call('packages', 'ListVettedPackages', { pageToken: '', pageSize: 0 });
    expect(all.vettedPackages.map((v: { participantId: string }) => v.participantId).sort()).toEqual(
      [p1.id.uid.toString(), p2.id.uid.toString()].sort(),
    );
    const filtered = await call('packages', 'ListVettedPackages', {
      packageMetadataFilter: { packageIds: [], packageNamePrefixes: ['splice-test-token'] },
      topologyStateFilter: { participantIds: [p2.id.uid.toString()], synchronizerIds: [] },
      pageToken: '',
      pageSize: 0,
    });
    expect(filtered.vettedPackages).toHaveLength(1);
    expect(filtered.vettedPackages[0].packages.map((p: { packageId: string }) => p.packageId)).toEqual([
      main.id,
    ]);
    const page1 = await call('packages', 'ListVettedPackages', { pageToken: '', pageSize: 1 });
    expect(page1.vettedPackages).toHaveLength(1);
    const page2 = await call('packages', 'ListVettedPackages', {
      pageToken: page1.nextPageToken,
      pageSize: 1,
    });
    expect(page2.vettedPackages).toHaveLength(1);
    expect(page2.nextPageToken).toBe('');
    expect(page2.vettedPackages[0].participantId).not.toBe(page1.vettedPackages[0].participantId);
  });

  it('upload, validate and vet DARs for admins only', async () => {
    const dar = readFileSync(testDar('splice-token-test-dummy-holding-0.0.2.dar'));
    const mainId = readDar(dar).main.id;
    const notAdmin = await rejection(
      call(
        'packageManagement',
        'UploadDarFile',
        { darFile: dar, submissionId: '', vettingChange: 0, synchronizerId: '' },
        ctx(userClaims('u')),
      ),
    );
    expect(notAdmin.code).toBe(CommonErrors.PERMISSION_DENIED.code);
    await call('packageManagement', 'ValidateDarFile', {
      darFile: dar,
      submissionId: '',
      synchronizerId: '',
    });
    expect((await p2.knownPackages()).map((p) => p.packageId)).not.toContain(mainId);
    const bad = await rejection(
      call('packageManagement', 'ValidateDarFile', {
        darFile: new Uint8Array([1, 2]),
        submissionId: '',
        synchronizerId: '',
      }),
    );
    expect(bad.code).toMatch(/^DAR_/);
    await call('packageManagement', 'UploadDarFile', {
      darFile: dar,
      submissionId: '',
      vettingChange: UploadDarFileRequest_VettingChange.DONT_VET_ANY_PACKAGES,
      synchronizerId: '',
    });
    const known = await call('packageManagement', 'ListKnownPackages', {});
    expect(known.packageDetails.find((p: { packageId: string }) => p.packageId === mainId)).toMatchObject({
      name: 'splice-token-test-dummy-holding',
      version: '0.0.2',
    });
    expect(p2.vetting().packages.map((p) => p.packageId)).not.toContain(mainId);
    const serial = p2.vetting().serial;
    const ref = { packageId: '', packageName: 'splice-token-test-dummy-holding', packageVersion: '0.0.2' };
    const dry = await call('packageManagement', 'UpdateVettedPackages', {
      changes: [{ operation: { oneofKind: 'vet', vet: { packages: [ref] } } }],
      dryRun: true,
      synchronizerId: '',
      updateVettedPackagesForceFlags: [],
    });
    expect(dry.newVettedPackages.packages.map((p: { packageId: string }) => p.packageId)).toContain(mainId);
    expect(p2.vetting().serial).toBe(serial);
    const done = await call('packageManagement', 'UpdateVettedPackages', {
      changes: [{ operation: { oneofKind: 'vet', vet: { packages: [ref] } } }],
      dryRun: false,
      synchronizerId: '',
      expectedTopologySerial: { serial: { oneofKind: 'prior', prior: serial } },
      updateVettedPackagesForceFlags: [],
    });
    expect(done.pastVettedPackages.topologySerial).toBe(serial);
    expect(done.newVettedPackages.topologySerial).toBe(serial + 1);
    expect(p2.vetting().packages.map((p) => p.packageId)).toContain(mainId);
    const unresolved = await rejection(
      call('packageManagement', 'UpdateVettedPackages', {
        changes: [
          {
            operation: {
              oneofKind: 'unvet',
              unvet: { packages: [{ packageId: '', packageName: 'nope', packageVersion: '' }] },
            },
          },
        ],
        dryRun: false,
        synchronizerId: '',
        updateVettedPackagesForceFlags: [],
      }),
    );
    expect(unresolved.code).toBe('UNRESOLVED_VETTING_REFERENCE');
    await call('packageManagement', 'UpdateVettedPackages', {
      changes: [
        {
          operation: {
            oneofKind: 'unvet',
            unvet: { packages: [{ packageId: mainId, packageName: '', packageVersion: '' }] },
          },
        },
      ],
      dryRun: false,
      synchronizerId: '',
      updateVettedPackagesForceFlags: [],
    });
    expect(p2.vetting().packages.map((p) => p.packageId)).not.toContain(mainId);
  });
});

describe('the party management service', () => {
  it('allocates parties with local metadata, and gives the named user the right to act as them', async () => {
    await users.createUser(
      { id: 'allocator', primaryParty: '', isDeactivated: false, annotations: {}, identityProviderId: '' },
      [],
    );
    const r = await call('parties', 'AllocateParty', {
      partyIdHint: 'erin',
      localMetadata: { resourceVersion: '', annotations: { team: 'ops' } },
      identityProviderId: '',
      synchronizerId: '',
      userId: 'allocator',
    });
    const erin = r.partyDetails.party;
    expect(erin).toMatch(/^erin::/);
    expect(r.partyDetails).toMatchObject({ isLocal: true, localMetadata: { annotations: { team: 'ops' } } });
    expect(await users.listRights('allocator', '')).toContainEqual({ kind: 'CanActAs', party: erin });
    const got = await call('parties', 'GetParties', {
      parties: [erin, bob, `nobody::1220${'ab'.repeat(32)}`],
      identityProviderId: '',
    });
    expect(got.partyDetails.map((d: { party: string; isLocal: boolean }) => [d.party, d.isLocal])).toEqual([
      [erin, true],
      [bob, false],
    ]);
    const again = await rejection(
      call('parties', 'AllocateParty', {
        partyIdHint: 'erin',
        identityProviderId: '',
        synchronizerId: '',
        userId: '',
      }),
    );
    expect(again.code).toBe(CommonErrors.INVALID_ARGUMENT.code);
    expect(again.message).toContain('already allocated on this node');
    const denied = await rejection(
      call(
        'parties',
        'AllocateParty',
        { partyIdHint: 'x', identityProviderId: '', synchronizerId: '', userId: '' },
        ctx(userClaims('u')),
      ),
    );
    expect(denied.code).toBe(CommonErrors.PERMISSION_DENIED.code);
  });

  it('lists known parties in pages', async () => {
    const all = await call('parties', 'ListKnownParties', {
      pageToken: '',
      pageSize: 0,
      identityProviderId: '',
      filterParty: '',
    });
    const parties = all.partyDetails.map((d: { party: string }) => d.party);
    expect(parties).toEqual(
      expect.arrayContaining([admin, alice, bob, String(p1.adminParty), String(p2.adminParty)]),
    );
    expect(all.nextPageToken).toBe('');
    const seen: string[] = [];
    let token = '';
    do {
      const page = await call('parties', 'ListKnownParties', {
        pageToken: token,
        pageSize: 2,
        identityProviderId: '',
        filterParty: '',
      });
      expect(page.partyDetails.length).toBeLessThanOrEqual(2);
      seen.push(...page.partyDetails.map((d: { party: string }) => d.party));
      token = page.nextPageToken;
    } while (token !== '');
    expect(seen).toEqual(parties);
    // filter_party: the parties whose id starts with it (a name, or a name and some of the namespace).
    const filtered = async (filterParty: string) =>
      (
        await call('parties', 'ListKnownParties', {
          pageToken: '',
          pageSize: 0,
          identityProviderId: '',
          filterParty,
        })
      ).partyDetails.map((d: { party: string }) => d.party);
    expect(await filtered(alice.slice(0, alice.indexOf('::') + 6))).toEqual([alice]);
    expect(await filtered(alice)).toEqual([alice]);
    expect(await filtered('nobody')).toEqual([]);
  });

  it('updates local metadata by mask, guarded by the resource version', async () => {
    const details = (await call('parties', 'GetParties', { parties: [alice], identityProviderId: '' }))
      .partyDetails[0];
    const update = (
      annotations: Record<string, string>,
      resourceVersion: string,
      paths = ['local_metadata.annotations'],
    ) =>
      call('parties', 'UpdatePartyDetails', {
        partyDetails: { ...details, localMetadata: { resourceVersion, annotations } },
        updateMask: { paths },
      });
    const first = (await update({ a: '1', b: '2' }, details.localMetadata.resourceVersion)).partyDetails;
    expect(first.localMetadata.annotations).toEqual({ a: '1', b: '2' });
    const second = (await update({ a: '', c: '3' }, first.localMetadata.resourceVersion)).partyDetails;
    expect(second.localMetadata.annotations).toEqual({ b: '2', c: '3' });
    const stale = await rejection(update({ d: '4' }, first.localMetadata.resourceVersion));
    expect(stale.code).toBe('CONCURRENT_PARTY_DETAILS_UPDATE_DETECTED');
    expect((await rejection(update({ d: '4' }, '', []))).code).toBe('INVALID_PARTY_DETAILS_UPDATE_REQUEST');
    expect((await rejection(update({ d: '4' }, '', ['nope']))).code).toBe(
      'INVALID_PARTY_DETAILS_UPDATE_REQUEST',
    );
    const remote = await rejection(
      call('parties', 'UpdatePartyDetails', {
        partyDetails: { party: bob, isLocal: false, identityProviderId: '' },
        updateMask: { paths: ['local_metadata.annotations'] },
      }),
    );
    expect(remote.code).toBe('PARTY_NOT_FOUND');
  });

  it('moves parties between identity providers, whose admins see only their own parties as local', async () => {
    const move = (source: string, target: string) =>
      call('parties', 'UpdatePartyIdentityProviderId', {
        party: alice,
        sourceIdentityProviderId: source,
        targetIdentityProviderId: target,
      });
    expect((await rejection(move('', 'idp-unknown'))).code).toBe('IDP_CONFIG_NOT_FOUND');
    await users.createIdentityProvider({
      identityProviderId: 'idp1',
      isDeactivated: false,
      jwksUrl: 'https://idp1.example.com/jwks',
      issuer: 'https://idp1.example.com',
      audience: '',
    });
    expect((await rejection(move('idp1', ''))).code).toBe('PARTY_NOT_FOUND');
    await move('', 'idp1');
    const seenBy = async (idp: string, claims?: Claims) =>
      (await call('parties', 'GetParties', { parties: [alice], identityProviderId: idp }, ctx(claims)))
        .partyDetails[0];
    expect(await seenBy('')).toMatchObject({ isLocal: false, identityProviderId: '' });
    expect(await seenBy('idp1')).toMatchObject({ isLocal: true, identityProviderId: 'idp1' });
    // An admin of idp1 reaches its own provider only.
    const idpAdmin = userClaims('idp1-admin', { identityProviderAdmin: true, identityProviderId: 'idp1' });
    expect(await seenBy('', idpAdmin)).toMatchObject({ isLocal: true, identityProviderId: 'idp1' });
    // The source must be where the party is.
    expect((await rejection(move('', 'idp1'))).code).toBe('PARTY_NOT_FOUND');
    const foreign = await rejection(
      call(
        'parties',
        'ListKnownParties',
        { pageToken: '', pageSize: 0, identityProviderId: 'other' },
        ctx(idpAdmin),
      ),
    );
    expect(foreign.code).toBe(CommonErrors.PERMISSION_DENIED.code);
    await move('idp1', '');
  });

  it('answers the participant id to anyone, and UNSUPPORTED_OPERATION for external parties', async () => {
    expect((await call('parties', 'GetParticipantId', {}, ctx(userClaims('u')))).participantId).toBe(
      p1.id.uid.toString(),
    );
    const e: WeftError = await rejection(
      call('parties', 'AllocateExternalParty', { identityProviderId: '' }),
    );
    expect(e.code).toBe(CommonErrors.UNSUPPORTED_OPERATION.code);
  });
});

describe('over gRPC', () => {
  it("submits, answers duplicates in Canton's error shape, and streams completions", async () => {
    const begin = p1.durableEnd;
    const stream = client.stream(client.completions, client.completions.completionStream, {
      userId: 'grpc-app',
      parties: [alice],
      beginExclusive: begin,
    });
    const c = commands({
      userId: 'grpc-app',
      submissionId: 'grpc-1',
      deduplicationPeriod: { oneofKind: 'deduplicationOffset', deduplicationOffset: begin },
    });
    const ok = await client.unary(client.commands, client.commands.submitAndWait, { commands: c });
    expect(ok.completionOffset).toBeGreaterThan(begin);
    const dup = (await client.unary(client.commands, client.commands.submitAndWait, { commands: c }).then(
      () => undefined,
      (e: unknown) => e,
    )) as grpc.ServiceError;
    expect(dup.code).toBe(6); // ALREADY_EXISTS
    expect(dup.details).toMatch(/^DUPLICATE_COMMAND\(10,[^)]*\): /);
    const info = ledgerApiErrorDetails(dup)?.errorInfo;
    expect(info?.reason).toBe('DUPLICATE_COMMAND');
    expect(info?.metadata.existing_submission_id).toBe('grpc-1');
    for await (const r of stream) {
      const completion =
        r.completionResponse.oneofKind === 'completion' ? r.completionResponse.completion : undefined;
      expect(completion).toMatchObject({
        submissionId: 'grpc-1',
        offset: ok.completionOffset,
        updateId: ok.updateId,
        deduplicationPeriod: { oneofKind: 'deduplicationOffset', deduplicationOffset: begin },
      });
      break;
    }
    stream.cancel();
    const bad = (await client
      .unary(client.commands, client.commands.submitAndWait, { commands: commands({ commandId: '' }) })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as grpc.ServiceError;
    expect([bad.code, ledgerApiErrorDetails(bad)?.errorInfo?.reason]).toEqual([3, 'MISSING_FIELD']);
  });
});
