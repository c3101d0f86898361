import { createHash, type Hash as NodeHash } from 'node:crypto';
import sodium from 'sodium-native';
import { WeftError } from '../errors/index.js';
import { bytesEqual, copyBytes, fromLowerHex, toHex } from './bytes.js';
import { CryptoErrors } from './errors.js';

/**
 * What a hash is for. Every hash input starts with the purpose id as a 4-byte big-endian integer, so equal byte
 * strings hashed for different purposes never collide (Canton's `HashPurpose`). Each purpose must be used in one
 * place only.
 */
export interface HashPurpose {
  readonly id: number;
  readonly name: string;
}

const purposes = new Map<number, HashPurpose>();

function register(id: number, name: string): HashPurpose {
  if (!Number.isInteger(id) || id < -0x8000_0000 || id > 0x7fff_ffff) {
    throw new RangeError(`hash purpose id ${id} is not a 32-bit signed integer`);
  }
  const existing = purposes.get(id);
  if (existing) throw new Error(`hash purpose id ${id} is already used by ${existing.name}`);
  const purpose = Object.freeze({ id, name });
  purposes.set(id, purpose);
  return purpose;
}

/** First id available to Weft-specific purposes; lower ids follow Canton's numbering. */
export const FIRST_WEFT_HASH_PURPOSE_ID = 1000;

/**
 * Registers a Weft-specific purpose (id ≥ {@link FIRST_WEFT_HASH_PURPOSE_ID}). Ids are checked for uniqueness at
 * module load, so a clash fails fast instead of silently sharing a hash domain.
 */
export function defineHashPurpose(id: number, name: string): HashPurpose {
  if (id < FIRST_WEFT_HASH_PURPOSE_ID) {
    throw new RangeError(
      `hash purpose id ${id} is below ${FIRST_WEFT_HASH_PURPOSE_ID}; those ids follow Canton's HashPurpose numbering`,
    );
  }
  return register(id, name);
}

/**
 * The purposes Weft uses, with Canton's ids (`HashPurpose.scala`). Canton ids that are retired or unused by Weft are
 * reserved below so that they are never given a different meaning.
 */
export const HashPurpose = {
  SequencedEventSignature: register(1, 'SequencedEventSignature'),
  MerkleTreeInnerNode: register(3, 'MerkleTreeInnerNode'),
  SubmitterMetadata: register(5, 'SubmitterMetadata'),
  CommonMetadata: register(6, 'CommonMetadata'),
  ParticipantMetadata: register(7, 'ParticipantMetadata'),
  ViewCommonData: register(8, 'ViewCommonData'),
  ViewParticipantData: register(9, 'ViewParticipantData'),
  TopologyTransactionSignature: register(11, 'TopologyTransactionSignature'),
  PublicKeyFingerprint: register(12, 'PublicKeyFingerprint'),
  AuthenticationToken: register(14, 'AuthenticationToken'),
  Stakeholders: register(23, 'Stakeholders'),
  /** The contract-id discriminator (Canton calls it the unicum). */
  Unicum: register(29, 'Unicum'),
  HashedAcsCommitment: register(34, 'HashedAcsCommitment'),
  SubmissionRequestSignature: register(35, 'SubmissionRequestSignature'),
  AcknowledgementSignature: register(36, 'AcknowledgementSignature'),
  DecentralizedNamespace: register(37, 'DecentralizedNamespace'),
  SignedProtocolMessageSignature: register(38, 'SignedProtocolMessageSignature'),
  AggregationId: register(39, 'AggregationId'),
  TopologyMappingUniqueKey: register(43, 'TopologyMappingUniqueKey'),
  PreparedSubmission: register(48, 'PreparedSubmission'),
  TopologyUpdateId: register(49, 'TopologyUpdateId'),
  MultiTopologyTransaction: register(55, 'MultiTopologyTransaction'),
  ContractIdAbsolutization: register(59, 'ContractIdAbsolutization'),
} as const;

for (let id = 1; id <= 63; id++) if (!purposes.has(id)) register(id, `reserved (Canton HashPurpose ${id})`);

/**
 * The sequencer signs a block of events once rather than each event (a departure from Canton, docs/sequencer.md):
 * what it signs (the block's root), the tree's leaves (an event bound to its recipient) and its inner nodes each
 * hash in their own domain, so that no leaf can pass for a node or a root.
 */
export const BlockHashPurpose = {
  SequencedBlockSignature: defineHashPurpose(1000, 'SequencedBlockSignature'),
  SequencedBlockLeaf: defineHashPurpose(1001, 'SequencedBlockLeaf'),
  SequencedBlockNode: defineHashPurpose(1002, 'SequencedBlockNode'),
} as const;

