import { CommonErrors, WeftError } from '../errors/index.js';
import type { Migration, Queryable, Storage } from '../storage/index.js';
import type { EncryptionKeyPair } from './encryption.js';
import { Fingerprint } from './fingerprint.js';
import { KeyRecord } from './key-record.js';
import type { SigningKeyPair } from './signing.js';

/**
 * A key's role in a node: the root namespace key defines the node's identity (its fingerprint is the namespace in
 * `PAR::name::namespace`), the others are the keys published in the node's OwnerToKeyMapping.
 */
export type KeyRole = 'namespace' | 'signing' | 'encryption';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'crypto key store',
    up: `CREATE TABLE crypto_keys (
           fingerprint TEXT PRIMARY KEY,
           role TEXT NOT NULL,
           name TEXT NOT NULL,
           record BYTEA NOT NULL,
           created_at BIGINT NOT NULL
         );
         CREATE INDEX crypto_keys_role ON crypto_keys (role, created_at)`,
  },
];

export interface StoredKey {
  readonly fingerprint: Fingerprint;
  readonly role: KeyRole;
  readonly name: string;
  readonly record: KeyRecord;
  /** Microseconds since the epoch, from the node's clock. */
  readonly createdAt: bigint;
}

interface KeyRow {
  fingerprint: string;
  role: string;
  name: string;
  record: Uint8Array;
  created_at: bigint;
}

/**
 * The node's private keys, persisted in its own storage. Parsed key objects are cached after the first read, so
 * signing never re-imports a key. Records print redacted (see {@link KeyRecord}).
 */
export class KeyStore {
  readonly #storage: Queryable;
  readonly #cache = new Map<string, StoredKey>();

  private constructor(storage: Queryable) {
    this.#storage = storage;
  }

  static async open(storage: Storage): Promise<KeyStore> {
    await storage.migrate('crypto', MIGRATIONS);
    return new KeyStore(storage);
  }

  /** Stores a key pair; storing the same key twice is a no-op, a different role for it is ALREADY_EXISTS. */
  async add(
    pair: SigningKeyPair | EncryptionKeyPair,
    role: KeyRole,
    name: string,
    createdAt: bigint,
  ): Promise<StoredKey> {
    if ((role === 'encryption') !== (pair.publicKey.purpose === 'encryption')) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `a ${pair.publicKey.purpose} key cannot take the role ${role}`,
      );
    }
    const record = KeyRecord.fromKeyPair(pair);
    const fp = record.fingerprint.value;
    await this.#storage.execute(
      `INSERT INTO crypto_keys (fingerprint, role, name, record, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (fingerprint) DO NOTHING`,
      [fp, role, name, record.encode(), createdAt],
    );
    const stored = await this.get(record.fingerprint);
    if (stored.role !== role) {
      throw new WeftError(
        CommonErrors.ALREADY_EXISTS,
        `key ${fp} is stored already with the role ${stored.role}`,
        {
          fingerprint: fp,
        },
      );
    }
    return stored;
  }

  /** The key with this fingerprint; NOT_FOUND when the node does not hold it. */
  async get(fingerprint: Fingerprint): Promise<StoredKey> {
    const key = await this.find(fingerprint);
    if (!key) {
      throw new WeftError(CommonErrors.NOT_FOUND, `this node holds no private key ${fingerprint.value}`, {
        fingerprint: fingerprint.value,
      });
    }
    return key;
  }

  async find(fingerprint: Fingerprint): Promise<StoredKey | undefined> {
    const cached = this.#cache.get(fingerprint.value);
    if (cached) return cached;
    const row = await this.#storage.queryOne<KeyRow>(
      'SELECT fingerprint, role, name, record, created_at FROM crypto_keys WHERE fingerprint = $1',
      [fingerprint.value],
    );
    return row && this.#remember(row);
  }

  /** Keys of a role, oldest first (the newest is the one in use after a rotation). */
  async list(role?: KeyRole): Promise<StoredKey[]> {
    const rows = await this.#storage.query<KeyRow>(
      role === undefined
        ? 'SELECT fingerprint, role, name, record, created_at FROM crypto_keys ORDER BY created_at, fingerprint'
        : 'SELECT fingerprint, role, name, record, created_at FROM crypto_keys WHERE role = $1 ORDER BY created_at, fingerprint',
      role === undefined ? [] : [role],
    );
    return rows.map((row) => this.#cache.get(row.fingerprint) ?? this.#remember(row));
  }

  #remember(row: KeyRow): StoredKey {
    const record = KeyRecord.decode(row.record);
    const fingerprint = Fingerprint.parse(row.fingerprint);
    if (!record.fingerprint.equals(fingerprint)) {
      throw new WeftError(
        CommonErrors.INTERNAL,
        `key store row ${row.fingerprint} holds the key ${record.fingerprint.value}`,
      );
    }
    const stored: StoredKey = {
      fingerprint,
      role: row.role as KeyRole,
      name: row.name,
      record,
      createdAt: row.created_at,
    };
    this.#cache.set(row.fingerprint, stored);
    return stored;
  }
}
