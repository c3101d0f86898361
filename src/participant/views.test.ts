import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../daml/dar/testing.js';
import { loadEngine } from '../daml/engine/testing.js';
import {
  createdContract,
  type Engine,
  encodeTransaction,
  forEachNode,
  informeesOf,
  type Node,
  type NodeId,
  project,
  type Transaction,
  TransactionDecoder,
} from '../daml/index.js';
import { isWeftError } from '../errors/index.js';
import { ProtocolErrors } from '../protocol/index.js';
import { decodeContract, encodeContract, isAuthentic } from './contracts.js';
import { ModelLedger, type ModelSubmission, tokenCommands } from './testing.js';
import {
  assembleViews,
  decodeViewData,
  encodeViewData,
  flattenViews,
  type PlannedView,
  planViews,
  type ReceivedView,
  receivedViewOf,
} from './views.js';

const NOW = 1_750_000_000_000_000n;

let engine: Engine;
let ledger: ModelLedger;
let offer: ModelSubmission;
let accept: ModelSubmission;

beforeAll(async () => {
  engine = loadEngine(TOKEN_DAR);
  ledger = new ModelLedger(engine, NOW);
  const rules = (await ledger.submit(['admin'], [tokenCommands.rules('admin')])).created(0);
  const token = (
    await ledger.submit(['admin', 'alice'], [tokenCommands.mint('admin', 'alice', '100.0')])
  ).created(0);
  offer = await ledger.submit(
    ['alice'],
    [
      tokenCommands.offer({
        rules,
        admin: 'admin',
        sender: 'alice',
        receiver: 'bob',
        amount: '30.0',
        inputs: [token],
      }),
    ],
  );
  accept = await ledger.submit(
    ['bob'],
    [tokenCommands.instruction(offer.created(4), 'TransferInstruction_Accept')],
  );
});

const plan = (s: typeof offer) => planViews(s.tx, s.metadata.nodeSeeds, s.metadata.inputContracts, NOW);

/** The views a participant hosting `parties` receives: those with one of them among their or an ancestor's informees. */
function receivedBy(views: readonly PlannedView[], parties: readonly string[]): ReceivedView[] {
  const out: ReceivedView[] = [];
  const walk = (v: PlannedView, above: boolean) => {
    const sees = above || v.informees.some((p) => parties.includes(p));
    if (sees) {
      out.push({
        ...receivedViewOf(v),
        data: decodeViewData(encodeViewData(v.data), new TransactionDecoder(engine.types), () => {}, 'view'),
      });
    }
    for (const s of v.subviews) walk(s, sees);
  };
  for (const v of views) walk(v, false);
  return out;
}

const encoded = (tx: Transaction) => Buffer.from(encodeTransaction(tx)).toString('hex');

function expectMalformed(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isWeftError(e, ProtocolErrors.PROTOCOL_MESSAGE_MALFORMED)).toBe(true);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected PROTOCOL_MESSAGE_MALFORMED');
}

describe('contract ids', () => {
  it('bind a contract to its content and creation time', () => {
    const created = offer.tx.nodes.get(3) as Extract<Node, { tag: 'Create' }>;
    const contract = createdContract(created, NOW);
    expect(created.contractId.suffix).toMatch(/^ca[0-9a-f]{64}$/);
    expect(isAuthentic(contract)).toBe(true);
    expect(isAuthentic({ ...contract, createdAt: NOW + 1n })).toBe(false);
    expect(isAuthentic({ ...contract, signatories: ['admin'] })).toBe(false);
    expect(isAuthentic({ ...contract, stakeholders: ['admin', 'alice', 'mallory'] })).toBe(false);
    const decoded = decodeContract(encodeContract(contract), new TransactionDecoder(engine.types));
    expect(decoded).toEqual(contract);
  });

  it('carry the absolute ids of earlier contracts in later arguments (each node is authentic)', () => {
    for (const s of [offer, accept]) {
      forEachNode(s.tx, (_id, node) => {
        if (node.tag === 'Create') expect(isAuthentic(createdContract(node, NOW))).toBe(true);
      });
    }
  });
});

