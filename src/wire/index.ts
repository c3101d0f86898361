/**
 * Protobuf binary encoding helpers for protobuf-ts, shared by every component: a writer into one growing buffer
 * (for the messages on the hot paths: the protocol's, the sequencer service's and the Ledger API's) and a reader for
 * bytes this process encoded itself; and a Buffer view of any bytes.
 */
export { OWN_BYTES_READ_OPTIONS, OwnBytesReader } from './binary-reader.js';
export { FAST_WRITE_OPTIONS, FastBinaryWriter, varint32Size, writeVarint32 } from './binary-writer.js';
export { asBuffer } from './buffers.js';
