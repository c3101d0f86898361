import { createHmac } from 'node:crypto';
import type { ContractId } from '../values/contract-id.js';

/**
 * Seeds and contract-id discriminators as Daml derives them (`crypto/Hash.scala`, `contract-id.rst`): every
 * value is an HMAC-SHA256 keyed by a 32-byte parent hash over big-endian integers and length-prefixed UTF-8
 * strings. Given the same submission seed, participant, preparation time and commands, every participant derives
 * the same node seeds and contract ids, which is what makes reinterpretation by other participants possible.
 */

export const SEED_BYTES = 32;

class HmacInput {
  private readonly parts: Buffer[] = [];

  int32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }

  int64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(n);
    this.parts.push(b);
    return this;
  }

  /** A string as its UTF-8 length (int32) and bytes. */
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.int32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  /** A set of strings: count, then each string in ascending order. */
  stringSet(strings: readonly string[]): this {
    const sorted = [...new Set(strings)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.int32(sorted.length);
    for (const s of sorted) this.string(s);
    return this;
  }

  mac(key: Uint8Array): Uint8Array {
    const h = createHmac('sha256', key);
    for (const p of this.parts) h.update(p);
    return new Uint8Array(h.digest());
  }
}

/** The transaction seed: HMAC(submissionSeed, participantId ∥ preparationTime). */
export function deriveTransactionSeed(
  submissionSeed: Uint8Array,
  participantId: string,
  preparationTime: bigint,
): Uint8Array {
  return new HmacInput().string(participantId).int64(preparationTime).mac(submissionSeed);
}

/** The seed of the `index`-th action child (of the transaction root, or of an exercise node). */
export function deriveNodeSeed(parentSeed: Uint8Array, index: number): Uint8Array {
  return new HmacInput().int32(index).mac(parentSeed);
}

/** The V1 discriminator of a contract created by the node with seed `nodeSeed`. */
export function deriveContractDiscriminator(
  nodeSeed: Uint8Array,
  preparationTime: bigint,
  stakeholders: readonly string[],
): Uint8Array {
  return new HmacInput().int64(preparationTime).stringSet(stakeholders).mac(nodeSeed);
}

/** A local (unsuffixed) V1 contract id: `00` ∥ discriminator. */
export function localContractIdV1(discriminator: Uint8Array): ContractId {
  const local = Buffer.from(discriminator).toString('hex');
  return { coid: `00${local}`, version: 1, local, suffix: '' };
}
