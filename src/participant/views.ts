import {
  type ActionNode,
  childrenOf,
  createdContract,
  encodeNode,
  type FatContract,
  getNode,
  informeesOf,
  type Node,
  type NodeId,
  type Party,
  TRANSACTION_VERSION,
  type Transaction,
  type TransactionDecoder,
  union,
} from '../daml/index.js';
import { WeftError } from '../errors/index.js';
import { ViewParticipantData } from '../generated/weft/protocol/v1/transaction_tree.js';
import {
  decodeStrict,
  ProtocolErrors,
  type ViewInput,
  type ViewPosition,
  viewPositionKey,
} from '../protocol/index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { contractOf, serializeContract } from './contracts.js';

/**
 * Views (Phase 1): a transaction is split into views, one per action whose informees or confirming parties differ
 * from those of the view it lies in. A view holds its *core* (its action and the descendants with the same
 * informees, Rollback nodes included) and refers to its subviews by the ids of their actions. Node ids are those
 * of the whole transaction, so the views a participant receives fit together into the part of the transaction it
 * may see, and a party's projection of that part equals its projection of the whole.
 */

/** What a view's participant data (the Merkle leaf, blinded for the mediator) holds. */
export interface ViewData {
  readonly rootNode: NodeId;
  /** The Rollback nodes above the view's action, outermost first (they may lie in views the reader cannot see). */
  readonly rollbackScope: readonly NodeId[];
  /** The actions of the subviews, in order. */
  readonly subviewRoots: readonly NodeId[];
  /** The seed of the view's action (absent for a Fetch), from which its contract ids derive. */
  readonly rootSeed: Uint8Array | undefined;
  /** The packages of the core's nodes and input contracts, sorted. */
  readonly packages: readonly string[];
  /** The core, in pre-order. */
  readonly nodes: ReadonlyMap<NodeId, Node>;
  /** The contracts the core uses that the view's subtree does not create, with their creation time. */
  readonly inputs: readonly FatContract[];
}

export interface PlannedView {
  readonly position: ViewPosition;
  readonly informees: readonly Party[];
  readonly confirmingParties: readonly Party[];
  readonly data: ViewData;
  readonly subviews: readonly PlannedView[];
}

/** The parties whose approval an action needs: signatories, and the actors of fetches and exercises. */
export function confirmingPartiesOf(node: ActionNode): Party[] {
  return node.tag === 'Create' ? [...node.signatories] : union(node.signatories, node.actingParties);
}

const sameParties = <T>(a: readonly T[], b: readonly T[]) =>
  a.length === b.length && a.every((p, i) => p === b[i]);

function sameParameters(
  node: ActionNode,
  informees: readonly Party[],
  confirming: readonly Party[],
): boolean {
  return sameParties(informeesOf(node), informees) && sameParties(confirmingPartiesOf(node), confirming);
}

function packagesOf(node: Node): string[] {
  if (node.tag === 'Rollback') return [];
  const ids = [node.templateId.packageId];
  if (node.tag !== 'Create' && node.interfaceId !== undefined) ids.push(node.interfaceId.packageId);
  return ids;
}

/**
 * Splits a transaction (with absolute contract ids) into views. `inputs` are the contracts it uses that it does
 * not create; contracts it creates are inputs of the views that use them in another view, created at `ledgerTime`.
 */
export function planViews(
  tx: Transaction,
  seeds: ReadonlyMap<NodeId, Uint8Array>,
  inputs: readonly FatContract[],
  ledgerTime: bigint,
): PlannedView[] {
  const contracts = new Map<string, FatContract>();
  for (const c of inputs) contracts.set(c.contractId.coid, c);
  for (const node of tx.nodes.values()) {
    if (node.tag === 'Create') contracts.set(node.contractId.coid, createdContract(node, ledgerTime));
  }
  const plan = (rootId: NodeId, scope: readonly NodeId[], position: ViewPosition): PlannedView => {
    const root = getNode(tx, rootId) as ActionNode;
    const informees = informeesOf(root);
    const confirming = confirmingPartiesOf(root);
    const nodes = new Map<NodeId, Node>();
    const subviews: PlannedView[] = [];
    const subviewRoots: NodeId[] = [];
    const walk = (id: NodeId, inner: readonly NodeId[]): void => {
      const node = getNode(tx, id);
      nodes.set(id, node);
      for (const child of childrenOf(node)) {
        const c = getNode(tx, child);
        if (c.tag === 'Rollback') walk(child, [...inner, child]);
        else if (sameParameters(c, informees, confirming)) walk(child, inner);
        else {
          subviewRoots.push(child);
          subviews.push(plan(child, inner, [...position, subviews.length]));
        }
      }
    };
    walk(rootId, scope);
    const createdBelow = new Set<string>();
    const collectCreated = (core: Iterable<Node>, below: readonly PlannedView[]): void => {
      for (const n of core) if (n.tag === 'Create') createdBelow.add(n.contractId.coid);
      for (const v of below) collectCreated(v.data.nodes.values(), v.subviews);
    };
    collectCreated(nodes.values(), subviews);
    const used = new Map<string, FatContract>();
    const packages = new Set<string>();
    for (const n of nodes.values()) {
      for (const p of packagesOf(n)) packages.add(p);
      if (n.tag === 'Rollback' || n.tag === 'Create') continue;
      const coid = n.contractId.coid;
      if (createdBelow.has(coid) || used.has(coid)) continue;
      const c = contracts.get(coid);
      if (c === undefined) throw new Error(`the transaction uses contract ${coid} without knowing it`);
      used.set(coid, c);
      packages.add(c.templateId.packageId);
    }
    return {
      position,
      informees,
      confirmingParties: confirming,
      data: {
        rootNode: rootId,
        rollbackScope: scope,
        subviewRoots,
        rootSeed: seeds.get(rootId),
        packages: [...packages].sort(),
        nodes,
        inputs: [...used.values()],
      },
      subviews,
    };
  };
  const views: PlannedView[] = [];
  const top = (ids: readonly NodeId[], scope: readonly NodeId[]): void => {
    for (const id of ids) {
      const node = getNode(tx, id);
      if (node.tag === 'Rollback') top(node.children, [...scope, id]);
      else views.push(plan(id, scope, [views.length]));
    }
  };
  top(tx.roots, []);
  return views;
}

