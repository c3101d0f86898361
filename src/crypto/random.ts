import { createHmac, randomBytes } from 'node:crypto';
import { plain } from './bytes.js';

/**
 * Where protocol code gets randomness (docs/architecture.md, 'Determinism at the edges'): production wires
 * {@link systemRandom}, tests and the deterministic simulator wire a seeded {@link DeterministicRandom}.
 */
export interface RandomSource {
  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array;
}

/** The operating system's CSPRNG via `crypto.randomBytes`. */
export const systemRandom: RandomSource = {
  bytes: (n) => plain(randomBytes(n)),
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
