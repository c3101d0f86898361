import { WeftError } from '../errors/index.js';
import { ProtocolErrors } from '../protocol/index.js';

/**
 * A minimal binary framing for the participant's own encodings (view participant data, stored contracts):
 * unsigned LEB128 integers, zig-zag 64-bit integers, and length-prefixed bytes and strings. The Daml parts inside
 * are the engine's canonical encoding; this only frames them.
 */
export class WireWriter {
  readonly #parts: Uint8Array[] = [];

  uint(n: number): this {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    this.#parts.push(Uint8Array.from(out));
    return this;
  }

  bigint(n: bigint): this {
    let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    const out: number[] = [];
    while (z >= 0x80n) {
      out.push(Number(z & 0x7fn) | 0x80);
      z >>= 7n;
    }
    out.push(Number(z));
    this.#parts.push(Uint8Array.from(out));
    return this;
  }

  bytes(b: Uint8Array): this {
    this.uint(b.length);
    this.#parts.push(b);
    return this;
  }

  string(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }

  uints(ns: readonly number[]): this {
    this.uint(ns.length);
    for (const n of ns) this.uint(n);
    return this;
  }

  strings(ss: readonly string[]): this {
    this.uint(ss.length);
    for (const s of ss) this.string(s);
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

/** Reads what {@link WireWriter} wrote; anything truncated or out of range is PROTOCOL_MESSAGE_MALFORMED. */
export class WireReader {
  #pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.#pos === this.buf.length;
  }

  #fail(message: string): never {
    throw new WeftError(ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED, `${this.what}: ${message}`);
  }

  #byte(): number {
    if (this.#pos >= this.buf.length) this.#fail('truncated');
    return this.buf[this.#pos++]!;
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i > 7) this.#fail('integer too long');
      const b = this.#byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (!Number.isSafeInteger(n)) this.#fail('integer out of range');
    return n;
  }

  bigint(): bigint {
    let z = 0n;
    let shift = 0n;
    for (let i = 0; ; i++) {
      if (i > 9) this.#fail('64-bit integer too long');
      const b = this.#byte();
      z |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
    }
    return z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
  }

  bytes(): Uint8Array {
    const n = this.uint();
    if (this.#pos + n > this.buf.length) this.#fail('truncated');
    const out = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  /** At most `max` entries, so a hostile length cannot make the reader allocate without bound. */
  uints(max = this.buf.length): number[] {
    const n = this.#count(max);
    return Array.from({ length: n }, () => this.uint());
  }

  strings(max = this.buf.length): string[] {
    const n = this.#count(max);
    return Array.from({ length: n }, () => this.string());
  }

  count(): number {
    return this.#count(this.buf.length);
  }

  #count(max: number): number {
    const n = this.uint();
    if (n > max) this.#fail(`${n} entries exceed the limit of ${max}`);
    return n;
  }

  end(): void {
    if (!this.done) this.#fail('trailing bytes');
  }
}
