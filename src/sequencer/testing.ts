/**
 * Helpers that build a small synchronizer (genesis topology with a sequencer, a mediator and participants) and
 * start sequencer nodes on it, for tests and benchmarks. Not part of the public entry point.
 */
import type { Logger } from 'pino';
import {
  DeterministicRandom,
  type EncryptionPublicKey,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type SigningPrivateKey,
} from '../crypto/index.js';
import { isWeftError, type WeftError } from '../errors/index.js';
import { type Envelope, EnvelopeKind } from '../generated/weft/sequencer/v1/sequencing.js';
import {
  MediatorId,
  Namespace,
  ParticipantId,
  SequencerId,
  type SynchronizerId,
  UniqueIdentifier,
} from '../identity/index.js';
import { createLogger, type NodeMetrics } from '../observability/index.js';
import type { Storage } from '../storage/index.js';
import { type Clock, sleep, systemClock } from '../time/index.js';
import {
  createGenesis,
  type DynamicSynchronizerParameters,
  SignedTopologyTransaction,
  type TopologyMapping,
  TopologyProcessor,
  TopologyTransaction,
} from '../topology/index.js';
import { type ReceivedEvent, SequencerClient, type SequencerClientOptions } from './client/client.js';
import { type SequencerSettings, sequencerSettings } from './config.js';
import type { ServerTls } from './grpc-server.js';
import type { InProcessSequencers } from './in-process.js';
import { SequencerNode } from './node.js';
import { sequencerTopologyOf } from './topology-adapter.js';

export interface TestMember {
  readonly id: string;
  /** The member's protocol signing key (also its namespace key, for brevity). */
  readonly key: SigningPrivateKey;
}

export interface TestSynchronizer {
  readonly synchronizerId: string;
  /** The first of `sequencers`. */
  readonly sequencer: TestMember;
  /** Distinct sequencers (each its own `SEQ::…` id and key), all active at genesis. */
  readonly sequencers: readonly TestMember[];
  readonly mediator: TestMember;
  readonly participants: readonly TestMember[];
  /** The genesis topology (with the participants' onboarding), processed by every node at `genesisTs`. */
  readonly genesis: readonly Uint8Array[];
  readonly genesisTs: bigint;
  readonly synchronizerIdObject: SynchronizerId;
  /** Keys for further members: deterministic, from the synchronizer's seed. */
  newKey(): SigningPrivateKey;
  newEncryptionKey(): EncryptionPublicKey;
}

/** A participant's own onboarding transactions: root delegation, signing key, trust certificate. */
export function participantOnboarding(
  synchronizerId: SynchronizerId,
  name: string,
  key: SigningPrivateKey,
  encryptionKey: EncryptionPublicKey,
): { readonly id: string; readonly transactions: Uint8Array[] } {
  const namespace = Namespace.fromRootKey(key.publicKey);
  const participant = new ParticipantId(UniqueIdentifier.create(name, namespace));
  const sign = (mapping: TopologyMapping) =>
    SignedTopologyTransaction.sign(TopologyTransaction.create('AddReplace', 1, mapping), [key]).toBytes();
  return {
    id: String(participant),
    transactions: [
      sign({ kind: 'NamespaceDelegation', namespace, target: key.publicKey, restriction: { kind: 'all' } }),
      sign({
        kind: 'OwnerToKeyMapping',
        member: participant,
        signingKeys: [key.publicKey],
        encryptionKeys: [encryptionKey],
      }),
      sign({ kind: 'SynchronizerTrustCertificate', participant, synchronizerId }),
    ],
  };
}

/**
 * A synchronizer with `sequencers` sequencers (default one, named sequencer, sequencer1, …), one mediator and
 * `participants` participants (named p0, p1, …), all onboarded at genesis. The genesis lies `ageMs` in the past of
 * `now` (µs).
 */
