import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { CryptoErrors } from './errors.js';
import { Fingerprint } from './fingerprint.js';
import { defineHashPurpose, Hash, HashPurpose } from './hash.js';
import { SigningPrivateKey, SigningPublicKey } from './signing.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const utf8 = (s: string) => new TextEncoder().encode(s);

/** SHA-256 over a 4-byte big-endian purpose id and the data, computed without the module under test. */
function sha256WithPurpose(id: number, ...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(id);
  h.update(prefix);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an exception');
}

describe('purpose-tagged SHA-256', () => {
  const data = utf8('merkle node');

  it('prefixes the input with the 4-byte big-endian purpose id', () => {
    const hash = Hash.digest(HashPurpose.MerkleTreeInnerNode, data);
    expect(Buffer.from(hash.digestBytes).toString('hex')).toBe(sha256WithPurpose(3, data));
    expect(hash.toHex()).toBe(`1220${sha256WithPurpose(3, data)}`);
  });

  it('separates purposes', () => {
    const a = Hash.digest(HashPurpose.ViewCommonData, data);
    const b = Hash.digest(HashPurpose.ViewParticipantData, data);
    expect(a.equals(b)).toBe(false);
  });

  it("keeps Canton's purpose ids", () => {
    expect(HashPurpose.SequencedEventSignature.id).toBe(1);
    expect(HashPurpose.MerkleTreeInnerNode.id).toBe(3);
    expect(HashPurpose.TopologyTransactionSignature.id).toBe(11);
    expect(HashPurpose.PublicKeyFingerprint.id).toBe(12);
    expect(HashPurpose.Unicum.id).toBe(29);
    expect(HashPurpose.ContractIdAbsolutization.id).toBe(59);
  });

  it('encodes as a multihash and parses back', () => {
    const hash = Hash.digest(HashPurpose.Stakeholders, data);
    const multihash = hash.toMultihash();
    expect(multihash).toHaveLength(34);
    expect([multihash[0], multihash[1]]).toEqual([0x12, 0x20]);
    expect(Hash.fromMultihash(multihash).equals(hash)).toBe(true);
    expect(Hash.fromHex(hash.toHex()).equals(hash)).toBe(true);
    expect(hash.toHex()).toHaveLength(68);
    expect(JSON.stringify({ hash })).toBe(`{"hash":"${hash.toHex()}"}`);
  });

  it.each([
    ['too short', '1220abcd', /must be 68 characters/],
    ['another algorithm', `1320${'0'.repeat(64)}`, /must start with '1220'/],
    ['uppercase hex', `1220${'A'.repeat(64)}`, /must be lowercase hex, found 'A' at position 4/],
    ['non-hex', `1220${'0'.repeat(63)}g`, /found 'g' at position 67/],
  ])('rejects a hex hash that is %s', (_, s, reason) => {
    const e = thrown(() => Hash.fromHex(s));
    expect(isWeftError(e, CryptoErrors.INVALID_HASH)).toBe(true);
    expect(e.message).toMatch(reason);
  });

  it('rejects malformed multihash and digest bytes', () => {
    const digest = new Uint8Array(32);
    for (const f of [
      () => Hash.fromMultihash(new Uint8Array([0x12, 0x20, ...digest.subarray(1)])),
      () => Hash.fromMultihash(new Uint8Array([0x13, 0x20, ...digest])),
      () => Hash.fromDigest(digest.subarray(1)),
    ]) {
      expect(isWeftError(thrown(f), CryptoErrors.INVALID_HASH)).toBe(true);
    }
  });
});

