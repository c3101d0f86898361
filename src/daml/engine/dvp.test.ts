import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR, TRADING_DAR } from '../dar/testing.js';
import { parseTimestamp } from '../values/time.js';
import { project } from './blinding.js';
import { encodeTransaction, TransactionDecoder } from './codec.js';
import type { Engine } from './engine.js';
import { type CommittedTransaction, contractStoreOf, InMemoryLedger } from './ledger.js';
import { cidOf, json, loadEngine, reinterpretEveryNode, viewInputs } from './testing.js';
import {
  type ActionNode,
  type ExerciseNode,
  forEachNode,
  getNode,
  informeesOf,
  type Node,
  type NodeId,
  type Transaction,
} from './transaction.js';

/**
 * Delivery versus payment with the Splice trading app: alice pays 10 A (admin `bank-a`) for 20 B (admin
 * `bank-b`) of bob; the venue settles both legs atomically. Each bank sees only its own leg.
 */

const T = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1';
const APP = '#splice-token-test-trading-app:Splice.Testing.Apps.TradingApp';
const NOW = parseTimestamp('2025-06-01T09:00:00Z')!;
const meta = { values: {} };
const extraArgs = { context: { values: {} }, meta };
const HOUR = 3_600_000_000n;

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(TOKEN_DAR, TRADING_DAR);
});

const leg = (sender: string, receiver: string, amount: string, admin: string, id: string) => ({
  sender,
  receiver,
  amount,
  instrumentId: { admin, id },
  meta,
});
const legs = {
  'leg-a': leg('alice', 'bob', '10.0', 'bank-a', 'A'),
  'leg-b': leg('bob', 'alice', '20.0', 'bank-b', 'B'),
};

interface Dvp {
  ledger: InMemoryLedger;
  settlement: CommittedTransaction;
}

async function dvp(): Promise<Dvp> {
  const ledger = new InMemoryLedger(engine, { time: NOW });
  const one = async (actAs: string[], command: unknown, readAs: string[] = []) =>
    (await ledger.submit({ actAs, readAs, commands: [command as never] })).results[0];
  const create = (templateId: string, createArguments: unknown) => ({
    CreateCommand: { templateId, createArguments },
  });
  const exercise = (templateId: string, contractId: string, choice: string, choiceArgument: unknown) => ({
    ExerciseCommand: { templateId, contractId, choice, choiceArgument },
  });

  const rulesA = cidOf(await one(['bank-a'], create(`${T}:TokenRules`, { admin: 'bank-a' }))).coid;
  const rulesB = cidOf(await one(['bank-b'], create(`${T}:TokenRules`, { admin: 'bank-b' }))).coid;
  const holding = (owner: string, admin: string, id: string, amount: string) =>
    create(`${T}:Token`, { holding: { owner, instrumentId: { admin, id }, amount, lock: null, meta } });
  const aliceA = cidOf(await one(['bank-a', 'alice'], holding('alice', 'bank-a', 'A', '100.0'))).coid;
  const bobB = cidOf(await one(['bank-b', 'bob'], holding('bob', 'bank-b', 'B', '50.0'))).coid;

  const proposal = cidOf(
    await one(
      ['alice'],
      create(`${APP}:OTCTradeProposal`, {
        venue: 'venue',
        tradeCid: null,
        transferLegs: legs,
        approvers: ['alice'],
      }),
    ),
  ).coid;
  const accepted = cidOf(
    await one(
      ['bob'],
      exercise(`${APP}:OTCTradeProposal`, proposal, 'OTCTradeProposal_Accept', { approver: 'bob' }),
    ),
  ).coid;
  const prepareUntil = NOW + HOUR;
  const settleBefore = NOW + 2n * HOUR;
  const iso = (t: bigint) => new Date(Number(t / 1000n)).toISOString();
  const trade = cidOf(
    await one(
      ['venue'],
      exercise(`${APP}:OTCTradeProposal`, accepted, 'OTCTradeProposal_InitiateSettlement', {
        prepareUntil: iso(prepareUntil),
        settleBefore: iso(settleBefore),
      }),
    ),
  ).coid;

  const settlement = {
    executor: 'venue',
    settlementRef: { id: 'OTCTradeProposal', cid: proposal },
    requestedAt: iso(NOW),
    allocateBefore: iso(prepareUntil),
    settleBefore: iso(settleBefore),
    meta,
  };
  const allocate = async (
    sender: string,
    admin: string,
    rules: string,
    legId: 'leg-a' | 'leg-b',
    input: string,
  ) =>
    json(
      await one(
        [sender],
        exercise(`${T}:TokenRules`, rules, 'AllocationFactory_Allocate', {
          expectedAdmin: admin,
          allocation: { settlement, transferLegId: legId, transferLeg: legs[legId] },
          requestedAt: iso(NOW),
          inputHoldingCids: [input],
          extraArgs,
        }),
        [admin],
      ),
    ).output.value.allocationCid as string;
  ledger.time = NOW + HOUR / 2n;
  const allocationA = await allocate('alice', 'bank-a', rulesA, 'leg-a', aliceA);
  const allocationB = await allocate('bob', 'bank-b', rulesB, 'leg-b', bobB);

  await ledger.submit({
    actAs: ['venue'],
    commands: [
      exercise(`${APP}:OTCTrade`, trade, 'OTCTrade_Settle', {
        allocationsWithContext: {
          'leg-a': { _1: allocationA, _2: extraArgs },
          'leg-b': { _1: allocationB, _2: extraArgs },
        },
      }) as never,
    ],
  });
  return { ledger, settlement: ledger.transactions.at(-1)! };
}