export function testSynchronizer(options: {
  readonly seed: string;
  readonly participants: number;
  readonly now: bigint;
  readonly parameters?: Partial<DynamicSynchronizerParameters>;
  readonly ageMs?: number;
  readonly sequencers?: number;
  /** The SequencerSynchronizerState threshold; default 1. */
  readonly sequencerThreshold?: number;
}): TestSynchronizer {
  const random = new DeterministicRandom(options.seed);
  const newKey = () => generateSigningKeyPair(random).privateKey;
  const newEncryptionKey = () => generateEncryptionKeyPair(random).publicKey;
  const owner = newKey();
  const sequencerKey = newKey();
  const mediatorKey = newKey();
  const sequencerId = new SequencerId(
    UniqueIdentifier.create('sequencer', Namespace.fromRootKey(sequencerKey.publicKey)),
  );
  const mediatorId = new MediatorId(
    UniqueIdentifier.create('mediator', Namespace.fromRootKey(mediatorKey.publicKey)),
  );
  const sequencers = [{ id: sequencerId, key: sequencerKey }];
  for (let i = 1; i < (options.sequencers ?? 1); i++) {
    const key = newKey();
    sequencers.push({
      id: new SequencerId(UniqueIdentifier.create(`sequencer${i}`, Namespace.fromRootKey(key.publicKey))),
      key,
    });
  }
  const genesis = createGenesis({
    synchronizerName: 'test',
    owners: [owner],
    sequencers: sequencers.map((s) => ({ id: s.id, namespaceKey: s.key, signingKey: s.key })),
    ...(options.sequencerThreshold ? { sequencerThreshold: options.sequencerThreshold } : {}),
    mediators: [{ id: mediatorId, namespaceKey: mediatorKey, signingKey: mediatorKey }],
    parameters: { topologyChangeDelay: 0n, ...options.parameters },
  });
  const participants = Array.from({ length: options.participants }, (_, i) => {
    const key = newKey();
    return { key, ...participantOnboarding(genesis.synchronizerId, `p${i}`, key, newEncryptionKey()) };
  });
  return {
    synchronizerId: String(genesis.synchronizerId),
    synchronizerIdObject: genesis.synchronizerId,
    sequencer: { id: String(sequencerId), key: sequencerKey },
    sequencers: sequencers.map((s) => ({ id: String(s.id), key: s.key })),
    mediator: { id: String(mediatorId), key: mediatorKey },
    participants: participants.map((p) => ({ id: p.id, key: p.key })),
    genesis: [...genesis.batch, ...participants.flatMap((p) => p.transactions)],
    genesisTs: options.now - BigInt(options.ageMs ?? 1000) * 1000n,
    newKey,
    newEncryptionKey,
  };
}

export interface StartNodeOptions {
  readonly name: string;
  readonly storage: Storage;
  /** Which of the synchronizer's sequencers the node runs as; default the first. */
  readonly sequencer?: TestMember;
  /** The `sequencer` config section as written in a file; defaults for the rest. */
  readonly settings?: SequencerSettings;
  readonly tls?: ServerTls;
  /** Bind address of the public API; default 127.0.0.1. */
  readonly address?: string;
  /** Port of the public API (to restart a node where its clients look for it); default any free one. */
  readonly port?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
  readonly onFatal?: (error: WeftError) => void;
  /** Also serves the public API to this process's nodes without gRPC. */
  readonly inProcess?: InProcessSequencers;
}

/**
 * Starts a sequencer node of `sync` on `storage`, with its own topology store (named after the node) that holds
 * the genesis. Nodes of one sequencer started on the same database form one HA sequencer; nodes of distinct
 * sequencers on one database serve the same order, each signing with its own key.
 */
export async function startSequencerNode(
  sync: TestSynchronizer,
  options: StartNodeOptions,
): Promise<{ node: SequencerNode; topology: TopologyProcessor }> {
  const topology = await TopologyProcessor.create({
    storage: options.storage,
    synchronizerId: sync.synchronizerIdObject,
    storeId: options.name,
  });
  if (topology.lastSequenced === undefined) await topology.process(sync.genesisTs, sync.genesis);
  const node = await SequencerNode.start({
    name: options.name,
    synchronizerId: sync.synchronizerId,
    sequencerId: (options.sequencer ?? sync.sequencer).id,
    signingKey: (options.sequencer ?? sync.sequencer).key,
    storage: options.storage,
    topology: sequencerTopologyOf(topology),
    publicApi: {
      port: options.port ?? 0,
      ...(options.address ? { address: options.address } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.inProcess ? { inProcess: options.inProcess } : {}),
    },
    settings: options.settings ?? sequencerSettings(),
    logger: options.logger ?? createLogger({ level: 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
  });
  return { node, topology };
}

// ---- clients that record what they receive -------------------------------------------------------------

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = systemClock.now() + BigInt(timeoutMs) * 1000n;
  while (!condition()) {
    if (systemClock.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(systemClock, 10);
  }
}

export interface Recorder {
  readonly client: SequencerClient;
  readonly events: ReceivedEvent[];
}

/** Connects `member` to `endpoints` (or `options.connections`) and records every event it receives. */
export async function connect(
  sync: TestSynchronizer,
  member: TestMember,
  endpoints: readonly string[],
  options: Partial<SequencerClientOptions> = {},
): Promise<Recorder> {
  const events: ReceivedEvent[] = [];
  const client = await SequencerClient.connect({
    member: member.id,
    signingKey: member.key,
    endpoints,
    expectedSynchronizerId: sync.synchronizerId,
    sequencerKeys: (_, sequencerId) =>
      sync.sequencers.filter((s) => s.id === sequencerId).map((s) => s.key.publicKey),
    handler: (e) => {
      events.push(e);
    },
    maxBackoffMs: 200,
    ...options,
  });
  return { client, events };
}

export function envelope(text: string, ...members: string[]): Envelope {
  return {
    content: Buffer.from(text),
    recipients: members.map((member) => ({ recipient: { oneofKind: 'member', member } })),
    kind: EnvelopeKind.PROTOCOL,
  };
}

export const texts = (e: ReceivedEvent) => e.envelopes.map((x) => Buffer.from(x.content).toString());

/** The WeftError code `promise` rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<WeftError> {
  try {
    await promise;
  } catch (e) {
    if (isWeftError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

export const soon = (ms = 30_000) => systemClock.now() + BigInt(ms) * 1000n;
