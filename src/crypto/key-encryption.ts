import { readFileSync } from 'node:fs';
import { WeftError } from '../errors/index.js';
import { SYMMETRIC_KEY_LENGTH, SymmetricKey } from './encryption.js';
import { CryptoErrors } from './errors.js';

/**
 * How a node keeps its private keys at rest (config `crypto.private-key-store.encryption`, after Canton's
 * `crypto.private-key-store.encryption.type = kms`). `plain` is the development default; `kek-env` and `kek-file`
 * encrypt every key record under a key-encryption key (KEK) read from an environment variable or a file.
 */
export type PrivateKeyEncryption =
  | { readonly type: 'plain' }
  | { readonly type: 'kek-env'; readonly variable: string }
  | { readonly type: 'kek-file'; readonly file: string };

const HEX_KEK = /^[0-9a-fA-F]{64}$/;
const BASE64_KEK = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The KEK the config names, or `undefined` for plain storage. Read once at start, so that a missing or malformed
 * KEK stops the node before it opens its storage. Surrounding whitespace (a file's trailing newline) is ignored.
 */
export function loadKeyEncryptionKey(
  encryption: PrivateKeyEncryption,
  env: Readonly<Record<string, string | undefined>>,
): SymmetricKey | undefined {
  switch (encryption.type) {
    case 'plain':
      return undefined;
    case 'kek-env': {
      const text = env[encryption.variable];
      if (text === undefined || text.trim() === '') {
        throw new WeftError(
          CryptoErrors.KEK_UNAVAILABLE,
          `the key-encryption key variable ${encryption.variable} is not set`,
          { variable: encryption.variable },
        );
      }
      return parseKeyEncryptionKey(text, `variable ${encryption.variable}`);
    }
    case 'kek-file': {
      let text: string;
      try {
        text = readFileSync(encryption.file, 'utf8');
      } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code ?? String(e);
        throw new WeftError(
          CryptoErrors.KEK_UNAVAILABLE,
          `the key-encryption key file ${encryption.file} cannot be read (${reason})`,
          { file: encryption.file },
        );
      }
      return parseKeyEncryptionKey(text, `file ${encryption.file}`);
    }
  }
}

/** A 32-byte KEK from hex or padded base64; `source` names where it came from, never the value. */
export function parseKeyEncryptionKey(text: string, source: string): SymmetricKey {
  const trimmed = text.trim();
  const bytes = HEX_KEK.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : BASE64_KEK.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined;
  if (bytes?.byteLength !== SYMMETRIC_KEY_LENGTH) {
    throw new WeftError(
      CryptoErrors.KEK_MALFORMED,
      `the key-encryption key in ${source} is not ${SYMMETRIC_KEY_LENGTH} bytes as 64 hex digits or 44 base64 characters`,
      { source },
    );
  }
  return SymmetricKey.fromBytes(bytes);
}
