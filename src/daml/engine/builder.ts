import { WeftError } from '../../errors/index.js';
import type {
  ContractInstance,
  ContractMetadata,
  ExerciseEvent,
  FetchEvent,
  LedgerHost,
} from '../interpreter/index.js';
import type { Identifier } from '../lf/ast.js';
import type { PackageRegistry } from '../lf/packages.js';
import type { ContractId } from '../values/contract-id.js';
import { crash } from '../values/errors.js';
import { qualifiedName, type Value } from '../values/value.js';
import { DamlEngineErrors } from './errors.js';
import { deriveContractDiscriminator, deriveNodeSeed, localContractIdV1 } from './seeds.js';
import {
  type ActionNode,
  type CreateNode,
  type ExerciseNode,
  type FatContract,
  type Node,
  type NodeId,
  type Party,
  TRANSACTION_VERSION,
  type Transaction,
  type TransactionMetadata,
  union,
} from './transaction.js';
import { exceedsNesting, MAX_VALUE_NESTING } from './values.js';

/** What the engine asks the ledger about a contract id the transaction uses. */
export type ContractLookup =
  | { readonly status: 'active'; readonly contract: FatContract }
  | { readonly status: 'archived' }
  | { readonly status: 'unknown' };

/**
 * The contracts a transaction may use: the ledger's active contract set as the submitting (or validating)
 * participant sees it. Answers may be promises (a database lookup); interpretation then suspends.
 */
export interface ContractStore {
  lookupContract(cid: ContractId): ContractLookup | Promise<ContractLookup>;
}

/** How node seeds are obtained: derived from a transaction seed, or given for the roots (reinterpretation). */
export type Seeding =
  | { readonly kind: 'transaction'; readonly seed: Uint8Array }
  | { readonly kind: 'roots'; readonly seeds: readonly (Uint8Array | undefined)[] };

export interface BuilderOptions {
  readonly packages: PackageRegistry;
  readonly contracts: ContractStore;
  /** The parties whose authority the root actions have (the submitters' `actAs`). */
  readonly committers: readonly Party[];
  readonly seeding: Seeding;
  readonly preparationTime: bigint;
  readonly ledgerTime: bigint;
}

interface Context {
  readonly kind: 'root' | 'exercise' | 'try';
  readonly children: NodeId[];
  nextChildIdx: number;
  readonly childSeed: (index: number) => Uint8Array;
  readonly authorizers: ReadonlySet<Party>;
  /** The Exercise or Rollback node this context builds. */
  readonly nodeId: NodeId;
  readonly exercise?: ExerciseEvent;
  readonly packageName?: string;
  /** Position in the undo log when a try context opened. */
  readonly undoMark?: number;
}

type Undo = { readonly created: string } | { readonly consumed: string };

const sorted = (xs: Iterable<Party>): string => [...xs].join(', ') || 'none';

function authorizationError(message: string, missing: readonly Party[]): never {
  throw new WeftError(DamlEngineErrors.DAML_AUTHORIZATION_ERROR, message, { missing: missing.join(',') });
}

/**
 * Builds a transaction from the interpreter's ledger callbacks, as the reference engine's `PartialTransaction`:
 * allocates node ids and seeds, derives contract ids, tracks which contracts the transaction created, consumed
 * or rolled back, checks every action's authorization against the authorizers of its context, and records the
 * time bounds the result depends on. `finish` normalizes rollbacks and renumbers nodes in pre-order.
 */
export class TransactionBuilder implements LedgerHost {
  private readonly nodes: (Node | undefined)[] = [];
  private readonly seeds = new Map<NodeId, Uint8Array>();
  private readonly stack: Context[];
  private readonly locals = new Map<string, { readonly node: CreateNode }>();
  private readonly activeLocals = new Set<string>();
  private readonly consumedBy = new Map<string, NodeId>();
  private readonly undo: Undo[] = [];
  private readonly globals = new Map<string, FatContract>();
  private readonly inputs: FatContract[] = [];
  private readonly checkedMetadata = new Set<string>();
  private readonly packageNames = new Map<string, string>();
  private minTime: bigint | undefined;
  private maxTime: bigint | undefined;
  private dependsOnTime = false;

  constructor(private readonly options: BuilderOptions) {
    const seeding = options.seeding;
    const childSeed =
      seeding.kind === 'transaction'
        ? (i: number) => deriveNodeSeed(seeding.seed, i)
        : (i: number) => seeding.seeds[i] ?? crash(`no seed for root node ${i}`);
    this.stack = [
      {
        kind: 'root',
        children: [],
        nextChildIdx: 0,
        childSeed,
        authorizers: new Set(options.committers),
        nodeId: -1,
      },
    ];
  }