const nodesOf = (tx: Transaction): [NodeId, Node][] => {
  const out: [NodeId, Node][] = [];
  forEachNode(tx, (id, node) => {
    out.push([id, node]);
  });
  return out;
};

const describeNode = (n: Node): string =>
  n.tag === 'Exercise'
    ? `exercise ${n.choice} on ${n.templateId.name.join('.')}`
    : n.tag === 'Rollback'
      ? 'rollback'
      : `${n.tag.toLowerCase()} ${n.templateId.name.join('.')}`;

let run: Dvp;
beforeAll(async () => {
  run = await dvp();
});

describe('DvP settlement with the trading app', () => {
  it('settles both legs in one transaction', () => {
    const { ledger, settlement } = run;
    const tx = settlement.transaction;
    expect(nodesOf(tx).map(([, n]) => describeNode(n))).toEqual([
      'exercise OTCTrade_Settle on OTCTrade',
      'fetch TokenAllocation',
      'exercise Allocation_ExecuteTransfer on TokenAllocation',
      'create Token',
      'fetch TokenAllocation',
      'exercise Allocation_ExecuteTransfer on TokenAllocation',
      'create Token',
    ]);
    const tokens = (party: string) =>
      ledger
        .activeContracts([party])
        .filter((c) => c.templateId.name[0] === 'Token' && json(c.arg).holding.owner === party)
        .map((c) => `${json(c.arg).holding.instrumentId.id} ${json(c.arg).holding.amount}`)
        .sort();
    expect(tokens('alice')).toEqual(['A 90.0000000000', 'B 20.0000000000']);
    expect(tokens('bob')).toEqual(['A 10.0000000000', 'B 30.0000000000']);
    expect(getNode(tx, 0)).toMatchObject({
      actingParties: ['venue'],
      stakeholders: ['alice', 'bob', 'venue'],
    });
  });

  it('shows each bank only its own leg', () => {
    const tx = run.settlement.transaction;
    for (const [bank, instrument] of [
      ['bank-a', 'A'],
      ['bank-b', 'B'],
    ] as const) {
      const view = project(tx, [bank]);
      const seen = nodesOf(view.transaction);
      expect(seen.map(([, n]) => describeNode(n))).toEqual([
        'fetch TokenAllocation',
        'exercise Allocation_ExecuteTransfer on TokenAllocation',
        'create Token',
      ]);
      // Every node it sees concerns its own instrument and names it as an informee or sits below such a node.
      for (const [, n] of seen) {
        const action = n as ActionNode;
        expect(action.stakeholders).toContain(bank);
        if (action.tag === 'Create')
          expect(JSON.stringify(json(action.arg))).not.toMatch(instrument === 'A' ? /bank-b/ : /bank-a/);
      }
      expect(view.transaction.roots).toHaveLength(2);
      expect(view.divulged).toEqual([]);
    }
    // The traders and the venue see the whole settlement; bob learns alice's allocation through the fetch.
    expect(project(tx, ['venue']).transaction.roots).toEqual([0]);
    const bob = project(tx, ['bob']);
    expect(bob.transaction.nodes.size).toBe(tx.nodes.size);
    const allocationA = (getNode(tx, 1) as ActionNode).contractId.coid;
    expect(bob.divulged).toContain(allocationA);
    // Informees of the root are the trade's stakeholders; the banks are informees of their leg only.
    expect(informeesOf(getNode(tx, 0) as ExerciseNode)).toEqual(['alice', 'bob', 'venue']);
  });

  it('reinterprets every node of every transaction, and rejects tampered nodes', async () => {
    for (const committed of run.ledger.transactions)
      expect(await reinterpretEveryNode(engine, committed)).toEqual([]);
    // Each bank validates its view: the projection of the settlement for it.
    for (const bank of ['bank-a', 'bank-b'])
      expect(
        await reinterpretEveryNode(
          engine,
          run.settlement,
          project(run.settlement.transaction, [bank]).transaction,
        ),
      ).toEqual([]);
    const { settlement } = run;
    const store = contractStoreOf(viewInputs(settlement));
    const tampered = async (nodeId: NodeId, change: (n: Node) => Node) => {
      const nodes = new Map(settlement.transaction.nodes);
      nodes.set(nodeId, change(nodes.get(nodeId)!));
      const tx = { ...settlement.transaction, nodes };
      const result = await engine.reinterpret(request(settlement, tx, 0), store);
      return result.matches ? 'match' : result.reason;
    };
    // The receiver of leg A's token changed to alice.
    expect(
      await tampered(3, (n) => {
        const create = n as Extract<Node, { tag: 'Create' }>;
        const arg = create.arg as Extract<typeof create.arg, { kind: 'Record' }>;
        const h = arg.values[0] as Extract<typeof create.arg, { kind: 'Record' }>;
        return {
          ...create,
          arg: {
            ...arg,
            values: [{ ...h, values: [{ kind: 'Party', value: 'alice' }, ...h.values.slice(1)] }],
          },
        };
      }),
    ).toMatch(/^node 3 \(create of Token\): recomputed contract id|^node 3 \(create of Token\): arg differs/);
    // A bank added as an actor, a leg dropped, a different choice result.
    expect(await tampered(2, (n) => ({ ...(n as ExerciseNode), actingParties: ['bank-a'] }))).toMatch(
      /actingParties differs/,
    );
    expect(await tampered(0, (n) => ({ ...(n as ExerciseNode), children: [1, 2] }))).toMatch(
      /recomputed 4 children instead of 2/,
    );
    expect(await tampered(0, (n) => ({ ...(n as ExerciseNode), exerciseResult: { kind: 'Unit' } }))).toMatch(
      /exerciseResult differs/,
    );
    // A wrong seed derives other contract ids.
    const wrongSeed = await engine.reinterpret(
      { ...request(settlement, settlement.transaction, 0), nodeSeed: new Uint8Array(32) },
      store,
    );
    expect(wrongSeed).toMatchObject({
      matches: false,
      reason: expect.stringMatching(/recomputed contract id/),
    });
    // Another ledger time fails the settlement deadline.
    const late = await engine.reinterpret(
      { ...request(settlement, settlement.transaction, 0), ledgerTime: NOW + 3n * HOUR },
      store,
    );
    expect(late).toMatchObject({
      matches: false,
      reason: expect.stringMatching(/raised an exception/),
    });
  });

  it('encodes transactions canonically and decodes them against the package types', () => {
    const decoder = new TransactionDecoder(engine.types);
    for (const committed of run.ledger.transactions) {
      const bytes = encodeTransaction(committed.transaction);
      const decoded = decoder.decodeTransaction(bytes);
      expect(encodeTransaction(decoded)).toEqual(bytes);
      expect(decoded).toEqual(committed.transaction);
    }
  });

  it('is deterministic: the same submissions give byte-identical transactions', async () => {
    const again = await dvp();
    expect(again.ledger.transactions.map((c) => encodeTransaction(c.transaction))).toEqual(
      run.ledger.transactions.map((c) => encodeTransaction(c.transaction)),
    );
    expect(again.settlement.updateId).toBe(run.settlement.updateId);
  });
});

function request(committed: CommittedTransaction, transaction: Transaction, nodeId: NodeId) {
  return {
    transaction,
    nodeId,
    nodeSeed: committed.metadata.nodeSeeds.get(nodeId),
    preparationTime: committed.metadata.preparationTime,
    ledgerTime: committed.metadata.ledgerTime,
  };
}
