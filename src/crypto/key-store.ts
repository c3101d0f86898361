import { CommonErrors, WeftError } from '../errors/index.js';
import type { Migration, Queryable, Storage } from '../storage/index.js';
import type { EncryptionKeyPair, SymmetricKey } from './encryption.js';
import { CryptoErrors } from './errors.js';
import { Fingerprint } from './fingerprint.js';
import { KeyRecord } from './key-record.js';
import type { RandomSource } from './random.js';
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
  {
    version: 2,
    name: 'key records encrypted at rest',
    // `kek`: the record column holds the key record sealed with AES-256-GCM under the node's KEK.
    up: `ALTER TABLE crypto_keys ADD COLUMN encryption TEXT NOT NULL DEFAULT 'plain'`,
  },
];

/** How a row's record is stored: the encoded key record, or that record sealed under the KEK. */
type RecordEncryption = 'plain' | 'kek';

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
  encryption: RecordEncryption;
  created_at: bigint;
}

const COLUMNS = 'fingerprint, role, name, record, encryption, created_at';

/** Encryption of private keys at rest: the key-encryption key, and where the per-record nonces come from. */
export interface KeyStoreEncryption {
  readonly kek: SymmetricKey;
  readonly random: RandomSource;
}

/**
 * The node's private keys, persisted in its own storage. Parsed key objects are cached after the first read, so
 * signing never re-imports a key. Records print redacted (see {@link KeyRecord}).
 *
 * With {@link KeyStoreEncryption} every record is sealed (AES-256-GCM, a fresh nonce each) under the KEK with its
 * fingerprint as associated data, so a sealed record copied into another key's row fails to open.
 */
export class KeyStore {
  readonly #storage: Queryable;
  readonly #encryption: KeyStoreEncryption | undefined;
  readonly #cache = new Map<string, StoredKey>();
  #encryptedOnOpen = 0;

  private constructor(storage: Queryable, encryption: KeyStoreEncryption | undefined) {
    this.#storage = storage;
    this.#encryption = encryption;
  }

  /**
   * Opens the key store. With `encryption`, every sealed record must open under the KEK (else KEK_MISMATCH, and
   * nothing is changed), then plain records are sealed in place, all in one transaction. Without it, a store
   * holding sealed records is refused (KEK_UNAVAILABLE): keys are never turned back to plain.
   */
  static async open(storage: Storage, encryption?: KeyStoreEncryption): Promise<KeyStore> {
    await storage.migrate('crypto', MIGRATIONS);
    const store = new KeyStore(storage, encryption);
    await storage.transaction(async (tx) => {
      const rows = await tx.query<KeyRow>(`SELECT ${COLUMNS} FROM crypto_keys ORDER BY fingerprint`);
      for (const row of rows) {
        const stored = store.#remember(row);
        if (encryption && row.encryption === 'plain') {
          await tx.execute(
            `UPDATE crypto_keys SET record = $1, encryption = 'kek' WHERE fingerprint = $2 AND encryption = 'plain'`,
            [store.#seal(stored.record), row.fingerprint],
          );
          store.#encryptedOnOpen++;
        }
      }
    });
    return store;
  }

  /** How many plain records {@link open} encrypted in place (for the node's log). */
  get encryptedOnOpen(): number {
    return this.#encryptedOnOpen;
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
      `INSERT INTO crypto_keys (fingerprint, role, name, record, encryption, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (fingerprint) DO NOTHING`,
      [fp, role, name, this.#seal(record), this.#encryption ? 'kek' : 'plain', createdAt],
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
      `SELECT ${COLUMNS} FROM crypto_keys WHERE fingerprint = $1`,
      [fingerprint.value],
    );
    return row && this.#remember(row);
  }

  /** Keys of a role, oldest first (the newest is the one in use after a rotation). */
  async list(role?: KeyRole): Promise<StoredKey[]> {
    const rows = await this.#storage.query<KeyRow>(
      role === undefined
        ? `SELECT ${COLUMNS} FROM crypto_keys ORDER BY created_at, fingerprint`
        : `SELECT ${COLUMNS} FROM crypto_keys WHERE role = $1 ORDER BY created_at, fingerprint`,
      role === undefined ? [] : [role],
    );
    return rows.map((row) => this.#cache.get(row.fingerprint) ?? this.#remember(row));
  }

  /** The bytes stored for a record: its encoding, sealed under the KEK when the store encrypts. */
  #seal(record: KeyRecord): Uint8Array {
    const encoded = record.encode();
    const encryption = this.#encryption;
    return encryption
      ? encryption.kek.encrypt(encoded, associatedData(record.fingerprint.value), encryption.random)
      : encoded;
  }

  #unseal(row: KeyRow): Uint8Array {
    if (row.encryption === 'plain') return row.record;
    if (!this.#encryption) {
      throw new WeftError(
        CryptoErrors.KEK_UNAVAILABLE,
        `the private key ${row.fingerprint} is stored encrypted, but crypto.private-key-store.encryption is plain; configure the key-encryption key it was encrypted with`,
        { fingerprint: row.fingerprint },
      );
    }
    try {
      return this.#encryption.kek.decrypt(row.record, associatedData(row.fingerprint));
    } catch (e) {
      if (!(e instanceof WeftError && e.code === CryptoErrors.DECRYPTION_FAILED.code)) throw e;
      throw new WeftError(
        CryptoErrors.KEK_MISMATCH,
        `the private key ${row.fingerprint} does not decrypt under the configured key-encryption key`,
        { fingerprint: row.fingerprint },
      );
    }
  }

  #remember(row: KeyRow): StoredKey {
    const record = KeyRecord.decode(this.#unseal(row));
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

/** Binds a sealed record to its row, so that a record moved to another key's row does not open. */
function associatedData(fingerprint: string): Uint8Array {
  return new TextEncoder().encode(`weft-private-key:${fingerprint}`);
}
