import { BlockHashPurpose, Hash, type SigningPrivateKey, type SigningPublicKey } from '../crypto/index.js';
import { WeftError } from '../errors/index.js';
import {
  SequencedBlockRoot,
  type SequencedEventBlock,
  type SignedContent,
} from '../generated/weft/sequencer/v1/sequencing.js';
import { SequencerErrors } from './errors.js';
import { signContent, verifyContent } from './signing.js';

/**
 * Events are signed per block (a departure from Canton, which signs each event for each recipient): the sequencer
 * signs the root of a Merkle tree over the block's events, each leaf an event bound to its recipient, and a member
 * receives its events with the sibling hashes up to the root. The event, its proof and the signed root are a
 * self-contained proof of what the sequencer delivered to the member, as a signed event was.
 */

/** The most leaves one block holds: bounds the signer's queue and every proof's length (log2). */
export const MAX_BLOCK_LEAVES = 1 << 16;
const DIGEST_LENGTH = 32;

/** One event as a member received it, with what proves that the sequencer delivered it to that member. */
export interface EventProof {
  /** The member the event was delivered to: part of its leaf. */
  readonly member: string;
  /** The encoded SequencedEvent, exactly as received. */
  readonly event: Uint8Array;
  readonly leafIndex: number;
  /** Raw digests of the siblings from the leaf up. */
  readonly siblings: readonly Uint8Array[];
  /** An encoded SequencedBlockRoot and the sequencer's signature of it. */
  readonly root: SignedContent;
}

function leafHash(member: string, event: Uint8Array): Uint8Array {
  return Hash.build(BlockHashPurpose.SequencedBlockLeaf).addString(member).addBytes(event).finish()
    .digestBytes;
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return Hash.build(BlockHashPurpose.SequencedBlockNode).addRaw(left).addRaw(right).finish().digestBytes;
}

/** The tree's levels, leaves first: pairs hash together, a level's last node without a partner moves up as is. */
function levelsOf(leaves: Uint8Array[]): Uint8Array[][] {
  const levels = [leaves];
  for (let level = leaves; level.length > 1; ) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      up.push(i + 1 < level.length ? nodeHash(level[i]!, level[i + 1]!) : level[i]!);
    }
    levels.push(up);
    level = up;
  }
  return levels;
}

function proofOf(levels: Uint8Array[][], index: number): Uint8Array[] {
  const siblings: Uint8Array[] = [];
  for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
    const sibling = levels[level]![i ^ 1];
    if (sibling) siblings.push(sibling);
  }
  return siblings;
}

/** The root that `siblings` lead to from `leaf` at `index` of `count` leaves, or undefined if they do not fit. */
function rootFrom(
  leaf: Uint8Array,
  index: number,
  count: number,
  siblings: readonly Uint8Array[],
): Uint8Array | undefined {
  if (index >= count) return undefined;
  let hash = leaf;
  let used = 0;
  for (let i = index, width = count; width > 1; i >>= 1, width = (width + 1) >> 1) {
    if (i % 2 === 0 && i + 1 === width) continue;
    const sibling = siblings[used++];
    if (sibling?.length !== DIGEST_LENGTH) return undefined;
    hash = i % 2 === 1 ? nodeHash(sibling, hash) : nodeHash(hash, sibling);
  }
  return used === siblings.length ? hash : undefined;
}

/** A member's events waiting for the next block. */
interface Waiting {
  readonly member: string;
  readonly events: readonly Uint8Array[];
  readonly resolve: (block: SequencedEventBlock) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Gathers the events the node's subscriptions are about to deliver into blocks, one signature each: everything
 * asked for before the next turn of the event loop (the subscriptions woken by one advance of the safe watermark)
 * is one block, up to {@link MAX_BLOCK_LEAVES} leaves. Blocks need not coincide between nodes or sequencers:
 * members compare the events themselves across sequencers, and check each copy under its own sequencer's root.
 */
export class BlockSigner {
  readonly #key: SigningPrivateKey;
  readonly #synchronizerId: string;
  /** Runs the signing once the current turn's subscriptions have asked. */
  readonly #defer: (run: () => void) => void;
  #waiting: Waiting[] = [];
  #leaves = 0;

