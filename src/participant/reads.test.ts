import { beforeAll, expect, it } from 'vitest';
import { TOKEN_DAR } from '../daml/dar/testing.js';
import { loadEngine } from '../daml/engine/testing.js';
import { type Engine, valueToJson } from '../daml/index.js';
import { describeBackends } from '../storage/testing.js';
import { decodeContract } from './contracts.js';
import {
  type CumulativeFilter,
  type EventFormat,
  type LedgerCreatedEvent,
  type LedgerTransaction,
  WILDCARD_FILTER,
} from './read-model.js';
import { TEST_SYNCHRONIZER, tokenReadLedger } from './reads-testing.js';

const TOKEN = {
  packageName: 'splice-test-token-v1',
  qualifiedName: 'Splice.Testing.Tokens.TestTokenV1:Token',
};
const HOLDING = {
  packageName: 'splice-api-token-holding-v1',
  qualifiedName: 'Splice.Api.Token.HoldingV1:Holding',
};
const SYNC = TEST_SYNCHRONIZER;

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

const format = (byParty: Record<string, CumulativeFilter>, anyParty?: CumulativeFilter): EventFormat => ({
  byParty: new Map(Object.entries(byParty)),
  anyParty,
  verbose: false,
});

const templates = (...t: (typeof TOKEN)[]): CumulativeFilter => ({
  wildcard: undefined,
  templates: t.map((template) => ({ template, includeCreatedEventBlob: false })),
  interfaces: [],
});

const holdings = (o: { view: boolean; blob: boolean }): CumulativeFilter => ({
  wildcard: undefined,
  templates: [],
  interfaces: [{ iface: HOLDING, includeInterfaceView: o.view, includeCreatedEventBlob: o.blob }],
});

