import { CryptoErrors, Hash, HashPurpose, type RandomSource } from '../crypto/index.js';
import { isWeftError } from '../errors/index.js';
import {
  type BlindableNode,
  CommonMetadata,
  ParticipantMetadata,
  SubmitterMetadata,
  type TransactionTree,
  type TransactionView,
  type TransactionViewNode,
  ViewCommonData,
} from '../generated/weft/protocol/v1/transaction_tree.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { malformed } from './codec.js';

/**
 * The Merkle tree of a confirmation request (`transaction_tree.proto`): salted leaves, inner nodes over their
 * children's hashes, and blinding. A recipient sees the tree with what it may not see replaced by hashes and
 * computes the same root hash as everybody else.
 */

/** The child indices from the root: root view i is `[i]`, its subview j is `[i, j]`. */
export type ViewPosition = readonly number[];

/** Every leaf has a fresh salt of this many random bytes. */
export const SALT_LENGTH = 32;

/** Views may nest this deep; deeper trees are malformed (a bound on recursion for hostile input). */
export const MAX_VIEW_DEPTH = 256;

const NODE_KIND_ROOT = 1;
const NODE_KIND_VIEW = 2;

/** The leaves of a tree and the hash purpose of each (Canton's numbering). */
export const LeafPurpose = {
  submitterMetadata: HashPurpose.SubmitterMetadata,
  commonMetadata: HashPurpose.CommonMetadata,
  participantMetadata: HashPurpose.ParticipantMetadata,
  viewCommonData: HashPurpose.ViewCommonData,
  viewParticipantData: HashPurpose.ViewParticipantData,
} as const;

/** `0.1.2`; the empty position (no view) prints as the empty string. */
export function viewPositionKey(position: ViewPosition): string {
  return position.join('.');
}

export function newSalt(random: RandomSource): Uint8Array {
  return random.bytes(SALT_LENGTH);
}

/** SHA-256(purpose ‖ salt ‖ content) of an unblinded leaf. */
export function leafHash(purpose: HashPurpose, salt: Uint8Array, content: Uint8Array): Hash {
  if (salt.byteLength !== SALT_LENGTH) {
    malformed(`a Merkle leaf salt must be ${SALT_LENGTH} bytes, got ${salt.byteLength}`);
  }
  return Hash.build(purpose).addRaw(salt).addRaw(content).finish();
}

function innerHash(kind: number, children: readonly Hash[]): Hash {
  const builder = Hash.build(HashPurpose.MerkleTreeInnerNode).addInt32(kind).addInt32(children.length);
  for (const child of children) builder.addRaw(child.toMultihash());
  return builder.finish();
}

/** An unblinded leaf with a fresh salt. */
export function leaf(content: Uint8Array, random: RandomSource): BlindableNode {
  return { node: { oneofKind: 'unblinded', unblinded: { salt: newSalt(random), content } } };
}

export function blindedLeaf(hash: Hash): BlindableNode {
  return { node: { oneofKind: 'blindedHash', blindedHash: hash.toMultihash() } };
}

/** A view node of a tree, with its hash; `view` is undefined when the whole view is blinded. */
export interface HashedView {
  readonly position: ViewPosition;
  readonly hash: Hash;
  readonly view: TransactionView | undefined;
}

export interface HashedTree {
  readonly rootHash: Hash;
  /** Every view node, blinded ones included, parents before children and siblings in order. */
  readonly views: readonly HashedView[];
  /** The hash of each leaf and view node object of the tree, so that blinding it hashes nothing again. */
  readonly nodes: ReadonlyMap<BlindableNode | TransactionViewNode, Hash>;
}

/** Hashes nodes, collecting every view and refusing a hash seen twice (salts make every node's hash unique). */
class TreeHasher {
  readonly #seen = new Set<string>();
  readonly views: HashedView[] = [];
  readonly nodes = new Map<BlindableNode | TransactionViewNode, Hash>();

  #unique(hash: Hash, what: string): Hash {
    const hex = hash.toHex();
    if (this.#seen.has(hex)) malformed(`the hash ${hex} of ${what} occurs twice in the tree`);
    this.#seen.add(hex);
    return hash;
  }

  leaf(node: BlindableNode | undefined, purpose: HashPurpose, what: string): Hash {
    const hash = this.#unique(nodeHash(node, purpose, what), what);
    this.nodes.set(node!, hash);
    return hash;
  }

