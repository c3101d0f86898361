import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { WeftError } from '../errors/index.js';
import { plain } from './bytes.js';
import { CryptoErrors } from './errors.js';

/** Internal key codec shared by the signing and encryption key classes. */

export type KeyPurpose = 'signing' | 'encryption';
export type KeyScheme = 'Ed25519' | 'X25519';

/** Raw public keys, Ed25519 seeds and X25519 scalars are all 32 bytes. */
export const RAW_KEY_LENGTH = 32;

// The SubjectPublicKeyInfo of a 32-byte key is a fixed prefix followed by the raw key (RFC 8410).
const SPKI_PREFIX: Record<KeyScheme, Buffer> = {
  Ed25519: Buffer.from('302a300506032b6570032100', 'hex'),
  X25519: Buffer.from('302a300506032b656e032100', 'hex'),
};
const NODE_TYPE: Record<KeyScheme, string> = { Ed25519: 'ed25519', X25519: 'x25519' };

export function checkRawLength(scheme: KeyScheme, what: string, raw: Uint8Array): void {
  if (raw.byteLength !== RAW_KEY_LENGTH) {
    throw new WeftError(
      CryptoErrors.INVALID_KEY,
      `${scheme} ${what} must be ${RAW_KEY_LENGTH} bytes, got ${raw.byteLength}`,
      { scheme },
    );
  }
}

const base64url = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

/*
 * Raw keys go in and out of node:crypto as JWK, which Node maps directly to OpenSSL's raw-key constructors; the DER
 * route runs OpenSSL 3's generic decoders and costs about ten times as much (~80-120 µs per public key import,
 * ~350 µs per private key import on the reference VM), which matters for the ephemeral key of every hybrid encryption.
 */

export function importRawPublicKey(scheme: KeyScheme, raw: Uint8Array): KeyObject {
  checkRawLength(scheme, 'public key', raw);
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: scheme, x: base64url(raw) }, format: 'jwk' });
  } catch (cause) {
    throw new WeftError(CryptoErrors.INVALID_KEY, `not a valid ${scheme} public key`, { scheme }, { cause });
  }
}

/** From the 32-byte private key (Ed25519 seed, X25519 scalar). */
export function importRawPrivateKey(scheme: KeyScheme, raw: Uint8Array): KeyObject {
  checkRawLength(scheme, 'private key', raw);
  // Node builds an OKP private key from `d` alone (the public half is derived) and only type-checks `x`; the
  // RFC 8032 and RFC 7748 known-answer tests would fail if that ever changed.
  return createPrivateKey({ key: { kty: 'OKP', crv: scheme, d: base64url(raw), x: '' }, format: 'jwk' });
}

/** DER-encoded X.509 SubjectPublicKeyInfo of a raw public key. */
export function spki(scheme: KeyScheme, raw: Uint8Array): Uint8Array {
  return plain(Buffer.concat([SPKI_PREFIX[scheme], raw]));
}

export function importPkcs8(scheme: KeyScheme, der: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch {
    // No cause attached: OpenSSL's message is no help to the user and the input is secret.
    const message = `${scheme} private key is not a valid PKCS#8 DER structure`;
    throw new WeftError(CryptoErrors.INVALID_KEY, message, { scheme });
  }
  if (key.asymmetricKeyType !== NODE_TYPE[scheme]) {
    throw new WeftError(
      CryptoErrors.INVALID_KEY,
      `expected a PKCS#8 ${scheme} private key, got a ${key.asymmetricKeyType ?? 'non-asymmetric'} key`,
      { scheme },
    );
  }
  return key;
}

export function exportPkcs8(key: KeyObject): Uint8Array {
  return plain(key.export({ format: 'der', type: 'pkcs8' }));
}

/** The raw 32-byte private key (Ed25519 seed, X25519 scalar) of a private key object. */
export function rawPrivateKey(key: KeyObject): Uint8Array {
  return plain(Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url'));
}

/** The raw 32-byte public key of a public or private key object. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return plain(Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url'));
}

/** Default number of distinct public keys per scheme kept parsed; see {@link setPublicKeyCacheCapacity}. */
export const DEFAULT_PUBLIC_KEY_CACHE_CAPACITY = 10_000;

let cacheCapacity = DEFAULT_PUBLIC_KEY_CACHE_CAPACITY;
const interners = new Set<KeyInterner<unknown>>();

/**
 * Interns public key objects by their raw bytes, so each distinct key is parsed into a `KeyObject` (and fingerprinted)
 * once instead of per verification or encryption; see docs/performance.md for what that saves. Bounded (LRU) so that
 * a stream of distinct keys cannot grow it without limit.
 */
export class KeyInterner<V> {
  readonly #entries = new Map<string, V>();

  constructor() {
    interners.add(this);
  }

  get(raw: Uint8Array, create: () => V): V {
    const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
    const hit = this.#entries.get(id);
    if (hit !== undefined) {
      // Re-insert to mark as most recently used.
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      return hit;
    }
    const value = create();
    this.#entries.set(id, value);
    this.evict();
    return value;
  }

  evict(): void {
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= cacheCapacity) break;
      this.#entries.delete(oldest);
    }
  }
}

/**
 * Sets how many distinct public keys per scheme stay parsed (a limit, docs/architecture.md, 'Limits on
 * everything'). Size it above the number of keys in the topology so that verification never re-parses.
 */
export function setPublicKeyCacheCapacity(capacity: number): void {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new RangeError(`public key cache capacity must be a positive integer, got ${capacity}`);
  }
  cacheCapacity = capacity;
  for (const interner of interners) interner.evict();
}