/** Multihash header for SHA-256: function code 0x12, digest length 0x20. */
const MULTIHASH_SHA256 = Uint8Array.of(0x12, 0x20);
const DIGEST_LENGTH = 32;
/** Length of `toHex()`: '1220' + 64 hex digits. */
export const HASH_HEX_LENGTH = 68;

/**
 * Inputs up to this many bytes are gathered and hashed in one libsodium call; longer ones stream through a
 * node:crypto hash. Most protocol hashes (a purpose, a few ints, ids and digests) are 40-200 bytes, where a
 * node:crypto `Hash` object costs more than the hashing: one native call per field, an object the GC must finalise.
 * libsodium's SHA-256 does not use the CPU's SHA extensions, so past a few blocks OpenSSL's is faster
 * (docs/performance.md, 'SHA-256 of small inputs in one call').
 */
const GATHER_LIMIT = 256;
/** The gather buffer's first size: enough for the common hashes, from Node's buffer pool. */
const GATHER_INITIAL = 128;
/** {@link Hash.digest}'s input when short, and the id before a long one; used synchronously only. */
const SCRATCH = Buffer.allocUnsafeSlow(GATHER_LIMIT);

/** SHA-256 of a short input (at most {@link GATHER_LIMIT} bytes) in one libsodium call. */
function sha256Once(input: Buffer): Buffer {
  const digest = Buffer.allocUnsafe(DIGEST_LENGTH);
  sodium.crypto_hash_sha256(digest, input);
  return digest;
}

/** A SHA-256 digest, printed and serialised as a multihash (`1220…`), as Canton does for hashes and fingerprints. */
export class Hash {
  readonly #digest: Uint8Array;

  private constructor(digest: Uint8Array) {
    this.#digest = digest;
  }

  /** SHA-256 over the 4-byte big-endian purpose id followed by `data`. */
  static digest(purpose: HashPurpose, data: Uint8Array): Hash {
    // One call either way and no builder: a short input is copied behind the id into a scratch buffer (nothing
    // else runs between the copy and the hash), a long one streams after the id.
    SCRATCH.writeInt32BE(purpose.id, 0);
    if (4 + data.byteLength > GATHER_LIMIT) {
      return new Hash(createHash('sha256').update(SCRATCH.subarray(0, 4)).update(data).digest());
    }
    SCRATCH.set(data, 4);
    return new Hash(sha256Once(SCRATCH.subarray(0, 4 + data.byteLength)));
  }

  /** A builder for structured input; the purpose is already added. */
  static build(purpose: HashPurpose): HashBuilder {
    return new HashBuilder(purpose);
  }

  /** From the 32 raw digest bytes (for example the output of a {@link HashBuilder}). */
  static fromDigest(digest: Uint8Array): Hash {
    if (digest.byteLength !== DIGEST_LENGTH) {
      throw new WeftError(
        CryptoErrors.INVALID_HASH,
        `a SHA-256 digest is ${DIGEST_LENGTH} bytes, got ${digest.byteLength}`,
      );
    }
    return new Hash(copyBytes(digest));
  }

  /** From the 34-byte multihash form (`0x12 0x20` + digest). */
  static fromMultihash(bytes: Uint8Array): Hash {
    if (bytes.byteLength !== DIGEST_LENGTH + 2 || bytes[0] !== 0x12 || bytes[1] !== 0x20) {
      throw new WeftError(
        CryptoErrors.INVALID_HASH,
        `expected a 34-byte SHA-256 multihash starting 0x12 0x20, got ${bytes.byteLength} bytes starting ${toHex(bytes.subarray(0, 2))}`,
      );
    }
    return new Hash(copyBytes(bytes.subarray(2)));
  }

  /** From the 68-character hex multihash (`1220…`). */
  static fromHex(hex: string): Hash {
    const problem = multihashHexProblem(hex);
    if (problem) throw new WeftError(CryptoErrors.INVALID_HASH, `hash ${quote(hex)} ${problem}`);
    return new Hash(fromLowerHex(hex.slice(4))!);
  }

