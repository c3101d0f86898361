import { createDecipheriv, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import {
  EncryptionPrivateKey,
  EncryptionPublicKey,
  generateEncryptionKeyPair,
  SymmetricKey,
} from './encryption.js';
import { CryptoErrors } from './errors.js';
import { DeterministicRandom } from './random.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an exception');
}

function flipBit(bytes: Uint8Array, index: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index]! ^= 0x01;
  return copy;
}

function x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  return EncryptionPrivateKey.fromRaw(scalar).agree(EncryptionPublicKey.fromRaw(u));
}

describe('X25519 known answers (RFC 7748)', () => {
  it.each([
    [
      'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
      'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
      'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    ],
    [
      // The u-coordinate has its top bit set, which X25519 must ignore.
      '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
      'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
      '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
    ],
  ])('§5.2 function vector %#', (scalar, u, expected) => {
    expect(toHex(x25519(hex(scalar), hex(u)))).toBe(expected);
  });

  it('§5.2 iterated vector, 1 and 1,000 iterations', () => {
    let k: Uint8Array = new Uint8Array(32);
    k[0] = 9;
    let u = k;
    for (let i = 1; i <= 1000; i++) {
      [k, u] = [x25519(k, u), k];
      if (i === 1) expect(toHex(k)).toBe('422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
    }
    expect(toHex(k)).toBe('684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
  });

  it('§6.1 Diffie-Hellman', () => {
    const alice = EncryptionPrivateKey.fromRaw(
      hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
    );
    const bob = EncryptionPrivateKey.fromRaw(
      hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
    );
    expect(toHex(alice.publicKey.bytes)).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(toHex(bob.publicKey.bytes)).toBe(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    );
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(alice.agree(bob.publicKey))).toBe(shared);
    expect(toHex(bob.agree(alice.publicKey))).toBe(shared);
  });
});

const LOW_ORDER = new Uint8Array(32); // u = 0

describe('hybrid encryption (format 0x01)', () => {
  const random = new DeterministicRandom('hybrid');
  const recipient = generateEncryptionKeyPair(random);
  const stranger = generateEncryptionKeyPair(random);
  const plaintext = utf8('a view encryption key, 32 bytes!');
  const aad = utf8('view 3 of request 1234');
  const ciphertext = recipient.publicKey.encrypt(plaintext, aad, random);

  it('round-trips empty, small and 16 KiB plaintexts', () => {
    for (const size of [0, 1, 1024, 16 * 1024]) {
      const pt = random.bytes(size);
      const ct = recipient.publicKey.encrypt(pt, aad, random);
      expect(ct).toHaveLength(61 + size);
      expect(recipient.privateKey.decrypt(ct, aad)).toEqual(pt);
    }
  });

  it('is deterministic given the random source, and fresh per call', () => {
    const a = new DeterministicRandom('same');
    const b = new DeterministicRandom('same');
    const first = recipient.publicKey.encrypt(plaintext, aad, a);
    expect(recipient.publicKey.encrypt(plaintext, aad, b)).toEqual(first);
    expect(recipient.publicKey.encrypt(plaintext, aad, a)).not.toEqual(first);
  });

  it('follows the documented layout and key derivation', () => {
    // Decrypt by hand: version | ephemeral public key | nonce | ciphertext | tag.
    expect(ciphertext[0]).toBe(0x01);
    const ephemeral = ciphertext.subarray(1, 33);
    const nonce = ciphertext.subarray(33, 45);
    const body = ciphertext.subarray(45, ciphertext.length - 16);
    const tag = ciphertext.subarray(ciphertext.length - 16);
    const shared = recipient.privateKey.agree(EncryptionPublicKey.fromRaw(ephemeral));
    const salt = Buffer.concat([ephemeral, recipient.publicKey.bytes]);
    const info = utf8('weft/hybrid-encryption/v1/X25519-HKDF-SHA256-AES-256-GCM');
    const key = Buffer.from(hkdfSync('sha256', shared, salt, info, 32));
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.concat([ciphertext.subarray(0, 45), aad]));
    decipher.setAuthTag(tag);
    expect(new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]))).toEqual(plaintext);
  });

  const tampered: [string, () => Uint8Array, RegExp][] = [
    [
      'a flipped bit in the ephemeral key',
      () => recipient.privateKey.decrypt(flipBit(ciphertext, 5), aad),
      /authentication failed/,
    ],
    [
      'a flipped bit in the nonce',
      () => recipient.privateKey.decrypt(flipBit(ciphertext, 40), aad),
      /authentication failed/,
    ],
    [
      'a flipped bit in the ciphertext',
      () => recipient.privateKey.decrypt(flipBit(ciphertext, 50), aad),
      /authentication failed/,
    ],
    [
      'a flipped bit in the tag',
      () => recipient.privateKey.decrypt(flipBit(ciphertext, ciphertext.length - 1), aad),
      /authentication failed/,
    ],
    [
      'a flipped bit in the associated data',
      () => recipient.privateKey.decrypt(ciphertext, flipBit(aad, 0)),
      /authentication failed/,
    ],
    [
      'missing associated data',
      () => recipient.privateKey.decrypt(ciphertext, new Uint8Array(0)),
      /authentication failed/,
    ],
    ['the wrong private key', () => stranger.privateKey.decrypt(ciphertext, aad), /authentication failed/],
    [
      'a truncated tag',
      () => recipient.privateKey.decrypt(ciphertext.subarray(0, ciphertext.length - 1), aad),
      /authentication failed/,
    ],
    [
      'a truncated header',
      () => recipient.privateKey.decrypt(ciphertext.subarray(0, 60), aad),
      /60 bytes, shorter than the 61-byte minimum/,
    ],
    ['an empty input', () => recipient.privateKey.decrypt(new Uint8Array(0), aad), /empty/],
    [
      'an unknown version',
      () => recipient.privateKey.decrypt(new Uint8Array([0x07, ...ciphertext.subarray(1)]), aad),
      /unsupported ciphertext format 0x07; expected 0x01/,
    ],
    [
      'a symmetric ciphertext',
      () => recipient.privateKey.decrypt(SymmetricKey.generate(random).encrypt(plaintext, aad, random), aad),
      /format 0x02 \(symmetric AES-256-GCM v1\); expected 0x01/,
    ],
    [
      'a low-order ephemeral key',
      () => recipient.privateKey.decrypt(new Uint8Array([1, ...LOW_ORDER, ...ciphertext.subarray(33)]), aad),
      /low-order point/,
    ],
  ];

  it.each(tampered)('rejects %s with DECRYPTION_FAILED', (_, decrypt, reason) => {
    const e = thrown(decrypt);
    expect(isWeftError(e, CryptoErrors.DECRYPTION_FAILED), String(e)).toBe(true);
    expect(e.message).toMatch(/^cannot decrypt hybrid X25519\/AES-256-GCM v1 ciphertext: /);
    expect(e.message).toMatch(reason);
  });

  it('refuses to encrypt to a low-order public key', () => {
    const e = thrown(() => EncryptionPublicKey.fromRaw(LOW_ORDER).encrypt(plaintext, aad, random));
    expect(isWeftError(e, CryptoErrors.INVALID_KEY)).toBe(true);
    expect(e.message).toMatch(/low-order point/);
  });

  it('round-trips the private key through PKCS#8 DER', () => {
    const der = recipient.privateKey.toPkcs8();
    expect(toHex(der.subarray(0, 16))).toBe('302e020100300506032b656e04220420');
    expect(EncryptionPrivateKey.fromPkcs8(der).decrypt(ciphertext, aad)).toEqual(plaintext);
  });
});

