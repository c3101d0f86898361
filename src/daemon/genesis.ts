import {
  AdminErrors,
  type BootstrapOutcome,
  type BootstrapRequest,
  type SynchronizerGenesis,
} from '../admin-api/index.js';
import { WeftError } from '../errors/index.js';
import { SequencerId, SynchronizerId } from '../identity/index.js';
import type { NodeIdentity } from '../node/index.js';
import type { Migration, Storage } from '../storage/index.js';
import { createGenesis, decodeTopologyBroadcast, encodeTopologyBroadcast } from '../topology/index.js';

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
      batch: decodeTopologyBroadcast(row.genesis),
    };
  }

  /** Stores `genesis` unless a genesis exists; returns the stored one (of racing nodes, the first one wins). */
  async saveOnce(genesis: SynchronizerGenesis): Promise<SynchronizerGenesis> {
    const encoded = encodeTopologyBroadcast(genesis.synchronizerId, genesis.batch);
    await this.storage.execute(
      `INSERT INTO admin_genesis (id, synchronizer_name, synchronizer_id, genesis_ts, genesis)
       VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
      [genesis.name, String(genesis.synchronizerId), genesis.genesisTs, encoded],
    );
    return (await this.load())!;
  }
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
