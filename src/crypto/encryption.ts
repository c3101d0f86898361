import { createCipheriv, createDecipheriv, diffieHellman, type KeyObject } from 'node:crypto';
import { WeftError } from '../errors/index.js';
import { bytesEqual, copyBytes, plain } from './bytes.js';
import { CryptoErrors } from './errors.js';
import { Fingerprint } from './fingerprint.js';
import { hkdfSha256 } from './hkdf.js';
import {
  exportPkcs8,
  importPkcs8,
  importRawPrivateKey,
  importRawPublicKey,
  KeyInterner,
  RAW_KEY_LENGTH,
  rawPublicKey,
} from './keys.js';
import type { RandomSource } from './random.js';
import { Secret } from './secret.js';

/*
 * Ciphertext formats. The first byte names the format, so every ciphertext says how to decrypt it.
 *
 * 0x01, hybrid X25519 + HKDF-SHA256 + AES-256-GCM, v1 (EncryptionPublicKey.encrypt):
 *   [0] 0x01 | [1..33) ephemeral X25519 public key | [33..45) nonce | ciphertext | 16-byte tag
 *   shared = X25519(ephemeral private, recipient public), rejecting the all-zero result (low-order points);
 *   key    = HKDF-SHA256(ikm = shared, salt = ephemeral public ‖ recipient public, info = HYBRID_INFO, 32 bytes).
 *   The salt binds the key to both public keys; the info label binds it to this format and version.
 *
 * 0x02, AES-256-GCM with a caller-held 32-byte key, v1 (SymmetricKey.encrypt):
 *   [0] 0x02 | [1..13) nonce | ciphertext | 16-byte tag
 *
 * In both, the GCM associated data is the header (every byte before the ciphertext) followed by the caller's
 * associated data, so no header byte can be changed undetected. Nonces are 12 random bytes: hybrid keys are
 * single-use, and symmetric keys encrypt one view each, far below the 2^32 random-nonce limit per key.
 */
const FORMAT_HYBRID_V1 = 0x01;
const FORMAT_SYMMETRIC_V1 = 0x02;
const FORMAT_NAMES: Record<number, string> = {
  [FORMAT_HYBRID_V1]: 'hybrid X25519/AES-256-GCM v1',
  [FORMAT_SYMMETRIC_V1]: 'symmetric AES-256-GCM v1',
};
const HYBRID_INFO = Buffer.from('weft/hybrid-encryption/v1/X25519-HKDF-SHA256-AES-256-GCM', 'ascii');

const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
export const SYMMETRIC_KEY_LENGTH = 32;
const HYBRID_HEADER_LENGTH = 1 + RAW_KEY_LENGTH + NONCE_LENGTH;
const SYMMETRIC_HEADER_LENGTH = 1 + NONCE_LENGTH;

const interned = new KeyInterner<EncryptionPublicKey>();
/** Module-private access to a public key's parsed form (assigned in the class's static block). */
let keyObjectOf: (key: EncryptionPublicKey) => KeyObject;

/** An X25519 public key (RFC 7748) that others encrypt to. */
export class EncryptionPublicKey {
  readonly scheme = 'X25519';
  readonly purpose = 'encryption';
  readonly #raw: Uint8Array;
  readonly #key: KeyObject;
  #fingerprint: Fingerprint | undefined;

  static {
    keyObjectOf = (key) => key.#key;
  }

  private constructor(raw: Uint8Array, key: KeyObject) {
    this.#raw = raw;
    this.#key = key;
  }

  /** From the raw 32-byte public key; interned like {@link SigningPublicKey.fromRaw}. */
  static fromRaw(raw: Uint8Array): EncryptionPublicKey {
    return interned.get(raw, () => {
      const copy = copyBytes(raw);
      return new EncryptionPublicKey(copy, importRawPublicKey('X25519', copy));
    });
  }

