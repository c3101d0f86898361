import { type IBinaryWriter, PbLong, PbULong, type WireType } from '@protobuf-ts/runtime';

/** Initial buffer of a writer; it doubles as needed. */
const INITIAL_BYTES = 16 * 1024;
/** The largest buffer kept for the next writer (a larger one serves its message and is dropped). */
const KEPT_BYTES = 1024 * 1024;
/**
 * Strings up to this length are checked for ASCII and copied in JavaScript: cheaper than the two native calls
 * below that length (labels, amounts, module names), dearer above it (measured on Node 20).
 */
const SHORT_STRING = 32;

/**
 * The buffer of the previous writer, taken by the next: `toBinary` writes a message synchronously and `finish`
 * copies the bytes out, so one buffer serves every message instead of a fresh allocation (and regrowth) each.
 */
let spare: Buffer | undefined;
const EMPTY = Buffer.alloc(0);

/**
 * A protobuf binary writer for protobuf-ts (`toBinary(message, { writerFactory })`) that writes into one growing
 * buffer. The runtime's own writer collects every scalar into a JavaScript array and every string and nested
 * message into a separate Uint8Array, which costs microseconds per field: on large messages (a Ledger API
 * transaction is a few dozen strings deep in nested values, a submission carries kilobytes of envelopes) it was
 * most of the cost of encoding. Output is
 * byte for byte the runtime writer's (minimal varints, the same field order). A nested message is written in
 * place after one byte reserved for its length; on `join` a length of 128 or more moves it to make room.
 */
export class FastBinaryWriter implements IBinaryWriter {
  #buf: Buffer = spare ?? Buffer.allocUnsafe(INITIAL_BYTES);
  #pos = 0;
  /** Start offsets (of the reserved length byte) of the nested messages being written. */
  readonly #forks: number[] = [];

