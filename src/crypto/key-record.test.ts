import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { generateEncryptionKeyPair, SymmetricKey } from './encryption.js';
import { CryptoErrors } from './errors.js';
import { Fingerprint } from './fingerprint.js';
import { KeyRecord } from './key-record.js';
import { DeterministicRandom } from './random.js';
import { generateSigningKeyPair, SigningPrivateKey } from './signing.js';

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an exception');
}

const random = new DeterministicRandom('key records');
const signing = generateSigningKeyPair(random);
const encryption = generateEncryptionKeyPair(random);

describe('KeyRecord', () => {
  it('round-trips a signing key pair through its encoding', () => {
    const record = KeyRecord.fromKeyPair(signing);
    expect(record.purpose).toBe('signing');
    expect(record.scheme).toBe('Ed25519');
    expect(record.fingerprint.equals(signing.publicKey.fingerprint)).toBe(true);
    expect(record.publicKey).toEqual(signing.publicKey.bytes);
    expect(record.privateKey).toEqual(signing.privateKey.toPkcs8());

    const decoded = KeyRecord.decode(record.encode());
    expect(decoded.encode()).toEqual(record.encode());
    const pair = decoded.toSigningKeyPair();
    const message = Uint8Array.of(1, 2, 3);
    expect(signing.publicKey.verify(message, pair.privateKey.sign(message))).toBe(true);
  });

  it('round-trips an encryption key pair through its fields', () => {
    const record = KeyRecord.fromKeyPair(encryption);
    const restored = KeyRecord.fromFields({
      fingerprint: record.fingerprint,
      purpose: record.purpose,
      scheme: record.scheme,
      publicKey: record.publicKey,
      privateKey: record.privateKey,
    });
    const pair = restored.toEncryptionKeyPair();
    const aad = new Uint8Array(0);
    const ciphertext = encryption.publicKey.encrypt(Uint8Array.of(42), aad, random);
    expect(pair.privateKey.decrypt(ciphertext, aad)).toEqual(Uint8Array.of(42));
    expect(thrown(() => restored.toSigningKeyPair()).message).toMatch(/this is an encryption key/);
    expect(thrown(() => KeyRecord.fromKeyPair(signing).toEncryptionKeyPair()).message).toMatch(/signing key/);
  });

  const signingRecord = KeyRecord.fromKeyPair(signing);
  const encoded = signingRecord.encode();
  const otherSigning = KeyRecord.fromKeyPair(generateSigningKeyPair(random));
  const fields = {
    fingerprint: signingRecord.fingerprint,
    purpose: signingRecord.purpose,
    scheme: signingRecord.scheme,
    publicKey: signingRecord.publicKey,
    privateKey: signingRecord.privateKey,
  };
  const patched = (index: number, value: number) => {
    const copy = new Uint8Array(encoded);
    copy[index] = value;
    return copy;
  };

  it.each([
    ['a truncated record', () => KeyRecord.decode(encoded.subarray(0, encoded.length - 1)), /truncated/],
    ['trailing bytes', () => KeyRecord.decode(new Uint8Array([...encoded, 0])), /1 unexpected bytes/],
    ['an unknown format', () => KeyRecord.decode(patched(0, 9)), /unsupported key record format 9/],
    ['an unknown purpose', () => KeyRecord.decode(patched(1, 7)), /unknown purpose code 7/],
    [
      'a purpose/scheme mismatch',
      () => KeyRecord.decode(patched(2, 2)),
      /a signing key must use Ed25519, not X25519/,
    ],
    ['a non-multihash fingerprint', () => KeyRecord.decode(patched(3, 0x13)), /not a SHA-256 multihash/],
    [
      'a wrong fingerprint',
      () => KeyRecord.decode(patched(10, encoded[10]! ^ 1)),
      /fingerprint does not match/,
    ],
    [
      'a private key of another pair',
      () => KeyRecord.fromFields({ ...fields, privateKey: otherSigning.privateKey }),
      /public key is not the one belonging to the private key/,
    ],
    [
      'an encryption private key',
      () => KeyRecord.fromFields({ ...fields, privateKey: KeyRecord.fromKeyPair(encryption).privateKey }),
      /expected a PKCS#8 Ed25519 private key/,
    ],
  ])('rejects %s with INVALID_KEY', (_, f, reason) => {
    const e = thrown(f);
    expect(isWeftError(e, CryptoErrors.INVALID_KEY), String(e)).toBe(true);
    expect(e.message).toMatch(reason);
  });
});

describe('private key hygiene', () => {
  const symmetric = SymmetricKey.generate(random);
  const secrets: [string, object, Uint8Array[]][] = [
    ['SigningPrivateKey', signing.privateKey, [signing.privateKey.toPkcs8()]],
    ['EncryptionPrivateKey', encryption.privateKey, [encryption.privateKey.toPkcs8()]],
    ['SymmetricKey', symmetric, [symmetric.toBytes()]],
    ['KeyRecord', KeyRecord.fromKeyPair(signing), [signing.privateKey.toPkcs8()]],
  ];

  /** Every textual form of the secret: the DER, and the raw 32-byte key at its end, in hex and base64(url). */
  function forms(secret: Uint8Array): string[] {
    const raw = Buffer.from(secret.subarray(secret.length - 32));
    const der = Buffer.from(secret);
    return [raw, der].flatMap((b) => [
      b.toString('hex'),
      b.toString('hex').toUpperCase(),
      b.toString('base64'),
      b.toString('base64url'),
      Array.from(b).join(','),
    ]);
  }

  it.each(secrets)('%s prints as a redacted placeholder', (name, secret, material) => {
    const outputs = [
      String(secret),
      `${secret}`,
      JSON.stringify(secret),
      JSON.stringify({ nested: { secret } }),
      inspect(secret),
      inspect({ nested: { secret } }, { depth: 10, showHidden: true }),
    ];
    for (const out of outputs) {
      expect(out).toContain(`<redacted ${name}`);
      for (const form of material.flatMap(forms)) expect(out).not.toContain(form);
    }
  });

  it('keeps key material out of error messages', () => {
    const seed = new DeterministicRandom('hygiene').bytes(32);
    const key = SigningPrivateKey.fromSeed(seed);
    const material = [...forms(seed), ...forms(key.toPkcs8())];
    const errors = [
      thrown(() => {
        const record = KeyRecord.fromKeyPair(encryption);
        const { fingerprint, purpose, scheme, publicKey } = record;
        return KeyRecord.fromFields({ fingerprint, purpose, scheme, publicKey, privateKey: key.toPkcs8() });
      }),
      thrown(() =>
        KeyRecord.fromFields({
          fingerprint: Fingerprint.ofPublicKey(new Uint8Array(32)),
          purpose: 'signing',
          scheme: 'Ed25519',
          publicKey: key.publicKey.bytes,
          privateKey: key.toPkcs8(),
        }),
      ),
      thrown(() => SigningPrivateKey.fromPkcs8(key.toPkcs8().subarray(0, 40))),
      thrown(() => encryption.privateKey.decrypt(key.toPkcs8(), new Uint8Array(0))),
      thrown(() => SymmetricKey.fromBytes(seed).decrypt(new Uint8Array([2, ...seed]), seed)),
      thrown(() => key.publicKey.verifyOrThrow(seed, seed.subarray(1))),
    ];
    for (const e of errors) {
      expect(e.name).toBe('WeftError');
      const text = [e.message, String(e), JSON.stringify(e), inspect(e, { depth: 10 })].join('\n');
      for (const form of material) expect(text).not.toContain(form);
    }
  });
});
