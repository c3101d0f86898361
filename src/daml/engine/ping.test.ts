import { beforeAll, describe, expect, it } from 'vitest';
import { PING_DAR } from '../dar/testing.js';
import type { ContractId } from '../values/contract-id.js';
import { parseTimestamp } from '../values/time.js';
import { encodeTransaction } from './codec.js';
import type { Engine } from './engine.js';
import { DamlEngineErrors } from './errors.js';
import { contractStoreOf, InMemoryLedger } from './ledger.js';
import { deriveContractDiscriminator, localContractIdV1 } from './seeds.js';
import { cidOf, failure, json, loadEngine, reinterpretEveryNode } from './testing.js';
import {
  type CreateNode,
  createdContract,
  type ExerciseNode,
  getNode,
  transactionEffects,
} from './transaction.js';

/**
 * The ping DAR (LF 2.2): Canton's `Ping` and the `Bong` family, whose explosion builds a binary tree of
 * contracts over many transactions.
 */

const PING = '#canton-builtin-admin-workflow-ping:Canton.Internal.Ping:Ping';
const BONG = '#canton-builtin-admin-workflow-ping:Canton.Internal.Bong';
const T0 = parseTimestamp('2025-03-01T10:00:00Z')!;
const SEED = new Uint8Array(32).fill(7);

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(PING_DAR);
});

const ping = (id: string, initiator = 'alice', responder = 'bob') => ({
  CreateCommand: { templateId: PING, createArguments: { id, initiator, responder } },
});
const exercise = (templateId: string, contractId: string, choice: string, choiceArgument: unknown = {}) => ({
  ExerciseCommand: { templateId, contractId, choice, choiceArgument },
});

describe('the ping workflow', () => {
  it('creates a Ping, lets the responder respond, and archives it', async () => {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const created = await ledger.submit({ actAs: ['alice'], commands: [ping('p1')] });
    const node = getNode(created.transaction, 0) as CreateNode;
    expect(node).toMatchObject({
      tag: 'Create',
      packageName: 'canton-builtin-admin-workflow-ping',
      signatories: ['alice'],
      stakeholders: ['alice', 'bob'],
    });
    expect(json(node.arg)).toEqual({ id: 'p1', initiator: 'alice', responder: 'bob' });
    expect(ledger.activeContracts(['bob'])).toHaveLength(1);

    const pingId = cidOf(created.results[0]).coid;
    const responded = await ledger.submit({ actAs: ['bob'], commands: [exercise(PING, pingId, 'Respond')] });
    expect(getNode(responded.transaction, 0)).toMatchObject({
      tag: 'Exercise',
      choice: 'Respond',
      consuming: true,
      actingParties: ['bob'],
      signatories: ['alice'],
      stakeholders: ['alice', 'bob'],
      children: [],
    });
    expect(ledger.activeContracts(['alice', 'bob'])).toEqual([]);
    expect(ledger.contract(pingId)?.active).toBe(false);
  });

  it('runs several commands as several roots, and create-and-exercise as two', async () => {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const two = await ledger.submit({ actAs: ['alice'], commands: [ping('a'), ping('b', 'alice', 'carol')] });
    expect(two.transaction.roots).toEqual([0, 1]);
    const both = await ledger.submit({
      actAs: ['bob'],
      commands: [
        {
          CreateAndExerciseCommand: {
            ...ping('c', 'bob', 'bob').CreateCommand,
            choice: 'Respond',
            choiceArgument: {},
          },
        },
      ],
    });
    expect(both.transaction.roots).toEqual([0, 1]);
    expect([...both.transaction.nodes.values()].map((n) => n.tag)).toEqual(['Create', 'Exercise']);
    expect(transactionEffects(both.transaction)).toEqual({ created: [], archived: [] });
  });

  it('derives contract ids from node seeds and is deterministic for a submission seed', async () => {
    const request = {
      actAs: ['alice'],
      commands: [ping('a'), ping('b')],
      ledgerTime: T0,
      submissionSeed: SEED,
      participantId: 'participant1',
    };
    const store = contractStoreOf([]);
    const first = await engine.submit(request, store);
    const second = await engine.submit(request, store);
    expect(encodeTransaction(second.transaction)).toEqual(encodeTransaction(first.transaction));
    expect(second.metadata.nodeSeeds).toEqual(first.metadata.nodeSeeds);
    for (const [id, node] of first.transaction.nodes) {
      const create = node as CreateNode;
      const seed = first.metadata.nodeSeeds.get(id)!;
      expect(create.contractId).toEqual(
        localContractIdV1(deriveContractDiscriminator(seed, T0, create.stakeholders)),
      );
    }
    const other = await engine.submit({ ...request, submissionSeed: new Uint8Array(32) }, store);
    expect(cidOf(other.results[0])).not.toEqual(cidOf(first.results[0]));
    const otherParticipant = await engine.submit({ ...request, participantId: 'participant2' }, store);
    expect(cidOf(otherParticipant.results[0])).not.toEqual(cidOf(first.results[0]));
  });
});

