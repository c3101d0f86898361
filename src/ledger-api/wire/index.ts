/** The Ledger API's protobuf encoding helpers, shared by its transports. */
export { FAST_WRITE_OPTIONS, FastBinaryWriter } from './binary-writer.js';
