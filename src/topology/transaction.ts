import type { IMessageType } from '@protobuf-ts/runtime';
import { Fingerprint, Hash, HashPurpose, type SigningPublicKey } from '../crypto/index.js';
import { WeftError } from '../errors/index.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import { TopologyErrors } from './errors.js';
import {
  describeMapping,
  mappingFromProto,
  mappingToProto,
  type TopologyMapping,
  uniqueKey,
} from './mapping.js';

export type TopologyChangeOp = 'AddReplace' | 'Remove';

/** Signs topology transaction hashes; a `SigningPrivateKey` is one, a remote or HSM signer can be another. */
export interface TopologySigner {
  readonly publicKey: SigningPublicKey;
  sign(message: Uint8Array): Uint8Array;
}

export interface TopologySignature {
  readonly signedBy: Fingerprint;
  readonly signature: Uint8Array;
}

const READ_STRICT = { readUnknownField: 'throw' } as const;

function decodeStrict<T extends object>(type: IMessageType<T>, bytes: Uint8Array, what: string): T {
  try {
    return type.fromBinary(bytes, READ_STRICT);
  } catch (cause) {
    throw new WeftError(
      TopologyErrors.TOPOLOGY_MALFORMED,
      `${what} is not a valid protobuf message: ${cause instanceof Error ? cause.message : String(cause)}`,
      {},
      { cause },
    );
  }
}

/**
 * An operation on one version (serial) of a mapping. `bytes` is the exact encoding that is hashed and signed; a
 * decoded transaction keeps the bytes it came from.
 */
export class TopologyTransaction {
  readonly #bytes: Uint8Array;
  #hash: Hash | undefined;
  #uniqueKey: string | undefined;

  private constructor(
    readonly operation: TopologyChangeOp,
    readonly serial: number,
    readonly mapping: TopologyMapping,
    bytes: Uint8Array,
  ) {
    this.#bytes = bytes;
  }

  static create(operation: TopologyChangeOp, serial: number, mapping: TopologyMapping): TopologyTransaction {
    if (!Number.isInteger(serial) || serial < 1 || serial > 0xffff_ffff) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_SERIAL_MISMATCH,
        `serial ${serial} must be an integer from 1 to 2^32-1`,
      );
    }
    const bytes = pb.TopologyTransaction.toBinary({
      operation: operation === 'AddReplace' ? pb.TopologyChangeOp.ADD_REPLACE : pb.TopologyChangeOp.REMOVE,
      serial,
      mapping: mappingToProto(mapping),
    });
    return new TopologyTransaction(operation, serial, mapping, bytes);
  }

  /**
   * Decodes and validates. Only the canonical encoding is accepted (what `create` produces for the same content), so
   * equal transactions always have equal bytes and hashes, and proposals of the same change merge.
   */
  static decode(bytes: Uint8Array): TopologyTransaction {
    const proto = decodeStrict(pb.TopologyTransaction, bytes, 'the topology transaction');
    let operation: TopologyChangeOp;
    if (proto.operation === pb.TopologyChangeOp.ADD_REPLACE) operation = 'AddReplace';
    else if (proto.operation === pb.TopologyChangeOp.REMOVE) operation = 'Remove';
    else
      throw new WeftError(
        TopologyErrors.TOPOLOGY_MALFORMED,
        `topology change operation ${proto.operation} is not specified or unknown`,
      );
    if (proto.mapping === undefined)
      throw new WeftError(TopologyErrors.TOPOLOGY_MALFORMED, 'the topology transaction has no mapping');
    if (proto.serial < 1)
      throw new WeftError(TopologyErrors.TOPOLOGY_SERIAL_MISMATCH, 'serial 0 is invalid; serials start at 1');
    const mapping = mappingFromProto(proto.mapping);
    const tx = new TopologyTransaction(operation, proto.serial, mapping, new Uint8Array(bytes));
    if (!Buffer.from(TopologyTransaction.create(operation, proto.serial, mapping).#bytes).equals(bytes)) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_MALFORMED,
        'the topology transaction is not canonically encoded',
      );
    }
    return tx;
  }

  /** The exact encoded bytes (a copy). */
  get bytes(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }

  /** Purpose-tagged SHA-256 of the bytes: what signatures sign and what identifies the transaction. */
  get hash(): Hash {
    this.#hash ??= Hash.digest(HashPurpose.TopologyTransactionSignature, this.#bytes);
    return this.#hash;
  }

  get uniqueKey(): string {
    this.#uniqueKey ??= uniqueKey(this.mapping);
    return this.#uniqueKey;
  }

  /** Encodes into a SignedTopologyTransaction field without copying (package-internal). */
  encodedBytes(): Uint8Array {
    return this.#bytes;
  }

  toString(): string {
    return `${this.operation} #${this.serial} ${describeMapping(this.mapping)}`;
  }
}