describe('symmetric encryption (format 0x02)', () => {
  const random = new DeterministicRandom('symmetric');
  const key = SymmetricKey.generate(random);
  const plaintext = random.bytes(1000);
  const aad = utf8('view hash');
  const ciphertext = key.encrypt(plaintext, aad, random);

  it('round-trips, also through the key bytes that get wrapped to recipients', () => {
    expect(ciphertext).toHaveLength(1 + 12 + 1000 + 16);
    expect(ciphertext[0]).toBe(0x02);
    expect(key.decrypt(ciphertext, aad)).toEqual(plaintext);
    expect(SymmetricKey.fromBytes(key.toBytes()).decrypt(ciphertext, aad)).toEqual(plaintext);
    expect(key.decrypt(key.encrypt(new Uint8Array(0), aad, random), aad)).toEqual(new Uint8Array(0));
  });

  it('wraps a view key to a recipient', () => {
    const recipient = generateEncryptionKeyPair(random);
    const wrapped = recipient.publicKey.encrypt(key.toBytes(), aad, random);
    const unwrapped = SymmetricKey.fromBytes(recipient.privateKey.decrypt(wrapped, aad));
    expect(unwrapped.decrypt(ciphertext, aad)).toEqual(plaintext);
  });

  const tampered: [string, () => Uint8Array, RegExp][] = [
    ['a flipped bit in the nonce', () => key.decrypt(flipBit(ciphertext, 1), aad), /authentication failed/],
    [
      'a flipped bit in the ciphertext',
      () => key.decrypt(flipBit(ciphertext, 20), aad),
      /authentication failed/,
    ],
    [
      'a flipped bit in the tag',
      () => key.decrypt(flipBit(ciphertext, ciphertext.length - 3), aad),
      /authentication failed/,
    ],
    [
      'a flipped bit in the associated data',
      () => key.decrypt(ciphertext, flipBit(aad, 2)),
      /authentication failed/,
    ],
    ['the wrong key', () => SymmetricKey.generate(random).decrypt(ciphertext, aad), /authentication failed/],
    [
      'a truncated input',
      () => key.decrypt(ciphertext.subarray(0, 28), aad),
      /28 bytes, shorter than the 29-byte minimum/,
    ],
    [
      'an unknown version',
      () => key.decrypt(new Uint8Array([0xff, ...ciphertext.subarray(1)]), aad),
      /unsupported ciphertext format 0xff; expected 0x02/,
    ],
  ];

  it.each(tampered)('rejects %s with DECRYPTION_FAILED', (_, decrypt, reason) => {
    const e = thrown(decrypt);
    expect(isWeftError(e, CryptoErrors.DECRYPTION_FAILED), String(e)).toBe(true);
    expect(e.message).toMatch(reason);
  });

  it('rejects keys that are not 32 bytes', () => {
    const e = thrown(() => SymmetricKey.fromBytes(new Uint8Array(16)));
    expect(isWeftError(e, CryptoErrors.INVALID_KEY)).toBe(true);
    expect(e.message).toBe('an AES-256 key must be 32 bytes, got 16');
  });
});
