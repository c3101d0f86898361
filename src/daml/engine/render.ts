import type { Identifier } from '../lf/ast.js';
import type { ContractId } from '../values/contract-id.js';
import { qualifiedName } from '../values/value.js';
import { childrenOf, getNode, type NodeId, observersOf, type Transaction } from './transaction.js';
import { valueToJson } from './translator.js';

/** A contract id shortened for display: its first 12 hex digits. */
export function shortId(cid: ContractId): string {
  return `${cid.coid.slice(0, 12)}…`;
}

const list = (parties: readonly string[]) => `[${parties.join(', ')}]`;

/**
 * The transaction tree as indented lines, one per node, in evaluation order (arguments as JSON). `packageOf`
 * labels the package a node ran under (shown after the template when it returns a label: for a package name
 * with several versions, which version ran).
 */
export function renderTransaction(
  tx: Transaction,
  indent = '',
  packageOf: (id: Identifier) => string | undefined = () => undefined,
): string[] {
  const out: string[] = [];
  const pkg = (id: Identifier) => {
    const label = packageOf(id);
    return label === undefined ? '' : ` [${label}]`;
  };
  const visit = (id: NodeId, depth: string) => {
    const node = getNode(tx, id);
    switch (node.tag) {
      case 'Create':
        out.push(
          `${depth}create ${qualifiedName(node.templateId)}${pkg(node.templateId)} ${shortId(node.contractId)} signatories ${list(node.signatories)} observers ${list(observersOf(node))} ${JSON.stringify(valueToJson(node.arg))}`,
        );
        break;
      case 'Fetch':
        out.push(
          `${depth}fetch ${qualifiedName(node.templateId)}${pkg(node.templateId)} ${shortId(node.contractId)}${node.interfaceId === undefined ? '' : ` as ${qualifiedName(node.interfaceId)}`} by ${list(node.actingParties)}`,
        );
        break;
      case 'Exercise':
        out.push(
          `${depth}exercise ${node.choice} on ${qualifiedName(node.templateId)}${pkg(node.templateId)} ${shortId(node.contractId)}${node.interfaceId === undefined ? '' : ` via ${qualifiedName(node.interfaceId)}`} by ${list(node.actingParties)}${node.consuming ? ' (consuming)' : ''} ${JSON.stringify(valueToJson(node.chosenValue))}${node.exerciseResult === undefined ? ' (aborted)' : ` → ${JSON.stringify(valueToJson(node.exerciseResult))}`}`,
        );
        break;
      case 'Rollback':
        out.push(`${depth}rollback`);
        break;
    }
    for (const c of childrenOf(node)) visit(c, `${depth}  `);
  };
  for (const r of tx.roots) visit(r, indent);
  return out;
}
