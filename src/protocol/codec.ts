import { WeftError } from '../errors/index.js';
import { ProtocolErrors } from './errors.js';

/** Unknown fields are refused: whatever is hashed or signed must be fully understood by its reader. */
const STRICT = { readUnknownField: 'throw' } as const;

interface Codec<T> {
  fromBinary(bytes: Uint8Array, options: typeof STRICT): T;
}

/** Decodes `bytes` as `codec`'s message, refusing unknown fields; throws PROTOCOL_MESSAGE_MALFORMED naming `what`. */
export function decodeStrict<T>(codec: Codec<T>, bytes: Uint8Array, what: string): T {
  try {
    return codec.fromBinary(bytes, STRICT);
  } catch (e) {
    return malformed(`${what} cannot be decoded: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function malformed(message: string): never {
  throw new WeftError(ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED, message);
}
