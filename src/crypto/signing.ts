import { type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { WeftError } from '../errors/index.js';
import { bytesEqual, copyBytes, plain } from './bytes.js';
import { CryptoErrors } from './errors.js';
import { Fingerprint } from './fingerprint.js';
import {
  exportPkcs8,
  importPkcs8,
  importRawPrivateKey,
  importRawPublicKey,
  KeyInterner,
  RAW_KEY_LENGTH,
  rawPublicKey,
  spki,
} from './keys.js';
import type { RandomSource } from './random.js';
import { Secret } from './secret.js';

/** Ed25519 signatures are always 64 bytes. */
export const SIGNATURE_LENGTH = 64;

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
  readonly #raw: Uint8Array;
  readonly #key: KeyObject;
  #fingerprint: Fingerprint | undefined;

  private constructor(raw: Uint8Array, key: KeyObject) {
    this.#raw = raw;
    this.#key = key;
  }

  /**
   * From the raw 32-byte public key. Instances are interned (bounded LRU), so calling this per message with the
   * same key bytes is cheap and reuses one parsed key.
   */
  static fromRaw(raw: Uint8Array): SigningPublicKey {
    return interned.get(raw, () => {
      const copy = copyBytes(raw);
      return new SigningPublicKey(copy, importRawPublicKey('Ed25519', copy));
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
    return signature.byteLength === SIGNATURE_LENGTH && nodeVerify(null, message, this.#key, signature);
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
    if (!nodeVerify(null, message, this.#key, signature)) {
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

  private constructor(key: KeyObject) {
    super();
    this.#key = key;
    this.publicKey = SigningPublicKey.fromRaw(rawPublicKey(key));
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
    return plain(nodeSign(null, message, this.#key));
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
