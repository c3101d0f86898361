/**
 * A small network for mediator tests and benchmarks: a real sequencer node over gRPC on loopback, the mediator,
 * and simulated participants that craft confirmation requests and responses with the protocol helpers. Not part of
 * the public entry point.
 */
import type { Logger } from 'pino';
import {
  DeterministicRandom,
  type Hash,
  type RandomSource,
  type SigningPrivateKey,
} from '../crypto/index.js';
import type { LocalVerdict } from '../generated/weft/protocol/v1/confirmation_response.js';
import type { ConfirmationResultMessage } from '../generated/weft/protocol/v1/confirmation_result.js';
import type { TransactionTree } from '../generated/weft/protocol/v1/transaction_tree.js';
import { type Envelope, EnvelopeKind } from '../generated/weft/sequencer/v1/sequencing.js';
import { ParticipantId, PartyId, UniqueIdentifier } from '../identity/index.js';
import { createLogger, NodeMetrics } from '../observability/index.js';
import {
  buildTransactionTree,
  confirmationRequestEnvelopes,
  confirmationResponsesEnvelope,
  decodeProtocolMessage,
  hashTree,
  informeeTree,
  openConfirmationResult,
  signConfirmationResponses,
  signRootHash,
  type ViewInput,
} from '../protocol/index.js';
import type { ReceivedEvent, SequencerNode } from '../sequencer/index.js';
import {
  connect,
  type Recorder,
  startSequencerNode,
  type TestSynchronizer,
  testSynchronizer,
  waitFor,
} from '../sequencer/testing.js';
import { openStorage, type Storage } from '../storage/index.js';
import { sleep, systemClock } from '../time/index.js';
import {
  type DynamicSynchronizerParameters,
  SignedTopologyTransaction,
  TopologyProcessor,
  TopologyTransaction,
} from '../topology/index.js';
import type { MediatorSettings } from './config.js';
import { MediatorNode } from './node.js';

export const soon = (ms = 30_000): bigint => systemClock.now() + BigInt(ms) * 1000n;

export interface SubmittedRequest {
  readonly requestId: bigint;
  readonly rootHash: Hash;
}

export interface RequestSpec {
  readonly views: readonly ViewInput[];
  /** Who gets a root hash message. */
  readonly informeeParticipants: readonly string[];
  /** Changes the informee tree before it is signed (malformed requests). */
  readonly tree?: (informee: TransactionTree, full: TransactionTree) => TransactionTree;
  /** Signs the root hash with another key. */
  readonly signer?: SigningPrivateKey;
  /** Changes the batch before it is sent. */
  readonly envelopes?: (envelopes: Envelope[]) => Envelope[];
  readonly traceparent?: string;
}

export interface ResponseSpec {
  readonly position: readonly number[];
  readonly verdict: LocalVerdict;
  readonly parties: readonly string[];
}

/** A participant simulated by a sequencer client: it sends what a test crafts and records what it receives. */
export class SimParticipant {
  #read = 0;
  readonly #verdicts = new Map<bigint, ConfirmationResultMessage[]>();

  constructor(
    readonly net: MediatorTestNetwork,
    readonly id: string,
    readonly key: SigningPrivateKey,
    readonly recorder: Recorder,
  ) {}

  /** The participant's admin party. */
  get party(): string {
    return String(ParticipantId.parse(this.id).adminParty);
  }

  get events(): ReceivedEvent[] {
    return this.recorder.events;
  }