  view(node: TransactionViewNode | undefined, position: ViewPosition): Hash {
    const what = `view ${viewPositionKey(position)}`;
    if (position.length > MAX_VIEW_DEPTH) malformed(`views nest deeper than ${MAX_VIEW_DEPTH}`);
    const body = node?.node;
    if (!body || body.oneofKind === undefined) return malformed(`${what} is missing`);
    if (body.oneofKind === 'blindedHash') {
      const hash = this.#unique(parseHash(body.blindedHash, what), what);
      this.views.push({ position, hash, view: undefined });
      return hash;
    }
    const view = body.view;
    // Pre-order: the view's entry goes in before its subviews', its hash once they are known.
    const entry = this.views.length;
    this.views.push({ position, hash: EMPTY_HASH, view });
    const children = [
      this.leaf(view.commonData, LeafPurpose.viewCommonData, `the common data of ${what}`),
      this.leaf(view.participantData, LeafPurpose.viewParticipantData, `the participant data of ${what}`),
      ...view.subviews.map((sub, i) => this.view(sub, [...position, i])),
    ];
    const hash = this.#unique(innerHash(NODE_KIND_VIEW, children), what);
    this.views[entry] = { position, hash, view };
    this.nodes.set(node, hash);
    return hash;
  }
}

const EMPTY_HASH = Hash.fromDigest(new Uint8Array(32));

/**
 * Computes the root hash and every view's hash of a (possibly partly blinded) tree. Throws
 * PROTOCOL_MESSAGE_MALFORMED for a missing node, a bad hash or salt, a tree without views or nested deeper than
 * {@link MAX_VIEW_DEPTH}, or a hash occurring twice.
 */
export function hashTree(tree: TransactionTree): HashedTree {
  if (tree.rootViews.length === 0) malformed('the tree has no views');
  const hasher = new TreeHasher();
  const children = [
    hasher.leaf(tree.submitterMetadata, LeafPurpose.submitterMetadata, 'the submitter metadata'),
    hasher.leaf(tree.commonMetadata, LeafPurpose.commonMetadata, 'the common metadata'),
    hasher.leaf(tree.participantMetadata, LeafPurpose.participantMetadata, 'the participant metadata'),
    ...tree.rootViews.map((v, i) => hasher.view(v, [i])),
  ];
  return { rootHash: innerHash(NODE_KIND_ROOT, children), views: hasher.views, nodes: hasher.nodes };
}

/** The hash of one view node (at `position`, for messages), e.g. to check an EncryptedViewMessage's view hash. */
export function viewNodeHash(node: TransactionViewNode, position: ViewPosition = []): Hash {
  return new TreeHasher().view(node, position);
}

/** The hash of a leaf: computed from its salted content, or the blinded hash as given. */
export function nodeHash(node: BlindableNode | undefined, purpose: HashPurpose, what: string): Hash {
  const body = node?.node;
  if (!body || body.oneofKind === undefined) return malformed(`${what} is missing`);
  if (body.oneofKind === 'blindedHash') return parseHash(body.blindedHash, what);
  return leafHash(purpose, body.unblinded.salt, body.unblinded.content);
}

function parseHash(bytes: Uint8Array, what: string): Hash {
  try {
    return Hash.fromMultihash(bytes);
  } catch (e) {
    if (isWeftError(e, CryptoErrors.INVALID_HASH)) malformed(`the blinded hash of ${what}: ${e.message}`);
    throw e;
  }
}

/** What of a view a blinded tree keeps. */
export type ViewDisclosure =
  /** The view with both its leaves. */
  | 'full'
  /** The view with its common data (informees, confirming parties); participant data blinded. */
  | 'informee'
  /** The view node with both leaves blinded, e.g. an ancestor of a disclosed view. */
  | 'structure'
  /** Only the view's hash (its subviews go with it). */
  | 'hidden';

export interface BlindingPolicy {
  readonly submitterMetadata: boolean;
  readonly commonMetadata: boolean;
  readonly participantMetadata: boolean;
  readonly view: (position: ViewPosition) => ViewDisclosure;
}

/**
 * A copy of `tree` with everything the policy does not reveal replaced by its hash; the root hash is unchanged.
 * `hashed` (the tree's {@link hashTree}) supplies the hashes instead of computing them again.
 */
