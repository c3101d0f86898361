import { defineErrorCode } from '../errors/index.js';

export const CryptoErrors = {
  SIGNATURE_INVALID: defineErrorCode(
    'SIGNATURE_INVALID',
    'MaliciousOrFaultyBehaviour',
    'A signature does not verify under the claimed key (wrong key, altered message, or malformed signature).',
    "Check that the signer's current keys are registered in the topology; a repeated failure from one sender points to a faulty or malicious node.",
  ),
  DECRYPTION_FAILED: defineErrorCode(
    'DECRYPTION_FAILED',
    'MaliciousOrFaultyBehaviour',
    'A ciphertext could not be decrypted: wrong key, altered or truncated data, or an unsupported format.',
    "Check that the sender encrypted for this node's current encryption key (in the topology); repeated failures point to a faulty sender or corrupted data.",
  ),
  INVALID_KEY: defineErrorCode(
    'INVALID_KEY',
    'InvalidIndependentOfSystemState',
    'Key material is malformed, has the wrong length or scheme, or does not match its stated public key.',
    'Supply key material of the expected scheme and length (Ed25519 for signing, X25519 for encryption), and a private key that matches its public key.',
  ),
  INVALID_FINGERPRINT: defineErrorCode(
    'INVALID_FINGERPRINT',
    'InvalidIndependentOfSystemState',
    "A fingerprint is not '1220' followed by 64 lowercase hex digits (a SHA-256 multihash).",
    'Correct the fingerprint: copy it from `weft admin id` output rather than typing it.',
  ),
  INVALID_HASH: defineErrorCode(
    'INVALID_HASH',
    'InvalidIndependentOfSystemState',
    'A hash is not a well-formed SHA-256 multihash (0x12 0x20 followed by 32 bytes).',
    'Correct the hash: it is 34 bytes, or 68 hex digits starting with 1220.',
  ),
  KEK_UNAVAILABLE: defineErrorCode(
    'KEK_UNAVAILABLE',
    'InvalidGivenCurrentSystemStateResourceMissing',
    "The node's private keys are stored encrypted, or its config says they are, but the key-encryption key (KEK) cannot be read: the environment variable is unset, the file is missing, or the config names no KEK.",
    'Set the environment variable or provide the file named in crypto.private-key-store.encryption, holding the KEK the keys were encrypted with; encrypted keys are never turned back to plain.',
  ),
  KEK_MALFORMED: defineErrorCode(
    'KEK_MALFORMED',
    'InvalidIndependentOfSystemState',
    'The key-encryption key is not 32 bytes written as 64 hex digits or as 44 characters of padded base64.',
    'Generate a KEK with `openssl rand -base64 32` (or `openssl rand -hex 32`) and put exactly that in the variable or file.',
  ),
  KEK_MISMATCH: defineErrorCode(
    'KEK_MISMATCH',
    'InvalidGivenCurrentSystemStateOther',
    "The node's stored private keys do not decrypt under the configured key-encryption key: it is another KEK, or a key record was altered or moved to another row.",
    'Configure the KEK the keys were encrypted with; the stored keys were left unchanged. If the KEK is lost, the node identity is lost with it.',
  ),
} as const;
