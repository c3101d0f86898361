/**
 * Weft cryptography on `node:crypto`: Ed25519 signing, X25519 hybrid and AES-256-GCM symmetric encryption,
 * purpose-tagged SHA-256 with Canton's multihash encoding, key fingerprints, key records and randomness sources.
 */
export {
  type EncryptionKeyPair,
  EncryptionPrivateKey,
  EncryptionPublicKey,
  generateEncryptionKeyPair,
  SYMMETRIC_KEY_LENGTH,
  SymmetricKey,
} from './encryption.js';
export { CryptoErrors } from './errors.js';
export { Fingerprint } from './fingerprint.js';
export {
  BlockHashPurpose,
  defineHashPurpose,
  FIRST_WEFT_HASH_PURPOSE_ID,
  Hash,
  HashBuilder,
  HashPurpose,
} from './hash.js';
export { hkdfSha256 } from './hkdf.js';
export {
  loadKeyEncryptionKey,
  type PrivateKeyEncryption,
  parseKeyEncryptionKey,
} from './key-encryption.js';
export { KeyRecord, type KeyRecordFields } from './key-record.js';
export { type KeyRole, KeyStore, type KeyStoreEncryption, type StoredKey } from './key-store.js';
export {
  DEFAULT_PUBLIC_KEY_CACHE_CAPACITY,
  type KeyPurpose,
  type KeyScheme,
  setPublicKeyCacheCapacity,
} from './keys.js';
export { DeterministicRandom, type RandomSource, randomUuid, systemRandom } from './random.js';
export {
  generateSigningKeyPair,
  SIGNATURE_LENGTH,
  type SigningKeyPair,
  SigningPrivateKey,
  SigningPublicKey,
  signatureCounts,
} from './signing.js';
