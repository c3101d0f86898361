import { WeftError } from '../errors/index.js';
import { TopologyTransactionsBroadcast } from '../generated/weft/topology/v1/topology.js';
import { type MediatorId, SequencerId, SynchronizerId } from '../identity/index.js';
import type { NodeIdentity } from '../node/index.js';
import type { Migration, Storage } from '../storage/index.js';
import {
  createGenesis,
  type DynamicSynchronizerParameters,
  type MemberIdentity,
  SignedTopologyTransaction,
} from '../topology/index.js';
import { AdminErrors } from './errors.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'synchronizer genesis',
    up: `CREATE TABLE admin_genesis (
           id BIGINT PRIMARY KEY NOT NULL,
           synchronizer_name TEXT NOT NULL,
           synchronizer_id TEXT NOT NULL,
           genesis_ts BIGINT NOT NULL,
           genesis BYTEA NOT NULL
         )`,
  },
];

/** The genesis topology of the synchronizer a sequencer belongs to. */
export interface SynchronizerGenesis {
  readonly name: string;
  readonly synchronizerId: SynchronizerId;
  /** The sequencing time every node processes the genesis batch at (µs). */
  readonly genesisTs: bigint;
  /** Encoded SignedTopologyTransactions, in processing order. */
  readonly batch: readonly Uint8Array[];
}

export interface BootstrapRequest {
  readonly name: string;
  /** Changes to the default dynamic parameters. */
  readonly parameters?: Partial<DynamicSynchronizerParameters>;
  /** The mediators of the genesis (mediator group 0, threshold 1), with their own identity transactions. */
  readonly mediators?: readonly MemberIdentity<MediatorId>[];
  /**
   * Distinct sequencers of the genesis besides the node's own, with their own identity transactions; they share
   * the node's ordering storage (`sequencer.ordering-storage`).
   */
  readonly sequencers?: readonly MemberIdentity<SequencerId>[];
  /** How many sequencers a member must trust; default 1. */
  readonly sequencerThreshold?: number;
}

export interface BootstrapOutcome {
  readonly genesis: SynchronizerGenesis;
  /** False when the node had been bootstrapped with this name before (nothing changed). */
  readonly created: boolean;
}

interface GenesisRow {
  synchronizer_name: string;
  synchronizer_id: string;
  genesis_ts: bigint;
  genesis: Uint8Array;
}

const SELECT =
  'SELECT synchronizer_name, synchronizer_id, genesis_ts, genesis FROM admin_genesis WHERE id = 1';

/**
 * The persisted genesis of a sequencer node's synchronizer, in its ordering storage. It is one row, so the nodes
 * sharing that storage share it (the nodes of one sequencer, and distinct sequencers sharing an ordering storage):
 * whichever node is bootstrapped, the others find the genesis and start serving.
 */
export class GenesisStore {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<GenesisStore> {
    await storage.migrate('admin', MIGRATIONS);
    return new GenesisStore(storage);
  }

  async load(): Promise<SynchronizerGenesis | undefined> {
    const row = await this.storage.queryOne<GenesisRow>(SELECT);
    if (!row) return undefined;
    return {
      name: row.synchronizer_name,
      synchronizerId: SynchronizerId.parse(row.synchronizer_id),
      genesisTs: row.genesis_ts,
      batch: TopologyTransactionsBroadcast.fromBinary(row.genesis).signedTransactions,
    };
  }

  /** Stores `genesis` unless a genesis exists; returns the stored one (of racing nodes, the first one wins). */
  async saveOnce(genesis: SynchronizerGenesis): Promise<SynchronizerGenesis> {
    const encoded = TopologyTransactionsBroadcast.toBinary({
      synchronizerId: String(genesis.synchronizerId),
      signedTransactions: [...genesis.batch],
    });
    await this.storage.execute(
      `INSERT INTO admin_genesis (id, synchronizer_name, synchronizer_id, genesis_ts, genesis)
       VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
      [genesis.name, String(genesis.synchronizerId), genesis.genesisTs, encoded],
    );
    return (await this.load())!;
  }
}

/** The sequencers (with their threshold) and the mediators of a genesis, from the genesis batch. */
export function genesisGroups(genesis: SynchronizerGenesis): {
  sequencers: string[];
  sequencerThreshold: number;
  mediators: string[];
} {
  const groups = { sequencers: [] as string[], sequencerThreshold: 0, mediators: [] as string[] };
  for (const bytes of genesis.batch) {
    const m = SignedTopologyTransaction.decode(bytes).mapping;
    if (m.kind === 'SequencerSynchronizerState') {
      groups.sequencers = m.active.map(String);
      groups.sequencerThreshold = m.threshold;
    } else if (m.kind === 'MediatorSynchronizerState') groups.mediators.push(...m.active.map(String));
  }
  return groups;
}

/**
 * Bootstraps the synchronizer of a sequencer node: the genesis has the node's namespace as the only owner, its
 * sequencer and the request's other sequencers (their own identity transactions) as the sequencers with the
 * request's threshold, and the request's mediators as mediator group 0; without mediators, they join later with
 * AddMediator. Idempotent for the same name; another name fails with ADMIN_ALREADY_BOOTSTRAPPED.
 */
export async function bootstrapSequencer(
  store: GenesisStore,
  identity: NodeIdentity,
  request: BootstrapRequest,
  now: bigint,
): Promise<BootstrapOutcome> {
  const sequencer = identity.member;
  if (!(sequencer instanceof SequencerId)) {
    throw new WeftError(AdminErrors.ADMIN_NOT_SUPPORTED, `node ${identity.uid} is not a sequencer`);
  }
  let stored = await store.load();
  let created = false;
  if (!stored) {
    const genesis = createGenesis({
      synchronizerName: request.name,
      owners: [identity.namespaceKey.privateKey],
      sequencers: [
        {
          id: sequencer,
          namespaceKey: identity.namespaceKey.privateKey,
          signingKey: identity.signingKey.privateKey,
          encryptionKey: identity.encryptionKey.publicKey,
        },
        ...(request.sequencers ?? []),
      ],
      mediators: request.mediators ?? [],
      ...(request.sequencerThreshold === undefined ? {} : { sequencerThreshold: request.sequencerThreshold }),
      ...(request.parameters ? { parameters: request.parameters } : {}),
    });
    const fresh = {
      name: request.name,
      synchronizerId: genesis.synchronizerId,
      genesisTs: now,
      batch: genesis.batch,
    };
    stored = await store.saveOnce(fresh);
    created = stored.genesisTs === fresh.genesisTs && stored.synchronizerId.equals(fresh.synchronizerId);
  }
  if (stored.name !== request.name) {
    throw new WeftError(
      AdminErrors.ADMIN_ALREADY_BOOTSTRAPPED,
      `sequencer ${sequencer} belongs to synchronizer ${stored.synchronizerId} already; it cannot bootstrap '${request.name}' too`,
      { synchronizerId: String(stored.synchronizerId) },
    );
  }
  return { genesis: stored, created };
}
