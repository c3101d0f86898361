import { type ActionNode, forEachNode, informeesOf, type Transaction } from '../daml/index.js';
import type { ParticipantNode } from '../participant/index.js';
import type { World } from './world.js';

/** `liveness`: every command completed; `completion`: the run itself finished (no node failed to come back). */
export type Invariant =
  | 'lost'
  | 'duplicated'
  | 'double-spend'
  | 'acs-agreement'
  | 'privacy'
  | 'liveness'
  | 'completion';

export interface Violation {
  readonly invariant: Invariant;
  readonly detail: string;
}

interface Observed {
  readonly name: string;
  readonly node: ParticipantNode;
  readonly hosted: ReadonlySet<string>;
  /** Update id → how many times each hosted party's stream holds it (summed over the parties, once per party). */
  readonly updates: Map<string, number>;
  /** Update id → the participant's part of the transaction. */
  readonly trees: Map<string, Transaction>;
}

const actions = (tx: Transaction): ActionNode[] => {
  const out: ActionNode[] = [];
  forEachNode(tx, (_id, node, rolledBack) => {
    if (!rolledBack && node.tag !== 'Rollback') out.push(node);
  });
  return out;
};

/**
 * The invariants a run must keep, checked on every participant's ledger API once the network settled:
 *
 * - **lost**: a transaction a participant committed (a succeeded command's among them) is committed at every
 *   participant hosting one of its informees;
 * - **duplicated**: no participant has an update twice for one party, nor two succeeded completions of a command;
 * - **double-spend**: no contract is archived by two transactions;
 * - **acs-agreement**: participants hosting stakeholders of an active contract all have it active;
 * - **privacy**: a participant stores a transaction only if it hosts an informee, and of it only the actions one
 *   of its parties is an informee of.
 */
export async function checkInvariants(world: World): Promise<Violation[]> {
  const violations: Violation[] = [];
  const violate = (invariant: Invariant, detail: string) => violations.push({ invariant, detail });
  const observed: Observed[] = [];
  for (const p of world.participants) {
    const node = p.node!;
    const hosted = new Set(node.parties().map((h) => h.party));
    const updates = new Map<string, number>();
    const trees = new Map<string, Transaction>();
    for (const party of hosted) {
      const seen = new Set<string>();
      for (const u of await node.updatesUpTo(party)) {
        if (seen.has(u.updateId))
          violate('duplicated', `${p.name} has update ${u.updateId} twice for ${party}`);
        seen.add(u.updateId);
        updates.set(u.updateId, (updates.get(u.updateId) ?? 0) + 1);
      }
    }
    for (const updateId of updates.keys()) {
      const tree = await node.transactionTree(updateId);
      if (tree) trees.set(updateId, tree);
    }
    const succeeded = new Map<string, number>();
    for (const c of await node.completionsUpTo()) {
      if (c.status !== 'succeeded') continue;
      const key = `${c.userId}/${c.commandId}`;
      succeeded.set(key, (succeeded.get(key) ?? 0) + 1);
      if (c.updateId && !updates.has(c.updateId))
        violate('lost', `${p.name} completed ${c.commandId} as ${c.updateId}, which its parties do not see`);
    }
    for (const [key, n] of succeeded)
      if (n > 1) violate('duplicated', `${p.name} completed command ${key} successfully ${n} times`);
    observed.push({ name: p.name, node, hosted, updates, trees });
  }

  // The informees of each transaction, from whichever participants saw (parts of) it.
  const informees = new Map<string, Set<string>>();
  for (const o of observed) {
    for (const [updateId, tree] of o.trees) {
      const set = informees.get(updateId) ?? new Set<string>();
      for (const node of actions(tree)) for (const party of informeesOf(node)) set.add(party);
      informees.set(updateId, set);
      for (const node of actions(tree)) {
        if (!informeesOf(node).some((party) => o.hosted.has(party)))
          violate(
            'privacy',
            `${o.name} stores a ${node.tag} of ${updateId} none of its parties is an informee of`,
          );
      }
    }
  }
  for (const [updateId, parties] of informees) {
    for (const o of observed) {
      const hosts = [...parties].some((party) => o.hosted.has(party));
      if (hosts && !o.trees.has(updateId))
        violate('lost', `${o.name} hosts an informee of ${updateId} but lacks it`);
      if (!hosts && (o.trees.has(updateId) || o.updates.has(updateId)))
        violate('privacy', `${o.name} stores ${updateId} without hosting any of its informees`);
    }
  }

  // Each contract consumed at most once, on every participant.
  for (const o of observed) {
    const consumedBy = new Map<string, string>();
    for (const [updateId, tree] of o.trees) {
      for (const node of actions(tree)) {
        if (node.tag !== 'Exercise' || !node.consuming) continue;
        const cid = node.contractId.coid;
        const earlier = consumedBy.get(cid);
        if (earlier !== undefined && earlier !== updateId)
          violate('double-spend', `${o.name}: contract ${cid} consumed by ${earlier} and by ${updateId}`);
        consumedBy.set(cid, updateId);
      }
    }
  }

  // Every stakeholder's participant has an active contract active too.
  const active = new Map<string, Set<string>>();
  for (const o of observed) {
    for (const party of o.hosted) {
      const set = new Set<string>();
      for (const c of (await o.node.activeContracts(party)).contracts) set.add(c.contract.contractId.coid);
      active.set(`${o.name}/${party}`, set);
    }
  }
  for (const o of observed) {
    for (const party of o.hosted) {
      for (const c of (await o.node.activeContracts(party)).contracts) {
        for (const stakeholder of c.contract.stakeholders) {
          for (const other of observed) {
            if (!other.hosted.has(stakeholder)) continue;
            if (!active.get(`${other.name}/${stakeholder}`)!.has(c.contract.contractId.coid))
              violate(
                'acs-agreement',
                `${o.name} has ${c.contract.contractId.coid} active for ${party}, ${other.name} not for ${stakeholder}`,
              );
          }
        }
        if (!c.contract.stakeholders.includes(party))
          violate('privacy', `${o.name} lists ${c.contract.contractId.coid} for ${party}, not a stakeholder`);
      }
    }
  }
  return violations;
}
