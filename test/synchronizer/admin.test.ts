// The Admin API of a sequencer node, in process on SQLite: bootstrap, status and identity, topology read and
// write, permissioned onboarding, audit logging. The same node code runs in `weft daemon` (multi-process.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AdminClient, AdminErrors } from '../../src/admin-api/index.js';
import { decodeConfig } from '../../src/config/index.js';
import {
  DeterministicRandom,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  SigningPublicKey,
} from '../../src/crypto/index.js';
import { DAEMON_SCHEMAS, type DaemonNode, startDaemonNode } from '../../src/daemon/index.js';
import { isWeftError, type WeftError } from '../../src/errors/index.js';
import { KeyPurpose, NodeKind } from '../../src/generated/weft/admin/v1/node_status_service.js';
import * as pb from '../../src/generated/weft/topology/v1/topology.js';
import { MediatorId, Namespace, ParticipantId, PartyId, UniqueIdentifier } from '../../src/identity/index.js';
import type { NodeIdentity } from '../../src/node/index.js';
import { identityTransactions } from '../../src/node/index.js';
import { createLogger } from '../../src/observability/index.js';
import {
  registerOnboardingTransactions,
  SequencerClient,
  SequencerErrors,
} from '../../src/sequencer/index.js';
import {
  SignedTopologyTransaction,
  TopologyErrors,
  TopologyTransaction,
  topologyBroadcastEnvelope,
} from '../../src/topology/index.js';
import { connectWhenActive, demoParticipant } from './demo-participant.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let nodes = 0;
async function startNode(adminApi: Record<string, unknown> = {}): Promise<{
  node: DaemonNode;
  admin: AdminClient;
  logs: Record<string, unknown>[];
}> {
  const name = `seq${nodes++}`;
  const config = decodeConfig(
    {
      weft: {
        node: {
          name,
          kind: 'sequencer',
          storage: { type: 'sqlite', file: join(dir, `${name}.db`) },
          'public-api': { port: 0 },
          'admin-api': { port: 0, ...adminApi },
        },
      },
    },
    { source: 'test', nodeSchemas: DAEMON_SCHEMAS },
  ).nodes[0]!;
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    node: name,
    destination: new Writable({
      write(chunk, _enc, done) {
        logs.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  });
  const node = await startDaemonNode(config, 'test', { logger });
  cleanups.push(() => node.runtime.stop());
  const admin = new AdminClient(node.node.endpoints().find((e) => e.api === 'admin-api')!.url);
  cleanups.push(() => admin.close());
  return { node, admin, logs };
}

async function rejection(promise: Promise<unknown>): Promise<WeftError> {
  try {
    await promise;
  } catch (e) {
    if (isWeftError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('the Admin API of a sequencer node', () => {
  it('reports a node without synchronizer, bootstraps it once, and refuses another name', async () => {
    const { node, admin, logs } = await startNode();
    const before = await admin.status();
    expect(before).toMatchObject({
      kind: NodeKind.SEQUENCER,
      synchronizerId: '',
      ready: false,
      version: 'test',
    });
    expect(before.checks.find((c) => c.name === 'sequencer')).toMatchObject({ ok: false });
    expect(before.checks.find((c) => c.name === 'sequencer')!.detail).toMatch(/weft admin bootstrap/);
    const publicApi = node.node.endpoints().find((e) => e.api === 'public-api')!.url;
    // The public API is bound already and says why it cannot serve yet.
    const early = await rejection(registerOnboardingTransactions([publicApi], [new Uint8Array([1])]));
    expect(early.message).toContain('has no synchronizer yet');
    const notYet = await rejection(admin.listTopology());
    expect(notYet.code).toBe(AdminErrors.ADMIN_NODE_NOT_INITIALISED.code);

    const boot = await admin.bootstrap('demo');
    expect(boot.alreadyBootstrapped).toBe(false);
    expect(boot.synchronizerId).toMatch(/^demo::1220[0-9a-f]{64}$/);
    expect(boot.sequencerId).toBe(String(node.runtime.identity.member));
    expect((await admin.bootstrap('demo')).alreadyBootstrapped).toBe(true);
    const other = await rejection(admin.bootstrap('other'));
    expect(other.code).toBe(AdminErrors.ADMIN_ALREADY_BOOTSTRAPPED.code);
    expect(other.message).toContain(boot.synchronizerId);

    const after = await admin.status();
    expect(after).toMatchObject({ synchronizerId: boot.synchronizerId, ready: true, protocolVersion: 1 });
    expect(after.endpoints.map((e) => e.api)).toEqual(['admin-api', 'public-api', 'monitoring']);
    const identity = await admin.identity();
    const id = node.runtime.identity;
    expect(identity.namespace).toBe(String(id.namespace));
    expect(identity.keys.map((k) => [k.purpose, k.fingerprint])).toEqual([
      [KeyPurpose.NAMESPACE, id.namespaceKey.publicKey.fingerprint.value],
      [KeyPurpose.SIGNING, id.signingKey.publicKey.fingerprint.value],
      [KeyPurpose.ENCRYPTION, id.encryptionKey.publicKey.fingerprint.value],
    ]);
    // Every call left one audit line: method, caller, status code.
    const audit = logs.filter((l) => l.component === 'admin-api');
    expect(audit.map((l) => [l.method, l.status])).toEqual([
      ['GetStatus', 'OK'],
      ['ListTransactions', 'FAILED_PRECONDITION'],
      ['Bootstrap', 'OK'],
      ['Bootstrap', 'OK'],
      ['Bootstrap', 'ALREADY_EXISTS'],
      ['GetStatus', 'OK'],
      ['GetIdentity', 'OK'],
    ]);
    expect(audit[4]).toMatchObject({ code: 'ADMIN_ALREADY_BOOTSTRAPPED' });
    expect(audit.every((l) => typeof l.peer === 'string' && typeof l.durationMs === 'number')).toBe(true);
  });

  it('lists the genesis by type and filter, and changes parameters by proposal', async () => {
    const { node, admin } = await startNode();
    const { synchronizerId } = await admin.bootstrap('lists', {
      onboardingRestriction: pb.OnboardingRestriction.UNSPECIFIED,
      topologyChangeDelayMicros: 50_000n,
    });
    const all = await admin.listTopology();
    expect(all.synchronizerId).toBe(synchronizerId);
    expect(all.transactions.map((t) => t.description.split('(')[0])).toEqual([
      'NamespaceDelegation',
      'DecentralizedNamespaceDefinition',
      'OwnerToKeyMapping',
      'SequencerSynchronizerState',
      'SynchronizerParametersState',
    ]);
    const sequencers = await admin.listTopology({
      mappingCode: pb.TopologyMappingCode.SEQUENCER_SYNCHRONIZER_STATE,
    });
    expect(sequencers.transactions.map((t) => t.description)).toEqual([
      `SequencerSynchronizerState(${synchronizerId})`,
    ]);
    const keys = await admin.listTopology({ filter: String(node.runtime.identity.member).slice(0, 20) });
    expect(keys.transactions.map((t) => t.description)).toEqual([
      `OwnerToKeyMapping(${node.runtime.identity.member})`,
      `SequencerSynchronizerState(${synchronizerId})`,
    ]);
    expect((await admin.listTopology({ filter: 'nothing-like-this' })).transactions).toEqual([]);

    const [current] = (
      await admin.listTopology({ mappingCode: pb.TopologyMappingCode.SYNCHRONIZER_PARAMETERS_STATE })
    ).transactions;
    const params = current!.mapping!.mapping;
    if (params.oneofKind !== 'synchronizerParametersState') throw new Error('unexpected mapping');
    const changed = await admin.propose({
      mapping: {
        mapping: {
          oneofKind: 'synchronizerParametersState',
          synchronizerParametersState: {
            ...params.synchronizerParametersState,
            parameters: { ...params.synchronizerParametersState.parameters!, maxRequestSize: 2 << 20 },
          },
        },
      },
      operation: pb.TopologyChangeOp.ADD_REPLACE,
    });
    expect(changed.fullyAuthorized).toBe(true);
    expect(changed.transaction!.serial).toBe(2);
    // The call returned once the change was in force.
    const now = BigInt(Date.now()) * 1000n;
    expect(changed.transaction!.validFrom).toBeLessThan(now);
    const asOfGenesis = await admin.listTopology({
      mappingCode: pb.TopologyMappingCode.SYNCHRONIZER_PARAMETERS_STATE,
      asOf: current!.validFrom + 1n,
    });
    expect(asOfGenesis.transactions.map((t) => t.serial)).toEqual([1]);
    const head = await admin.listTopology({
      mappingCode: pb.TopologyMappingCode.SYNCHRONIZER_PARAMETERS_STATE,
    });
    expect(head.transactions.map((t) => t.serial)).toEqual([2]);
    const invalid = await rejection(
      admin.propose({
        mapping: {
          mapping: {
            oneofKind: 'partyToParticipant',
            partyToParticipant: {
              party: String(new PartyId(UniqueIdentifier.create('nobody', node.runtime.identity.namespace))),
              threshold: 2,
              participants: [],
            },
          },
        },
        operation: pb.TopologyChangeOp.ADD_REPLACE,
      }),
    );
    expect(invalid.code).toBe(TopologyErrors.TOPOLOGY_INVALID_MAPPING.code);
  });

  it('admits participants on a restricted synchronizer only once allow-listed, until revoked', async () => {
    const { node, admin } = await startNode();
    const { synchronizerId } = await admin.bootstrap('permissioned', {
      onboardingRestriction: pb.OnboardingRestriction.RESTRICTED_OPEN,
      topologyChangeDelayMicros: 50_000n,
    });
    const publicApi = node.node.endpoints().find((e) => e.api === 'public-api')!.url;
    const identity = await admin.identity();
    const sequencerKey = SigningPublicKey.fromRaw(
      identity.keys.find((k) => k.purpose === KeyPurpose.SIGNING)!.publicKey,
    );
    const alice = demoParticipant('alice', synchronizerId);
    const refused = await rejection(registerOnboardingTransactions([publicApi], alice.onboarding));
    expect(refused.code).toBe(SequencerErrors.SEQUENCER_ONBOARDING_REJECTED.code);
    expect(refused.message).toContain(`participant ${alice.id} is not permissioned`);

    const allowed = await admin.setParticipantState({ participantId: alice.id });
    expect(allowed.fullyAuthorized).toBe(true);
    expect(allowed.transaction!.description).toBe(
      `ParticipantSynchronizerPermission(${alice.id}, Submission)`,
    );
    await registerOnboardingTransactions([publicApi], alice.onboarding);
    const options = {
      member: alice.id,
      signingKey: alice.signingKey,
      endpoints: [publicApi],
      sequencerKeys: () => [sequencerKey],
      handler: () => {},
      maxBackoffMs: 100,
    };
    const client = await connectWhenActive(options);
    cleanups.push(() => client.close());
    expect(client.state).toBe('connected');

    // Authorize: alice proposes to host a party of the synchronizer owner; the owner adds its signature.
    const party = new PartyId(UniqueIdentifier.create('operator', node.runtime.identity.namespace));
    const proposal = SignedTopologyTransaction.sign(
      TopologyTransaction.create('AddReplace', 1, {
        kind: 'PartyToParticipant',
        party,
        threshold: 1,
        participants: [{ participant: ParticipantId.parse(alice.id), permission: 'Submission' }],
      }),
      [alice.namespaceKey],
      { proposal: true },
    );
    await client.send({
      envelopes: [topologyBroadcastEnvelope(synchronizerId, [proposal.toBytes()])],
      maxSequencingTime: BigInt(Date.now() + 30_000) * 1000n,
    });
    const pending = async () =>
      (
        await admin.listTopology({
          mappingCode: pb.TopologyMappingCode.PARTY_TO_PARTICIPANT,
          includeProposals: true,
        })
      ).transactions;
    while ((await pending()).length === 0) await new Promise((r) => setTimeout(r, 20));
    const [listed] = await pending();
    expect(listed).toMatchObject({ proposal: true, hash: proposal.hash.toHex() });
    const authorized = await admin.authorize(listed!.hash);
    expect(authorized.fullyAuthorized).toBe(true);
    expect((await pending()).map((t) => t.proposal)).toEqual([false]);

    const revoked = await admin.revokeParticipant(alice.id);
    expect(revoked.transaction!.operation).toBe(pb.TopologyChangeOp.REMOVE);
    await client.close();
    const again = await rejection(SequencerClient.connect(options));
    expect(again.code).toBe(SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code);
    expect(again.message).toContain(alice.id);
    const twice = await rejection(admin.revokeParticipant(alice.id));
    expect(twice.code).toBe(TopologyErrors.TOPOLOGY_NOT_FOUND.code);
    const malformed = await rejection(admin.setParticipantState({ participantId: 'PAR::alice' }));
    expect(malformed.message).toMatch(/PAR::alice.*has no '::'/);
  });
});

describe('the Admin API message size limit', () => {
  it('refuses an oversized message on either side with ADMIN_MESSAGE_TOO_LARGE naming the limit', async () => {
    const { node, admin } = await startNode({ 'max-message-bytes': 4096 });
    const tooLarge = new Uint8Array(10_000);
    const received = await rejection(admin.uploadDar(tooLarge));
    expect(received.code).toBe(AdminErrors.ADMIN_MESSAGE_TOO_LARGE.code);
    expect(received.message).toMatch(/exceeds the limit of 4096 bytes/);
    expect((await admin.status()).kind).toBe(NodeKind.SEQUENCER);

    const url = node.node.endpoints().find((e) => e.api === 'admin-api')!.url;
    const small = new AdminClient(url, { maxMessageBytes: 2048 });
    cleanups.push(() => small.close());
    const sent = await rejection(small.uploadDar(new Uint8Array(3000)));
    expect(sent.code).toBe(AdminErrors.ADMIN_MESSAGE_TOO_LARGE.code);
    expect(sent.message).toMatch(/exceeds the limit of 2048 bytes/);
  });
});

describe('onboarding a mediator through the Admin API', () => {
  /** A mediator's identity, as a mediator node would hold it. */
  function mediatorIdentity(name: string): NodeIdentity {
    const random = new DeterministicRandom(name);
    const namespaceKey = generateSigningKeyPair(random);
    const namespace = Namespace.fromRootKey(namespaceKey.publicKey);
    const uid = UniqueIdentifier.create(name, namespace);
    return {
      uid,
      namespace,
      member: new MediatorId(uid),
      namespaceKey,
      signingKey: generateSigningKeyPair(random),
      encryptionKey: generateEncryptionKeyPair(random),
    };
  }

  it('refuses what is not exactly one mediator identity, checks the batch first, and adds a mediator once', async () => {
    const { admin } = await startNode();
    const other = await startNode();
    await admin.bootstrap('medsync');
    const invalid = await rejection(admin.addMediator(await other.admin.identityTransactions()));
    expect(invalid.code).toBe('INVALID_ARGUMENT');
    expect(invalid.message).toMatch(
      /^the identity transactions are those of SEQ::seq\d+::1220[0-9a-f]+, not of a mediator/,
    );

    const med = mediatorIdentity('med1');
    const [delegation, keys] = identityTransactions(med);
    // Without its namespace delegation, the key mapping is unauthorized: refused before anything is sequenced.
    const unauthorized = await rejection(
      admin.addMediator({ memberId: String(med.member), signedTransactions: [keys!] }),
    );
    expect(unauthorized.code).toBe(TopologyErrors.TOPOLOGY_UNAUTHORIZED.code);
    expect((await admin.listTopology({ filter: String(med.member) })).transactions).toEqual([]);

    const identity = { memberId: String(med.member), signedTransactions: [delegation!, keys!] };
    const added = await admin.addMediator(identity);
    expect(added.alreadyActive).toBe(false);
    expect(added.results.map((r) => r.transaction!.description)).toEqual([
      `NamespaceDelegation(${med.namespace} -> ${med.namespace})`,
      `OwnerToKeyMapping(${med.member})`,
      expect.stringMatching(/^MediatorSynchronizerState\(medsync::1220[0-9a-f]+, group 0\)$/),
    ]);
    expect(added.results.every((r) => r.fullyAuthorized)).toBe(true);
    expect(await admin.addMediator(identity)).toMatchObject({ alreadyActive: true, results: [] });
  });
});