describe('failures', () => {
  it('rejects a create without the signatory authorization, naming the missing party', async () => {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const e = await failure(ledger.submit({ actAs: ['bob'], commands: [ping('p', 'alice', 'bob')] }));
    expect(e.code).toBe(DamlEngineErrors.DAML_AUTHORIZATION_ERROR.code);
    expect(e.message).toMatch(/signatories alice, but alice did not authorize it \(authorizers: bob\)/);
    expect(e.context.missing).toBe('alice');
    expect(ledger.transactions).toHaveLength(0);
  });

  it('rejects an exercise by a party that is not a controller', async () => {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const pingId = cidOf((await ledger.submit({ actAs: ['alice'], commands: [ping('p')] })).results[0]).coid;
    const e = await failure(
      ledger.submit({ actAs: ['alice'], commands: [exercise(PING, pingId, 'Respond')] }),
    );
    expect(e.code).toBe('DAML_AUTHORIZATION_ERROR');
    expect(e.message).toMatch(/controllers bob, but bob did not authorize it/);
    expect(ledger.contract(pingId)?.active).toBe(true);
  });

  it('rejects an archived contract, and a contract consumed earlier in the same transaction', async () => {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const pingId = cidOf((await ledger.submit({ actAs: ['alice'], commands: [ping('p')] })).results[0]).coid;
    const twice = await failure(
      ledger.submit({
        actAs: ['bob'],
        commands: [exercise(PING, pingId, 'Respond'), exercise(PING, pingId, 'Respond')],
      }),
    );
    expect(twice.code).toBe('DAML_CONTRACT_NOT_ACTIVE');
    expect(twice.message).toMatch(/consumed by node 0 earlier in this transaction/);
    await ledger.submit({ actAs: ['bob'], commands: [exercise(PING, pingId, 'Respond')] });
    const archived = await failure(
      ledger.submit({ actAs: ['bob'], commands: [exercise(PING, pingId, 'Respond')] }),
    );
    expect(archived.code).toBe('DAML_CONTRACT_NOT_ACTIVE');
    expect(archived.message).toMatch(/is archived/);
  });

  it('does not let a party use a contract it cannot see', async () => {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const pingId = cidOf((await ledger.submit({ actAs: ['alice'], commands: [ping('p')] })).results[0]).coid;
    const e = await failure(
      ledger.submit({
        actAs: ['carol'],
        commands: [exercise(PING, pingId, 'AbortPing', { anyone: 'carol' })],
      }),
    );
    expect(e.code).toBe('DAML_CONTRACT_NOT_FOUND');
    // The same choice works once carol may read alice's contracts: any party can abort a ping.
    await ledger.submit({
      actAs: ['carol'],
      readAs: ['alice'],
      commands: [exercise(PING, pingId, 'AbortPing', { anyone: 'carol' })],
    });
    expect(ledger.contract(pingId)?.active).toBe(false);
  });

  it('rejects ill-typed arguments, naming the field', async () => {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const e = await failure(
      ledger.submit({
        actAs: ['alice'],
        commands: [{ CreateCommand: { templateId: PING, createArguments: { id: 'p', initiator: 'alice' } } }],
      }),
    );
    expect(e.code).toBe('DAML_COMMAND_INVALID');
    expect(e.message).toBe('commands[0].createArguments.responder: missing field of type Party');
    const unknown = await failure(
      ledger.submit({ actAs: ['alice'], commands: [exercise(PING, `00${'1'.repeat(64)}ca`, 'Pong')] }),
    );
    expect(unknown.message).toMatch(
      /commands\[0\]\.choice: template .*:Canton.Internal.Ping:Ping has no choice Pong/,
    );
  });
});

