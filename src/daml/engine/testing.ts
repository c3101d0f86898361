import { readDarFile } from '../dar/index.js';
import { PackageRegistry } from '../lf/packages.js';
import type { ContractId } from '../values/contract-id.js';
import { crash } from '../values/errors.js';
import type { Value } from '../values/value.js';
import { Engine } from './engine.js';
import { type CommittedTransaction, contractStoreOf } from './ledger.js';
import { createdContract, type FatContract, forEachNode } from './transaction.js';
import { valueToJson } from './translator.js';

/** Test and benchmark support (not used by production code). */

export const DAR_DIR = '/work/shared/dars';
export const PING_DAR = `${DAR_DIR}/ping-3.4.0.dar`;
export const TOKEN_DAR = `${DAR_DIR}/splice-test-token-v1-1.0.0.dar`;
export const TRADING_DAR = `${DAR_DIR}/splice-token-test-trading-app-1.0.2.dar`;

export function loadEngine(...dars: string[]): Engine {
  const registry = new PackageRegistry();
  for (const d of dars) registry.addAll(readDarFile(d).packages);
  return new Engine(registry);
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

export { contractStoreOf };
