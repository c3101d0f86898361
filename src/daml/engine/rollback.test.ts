import { beforeAll, describe, expect, it } from 'vitest';
import { PING_DAR } from '../dar/testing.js';
import type { Expr, Identifier, Type } from '../lf/ast.js';
import { parseTimestamp } from '../values/time.js';
import type { Value } from '../values/value.js';
import { TransactionBuilder } from './builder.js';
import type { Engine } from './engine.js';
import { contractStoreOf, InMemoryLedger } from './ledger.js';
import { deriveNodeSeed, deriveTransactionSeed } from './seeds.js';
import { cidOf, loadEngine } from './testing.js';
import { type ExerciseNode, forEachNode, getNode, type Node, type Transaction } from './transaction.js';

/**
 * Exceptions handled by Daml code become Rollback nodes: their actions are kept for the informees but undone for
 * the ledger. The tree is normalized as the reference engine does, node seeds keep counting across rollbacks, and
 * reinterpretation of rolled-back actions (complete or aborted) matches.
 */

const BONG = '#canton-builtin-admin-workflow-ping:Canton.Internal.Bong';
const PING = '#canton-builtin-admin-workflow-ping:Canton.Internal.Ping:Ping';
const NOW = parseTimestamp('2025-03-01T10:00:00Z')!;
const SEED = new Uint8Array(32).fill(3);

let engine: Engine;
let Ping: Identifier;
let BongProposal: Identifier;
/** `seq a b`: runs Update `a`, then Update `b`. */
let seq: (a: Value, b: Value) => Value;
beforeAll(() => {
  engine = loadEngine(PING_DAR);
  Ping = engine.packages.parseRef(PING);
  BongProposal = engine.packages.parseRef(`${BONG}:BongProposal`);
  const unit: Type = { tag: 'Builtin', builtin: 'UNIT', args: [] };
  const v = (name: string): Expr => ({ tag: 'Var', name });
  const fn = engine.interpreter.evaluate({
    tag: 'Abs',
    params: [
      { name: 'a', type: unit },
      { name: 'b', type: unit },
    ],
    body: {
      tag: 'Update',
      update: { tag: 'Block', bindings: [{ binder: 'ignored', type: unit, bound: v('a') }], body: v('b') },
    },
  });
  seq = (a, b) => engine.interpreter.apply(fn, [a, b]);
});

const nodes = (tx: Transaction): string[] => {
  const out: string[] = [];
  forEachNode(tx, (id, n, rolledBack) => {
    out.push(`${id}:${label(n)}${rolledBack ? ' (rolled back)' : ''}`);
  });
  return out;
};
const label = (n: Node): string =>
  n.tag === 'Exercise'
    ? `exercise ${n.choice}${n.exerciseResult === undefined ? ' aborted' : ''}`
    : n.tag === 'Rollback'
      ? `rollback [${n.children.join(',')}]`
      : `${n.tag.toLowerCase()} ${n.templateId.name.join('.')}`;

/** A ledger with alice's BongProposal for candidate alice (an Accept by bob fails its assertion). */
async function proposal() {
  const ledger = new InMemoryLedger(engine, { time: NOW });
  const r = await ledger.submit({
    actAs: ['alice'],
    commands: [
      {
        CreateCommand: {
          templateId: `${BONG}:BongProposal`,
          createArguments: {
            id: 'b',
            initiator: 'alice',
            candidates: ['alice'],
            validators: [],
            responders: ['bob'],
            maxLevel: '1',
            timeout: '2025-03-01T11:00:00Z',
          },
        },
      },
    ],
  });
  return { ledger, cid: cidOf(r.results[0]) };
}

const accept = (validator: string) => engine.translator.fromJson({ validator }, acceptType(), 'arg');
const acceptType = (): Type => ({ tag: 'Con', tycon: { ...BongProposal, name: ['Accept'] }, args: [] });

