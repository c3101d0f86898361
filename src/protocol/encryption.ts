import type { EncryptionPrivateKey, EncryptionPublicKey, Hash, RandomSource } from '../crypto/index.js';
import type { EncryptedViewMessage } from '../generated/weft/protocol/v1/confirmation_request.js';
import { ViewType } from '../generated/weft/protocol/v1/transaction_tree.js';
import { malformed } from './codec.js';
import { type SessionKeyStore, viewKey } from './session-keys.js';

/**
 * View encryption (Phase 1): each view is encrypted once under its own AES-256-GCM key, derived from the session key
 * of its recipient group (see session-keys.ts), which is hybrid-encrypted to every recipient participant's
 * encryption key. The associated data binds the ciphertext to the view hash and the synchronizer, and the view key
 * is derived from the view hash, so a ciphertext cannot be moved to another view.
 */

function viewAssociatedData(viewHash: Hash, synchronizerId: string): Uint8Array {
  return Buffer.concat([viewHash.toMultihash(), Buffer.from(synchronizerId, 'utf8')]);
}

export interface EncryptViewOptions {
  /** The serialized view tree the recipients may see. */
  readonly plaintext: Uint8Array;
  readonly viewHash: Hash;
  readonly synchronizerId: string;
  /** The encryption keys of the participants hosting the view's informees (one per participant). */
  readonly recipients: readonly EncryptionPublicKey[];
  readonly sessionKeys: SessionKeyStore;
  readonly random: RandomSource;
  readonly viewType?: ViewType;
}

export function encryptView(o: EncryptViewOptions): EncryptedViewMessage {
  const session = o.sessionKeys.sessionKeyFor(o.synchronizerId, o.recipients, o.random);
  return {
    viewHash: o.viewHash.toMultihash(),
    viewType: o.viewType ?? ViewType.TRANSACTION,
    synchronizerId: o.synchronizerId,
    sessionKeys: [...session.wrapped],
    ciphertext: viewKey(session.key, o.viewHash).encrypt(
      o.plaintext,
      viewAssociatedData(o.viewHash, o.synchronizerId),
      o.random,
    ),
  };
}

/**
 * Decrypts a view addressed to `key`. Throws PROTOCOL_MESSAGE_MALFORMED when the message holds no session key for
 * it, and DECRYPTION_FAILED when the key or the ciphertext does not authenticate. The caller still checks that the
 * plaintext's view hashes to `message.viewHash`.
 */
export function decryptView(
  message: EncryptedViewMessage,
  key: EncryptionPrivateKey,
  viewHash: Hash,
  sessionKeys: SessionKeyStore,
): Uint8Array {
  const fingerprint = key.publicKey.fingerprint.value;
  const wrapped = message.sessionKeys.find((k) => k.keyFingerprint === fingerprint);
  if (!wrapped)
    malformed(`the encrypted view ${viewHash} has no session key for encryption key ${fingerprint}`);
  const session = sessionKeys.unwrap(key, message.synchronizerId, wrapped.encryptedKey);
  return viewKey(session, viewHash).decrypt(
    message.ciphertext,
    viewAssociatedData(viewHash, message.synchronizerId),
  );
}
