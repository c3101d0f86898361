/**
 * Daml text is a sequence of Unicode code points, ordered by code point (equivalently, by UTF-8 bytes). JS strings
 * are UTF-16, whose unit order puts U+E000..U+FFFF after the surrogate-encoded U+10000..U+10FFFF; these helpers
 * work by code point instead.
 */

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/** Compares two strings by code point: negative, zero or positive. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (!isSurrogate(x) && !isSurrogate(y)) return x - y;
      // Inside a surrogate pair the strings share the high unit, so the pair starts one unit earlier.
      const j = x >= 0xdc00 && x <= 0xdfff ? i - 1 : i;
      return (a.codePointAt(j) ?? 0) - (b.codePointAt(j) ?? 0);
    }
  }
  return a.length - b.length;
}

/** The code points of `s`, each as a one-code-point string. */
export function explodeText(s: string): string[] {
  return Array.from(s);
}

export function textToCodePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

/** Whether `cp` is a Unicode scalar value (a code point that is not a surrogate). */
export function isScalarValue(cp: bigint): boolean {
  return (cp >= 0n && cp < 0xd800n) || (cp > 0xdfffn && cp <= 0x10ffffn);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8, replacing malformed sequences with U+FFFD as Java's `new String(bytes, UTF_8)` does. */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

/** Whether `s` is lowercase hex of whole bytes (the only form Daml's HexString accepts; empty is allowed). */
export function isLowerHex(s: string): boolean {
  return LOWER_HEX.test(s);
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

const PARTY = /^[A-Za-z0-9:\-_ ]{1,255}$/;

/** Party literals: 1..255 ASCII letters, digits, `:`, `-`, `_` and space. */
export function isValidParty(s: string): boolean {
  return PARTY.test(s);
}
