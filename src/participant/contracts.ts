import { defineHashPurpose, Hash } from '../crypto/index.js';
import {
  type CreateNode,
  createdContract,
  encodeNode,
  type FatContract,
  forEachNode,
  mapContractIds,
  suffixTransaction,
  type Transaction,
  type TransactionDecoder,
} from '../daml/index.js';
import { type ContractId, parseContractId } from '../daml/values/index.js';
import { WeftError } from '../errors/index.js';
import { SerializedContract } from '../generated/weft/protocol/v1/transaction_tree.js';
import { decodeStrict, ProtocolErrors } from '../protocol/index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';

/** Weft's hash purposes of the participant (ids 1200–1219). */
export const ParticipantHashPurpose = {
  /** The suffix of a contract id: binds the id to the contract's content and creation time. */
  ContractIdSuffix: defineHashPurpose(1200, 'ContractIdSuffix'),
  /** A command's change id: user, acting parties and command id, the key of deduplication. */
  ChangeId: defineHashPurpose(1201, 'ChangeId'),
} as const;

/** The suffix marker of Weft's V1 contract ids (Canton's is `ca` too). */
const SUFFIX_PREFIX = 'ca';

/** The create node of a contract, as the engine encodes it. */
export function createNodeOf(c: FatContract): CreateNode {
  return {
    tag: 'Create',
    contractId: c.contractId,
    packageName: c.packageName,
    templateId: c.templateId,
    arg: c.arg,
    signatories: c.signatories,
    stakeholders: c.stakeholders,
  };
}

function localId(cid: ContractId): ContractId {
  return parseContractId(`${cid.coid.slice(0, 2)}${cid.local}`)!;
}

/**
 * The suffix of a contract created at ledger time `createdAt`: SHA-256 over the create node with its local id
 * (its argument already holds the absolute ids of contracts created before it) and the creation time. Any
 * participant can so check that a contract it is shown is the one the id names.
 */
function suffixOf(node: CreateNode, createdAt: bigint): string {
  const digest = Hash.build(ParticipantHashPurpose.ContractIdSuffix)
    .addRaw(encodeNode({ ...node, contractId: localId(node.contractId) }))
    .addInt64(createdAt)
    .finish().digestBytes;
  return SUFFIX_PREFIX + Buffer.from(digest).toString('hex');
}

/**
 * Gives every contract the transaction creates its absolute id (local id + suffix), in evaluation order so that
 * a contract's argument holds the absolute ids of contracts created before it.
 */
export function absolutizeTransaction(tx: Transaction, ledgerTime: bigint): Transaction {
  const absolute = new Map<string, ContractId>();
  const map = (cid: ContractId) => absolute.get(cid.coid) ?? cid;
  forEachNode(tx, (_id, node) => {
    if (node.tag !== 'Create') return;
    const create = { ...node, arg: mapContractIds(node.arg, map) };
    absolute.set(
      node.contractId.coid,
      parseContractId(`${node.contractId.coid}${suffixOf(create, ledgerTime)}`)!,
    );
  });
  return suffixTransaction(tx, map);
}

/** Whether the contract's id is the one its content and creation time give (see {@link absolutizeTransaction}). */
export function isAuthentic(c: FatContract): boolean {
  if (c.createdAt === undefined || c.contractId.version !== 1) return false;
  return c.contractId.suffix === suffixOf(createNodeOf(c), c.createdAt);
}

/** A contract with its creation time, as views and the contract store carry it. */
export function serializeContract(c: FatContract): SerializedContract {
  return { createdAt: c.createdAt ?? 0n, createNode: encodeNode(createNodeOf(c)) };
}

export function encodeContract(c: FatContract): Uint8Array {
  return SerializedContract.toBinary(serializeContract(c), FAST_WRITE_OPTIONS);
}

export function contractOf(s: SerializedContract, decoder: TransactionDecoder): FatContract {
  const node = decoder.decodeNode(s.createNode);
  if (node.tag !== 'Create') {
    throw new WeftError(
      ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED,
      'a contract is encoded as another node than a create',
    );
  }
  return createdContract(node, s.createdAt);
}

export function decodeContract(bytes: Uint8Array, decoder: TransactionDecoder): FatContract {
  return contractOf(decodeStrict(SerializedContract, bytes, 'stored contract'), decoder);
}
