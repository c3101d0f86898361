import { WeftError } from '../errors/index.js';
import { bytesEqual, copyBytes, plain } from './bytes.js';
import { type EncryptionKeyPair, EncryptionPrivateKey } from './encryption.js';
import { CryptoErrors } from './errors.js';
import { Fingerprint } from './fingerprint.js';
import { Hash } from './hash.js';
import type { KeyPurpose, KeyScheme } from './keys.js';
import { Secret } from './secret.js';
import { type SigningKeyPair, SigningPrivateKey } from './signing.js';

/** The fields of a stored key pair, e.g. as columns of the key store. */
export interface KeyRecordFields {
  readonly fingerprint: Fingerprint;
  readonly purpose: KeyPurpose;
  readonly scheme: KeyScheme;
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** DER-encoded PKCS#8 private key. */
  readonly privateKey: Uint8Array;
}

const SCHEME_OF_PURPOSE: Record<KeyPurpose, KeyScheme> = { signing: 'Ed25519', encryption: 'X25519' };
const PURPOSE_CODE: Record<KeyPurpose, number> = { signing: 1, encryption: 2 };
const SCHEME_CODE: Record<KeyScheme, number> = { Ed25519: 1, X25519: 2 };
const FORMAT_V1 = 0x01;

/**
 * A key pair in storable form. Constructing one (from fields or bytes) checks that the fingerprint, public key and
 * private key belong together. Prints as a redacted placeholder.
 *
 * Binary encoding, v1: `0x01 | purpose (1 signing, 2 encryption) | scheme (1 Ed25519, 2 X25519) |
 * fingerprint (34-byte multihash) | u16be length ‖ public key | u16be length ‖ PKCS#8 private key`.
 */
export class KeyRecord extends Secret {
  readonly fingerprint: Fingerprint;
  readonly purpose: KeyPurpose;
  readonly scheme: KeyScheme;
  readonly #publicKey: Uint8Array;
  readonly #privateKey: Uint8Array;
  readonly #keyPair: SigningKeyPair | EncryptionKeyPair;

  private constructor(fields: KeyRecordFields, keyPair: SigningKeyPair | EncryptionKeyPair) {
    super();
    this.fingerprint = fields.fingerprint;
    this.purpose = fields.purpose;
    this.scheme = fields.scheme;
    this.#publicKey = copyBytes(fields.publicKey);
    this.#privateKey = copyBytes(fields.privateKey);
    this.#keyPair = keyPair;
  }

  static fromKeyPair(pair: SigningKeyPair | EncryptionKeyPair): KeyRecord {
    const { publicKey, privateKey } = pair;
    return new KeyRecord(
      {
        fingerprint: publicKey.fingerprint,
        purpose: publicKey.purpose,
        scheme: publicKey.scheme,
        publicKey: publicKey.bytes,
        privateKey: privateKey.toPkcs8(),
      },
      pair,
    );
  }

  /** Validates stored fields; throws `INVALID_KEY` naming the inconsistency. */
  static fromFields(fields: KeyRecordFields): KeyRecord {
    const { purpose, scheme, fingerprint } = fields;
    if (SCHEME_OF_PURPOSE[purpose] !== scheme) {
      invalid(`a ${purpose} key must use ${SCHEME_OF_PURPOSE[purpose]}, not ${scheme}`, fingerprint);
    }
    const pair =
      purpose === 'signing'
        ? pairOf(SigningPrivateKey.fromPkcs8(fields.privateKey))
        : pairOf(EncryptionPrivateKey.fromPkcs8(fields.privateKey));
    if (!bytesEqual(pair.publicKey.bytes, fields.publicKey)) {
      invalid('the public key is not the one belonging to the private key', fingerprint);
    }
    if (!pair.publicKey.fingerprint.equals(fingerprint)) {
      invalid(
        `the fingerprint does not match the public key, whose fingerprint is ${pair.publicKey.fingerprint}`,
        fingerprint,
      );
    }
    return new KeyRecord(fields, pair);
  }