export function blindTree(
  tree: TransactionTree,
  policy: BlindingPolicy,
  hashed?: HashedTree,
): TransactionTree {
  const keepLeaf = (node: BlindableNode | undefined, purpose: HashPurpose, reveal: boolean, what: string) =>
    reveal ? node! : blindedLeaf((node && hashed?.nodes.get(node)) ?? nodeHash(node, purpose, what));
  const blindView = (node: TransactionViewNode, position: ViewPosition): TransactionViewNode => {
    const disclosure = policy.view(position);
    const body = node.node;
    if (body.oneofKind !== 'view') return node;
    if (disclosure === 'hidden') {
      const hash = hashed?.nodes.get(node) ?? viewNodeHash(node, position);
      return { node: { oneofKind: 'blindedHash', blindedHash: hash.toMultihash() } };
    }
    const what = `view ${viewPositionKey(position)}`;
    const view = body.view;
    return {
      node: {
        oneofKind: 'view',
        view: {
          commonData: keepLeaf(
            view.commonData,
            LeafPurpose.viewCommonData,
            disclosure !== 'structure',
            `the common data of ${what}`,
          ),
          participantData: keepLeaf(
            view.participantData,
            LeafPurpose.viewParticipantData,
            disclosure === 'full',
            `the participant data of ${what}`,
          ),
          subviews: view.subviews.map((sub, i) => blindView(sub, [...position, i])),
        },
      },
    };
  };
  return {
    submitterMetadata: keepLeaf(
      tree.submitterMetadata,
      LeafPurpose.submitterMetadata,
      policy.submitterMetadata,
      'the submitter metadata',
    ),
    commonMetadata: keepLeaf(
      tree.commonMetadata,
      LeafPurpose.commonMetadata,
      policy.commonMetadata,
      'the common metadata',
    ),
    participantMetadata: keepLeaf(
      tree.participantMetadata,
      LeafPurpose.participantMetadata,
      policy.participantMetadata,
      'the participant metadata',
    ),
    rootViews: tree.rootViews.map((v, i) => blindView(v, [i])),
  };
}

/** The tree the mediator gets: metadata but the participant metadata, and every view with its common data only. */
export function informeeTree(tree: TransactionTree, hashed?: HashedTree): TransactionTree {
  return blindTree(
    tree,
    {
      submitterMetadata: true,
      commonMetadata: true,
      participantMetadata: false,
      view: () => 'informee',
    },
    hashed,
  );
}

/** A view of a tree being built: its common data, its serialized participant data, its subviews. */
export interface ViewInput {
  readonly informees: readonly string[];
  readonly confirmingParties: readonly string[];
  readonly threshold: number;
  /** The serialized ViewParticipantData (the participant's schema); salted here. */
  readonly participantData: Uint8Array;
  readonly subviews?: readonly ViewInput[];
}

export interface TreeInput {
  readonly submitterMetadata: SubmitterMetadata;
  readonly commonMetadata: CommonMetadata;
  readonly participantMetadata: ParticipantMetadata;
  readonly views: readonly ViewInput[];
}

/** Builds a fully unblinded tree, salting every leaf with fresh randomness. */
export function buildTransactionTree(input: TreeInput, random: RandomSource): TransactionTree {
  const view = (v: ViewInput): TransactionViewNode => ({
    node: {
      oneofKind: 'view',
      view: {
        commonData: leaf(
          ViewCommonData.toBinary(
            {
              informees: [...v.informees],
              confirmingParties: [...v.confirmingParties],
              threshold: v.threshold,
            },
            FAST_WRITE_OPTIONS,
          ),
          random,
        ),
        participantData: leaf(v.participantData, random),
        subviews: (v.subviews ?? []).map(view),
      },
    },
  });
  return {
    submitterMetadata: leaf(SubmitterMetadata.toBinary(input.submitterMetadata, FAST_WRITE_OPTIONS), random),
    commonMetadata: leaf(CommonMetadata.toBinary(input.commonMetadata, FAST_WRITE_OPTIONS), random),
    participantMetadata: leaf(
      ParticipantMetadata.toBinary(input.participantMetadata, FAST_WRITE_OPTIONS),
      random,
    ),
    rootViews: input.views.map(view),
  };
}
