import {
  blindingInfo,
  type CreateNode,
  childrenOf,
  createdContract,
  type Engine,
  type ExerciseNode,
  type FatContract,
  forEachNode,
  type Identifier,
  type NodeId,
  type Party,
  type Transaction,
} from '../daml/index.js';
import { qualifiedName, type Value } from '../daml/values/index.js';
import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import { encodeContract } from './contracts.js';
import type { ArchivedEvent, CreatedEvent, ExercisedEvent } from './updates.js';

/**
 * The participant's read model in Canton's Ledger API terms (`transaction_filter.proto`, `event.proto`): which
 * events of a transaction a set of parties receives under an event format, in which transaction shape, and with
 * what extra data (interface views, created-event blobs). Pure functions of a stored transaction; the Ledger API's
 * services only translate their results into protobuf messages.
 */

/**
 * A template or interface named by package name and qualified name (Canton's `TypeConRef` with a package-name
 * reference): every version of the package matches, as Canton resolves filters since smart upgrading.
 */
export interface TypeRef {
  readonly packageName: string;
  /** `Module.Name:Entity.Name`. */
  readonly qualifiedName: string;
}

/** Canton's `CumulativeFilter`: the union of a wildcard, template filters and interface filters. */
export interface CumulativeFilter {
  /** Every template; `includeCreatedEventBlob` as the wildcard filter says. */
  readonly wildcard: { readonly includeCreatedEventBlob: boolean } | undefined;
  readonly templates: readonly { readonly template: TypeRef; readonly includeCreatedEventBlob: boolean }[];
  readonly interfaces: readonly {
    readonly iface: TypeRef;
    readonly includeInterfaceView: boolean;
    readonly includeCreatedEventBlob: boolean;
  }[];
}

/** Canton's `EventFormat`, validated: the requesting parties and their filters. */
export interface EventFormat {
  readonly byParty: ReadonlyMap<Party, CumulativeFilter>;
  /** Filters for every party (a party-wildcard read: CanReadAsAnyParty). */
  readonly anyParty: CumulativeFilter | undefined;
  /** Values with record labels and type ids. */
  readonly verbose: boolean;
}

/**
 * ACS_DELTA: creates and archives for the parties among the stakeholders, enough to track the active contracts;
 * LEDGER_EFFECTS: every create and exercise a requesting party witnesses.
 */
export type TransactionShape = 'acs-delta' | 'ledger-effects';

export const WILDCARD_FILTER: CumulativeFilter = {
  wildcard: { includeCreatedEventBlob: false },
  templates: [],
  interfaces: [],
};

/** An interface view of a created event: the view record, or why it could not be computed. */
export type InterfaceView =
  | { readonly interfaceId: Identifier; readonly view: Value; readonly error?: undefined }
  | { readonly interfaceId: Identifier; readonly view?: undefined; readonly error: WeftError };

export interface LedgerCreatedEvent extends CreatedEvent {
  /** The offset of the update that created the contract. */
  readonly offset: bigint;
  /** The requesting parties that see the event (all of its witnesses for a party-wildcard read). */
  readonly witnesses: readonly Party[];
  /** The ledger time of the creating transaction (µs). */
  readonly createdAt: bigint;
  /** The serialized contract (`created_event_blob`), when a matching filter asked for it. */
  readonly blob: Uint8Array | undefined;
  readonly interfaceViews: readonly InterfaceView[];
  /** Whether the event is part of the ACS_DELTA shape for the same format. */
  readonly acsDelta: boolean;
}

export interface LedgerArchivedEvent extends ArchivedEvent {
  readonly offset: bigint;
  readonly packageName: string;
  readonly witnesses: readonly Party[];
  /** Interfaces of matching interface filters with views requested, implemented by the template. */
  readonly implementedInterfaces: readonly Identifier[];
}

export interface LedgerExercisedEvent extends ExercisedEvent {
  readonly offset: bigint;
  readonly packageName: string;
  readonly witnesses: readonly Party[];
  /** The highest node id in the exercise's subtree (itself when it has no children). */
  readonly lastDescendantNodeId: NodeId;
  readonly implementedInterfaces: readonly Identifier[];
  readonly acsDelta: boolean;
}

export type LedgerEvent = LedgerCreatedEvent | LedgerArchivedEvent | LedgerExercisedEvent;

