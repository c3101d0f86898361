/**
 * What the trigger service persists (SQLite or PostgreSQL through the project's storage layer): every started
 * trigger with the token it runs with, so that a restarted service runs them again, and the uploaded trigger
 * packages. A stopped trigger is deleted (as in Daml's trigger service); a failed one stays with its error.
 */
import type { Migration, Storage } from '../storage/index.js';

export const TRIGGER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'triggers and trigger packages',
    up: [
      `CREATE TABLE trigger_instances (
         trigger_id TEXT PRIMARY KEY NOT NULL,
         trigger_name TEXT NOT NULL,
         party TEXT NOT NULL,
         user_id TEXT NOT NULL,
         access_token TEXT,
         refresh_token TEXT,
         error TEXT,
         created_at BIGINT NOT NULL
       )`,
      'CREATE INDEX trigger_instances_party ON trigger_instances (party)',
      `CREATE TABLE trigger_packages (
         name TEXT PRIMARY KEY NOT NULL,
         source TEXT NOT NULL
       )`,
    ],
  },
];

export interface TriggerRecord {
  readonly triggerId: string;
  readonly triggerName: string;
  readonly party: string;
  readonly userId: string;
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  /** Set when the trigger failed: it is not restarted. */
  readonly error: string | undefined;
  /** Microseconds since the epoch. */
  readonly createdAt: bigint;
}

interface Raw {
  trigger_id: string;
  trigger_name: string;
  party: string;
  user_id: string;
  access_token: string | null;
  refresh_token: string | null;
  error: string | null;
  created_at: bigint;
}

const recordOf = (r: Raw): TriggerRecord => ({
  triggerId: r.trigger_id,
  triggerName: r.trigger_name,
  party: r.party,
  userId: r.user_id,
  accessToken: r.access_token ?? undefined,
  refreshToken: r.refresh_token ?? undefined,
  error: r.error ?? undefined,
  createdAt: r.created_at,
});

export class TriggerStore {
  private constructor(private readonly storage: Storage) {}

  static async open(storage: Storage): Promise<TriggerStore> {
    await storage.migrate('triggers', TRIGGER_MIGRATIONS);
    return new TriggerStore(storage);
  }

  async add(r: TriggerRecord): Promise<void> {
    await this.storage.execute(
      `INSERT INTO trigger_instances (trigger_id, trigger_name, party, user_id, access_token, refresh_token, error, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        r.triggerId,
        r.triggerName,
        r.party,
        r.userId,
        r.accessToken ?? null,
        r.refreshToken ?? null,
        null,
        r.createdAt,
      ],
    );
  }

  async all(): Promise<TriggerRecord[]> {
    const rows = await this.storage.query<Raw>(
      'SELECT * FROM trigger_instances ORDER BY created_at, trigger_id',
    );
    return rows.map(recordOf);
  }

  async tokens(triggerId: string, accessToken: string, refreshToken: string | undefined): Promise<void> {
    await this.storage.execute(
      'UPDATE trigger_instances SET access_token = $2, refresh_token = $3 WHERE trigger_id = $1',
      [triggerId, accessToken, refreshToken ?? null],
    );
  }

  async failed(triggerId: string, error: string): Promise<void> {
    await this.storage.execute('UPDATE trigger_instances SET error = $2 WHERE trigger_id = $1', [
      triggerId,
      error,
    ]);
  }

  async remove(triggerId: string): Promise<boolean> {
    return (
      (await this.storage.execute('DELETE FROM trigger_instances WHERE trigger_id = $1', [triggerId])) > 0
    );
  }

  async savePackage(name: string, source: string): Promise<void> {
    await this.storage.transaction(async (tx) => {
      await tx.execute('DELETE FROM trigger_packages WHERE name = $1', [name]);
      await tx.execute('INSERT INTO trigger_packages (name, source) VALUES ($1, $2)', [name, source]);
    });
  }

  async packages(): Promise<{ name: string; source: string }[]> {
    return this.storage.query<{ name: string; source: string }>(
      'SELECT name, source FROM trigger_packages ORDER BY name',
    );
  }
}