describe('HashBuilder', () => {
  it('length-prefixes variable fields so that field boundaries matter', () => {
    const ab = Hash.build(HashPurpose.Stakeholders).addString('ab').addString('c').finish();
    const a = Hash.build(HashPurpose.Stakeholders).addString('a').addString('bc').finish();
    expect(ab.equals(a)).toBe(false);
    const expected = sha256WithPurpose(23, hex('00000002'), utf8('ab'), hex('00000001'), utf8('c'));
    expect(ab.toHex()).toBe(`1220${expected}`);
  });

  it('encodes integers big-endian and raw bytes as is', () => {
    const hash = Hash.build(HashPurpose.Unicum)
      .addInt32(-2)
      .addInt64(0x0102030405060708n)
      .addBytes(Uint8Array.of(9))
      .addRaw(Uint8Array.of(10, 11))
      .finish();
    const expected = sha256WithPurpose(29, hex('fffffffe0102030405060708000000010' + '90a0b'));
    expect(hash.toHex()).toBe(`1220${expected}`);
  });

  it('hashes every input length the same whether it is gathered or streamed', () => {
    // Lengths around the gather buffer's sizes (128, 256), crossing them within a raw field and within an integer.
    for (let n = 0; n <= 600; n += 1) {
      const raw = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      const hash = Hash.build(HashPurpose.Unicum)
        .addRaw(raw.subarray(0, n >> 1))
        .addInt64(BigInt(n))
        .addRaw(raw.subarray(n >> 1))
        .addInt32(n)
        .finish();
      const tail = Buffer.alloc(12);
      tail.writeBigInt64BE(BigInt(n));
      const int = Buffer.alloc(4);
      int.writeInt32BE(n);
      const expected = sha256WithPurpose(
        29,
        raw.subarray(0, n >> 1),
        tail.subarray(0, 8),
        raw.subarray(n >> 1),
        int,
      );
      expect(hash.toHex(), `input of ${n + 16} bytes`).toBe(`1220${expected}`);
      expect(Hash.digest(HashPurpose.Unicum, raw).toHex(), `${n} bytes`).toBe(
        `1220${sha256WithPurpose(29, raw)}`,
      );
    }
  });

  it('copies what it is given: a buffer reused after adding changes nothing', () => {
    for (const n of [32, 1000]) {
      const reused = new Uint8Array(n).fill(7);
      const builder = Hash.build(HashPurpose.Unicum).addRaw(reused);
      reused.fill(8);
      expect(builder.addRaw(reused).finish().toHex()).toBe(
        `1220${sha256WithPurpose(29, new Uint8Array(n).fill(7), new Uint8Array(n).fill(8))}`,
      );
    }
  });

  it('cannot be used after finish', () => {
    const builder = Hash.build(HashPurpose.Unicum);
    builder.finish();
    expect(() => builder.addInt32(1)).toThrow(/after finish/);
    expect(() => builder.finish()).toThrow(/twice/);
  });
});

describe('defineHashPurpose', () => {
  it('registers Weft purposes at 1000 and above, each id once', () => {
    const p = defineHashPurpose(1_000_123, 'TestPurpose');
    expect(p).toEqual({ id: 1_000_123, name: 'TestPurpose' });
    expect(() => defineHashPurpose(1_000_123, 'Other')).toThrow(/already used by TestPurpose/);
    expect(() => defineHashPurpose(12, 'Fingerprints')).toThrow(/Canton's HashPurpose numbering/);
    expect(() => defineHashPurpose(2 ** 31, 'Huge')).toThrow(/32-bit/);
  });
});

describe('Fingerprint', () => {
  // RFC 8032 TEST 1 public key.
  const publicKey = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  // Canton: Hash.digest(HashPurpose.PublicKeyFingerprint = 12, raw Ed25519 key), printed as a hex multihash.
  const expected = `1220${sha256WithPurpose(12, publicKey)}`;

  it('is the multihash of SHA-256(int32be(12) ‖ raw public key)', () => {
    expect(expected).toBe('1220035a791d845bbb8195615e7eccd7a57c2ec4075c2e88695f194bab4e0194a889');
    expect(SigningPublicKey.fromRaw(publicKey).fingerprint.value).toBe(expected);
    expect(
      SigningPrivateKey.fromSeed(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
        .publicKey.fingerprint.value,
    ).toBe(expected);
    expect(Fingerprint.ofPublicKey(publicKey).value).toHaveLength(68);
  });

  it('parses and prints', () => {
    const fp = Fingerprint.parse(expected);
    expect(fp.equals(Fingerprint.ofPublicKey(publicKey))).toBe(true);
    expect(String(fp)).toBe(expected);
    expect(JSON.stringify(fp)).toBe(`"${expected}"`);
  });

  it.each([
    ['empty', '', /must be 68 characters.*got 0/],
    ['one character short', expected.slice(0, 67), /got 67/],
    ['without the multihash prefix', expected.slice(4), /must be 68 characters/],
    ['with the wrong prefix', `1320${expected.slice(4)}`, /must start with '1220'/],
    ['uppercase', expected.toUpperCase(), /lowercase hex/],
    ['not hex', `${expected.slice(0, 67)}z`, /found 'z' at position 67/],
  ])('rejects a fingerprint that is %s', (_, s, reason) => {
    const e = thrown(() => Fingerprint.parse(s));
    expect(isWeftError(e, CryptoErrors.INVALID_FINGERPRINT)).toBe(true);
    expect(e.message).toMatch(reason);
    expect(Fingerprint.problem(s)).toBeDefined();
  });
});