  /** The 32 raw digest bytes (a copy). */
  get digestBytes(): Uint8Array {
    return copyBytes(this.#digest);
  }

  toMultihash(): Uint8Array {
    const out = new Uint8Array(DIGEST_LENGTH + 2);
    out.set(MULTIHASH_SHA256);
    out.set(this.#digest, 2);
    return out;
  }

  toHex(): string {
    return `1220${toHex(this.#digest)}`;
  }

  equals(other: Hash): boolean {
    return bytesEqual(this.#digest, other.#digest);
  }

  toString(): string {
    return this.toHex();
  }

  toJSON(): string {
    return this.toHex();
  }
}

const writeInt32 = (b: Buffer, n: number, at: number) => void b.writeInt32BE(n, at);
const writeInt64 = (b: Buffer, n: bigint, at: number) => void b.writeBigInt64BE(n, at);

/**
 * Accumulates hash input. Variable-length fields must go through the length-prefixed `addBytes`/`addString` so that
 * different field splits cannot produce the same input; `addRaw` is for fixed-size fields (digests, keys) only.
 * Integers are big-endian, as in Canton's `DeterministicEncoding`. The input is copied as it is added, so a caller
 * may reuse its buffers at once.
 */
export class HashBuilder {
  /** The input so far, while it fits {@link GATHER_LIMIT}. */
  #gathered: Buffer = Buffer.allocUnsafe(GATHER_INITIAL);
  #length = 0;
  /** Set once the input outgrew the gather buffer: the input streams through it from then on. */
  #sha: NodeHash | undefined;
  #finished = false;

  constructor(purpose: HashPurpose) {
    this.addInt32(purpose.id);
  }

  addRaw(bytes: Uint8Array): this {
    this.#reserve(bytes.byteLength)?.set(bytes, this.#length - bytes.byteLength);
    if (this.#sha) this.#sha.update(bytes);
    return this;
  }

  /** 4-byte big-endian length, then the bytes. */
  addBytes(bytes: Uint8Array): this {
    return this.addInt32(bytes.byteLength).addRaw(bytes);
  }

  /** UTF-8 encoded and length-prefixed like {@link addBytes}. */
  addString(s: string): this {
    return this.addBytes(Buffer.from(s, 'utf8'));
  }

  addInt32(n: number): this {
    return this.#addFixed(4, n, writeInt32);
  }

  addInt64(n: bigint): this {
    return this.#addFixed(8, n, writeInt64);
  }

  finish(): Hash {
    if (this.#finished) throw new Error('HashBuilder.finish() called twice');
    this.#finished = true;
    return Hash.fromDigest(
      this.#sha ? this.#sha.digest() : sha256Once(this.#gathered.subarray(0, this.#length)),
    );
  }

  /** A fixed-size field: written into the gather buffer, or into bytes of its own once the input streams. */
  #addFixed<T>(size: number, value: T, write: (b: Buffer, value: T, at: number) => void): this {
    const gathered = this.#reserve(size);
    if (gathered) write(gathered, value, this.#length - size);
    else {
      const bytes = Buffer.allocUnsafe(size);
      write(bytes, value, 0);
      this.#sha!.update(bytes);
    }
    return this;
  }

  /**
   * Makes room for `n` more bytes in the gather buffer and returns it (the new bytes go at `#length - n`), or
   * returns undefined once the input streams: then the caller updates `#sha` itself.
   */
  #reserve(n: number): Buffer | undefined {
    if (this.#finished) throw new Error('HashBuilder used after finish()');
    if (this.#sha) return undefined;
    const length = this.#length + n;
    if (length > GATHER_LIMIT) {
      this.#sha = createHash('sha256').update(this.#gathered.subarray(0, this.#length));
      return undefined;
    }
    if (length > this.#gathered.byteLength) {
      const grown = Buffer.allocUnsafe(GATHER_LIMIT);
      this.#gathered.copy(grown, 0, 0, this.#length);
      this.#gathered = grown;
    }
    this.#length = length;
    return this.#gathered;
  }
}

/** Why `hex` is not a hex SHA-256 multihash, or undefined if it is one. Shared with fingerprint validation. */
export function multihashHexProblem(hex: string): string | undefined {
  if (hex.length !== HASH_HEX_LENGTH) {
    return `must be ${HASH_HEX_LENGTH} characters ('1220' + 64 hex digits), got ${hex.length}`;
  }
  if (!hex.startsWith('1220')) return `must start with '1220' (SHA-256 multihash), got '${hex.slice(0, 4)}'`;
  const bad = hex.search(/[^0-9a-f]/);
  if (bad >= 0) return `must be lowercase hex, found '${hex[bad]}' at position ${bad}`;
  return undefined;
}

function quote(s: string): string {
  return s.length > 80 ? `'${s.slice(0, 77)}...'` : `'${s}'`;
}
