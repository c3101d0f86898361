import { SynchronizerId } from '../identity/index.js';
import type { Migration, Storage } from '../storage/index.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'synchronizer membership',
    up: `CREATE TABLE admin_membership (
           id BIGINT PRIMARY KEY NOT NULL,
           synchronizer_id TEXT NOT NULL
         )`,
  },
];

/**
 * The synchronizer a member node (a mediator) was onboarded to, learnt from the sequencer's topology state and
 * kept so that a restart opens the same topology store without asking the sequencer again.
 */
export class MembershipStore {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<MembershipStore> {
    await storage.migrate('admin_membership', MIGRATIONS);
    return new MembershipStore(storage);
  }

  async load(): Promise<SynchronizerId | undefined> {
    const row = await this.storage.queryOne<{ synchronizer_id: string }>(
      'SELECT synchronizer_id FROM admin_membership WHERE id = 1',
    );
    return row ? SynchronizerId.parse(row.synchronizer_id) : undefined;
  }

  async save(synchronizerId: SynchronizerId): Promise<void> {
    await this.storage.execute(
      'INSERT INTO admin_membership (id, synchronizer_id) VALUES (1, $1) ON CONFLICT (id) DO NOTHING',
      [String(synchronizerId)],
    );
  }
}