describe('handled exceptions', () => {
  it('roll back an aborted exercise, whose consumption is undone', async () => {
    const { ledger, cid } = await proposal();
    const i = engine.interpreter;
    const failing = engine.catching(i.exerciseCommand(BongProposal, cid, 'Accept', accept('bob')));
    const succeeding = i.exerciseCommand(BongProposal, cid, 'Accept', accept('alice'));
    const seed = deriveTransactionSeed(SEED, 'p', NOW);
    const result = await engine.run([failing, succeeding], ledger.store(['alice']), {
      committers: ['alice', 'bob'],
      seeding: { kind: 'transaction', seed },
      preparationTime: NOW,
      ledgerTime: NOW,
    });
    const tx = result.transaction;
    expect(nodes(tx)).toEqual([
      '0:rollback [1]',
      '1:exercise Accept aborted (rolled back)',
      '2:exercise Accept',
      '3:create Explode',
    ]);
    expect(getNode(tx, 1)).toMatchObject({ actingParties: ['bob'], consuming: true, children: [] });
    // The rolled-back exercise was the first action child of the root, the successful one the second.
    expect(result.metadata.nodeSeeds.get(1)).toEqual(deriveNodeSeed(seed, 0));
    expect(result.metadata.nodeSeeds.get(2)).toEqual(deriveNodeSeed(seed, 1));
    expect(result.metadata.nodeSeeds.has(0)).toBe(false);

    // Both exercises reinterpret to what was recorded, the aborted one through the reinterpretation catch-all.
    for (const nodeId of [1, 2]) {
      const r = await engine.reinterpret(
        {
          transaction: tx,
          nodeId,
          nodeSeed: result.metadata.nodeSeeds.get(nodeId),
          preparationTime: NOW,
          ledgerTime: NOW,
        },
        ledger.store(['alice']),
      );
      expect(r.matches ? 'match' : r.reason).toBe('match');
    }
    // Claiming that the aborted exercise completed is caught.
    const forged = new Map(tx.nodes);
    forged.set(1, { ...(getNode(tx, 1) as ExerciseNode), exerciseResult: { kind: 'Unit' } });
    const r = await engine.reinterpret(
      {
        transaction: { ...tx, nodes: forged },
        nodeId: 1,
        nodeSeed: result.metadata.nodeSeeds.get(1),
        preparationTime: NOW,
        ledgerTime: NOW,
      },
      ledger.store(['alice']),
    );
    expect(r).toMatchObject({ matches: false, reason: expect.stringMatching(/exerciseResult differs/) });
  });

  it('keep completed actions under the rollback when a later action throws', async () => {
    const { ledger, cid } = await proposal();
    const i = engine.interpreter;
    const ping = engine.translator.fromJson(
      { id: 'p', initiator: 'alice', responder: 'bob' },
      tcon(Ping),
      'arg',
    );
    const update = engine.catching(
      seq(i.createCommand(Ping, ping), i.exerciseCommand(BongProposal, cid, 'Accept', accept('bob'))),
    );
    const result = await engine.run([update], ledger.store(['alice']), {
      committers: ['alice', 'bob'],
      seeding: { kind: 'transaction', seed: SEED },
      preparationTime: NOW,
      ledgerTime: NOW,
    });
    expect(nodes(result.transaction)).toEqual([
      '0:rollback [1,2]',
      '1:create Ping (rolled back)',
      '2:exercise Accept aborted (rolled back)',
    ]);
    const store = contractStoreOf([]);
    const r = await engine.reinterpret(
      {
        transaction: result.transaction,
        nodeId: 1,
        nodeSeed: result.metadata.nodeSeeds.get(1),
        preparationTime: NOW,
        ledgerTime: NOW,
      },
      store,
    );
    expect(r.matches).toBe(true);
  });
});

const tcon = (tycon: Identifier): Type => ({ tag: 'Con', tycon, args: [] });

describe('the transaction builder', () => {
  function builder(committers = ['alice']) {
    return new TransactionBuilder({
      packages: engine.packages,
      contracts: contractStoreOf([]),
      committers,
      seeding: { kind: 'transaction', seed: SEED },
      preparationTime: NOW,
      ledgerTime: NOW,
    });
  }
  const create = (b: TransactionBuilder, id: string) =>
    b.create({
      templateId: Ping,
      arg: engine.translator.fromJson({ id, initiator: 'alice', responder: 'bob' }, tcon(Ping), 'arg'),
      signatories: ['alice'],
      observers: ['bob'],
    });
  const shape = (b: TransactionBuilder) => nodes(b.finish().transaction);

  it('normalizes rollbacks as the reference engine does', () => {
    // ROLL [] → nothing
    let b = builder();
    b.beginTry();
    b.rollbackTry();
    expect(shape(b)).toEqual([]);
    // ROLL [ROLL [a], b] → ROLL [a], ROLL [b]
    b = builder();
    b.beginTry();
    b.beginTry();
    create(b, 'a');
    b.rollbackTry();
    create(b, 'b');
    b.rollbackTry();
    expect(shape(b)).toEqual([
      '0:rollback [1]',
      '1:create Ping (rolled back)',
      '2:rollback [3]',
      '3:create Ping (rolled back)',
    ]);
    // ROLL [a, ROLL [b]] → ROLL [a, b]; ROLL [ROLL [a]] → ROLL [a]
    b = builder();
    b.beginTry();
    create(b, 'a');
    b.beginTry();
    create(b, 'b');
    b.rollbackTry();
    b.rollbackTry();
    b.beginTry();
    b.beginTry();
    create(b, 'c');
    b.rollbackTry();
    b.rollbackTry();
    expect(shape(b)).toEqual([
      '0:rollback [1,2]',
      '1:create Ping (rolled back)',
      '2:create Ping (rolled back)',
      '3:rollback [4]',
      '4:create Ping (rolled back)',
    ]);
    // A try that completes leaves its actions in place.
    b = builder();
    b.beginTry();
    create(b, 'a');
    b.endTry();
    expect(shape(b)).toEqual(['0:create Ping']);
  });

  it('forgets contracts created in a rolled-back scope', () => {
    const b = builder();
    b.beginTry();
    const cid = create(b, 'a');
    expect(b.lookupContract(cid)).toMatchObject({ templateId: Ping });
    b.rollbackTry();
    expect(() => b.lookupContract(cid)).toThrow(/rolled back/);
  });

  it('narrows the time bounds with ledgerTimeLT and pins them with getTime', () => {
    const b = builder();
    expect(b.ledgerTimeLt(NOW + 10n)).toBe(true);
    expect(b.ledgerTimeLt(NOW - 10n)).toBe(false);
    expect(b.finish().metadata).toMatchObject({
      timeBounds: { min: NOW - 10n, max: NOW + 9n },
      dependsOnTime: true,
    });
    const pinned = builder();
    pinned.ledgerTimeLt(NOW + 10n);
    expect(pinned.getTime()).toBe(NOW);
    expect(pinned.finish().metadata.timeBounds).toEqual({ min: NOW, max: NOW });
    expect(builder().finish().metadata).toMatchObject({
      timeBounds: { min: undefined, max: undefined },
      dependsOnTime: false,
    });
  });

  it('requires a signatory', () => {
    const b = builder();
    expect(() =>
      b.create({ templateId: Ping, arg: { kind: 'Unit' }, signatories: [], observers: [] }),
    ).toThrow(/a contract needs a signatory/);
  });
});
