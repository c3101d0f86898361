import { describe, expect, it } from 'vitest';
import { DeterministicRandom, randomUuid, systemRandom } from './random.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DeterministicRandom (HMAC-DRBG SHA-256)', () => {
  it('matches NIST CAVP HMAC_DRBG [SHA-256] no reseed, COUNT = 0', () => {
    // Seed material = EntropyInput ‖ Nonce; two Generate calls of 1024 bits, the second is ReturnedBits.
    const drbg = new DeterministicRandom(
      hex(
        'ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488' +
          '659ba96c601dc69fc902940805ec0ca8',
      ),
    );
    drbg.bytes(128);
    expect(toHex(drbg.bytes(128))).toBe(
      'e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89' +
        'd54fbb978a15b5c443c9ec21036d2460b6f73ebad0dc2aba6e624abf07745bc1' +
        '07694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668' +
        '961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8',
    );
  });

  it('replays the same stream for the same seed', () => {
    const a = new DeterministicRandom('seed');
    const b = new DeterministicRandom(new TextEncoder().encode('seed'));
    expect([a.bytes(5), a.bytes(40), a.bytes(0)]).toEqual([b.bytes(5), b.bytes(40), b.bytes(0)]);
    expect(new DeterministicRandom('other').bytes(16)).not.toEqual(new DeterministicRandom('seed').bytes(16));
  });

  it('rejects bad arguments', () => {
    expect(() => new DeterministicRandom('')).toThrow(RangeError);
    expect(() => new DeterministicRandom('x').bytes(-1)).toThrow(RangeError);
    expect(() => new DeterministicRandom('x').bytes(1.5)).toThrow(RangeError);
  });
});

describe('systemRandom', () => {
  it('returns fresh bytes of the requested length', () => {
    const a = systemRandom.bytes(32);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a).toHaveLength(32);
    expect(systemRandom.bytes(32)).not.toEqual(a);
  });

  it('hands out each pooled byte once, in copies, across refills and beside large draws', () => {
    const draws = Array.from({ length: 1000 }, (_, i) => systemRandom.bytes(1 + (i % 40)));
    draws.push(systemRandom.bytes(5000), systemRandom.bytes(0));
    expect(draws.map((d) => d.byteLength)).toEqual([
      ...Array.from({ length: 1000 }, (_, i) => 1 + (i % 40)),
      5000,
      0,
    ]);
    // Copies, not views of a shared pool that a refill would overwrite; 16-byte draws never repeat.
    expect(draws.every((d) => d.byteOffset === 0 && d.buffer.byteLength === d.byteLength)).toBe(true);
    const ids = Array.from({ length: 2000 }, () => Buffer.from(systemRandom.bytes(16)).toString('hex'));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('makes version-4 UUIDs from the injected source', () => {
    const fixed = { bytes: (n: number) => new Uint8Array(n).fill(0xff) };
    expect(randomUuid(fixed)).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(randomUuid(systemRandom)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
