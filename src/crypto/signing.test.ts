import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { EncryptionPrivateKey } from './encryption.js';
import { CryptoErrors } from './errors.js';
import { DEFAULT_PUBLIC_KEY_CACHE_CAPACITY, setPublicKeyCacheCapacity } from './keys.js';
import { DeterministicRandom } from './random.js';
import { generateSigningKeyPair, SigningPrivateKey, SigningPublicKey } from './signing.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index]! ^= 1 << bit;
  return copy;
}

// RFC 8032 §7.1, TEST 1–3: secret key (seed), public key, message, signature.
const RFC8032 = [
  {
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe('Ed25519 known answers (RFC 8032 §7.1)', () => {
  it.each(RFC8032.map((v, i) => [i + 1, v] as const))('TEST %i', (_, v) => {
    const key = SigningPrivateKey.fromSeed(hex(v.secret));
    expect(toHex(key.publicKey.bytes)).toBe(v.public);
    expect(toHex(key.sign(hex(v.message)))).toBe(v.signature);
    expect(SigningPublicKey.fromRaw(hex(v.public)).verify(hex(v.message), hex(v.signature))).toBe(true);
  });
});

describe('Ed25519 keys', () => {
  const { publicKey, privateKey } = generateSigningKeyPair(new DeterministicRandom('signing-test'));

  it('generates deterministically from the random source', () => {
    const again = generateSigningKeyPair(new DeterministicRandom('signing-test'));
    const other = generateSigningKeyPair(new DeterministicRandom('another seed'));
    expect(again.publicKey.equals(publicKey)).toBe(true);
    expect(other.publicKey.equals(publicKey)).toBe(false);
  });

  it('round-trips the private key through PKCS#8 DER', () => {
    const der = privateKey.toPkcs8();
    expect(toHex(der.subarray(0, 16))).toBe('302e020100300506032b657004220420');
    const restored = SigningPrivateKey.fromPkcs8(der);
    expect(restored.publicKey.equals(publicKey)).toBe(true);
    expect(publicKey.verify(Uint8Array.of(1, 2, 3), restored.sign(Uint8Array.of(1, 2, 3)))).toBe(true);
  });

  it('exports the public key raw and as SubjectPublicKeyInfo', () => {
    expect(publicKey.bytes).toHaveLength(32);
    expect(toHex(publicKey.toSpki())).toBe(`302a300506032b6570032100${toHex(publicKey.bytes)}`);
    expect(SigningPublicKey.fromRaw(publicKey.bytes).equals(publicKey)).toBe(true);
  });

  it('rejects malformed key material with INVALID_KEY', () => {
    for (const f of [
      () => SigningPublicKey.fromRaw(new Uint8Array(31)),
      () => SigningPrivateKey.fromSeed(new Uint8Array(33)),
      () => SigningPrivateKey.fromPkcs8(Uint8Array.of(0x30, 0x03, 0x02, 0x01)),
      () => SigningPrivateKey.fromPkcs8(EncryptionPrivateKey.fromRaw(new Uint8Array(32).fill(7)).toPkcs8()),
    ]) {
      const e = thrown(f);
      expect(isWeftError(e, CryptoErrors.INVALID_KEY), String(e)).toBe(true);
    }
    expect(String(thrown(() => SigningPublicKey.fromRaw(new Uint8Array(31))))).toContain(
      'Ed25519 public key must be 32 bytes, got 31',
    );
    expect(
      String(
        thrown(() =>
          SigningPrivateKey.fromPkcs8(EncryptionPrivateKey.fromRaw(new Uint8Array(32).fill(7)).toPkcs8()),
        ),
      ),
    ).toContain('expected a PKCS#8 Ed25519 private key, got a x25519 key');
  });
});

describe('Ed25519 against node:crypto (OpenSSL)', () => {
  const random = new DeterministicRandom('openssl');

  it('makes the same signatures and accepts each other’s, over views into larger buffers too', () => {
    for (let i = 0; i < 16; i++) {
      const ours = SigningPrivateKey.fromSeed(random.bytes(32));
      const theirs = createPrivateKey({ key: Buffer.from(ours.toPkcs8()), format: 'der', type: 'pkcs8' });
      const message = random.bytes(64 + i).subarray(5, 5 + 34 + i);
      const signature = ours.sign(message);
      expect(toHex(signature)).toBe(toHex(nodeSign(null, message, theirs)));
      expect(nodeVerify(null, message, createPublicKey(theirs), signature)).toBe(true);
      const stranger = SigningPublicKey.fromRaw(random.bytes(32));
      expect(stranger.verify(message, signature)).toBe(false);
      expect(ours.publicKey.verify(message, nodeSign(null, message, theirs))).toBe(true);
    }
  });

  it('refuses a malleated signature (S + L), as OpenSSL does', () => {
    const { publicKey, privateKey } = generateSigningKeyPair(random);
    const message = random.bytes(34);
    const signature = privateKey.sign(message);
    const order = 2n ** 252n + 27742317777372353535851937790883648493n;
    const s = BigInt(`0x${toHex(Uint8Array.from(signature.subarray(32)).reverse())}`) + order;
    const malleated = new Uint8Array(signature);
    malleated.set(hex(s.toString(16).padStart(64, '0')).reverse(), 32);
    expect(publicKey.verify(message, malleated)).toBe(false);
    const spkiKey = createPublicKey({ key: Buffer.from(publicKey.toSpki()), format: 'der', type: 'spki' });
    expect(nodeVerify(null, message, spkiKey, malleated)).toBe(false);
  });
});

describe('Ed25519 verification', () => {
  const random = new DeterministicRandom('verification');
  const { publicKey, privateKey } = generateSigningKeyPair(random);
  const stranger = generateSigningKeyPair(random).publicKey;
  const message = new TextEncoder().encode('topology transaction bytes');
  const signature = privateKey.sign(message);

  it('accepts the genuine signature', () => {
    expect(publicKey.verify(message, signature)).toBe(true);
    expect(() => publicKey.verifyOrThrow(message, signature)).not.toThrow();
  });

  const forgeries: [string, Uint8Array, Uint8Array, SigningPublicKey, RegExp][] = [
    ['a flipped bit in the signature (R)', message, flipBit(signature, 3), publicKey, /does not verify/],
    ['a flipped bit in the signature (S)', message, flipBit(signature, 40, 5), publicKey, /does not verify/],
    ['a flipped bit in the message', flipBit(message, 0), signature, publicKey, /does not verify/],
    ['an extra message byte', new Uint8Array([...message, 0]), signature, publicKey, /does not verify/],
    ['the wrong key', message, signature, stranger, /does not verify/],
    ['a truncated signature', message, signature.subarray(0, 63), publicKey, /must be 64 bytes, got 63/],
    [
      'an overlong signature',
      message,
      new Uint8Array([...signature, 0]),
      publicKey,
      /must be 64 bytes, got 65/,
    ],
    ['an empty signature', message, new Uint8Array(0), publicKey, /must be 64 bytes, got 0/],
  ];

  it.each(forgeries)('rejects %s', (_, msg, sig, key, reason) => {
    expect(key.verify(msg, sig)).toBe(false);
    const e = thrown(() => key.verifyOrThrow(msg, sig, 'topology transaction'));
    expect(isWeftError(e, CryptoErrors.SIGNATURE_INVALID)).toBe(true);
    const err = e as Error;
    expect(err.message).toMatch(reason);
    expect(err.message).toContain('topology transaction');
    expect(err.message).toContain(key.fingerprint.value);
  });
});

describe('public key interning', () => {
  it('parses each distinct key once and does not alias the caller’s buffer', () => {
    const raw = generateSigningKeyPair(new DeterministicRandom('intern')).publicKey.bytes;
    const a = SigningPublicKey.fromRaw(raw);
    raw[0]! ^= 1;
    const b = SigningPublicKey.fromRaw(raw);
    raw[0]! ^= 1;
    expect(SigningPublicKey.fromRaw(raw)).toBe(a);
    expect(b).not.toBe(a);
    expect(a.bytes).toEqual(raw);
  });

  it('evicts the least recently used keys beyond the capacity', () => {
    const random = new DeterministicRandom('eviction');
    const raws = [1, 2, 3].map(() => generateSigningKeyPair(random).publicKey.bytes);
    try {
      setPublicKeyCacheCapacity(2);
      const [k1, k2] = [SigningPublicKey.fromRaw(raws[0]!), SigningPublicKey.fromRaw(raws[1]!)];
      expect(SigningPublicKey.fromRaw(raws[0]!)).toBe(k1); // k1 is now the most recent
      SigningPublicKey.fromRaw(raws[2]!); // evicts k2
      expect(SigningPublicKey.fromRaw(raws[0]!)).toBe(k1);
      const k2again = SigningPublicKey.fromRaw(raws[1]!);
      expect(k2again).not.toBe(k2);
      expect(k2again.equals(k2)).toBe(true);
    } finally {
      setPublicKeyCacheCapacity(DEFAULT_PUBLIC_KEY_CACHE_CAPACITY);
    }
    expect(() => setPublicKeyCacheCapacity(0)).toThrow(RangeError);
  });
});
