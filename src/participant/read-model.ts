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
import { type IndexedEvent, IndexedTransaction } from '../generated/weft/participant/v1/event_index.js';
import { FAST_WRITE_OPTIONS } from '../wire/index.js';
import { encodeContract } from './contracts.js';
import { decodeSelector, type IndexedEventView, readEventIndex } from './event-index.js';
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

/** What the participant stores of a transaction besides its nodes (see `ParticipantStore.updates`). */
export interface StoredTransactionHeader {
  readonly offset: bigint;
  readonly updateId: string;
  readonly synchronizerId: string;
  readonly recordTime: bigint;
  readonly ledgerTime: bigint;
  readonly workflowId: string;
  readonly submission: { readonly commandId: string; readonly actAs: readonly string[] } | undefined;
}

/** A stored transaction with what the participant knows of it. */
export interface StoredTransaction extends StoredTransactionHeader {
  readonly transaction: Transaction;
}

/**
 * A transaction as the requesting parties see it, from its pre-encoded events (see {@link indexTransaction}): the
 * same selection as {@link LedgerTransaction}, each event as its stored bytes and what the reader adds to them.
 */
export interface IndexedLedgerTransaction extends Omit<LedgerTransaction, 'kind' | 'events'> {
  readonly kind: 'indexed';
  readonly events: readonly IndexedLedgerEvent[];
}

export interface IndexedLedgerEvent {
  readonly kind: 'created' | 'exercised' | 'archived';
  /** The stored encoding of the event without the reader's fields. */
  readonly bytes: Uint8Array;
  readonly witnesses: readonly Party[];
  readonly acsDelta: boolean;
}

/**
 * Encodes events as update streams serve them (the Ledger API's protobuf, verbose), for {@link indexTransaction}.
 * The participant stores what it is given and knows nothing of the encoding: the Ledger API supplies it.
 */
export interface EventEncoder {
  created(e: LedgerCreatedEvent): Uint8Array;
  exercised(e: LedgerExercisedEvent): Uint8Array;
  archived(e: LedgerArchivedEvent): Uint8Array;
}

/**
 * A create or exercise of a transaction outside rolled-back subtrees, with who sees it in each shape: what selects
 * an event, the same whether it comes from the decoded transaction or from its pre-encoded index.
 */
interface EventSite {
  readonly nodeId: NodeId;
  /** The disclosure witnesses (LEDGER_EFFECTS). */
  readonly informees: readonly Party[];
  /** The contract's stakeholders (ACS_DELTA). */
  readonly stakeholders: readonly Party[];
  readonly packageName: string;
  /** The template, or only its qualified name where no interface filter needs the package (pre-encoded). */
  readonly template: Identifier | string;
  /** Part of the ACS_DELTA shape: a create not consumed here, or a consuming exercise of a contract not created here. */
  readonly netChange: boolean;
}

/** Who of an event's candidates a format lets see it, and what their filters ask for. */
type Seen = { witnesses: Party[]; blob: boolean; views: Identifier[] };

/** An event a format selects: who sees it, what their filters ask for, and whether it is in the ACS delta. */
interface Selected<S extends EventSite> {
  readonly site: S;
  readonly seen: Seen;
  readonly acsDelta: boolean;
}

/** A pre-encoded event's selector as a format matched it (see {@link EventFilter.indexedTransaction}). */
interface MatchedSelector extends EventSite {
  readonly byInformees: Seen | undefined;
  readonly byStakeholders: Seen | undefined;
}

/** Distinct selectors one stream keeps matched; past this it starts over (a ledger has few per template). */
const MAX_SELECTORS = 4096;