/** A topology transaction with signatures, as broadcast to and sequenced by the synchronizer. */
export class SignedTopologyTransaction {
  #bytes: Uint8Array | undefined;

  private constructor(
    readonly transaction: TopologyTransaction,
    readonly signatures: readonly TopologySignature[],
    readonly proposal: boolean,
  ) {}

  /** Signs `transaction` with each signer (in order). */
  static sign(
    transaction: TopologyTransaction,
    signers: readonly TopologySigner[],
    options: { proposal?: boolean } = {},
  ): SignedTopologyTransaction {
    return new SignedTopologyTransaction(transaction, [], options.proposal ?? false).addSignatures(
      signers.map((s) => signatureBy(transaction, s)),
    );
  }

  static decode(bytes: Uint8Array): SignedTopologyTransaction {
    const proto = decodeStrict(pb.SignedTopologyTransaction, bytes, 'the signed topology transaction');
    const transaction = TopologyTransaction.decode(proto.transaction);
    const signatures = proto.signatures.map((s) => {
      const problem = Fingerprint.problem(s.signedBy);
      if (problem)
        throw new WeftError(
          TopologyErrors.TOPOLOGY_MALFORMED,
          `signature signed_by '${s.signedBy.slice(0, 80)}' ${problem}`,
        );
      return { signedBy: Fingerprint.parse(s.signedBy), signature: s.signature };
    });
    const signed = new SignedTopologyTransaction(transaction, [], proto.proposal).addSignatures(signatures);
    if (signed.signatures.length === 0) {
      throw new WeftError(
        TopologyErrors.TOPOLOGY_MALFORMED,
        'the signed topology transaction carries no signature',
      );
    }
    return signed;
  }

  get hash(): Hash {
    return this.transaction.hash;
  }

  get mapping(): TopologyMapping {
    return this.transaction.mapping;
  }

  get operation(): TopologyChangeOp {
    return this.transaction.operation;
  }

  get serial(): number {
    return this.transaction.serial;
  }

  get uniqueKey(): string {
    return this.transaction.uniqueKey;
  }

  /** Fingerprints of the signing keys, in signature order. */
  get signers(): readonly string[] {
    return this.signatures.map((s) => s.signedBy.value);
  }

  /** The same transaction with `extra` signatures added; a second signature by the same key is ignored. */
  addSignatures(extra: readonly TopologySignature[]): SignedTopologyTransaction {
    const seen = new Set(this.signers);
    const added = extra.filter((s) => {
      if (seen.has(s.signedBy.value)) return false;
      seen.add(s.signedBy.value);
      return true;
    });
    if (added.length === 0) return this;
    return new SignedTopologyTransaction(this.transaction, [...this.signatures, ...added], this.proposal);
  }

  /** Adds a signature by `signer`. */
  signWith(signer: TopologySigner): SignedTopologyTransaction {
    return this.addSignatures([signatureBy(this.transaction, signer)]);
  }

  /** Keeps only the signatures by the given key fingerprints. */
  retainSignatures(fingerprints: ReadonlySet<string>): SignedTopologyTransaction {
    return new SignedTopologyTransaction(
      this.transaction,
      this.signatures.filter((s) => fingerprints.has(s.signedBy.value)),
      this.proposal,
    );
  }

  withProposal(proposal: boolean): SignedTopologyTransaction {
    return proposal === this.proposal
      ? this
      : new SignedTopologyTransaction(this.transaction, this.signatures, proposal);
  }

  toBytes(): Uint8Array {
    this.#bytes ??= pb.SignedTopologyTransaction.toBinary({
      transaction: this.transaction.encodedBytes(),
      signatures: this.signatures.map((s) => ({ signedBy: s.signedBy.value, signature: s.signature })),
      proposal: this.proposal,
    });
    return this.#bytes;
  }

  toString(): string {
    return `${this.proposal ? 'proposal ' : ''}${this.transaction} signed by ${this.signers.join(', ')}`;
  }
}

/** The message a topology signature signs: the transaction hash as a multihash. */
export function signedMessage(transaction: TopologyTransaction): Uint8Array {
  return transaction.hash.toMultihash();
}

function signatureBy(transaction: TopologyTransaction, signer: TopologySigner): TopologySignature {
  return { signedBy: signer.publicKey.fingerprint, signature: signer.sign(signedMessage(transaction)) };
}
