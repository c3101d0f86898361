import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hkdfSha256 } from './hkdf.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('hkdfSha256', () => {
  it('matches RFC 5869 test case 1 (its first 32 bytes of OKM)', () => {
    const ikm = hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b');
    const salt = hex('000102030405060708090a0b0c');
    const info = hex('f0f1f2f3f4f5f6f7f8f9');
    // The RFC's 42-byte OKM starts with these 32 bytes (one Expand block).
    expect(toHex(hkdfSha256(ikm, salt, info, 32))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf',
    );
    expect(toHex(hkdfSha256(ikm, salt, info, 10))).toBe('3cb25f25faacd57a9043');
  });

  it("equals node's hkdfSync on random inputs, empty salt and info included", () => {
    for (let i = 0; i < 200; i++) {
      const ikm = randomBytes(1 + (i % 64));
      const salt = randomBytes(i % 7 === 0 ? 0 : 1 + (i % 80));
      const info = randomBytes(i % 5 === 0 ? 0 : i % 40);
      const length = 1 + (i % 32);
      expect(toHex(hkdfSha256(ikm, salt, info, length))).toBe(
        toHex(new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))),
      );
    }
  });

  it('refuses output lengths beyond one block', () => {
    for (const length of [0, 33, 1.5]) {
      expect(() => hkdfSha256(hex('00'), hex(''), hex(''), length)).toThrow(RangeError);
    }
  });
});