describe('the host interface', () => {
  it('accepts template ids by package id, and contract lookups answered asynchronously', async () => {
    const pkg = engine.packages.preferredPackageId('canton-builtin-admin-workflow-ping')!;
    const byId = `${pkg}:Canton.Internal.Ping:Ping`;
    const created = await engine.submit(
      {
        actAs: ['alice'],
        commands: [
          {
            CreateCommand: {
              templateId: byId,
              createArguments: { id: 'p', initiator: 'alice', responder: 'bob' },
            },
          },
        ],
        ledgerTime: T0,
        submissionSeed: SEED,
        participantId: 'p',
      },
      contractStoreOf([]),
    );
    const contract = createdContract(getNode(created.transaction, 0) as CreateNode);
    const suffixed = {
      ...contract,
      contractId: { ...contract.contractId, coid: `${contract.contractId.coid}ca01`, suffix: 'ca01' },
    };
    const sync = contractStoreOf([suffixed]);
    const slow = { lookupContract: (cid: ContractId) => Promise.resolve(sync.lookupContract(cid)) };
    const responded = await engine.submit(
      {
        actAs: ['bob'],
        commands: [exercise(byId, suffixed.contractId.coid, 'Respond')],
        ledgerTime: T0,
        submissionSeed: SEED,
        participantId: 'p',
      },
      slow,
    );
    expect(responded.metadata.inputContracts).toEqual([suffixed]);
    // A stored contract whose metadata does not match what its template computes is refused.
    const forged = contractStoreOf([{ ...suffixed, signatories: ['bob'], stakeholders: ['alice', 'bob'] }]);
    const e = await failure(
      engine.submit(
        {
          actAs: ['bob'],
          commands: [exercise(byId, suffixed.contractId.coid, 'Respond')],
          ledgerTime: T0,
          submissionSeed: SEED,
          participantId: 'p',
        },
        forged,
      ),
    );
    expect(e.code).toBe('DAML_CONTRACT_METADATA_MISMATCH');
  });

  it('requires submitters and known packages in the preference', async () => {
    const request = { commands: [ping('p')], ledgerTime: T0, submissionSeed: SEED, participantId: 'p' };
    expect((await failure(engine.submit({ ...request, actAs: [] }, contractStoreOf([])))).message).toBe(
      'actAs: at least one party must submit',
    );
    expect(
      (
        await failure(
          engine.submit({ ...request, actAs: ['alice'], packagePreference: ['00'] }, contractStoreOf([])),
        )
      ).message,
    ).toBe('packagePreference: unknown package 00');
  });
});

describe('a Bong explosion', () => {
  /** Plays the whole Bong workflow with `levels` levels; returns the ledger. */
  async function explode(levels: number): Promise<InMemoryLedger> {
    const ledger = new InMemoryLedger(engine, { time: T0 });
    const proposal = await ledger.submit({
      actAs: ['alice'],
      commands: [
        {
          CreateCommand: {
            templateId: `${BONG}:BongProposal`,
            createArguments: {
              id: 'b1',
              initiator: 'alice',
              candidates: ['alice'],
              validators: [],
              responders: ['bob'],
              maxLevel: String(levels),
              timeout: '2025-03-01T11:00:00Z',
            },
          },
        },
      ],
    });
    const accepted = await ledger.submit({
      actAs: ['alice'],
      commands: [
        exercise(`${BONG}:BongProposal`, cidOf(proposal.results[0]).coid, 'Accept', { validator: 'alice' }),
      ],
    });
    expect(json(accepted.results[0]).tag).toBe('Right');
    const active = (template: string) =>
      ledger
        .activeContracts(['bob'])
        .filter((c) => c.templateId.name.join('.') === template)
        .map((c) => ({ cid: c.contractId.coid, path: json(c.arg).path as string }));
    // Explode until every branch reached the last level, then merge the deepest paths first.
    for (let explodes = active('Explode'); explodes.length > 0; explodes = active('Explode'))
      for (const { cid } of explodes)
        await ledger.submit({
          actAs: ['bob'],
          commands: [exercise(`${BONG}:Explode`, cid, 'ProcessExplode', { winner: 'bob' })],
        });
    for (;;) {
      const merge = active('Merge').sort((a, b) => b.path.length - a.path.length)[0];
      if (merge === undefined) break;
      const [left, right] = active('Collapse').filter((c) => c.path === merge.path);
      await ledger.submit({
        actAs: ['bob'],
        commands: [
          exercise(`${BONG}:Merge`, merge.cid, 'ProcessMerge', {
            winner: 'bob',
            leftId: left!.cid,
            rightId: right!.cid,
          }),
        ],
      });
    }
    return ledger;
  }

  it('explodes into a binary tree of contracts and collapses into one Bong', async () => {
    const levels = 5;
    const ledger = await explode(levels);
    // 2 setup transactions, 2^levels - 1 explodes and as many merges.
    expect(ledger.transactions).toHaveLength(2 + 2 * (2 ** levels - 1));
    const active = ledger.activeContracts(['alice', 'bob']);
    expect(active.map((c) => c.templateId.name.join('.'))).toEqual(['Bong']);
    expect(json(active[0]!.arg)).toMatchObject({
      initiator: 'alice',
      responder: 'bob',
      validators: ['alice'],
    });
    const merge = ledger.transactions.at(-1)!;
    expect([...merge.transaction.nodes.values()].map((n) => n.tag)).toEqual([
      'Exercise',
      'Fetch',
      'Fetch',
      'Exercise',
      'Exercise',
      'Create',
    ]);
    expect((getNode(merge.transaction, 0) as ExerciseNode).children).toEqual([1, 2, 3, 4, 5]);
  });

  it('reinterprets every action of every transaction to the same result', async () => {
    const ledger = await explode(3);
    for (const committed of ledger.transactions)
      expect(await reinterpretEveryNode(engine, committed)).toEqual([]);
  });
});
