import { isWeftError, type WeftError } from '../../errors/index.js';
import { readDarFile } from '../dar/index.js';
import { PackageRegistry } from '../lf/packages.js';
import type { ContractId } from '../values/contract-id.js';
import { crash } from '../values/errors.js';
import type { Value } from '../values/value.js';
import { Engine } from './engine.js';
import { type CommittedTransaction, contractStoreOf } from './ledger.js';
import {
  createdContract,
  type FatContract,
  forEachNode,
  type NodeId,
  type Transaction,
} from './transaction.js';
import { valueToJson } from './translator.js';

/** Test and benchmark support (not used by production code). */

export function loadEngine(...dars: string[]): Engine {
  const registry = new PackageRegistry();
  for (const d of dars) registry.addAll(readDarFile(d).packages);
  return new Engine(registry);
}

/** The error a submission fails with (and fails the test if it succeeds). */
export async function failure(p: Promise<unknown>): Promise<WeftError> {
  try {
    await p;
  } catch (e) {
    if (isWeftError(e)) return e;
    throw e;
  }
  throw new Error('expected the submission to fail');
}

/** The contract id a command returned. */
export function cidOf(v: Value | undefined): ContractId {
  return v?.kind === 'ContractId' ? v.cid : crash(`expected a contract id, got ${v?.kind}`);
}

/** A command result as JSON (the Ledger API encoding), for path access in tests. */
// biome-ignore lint/suspicious/noExplicitAny: tests navigate results by path
export function json(v: Value | undefined): any {
  return v === undefined ? undefined : valueToJson(v);
}

/**
 * Everything a validator needs to reinterpret any node of a committed transaction: its input contracts and the
 * contracts it creates (as suffixed), all treated as active.
 */
export function viewInputs(c: CommittedTransaction): FatContract[] {
  const out: FatContract[] = [...c.metadata.inputContracts];
  forEachNode(c.transaction, (_id, node) => {
    if (node.tag === 'Create') out.push(createdContract(node));
  });
  return out;
}

/**
 * Reinterprets every action node of `transaction` (a committed transaction or a projection of it) against the
 * inputs of the committed transaction; returns the mismatches (empty when every node matches).
 */
export async function reinterpretEveryNode(
  engine: Engine,
  committed: CommittedTransaction,
  transaction: Transaction = committed.transaction,
): Promise<string[]> {
  const store = contractStoreOf(viewInputs(committed));
  const ids: NodeId[] = [];
  forEachNode(transaction, (id, node) => {
    if (node.tag !== 'Rollback') ids.push(id);
  });
  const mismatches: string[] = [];
  for (const nodeId of ids) {
    const r = await engine.reinterpret(
      {
        transaction,
        nodeId,
        nodeSeed: committed.metadata.nodeSeeds.get(nodeId),
        preparationTime: committed.metadata.preparationTime,
        ledgerTime: committed.metadata.ledgerTime,
      },
      store,
    );
    if (!r.matches) mismatches.push(`offset ${committed.offset}: ${r.reason}`);
  }
  return mismatches;
}

export { contractStoreOf };
