import type { KeyObject } from 'node:crypto';
import sodium from 'sodium-native';
import { WeftError } from '../errors/index.js';
import { asBuffer } from '../wire/index.js';
import { bytesEqual, copyBytes, plain } from './bytes.js';
import { CryptoErrors } from './errors.js';
import { Fingerprint } from './fingerprint.js';
import {
  checkRawLength,
  exportPkcs8,
  importPkcs8,
  importRawPrivateKey,
  KeyInterner,
  RAW_KEY_LENGTH,
  rawPrivateKey,
  spki,
} from './keys.js';
import type { RandomSource } from './random.js';
import { Secret } from './secret.js';

/** Ed25519 signatures are always 64 bytes. */
export const SIGNATURE_LENGTH = 64;

/*
 * Signing and verifying run in libsodium (sodium-native), not node:crypto: the same RFC 8032 signatures in about
 * half the time, since OpenSSL 3 builds a fresh context per call and its curve code is slower (docs/performance.md,
 * 'Ed25519 in libsodium').
 * Keys still enter and leave as node:crypto key objects (PKCS#8, SPKI), which stay the storage formats.
 */

const interned = new KeyInterner<SigningPublicKey>();

/**
 * Ed25519 operations of this process since it started (every node in it), for the per-transaction figures of the
 * benchmark and the nodes' `/metrics`; two integer increments, nothing measurable beside a signature.
 */
export const signatureCounts: { signed: number; verified: number } = { signed: 0, verified: 0 };

/** An Ed25519 public key (RFC 8032), identified by its {@link Fingerprint}. */
export class SigningPublicKey {
  readonly scheme = 'Ed25519';
  readonly purpose = 'signing';
  readonly #raw: Buffer;
  #fingerprint: Fingerprint | undefined;

  private constructor(raw: Buffer) {
    this.#raw = raw;
  }

  /**
   * From the raw 32-byte public key. Instances are interned (bounded LRU), so calling this per message with the
   * same key bytes is cheap and reuses one parsed key.
   */
  static fromRaw(raw: Uint8Array): SigningPublicKey {
    return interned.get(raw, () => {
      // Any 32 bytes are accepted, as OpenSSL does; a key that is no curve point verifies nothing.
      checkRawLength('Ed25519', 'public key', raw);
      return new SigningPublicKey(Buffer.from(raw));
    });
  }

  /** The raw 32-byte public key (a copy). */
  get bytes(): Uint8Array {
    return copyBytes(this.#raw);
  }

  get fingerprint(): Fingerprint {
    this.#fingerprint ??= Fingerprint.ofPublicKey(this.#raw);
    return this.#fingerprint;
  }

  /** DER-encoded X.509 SubjectPublicKeyInfo, the format Canton uses for public keys on the wire. */
  toSpki(): Uint8Array {
    return spki('Ed25519', this.#raw);
  }

  /** Whether `signature` is a valid signature of `message` by this key. Malformed signatures are `false`. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    signatureCounts.verified++;
    return (
      signature.byteLength === SIGNATURE_LENGTH &&
      sodium.crypto_sign_verify_detached(asBuffer(signature), asBuffer(message), this.#raw)
    );
  }

  /**
   * Like {@link verify} but throws `SIGNATURE_INVALID`; `what` names the signed object in the message
   * (e.g. 'topology transaction').
   */
  verifyOrThrow(message: Uint8Array, signature: Uint8Array, what = 'message'): void {
    signatureCounts.verified++;
    const context = { fingerprint: this.fingerprint.value };
    if (signature.byteLength !== SIGNATURE_LENGTH) {
      throw new WeftError(
        CryptoErrors.SIGNATURE_INVALID,
        `Ed25519 signature on ${what} must be ${SIGNATURE_LENGTH} bytes, got ${signature.byteLength} (key ${context.fingerprint})`,
        context,
      );
    }
    if (!sodium.crypto_sign_verify_detached(asBuffer(signature), asBuffer(message), this.#raw)) {
      throw new WeftError(
        CryptoErrors.SIGNATURE_INVALID,
        `Ed25519 signature on ${what} does not verify under key ${context.fingerprint}`,
        context,
      );
    }
  }

  equals(other: SigningPublicKey): boolean {
    return this === other || bytesEqual(this.#raw, other.#raw);
  }

  toString(): string {
    return `SigningPublicKey(Ed25519 ${this.fingerprint.value})`;
  }

  toJSON(): { scheme: 'Ed25519'; fingerprint: string } {
    return { scheme: this.scheme, fingerprint: this.fingerprint.value };
  }
}

/** An Ed25519 private key. Never printed: see {@link Secret}. */
export class SigningPrivateKey extends Secret {
  readonly scheme = 'Ed25519';
  readonly purpose = 'signing';
  readonly publicKey: SigningPublicKey;
  readonly #key: KeyObject;
  /** libsodium's form of the key: the seed followed by the public key. */
  readonly #secret = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);

  private constructor(key: KeyObject) {
    super();
    this.#key = key;
    const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
    sodium.crypto_sign_seed_keypair(publicKey, this.#secret, asBuffer(rawPrivateKey(key)));
    this.publicKey = SigningPublicKey.fromRaw(publicKey);
  }

  /** From the 32-byte RFC 8032 secret key (the seed). */
  static fromSeed(seed: Uint8Array): SigningPrivateKey {
    return new SigningPrivateKey(importRawPrivateKey('Ed25519', seed));
  }

  /** From a DER-encoded PKCS#8 PrivateKeyInfo. */
  static fromPkcs8(der: Uint8Array): SigningPrivateKey {
    return new SigningPrivateKey(importPkcs8('Ed25519', der));
  }

  /** DER-encoded PKCS#8 PrivateKeyInfo, the format Canton stores private keys in. */
  toPkcs8(): Uint8Array {
    return exportPkcs8(this.#key);
  }

  /** The 64-byte Ed25519 signature of `message` (deterministic, so no randomness needed). */
  sign(message: Uint8Array): Uint8Array {
    signatureCounts.signed++;
    const signature = Buffer.alloc(SIGNATURE_LENGTH);
    sodium.crypto_sign_detached(signature, asBuffer(message), this.#secret);
    return plain(signature);
  }

  protected describe(): string {
    return `SigningPrivateKey Ed25519 fingerprint=${this.publicKey.fingerprint.value}`;
  }
}

export interface SigningKeyPair {
  readonly publicKey: SigningPublicKey;
  readonly privateKey: SigningPrivateKey;
}

/** A fresh Ed25519 key pair whose seed comes from `random`. */
export function generateSigningKeyPair(random: RandomSource): SigningKeyPair {
  const privateKey = SigningPrivateKey.fromSeed(random.bytes(RAW_KEY_LENGTH));
  return { publicKey: privateKey.publicKey, privateKey };
}