/** The events of a transaction in a compact form: kind, node id, template entity, witnesses. */
const summary = (tx: LedgerTransaction | undefined) =>
  tx?.events.map((e) => `${e.kind} ${e.nodeId} ${e.templateId.name.join('.')} [${e.witnesses.join(',')}]`);

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describeBackends('participant reads (Ledger API read model)', (backend) => {
  it('serves ACS_DELTA transactions with the stakeholders among the requesting parties as witnesses', async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    await l.accept();
    const alice = l.reads.eventFilter(format({ alice: WILDCARD_FILTER }));
    const txs = await collect(l.reads.transactions(alice, 'acs-delta', { after: 0n, end: 4n }));
    expect(txs.map((t) => t.offset)).toEqual([2n, 3n, 4n]);
    expect(txs.map(summary)).toEqual([
      ['created 0 Token [alice]'],
      ['archived 2 Token [alice]', 'created 3 Token [alice]', 'created 4 TokenTransferOffer [alice]'],
      ['archived 0 TokenTransferOffer [alice]'],
    ]);
    // The command id only for a submitting party; the workflow, times and synchronizer from the stored update.
    expect(txs.map((t) => t.commandId)).toEqual(['mint', 'offer', '']);
    expect(txs[0]).toMatchObject({
      updateId: 'update-2',
      workflowId: 'workflow-2',
      synchronizerId: SYNC,
      recordTime: 1_002n,
    });
    const created = txs[0]!.events[0] as LedgerCreatedEvent;
    expect(created).toMatchObject({
      offset: 2n,
      signatories: ['admin', 'alice'],
      observers: [],
      acsDelta: true,
    });
    expect(created.blob).toBeUndefined();
    expect(valueToJson(created.argument)).toMatchObject({
      holding: { owner: 'alice', amount: '100.0000000000' },
    });

    const both = l.reads.eventFilter(format({ alice: WILDCARD_FILTER, bob: WILDCARD_FILTER }));
    const offer = await l.reads.transactionAt(3n, both, 'acs-delta');
    expect(summary(offer)).toEqual([
      'archived 2 Token [alice]',
      'created 3 Token [alice]',
      'created 4 TokenTransferOffer [alice,bob]',
    ]);
  });

  it('serves LEDGER_EFFECTS transactions: every create and exercise a requesting party witnesses', async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    const alice = l.reads.eventFilter(format({ alice: WILDCARD_FILTER }));
    const offer = await l.reads.transactionById('update-3', alice, 'ledger-effects');
    expect(summary(offer)).toEqual([
      'exercised 0 TokenRules [alice]',
      'exercised 2 Token [alice]',
      'created 3 Token [alice]',
      'created 4 TokenTransferOffer [alice]',
    ]);
    expect(offer!.events.map((e) => ('acsDelta' in e ? e.acsDelta : undefined))).toEqual([
      false,
      true,
      true,
      true,
    ]);
    expect(offer!.events[0]).toMatchObject({
      choice: 'TransferFactory_Transfer',
      consuming: false,
      actingParties: ['alice'],
      lastDescendantNodeId: 4,
    });
    expect(offer!.events[1]).toMatchObject({ choice: 'Archive', consuming: true, lastDescendantNodeId: 2 });
    // Bob witnesses only the offer he observes.
    const bob = l.reads.eventFilter(format({ bob: WILDCARD_FILTER }));
    expect(summary(await l.reads.transactionAt(3n, bob, 'ledger-effects'))).toEqual([
      'created 4 TokenTransferOffer [bob]',
    ]);
    // Nothing for bob in the mint: not served at all.
    expect(await l.reads.transactionAt(2n, bob, 'ledger-effects')).toBeUndefined();
    expect(await l.reads.transactionAt(9n, bob, 'ledger-effects')).toBeUndefined();
  });

  it('filters by template and by interface across package versions, with views and blobs on request', async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    const tokens = l.reads.eventFilter(format({ alice: templates(TOKEN) }));
    expect(summary(await l.reads.transactionAt(3n, tokens, 'acs-delta'))).toEqual([
      'archived 2 Token [alice]',
      'created 3 Token [alice]',
    ]);
    const viewed = l.reads.eventFilter(format({ alice: holdings({ view: true, blob: true }) }));
    const tx = await l.reads.transactionAt(3n, viewed, 'acs-delta');
    // The offer is a Holding too (it locks the amount offered).
    expect(summary(tx)).toEqual([
      'archived 2 Token [alice]',
      'created 3 Token [alice]',
      'created 4 TokenTransferOffer [alice]',
    ]);
    const archived = tx!.events[0]!;
    expect(
      archived.kind === 'archived' && archived.implementedInterfaces.map((i) => i.name.join('.')),
    ).toEqual(['Holding']);
    const created = tx!.events[1] as LedgerCreatedEvent;
    expect(created.interfaceViews).toHaveLength(1);
    expect(created.interfaceViews[0]!.interfaceId.name).toEqual(['Holding']);
    expect(valueToJson(created.interfaceViews[0]!.view!)).toMatchObject({
      owner: 'alice',
      amount: '70.0000000000',
    });
    // The blob decodes again to the contract (for explicit disclosure).
    const again = decodeContract(created.blob!, l.decoder);
    expect(again.contractId.coid).toBe(l.change);
    expect(again.createdAt).toBe(created.createdAt);
    // Without the view requested: no view, no implemented interfaces, no blob.
    const plain = await l.reads.transactionAt(
      3n,
      l.reads.eventFilter(format({ alice: holdings({ view: false, blob: false }) })),
      'acs-delta',
    );
    expect(
      plain!.events.map((e) => (e.kind === 'created' ? [e.interfaceViews.length, e.blob] : e.kind)),
    ).toEqual(['archived', [0, undefined], [0, undefined]]);
  });

  it('reads for any party: every stakeholder is a witness, and the command id is shown', async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    const any = l.reads.eventFilter(format({}, WILDCARD_FILTER));
    expect(any.parties).toBeUndefined();
    const txs = await collect(l.reads.transactions(any, 'acs-delta', { after: 0n, end: 3n }));
    expect(txs.map(summary)).toEqual([
      ['created 0 TokenRules [admin]'],
      ['created 0 Token [admin,alice]'],
      [
        'archived 2 Token [admin,alice]',
        'created 3 Token [admin,alice]',
        'created 4 TokenTransferOffer [admin,alice,bob]',
      ],
    ]);
    expect(txs.map((t) => t.commandId)).toEqual(['', 'mint', 'offer']);
  });

  it('serves the active contracts as of an offset', async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    await l.accept();
    const alice = l.reads.eventFilter(format({ alice: WILDCARD_FILTER }));
    const ids = async (offset: bigint) =>
      (await collect(l.reads.activeContractsAt(alice, offset))).map((a) => a.createdEvent.contractId);
    expect(await ids(0n)).toEqual([]);
    expect(await ids(2n)).toEqual([l.minted]);
    expect((await ids(3n)).sort()).toEqual([l.change, l.offer].sort());
    expect(await ids(4n)).toEqual([l.change]);
    const entry = (await collect(l.reads.activeContractsAt(alice, 3n))).find(
      (a) => a.createdEvent.contractId === l.change,
    );
    expect(entry).toMatchObject({
      synchronizerId: SYNC,
      workflowId: 'workflow-3',
      createdEvent: { offset: 3n, nodeId: 3, witnesses: ['alice'], acsDelta: true },
    });
    const bob = l.reads.eventFilter(format({ bob: templates(TOKEN) }));
    expect((await collect(l.reads.activeContractsAt(bob, 4n))).map((a) => a.createdEvent.witnesses)).toEqual([
      ['bob'],
    ]);
    // Pages through more contracts than one read returns, in creation order.
    const page = await l.store.activeContractsPage(undefined, 4n, undefined, 1);
    const rest = await l.store.activeContractsPage(
      undefined,
      4n,
      { offset: page[0]!.createdOffset!, contractId: page[0]!.contractId },
      10,
    );
    expect([...page, ...rest].map((r) => r.createdOffset)).toEqual([1n, 3n, 4n]);
  });

  it('serves the create and archive events of a contract to its stakeholders', async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    await l.accept();
    const alice = l.reads.eventFilter(format({ alice: WILDCARD_FILTER }));
    const events = await l.reads.contractEvents(l.offer, alice);
    expect(events.created).toMatchObject({
      synchronizerId: SYNC,
      event: { offset: 3n, nodeId: 4, witnesses: ['alice'] },
    });
    expect(events.archived).toMatchObject({
      synchronizerId: SYNC,
      event: { offset: 4n, nodeId: 0, witnesses: ['alice'] },
    });
    // Active: no archive; not a stakeholder: nothing.
    expect((await l.reads.contractEvents(l.change, alice)).archived).toBeUndefined();
    const bob = l.reads.eventFilter(format({ bob: WILDCARD_FILTER }));
    expect(await l.reads.contractEvents(l.change, bob)).toEqual({ created: undefined, archived: undefined });
    expect(await l.reads.contractEvents('00ff', alice)).toEqual({ created: undefined, archived: undefined });
    // The contract service: the querying parties among the stakeholders, any party when none is given.
    expect((await l.reads.contract(l.offer, ['bob', 'carol']))?.witnesses).toEqual(['bob']);
    expect((await l.reads.contract(l.offer, []))?.witnesses).toEqual(['admin', 'alice', 'bob']);
    expect(await l.reads.contract(l.offer, ['carol'])).toBeUndefined();
  });

  it("pages through several parties' updates in offset order, each update once", async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    await l.accept();
    const offsets: bigint[] = [];
    for (let after = 0n; ; ) {
      const page = await l.store.updates(['bob', 'alice'], after, 4n, 1);
      if (page.length === 0) break;
      offsets.push(...page.map((u) => u.offset));
      after = page.at(-1)!.offset;
    }
    expect(offsets).toEqual([2n, 3n, 4n]);
    expect((await l.store.updates(['bob', 'alice'], 0n, 4n, 10)).map((u) => u.updateId)).toEqual([
      'update-2',
      'update-3',
      'update-4',
    ]);
    expect((await l.store.updates(['bob'], 0n, 3n, 10)).map((u) => u.offset)).toEqual([3n]);
  });

  it('tails new transactions as they become durable, and ends when the node stops', async () => {
    const l = await tokenReadLedger(await backend.open(), engine);
    const bob = l.reads.eventFilter(format({ bob: WILDCARD_FILTER }));
    const controller = new AbortController();
    const seen: bigint[] = [];
    const stream = (async () => {
      for await (const tx of l.reads.transactions(bob, 'acs-delta', {
        after: 0n,
        signal: controller.signal,
      })) {
        seen.push(tx.offset);
        if (seen.length === 2) l.stop();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([3n]);
    await l.accept();
    await stream;
    expect(seen).toEqual([3n, 4n]);
  });
});