  async submit(spec: RequestSpec): Promise<SubmittedRequest> {
    const { sync } = this.net;
    const full = buildTransactionTree(
      {
        submitterMetadata: {
          actAs: [this.party],
          userId: 'test',
          commandId: `cmd-${this.net.nextId()}`,
          submissionId: '',
          submittingParticipant: this.id,
          maxSequencingTime: soon(),
        },
        commonMetadata: {
          synchronizerId: sync.synchronizerId,
          mediatorGroup: 0,
          requestUuid: `uuid-${this.net.nextId()}`,
        },
        participantMetadata: { ledgerTime: 0n, preparationTime: 0n, workflowId: '' },
        views: spec.views,
      },
      this.net.random,
    );
    const rootHash = hashTree(full).rootHash;
    const tree = spec.tree ? spec.tree(informeeTree(full), full) : informeeTree(full);
    const envelopes = confirmationRequestEnvelopes({
      informeeMessage: {
        informeeTree: tree,
        submittingParticipantSignature: signRootHash(spec.signer ?? this.key, rootHash),
      },
      rootHash,
      synchronizerId: sync.synchronizerId,
      mediatorGroup: 0,
      informeeParticipants: spec.informeeParticipants,
      views: [],
    });
    const handle = await this.recorder.client.send({
      envelopes: spec.envelopes ? spec.envelopes(envelopes) : envelopes,
      maxSequencingTime: soon(),
      ...(spec.traceparent ? { traceparent: spec.traceparent } : {}),
    });
    const outcome = await handle.outcome;
    if (outcome.kind !== 'delivered') throw new Error(`request not sequenced: ${outcome.reason}`);
    return { requestId: outcome.timestamp, rootHash };
  }

  /** Sends signed responses; resolves with their sequencing time. */
  async respond(
    request: SubmittedRequest,
    responses: readonly ResponseSpec[],
    options: { readonly sender?: string; readonly key?: SigningPrivateKey; readonly tamper?: boolean } = {},
  ): Promise<bigint> {
    const signed = signConfirmationResponses(options.key ?? this.key, {
      requestId: request.requestId,
      rootHash: request.rootHash.toMultihash(),
      synchronizerId: this.net.sync.synchronizerId,
      sender: options.sender ?? this.id,
      responses: responses.map((r) => ({
        viewPosition: [...r.position],
        localVerdict: r.verdict,
        confirmingParties: [...r.parties],
      })),
    });
    if (options.tamper) {
      signed.content = Uint8Array.from(signed.content);
      signed.content[signed.content.length - 1]! ^= 1;
    }
    const handle = await this.recorder.client.send({
      envelopes: [confirmationResponsesEnvelope(signed, 0)],
      maxSequencingTime: soon(),
    });
    const outcome = await handle.outcome;
    if (outcome.kind !== 'delivered') throw new Error(`response not sequenced: ${outcome.reason}`);
    return outcome.timestamp;
  }

