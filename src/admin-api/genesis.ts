import { CommonErrors, WeftError } from '../errors/index.js';
import { TopologyTransactionsBroadcast } from '../generated/weft/topology/v1/topology.js';
import { SequencerId, SynchronizerId } from '../identity/index.js';
import type { NodeIdentity } from '../node/index.js';
import type { Migration, Storage } from '../storage/index.js';
import {
  createGenesis,
  type DynamicSynchronizerParameters,
  type MediatorSynchronizerState,
  SignedTopologyTransaction,
  TopologyEngine,
  TopologyTransaction,
} from '../topology/index.js';
import { AdminErrors } from './errors.js';
import type { MediatorIdentity } from './identity.js';

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
  readonly mediators?: readonly MediatorIdentity[];
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
 * The persisted genesis of a sequencer node's synchronizer. It is one row, so the nodes of one sequencer sharing
 * a database share it: whichever node is bootstrapped, the others find the genesis and start serving.
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

/** The mediators of a genesis, from the genesis batch. */
export function genesisMediators(genesis: SynchronizerGenesis): string[] {
  return genesis.batch.flatMap((bytes) => {
    const m = SignedTopologyTransaction.decode(bytes).mapping;
    return m.kind === 'MediatorSynchronizerState' ? m.active.map(String) : [];
  });
}

/**
 * Bootstraps the synchronizer of a sequencer node: the genesis has the node's namespace as the only owner, its
 * sequencer as the only sequencer, and the request's mediators (their own identity transactions) as mediator
 * group 0; without mediators, they join later with AddMediator. Idempotent for the same name; another name fails
 * with ADMIN_ALREADY_BOOTSTRAPPED.
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
      ],
      mediators: [],
      ...(request.parameters ? { parameters: request.parameters } : {}),
    });
    const fresh = {
      name: request.name,
      synchronizerId: genesis.synchronizerId,
      genesisTs: now,
      batch: withMediators(genesis.synchronizerId, genesis.batch, request.mediators ?? [], identity),
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

/**
 * Appends the mediators' identity transactions and mediator group 0 (signed by the owner) to a genesis batch, and
 * checks the result by processing it in memory, so a genesis that any node would reject is never stored.
 */
function withMediators(
  synchronizerId: SynchronizerId,
  batch: readonly Uint8Array[],
  identities: readonly MediatorIdentity[],
  owner: NodeIdentity,
): readonly Uint8Array[] {
  if (identities.length === 0) return batch;
  const ids = identities.map((i) => String(i.mediator));
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new WeftError(CommonErrors.INVALID_ARGUMENT, `mediator ${twice} is given twice`);
  const group: MediatorSynchronizerState = {
    kind: 'MediatorSynchronizerState',
    synchronizerId,
    group: 0,
    threshold: 1,
    active: identities.map((i) => i.mediator),
    observers: [],
  };
  const full = [
    ...batch,
    ...identities.flatMap((i) => i.transactions.map((t) => t.toBytes())),
    SignedTopologyTransaction.sign(TopologyTransaction.create('AddReplace', 1, group), [
      owner.namespaceKey.privateKey,
    ]).toBytes(),
  ];
  const { results } = new TopologyEngine(synchronizerId).apply(0n, full).batch;
  results.forEach((r, i) => {
    if (r.outcome !== 'accepted') {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `genesis transaction ${SignedTopologyTransaction.decode(full[i]!).transaction} would be ${r.outcome}${r.error ? `: ${r.error.message}` : ''}`,
      );
    }
  });
  return full;
}