  static decode(bytes: Uint8Array): KeyRecord {
    const reader = new Reader(bytes);
    const format = reader.byte();
    if (format !== FORMAT_V1) invalid(`unsupported key record format ${format}; expected ${FORMAT_V1}`);
    const purpose = lookup(PURPOSE_CODE, reader.byte(), 'purpose');
    const scheme = lookup(SCHEME_CODE, reader.byte(), 'scheme');
    const multihash = reader.take(34);
    if (multihash[0] !== 0x12 || multihash[1] !== 0x20) invalid('the fingerprint is not a SHA-256 multihash');
    const fingerprint = Fingerprint.parse(Hash.fromMultihash(multihash).toHex());
    const publicKey = reader.take(reader.u16());
    const privateKey = reader.take(reader.u16());
    if (!reader.done()) invalid(`${reader.remaining()} unexpected bytes after the private key`, fingerprint);
    return KeyRecord.fromFields({ fingerprint, purpose, scheme, publicKey, privateKey });
  }

  /** Raw 32-byte public key (a copy). */
  get publicKey(): Uint8Array {
    return copyBytes(this.#publicKey);
  }

  /** PKCS#8 DER private key (a copy). Handle as secret. */
  get privateKey(): Uint8Array {
    return copyBytes(this.#privateKey);
  }

  encode(): Uint8Array {
    const pub = this.#publicKey;
    const priv = this.#privateKey;
    const out = Buffer.alloc(3 + 34 + 2 + pub.byteLength + 2 + priv.byteLength);
    let off = out.writeUInt8(FORMAT_V1, 0);
    off = out.writeUInt8(PURPOSE_CODE[this.purpose], off);
    off = out.writeUInt8(SCHEME_CODE[this.scheme], off);
    out.set(Hash.fromHex(this.fingerprint.value).toMultihash(), off);
    off += 34;
    off = out.writeUInt16BE(pub.byteLength, off);
    out.set(pub, off);
    off = out.writeUInt16BE(priv.byteLength, off + pub.byteLength);
    out.set(priv, off);
    return plain(out);
  }

  toSigningKeyPair(): SigningKeyPair {
    const pair = this.#keyPair;
    if (!(pair.privateKey instanceof SigningPrivateKey))
      invalid('this is an encryption key', this.fingerprint);
    return pair as SigningKeyPair;
  }

  toEncryptionKeyPair(): EncryptionKeyPair {
    const pair = this.#keyPair;
    if (!(pair.privateKey instanceof EncryptionPrivateKey))
      invalid('this is a signing key', this.fingerprint);
    return pair as EncryptionKeyPair;
  }

  protected describe(): string {
    return `KeyRecord ${this.purpose} ${this.scheme} fingerprint=${this.fingerprint.value}`;
  }
}

function pairOf<K extends SigningPrivateKey | EncryptionPrivateKey>(
  privateKey: K,
): { publicKey: K['publicKey']; privateKey: K } {
  return { publicKey: privateKey.publicKey, privateKey };
}

function invalid(reason: string, fingerprint?: Fingerprint): never {
  const which = fingerprint ? ` ${fingerprint.value}` : '';
  throw new WeftError(CryptoErrors.INVALID_KEY, `invalid key record${which}: ${reason}`, {
    fingerprint: fingerprint?.value,
  });
}

function lookup<K extends string>(codes: Record<K, number>, code: number, what: string): K {
  for (const [name, value] of Object.entries(codes) as [K, number][]) if (value === code) return name;
  return invalid(`unknown ${what} code ${code}`);
}

class Reader {
  #off = 0;

  constructor(private readonly bytes: Uint8Array) {}

  take(n: number): Uint8Array {
    if (this.#off + n > this.bytes.byteLength) {
      invalid(`truncated: needs ${this.#off + n} bytes, has ${this.bytes.byteLength}`);
    }
    const out = this.bytes.subarray(this.#off, this.#off + n);
    this.#off += n;
    return out;
  }

  byte(): number {
    return this.take(1)[0]!;
  }

  u16(): number {
    const b = this.take(2);
    return (b[0]! << 8) | b[1]!;
  }

  remaining(): number {
    return this.bytes.byteLength - this.#off;
  }

  done(): boolean {
    return this.remaining() === 0;
  }
}
