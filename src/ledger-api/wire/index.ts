/** The Ledger API's protobuf encoding helpers, shared by its transports. */
export { OWN_BYTES_READ_OPTIONS, OwnBytesReader } from './binary-reader.js';
export { FAST_WRITE_OPTIONS, FastBinaryWriter, varint32Size, writeVarint32 } from './binary-writer.js';
