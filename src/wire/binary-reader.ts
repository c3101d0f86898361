import { BinaryReader, type BinaryReadOptions } from '@protobuf-ts/runtime';
import { asBuffer } from './buffers.js';

/** One decoder for every reader: the runtime's reader makes a TextDecoder per message read. */
const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A protobuf binary reader for protobuf-ts (`fromBinary(bytes, { readerFactory })`) that decodes strings of a
 * Node Buffer with its native UTF-8 slice, a fraction of the cost of a TextDecoder call per string, which was
 * most of the cost of decoding the Ledger API's string-heavy messages (parties, contract ids, labels). For bytes
 * this process encoded itself: an invalid UTF-8 sequence becomes U+FFFD rather than an error.
 */
export class OwnBytesReader extends BinaryReader {
  readonly #buf: Utf8Slicing;

  constructor(buf: Uint8Array) {
    super(buf, DECODER);
    this.#buf = asBuffer(buf) as Utf8Slicing;
  }

  override string(): string {
    const len = this.uint32();
    const start = this.pos;
    this.pos += len;
    this.assertBounds();
    return this.#buf.utf8Slice(start, this.pos);
  }
}

/**
 * Node's Buffer method behind `toString('utf8', start, end)`, called without that wrapper's argument handling
 * (two fifths of a short string's cost; the bounds are checked above).
 */
type Utf8Slicing = Buffer & { utf8Slice(start: number, end: number): string };

/** Options for `MessageType.fromBinary` that read with {@link OwnBytesReader}: for bytes this process encoded. */
export const OWN_BYTES_READ_OPTIONS: Partial<BinaryReadOptions> = {
  readerFactory: (bytes) => new OwnBytesReader(bytes),
};
