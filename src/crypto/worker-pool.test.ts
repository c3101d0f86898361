import { afterEach, describe, expect, it } from 'vitest';
import { CommonErrors } from '../errors/index.js';
import { DeterministicRandom } from './random.js';
import { generateSigningKeyPair } from './signing.js';
import { checkPacked, packChecks, type SignatureCheck, SignatureVerifierPool } from './worker-pool.js';

const random = new DeterministicRandom('worker-pool');
const signer = generateSigningKeyPair(random);
const other = generateSigningKeyPair(random);

function valid(i: number): SignatureCheck {
  const message = random.bytes(34 + (i % 3));
  return { publicKey: signer.publicKey.bytes, message, signature: signer.privateKey.sign(message) };
}

const altered = (c: SignatureCheck): SignatureCheck => {
  const message = new Uint8Array(c.message);
  message[0]! ^= 1;
  return { ...c, message };
};
const wrongKey = (c: SignatureCheck): SignatureCheck => ({ ...c, publicKey: other.publicKey.bytes });
const shortKey = (c: SignatureCheck): SignatureCheck => ({ ...c, publicKey: c.publicKey.subarray(0, 31) });
// Not a point on the curve: y = 2 has no x.
const offCurveKey = (c: SignatureCheck): SignatureCheck => ({
  ...c,
  publicKey: Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 2 : 0)),
});
const shortSignature = (c: SignatureCheck): SignatureCheck => ({ ...c, signature: c.signature.subarray(1) });

const pools: SignatureVerifierPool[] = [];
function pool(size: number): SignatureVerifierPool {
  const p = new SignatureVerifierPool(size);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('packed batches', () => {
  it('round-trip through one buffer, one result per check', () => {
    const checks = [valid(0), altered(valid(1)), shortKey(valid(2)), valid(3)];
    expect([...checkPacked(packChecks(checks))]).toEqual([1, 0, 0, 1]);
    expect([...checkPacked(packChecks([]))]).toEqual([]);
  });
});

describe.each([0, 1, 2])('SignatureVerifierPool with %i workers', (size) => {
  it('runs the requested number of worker threads', () => {
    expect(pool(size).size).toBe(size);
  });

  it('accepts valid signatures and rejects altered messages, wrong and malformed keys, short signatures', async () => {
    const p = pool(size);
    expect(await p.verifyBatch([valid(0)])).toEqual([true]);
    expect(await p.verifyBatch([altered(valid(1))])).toEqual([false]);
    expect(await p.verifyBatch([wrongKey(valid(2))])).toEqual([false]);
    expect(await p.verifyBatch([shortKey(valid(3))])).toEqual([false]);
    expect(await p.verifyBatch([offCurveKey(valid(4))])).toEqual([false]);
    expect(await p.verifyBatch([shortSignature(valid(5))])).toEqual([false]);
    expect(p.size).toBe(size); // answered by its workers, none failed
  });

  it('answers a batch mixing valid and invalid checks in order', async () => {
    const p = pool(size);
    const checks = Array.from({ length: 40 }, (_, i) => {
      const c = valid(i);
      return [c, altered(c), wrongKey(c), shortKey(c), offCurveKey(c)][i % 5]!;
    });
    const expected = checks.map((_, i) => i % 5 === 0);
    const [a, b] = await Promise.all([p.verifyBatch(checks), p.verifyBatch(checks.slice().reverse())]);
    expect(a).toEqual(expected);
    expect(b).toEqual(expected.slice().reverse());
  });

  it('batches single checks requested in the same turn, answering each', async () => {
    const p = pool(size);
    const checks = Array.from({ length: 100 }, (_, i) => (i % 4 === 1 ? altered(valid(i)) : valid(i)));
    const results = await Promise.all(checks.map((c) => p.verify(c)));
    expect(results).toEqual(checks.map((_, i) => i % 4 !== 1));
  });

  it('finishes the checks under way when closed while busy, and refuses new ones', async () => {
    const p = pool(size);
    const checks = Array.from({ length: 64 }, (_, i) => (i % 2 ? altered(valid(i)) : valid(i)));
    const busy = [p.verifyBatch(checks), p.verifyBatch(checks), p.verify(valid(99))];
    await p.close();
    expect(await busy[0]).toEqual(checks.map((_, i) => i % 2 === 0));
    expect(await busy[1]).toEqual(checks.map((_, i) => i % 2 === 0));
    expect(await busy[2]).toBe(true);
    await expect(p.verifyBatch([valid(0)])).rejects.toMatchObject({ code: CommonErrors.UNAVAILABLE.code });
    await expect(p.verify(valid(0))).rejects.toMatchObject({ code: CommonErrors.UNAVAILABLE.code });
    expect(p.size).toBe(0);
  });
});

it('rejects a negative or fractional size', () => {
  expect(() => new SignatureVerifierPool(-1)).toThrow(/integer >= 0/);
  expect(() => new SignatureVerifierPool(1.5)).toThrow(/integer >= 0/);
});