describe('views', () => {
  it('split a transfer offer into the sender view and the offer the receiver sees', () => {
    const views = plan(offer);
    expect(views).toHaveLength(1);
    const [root] = views;
    expect(root!.informees).toEqual(['admin', 'alice']);
    expect([...root!.data.nodes.keys()]).toEqual([0, 1, 2, 3]);
    expect(root!.data.subviewRoots).toEqual([4]);
    expect(root!.data.inputs.map((c) => c.templateId.name.join('.')).sort()).toEqual(['Token', 'TokenRules']);
    expect(root!.data.rootSeed).toHaveLength(32);
    const [sub] = root!.subviews;
    expect(sub!.informees).toEqual(['admin', 'alice', 'bob']);
    expect(sub!.confirmingParties).toEqual(['admin', 'alice']);
    expect(sub!.data.inputs).toEqual([]);
  });

  it('put every node into exactly one view, with the informees the view declares', () => {
    for (const s of [offer, accept]) {
      const all = flattenViews(plan(s));
      const ids = all.flatMap((v) => [...v.data.nodes.keys()]);
      expect(ids.sort((a, b) => a - b)).toEqual([...s.tx.nodes.keys()].sort((a, b) => a - b));
      for (const v of all) {
        for (const n of v.data.nodes.values())
          if (n.tag !== 'Rollback') expect(informeesOf(n)).toEqual(v.informees);
      }
    }
  });

  it('encode and decode their participant data exactly', () => {
    const decoder = new TransactionDecoder(engine.types);
    for (const v of flattenViews(plan(accept))) {
      const bytes = encodeViewData(v.data);
      expect(decodeViewData(bytes, decoder, () => {}, 'view')).toEqual(v.data);
      expectMalformed(
        () => decodeViewData(bytes.subarray(0, bytes.length - 1), decoder, () => {}, 'view'),
        /premature EOF/,
      );
      // Field 15, varint 1: what is hashed must be fully understood, so unknown fields are refused.
      expectMalformed(
        () => decodeViewData(Buffer.concat([bytes, Uint8Array.of(15 << 3, 1)]), decoder, () => {}, 'view'),
        /unknown field 15/i,
      );
      expect(() =>
        decodeViewData(
          bytes,
          decoder,
          () => {
            throw new Error('package check');
          },
          'view',
        ),
      ).toThrow(/package check/);
    }
  });

  it('fit together into each party’s projection of the whole transaction', () => {
    for (const s of [offer, accept]) {
      const views = plan(s);
      for (const party of ['admin', 'alice', 'bob', 'carol']) {
        const assembled = assembleViews(receivedBy(views, [party]));
        expect(encoded(project(assembled.transaction, [party]).transaction)).toBe(
          encoded(project(s.tx, [party]).transaction),
        );
        expect(project(assembled.transaction, [party]).divulged).toEqual(project(s.tx, [party]).divulged);
      }
      // A participant hosting every party sees the whole transaction.
      expect(encoded(assembleViews(receivedBy(views, ['admin', 'alice', 'bob'])).transaction)).toBe(
        encoded(s.tx),
      );
    }
  });

  it('keep rollback scopes above views, also across views the reader does not see', () => {
    // The offer with its subview (node 4) moved under a Rollback node 9 inside the root view.
    const nodes = new Map(offer.tx.nodes);
    const root = nodes.get(0) as Extract<Node, { tag: 'Exercise' }>;
    nodes.set(0, { ...root, children: [1, 2, 3, 9] });
    nodes.set(9, { tag: 'Rollback', children: [4] });
    const tx: Transaction = { ...offer.tx, nodes };
    const views = planViews(tx, offer.metadata.nodeSeeds, offer.metadata.inputContracts, NOW);
    const sub = views[0]!.subviews[0]!;
    expect(sub.data.rollbackScope).toEqual([9]);
    expect([...views[0]!.data.nodes.keys()]).toEqual([0, 1, 2, 3, 9]);
    const bob = assembleViews(receivedBy(views, ['bob']));
    expect(bob.transaction.roots).toEqual([9]);
    expect(encoded(project(bob.transaction, ['bob']).transaction)).toBe(
      encoded(project(tx, ['bob']).transaction),
    );
    expect(encoded(assembleViews(receivedBy(views, ['alice'])).transaction)).toBe(encoded(tx));
  });

  it('refuse views that do not fit', () => {
    const views = plan(offer);
    const all = receivedBy(views, ['alice']);
    expectMalformed(() => assembleViews(all.slice(0, 1)), /subview 0 of view 0 was not received/);
    const [root, sub] = all as [ReceivedView, ReceivedView];
    expectMalformed(
      () => assembleViews([root, { ...sub, informees: ['admin', 'alice', 'carol'] }]),
      /other informees than the view declares/,
    );
    expectMalformed(
      () => assembleViews([{ ...root, subviewCount: 2 }, sub]),
      /names 1 subviews, the Merkle tree has 2/,
    );
    const stolen = new Map<NodeId, Node>([...sub.data.nodes, [3, root.data.nodes.get(3)!]]);
    expectMalformed(
      () => assembleViews([root, { ...sub, data: { ...sub.data, nodes: stolen } }]),
      /does not reach|twice/,
    );
    expectMalformed(
      () => assembleViews([root, { ...sub, data: { ...sub.data, rollbackScope: [7] } }]),
      /another rollback scope/,
    );
  });
});