/** The creates and exercises of a transaction by node id (pre-order), with what selects them. */
function eventSites(tx: Transaction): (EventSite & { node: CreateNode | ExerciseNode })[] {
  const { disclosure } = blindingInfo(tx);
  const { creates, archives } = netChanges(tx);
  const sites: (EventSite & { node: CreateNode | ExerciseNode })[] = [];
  forEachNode(tx, (nodeId, node, rolledBack) => {
    if (rolledBack || (node.tag !== 'Create' && node.tag !== 'Exercise')) return;
    sites.push({
      nodeId,
      node,
      informees: [...(disclosure.get(nodeId) ?? [])],
      stakeholders: node.stakeholders,
      packageName: node.packageName,
      template: node.templateId,
      netChange: node.tag === 'Create' ? creates.has(nodeId) : archives.has(nodeId),
    });
  });
  return sites;
}

/**
 * The pre-encoded events of a transaction committed at `offset` (an `IndexedTransaction`), computed once when it
 * is committed: every event in the encoding streams serve, without the fields that depend on the reader (its
 * witnesses and `acs_delta` are set empty and false here, blobs and interface data are not pre-encoded), with
 * the metadata that selects it.
 */
export function indexTransaction(
  tx: Transaction,
  at: { offset: bigint; ledgerTime: bigint },
  encoder: EventEncoder,
): Uint8Array {
  const events: IndexedEvent[] = eventSites(tx).map((site) => {
    const { node, nodeId } = site;
    const common = {
      nodeId,
      informees: [...site.informees],
      stakeholders: [...node.stakeholders],
      packageName: node.packageName,
      qualifiedName: qualifiedName(node.templateId),
      netChange: site.netChange,
    };
    if (node.tag === 'Create') {
      const contract = createdContract(node, at.ledgerTime);
      const created = encoder.created(createdEventOf(contract, { ...at, nodeId, acsDelta: false }, []));
      return { ...common, event: { oneofKind: 'created', created }, archived: new Uint8Array(0) };
    }
    const exercised = encoder.exercised(
      exercisedEventOf(tx, node, { ...at, nodeId, acsDelta: false }, [], []),
    );
    const archived =
      site.netChange && node.consuming
        ? encoder.archived(archivedEventOf(node, { ...at, nodeId }, [], []))
        : new Uint8Array(0);
    return { ...common, event: { oneofKind: 'exercised', exercised }, archived };
  });
  return IndexedTransaction.toBinary({ events }, FAST_WRITE_OPTIONS);
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
  readonly #selectors = new Map<string, Omit<MatchedSelector, 'nodeId' | 'netChange'>>();

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

  #match(filter: CumulativeFilter, packageName: string, template: Identifier | string): Match | undefined {
    let matched = false;
    let blob = false;
    const views: Identifier[] = [];
    if (filter.wildcard) {
      matched = true;
      blob ||= filter.wildcard.includeCreatedEventBlob;
    }
    if (filter.templates.length > 0) {
      const self = refKey({
        packageName,
        qualifiedName: typeof template === 'string' ? template : qualifiedName(template),
      });
      for (const t of filter.templates) {
        if (refKey(t.template) !== self) continue;
        matched = true;
        blob ||= t.includeCreatedEventBlob;
      }
    }
    if (filter.interfaces.length > 0) {
      if (typeof template === 'string') {
        throw new WeftError(
          CommonErrors.INTERNAL,
          'a pre-encoded event was read for a format with interface filters',
        );
      }
      const implemented = this.#interfacesOf(template);
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
   * filter matches), and what the matching filters ask for; undefined when none matches. The template's
   * qualified name alone serves a format without interface filters.
   */
  matching(
    candidates: readonly Party[],
    packageName: string,
    template: Identifier | string,
  ): Seen | undefined {
    const matches: Match[] = [];
    let witnesses: Party[];
    const any = this.format.anyParty && this.#match(this.format.anyParty, packageName, template);
    if (any) {
      matches.push(any);
      witnesses = [...candidates];
    } else witnesses = [];
    for (const p of candidates) {
      const filter = this.format.byParty.get(p);
      const m = filter && this.#match(filter, packageName, template);
      if (!m) continue;
      matches.push(m);
      if (!any) witnesses.push(p);
    }
    if (witnesses.length === 0) return undefined;
    const views: Identifier[] = [];
    for (const m of matches) for (const v of m.views) if (!views.some((x) => sameId(x, v))) views.push(v);
    return { witnesses: witnesses.sort(), blob: matches.some((m) => m.blob), views };
  }

  /**
   * Whether the pre-encoded events serve this format: no filter asks for what depends on the reader beyond its
   * witnesses (created-event blobs, interface views and implemented interfaces).
   */
  get indexable(): boolean {
    const plain = (f: CumulativeFilter) =>
      f.interfaces.length === 0 &&
      !f.wildcard?.includeCreatedEventBlob &&
      f.templates.every((t) => !t.includeCreatedEventBlob);
    const { anyParty, byParty } = this.format;
    return (anyParty === undefined || plain(anyParty)) && [...byParty.values()].every(plain);
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
    seen: Seen,
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
    return seen && archivedEventOf(node, at, seen.witnesses, seen.views);
  }

  /**
   * The transaction as the requesting parties see it in `shape`; undefined when no event is left (such a
   * transaction is not served, as in Canton).
   */
  transaction(stored: StoredTransaction, shape: TransactionShape): LedgerTransaction | undefined {
    const tx = stored.transaction;
    const at = { offset: stored.offset };
    const events = this.#select(eventSites(tx), shape).map(({ site, seen, acsDelta }): LedgerEvent => {
      const { node, nodeId } = site;
      if (node.tag === 'Create') {
        const contract = createdContract(node, stored.ledgerTime);
        return this.createdEvent(contract, { ...at, nodeId, acsDelta }, seen);
      }
      if (shape === 'acs-delta') return archivedEventOf(node, { ...at, nodeId }, seen.witnesses, seen.views);
      const views = node.consuming ? seen.views : [];
      return exercisedEventOf(tx, node, { ...at, nodeId, acsDelta }, seen.witnesses, views);
    });
    return events.length === 0 ? undefined : { kind: 'transaction', ...this.#header(stored), events };
  }

  /**
   * {@link transaction} from the transaction's pre-encoded events (a format that is {@link indexable}): the same
   * events, each as its stored bytes with the requesting parties that see it.
   */
  indexedTransaction(
    stored: StoredTransactionHeader,
    index: Uint8Array,
    shape: TransactionShape,
  ): IndexedLedgerTransaction | undefined {
    const sites = readEventIndex(index).map((e) => this.#selector(index, e));
    const seen = (site: (typeof sites)[number], parties: 'informees' | 'stakeholders') =>
      parties === 'informees' ? site.byInformees : site.byStakeholders;
    const events = this.#select(sites, shape, seen).map(({ site, seen, acsDelta }): IndexedLedgerEvent => {
      const { view } = site;
      if (view.kind === 'created')
        return { kind: 'created', bytes: view.event, witnesses: seen.witnesses, acsDelta };
      return shape === 'acs-delta'
        ? { kind: 'archived', bytes: view.archived, witnesses: seen.witnesses, acsDelta }
        : { kind: 'exercised', bytes: view.event, witnesses: seen.witnesses, acsDelta };
    });
    return events.length === 0 ? undefined : { kind: 'indexed', ...this.#header(stored), events };
  }

  /**
   * The site of a pre-encoded event with who of its informees and stakeholders the format lets see it, kept by the
   * selector's bytes: decoded and matched once per distinct selector a stream meets.
   */
  #selector(index: Uint8Array, e: IndexedEventView): MatchedSelector & { view: IndexedEventView } {
    let found = this.#selectors.get(e.selectorKey);
    if (found === undefined) {
      const s = decodeSelector(index, e);
      const site = {
        informees: s.informees,
        stakeholders: s.stakeholders,
        packageName: s.packageName,
        template: s.qualifiedName,
      };
      found = {
        ...site,
        byInformees: this.matching(site.informees, site.packageName, site.template),
        byStakeholders: this.matching(site.stakeholders, site.packageName, site.template),
      };
      if (this.#selectors.size >= MAX_SELECTORS) this.#selectors.clear();
      this.#selectors.set(e.selectorKey, found);
    }
    // Listed, not spread: one of these per event read.
    return {
      nodeId: e.nodeId,
      netChange: e.netChange,
      informees: found.informees,
      stakeholders: found.stakeholders,
      packageName: found.packageName,
      template: found.template,
      byInformees: found.byInformees,
      byStakeholders: found.byStakeholders,
      view: e,
    };
  }

  /** What a transaction presents besides its events, for the requesting parties. */
  #header(stored: StoredTransactionHeader): Omit<LedgerTransaction, 'kind' | 'events'> {
    const requesting = this.parties;
    const s = stored.submission;
    const submitter =
      s !== undefined && (requesting === undefined || requesting.some((p) => s.actAs.includes(p)));
    return {
      updateId: stored.updateId,
      commandId: submitter ? s.commandId : '',
      workflowId: stored.workflowId,
      effectiveAt: stored.ledgerTime,
      offset: stored.offset,
      synchronizerId: stored.synchronizerId,
      recordTime: stored.recordTime,
    };
  }

  /**
   * The events of `shape` the requesting parties see. ACS_DELTA: the net changes (creates, and archives by the
   * consuming exercises) seen by a matching stakeholder; LEDGER_EFFECTS: every event a matching party witnesses,
   * marked `acsDelta` when it is also in the ACS_DELTA shape (a net change a stakeholder's filter matches).
   */
  #select<S extends EventSite>(
    sites: readonly S[],
    shape: TransactionShape,
    seenBy: (site: S, parties: 'informees' | 'stakeholders') => Seen | undefined = (site, parties) =>
      this.matching(site[parties], site.packageName, site.template),
  ): Selected<S>[] {
    const out: Selected<S>[] = [];
    for (const site of sites) {
      if (shape === 'acs-delta') {
        if (!site.netChange) continue;
        const seen = seenBy(site, 'stakeholders');
        if (seen) out.push({ site, seen, acsDelta: true });
        continue;
      }
      const seen = seenBy(site, 'informees');
      if (!seen) continue;
      const acsDelta = site.netChange && seenBy(site, 'stakeholders') !== undefined;
      out.push({ site, seen, acsDelta });
    }
    return out;
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

/** An exercised event for the node, seen by `witnesses`. */
function exercisedEventOf(
  tx: Transaction,
  node: ExerciseNode,
  at: { offset: bigint; nodeId: NodeId; acsDelta: boolean },
  witnesses: readonly Party[],
  implementedInterfaces: readonly Identifier[],
): LedgerExercisedEvent {
  return {
    kind: 'exercised',
    nodeId: at.nodeId,
    contractId: node.contractId.coid,
    templateId: node.templateId,
    interfaceId: node.interfaceId,
    choice: node.choice,
    choiceArgument: node.chosenValue,
    actingParties: node.actingParties,
    consuming: node.consuming,
    result: node.exerciseResult,
    offset: at.offset,
    packageName: node.packageName,
    witnesses,
    lastDescendantNodeId: lastDescendant(tx, at.nodeId),
    implementedInterfaces,
    acsDelta: at.acsDelta,
  };
}

/** The archive of the contract by the consuming exercise `node`, seen by `witnesses`. */
function archivedEventOf(
  node: ExerciseNode,
  at: { offset: bigint; nodeId: NodeId },
  witnesses: readonly Party[],
  implementedInterfaces: readonly Identifier[],
): LedgerArchivedEvent {
  return {
    kind: 'archived',
    nodeId: at.nodeId,
    contractId: node.contractId.coid,
    templateId: node.templateId,
    packageName: node.packageName,
    offset: at.offset,
    witnesses,
    implementedInterfaces,
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