/** The Merkle tree input of planned views. */
export function viewInputs(views: readonly PlannedView[]): ViewInput[] {
  return views.map((v) => ({
    informees: v.informees,
    confirmingParties: v.confirmingParties,
    threshold: v.confirmingParties.length,
    participantData: encodeViewData(v.data),
    subviews: viewInputs(v.subviews),
  }));
}

/** A planned view as its recipients receive it (what {@link decodeViewData} and the view's common data give them). */
export function receivedViewOf(v: PlannedView): ReceivedView {
  return {
    position: v.position,
    key: viewPositionKey(v.position),
    informees: v.informees,
    confirmingParties: v.confirmingParties,
    threshold: v.confirmingParties.length,
    subviewCount: v.subviews.length,
    data: v.data,
  };
}

/** Every planned view, parents before children. */
export function flattenViews(views: readonly PlannedView[]): PlannedView[] {
  return views.flatMap((v) => [v, ...flattenViews(v.subviews)]);
}

/** The view's `ViewParticipantData` leaf (`weft.protocol.v1`). */
export function encodeViewData(d: ViewData): Uint8Array {
  return ViewParticipantData.toBinary(
    {
      rootNode: d.rootNode,
      rollbackScope: [...d.rollbackScope],
      subviewRoots: [...d.subviewRoots],
      rootSeed: d.rootSeed ?? new Uint8Array(),
      packages: [...d.packages],
      nodes: Array.from(d.nodes, ([nodeId, node]) => ({ nodeId, node: encodeNode(node) })),
      inputContracts: d.inputs.map(serializeContract),
    },
    FAST_WRITE_OPTIONS,
  );
}

/**
 * Decodes a view's participant data. `checkPackages` runs before any Daml value is decoded (decoding needs the
 * packages' types), so a missing package is reported as such and not as a malformed view.
 */
export function decodeViewData(
  bytes: Uint8Array,
  decoder: TransactionDecoder,
  checkPackages: (packageIds: readonly string[]) => void,
  what: string,
): ViewData {
  const d = decodeStrict(ViewParticipantData, bytes, what);
  checkPackages(d.packages);
  const nodes = new Map<NodeId, Node>();
  for (const { nodeId, node } of d.nodes) {
    if (nodes.has(nodeId)) malformed(`${what} holds node ${nodeId} twice`);
    nodes.set(
      nodeId,
      decodeDaml(() => decoder.decodeNode(node), what),
    );
  }
  return {
    rootNode: d.rootNode,
    rollbackScope: d.rollbackScope,
    subviewRoots: d.subviewRoots,
    rootSeed: d.rootSeed.length === 0 ? undefined : Uint8Array.from(d.rootSeed),
    packages: d.packages,
    nodes,
    inputs: d.inputContracts.map((c, i) =>
      decodeDaml(() => contractOf(c, decoder), `${what}, input contract ${i}`),
    ),
  };
}

function decodeDaml<T>(decode: () => T, what: string): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof WeftError && e.code !== ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED.code) {
      malformed(`${what}: ${e.message}`);
    }
    throw e;
  }
}

function malformed(message: string): never {
  throw new WeftError(ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED, message);
}

/** A view a participant decrypted: its place in the tree, its common data and its participant data. */
export interface ReceivedView {
  readonly position: ViewPosition;
  readonly key: string;
  readonly informees: readonly Party[];
  readonly confirmingParties: readonly Party[];
  readonly threshold: number;
  /** How many subviews the Merkle tree gives the view. */
  readonly subviewCount: number;
  readonly data: ViewData;
}

