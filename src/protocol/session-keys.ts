import {
  type EncryptionPrivateKey,
  type EncryptionPublicKey,
  type Hash,
  hkdfSha256,
  type RandomSource,
  SYMMETRIC_KEY_LENGTH,
  SymmetricKey,
} from '../crypto/index.js';
import type { Clock } from '../time/index.js';

/**
 * Session keys (Canton's `SessionKeyStore`): the hybrid encryption of a view key to every recipient (an X25519
 * agreement, HKDF and AES-GCM per recipient, and the same again to unwrap) is paid once per recipient group, not
 * per view. The sender reuses one session key for every view to the same group (the same synchronizer and the
 * same recipient encryption keys) for a bounded time and number of views; each view is encrypted under its own key
 * derived from the session key and the view hash. The receiver caches what it unwrapped, keyed by the wrapped
 * bytes themselves, so only the very ciphertext it already opened can hit the cache.
 */

export interface SessionKeySettings {
  /** How long a session key is used by the sender and kept unwrapped by a receiver, from its creation/unwrapping. */
  readonly ttlMs: number;
  /** Views the sender encrypts under one session key; 1 turns reuse off (a fresh key per view). */
  readonly maxUses: number;
  /** Recipient groups the sender keeps a key for, and unwrapped keys a receiver keeps (oldest out first). */
  readonly cacheSize: number;
}

/** A session key and its wrappings, one per recipient encryption key. */
export interface SessionKey {
  readonly key: SymmetricKey;
  readonly wrapped: readonly { readonly keyFingerprint: string; readonly encryptedKey: Uint8Array }[];
}

interface SenderEntry extends SessionKey {
  readonly expiresAt: bigint;
  usesLeft: number;
}

interface ReceiverEntry {
  readonly key: SymmetricKey;
  readonly expiresAt: bigint;
}

// Labels bind the wrapped key and the derived view keys to their role and version (domain separation).
const WRAP_LABEL = Buffer.from('weft/session-key/v1/', 'ascii');
const VIEW_KEY_INFO = Buffer.from('weft/view-key/v1/HKDF-SHA256', 'ascii');

/** What a wrapped session key is bound to: its role and the synchronizer, not a view (it serves many). */
export function sessionKeyAssociatedData(synchronizerId: string): Uint8Array {
  return Buffer.concat([WRAP_LABEL, Buffer.from(synchronizerId, 'utf8')]);
}

/**
 * The key one view is encrypted under: HKDF-SHA256 of the session key salted with the view hash, so views under
 * one session key never share an AES key (a leaked view key opens that view only), and no nonce is ever drawn
 * twice for one key.
 */
export function viewKey(session: SymmetricKey, viewHash: Hash): SymmetricKey {
  return SymmetricKey.fromBytes(
    hkdfSha256(session.toBytes(), viewHash.toMultihash(), VIEW_KEY_INFO, SYMMETRIC_KEY_LENGTH),
  );
}

/** Inserts at the young end; at capacity the oldest entry goes first (expired ones are the oldest). */
function put<V>(map: Map<string, V>, id: string, value: V, capacity: number): void {
  map.delete(id);
  if (map.size >= capacity) map.delete(map.keys().next().value!);
  map.set(id, value);
}

export class SessionKeyStore {
  readonly #settings: SessionKeySettings;
  readonly #clock: Clock;
  readonly #sender = new Map<string, SenderEntry>();
  readonly #receiver = new Map<string, ReceiverEntry>();

  constructor(settings: SessionKeySettings, clock: Clock) {
    this.#settings = settings;
    this.#clock = clock;
  }

  /**
   * The session key for a view to `recipients` on `synchronizerId`: the group's current one while it is within its
   * time and uses, else a fresh one wrapped to every recipient. The group is named by the recipients' key
   * fingerprints, so a recipient's new encryption key (a topology change) makes a new group and a new key.
   */
  sessionKeyFor(
    synchronizerId: string,
    recipients: readonly EncryptionPublicKey[],
    random: RandomSource,
  ): SessionKey {
    const group = `${synchronizerId}\n${recipients
      .map((r) => r.fingerprint.value)
      .sort()
      .join('\n')}`;
    const now = this.#clock.now();
    let entry = this.#sender.get(group);
    if (!entry || entry.expiresAt <= now || entry.usesLeft === 0) {
      const key = SymmetricKey.generate(random);
      const bytes = key.toBytes();
      const ad = sessionKeyAssociatedData(synchronizerId);
      entry = {
        key,
        wrapped: recipients.map((r) => ({
          keyFingerprint: r.fingerprint.value,
          encryptedKey: r.encrypt(bytes, ad, random),
        })),
        expiresAt: now + BigInt(this.#settings.ttlMs) * 1000n,
        usesLeft: this.#settings.maxUses,
      };
      put(this.#sender, group, entry, this.#settings.cacheSize);
    }
    entry.usesLeft--;
    return entry;
  }

  /**
   * Unwraps `encryptedKey` with `key`, or returns what unwrapping these exact bytes for this key and synchronizer
   * gave before (within the time bound). Throws DECRYPTION_FAILED, caching nothing, when it does not authenticate.
   */
  unwrap(key: EncryptionPrivateKey, synchronizerId: string, encryptedKey: Uint8Array): SymmetricKey {
    const id = `${key.publicKey.fingerprint.value}\n${synchronizerId}\n${Buffer.from(encryptedKey).toString('base64')}`;
    const now = this.#clock.now();
    const hit = this.#receiver.get(id);
    if (hit && hit.expiresAt > now) return hit.key;
    const session = SymmetricKey.fromBytes(
      key.decrypt(encryptedKey, sessionKeyAssociatedData(synchronizerId)),
    );
    put(
      this.#receiver,
      id,
      { key: session, expiresAt: now + BigInt(this.#settings.ttlMs) * 1000n },
      this.#settings.cacheSize,
    );
    return session;
  }

  /** Unwrapped keys held (for tests of the bound). */
  get cachedUnwrapped(): number {
    return this.#receiver.size;
  }
}
