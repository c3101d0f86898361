import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveContractDiscriminator,
  deriveNodeSeed,
  deriveTransactionSeed,
  localContractIdV1,
} from './seeds.js';

/** The byte layouts of `crypto/Hash.scala`: HMAC-SHA256 over big-endian ints and length-prefixed UTF-8. */

const hmac = (key: Uint8Array, ...parts: Buffer[]) =>
  new Uint8Array(createHmac('sha256', key).update(Buffer.concat(parts)).digest());
const int32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const int64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
const str = (s: string) => Buffer.concat([int32(Buffer.byteLength(s)), Buffer.from(s)]);

describe('seeds and contract ids', () => {
  const submissionSeed = new Uint8Array(32).map((_, i) => i);
  const time = 1_735_689_600_000_000n;

  it('derives the transaction seed from participant and preparation time', () => {
    expect(deriveTransactionSeed(submissionSeed, 'participant::1220ab', time)).toEqual(
      hmac(submissionSeed, str('participant::1220ab'), int64(time)),
    );
  });

  it('derives node seeds from the parent seed and the child index', () => {
    const seed = deriveTransactionSeed(submissionSeed, 'p', time);
    expect(deriveNodeSeed(seed, 0)).toEqual(hmac(seed, int32(0)));
    expect(deriveNodeSeed(seed, 300)).toEqual(hmac(seed, int32(300)));
    expect(deriveNodeSeed(seed, 1)).not.toEqual(deriveNodeSeed(seed, 0));
  });

  it('derives V1 discriminators from the node seed, time and the sorted stakeholders', () => {
    const seed = deriveNodeSeed(submissionSeed, 4);
    const d = deriveContractDiscriminator(seed, time, ['bob', 'alice', 'bob']);
    expect(d).toEqual(hmac(seed, int64(time), int32(2), str('alice'), str('bob')));
    expect(deriveContractDiscriminator(seed, time - 1n, ['alice', 'bob'])).not.toEqual(d);
    const cid = localContractIdV1(d);
    expect(cid.coid).toMatch(/^00[0-9a-f]{64}$/);
    expect(cid).toMatchObject({ version: 1, local: cid.coid.slice(2), suffix: '' });
  });
});
