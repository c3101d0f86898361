import { createHmac, randomBytes, randomFillSync } from 'node:crypto';
import { plain } from './bytes.js';

/**
 * Where protocol code gets randomness (docs/architecture.md, 'Determinism at the edges'): production wires
 * {@link systemRandom}, tests and the deterministic simulator wire a seeded {@link DeterministicRandom}.
 */
export interface RandomSource {
  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array;
}

/**
 * Bytes drawn from the CSPRNG at once: a transaction takes a few dozen small draws (seeds, salts, nonces, ids), and
 * each call into OpenSSL costs more than the bytes (as Node's `randomUUID` caches its entropy). Requests above a
 * quarter of the pool go to the CSPRNG directly. A draw is copied out and its bytes are never handed out again.
 */
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** The operating system's CSPRNG via `crypto.randomFillSync`, drawn in bulk. */
export const systemRandom: RandomSource = {
  bytes: (n) => {
    if (n > POOL_SIZE / 4) return plain(randomBytes(n));
    if (poolOffset + n > POOL_SIZE) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const out = pool.slice(poolOffset, poolOffset + n);
    poolOffset += n;
    return out;
  },
};

/**
 * HMAC-DRBG with SHA-256 (NIST SP 800-90A §10.1.2, no reseeding, no prediction resistance): the same seed always
 * yields the same stream. Each `bytes(n)` call is one DRBG Generate request. For tests and simulation only: a seed
 * chosen by a test is not a secret.
 */
export class DeterministicRandom implements RandomSource {
  #k: Buffer = Buffer.alloc(32, 0x00);
  #v: Buffer = Buffer.alloc(32, 0x01);

  /** `seed` is the DRBG seed material (entropy input ‖ nonce ‖ personalization); a string is taken as UTF-8. */
  constructor(seed: Uint8Array | string) {
    const material = typeof seed === 'string' ? Buffer.from(seed, 'utf8') : seed;
    if (material.byteLength === 0) throw new RangeError('DeterministicRandom needs a non-empty seed');
    this.#update(material);
  }

  bytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot produce ${n} random bytes`);
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      this.#v = this.#hmac(this.#v);
      out.set(this.#v.subarray(0, Math.min(32, n - off)), off);
    }
    this.#update();
    return out;
  }

  #hmac(...parts: Uint8Array[]): Buffer {
    const h = createHmac('sha256', this.#k);
    for (const p of parts) h.update(p);
    return h.digest();
  }

  /** HMAC_DRBG_Update(provided_data). */
  #update(provided?: Uint8Array): void {
    this.#k = this.#hmac(this.#v, ZERO, ...(provided ? [provided] : []));
    this.#v = this.#hmac(this.#v);
    if (!provided) return;
    this.#k = this.#hmac(this.#v, ONE, provided);
    this.#v = this.#hmac(this.#v);
  }
}

const ZERO = Uint8Array.of(0x00);
const ONE = Uint8Array.of(0x01);

/** A random version-4 UUID from `random` (request, submission and trigger ids, as Canton generates them). */
export function randomUuid(random: RandomSource): string {
  const b = Buffer.from(random.bytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
