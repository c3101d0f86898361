/** Small byte helpers shared by the crypto module. Not exported from the package entry point. */

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict lowercase-hex decoding; `Buffer.from(s, 'hex')` silently stops at the first bad character. */
export function fromLowerHex(hex: string): Uint8Array | undefined {
  return LOWER_HEX.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : undefined;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/** A private copy, so callers cannot mutate bytes an object relies on (and we do not pin a larger buffer). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** A plain `Uint8Array` view of a Node `Buffer` (no copy), so the API returns one byte type throughout. */
export function plain(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
