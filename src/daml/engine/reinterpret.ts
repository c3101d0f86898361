import { isWeftError } from '../../errors/index.js';
import type { ContractId } from '../values/contract-id.js';
import type { Value } from '../values/value.js';
import type { ContractStore } from './builder.js';
import { encodeNode, encodeValue } from './codec.js';
import type { Engine, Submission } from './engine.js';
import {
  type ActionNode,
  forEachNode,
  getNode,
  type Node,
  type NodeId,
  type Party,
  requiredAuthorizersOf,
  type Transaction,
} from './transaction.js';
import { mapContractIds } from './values.js';

/**
 * Reinterpretation (model conformance): a validating participant recomputes an action of a transaction it was
 * shown, from the action's seed, the contracts it uses and the ledger time, and checks that Daml produces exactly
 * that action with exactly those consequences. The check is deterministic: every honest participant reaches the
 * same verdict.
 */
export interface ReinterpretRequest {
  /** A transaction (or a view of one) that contains the action. */
  readonly transaction: Transaction;
  /** The action to recompute: a Create, Exercise or Fetch node of `transaction`. */
  readonly nodeId: NodeId;
  /** The seed of the node (required for Create and Exercise nodes). */
  readonly nodeSeed?: Uint8Array;
  readonly preparationTime: bigint;
  readonly ledgerTime: bigint;
  /** The authority the action had in the original transaction (default: its required authorizers). */
  readonly authorizers?: readonly Party[];
}

export type ReinterpretResult =
  | { readonly matches: true; readonly recomputed: Submission }
  | { readonly matches: false; readonly reason: string; readonly recomputed?: Submission };

function describe(id: NodeId, node: Node): string {
  switch (node.tag) {
    case 'Create':
      return `node ${id} (create of ${node.templateId.name.join('.')})`;
    case 'Fetch':
      return `node ${id} (fetch of ${node.templateId.name.join('.')})`;
    case 'Exercise':
      return `node ${id} (exercise of ${node.choice})`;
    case 'Rollback':
      return `node ${id} (rollback)`;
  }
}

/** Recomputes the action `request.nodeId` and compares it, subtree and all, with the given one. */
export async function reinterpret(
  engine: Engine,
  request: ReinterpretRequest,
  contracts: ContractStore,
): Promise<ReinterpretResult> {
  const { transaction: tx, nodeId } = request;
  const node = getNode(tx, nodeId);
  if (node.tag === 'Rollback')
    return { matches: false, reason: `${describe(nodeId, node)} is not an action` };
  if (node.tag !== 'Fetch' && request.nodeSeed === undefined)
    return { matches: false, reason: `${describe(nodeId, node)} has no seed` };
  let underRollback = false;
  forEachNode(tx, (id, _n, rolledBack) => {
    if (id === nodeId) underRollback = rolledBack;
  });

  let recomputed: Submission;
  try {
    recomputed = await engine.run([engine.catching(replayCommand(engine, node))], contracts, {
      committers: request.authorizers ?? requiredAuthorizersOf(node),
      seeding: { kind: 'roots', seeds: [request.nodeSeed] },
      preparationTime: request.preparationTime,
      ledgerTime: request.ledgerTime,
      packageResolution: dispatchedPackages(tx, nodeId),
    });
  } catch (e) {
    if (!isWeftError(e)) throw e;
    return {
      matches: false,
      reason: `recomputing ${describe(nodeId, node)} failed: ${e.code}: ${e.message}`,
    };
  }

  const rtx = recomputed.transaction;
  let roots = rtx.roots;
  const first = roots.length === 1 ? getNode(rtx, roots[0]!) : undefined;
  // The catch-all turned an exception into a rollback; under a rollback that is what the original recorded.
  if (first?.tag === 'Rollback') {
    if (!underRollback)
      return {
        matches: false,
        reason: `recomputing ${describe(nodeId, node)} raised an exception`,
        recomputed,
      };
    roots = first.children;
  }
  if (roots.length !== 1)
    return {
      matches: false,
      reason: `recomputing ${describe(nodeId, node)} yields ${roots.length} root actions`,
      recomputed,
    };
  const mismatch = new Comparison(rtx, tx).nodes(roots[0]!, nodeId);
  return mismatch === undefined
    ? { matches: true, recomputed }
    : { matches: false, reason: mismatch, recomputed };
}

/**
 * The package resolution the original interpretation used where it mattered: the template version each fetch or
 * exercise through an interface dispatched to, by package name, in the subtree of `nodeId` (smart-contract
 * upgrades). Any other reference names its package id.
 */
