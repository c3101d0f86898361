import { defineErrorCode } from '../errors/index.js';

export const CryptoErrors = {
  SIGNATURE_INVALID: defineErrorCode(
    'SIGNATURE_INVALID',
    'MaliciousOrFaultyBehaviour',
    'A signature does not verify under the claimed key (wrong key, altered message, or malformed signature).',
  ),
  DECRYPTION_FAILED: defineErrorCode(
    'DECRYPTION_FAILED',
    'MaliciousOrFaultyBehaviour',
    'A ciphertext could not be decrypted: wrong key, altered or truncated data, or an unsupported format.',
  ),
  INVALID_KEY: defineErrorCode(
    'INVALID_KEY',
    'InvalidIndependentOfSystemState',
    'Key material is malformed, has the wrong length or scheme, or does not match its stated public key.',
  ),
  INVALID_FINGERPRINT: defineErrorCode(
    'INVALID_FINGERPRINT',
    'InvalidIndependentOfSystemState',
    "A fingerprint is not '1220' followed by 64 lowercase hex digits (a SHA-256 multihash).",
  ),
  INVALID_HASH: defineErrorCode(
    'INVALID_HASH',
    'InvalidIndependentOfSystemState',
    'A hash is not a well-formed SHA-256 multihash (0x12 0x20 followed by 32 bytes).',
  ),
} as const;