/** A transaction as the requesting parties see it under one format (Canton's `Transaction`). */
export interface LedgerTransaction {
  readonly kind: 'transaction';
  readonly updateId: string;
  /** Set when a requesting party submitted it through this participant ('' otherwise). */
  readonly commandId: string;
  readonly workflowId: string;
  /** Ledger time (µs). */
  readonly effectiveAt: bigint;
  readonly events: readonly LedgerEvent[];
  readonly offset: bigint;
  readonly synchronizerId: string;
  /** Sequencing time of the confirmation request (µs). */
  readonly recordTime: bigint;
}

/**
 * A point a stream has reached although nothing was delivered for it (Canton's `OffsetCheckpoint`): the offset to
 * resume from, and per synchronizer the sequencing time processed by then (a command whose deadline is below it
 * and has no completion yet is lost).
 */
export interface OffsetCheckpoint {
  readonly kind: 'checkpoint';
  readonly offset: bigint;
  readonly synchronizerTimes: readonly { readonly synchronizerId: string; readonly recordTime: bigint }[];
}

/** The checkpoint at `offset`, with the sequencing time each synchronizer's cursor has reached. */
export async function offsetCheckpoint(
  store: { cursors(): Promise<ReadonlyMap<string, { readonly timestamp: bigint }>> },
  offset: bigint,
): Promise<OffsetCheckpoint> {
  const cursors = await store.cursors();
  return {
    kind: 'checkpoint',
    offset,
    synchronizerTimes: [...cursors].map(([synchronizerId, c]) => ({
      synchronizerId,
      recordTime: c.timestamp,
    })),
  };
}

/** A stored transaction with what the participant knows of it (see `ParticipantStore.updates`). */
export interface StoredTransaction {
  readonly offset: bigint;
  readonly updateId: string;
  readonly synchronizerId: string;
  readonly recordTime: bigint;
  readonly ledgerTime: bigint;
  readonly workflowId: string;
  readonly submission: { readonly commandId: string; readonly actAs: readonly string[] } | undefined;
  readonly transaction: Transaction;
}

/** What matched a contract's template for one requesting party (or the party wildcard). */
interface Match {
  readonly blob: boolean;
  /** The interfaces of matching interface filters that asked for the view. */
  readonly views: readonly Identifier[];
}

/**
 * Matches templates against the filters of one event format, and computes interface views. Template and
 * interface lookups are cached per format: a format lives for one request or stream, and the packages bound
 * the number of templates it meets.
 */
export class EventFilter {
  readonly #implemented = new Map<string, readonly { id: Identifier; ref: string }[]>();

  constructor(
    readonly format: EventFormat,
    private readonly engine: Engine,
  ) {}

  /** The requesting parties, or undefined for a party-wildcard read (every party). */
  get parties(): readonly Party[] | undefined {
    return this.format.anyParty ? undefined : [...this.format.byParty.keys()];
  }

