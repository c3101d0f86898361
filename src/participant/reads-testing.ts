/**
 * A participant's read side over a real store and journal, with the Splice token workflow committed as the
 * protocol commits transactions (without a network): for tests of the read model and the Ledger API's read
 * services. Not part of the public entry point.
 */
import {
  blindingInfo,
  createdContract,
  type Engine,
  encodeTransaction,
  showIdentifier,
  type Transaction,
  TransactionDecoder,
} from '../daml/index.js';
import { createLogger } from '../observability/index.js';
import type { Storage } from '../storage/index.js';
import { systemClock } from '../time/index.js';
import { encodeContract } from './contracts.js';
import { Journal } from './journal.js';
import { type EventEncoder, netChanges } from './read-model.js';
import { ParticipantReads } from './reads.js';
import { ParticipantStore } from './store.js';
import { ModelLedger, tokenCommands } from './testing.js';

export const TEST_SYNCHRONIZER = 'sync::1220aa';

export interface TokenReadLedger {
  readonly store: ParticipantStore;
  readonly reads: ParticipantReads;
  readonly journal: Journal;
  readonly decoder: TransactionDecoder;
  /** Alice's minted holding (archived by the offer). */
  readonly minted: string;
  /** Alice's change after the offer. */
  readonly change: string;
  /** The transfer offer to bob (archived by the acceptance). */
  readonly offer: string;
  /** Commits bob's acceptance of the offer (offset 4). */
  accept(): Promise<bigint>;
  /** The model ledger the workflow runs on, for more submissions. */
  readonly model: ModelLedger;
  /** Commits a transaction of `model` at the next offset, returning it. */
  commit(tx: Transaction, o?: { commandId?: string; actAs?: string[] }): Promise<bigint>;
  /** Stops the node as far as streams are concerned: they end once they caught up. */
  stop(): void;
}

/**
 * A participant hosting `admin`, `alice` and `bob`, with the token workflow committed through its journal: rules
 * (offset 1), a mint for alice (2), alice's transfer offer to bob (3); bob's acceptance (4) on `accept()`.
 */
export async function tokenReadLedger(
  storage: Storage,
  engine: Engine,
  parties: { admin: string; alice: string; bob: string } = { admin: 'admin', alice: 'alice', bob: 'bob' },
  /** Stores each transaction with its events pre-encoded by this encoder. */
  encoder?: EventEncoder,
): Promise<TokenReadLedger> {
  const { admin, alice, bob } = parties;
  const store = await ParticipantStore.open(storage);
  const journal = new Journal(store, systemClock, createLogger({ level: 'silent' }), 0n, 1_000, () => {});
  let live = true;
  const decoder = new TransactionDecoder(engine.types);
  const reads = new ParticipantReads(store, decoder, journal, () => live, engine);
  if (encoder) reads.encodeEventsWith(encoder);
  const model = new ModelLedger(engine, 1_750_000_000_000_000n);
  const commit = async (tx: Transaction, o: { commandId?: string; actAs?: string[] } = {}) => {
    const offset = journal.nextOffset();
    const info = blindingInfo(tx);
    const { creates, archives } = netChanges(tx);
    const witnesses = new Set<string>();
    for (const w of info.disclosure.values()) for (const p of w) witnesses.add(p);
    journal.write([
      {
        offset,
        fill: (b) => {
          for (const [id, node] of creates) {
            const c = createdContract(node, model.ledgerTime);
            b.contracts.push({
              contractId: c.contractId.coid,
              synchronizerId: TEST_SYNCHRONIZER,
              templateId: showIdentifier(c.templateId),
              contract: encodeContract(c),
              createdAt: model.ledgerTime,
              createdOffset: offset,
            });
            for (const p of info.disclosure.get(id) ?? []) {
              b.contractParties.push({
                party: p,
                contractId: c.contractId.coid,
                stakeholder: node.stakeholders.includes(p),
              });
            }
          }
          for (const node of archives.values())
            b.archivals.push({ contractId: node.contractId.coid, offset });
          b.updates.push({
            offset,
            updateId: `update-${offset}`,
            synchronizerId: TEST_SYNCHRONIZER,
            requestId: 1_000n + offset,
            ledgerTime: model.ledgerTime,
            workflowId: `workflow-${offset}`,
            transaction: encodeTransaction(tx),
            events: reads.index(tx, { offset, ledgerTime: model.ledgerTime }),
            submission: o.commandId ? { commandId: o.commandId, actAs: o.actAs ?? [] } : undefined,
            parties: [...witnesses].sort(),
          });
        },
      },
    ]);
    await journal.flush();
    return offset;
  };
  const rules = await model.submit([admin], [tokenCommands.rules(admin)]);
  await commit(rules.tx);
  const mint = await model.submit([admin, alice], [tokenCommands.mint(admin, alice, '100.0', 'm1')]);
  await commit(mint.tx, { commandId: 'mint', actAs: [admin, alice] });
  const offer = await model.submit(
    [alice, admin],
    [
      tokenCommands.offer({
        rules: rules.created(0),
        admin,
        sender: alice,
        receiver: bob,
        amount: '30.0',
        inputs: [mint.created(0)],
      }),
    ],
  );
  await commit(offer.tx, { commandId: 'offer', actAs: [alice] });
  const accept = await model.submit(
    [bob],
    [tokenCommands.instruction(offer.created(4), 'TransferInstruction_Accept')],
  );
  return {
    store,
    reads,
    journal,
    decoder,
    minted: mint.created(0),
    change: offer.created(3),
    offer: offer.created(4),
    accept: () => commit(accept.tx, { commandId: 'accept', actAs: [bob] }),
    model,
    commit,
    stop: () => {
      live = false;
      reads.wake();
    },
  };
}

/**
 * The read side of `ledger` as a restarted node has it: over the same store and journal, holding nothing recent, so
 * it reads everything durable from the database (for tests that change the stored rows underneath).
 */
export function restartedReads(
  ledger: TokenReadLedger,
  engine: Engine,
  encoder?: EventEncoder,
): TokenReadLedger {
  const reads = new ParticipantReads(ledger.store, ledger.decoder, ledger.journal, () => false, engine);
  if (encoder) reads.encodeEventsWith(encoder);
  return { ...ledger, reads };
}
