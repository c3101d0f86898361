import type { Identifier } from '../lf/ast.js';
import type { ContractId } from '../values/contract-id.js';
import type { Value } from '../values/value.js';

/**
 * The transaction model of the Daml ledger (`transaction.rst`, `Node.scala`): a forest of action nodes in
 * evaluation order. Parties are sorted, duplicate-free arrays; values are run-time values typed by the packages
 * (records carry their type constructor); contract ids are V1 (`00` + discriminator [+ suffix]).
 *
 * Node ids are dense and in pre-order for a transaction the engine produced (the root is 0); projections keep the
 * ids of the transaction they were taken from.
 */

/** Version of the Weft transaction model and of its canonical encoding (`codec.ts`). */
export const TRANSACTION_VERSION = 1;

export type NodeId = number;
export type Party = string;

export interface CreateNode {
  readonly tag: 'Create';
  readonly contractId: ContractId;
  readonly packageName: string;
  readonly templateId: Identifier;
  readonly arg: Value;
  readonly signatories: readonly Party[];
  /** Signatories and observers. */
  readonly stakeholders: readonly Party[];
}

export interface FetchNode {
  readonly tag: 'Fetch';
  readonly contractId: ContractId;
  readonly packageName: string;
  readonly templateId: Identifier;
  /** Set for `fetch_interface`. */
  readonly interfaceId: Identifier | undefined;
  /** The authorizers of the fetch that are stakeholders of the contract. */
  readonly actingParties: readonly Party[];
  readonly signatories: readonly Party[];
  readonly stakeholders: readonly Party[];
}

export interface ExerciseNode {
  readonly tag: 'Exercise';
  readonly contractId: ContractId;
  readonly packageName: string;
  /** The template of the exercised contract (also when exercised through an interface). */
  readonly templateId: Identifier;
  /** Set when the choice is an interface choice. */
  readonly interfaceId: Identifier | undefined;
  readonly choice: string;
  readonly consuming: boolean;
  /** The choice controllers. */
  readonly actingParties: readonly Party[];
  readonly chosenValue: Value;
  readonly signatories: readonly Party[];
  readonly stakeholders: readonly Party[];
  readonly choiceObservers: readonly Party[];
  readonly children: readonly NodeId[];
  /** Undefined when an exception aborted the choice (the node then sits under a Rollback node). */
  readonly exerciseResult: Value | undefined;
}

/** Actions whose effects were undone because the exception they raised was handled. */
export interface RollbackNode {
  readonly tag: 'Rollback';
  readonly children: readonly NodeId[];
}

export type ActionNode = CreateNode | FetchNode | ExerciseNode;
export type Node = ActionNode | RollbackNode;

export interface Transaction {
  readonly version: number;
  readonly roots: readonly NodeId[];
  readonly nodes: ReadonlyMap<NodeId, Node>;
}

/** What the engine learnt while building a transaction, beyond the tree itself (`Tx.Metadata`). */
export interface TransactionMetadata {
  /** The time used to derive contract ids (µs since the epoch). */
  readonly preparationTime: bigint;
  /** The ledger time the transaction was interpreted at. */
  readonly ledgerTime: bigint;
  /**
   * The range of ledger times for which the interpretation would be the same (inclusive bounds; undefined
   * means unbounded). `getTime` pins both bounds; `ledgerTimeLT` narrows one.
   */
  readonly timeBounds: { readonly min: bigint | undefined; readonly max: bigint | undefined };
  /** Whether any Daml code read the ledger time. */
  readonly dependsOnTime: boolean;
  /** The seed of every Create and Exercise node (32 bytes), from which contract ids and child seeds derive. */
  readonly nodeSeeds: ReadonlyMap<NodeId, Uint8Array>;
  /** The contracts the transaction used that it did not create, in order of first use. */
  readonly inputContracts: readonly FatContract[];
  /** The packages of the templates and interfaces the transaction's nodes refer to, sorted. */
  readonly usedPackages: readonly string[];
}