  private get top(): Context {
    return this.stack[this.stack.length - 1]!;
  }

  private packageName(id: Identifier): string {
    let name = this.packageNames.get(id.packageId);
    if (name === undefined) {
      name = this.options.packages.getPackage(id.packageId).metadata.name;
      this.packageNames.set(id.packageId, name);
    }
    return name;
  }

  private checkNesting(v: Value, what: string): void {
    if (exceedsNesting(v))
      throw new WeftError(
        DamlEngineErrors.DAML_VALUE_NESTING_LIMIT,
        `the ${what} is nested deeper than ${MAX_VALUE_NESTING} levels`,
      );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Contract lookups

  lookupContract(cid: ContractId): ContractInstance | Promise<ContractInstance> {
    const coid = cid.coid;
    this.checkNotConsumed(cid);
    const local = this.locals.get(coid);
    if (local !== undefined) {
      if (!this.activeLocals.has(coid))
        throw new WeftError(
          DamlEngineErrors.DAML_CONTRACT_NOT_FOUND,
          `contract ${coid} was created in a part of this transaction that was rolled back`,
          { contractId: coid },
        );
      return local.node;
    }
    const known = this.globals.get(coid);
    if (known !== undefined) return known;
    const found = this.options.contracts.lookupContract(cid);
    return found instanceof Promise ? found.then((r) => this.loaded(cid, r)) : this.loaded(cid, found);
  }

  private checkNotConsumed(cid: ContractId): void {
    const consumer = this.consumedBy.get(cid.coid);
    if (consumer !== undefined)
      throw new WeftError(
        DamlEngineErrors.DAML_CONTRACT_NOT_ACTIVE,
        `contract ${cid.coid} was consumed by node ${consumer} earlier in this transaction`,
        { contractId: cid.coid },
      );
  }

  private loaded(cid: ContractId, result: ContractLookup): ContractInstance {
    switch (result.status) {
      case 'unknown':
        throw new WeftError(DamlEngineErrors.DAML_CONTRACT_NOT_FOUND, `contract ${cid.coid} is unknown`, {
          contractId: cid.coid,
        });
      case 'archived':
        throw new WeftError(DamlEngineErrors.DAML_CONTRACT_NOT_ACTIVE, `contract ${cid.coid} is archived`, {
          contractId: cid.coid,
        });
      case 'active':
        this.globals.set(cid.coid, result.contract);
        this.inputs.push(result.contract);
        return result.contract;
    }
  }

  /** For a contract of the ledger, the recomputed metadata must be the stored one. */
  private checkMetadata(cid: ContractId, metadata: ContractMetadata): void {
    const stored = this.globals.get(cid.coid);
    if (stored === undefined || this.checkedMetadata.has(cid.coid)) return;
    const stakeholders = union(metadata.signatories, metadata.observers);
    if (
      stored.signatories.join('\0') !== metadata.signatories.join('\0') ||
      stored.stakeholders.join('\0') !== stakeholders.join('\0')
    )
      throw new WeftError(
        DamlEngineErrors.DAML_CONTRACT_METADATA_MISMATCH,
        `contract ${cid.coid}: stored signatories [${sorted(stored.signatories)}] and stakeholders [${sorted(stored.stakeholders)}] differ from the recomputed [${sorted(metadata.signatories)}] and [${sorted(stakeholders)}]`,
        { contractId: cid.coid },
      );
    this.checkedMetadata.add(cid.coid);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Actions

  create(metadata: ContractMetadata): ContractId {
    const ctx = this.top;
    const seed = ctx.childSeed(ctx.nextChildIdx);
    const stakeholders = union(metadata.signatories, metadata.observers);
    this.checkNesting(metadata.arg, `argument of a ${qualifiedName(metadata.templateId)} contract`);
    const cid = localContractIdV1(
      deriveContractDiscriminator(seed, this.options.preparationTime, stakeholders),
    );
    const missing = metadata.signatories.filter((p) => !ctx.authorizers.has(p));
    if (missing.length > 0)
      authorizationError(
        `create of ${qualifiedName(metadata.templateId)} requires the authorization of its signatories ${sorted(metadata.signatories)}, but ${sorted(missing)} did not authorize it (authorizers: ${sorted(ctx.authorizers)})`,
        missing,
      );
    if (metadata.signatories.length === 0)
      authorizationError(`create of ${qualifiedName(metadata.templateId)}: a contract needs a signatory`, []);
    if (this.locals.has(cid.coid) || this.globals.has(cid.coid))
      return crash(`contract id ${cid.coid} derived twice`);
    const node: CreateNode = {
      tag: 'Create',
      contractId: cid,
      packageName: this.packageName(metadata.templateId),
      templateId: metadata.templateId,
      arg: metadata.arg,
      signatories: metadata.signatories,
      stakeholders,
    };
    const id = this.addAction(ctx, node);
    this.seeds.set(id, seed);
    this.locals.set(cid.coid, { node });
    this.activeLocals.add(cid.coid);
    this.undo.push({ created: cid.coid });
    return cid;
  }

  fetch(event: FetchEvent): void {
    const ctx = this.top;
    const { contract, contractId } = event;
    this.checkMetadata(contractId, contract);
    const stakeholders = union(contract.signatories, contract.observers);
    const actingParties = stakeholders.filter((p) => ctx.authorizers.has(p));
    if (actingParties.length === 0)
      authorizationError(
        `fetch of ${qualifiedName(contract.templateId)} contract ${contractId.coid} requires one of its stakeholders ${sorted(stakeholders)} among the authorizers ${sorted(ctx.authorizers)}`,
        stakeholders,
      );
    this.addAction(ctx, {
      tag: 'Fetch',
      contractId,
      packageName: this.packageName(contract.templateId),
      templateId: contract.templateId,
      interfaceId: event.interfaceId,
      actingParties,
      signatories: contract.signatories,
      stakeholders,
    });
  }

  beginExercise(event: ExerciseEvent): void {
    const ctx = this.top;
    const { contract, contractId } = event;
    this.checkMetadata(contractId, contract);
    this.checkNotConsumed(contractId);
    const seed = ctx.childSeed(ctx.nextChildIdx);
    const id = this.nodes.length;
    this.nodes.push(undefined);
    if (event.consuming) {
      this.consumedBy.set(contractId.coid, id);
      this.undo.push({ consumed: contractId.coid });
    }
    const what = `exercise of choice ${event.choice} on ${qualifiedName(contract.templateId)} contract ${contractId.coid}`;
    if (event.controllers.length === 0) authorizationError(`${what}: the choice has no controllers`, []);
    const missing = event.controllers.filter((p) => !ctx.authorizers.has(p));
    if (missing.length > 0)
      authorizationError(
        `${what} requires the authorization of its controllers ${sorted(event.controllers)}, but ${sorted(missing)} did not authorize it (authorizers: ${sorted(ctx.authorizers)})`,
        missing,
      );
    this.checkNesting(event.choiceArgument, `argument of choice ${event.choice}`);
    this.seeds.set(id, seed);
    this.stack.push({
      kind: 'exercise',
      children: [],
      nextChildIdx: 0,
      childSeed: (i) => deriveNodeSeed(seed, i),
      authorizers: new Set(union(event.controllers, contract.signatories)),
      nodeId: id,
      exercise: event,
      packageName: this.packageName(contract.templateId),
    });
  }

  endExercise(result: Value): void {
    const ctx = this.top;
    this.checkNesting(result, `result of choice ${ctx.exercise?.choice}`);
    this.closeExercise(result);
  }

  abortExercise(): void {
    this.closeExercise(undefined);
  }

  private closeExercise(result: Value | undefined): void {
    const ctx = this.stack.pop()!;
    const e = ctx.exercise ?? crash('no exercise to close');
    const stakeholders = union(e.contract.signatories, e.contract.observers);
    const node: ExerciseNode = {
      tag: 'Exercise',
      contractId: e.contractId,
      packageName: ctx.packageName!,
      templateId: e.contract.templateId,
      interfaceId: e.interfaceId,
      choice: e.choice,
      consuming: e.consuming,
      actingParties: e.controllers,
      chosenValue: e.choiceArgument,
      signatories: e.contract.signatories,
      stakeholders,
      choiceObservers: e.choiceObservers,
      children: ctx.children,
      exerciseResult: result,
    };
    this.nodes[ctx.nodeId] = node;
    const parent = this.top;
    parent.children.push(ctx.nodeId);
    parent.nextChildIdx++;
  }

  private addAction(ctx: Context, node: ActionNode): NodeId {
    const id = this.nodes.length;
    this.nodes.push(node);
    ctx.children.push(id);
    ctx.nextChildIdx++;
    return id;
  }

  beginTry(): void {
    const parent = this.top;
    const id = this.nodes.length;
    this.nodes.push(undefined);
    this.stack.push({
      kind: 'try',
      children: [],
      nextChildIdx: parent.nextChildIdx,
      childSeed: parent.childSeed,
      authorizers: parent.authorizers,
      nodeId: id,
      undoMark: this.undo.length,
    });
  }

  endTry(): void {
    const ctx = this.stack.pop()!;
    if (ctx.kind !== 'try') crash('endTry outside a try');
    const parent = this.top;
    parent.children.push(...ctx.children);
    parent.nextChildIdx = ctx.nextChildIdx;
  }

  /** The try's actions are undone: contracts it created are gone, contracts it consumed are active again. */
  rollbackTry(): void {
    const ctx = this.stack.pop()!;
    if (ctx.kind !== 'try') crash('rollbackTry outside a try');
    while (this.undo.length > ctx.undoMark!) {
      const u = this.undo.pop()!;
      if ('created' in u) this.activeLocals.delete(u.created);
      else this.consumedBy.delete(u.consumed);
    }
    this.nodes[ctx.nodeId] = { tag: 'Rollback', children: ctx.children };
    const parent = this.top;
    parent.children.push(ctx.nodeId);
    parent.nextChildIdx = ctx.nextChildIdx;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Time

  getTime(): bigint {
    const t = this.options.ledgerTime;
    this.dependsOnTime = true;
    this.minTime = t;
    this.maxTime = t;
    return t;
  }

  ledgerTimeLt(time: bigint): boolean {
    const now = this.options.ledgerTime;
    this.dependsOnTime = true;
    if (now < time) {
      const bound = time - 1n;
      if (this.maxTime === undefined || bound < this.maxTime) this.maxTime = bound;
      return true;
    }
    if (this.minTime === undefined || time > this.minTime) this.minTime = time;
    return false;
  }

  // -------------------------------------------------------------------------------------------------------------

  /** The finished transaction: rollbacks normalized, nodes renumbered in pre-order (the first root is 0). */
  finish(): { transaction: Transaction; metadata: TransactionMetadata } {
    if (this.stack.length !== 1) crash('a transaction was finished with open exercises or tries');
    const normalized = normalize(
      this.top.children,
      (id) => this.nodes[id] ?? crash(`node ${id} was not closed`),
    );
    const nodes: Node[] = [];
    const nodeSeeds = new Map<NodeId, Uint8Array>();
    const packages = new Set<string>();
    // Pre-order: a node's id is taken before its children's.
    const push = (n: Norm): NodeId => {
      const id = nodes.length;
      nodes.push(PLACEHOLDER);
      if (n.tag === 'Rollback') {
        nodes[id] = { tag: 'Rollback', children: n.children.map(push) };
        return id;
      }
      const seed = this.seeds.get(n.id);
      if (seed !== undefined) nodeSeeds.set(id, seed);
      packages.add(n.node.templateId.packageId);
      if (n.node.tag !== 'Create' && n.node.interfaceId !== undefined)
        packages.add(n.node.interfaceId.packageId);
      nodes[id] = n.node.tag === 'Exercise' ? { ...n.node, children: n.children.map(push) } : n.node;
      return id;
    };
    const roots = normalized.map(push);
    return {
      transaction: { version: TRANSACTION_VERSION, roots, nodes: new Map(nodes.map((n, i) => [i, n])) },
      metadata: {
        preparationTime: this.options.preparationTime,
        ledgerTime: this.options.ledgerTime,
        timeBounds: { min: this.minTime, max: this.maxTime },
        dependsOnTime: this.dependsOnTime,
        nodeSeeds,
        inputContracts: this.inputs,
        usedPackages: [...packages].sort(),
      },
    };
  }
}

const PLACEHOLDER: Node = { tag: 'Rollback', children: [] };

/** A node of a normalized tree: an action (exercises with normalized children) or a normalized rollback. */
type Norm =
  | { readonly tag: 'Action'; readonly id: NodeId; readonly node: ActionNode; readonly children: Norm[] }
  | { readonly tag: 'Rollback'; readonly children: Norm[] };

/**
 * Rollback normalization (`NormalizeRollbacks.scala`): no empty rollback, and no rollback as the first or last
 * child of a rollback:
 *   ROLL [] → ε;  ROLL [ROLL [xs…], ys…] → ROLL [xs…], ROLL [ys…];  ROLL [xs…, ROLL [ys…]] → ROLL [xs…, ys…].
 */
function normalize(ids: readonly NodeId[], node: (id: NodeId) => Node): Norm[] {
  const out: Norm[] = [];
  for (const id of ids) {
    const n = node(id);
    if (n.tag !== 'Rollback') {
      out.push({
        tag: 'Action',
        id,
        node: n,
        children: n.tag === 'Exercise' ? normalize(n.children, node) : [],
      });
      continue;
    }
    const inner = normalize(n.children, node);
    let i = 0;
    // Leading rollbacks are already normalized: lift them out.
    while (i < inner.length && inner[i]!.tag === 'Rollback') out.push(inner[i++]!);
    if (i === inner.length) continue;
    const rest = inner.slice(i);
    const last = rest[rest.length - 1]!;
    if (last.tag === 'Rollback') rest.splice(rest.length - 1, 1, ...last.children);
    out.push({ tag: 'Rollback', children: rest });
  }
  return out;
}
