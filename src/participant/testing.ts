/**
 * A network for participant tests and benchmarks: a real sequencer node and mediator node on loopback gRPC, and
 * participant nodes each with their own storage and keys, all in this process. Not part of the public entry point.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PING_DAR } from '../daml/dar/testing.js';
import {
  type ActionNode,
  type Command,
  contractStoreOf,
  createdContract,
  type Engine,
  type FatContract,
  forEachNode,
  type Transaction,
  type TransactionMetadata,
} from '../daml/index.js';
import { MediatorNode } from '../mediator/index.js';
import { createLogger, type Logger } from '../observability/index.js';
import type { SequencerNode, SequencerSettings, TransportOptions } from '../sequencer/index.js';
import { startSequencerNode, type TestSynchronizer, testSynchronizer } from '../sequencer/testing.js';
import { openStorage, type Storage, type StorageConfig } from '../storage/index.js';
import { systemClock } from '../time/index.js';
import { type DynamicSynchronizerParameters, TopologyProcessor } from '../topology/index.js';
import { absolutizeTransaction } from './contracts.js';
import { ParticipantNode, type ParticipantNodeOptions } from './node.js';
import type { CommandRow } from './store.js';

export interface StartedParticipant {
  readonly node: ParticipantNode;
  readonly storage: Storage;
  readonly config: StorageConfig;
}

export interface ParticipantTestNetwork {
  readonly sync: TestSynchronizer;
  /** The first sequencer node. */
  readonly sequencer: SequencerNode;
  /** Every sequencer node (several share one database: one HA sequencer). */
  readonly sequencers: readonly SequencerNode[];
  /** The public API of every sequencer node; the mediator and participants connect to all (`connect_multi`). */
  readonly endpoints: readonly string[];
  /** The running mediator (replaced by {@link startMediator}). */
  readonly mediator: MediatorNode;
  readonly sequencerStorage: Storage;
  readonly mediatorStorage: Storage;
  readonly participants: StartedParticipant[];
  /**
   * Starts a participant on `config` (default: a new SQLite file) and connects it. With the config of a stopped
   * participant, restarts it.
   */
  startParticipant(
    name: string,
    options?: {
      config?: StorageConfig;
      node?: Partial<ParticipantNodeOptions>;
      /** Default: every sequencer node's endpoint. */
      endpoints?: readonly string[];
      /** How the participant reaches the sequencer; default gRPC. */
      transport?: TransportOptions;
    },
  ): Promise<StartedParticipant>;
  /** Stops the mediator (`kill`: as if its process died); its storage stays open for a restart. */
  stopMediator(o?: { kill?: boolean }): Promise<void>;
  /** Starts the mediator again on its storage; it resumes from its cursor. */
  startMediator(): Promise<MediatorNode>;
  /** Stops a participant and closes its storage (`kill`: without writing what is pending). */
  stopParticipant(p: StartedParticipant, o?: { kill?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function participantTestNetwork(o: {
  readonly seed: string;
  readonly parameters?: Partial<DynamicSynchronizerParameters>;
  /** Storage of the sequencer and the mediator; default SQLite files in a temporary directory. */
  readonly synchronizerStorage?: (name: string) => StorageConfig;
  /** The sequencer's `sequencer` config section. */
  readonly sequencerSettings?: SequencerSettings;
  /** Sequencer nodes sharing the sequencer's database (PostgreSQL for more than one); default 1. */
  readonly sequencerNodes?: number;
  readonly logger?: Logger;
}): Promise<ParticipantTestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-participant-'));
  const sqlite = (name: string): StorageConfig => ({ kind: 'sqlite', path: join(dir, `${name}.sqlite`) });
  const storageOf = o.synchronizerStorage ?? sqlite;
  const logger = o.logger ?? createLogger({ level: 'silent' });
  const sync = testSynchronizer({
    seed: o.seed,
    participants: 0,
    now: systemClock.now(),
    ...(o.parameters ? { parameters: o.parameters } : {}),
  });
  const sequencerConfig = storageOf('sequencer');
  const sequencerStorage = await openStorage(sequencerConfig);
  const nodeStorages: Storage[] = [];
  const sequencers: SequencerNode[] = [];
  for (let i = 0; i < (o.sequencerNodes ?? 1); i++) {
    const storage = i === 0 ? sequencerStorage : await openStorage(sequencerConfig);
    if (i > 0) nodeStorages.push(storage);
    const { node } = await startSequencerNode(sync, {
      name: `sequencer-${i}`,
      storage,
      logger,
      ...(o.sequencerSettings ? { settings: o.sequencerSettings } : {}),
    });
    sequencers.push(node);
  }
  const sequencer = sequencers[0]!;
  const endpoints = sequencers.map((n) => n.endpoint);
  const mediatorStorage = await openStorage(storageOf('mediator'));
  const mediatorTopology = await TopologyProcessor.create({
    storage: mediatorStorage,
    synchronizerId: sync.synchronizerIdObject,
    storeId: 'mediator',
  });
  await mediatorTopology.process(sync.genesisTs, sync.genesis);
  const startMediator = async () =>
    MediatorNode.start({
      mediatorId: sync.mediator.id,
      synchronizerId: sync.synchronizerId,
      signingKey: sync.mediator.key,
      storage: mediatorStorage,
      topology: await TopologyProcessor.create({
        storage: mediatorStorage,
        synchronizerId: sync.synchronizerIdObject,
        storeId: 'mediator',
      }),
      sequencer: { endpoints, maxBackoffMs: 200 },
      logger,
    });
  let mediator: MediatorNode | undefined = await startMediator();
  const participants: StartedParticipant[] = [];
  const pingDar = readFileSync(PING_DAR);
  const net: ParticipantTestNetwork = {
    sync,
    sequencer,
    sequencers,
    endpoints,
    get mediator() {
      return mediator!;
    },
    sequencerStorage,
    mediatorStorage,
    participants,
    async startParticipant(name, options = {}) {
      const config = options.config ?? sqlite(name);
      const storage = await openStorage(config);
      const node = await ParticipantNode.start({
        name,
        storage,
        logger: logger.child({ node: name }),
        adminWorkflowDar: pingDar,
        ...options.node,
      });
      await node.connect({
        synchronizerId: sync.synchronizerId,
        endpoints: options.endpoints ?? endpoints,
        maxBackoffMs: 200,
        ...(options.transport ? { transport: options.transport } : {}),
      });
      const started = { node, storage, config };
      participants.push(started);
      return started;
    },
    async stopMediator(so = {}) {
      if (so.kill) await mediator?.kill();
      else await mediator?.stop();
      mediator = undefined;
    },
    async startMediator() {
      mediator = await startMediator();
      return mediator;
    },
    async stopParticipant(p, so = {}) {
      if (so.kill) await p.node.kill();
      else await p.node.stop();
      await p.storage.close();
      participants.splice(participants.indexOf(p), 1);
    },
    async close() {
      for (const p of [...participants]) await net.stopParticipant(p).catch(() => {});
      await mediator?.stop().catch(() => {});
      for (const n of sequencers) await n.stop().catch(() => {});
      await mediatorStorage.close();
      for (const st of nodeStorages) await st.close();
      await sequencerStorage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return net;
}

// ---- the Splice test token (splice-test-token-v1) ----------------------------------------------------------------

export const TOKEN = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1';
const TRANSFER_INSTRUCTION =
  '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferInstruction';
const noMeta = { values: {} };

/** Commands of the token workflow: rules, minting, transfer offers and their acceptance. */
export const tokenCommands = {
  rules: (admin: string) => ({
    CreateCommand: { templateId: `${TOKEN}:TokenRules`, createArguments: { admin } },
  }),
  /** A holding of `amount` TOK for `owner`; `memo` goes into its metadata (privacy tests look for it). */
  mint: (admin: string, owner: string, amount: string, memo = '') => ({
    CreateCommand: {
      templateId: `${TOKEN}:Token`,
      createArguments: {
        holding: {
          owner,
          instrumentId: { admin, id: 'TOK' },
          amount,
          lock: null,
          meta: memo === '' ? noMeta : { values: { memo } },
        },
      },
    },
  }),
  /** Offers `amount` of the `inputs` holdings from `sender` to `receiver` (act as the sender, read as the admin). */
  offer: (o: {
    rules: string;
    admin: string;
    sender: string;
    receiver: string;
    amount: string;
    inputs: readonly string[];
    memo?: string;
  }) => ({
    ExerciseCommand: {
      templateId: `${TOKEN}:TokenRules`,
      contractId: o.rules,
      choice: 'TransferFactory_Transfer',
      choiceArgument: {
        expectedAdmin: o.admin,
        transfer: {
          sender: o.sender,
          receiver: o.receiver,
          amount: o.amount,
          instrumentId: { admin: o.admin, id: 'TOK' },
          requestedAt: '2025-01-01T00:00:00Z',
          executeBefore: '2100-01-01T00:00:00Z',
          inputHoldingCids: o.inputs,
          meta: o.memo ? { values: { memo: o.memo } } : noMeta,
        },
        extraArgs: { context: noMeta, meta: noMeta },
      },
    },
  }),
  /** The receiver accepts (or rejects, or the sender withdraws) an offer. */
  instruction: (
    offer: string,
    choice: 'TransferInstruction_Accept' | 'TransferInstruction_Reject' | 'TransferInstruction_Withdraw',
  ) => ({
    ExerciseCommand: {
      templateId: TRANSFER_INSTRUCTION,
      contractId: offer,
      choice,
      choiceArgument: { extraArgs: { context: noMeta, meta: noMeta } },
    },
  }),
};

// ---- a ledger of the engine alone, with the participant's absolute contract ids -----------------------------------

export interface ModelSubmission {
  readonly tx: Transaction;
  readonly metadata: TransactionMetadata;
  /** The id of the contract created by node `i`. */
  created(i: number): string;
}

/**
 * Interprets commands with the engine and absolutizes contract ids as a participant does, at a fixed ledger time,
 * remembering every contract created (all visible to everybody): for tests of views and validation without a network.
 */
export class ModelLedger {
  readonly contracts: FatContract[] = [];
  #n = 0;

  constructor(
    readonly engine: Engine,
    readonly ledgerTime: bigint,
  ) {}

  async submit(actAs: string[], commands: unknown[]): Promise<ModelSubmission> {
    const r = await this.engine.submit(
      {
        actAs,
        commands: commands as Command[],
        ledgerTime: this.ledgerTime,
        submissionSeed: new Uint8Array(32).fill(++this.#n),
        participantId: 'participant',
      },
      contractStoreOf(this.contracts),
    );
    const tx = absolutizeTransaction(r.transaction, this.ledgerTime);
    forEachNode(tx, (_id, node, rolledBack) => {
      if (node.tag === 'Create' && !rolledBack) this.contracts.push(createdContract(node, this.ledgerTime));
    });
    return { tx, metadata: r.metadata, created: (i) => (tx.nodes.get(i) as ActionNode).contractId.coid };
  }
}

/** A command in flight on synchronizer `sync`, as the store tests register it. */
export const commandRow = (changeId: string, messageId: string): CommandRow => ({
  changeId,
  commandId: `cmd-${changeId}`,
  userId: 'u',
  submissionId: '',
  actAs: ['alice'],
  messageId,
  synchronizerId: 'sync',
  maxSequencingTime: 100n,
  submittedAt: 10n,
  requestId: undefined,
  completionOffset: undefined,
  completedAt: undefined,
  deduplicationPeriod: { kind: 'offset', offset: 3n },
});