  /** The interfaces the template implements, with their package-name references. */
  #interfacesOf(templateId: Identifier): readonly { id: Identifier; ref: string }[] {
    const key = `${templateId.packageId}:${qualifiedName(templateId)}`;
    let found = this.#implemented.get(key);
    if (found === undefined) {
      const packages = this.engine.packages;
      found = (packages.lookupTemplate(templateId)?.implements ?? []).map((i) => ({
        id: i.iface,
        ref: refKey({
          packageName: packages.lookupPackage(i.iface.packageId)?.metadata.name ?? '',
          qualifiedName: qualifiedName(i.iface),
        }),
      }));
      this.#implemented.set(key, found);
    }
    return found;
  }

  #match(filter: CumulativeFilter, packageName: string, templateId: Identifier): Match | undefined {
    let matched = false;
    let blob = false;
    const views: Identifier[] = [];
    if (filter.wildcard) {
      matched = true;
      blob ||= filter.wildcard.includeCreatedEventBlob;
    }
    const self = refKey({ packageName, qualifiedName: qualifiedName(templateId) });
    for (const t of filter.templates) {
      if (refKey(t.template) !== self) continue;
      matched = true;
      blob ||= t.includeCreatedEventBlob;
    }
    if (filter.interfaces.length > 0) {
      const implemented = this.#interfacesOf(templateId);
      for (const f of filter.interfaces) {
        const impl = implemented.find((i) => i.ref === refKey(f.iface));
        if (impl === undefined) continue;
        matched = true;
        blob ||= f.includeCreatedEventBlob;
        if (f.includeInterfaceView && !views.some((v) => sameId(v, impl.id))) views.push(impl.id);
      }
    }
    return matched ? { blob, views } : undefined;
  }

  /**
   * The parties among `candidates` whose filter matches the template (all candidates when the party-wildcard
   * filter matches), and what the matching filters ask for; undefined when none matches.
   */
  matching(
    candidates: readonly Party[],
    packageName: string,
    templateId: Identifier,
  ): { witnesses: Party[]; blob: boolean; views: Identifier[] } | undefined {
    const matches: Match[] = [];
    let witnesses: Party[];
    const any = this.format.anyParty && this.#match(this.format.anyParty, packageName, templateId);
    if (any) {
      matches.push(any);
      witnesses = [...candidates];
    } else witnesses = [];
    for (const p of candidates) {
      const filter = this.format.byParty.get(p);
      const m = filter && this.#match(filter, packageName, templateId);
      if (!m) continue;
      matches.push(m);
      if (!any) witnesses.push(p);
    }
    if (witnesses.length === 0) return undefined;
    const views: Identifier[] = [];
    for (const m of matches) for (const v of m.views) if (!views.some((x) => sameId(x, v))) views.push(v);
    return { witnesses: witnesses.sort(), blob: matches.some((m) => m.blob), views };
  }

  /** The views of `contract` through `interfaces`; a failing view method is reported in the view, as Canton. */
  views(contract: FatContract, interfaces: readonly Identifier[]): InterfaceView[] {
    return interfaces.map((interfaceId) => {
      try {
        return { interfaceId, view: this.engine.interfaceView(contract, interfaceId) };
      } catch (e) {
        const error = isWeftError(e)
          ? e
          : new WeftError(CommonErrors.INTERNAL, `the interface view failed: ${String(e)}`);
        return { interfaceId, error };
      }
    });
  }

  /** A created event for the contract, for the parties that see it, with what their filters asked for. */
  createdEvent(
    contract: FatContract,
    at: { offset: bigint; nodeId: NodeId; acsDelta: boolean },
    seen: { witnesses: Party[]; blob: boolean; views: Identifier[] },
  ): LedgerCreatedEvent {
    return {
      ...createdEventOf(contract, at, seen.witnesses),
      blob: seen.blob ? encodeContract(contract) : undefined,
      interfaceViews: this.views(contract, seen.views),
    };
  }

  /** The archive of a contract by a consuming exercise, for the parties that see it (ACS_DELTA), if any. */
  archivedEvent(node: ExerciseNode, at: { offset: bigint; nodeId: NodeId }): LedgerArchivedEvent | undefined {
    const seen = this.matching(node.stakeholders, node.packageName, node.templateId);
    if (!seen) return undefined;
    return {
      kind: 'archived',
      nodeId: at.nodeId,
      contractId: node.contractId.coid,
      templateId: node.templateId,
      packageName: node.packageName,
      offset: at.offset,
      witnesses: seen.witnesses,
      implementedInterfaces: seen.views,
    };
  }

  /**
   * The transaction as the requesting parties see it in `shape`; undefined when no event is left (such a
   * transaction is not served, as in Canton).
   */
  transaction(stored: StoredTransaction, shape: TransactionShape): LedgerTransaction | undefined {
    const events = shape === 'acs-delta' ? this.#acsDelta(stored) : this.#ledgerEffects(stored);
    if (events.length === 0) return undefined;
    const requesting = this.parties;
    const s = stored.submission;
    const submitter =
      s !== undefined && (requesting === undefined || requesting.some((p) => s.actAs.includes(p)));
    return {
      kind: 'transaction',
      updateId: stored.updateId,
      commandId: submitter ? s.commandId : '',
      workflowId: stored.workflowId,
      effectiveAt: stored.ledgerTime,
      events,
      offset: stored.offset,
      synchronizerId: stored.synchronizerId,
      recordTime: stored.recordTime,
    };
  }

  #acsDelta(stored: StoredTransaction): LedgerEvent[] {
    const { creates, archives } = netChanges(stored.transaction);
    const events: LedgerEvent[] = [];
    for (const [nodeId, node] of sortedNodes(creates, archives)) {
      if (node.tag === 'Create') {
        const seen = this.matching(node.stakeholders, node.packageName, node.templateId);
        if (!seen) continue;
        const contract = createdContract(node, stored.ledgerTime);
        events.push(this.createdEvent(contract, { offset: stored.offset, nodeId, acsDelta: true }, seen));
      } else {
        const archived = this.archivedEvent(node, { offset: stored.offset, nodeId });
        if (archived) events.push(archived);
      }
    }
    return events;
  }

  #ledgerEffects(stored: StoredTransaction): LedgerEvent[] {
    const tx = stored.transaction;
    const { disclosure } = blindingInfo(tx);
    const { creates, archives } = netChanges(tx);
    const events: LedgerEvent[] = [];
    forEachNode(tx, (nodeId, node, rolledBack) => {
      if (rolledBack || (node.tag !== 'Create' && node.tag !== 'Exercise')) return;
      const seen = this.matching([...(disclosure.get(nodeId) ?? [])], node.packageName, node.templateId);
      if (!seen) return;
      // In the ACS_DELTA shape too: not transient, and a stakeholder's filter matches.
      const acsDelta =
        (node.tag === 'Create' ? creates.has(nodeId) : archives.has(nodeId)) &&
        this.matching(node.stakeholders, node.packageName, node.templateId) !== undefined;
      if (node.tag === 'Create') {
        const contract = createdContract(node, stored.ledgerTime);
        events.push(this.createdEvent(contract, { offset: stored.offset, nodeId, acsDelta }, seen));
        return;
      }
      events.push({
        kind: 'exercised',
        nodeId,
        contractId: node.contractId.coid,
        templateId: node.templateId,
        interfaceId: node.interfaceId,
        choice: node.choice,
        choiceArgument: node.chosenValue,
        actingParties: node.actingParties,
        consuming: node.consuming,
        result: node.exerciseResult,
        offset: stored.offset,
        packageName: node.packageName,
        witnesses: seen.witnesses,
        lastDescendantNodeId: lastDescendant(tx, nodeId),
        implementedInterfaces: node.consuming ? seen.views : [],
        acsDelta,
      });
    });
    return events;
  }
}