  get bytes(): Uint8Array {
    return copyBytes(this.#raw);
  }

  get fingerprint(): Fingerprint {
    this.#fingerprint ??= Fingerprint.ofPublicKey(this.#raw);
    return this.#fingerprint;
  }

  /**
   * Hybrid-encrypts `plaintext` to this key (format 0x01). `associatedData` is authenticated but not encrypted; the
   * same bytes must be given to decrypt. `random` supplies the ephemeral key and the nonce.
   */
  encrypt(plaintext: Uint8Array, associatedData: Uint8Array, random: RandomSource): Uint8Array {
    const ephemeral = importRawPrivateKey('X25519', random.bytes(RAW_KEY_LENGTH));
    const ephemeralPublic = rawPublicKey(ephemeral);
    const shared = agree(ephemeral, this.#key);
    if (!shared) {
      throw new WeftError(
        CryptoErrors.INVALID_KEY,
        `cannot encrypt to X25519 key ${this.fingerprint.value}: it is a low-order point`,
        { fingerprint: this.fingerprint.value },
      );
    }
    const header = new Uint8Array(HYBRID_HEADER_LENGTH);
    header[0] = FORMAT_HYBRID_V1;
    header.set(ephemeralPublic, 1);
    header.set(random.bytes(NONCE_LENGTH), 1 + RAW_KEY_LENGTH);
    const key = hybridKey(shared, ephemeralPublic, this.#raw);
    return seal(key, header, header.subarray(1 + RAW_KEY_LENGTH), plaintext, associatedData);
  }

  equals(other: EncryptionPublicKey): boolean {
    return this === other || bytesEqual(this.#raw, other.#raw);
  }

  toString(): string {
    return `EncryptionPublicKey(X25519 ${this.fingerprint.value})`;
  }

  toJSON(): { scheme: 'X25519'; fingerprint: string } {
    return { scheme: this.scheme, fingerprint: this.fingerprint.value };
  }
}

/** An X25519 private key. Never printed: see {@link Secret}. */
export class EncryptionPrivateKey extends Secret {
  readonly scheme = 'X25519';
  readonly purpose = 'encryption';
  readonly publicKey: EncryptionPublicKey;
  readonly #key: KeyObject;

  private constructor(key: KeyObject) {
    super();
    this.#key = key;
    this.publicKey = EncryptionPublicKey.fromRaw(rawPublicKey(key));
  }

  /** From the raw 32-byte scalar (clamped as RFC 7748 prescribes). */
  static fromRaw(scalar: Uint8Array): EncryptionPrivateKey {
    return new EncryptionPrivateKey(importRawPrivateKey('X25519', scalar));
  }

  static fromPkcs8(der: Uint8Array): EncryptionPrivateKey {
    return new EncryptionPrivateKey(importPkcs8('X25519', der));
  }

  toPkcs8(): Uint8Array {
    return exportPkcs8(this.#key);
  }

  /** The raw X25519 function: the shared secret with `peer` (RFC 7748 §6.1). Throws INVALID_KEY for low-order peers. */
  agree(peer: EncryptionPublicKey): Uint8Array {
    const shared = agree(this.#key, keyObjectOf(peer));
    if (!shared) {
      throw new WeftError(
        CryptoErrors.INVALID_KEY,
        `X25519 agreement with ${peer.fingerprint.value} failed: it is a low-order point`,
        { fingerprint: peer.fingerprint.value },
      );
    }
    return shared;
  }

  /** Decrypts a format-0x01 ciphertext addressed to this key; throws `DECRYPTION_FAILED`. */
  decrypt(ciphertext: Uint8Array, associatedData: Uint8Array): Uint8Array {
    checkHeader(ciphertext, FORMAT_HYBRID_V1, HYBRID_HEADER_LENGTH);
    const ephemeralPublic = ciphertext.subarray(1, 1 + RAW_KEY_LENGTH);
    const shared = agree(this.#key, importRawPublicKey('X25519', ephemeralPublic));
    if (!shared) fail('the ephemeral public key is a low-order point', FORMAT_HYBRID_V1);
    const key = hybridKey(shared, ephemeralPublic, this.publicKey.bytes);
    return open(key, ciphertext, HYBRID_HEADER_LENGTH, associatedData, FORMAT_HYBRID_V1);
  }

  protected describe(): string {
    return `EncryptionPrivateKey X25519 fingerprint=${this.publicKey.fingerprint.value}`;
  }
}

export interface EncryptionKeyPair {
  readonly publicKey: EncryptionPublicKey;
  readonly privateKey: EncryptionPrivateKey;
}

export function generateEncryptionKeyPair(random: RandomSource): EncryptionKeyPair {
  const privateKey = EncryptionPrivateKey.fromRaw(random.bytes(RAW_KEY_LENGTH));
  return { publicKey: privateKey.publicKey, privateKey };
}

/**
 * A 32-byte AES-256-GCM key. The protocol encrypts each view under its own symmetric key, derived from its recipient
 * group's session key, which it hybrid-encrypts ({@link toBytes}) to every recipient (src/protocol/session-keys.ts).
 */
export class SymmetricKey extends Secret {
  readonly #key: Uint8Array;

  private constructor(key: Uint8Array) {
    super();
    this.#key = key;
  }

  static generate(random: RandomSource): SymmetricKey {
    return new SymmetricKey(copyBytes(random.bytes(SYMMETRIC_KEY_LENGTH)));
  }

  static fromBytes(key: Uint8Array): SymmetricKey {
    if (key.byteLength !== SYMMETRIC_KEY_LENGTH) {
      throw new WeftError(
        CryptoErrors.INVALID_KEY,
        `an AES-256 key must be ${SYMMETRIC_KEY_LENGTH} bytes, got ${key.byteLength}`,
      );
    }
    return new SymmetricKey(copyBytes(key));
  }

  /** The key bytes, for wrapping to recipients. Handle like any private key. */
  toBytes(): Uint8Array {
    return copyBytes(this.#key);
  }

  /** Encrypts to format 0x02; `associatedData` is authenticated but not encrypted. */
  encrypt(plaintext: Uint8Array, associatedData: Uint8Array, random: RandomSource): Uint8Array {
    const header = new Uint8Array(SYMMETRIC_HEADER_LENGTH);
    header[0] = FORMAT_SYMMETRIC_V1;
    header.set(random.bytes(NONCE_LENGTH), 1);
    return seal(this.#key, header, header.subarray(1), plaintext, associatedData);
  }

  /** Decrypts a format-0x02 ciphertext; throws `DECRYPTION_FAILED`. */
  decrypt(ciphertext: Uint8Array, associatedData: Uint8Array): Uint8Array {
    checkHeader(ciphertext, FORMAT_SYMMETRIC_V1, SYMMETRIC_HEADER_LENGTH);
    return open(this.#key, ciphertext, SYMMETRIC_HEADER_LENGTH, associatedData, FORMAT_SYMMETRIC_V1);
  }

  protected describe(): string {
    return 'SymmetricKey AES-256-GCM';
  }
}

/** X25519 agreement; undefined for the all-zero output of a low-order point (OpenSSL refuses to derive it). */
function agree(privateKey: KeyObject, publicKey: KeyObject): Uint8Array | undefined {
  try {
    return plain(diffieHellman({ privateKey, publicKey }));
  } catch {
    return undefined;
  }
}

function hybridKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  const salt = Buffer.concat([ephemeralPublic, recipientPublic]);
  return hkdfSha256(shared, salt, HYBRID_INFO, SYMMETRIC_KEY_LENGTH);
}

function seal(
  key: Uint8Array,
  header: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(header);
  cipher.setAAD(associatedData);
  const out = new Uint8Array(header.byteLength + plaintext.byteLength + TAG_LENGTH);
  out.set(header);
  let off = header.byteLength;
  for (const part of [cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]) {
    out.set(part, off);
    off += part.byteLength;
  }
  return out;
}

function open(
  key: Uint8Array,
  ciphertext: Uint8Array,
  headerLength: number,
  associatedData: Uint8Array,
  format: number,
): Uint8Array {
  const nonce = ciphertext.subarray(headerLength - NONCE_LENGTH, headerLength);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(ciphertext.subarray(0, headerLength));
  decipher.setAAD(associatedData);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.byteLength - TAG_LENGTH));
  const body = ciphertext.subarray(headerLength, ciphertext.byteLength - TAG_LENGTH);
  try {
    return plain(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    return fail('authentication failed: wrong key, or the ciphertext or associated data was altered', format);
  }
}

function checkHeader(ciphertext: Uint8Array, format: number, headerLength: number): void {
  const min = headerLength + TAG_LENGTH;
  if (ciphertext.byteLength === 0) fail('the ciphertext is empty', format);
  if (ciphertext[0] !== format) {
    const got = ciphertext[0]!;
    const name = FORMAT_NAMES[got];
    fail(
      `unsupported ciphertext format 0x${hex2(got)}${name ? ` (${name})` : ''}; expected 0x${hex2(format)}`,
      format,
    );
  }
  if (ciphertext.byteLength < min) {
    fail(`the ciphertext is ${ciphertext.byteLength} bytes, shorter than the ${min}-byte minimum`, format);
  }
}

function fail(reason: string, format: number): never {
  throw new WeftError(
    CryptoErrors.DECRYPTION_FAILED,
    `cannot decrypt ${FORMAT_NAMES[format]} ciphertext: ${reason}`,
    {
      format,
    },
  );
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
