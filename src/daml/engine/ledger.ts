import { createHash, createHmac } from 'node:crypto';
import { type ContractId, parseContractId } from '../values/contract-id.js';
import type { Value } from '../values/value.js';
import { blindingInfo } from './blinding.js';
import type { ContractLookup, ContractStore } from './builder.js';
import { encodeNode, encodeTransaction } from './codec.js';
import type { Command } from './commands.js';
import type { Engine } from './engine.js';
import {
  createdContract,
  type FatContract,
  forEachNode,
  type Node,
  type NodeId,
  type Party,
  type Transaction,
  type TransactionMetadata,
} from './transaction.js';
import { mapContractIds } from './values.js';

/** A submission to the in-memory ledger. */
export interface LedgerSubmission {
  readonly actAs: readonly Party[];
  readonly readAs?: readonly Party[];
  readonly commands: readonly Command[];
  readonly packagePreference?: readonly string[];
  /**
   * Contracts disclosed to the submission (explicit disclosure, by contract id): usable although no reader
   * witnessed them, as a participant uses the created-event blobs a command carries.
   */
  readonly disclosed?: readonly string[];
  /** Default: the ledger's current time. */
  readonly ledgerTime?: bigint;
}

/** A transaction accepted by the in-memory ledger, with its contract ids suffixed. */
export interface CommittedTransaction {
  readonly offset: number;
  /** Hex SHA-256 of the canonical encoding of `transaction`. */
  readonly updateId: string;
  readonly actAs: readonly Party[];
  readonly transaction: Transaction;
  readonly metadata: TransactionMetadata;
  /** The command results, with suffixed contract ids. */
  readonly results: readonly Value[];
  /** The seed the transaction was interpreted from. */
  readonly submissionSeed: Uint8Array;
}

interface Entry {
  readonly contract: FatContract;
  active: boolean;
  /** Parties that witnessed an action on the contract: they may use it in later submissions. */
  readonly witnesses: Set<Party>;
}

export interface InMemoryLedgerOptions {
  readonly participantId?: string;
  /** 32 bytes; the submission seed of the n-th submission is HMAC(seed, n). Default: all zeros. */
  readonly seed?: Uint8Array;
  /** The initial ledger time (µs since the epoch). Default: 1970-01-01T00:00:00Z. */
  readonly time?: bigint;
}

/**
 * A ledger in memory, for model testing without a network: submissions are interpreted by the engine and, if
 * they succeed, committed at once. Contract ids get a suffix (`ca` ∥ SHA-256 of the create node) as a participant
 * would give them. A submission may use the contracts its `actAs` and `readAs` parties witnessed (as stakeholders,
 * or through divulgence). Deterministic: the same submissions from the same seed give the same ledger.
 */
export class InMemoryLedger {
  readonly participantId: string;
  private readonly seed: Uint8Array;
  private readonly entries = new Map<string, Entry>();
  private readonly log: CommittedTransaction[] = [];
  private submissions = 0;
  time: bigint;

  constructor(
    readonly engine: Engine,
    options: InMemoryLedgerOptions = {},
  ) {
    this.participantId = options.participantId ?? 'weft-in-memory';
    this.seed = options.seed ?? new Uint8Array(32);
    this.time = options.time ?? 0n;
  }

  get transactions(): readonly CommittedTransaction[] {
    return this.log;
  }

  /** The contracts visible to `readers`, and those `disclosed`, as the engine looks them up. */
  store(readers: Iterable<Party>, disclosed: readonly string[] = []): ContractStore {
    const rs = new Set(readers);
    const shown = new Set(disclosed);
    return {
      lookupContract: (cid: ContractId): ContractLookup => {
        const e = this.entries.get(cid.coid);
        if (e === undefined) return { status: 'unknown' };
        if (!shown.has(cid.coid) && ![...e.witnesses].some((p) => rs.has(p))) return { status: 'unknown' };
        return e.active ? { status: 'active', contract: e.contract } : { status: 'archived' };
      },
    };
  }