  /** Every verdict received for the request, opened with the mediator's key. */
  verdicts(requestId: bigint): ConfirmationResultMessage[] {
    // Events are read once, as they come: tests and benchmarks poll this often.
    for (; this.#read < this.events.length; this.#read++) {
      for (const env of this.events[this.#read]!.envelopes) {
        if (env.kind !== EnvelopeKind.PROTOCOL) continue;
        const message = decodeProtocolMessage(env);
        if (message.oneofKind !== 'confirmationResult') continue;
        const result = openConfirmationResult(message.confirmationResult, [
          this.net.sync.mediator.key.publicKey,
        ]);
        this.#verdicts.set(result.requestId, [...(this.#verdicts.get(result.requestId) ?? []), result]);
      }
    }
    return this.#verdicts.get(requestId) ?? [];
  }

  async verdict(requestId: bigint, timeoutMs = 15_000): Promise<ConfirmationResultMessage> {
    await waitFor(
      `the verdict on request ${requestId} at ${this.id}`,
      () => this.verdicts(requestId).length > 0,
      timeoutMs,
    );
    return this.verdicts(requestId)[0]!;
  }
}

export interface MediatorTestNetwork {
  readonly sync: TestSynchronizer;
  readonly sequencer: SequencerNode;
  readonly participants: readonly SimParticipant[];
  /** A party hosted on p0, p1 and p2 with Confirmation permission and threshold 2. */
  readonly consortium: string;
  readonly random: RandomSource;
  nextId(): number;
  /** Starts (or restarts) the mediator on `storage`, whose topology store gets the genesis on first start. */
  startMediator(
    storage: Storage,
    options?: {
      readonly metrics?: NodeMetrics;
      readonly logger?: Logger;
      readonly settings?: MediatorSettings;
    },
  ): Promise<MediatorNode>;
  close(): Promise<void>;
}

/**
 * A synchronizer with `participants` simulated participants (at least three), a consortium party hosted 2-of-3 on
 * p0..p2, and a sequencer node on an in-memory SQLite database.
 */
export async function mediatorTestNetwork(options: {
  readonly seed: string;
  readonly participants?: number;
  readonly parameters?: Partial<DynamicSynchronizerParameters>;
}): Promise<MediatorTestNetwork> {
  const base = testSynchronizer({
    seed: options.seed,
    participants: Math.max(3, options.participants ?? 3),
    now: systemClock.now(),
    ...(options.parameters ? { parameters: options.parameters } : {}),
  });
  const [p0, p1, p2] = [0, 1, 2].map((i) => base.participants[i]!);
  const party = new PartyId(UniqueIdentifier.create('consortium', ParticipantId.parse(p0!.id).namespace));
  const hosting = SignedTopologyTransaction.sign(
    TopologyTransaction.create('AddReplace', 1, {
      kind: 'PartyToParticipant',
      party,
      threshold: 2,
      participants: [p0!, p1!, p2!].map((p) => ({
        participant: ParticipantId.parse(p.id),
        permission: 'Confirmation' as const,
      })),
    }),
    [p0!.key, p1!.key, p2!.key],
  ).toBytes();
  const sync: TestSynchronizer = { ...base, genesis: [...base.genesis, hosting] };
  const sequencerStorage = await openStorage({ kind: 'sqlite', path: ':memory:' });
  const { node: sequencer } = await startSequencerNode(sync, { name: 'seq', storage: sequencerStorage });
  const counter = { n: 0 };
  const random = new DeterministicRandom(`${options.seed}-requests`);
  const mediators: MediatorNode[] = [];
  const net: MediatorTestNetwork = {
    sync,
    sequencer,
    participants: [],
    consortium: String(party),
    random,
    nextId: () => counter.n++,
    async startMediator(storage, o = {}) {
      const topology = await TopologyProcessor.create({
        storage,
        synchronizerId: sync.synchronizerIdObject,
        storeId: 'mediator',
      });
      if (topology.lastSequenced === undefined) await topology.process(sync.genesisTs, sync.genesis);
      const node = await MediatorNode.start({
        mediatorId: sync.mediator.id,
        synchronizerId: sync.synchronizerId,
        signingKey: sync.mediator.key,
        storage,
        topology,
        sequencer: { endpoints: [sequencer.endpoint], maxBackoffMs: 200 },
        logger: o.logger ?? createLogger({ level: 'silent' }),
        metrics: o.metrics ?? new NodeMetrics({ defaultMetrics: false }),
        ...(o.settings ? { settings: o.settings } : {}),
      });
      mediators.push(node);
      return node;
    },
    async close() {
      for (const m of mediators) await m.stop().catch(() => {});
      for (const p of net.participants) await p.recorder.client.close();
      await sequencer.stop();
      await sequencerStorage.close();
    },
  };
  const participants: SimParticipant[] = [];
  for (const p of sync.participants) {
    participants.push(new SimParticipant(net, p.id, p.key, await connect(sync, p, [sequencer.endpoint])));
  }
  (net.participants as SimParticipant[]).push(...participants);
  return net;
}

/** Waits until `condition` (which may be async) holds, polling every 10 ms. */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = systemClock.now() + BigInt(timeoutMs) * 1000n;
  while (!(await condition())) {
    if (systemClock.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(systemClock, 10);
  }
}

/** The value of a counter or gauge of `metrics` (summed over series matching `labels`). */
export async function metricValue(
  metrics: NodeMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(`weft_${name}`);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}