/** A created event for the contract, seen by `witnesses`, without blob or interface views. */
export function createdEventOf(
  contract: FatContract,
  at: { offset: bigint; nodeId: NodeId; acsDelta: boolean },
  witnesses: readonly Party[],
): LedgerCreatedEvent {
  return {
    kind: 'created',
    nodeId: at.nodeId,
    contractId: contract.contractId.coid,
    templateId: contract.templateId,
    packageName: contract.packageName,
    argument: contract.arg,
    signatories: contract.signatories,
    observers: contract.stakeholders.filter((p) => !contract.signatories.includes(p)),
    offset: at.offset,
    witnesses,
    createdAt: contract.createdAt ?? 0n,
    blob: undefined,
    interfaceViews: [],
    acsDelta: at.acsDelta,
  };
}

const refKey = (r: TypeRef) => `${r.packageName}:${r.qualifiedName}`;

const sameId = (a: Identifier, b: Identifier) =>
  a.packageId === b.packageId && qualifiedName(a) === qualifiedName(b);

/**
 * The net changes of a transaction to the contract set, by node: creates of contracts it does not consume itself,
 * and consuming exercises of contracts it did not create (transient contracts are in neither); rolled-back
 * actions have no effect.
 */
export function netChanges(tx: Transaction): {
  creates: Map<NodeId, CreateNode>;
  archives: Map<NodeId, ExerciseNode>;
} {
  const creates = new Map<NodeId, CreateNode>();
  const archives = new Map<NodeId, ExerciseNode>();
  forEachNode(tx, (nodeId, node, rolledBack) => {
    if (rolledBack) return;
    if (node.tag === 'Create') creates.set(nodeId, node);
    else if (node.tag === 'Exercise' && node.consuming) archives.set(nodeId, node);
  });
  const created = new Map([...creates].map(([id, n]) => [n.contractId.coid, id]));
  for (const [id, node] of archives) {
    const creator = created.get(node.contractId.coid);
    if (creator === undefined) continue;
    creates.delete(creator);
    archives.delete(id);
  }
  return { creates, archives };
}

function sortedNodes(
  creates: ReadonlyMap<NodeId, CreateNode>,
  archives: ReadonlyMap<NodeId, ExerciseNode>,
): [NodeId, CreateNode | ExerciseNode][] {
  return [...creates, ...archives].sort(([a], [b]) => a - b);
}

/** The highest node id below `nodeId` (node ids are in pre-order, so the subtree's maximum). */
function lastDescendant(tx: Transaction, nodeId: NodeId): NodeId {
  let last = nodeId;
  const stack = [nodeId];
  for (;;) {
    const id = stack.pop();
    if (id === undefined) return last;
    if (id > last) last = id;
    const node = tx.nodes.get(id);
    if (node) stack.push(...childrenOf(node));
  }
}