function dispatchedPackages(tx: Transaction, nodeId: NodeId): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (id: NodeId) => {
    const n = getNode(tx, id);
    if ((n.tag === 'Exercise' || n.tag === 'Fetch') && n.interfaceId !== undefined)
      out.set(n.packageName, n.templateId.packageId);
    if (n.tag === 'Exercise' || n.tag === 'Rollback') for (const c of n.children) visit(c);
  };
  visit(nodeId);
  return out;
}

function replayCommand(engine: Engine, node: ActionNode): Value {
  const i = engine.interpreter;
  switch (node.tag) {
    case 'Create':
      return i.createCommand(node.templateId, node.arg);
    case 'Exercise':
      return node.interfaceId === undefined
        ? i.exerciseCommand(node.templateId, node.contractId, node.choice, node.chosenValue)
        : i.exerciseInterfaceCommand(node.interfaceId, node.contractId, node.choice, node.chosenValue);
    case 'Fetch':
      return node.interfaceId === undefined
        ? i.fetchCommand(node.templateId, node.contractId)
        : i.fetchInterfaceCommand(node.interfaceId, node.contractId);
  }
}

/**
 * Structural comparison of a recomputed subtree with the original one. Node ids differ; contract ids of contracts
 * created in the subtree may differ only by the suffix the original transaction may already carry (a recomputed
 * local id `00d…` matches `00d…<suffix>`).
 */
class Comparison {
  private readonly suffixed = new Map<string, ContractId>();

  constructor(
    private readonly recomputed: Transaction,
    private readonly original: Transaction,
  ) {}

  private readonly mapCid = (cid: ContractId): ContractId => this.suffixed.get(cid.coid) ?? cid;

  nodes(rid: NodeId, oid: NodeId): string | undefined {
    const r = getNode(this.recomputed, rid);
    const o = getNode(this.original, oid);
    const where = describe(oid, o);
    if (r.tag !== o.tag) return `${where}: recomputed a ${r.tag} node instead`;
    if (r.tag === 'Create' && o.tag === 'Create') {
      const rc = r.contractId;
      const oc = o.contractId;
      if (rc.coid !== oc.coid) {
        if (rc.suffix !== '' || rc.version !== oc.version || rc.local !== oc.local)
          return `${where}: recomputed contract id ${rc.coid} instead of ${oc.coid}`;
        this.suffixed.set(rc.coid, oc);
      }
    }
    if (r.tag === 'Exercise' || r.tag === 'Rollback') {
      const oc = (o as typeof r).children;
      if (r.children.length !== oc.length)
        return `${where}: recomputed ${r.children.length} children instead of ${oc.length}`;
      for (let i = 0; i < oc.length; i++) {
        const m = this.nodes(r.children[i]!, oc[i]!);
        if (m !== undefined) return m;
      }
    }
    const mapped = this.withOriginalIds(r);
    if (!Buffer.from(encodeNode(mapped, false)).equals(encodeNode(o, false)))
      return `${where}: ${difference(mapped, o)}`;
    return undefined;
  }

  private withOriginalIds(node: Node): Node {
    if (this.suffixed.size === 0 || node.tag === 'Rollback') return node;
    const v = (x: Value) => mapContractIds(x, this.mapCid);
    const contractId = this.mapCid(node.contractId);
    switch (node.tag) {
      case 'Create':
        return { ...node, contractId, arg: v(node.arg) };
      case 'Fetch':
        return { ...node, contractId };
      case 'Exercise':
        return {
          ...node,
          contractId,
          chosenValue: v(node.chosenValue),
          exerciseResult: node.exerciseResult === undefined ? undefined : v(node.exerciseResult),
        };
    }
  }
}

/** Which field of two nodes of the same kind differs, for the mismatch message. */
function difference(r: Node, o: Node): string {
  const rf = r as unknown as Record<string, unknown>;
  const of = o as unknown as Record<string, unknown>;
  for (const k of Object.keys(of)) {
    if (k === 'children' || k === 'tag') continue;
    if (!sameField(rf[k], of[k])) return `${k} differs`;
  }
  return 'encodings differ';
}

function sameField(a: unknown, b: unknown): boolean {
  const isValue = (x: unknown): x is Value => typeof x === 'object' && x !== null && 'kind' in x;
  if (isValue(a) && isValue(b)) return Buffer.from(encodeValue(a)).equals(encodeValue(b));
  return JSON.stringify(a) === JSON.stringify(b);
}
