import { WeftError } from '../../errors/index.js';
import { DamlLfErrors } from '../errors.js';

/**
 * Weft's one raw protobuf wire-format reader, used by the Daml-LF archive envelope and the table-driven package
 * decoder (`decode.ts`, whose generated readers loop `while (r.pos < end)` over `r.tag()`). Each read checks the
 * wire type, so a field with the right number but the wrong encoding is reported instead of misread; failures are
 * DAML_LF_MALFORMED with `context` naming the archive. Messages of Weft's own schemas use protobuf-ts instead.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WireReader {
  pos: number;
  /** The field number and wire type of the last `tag()`. */
  field = 0;
  wireType = 0;

  constructor(
    readonly buf: Uint8Array,
    readonly context: string,
    pos = 0,
  ) {
    this.pos = pos;
  }

  malformed(what: string): WeftError {
    return new WeftError(DamlLfErrors.DAML_LF_MALFORMED, `${this.context}: ${what}`, { offset: this.pos });
  }

  /** Reads the next field key; returns the field number. */
  tag(): number {
    const key = this.varint32();
    this.field = key >>> 3;
    this.wireType = key & 7;
    if (this.field === 0) throw this.malformed(`invalid field number 0 at offset ${this.pos}`);
    return this.field;
  }

  private expect(wireType: number): void {
    if (this.wireType !== wireType)
      throw this.malformed(`field ${this.field} has wire type ${this.wireType}, expected ${wireType}`);
  }

  /** Low 32 bits of a varint as a signed int (protobuf int32/enum semantics; 10-byte negatives included). */
  private varint32(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw this.malformed('truncated varint');
      const b = buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) return result | 0;
    }
    throw this.malformed('varint longer than 10 bytes');
  }

  private varint64(): bigint {
    const buf = this.buf;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw this.malformed('truncated varint');
      const b = buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw this.malformed('varint longer than 10 bytes');
  }

  int32(): number {
    this.expect(WIRE_VARINT);
    return this.varint32();
  }

  /** A non-negative int32 used as a table index. */
  index(): number {
    const v = this.int32();
    if (v < 0) throw this.malformed(`field ${this.field}: negative index ${v}`);
    return v;
  }

  bool(): boolean {
    this.expect(WIRE_VARINT);
    return this.varint32() !== 0;
  }

  sint64(): bigint {
    this.expect(WIRE_VARINT);
    const u = this.varint64();
    return (u >> 1n) ^ -(u & 1n);
  }

  sfixed64(): bigint {
    this.expect(WIRE_I64);
    if (this.pos + 8 > this.buf.length) throw this.malformed('truncated fixed64');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getBigInt64(0, true);
  }

  /** Starts a length-delimited field and returns its end offset. */
  len(): number {
    this.expect(WIRE_LEN);
    const n = this.varint32();
    const end = this.pos + n;
    if (n < 0 || end > this.buf.length)
      throw this.malformed(`field ${this.field}: length ${n} exceeds the buffer`);
    return end;
  }

  bytes(): Uint8Array {
    const end = this.len();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  string(): string {
    const bytes = this.bytes();
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.malformed(`field ${this.field}: invalid UTF-8 in string`);
    }
  }

  /** Appends a `repeated int32` field, accepting both packed and unpacked encodings. */
  repeatedIndex(into: number[]): void {
    if (this.wireType === WIRE_LEN) {
      const end = this.len();
      while (this.pos < end) {
        const v = this.varint32();
        if (v < 0) throw this.malformed(`field ${this.field}: negative index ${v}`);
        into.push(v);
      }
      if (this.pos !== end) throw this.malformed(`field ${this.field}: packed varints overrun their length`);
    } else {
      into.push(this.index());
    }
  }

  /** Skips the value of the last tag (unknown fields are ignored, as protobuf parsers do). */
  skip(): void {
    switch (this.wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_I64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.pos = this.len();
        return;
      case WIRE_I32:
        this.pos += 4;
        break;
      default:
        throw this.malformed(`field ${this.field}: unsupported wire type ${this.wireType}`);
    }
    if (this.pos > this.buf.length) throw this.malformed('truncated fixed-width field');
  }

  /** Asserts that a message ended exactly at `end`. */
  done(end: number): void {
    if (this.pos !== end) throw this.malformed(`message overruns its length at offset ${this.pos}`);
  }
}
