import {
  type EncryptionPrivateKey,
  type EncryptionPublicKey,
  type Hash,
  type RandomSource,
  SymmetricKey,
} from '../crypto/index.js';
import type { EncryptedViewMessage } from '../generated/weft/protocol/v1/confirmation_request.js';
import { ViewType } from '../generated/weft/protocol/v1/transaction_tree.js';
import { malformed } from './codec.js';

/**
 * View encryption (Phase 1): each view is encrypted once under a fresh AES-256-GCM key, and that key is
 * hybrid-encrypted to every recipient participant's encryption key. The associated data binds the ciphertext to the
 * view hash and the synchronizer, and each wrapped key to the view hash, so neither can be moved to another view.
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
  readonly random: RandomSource;
  readonly viewType?: ViewType;
}

export function encryptView(o: EncryptViewOptions): EncryptedViewMessage {
  const key = SymmetricKey.generate(o.random);
  const viewHash = o.viewHash.toMultihash();
  const keyBytes = key.toBytes();
  return {
    viewHash,
    viewType: o.viewType ?? ViewType.TRANSACTION,
    synchronizerId: o.synchronizerId,
    sessionKeys: o.recipients.map((recipient) => ({
      keyFingerprint: recipient.fingerprint.value,
      encryptedKey: recipient.encrypt(keyBytes, viewHash, o.random),
    })),
    ciphertext: key.encrypt(o.plaintext, viewAssociatedData(o.viewHash, o.synchronizerId), o.random),
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
): Uint8Array {
  const fingerprint = key.publicKey.fingerprint.value;
  const session = message.sessionKeys.find((k) => k.keyFingerprint === fingerprint);
  if (!session)
    malformed(`the encrypted view ${viewHash} has no session key for encryption key ${fingerprint}`);
  const symmetric = SymmetricKey.fromBytes(key.decrypt(session.encryptedKey, viewHash.toMultihash()));
  return symmetric.decrypt(message.ciphertext, viewAssociatedData(viewHash, message.synchronizerId));
}
