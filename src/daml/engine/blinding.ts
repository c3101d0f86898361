import {
  childrenOf,
  getNode,
  informeesOf,
  type Node,
  type NodeId,
  type Party,
  type Transaction,
} from './transaction.js';

/**
 * Privacy in the Daml ledger model (`BlindingTransaction.scala`, "ledger privacy" in the Daml docs): a party
 * witnesses every action it is an informee of, and everything below it. Contracts that a party witnesses being
 * fetched or exercised without being a stakeholder are divulged to it.
 */
export interface BlindingInfo {
  /** The witnesses of each node (the informees of the node and of every exercise above it). */
  readonly disclosure: ReadonlyMap<NodeId, ReadonlySet<Party>>;
  /** Non-stakeholders that witness a fetch or exercise of a contract, by contract id. */
  readonly divulgence: ReadonlyMap<string, ReadonlySet<Party>>;
}

export function blindingInfo(tx: Transaction): BlindingInfo {
  const disclosure = new Map<NodeId, Set<Party>>();
  const divulgence = new Map<string, Set<Party>>();
  const divulge = (coid: string, parties: Iterable<Party>, stakeholders: readonly Party[]) => {
    for (const p of parties) {
      if (stakeholders.includes(p)) continue;
      const set = divulgence.get(coid) ?? new Set<Party>();
      divulgence.set(coid, set);
      set.add(p);
    }
  };
  const stack: [NodeId, ReadonlySet<Party>][] = tx.roots.map((id) => [id, new Set<Party>()]);
  stack.reverse();
  for (;;) {
    const top = stack.pop();
    if (top === undefined) break;
    const [id, parentWitnesses] = top;
    const node = getNode(tx, id);
    let witnesses = parentWitnesses;
    if (node.tag !== 'Rollback') {
      witnesses = new Set([...parentWitnesses, ...informeesOf(node)]);
      if (node.tag === 'Fetch') divulge(node.contractId.coid, parentWitnesses, node.stakeholders);
      else if (node.tag === 'Exercise')
        divulge(node.contractId.coid, [...parentWitnesses, ...node.choiceObservers], node.stakeholders);
    }
    disclosure.set(id, new Set(witnesses));
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, witnesses]);
  }
  return { disclosure, divulgence };
}

/** What a set of parties learns from a transaction. */
export interface Projection {
  readonly parties: readonly Party[];
  /**
   * The parts of the transaction the parties witness, with the node ids of the transaction: every action one of
   * them witnesses with all its descendants, and the Rollback nodes above such actions (with only the witnessed
   * children), so that they know those actions were rolled back.
   */
  readonly transaction: Transaction;
  /** Contracts divulged to the parties (fetched or exercised in their view without them being stakeholders). */
  readonly divulged: readonly string[];
}

/** The projection of `tx` for `parties` (the ledger model's projection, keeping rollback scopes). */
export function project(tx: Transaction, parties: Iterable<Party>, info = blindingInfo(tx)): Projection {
  const ps = [...new Set(parties)].sort();
  const sees = (id: NodeId) => {
    const w = info.disclosure.get(id);
    return w !== undefined && ps.some((p) => w.has(p));
  };
  const nodes = new Map<NodeId, Node>();
  const keep = (id: NodeId): void => {
    const stack = [id];
    for (;;) {
      const next = stack.pop();
      if (next === undefined) return;
      const node = getNode(tx, next);
      nodes.set(next, node);
      stack.push(...childrenOf(node));
    }
  };
  // The projected forest of the nodes `ids`: visible actions whole, invisible exercises replaced by the
  // projections of their children, rollbacks kept around their visible content.
  const forest = (ids: readonly NodeId[]): NodeId[] => {
    const out: NodeId[] = [];
    for (const id of ids) {
      const node = getNode(tx, id);
      if (node.tag !== 'Rollback') {
        if (sees(id)) {
          keep(id);
          out.push(id);
        } else out.push(...forest(childrenOf(node)));
        continue;
      }
      const children = forest(node.children);
      if (children.length === 0) continue;
      nodes.set(id, { tag: 'Rollback', children });
      out.push(id);
    }
    return out;
  };
  const roots = forest(tx.roots);
  const divulged = [...info.divulgence]
    .filter(([, witnesses]) => ps.some((p) => witnesses.has(p)))
    .map(([coid]) => coid)
    .sort();
  return { parties: ps, transaction: { version: tx.version, roots, nodes }, divulged };
}