/** The part of a transaction a participant sees, put together from the views it received. */
export interface AssembledTransaction {
  /**
   * The received views' nodes with their ids in the whole transaction; the roots are the actions of the views whose
   * parent view was not received, under the Rollback nodes of their scope (which keep their ids too).
   */
  readonly transaction: Transaction;
  /** Received views whose parent view was not received, in tree order. */
  readonly topViews: readonly ReceivedView[];
  /** The views by position key. */
  readonly views: ReadonlyMap<string, ReceivedView>;
}

/**
 * Puts the received views together and checks that they fit: each view's core is a tree below its action whose
 * leaves are core nodes or the actions of its subviews, every subview of a received view was received too (a
 * view goes to the recipients of its parent), node ids are unique, each action has the informees and confirming
 * parties its view declares, and the split into views is the canonical one. Throws PROTOCOL_MESSAGE_MALFORMED.
 */
export function assembleViews(received: readonly ReceivedView[]): AssembledTransaction {
  const views = new Map(received.map((v) => [v.key, v]));
  const nodes = new Map<NodeId, Node>();
  for (const view of received) {
    const d = view.data;
    const where = `view ${view.key}`;
    const first = d.nodes.keys().next();
    if (first.done || first.value !== d.rootNode)
      malformed(`${where} does not start with its action ${d.rootNode}`);
    const root = d.nodes.get(d.rootNode)!;
    if (root.tag === 'Rollback') malformed(`${where} has a Rollback node as its action`);
    if (root.tag !== 'Fetch' && d.rootSeed?.length !== 32) malformed(`${where} lacks the seed of its action`);
    if (d.subviewRoots.length !== view.subviewCount) {
      malformed(`${where} names ${d.subviewRoots.length} subviews, the Merkle tree has ${view.subviewCount}`);
    }
    const subviewSet = new Set(d.subviewRoots);
    if (subviewSet.size !== d.subviewRoots.length) malformed(`${where} names a subview twice`);
    const reached = new Set<NodeId>();
    const subviewScopes = new Map<NodeId, NodeId[]>();
    const walk = (id: NodeId, scope: readonly NodeId[]): void => {
      if (reached.has(id)) malformed(`${where} reaches node ${id} twice`);
      reached.add(id);
      const node = d.nodes.get(id)!;
      if (node.tag !== 'Rollback') {
        if (!sameParties(informeesOf(node), view.informees)) {
          malformed(`node ${id} of ${where} has other informees than the view declares`);
        }
        if (!sameParties(confirmingPartiesOf(node), view.confirmingParties)) {
          malformed(`node ${id} of ${where} has other confirming parties than the view declares`);
        }
      }
      for (const child of childrenOf(node)) {
        if (subviewSet.has(child)) {
          if (subviewScopes.has(child)) malformed(`${where} reaches subview ${child} twice`);
          subviewScopes.set(child, [...scope]);
        } else if (d.nodes.has(child)) {
          const c = d.nodes.get(child)!;
          walk(child, c.tag === 'Rollback' ? [...scope, child] : scope);
        } else
          malformed(`node ${id} of ${where} has child ${child}, which is neither in the view nor a subview`);
      }
    };
    walk(d.rootNode, d.rollbackScope);
    if (reached.size !== d.nodes.size) malformed(`${where} holds nodes its action does not reach`);
    for (const [id, node] of d.nodes) {
      if (nodes.has(id)) malformed(`node ${id} occurs in two views`);
      nodes.set(id, node);
    }
    d.subviewRoots.forEach((rootId, j) => {
      const sub = views.get(viewPositionKey([...view.position, j]));
      if (!sub) malformed(`subview ${j} of ${where} was not received, although its parent was`);
      if (sub.data.rootNode !== rootId)
        malformed(`subview ${j} of ${where} has another action than its parent names`);
      if (!sameParties(sub.data.rollbackScope, subviewScopes.get(rootId) ?? [])) {
        malformed(`subview ${j} of ${where} has another rollback scope than its place in the parent`);
      }
      if (
        sameParties(sub.informees, view.informees) &&
        sameParties(sub.confirmingParties, view.confirmingParties)
      ) {
        malformed(`subview ${j} of ${where} has the informees and confirming parties of its parent`);
      }
    });
  }
  const topViews = received.filter(
    (v) => v.position.length === 1 || !views.has(viewPositionKey(v.position.slice(0, -1))),
  );
  const roots: NodeId[] = [];
  // The rollback scopes of the top views, as Rollback nodes holding what is received below them.
  const scopes = new Map<NodeId, NodeId[]>();
  for (const view of topViews) {
    let list = roots;
    for (const rb of view.data.rollbackScope) {
      let children = scopes.get(rb);
      if (children === undefined) {
        if (nodes.has(rb))
          malformed(`node ${rb} is both in a view and in the rollback scope of view ${view.key}`);
        children = [];
        scopes.set(rb, children);
        list.push(rb);
      }
      list = children;
    }
    list.push(view.data.rootNode);
  }
  for (const [rb, children] of scopes) nodes.set(rb, { tag: 'Rollback', children });
  return { transaction: { version: TRANSACTION_VERSION, roots, nodes }, topViews, views };
}