  constructor() {
    spare = undefined;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = Math.max(INITIAL_BYTES, this.#buf.length * 2);
    while (size < this.#pos + n) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.#buf.copy(bigger, 0, 0, this.#pos);
    this.#buf = bigger;
  }

  finish(): Uint8Array {
    if (this.#forks.length > 0) throw new Error('invalid state: a nested message is not joined');
    const out = Buffer.allocUnsafe(this.#pos);
    this.#buf.copy(out, 0, 0, this.#pos);
    this.#pos = 0;
    if (this.#buf.length <= KEPT_BYTES) {
      // Handed on: this writer, if used again, starts a buffer of its own.
      spare = this.#buf;
      this.#buf = EMPTY;
    }
    // A plain Uint8Array, as the runtime's writer returns: what decodes it then reads its bytes fields as such too.
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  fork(): IBinaryWriter {
    this.#ensure(1);
    this.#forks.push(this.#pos++);
    return this;
  }

  join(): IBinaryWriter {
    const start = this.#forks.pop();
    if (start === undefined) throw new Error('invalid state, fork stack empty');
    const length = this.#pos - start - 1;
    const prefix = varint32Size(length);
    if (prefix > 1) {
      this.#ensure(prefix - 1);
      this.#buf.copyWithin(start + prefix, start + 1, this.#pos);
      this.#pos += prefix - 1;
    }
    writeVarint32(this.#buf, start, length);
    return this;
  }

  tag(fieldNo: number, type: WireType): IBinaryWriter {
    return this.uint32(((fieldNo << 3) | type) >>> 0);
  }

  raw(chunk: Uint8Array): IBinaryWriter {
    this.#ensure(chunk.length);
    this.#buf.set(chunk, this.#pos);
    this.#pos += chunk.length;
    return this;
  }

  uint32(value: number): IBinaryWriter {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new Error(`invalid uint32: ${value}`);
    this.#ensure(5);
    while (value > 0x7f) {
      this.#buf[this.#pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.#buf[this.#pos++] = value;
    return this;
  }

  int32(value: number): IBinaryWriter {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new Error(`invalid int32: ${value}`);
    }
    // A negative int32 is sign-extended to 64 bits, as protobuf specifies.
    return value >= 0 ? this.uint32(value) : this.#varint64(value >>> 0, 0xffffffff);
  }

  sint32(value: number): IBinaryWriter {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new Error(`invalid int32: ${value}`);
    }
    return this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  int64(value: string | number | bigint): IBinaryWriter {
    const long = PbLong.from(value);
    return this.#varint64(long.lo >>> 0, long.hi >>> 0);
  }

  uint64(value: string | number | bigint): IBinaryWriter {
    const long = PbULong.from(value);
    return this.#varint64(long.lo >>> 0, long.hi >>> 0);
  }

  sint64(value: string | number | bigint): IBinaryWriter {
    const long = PbLong.from(value);
    const sign = long.hi >> 31;
    const lo = (long.lo << 1) ^ sign;
    const hi = ((long.hi << 1) | (long.lo >>> 31)) ^ sign;
    return this.#varint64(lo >>> 0, hi >>> 0);
  }

  fixed64(value: string | number | bigint): IBinaryWriter {
    const long = PbULong.from(value);
    return this.#fixed64(long.lo, long.hi);
  }

  sfixed64(value: string | number | bigint): IBinaryWriter {
    const long = PbLong.from(value);
    return this.#fixed64(long.lo, long.hi);
  }

  bool(value: boolean): IBinaryWriter {
    this.#ensure(1);
    this.#buf[this.#pos++] = value ? 1 : 0;
    return this;
  }

  fixed32(value: number): IBinaryWriter {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new Error(`invalid uint32: ${value}`);
    this.#ensure(4);
    this.#pos = this.#buf.writeUInt32LE(value, this.#pos);
    return this;
  }

  sfixed32(value: number): IBinaryWriter {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new Error(`invalid int32: ${value}`);
    }
    this.#ensure(4);
    this.#pos = this.#buf.writeInt32LE(value, this.#pos);
    return this;
  }

  float(value: number): IBinaryWriter {
    this.#ensure(4);
    this.#pos = this.#buf.writeFloatLE(value, this.#pos);
    return this;
  }

  double(value: number): IBinaryWriter {
    this.#ensure(8);
    this.#pos = this.#buf.writeDoubleLE(value, this.#pos);
    return this;
  }

  bytes(value: Uint8Array): IBinaryWriter {
    this.uint32(value.byteLength);
    return this.raw(value);
  }

  string(value: string): IBinaryWriter {
    const n = value.length;
    if (n <= SHORT_STRING && isAscii(value)) {
      this.uint32(n);
      this.#ensure(n);
      const buf = this.#buf;
      let p = this.#pos;
      for (let i = 0; i < n; i++) buf[p++] = value.charCodeAt(i);
      this.#pos = p;
      return this;
    }
    const length = Buffer.byteLength(value, 'utf8');
    this.uint32(length);
    this.#ensure(length);
    this.#pos += this.#buf.write(value, this.#pos, length, 'utf8');
    return this;
  }

  /** An unsigned 64-bit varint of (hi, lo), each an unsigned 32-bit number. */
  #varint64(lo: number, hi: number): IBinaryWriter {
    this.#ensure(10);
    while (hi !== 0 || lo > 0x7f) {
      this.#buf[this.#pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.#buf[this.#pos++] = lo;
    return this;
  }

  #fixed64(lo: number, hi: number): IBinaryWriter {
    this.#ensure(8);
    this.#pos = this.#buf.writeInt32LE(lo | 0, this.#pos);
    this.#pos = this.#buf.writeInt32LE(hi | 0, this.#pos);
    return this;
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The bytes of `v` (an unsigned 32-bit integer) as a varint. */
export function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes `v` (an unsigned 32-bit integer) as a varint at `pos` of `buf`; the position after it. */
export function writeVarint32(buf: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Options for `MessageType.toBinary` that write with {@link FastBinaryWriter}. */
export const FAST_WRITE_OPTIONS = { writerFactory: () => new FastBinaryWriter() } as const;