  /** Interprets and commits a submission; throws (and changes nothing) if it fails. */
  async submit(s: LedgerSubmission): Promise<CommittedTransaction> {
    const submissionSeed = new Uint8Array(
      createHmac('sha256', this.seed)
        .update(`submission ${this.submissions++}`)
        .digest(),
    );
    const ledgerTime = s.ledgerTime ?? this.time;
    const result = await this.engine.submit(
      {
        actAs: s.actAs,
        commands: s.commands,
        ...(s.packagePreference === undefined ? {} : { packagePreference: s.packagePreference }),
        ledgerTime,
        submissionSeed,
        participantId: this.participantId,
      },
      this.store([...s.actAs, ...(s.readAs ?? [])], s.disclosed),
    );
    const suffixes = new Map<string, ContractId>();
    forEachNode(result.transaction, (_id, node) => {
      if (node.tag !== 'Create') return;
      const unicum = createHash('sha256').update(encodeNode(node)).digest('hex');
      suffixes.set(node.contractId.coid, parseContractId(`${node.contractId.coid}ca${unicum}`)!);
    });
    const suffix = (cid: ContractId) => suffixes.get(cid.coid) ?? cid;
    const transaction = suffixTransaction(result.transaction, suffix);
    const committed: CommittedTransaction = {
      offset: this.log.length + 1,
      updateId: createHash('sha256').update(encodeTransaction(transaction)).digest('hex'),
      actAs: [...s.actAs],
      transaction,
      metadata: result.metadata,
      results: result.results.map((v) => mapContractIds(v, suffix)),
      submissionSeed,
    };
    this.apply(committed);
    this.log.push(committed);
    return committed;
  }

  private apply(c: CommittedTransaction): void {
    const { disclosure } = blindingInfo(c.transaction);
    forEachNode(c.transaction, (id, node, rolledBack) => {
      if (node.tag === 'Rollback') return;
      const witnesses = disclosure.get(id)!;
      if (node.tag === 'Create') {
        if (rolledBack) return;
        this.entries.set(node.contractId.coid, {
          contract: createdContract(node, c.metadata.ledgerTime),
          active: true,
          witnesses: new Set(witnesses),
        });
        return;
      }
      const e = this.entries.get(node.contractId.coid);
      if (e === undefined) return;
      for (const w of witnesses) e.witnesses.add(w);
      if (node.tag === 'Exercise' && node.consuming && !rolledBack) e.active = false;
    });
  }

  /** Active contracts of which one of `parties` is a stakeholder, in creation order. */
  activeContracts(parties: Iterable<Party>): FatContract[] {
    const ps = new Set(parties);
    return [...this.entries.values()]
      .filter((e) => e.active && e.contract.stakeholders.some((p) => ps.has(p)))
      .map((e) => e.contract);
  }

  /** A contract the ledger knows, active or archived. */
  contract(coid: string): { readonly contract: FatContract; readonly active: boolean } | undefined {
    const e = this.entries.get(coid);
    return e === undefined ? undefined : { contract: e.contract, active: e.active };
  }
}

/**
 * A contract store answering from a fixed set of contracts, all active: the input contracts a validator received
 * with a view, or the contracts of a transaction's history.
 */
export function contractStoreOf(contracts: Iterable<FatContract>): ContractStore {
  const byId = new Map<string, FatContract>();
  for (const c of contracts) byId.set(c.contractId.coid, c);
  return {
    lookupContract: (cid) => {
      const contract = byId.get(cid.coid);
      return contract === undefined ? { status: 'unknown' } : { status: 'active', contract };
    },
  };
}

/** A transaction with every contract id replaced by `f(cid)` (to suffix the ids of the contracts it creates). */
export function suffixTransaction(tx: Transaction, f: (cid: ContractId) => ContractId): Transaction {
  const nodes = new Map<NodeId, Node>();
  const v = (x: Value) => mapContractIds(x, f);
  for (const [id, node] of tx.nodes) {
    switch (node.tag) {
      case 'Create':
        nodes.set(id, { ...node, contractId: f(node.contractId), arg: v(node.arg) });
        break;
      case 'Fetch':
        nodes.set(id, { ...node, contractId: f(node.contractId) });
        break;
      case 'Exercise':
        nodes.set(id, {
          ...node,
          contractId: f(node.contractId),
          chosenValue: v(node.chosenValue),
          exerciseResult: node.exerciseResult === undefined ? undefined : v(node.exerciseResult),
        });
        break;
      case 'Rollback':
        nodes.set(id, node);
    }
  }
  return { version: tx.version, roots: tx.roots, nodes };
}