  constructor(
    key: SigningPrivateKey,
    synchronizerId: string,
    defer: (run: () => void) => void = setImmediate,
  ) {
    this.#key = key;
    this.#synchronizerId = synchronizerId;
    this.#defer = defer;
  }

  /** The block that delivers `events` (encoded SequencedEvents of `member`, in order) with their proofs. */
  sign(member: string, events: readonly Uint8Array[]): Promise<SequencedEventBlock> {
    if (this.#leaves + events.length > MAX_BLOCK_LEAVES) this.#flush();
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) this.#defer(() => this.#flush());
      this.#waiting.push({ member, events, resolve, reject });
      this.#leaves += events.length;
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    this.#waiting = [];
    this.#leaves = 0;
    try {
      const leaves = waiting.flatMap((w) => w.events.map((e) => leafHash(w.member, e)));
      const levels = levelsOf(leaves);
      const root = signContent(
        this.#key,
        BlockHashPurpose.SequencedBlockSignature,
        SequencedBlockRoot.toBinary({
          rootHash: levels[levels.length - 1]![0]!,
          leafCount: leaves.length,
          synchronizerId: this.#synchronizerId,
        }),
      );
      let index = 0;
      for (const w of waiting) {
        w.resolve({
          signedRoot: root,
          events: w.events.map((event) => {
            const leafIndex = index++;
            return { event, leafIndex, siblings: proofOf(levels, leafIndex) };
          }),
        });
      }
    } catch (e) {
      for (const w of waiting) w.reject(e);
    }
  }
}

/** Roots whose signature was verified: a block's signature is checked once, not for each of its events. */
export class VerifiedRoots {
  readonly #capacity: number;
  readonly #roots = new Map<string, { content: Uint8Array; root: SequencedBlockRoot }>();

  constructor(capacity = 256) {
    this.#capacity = capacity;
  }

  /** The decoded root of `signed`, after checking its signature under `keys` unless that was done already. */
  verify(signed: SignedContent, keys: readonly SigningPublicKey[], what: string): SequencedBlockRoot {
    const id = `${signed.signedBy}/${Buffer.from(signed.signature).toString('base64')}`;
    const cached = this.#roots.get(id);
    // The key must be current for this event too, not only for the one the root was first verified with.
    if (
      cached &&
      Buffer.compare(cached.content, signed.content) === 0 &&
      keys.some((k) => k.fingerprint.value === signed.signedBy)
    ) {
      return cached.root;
    }
    verifyContent(signed, BlockHashPurpose.SequencedBlockSignature, keys, what);
    let root: SequencedBlockRoot;
    try {
      root = SequencedBlockRoot.fromBinary(signed.content);
    } catch (e) {
      throw invalidProof(`${what}: the signed block root does not decode: ${(e as Error).message}`);
    }
    if (this.#roots.size >= this.#capacity) this.#roots.delete(this.#roots.keys().next().value!);
    this.#roots.set(id, { content: signed.content, root });
    return root;
  }
}

/**
 * Checks that the sequencer delivered `proof.event` to `proof.member` on `synchronizerId`: the root's signature under
 * one of `keys` (SIGNATURE_INVALID) and the event's path to that root (SEQUENCER_EVENT_INVALID). Anyone holding the
 * proof and the sequencer's keys can run it.
 */
export function verifyEventProof(
  proof: EventProof,
  synchronizerId: string,
  keys: readonly SigningPublicKey[],
  what: string,
  roots: VerifiedRoots = new VerifiedRoots(1),
): void {
  const root = roots.verify(proof.root, keys, what);
  if (root.synchronizerId !== synchronizerId) {
    throw invalidProof(`${what}: the block was signed for synchronizer ${root.synchronizerId}`);
  }
  const reached = rootFrom(
    leafHash(proof.member, proof.event),
    proof.leafIndex,
    root.leafCount,
    proof.siblings,
  );
  if (!reached || Buffer.compare(reached, root.rootHash) !== 0) {
    throw invalidProof(
      `${what} is not in the block the sequencer signed (leaf ${proof.leafIndex} of ${root.leafCount}, ${proof.siblings.length} sibling hashes)`,
    );
  }
}

function invalidProof(message: string): WeftError {
  return new WeftError(SequencerErrors.SEQUENCER_EVENT_INVALID, message);
}
