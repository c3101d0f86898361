import type { SynchronizerConnectionConfig } from '../admin-api/index.js';
import type { TransportOptions } from '../sequencer/index.js';
import type { Migration, Storage } from '../storage/index.js';

/** The transport options of a connection. */
export function transportOf(config: SynchronizerConnectionConfig): TransportOptions {
  return {
    insecure: config.insecure,
    ...(config.customTrustCertificates ? { customTrustCertificates: config.customTrustCertificates } : {}),
  };
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'synchronizer connections',
    up: `CREATE TABLE admin_synchronizer_connections (
           alias TEXT PRIMARY KEY NOT NULL,
           synchronizer_id TEXT NOT NULL,
           config TEXT NOT NULL
         )`,
  },
];

/** The synchronizer connections a participant node made, so that it reconnects by itself after a restart. */
export class ConnectionStore {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<ConnectionStore> {
    await storage.migrate('admin_synchronizer_connections', MIGRATIONS);
    return new ConnectionStore(storage);
  }

  async load(): Promise<{ synchronizerId: string; config: SynchronizerConnectionConfig }[]> {
    const rows = await this.storage.query<{ synchronizer_id: string; config: string }>(
      'SELECT synchronizer_id, config FROM admin_synchronizer_connections ORDER BY alias',
    );
    return rows.map((r) => ({
      synchronizerId: r.synchronizer_id,
      config: JSON.parse(r.config) as SynchronizerConnectionConfig,
    }));
  }

  async save(synchronizerId: string, config: SynchronizerConnectionConfig): Promise<void> {
    await this.storage.execute(
      `INSERT INTO admin_synchronizer_connections (alias, synchronizer_id, config) VALUES ($1, $2, $3)
       ON CONFLICT (alias) DO UPDATE SET synchronizer_id = $2, config = $3`,
      [config.alias, synchronizerId, JSON.stringify(config)],
    );
  }

  async remove(alias: string): Promise<void> {
    await this.storage.execute('DELETE FROM admin_synchronizer_connections WHERE alias = $1', [alias]);
  }
}
