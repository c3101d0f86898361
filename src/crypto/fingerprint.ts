import { WeftError } from '../errors/index.js';
import { CryptoErrors } from './errors.js';
import { Hash, HashPurpose, multihashHexProblem } from './hash.js';

/**
 * The identifier of a public key, in Canton's format: the hex multihash of
 * `SHA-256(int32be(12) ‖ raw public key)`, i.e. `'1220'` + 64 lowercase hex digits (68 characters). 12 is
 * `HashPurpose.PublicKeyFingerprint`; the raw key is the 32-byte Ed25519 or X25519 public key (for Ed25519 this is
 * what Canton hashes too, even for keys stored as X.509 SubjectPublicKeyInfo).
 */
export class Fingerprint {
  private constructor(readonly value: string) {}

  /** Fingerprint of a raw public key (32 bytes for Ed25519 and X25519). */
  static ofPublicKey(rawPublicKey: Uint8Array): Fingerprint {
    return new Fingerprint(Hash.digest(HashPurpose.PublicKeyFingerprint, rawPublicKey).toHex());
  }

  static parse(s: string): Fingerprint {
    const problem = Fingerprint.problem(s);
    if (problem) {
      const shown = s.length > 80 ? `${s.slice(0, 77)}...` : s;
      throw new WeftError(CryptoErrors.INVALID_FINGERPRINT, `fingerprint '${shown}' ${problem}`);
    }
    return new Fingerprint(s);
  }

  /** Why `s` is not a valid fingerprint (a phrase to append to what was parsed), or undefined if it is one. */
  static problem(s: string): string | undefined {
    return multihashHexProblem(s);
  }

  equals(other: Fingerprint): boolean {
    return this.value === other.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }
}