/** A contract with everything needed to use it without its creating transaction (`FatContractInstance`). */
export interface FatContract {
  readonly contractId: ContractId;
  readonly packageName: string;
  readonly templateId: Identifier;
  readonly arg: Value;
  readonly signatories: readonly Party[];
  readonly stakeholders: readonly Party[];
  /** The ledger time of the creating transaction, when known. */
  readonly createdAt?: bigint;
}

export function observersOf(c: { signatories: readonly Party[]; stakeholders: readonly Party[] }): Party[] {
  return c.stakeholders.filter((p) => !c.signatories.includes(p));
}

/**
 * The informees of an action (ledger model): the parties who must be told about it. Create: stakeholders.
 * Fetch: signatories and actors. Exercise: (consuming: stakeholders, else signatories), actors and choice observers.
 */
export function informeesOf(node: ActionNode): Party[] {
  switch (node.tag) {
    case 'Create':
      return [...node.stakeholders];
    case 'Fetch':
      return union(node.signatories, node.actingParties);
    case 'Exercise':
      return union(
        union(node.consuming ? node.stakeholders : node.signatories, node.actingParties),
        node.choiceObservers,
      );
  }
}

/** The parties whose authority the ledger model requires for an action. */
export function requiredAuthorizersOf(node: ActionNode): Party[] {
  return node.tag === 'Create' ? [...node.signatories] : [...node.actingParties];
}

/** The union of two sorted party lists, sorted. */
export function union(a: readonly Party[], b: readonly Party[]): Party[] {
  const out: Party[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x < y)) {
      out.push(x!);
      i++;
    } else if (x === undefined || y < x) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
  }
  return out;
}

export function childrenOf(node: Node): readonly NodeId[] {
  return node.tag === 'Exercise' || node.tag === 'Rollback' ? node.children : [];
}

export function getNode(tx: Transaction, id: NodeId): Node {
  const node = tx.nodes.get(id);
  if (node === undefined) throw new Error(`transaction has no node ${id}`);
  return node;
}

/** Visits the nodes in pre-order (evaluation order), with the depth-first path of rollback scopes above them. */
export function forEachNode(
  tx: Transaction,
  visit: (id: NodeId, node: Node, underRollback: boolean) => void,
): void {
  const stack: [NodeId, boolean][] = [];
  for (let i = tx.roots.length - 1; i >= 0; i--) stack.push([tx.roots[i]!, false]);
  for (;;) {
    const top = stack.pop();
    if (top === undefined) return;
    const [id, rolledBack] = top;
    const node = getNode(tx, id);
    visit(id, node, rolledBack);
    const children = childrenOf(node);
    const inRollback = rolledBack || node.tag === 'Rollback';
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, inRollback]);
  }
}

/** The contract a Create node creates, as a stand-alone contract. */
export function createdContract(node: CreateNode, createdAt?: bigint): FatContract {
  return {
    contractId: node.contractId,
    packageName: node.packageName,
    templateId: node.templateId,
    arg: node.arg,
    signatories: node.signatories,
    stakeholders: node.stakeholders,
    ...(createdAt === undefined ? {} : { createdAt }),
  };
}

/**
 * The net effect of a transaction on the contract store: contracts created and not archived within it, and
 * contracts consumed. Actions under Rollback nodes have no effect.
 */
export function transactionEffects(tx: Transaction): { created: CreateNode[]; archived: ContractId[] } {
  const created: CreateNode[] = [];
  const archived: ContractId[] = [];
  const consumed = new Set<string>();
  forEachNode(tx, (_id, node, rolledBack) => {
    if (rolledBack) return;
    if (node.tag === 'Create') created.push(node);
    else if (node.tag === 'Exercise' && node.consuming) {
      consumed.add(node.contractId.coid);
      archived.push(node.contractId);
    }
  });
  const createdIds = new Set(created.map((c) => c.contractId.coid));
  return {
    created: created.filter((c) => !consumed.has(c.contractId.coid)),
    archived: archived.filter((c) => !createdIds.has(c.coid)),
  };
}
