import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { eventually } from '../../src/mediator/testing.js';
import {
  type Completion,
  ParticipantErrors,
  type ParticipantNode,
  type SubmitRequest,
} from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  type StartedParticipant,
  tokenCommands,
} from '../../src/participant/testing.js';
import { failure, succeeded } from './expect.js';

/**
 * Two synchronizers (each its own sequencer and mediator) and two participants connected to both at once, as the
 * seed's user of several applications: routing by input contracts and by hosting, contracts used only where they
 * are assigned, one offset sequence across synchronizers, and a restart that resumes on both.
 */

let netA: ParticipantTestNetwork;
let netB: ParticipantTestNetwork;
let p1: StartedParticipant;
let p2: ParticipantNode;
let syncA: string;
let syncB: string;
let admin: string;
let alice: string;
/** Hosted on p2 on synchronizer B only. */
let carol: string;
let n = 0;

const cmdId = (what: string) => `${what}-${n++}`;

async function submit(node: ParticipantNode, r: Omit<SubmitRequest, 'commandId'>): Promise<Completion> {
  return succeeded(await node.submit({ ...r, commandId: cmdId('cmd') }));
}

/** The contract id of the first `template` `party` sees created by `updateId`. */
async function createdBy(node: ParticipantNode, party: string, c: Completion, template: string) {
  const update = (await node.updatesUpTo(party)).find((u) => u.updateId === c.updateId);
  const e = update?.events.find((x) => x.kind === 'created' && x.templateId.name.join('.') === template);
  if (e?.kind !== 'created') throw new Error(`no ${template} created by ${c.updateId}`);
  return e.contractId;
}

beforeAll(async () => {
  // Two independent synchronizers; their ids sort A < B so that routing by hosting must skip the first.
  const nets = [
    await participantTestNetwork({ seed: 'multi-sync-one' }),
    await participantTestNetwork({ seed: 'multi-sync-two' }),
  ].sort((x, y) => (x.sync.synchronizerId < y.sync.synchronizerId ? -1 : 1));
  [netA, netB] = nets as [ParticipantTestNetwork, ParticipantTestNetwork];
  syncA = netA.sync.synchronizerId;
  syncB = netB.sync.synchronizerId;
  p1 = await netA.startParticipant('p1');
  await p1.node.connect({ synchronizerId: syncB, endpoints: netB.endpoints, maxBackoffMs: 200 });
  p2 = (await netA.startParticipant('p2')).node;
  await p2.connect({ synchronizerId: syncB, endpoints: netB.endpoints, maxBackoffMs: 200 });
  for (const p of [p1.node, p2]) await p.uploadDar(readFileSync(TOKEN_DAR));
  admin = await p1.node.allocateParty('admin', { synchronizerId: syncA });
  await p1.node.allocateParty('admin', { synchronizerId: syncB });
  alice = await p1.node.allocateParty('alice', { synchronizerId: syncA });
  await p1.node.allocateParty('alice', { synchronizerId: syncB });
  carol = await p2.allocateParty('carol', { synchronizerId: syncB });
}, 120_000);

afterAll(async () => {
  await netB?.close();
  await netA?.close();
});

describe('a participant connected to two synchronizers', () => {
  it('is connected to both and hosts its parties where they were allocated', () => {
    expect(p1.node.synchronizerIds).toEqual([syncA, syncB]);
    expect(p1.node.readiness()).toBeUndefined();
    const hosted = Object.fromEntries(p1.node.parties().map((p) => [p.party, p.synchronizerIds]));
    expect(hosted[alice]).toEqual([syncA, syncB]);
    expect(p2.parties().find((p) => p.party === carol)?.synchronizerIds).toEqual([syncB]);
  });

  it('needs the synchronizer named where the choice is ambiguous', async () => {
    const e = await failure(p1.node.allocateParty('dave'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(syncA);
    expect(p1.node.topology()).toBeUndefined();
    expect(p1.node.topology(syncB)?.synchronizerId.toString()).toBe(syncB);
  });

  it('routes a transaction without inputs to the first synchronizer where its parties are hosted', async () => {
    // Both synchronizers host admin and alice: the first by id.
    const onA = await submit(p1.node, {
      actAs: [admin, alice],
      commands: [tokenCommands.mint(admin, alice, '10')],
    });
    expect(onA.synchronizerId).toBe(syncA);
    // carol is hosted on B only: routing skips A.
    const onB = await submit(p2, { actAs: [carol], commands: [tokenCommands.mint(carol, carol, '5')] });
    expect(onB.synchronizerId).toBe(syncB);
    expect((await p2.activeContracts(carol)).contracts.map((c) => c.synchronizerId)).toEqual([syncB]);
    // Naming A fails before anything is sent: carol has no participant there.
    const e = await failure(
      p2.submit({
        actAs: [carol],
        commands: [tokenCommands.mint(carol, carol, '1')],
        commandId: cmdId('explicit'),
        synchronizerId: syncA,
      }),
    );
    expect(e.code).toBe(ParticipantErrors.SUBMITTER_NOT_HOSTED.code);
  });

  it('routes by the informees: a ping to a participant connected to the second synchronizer only', async () => {
    const p3 = await netB.startParticipant('p3');
    expect(p3.node.synchronizerIds).toEqual([syncB]);
    // p1's admin party is hosted on both; p3's only on B, so the Ping contract can only go there.
    expect(await p1.node.ping(p3.node.id)).toBeGreaterThan(0);
    const pings = (await p1.node.updatesUpTo(String(p1.node.adminParty))).filter((u) =>
      u.events.some((e) => e.kind === 'created' && e.templateId.name.join('.') === 'Ping'),
    );
    expect(pings.at(-1)?.synchronizerId).toBe(syncB);
  });

  it('uses a contract on the synchronizer it is assigned to, and nowhere else', async () => {
    const rulesOnB = await createdBy(
      p1.node,
      admin,
      await submit(p1.node, {
        actAs: [admin],
        commands: [tokenCommands.rules(admin)],
        synchronizerId: syncB,
      }),
      'TokenRules',
    );
    const mint = await submit(p1.node, {
      actAs: [admin, alice],
      commands: [tokenCommands.mint(admin, alice, '7')],
      synchronizerId: syncB,
    });
    const holding = await createdBy(p1.node, alice, mint, 'Token');
    // Routed by its inputs to B, without naming it.
    const offer = await submit(p1.node, {
      actAs: [alice],
      readAs: [admin],
      commands: [
        tokenCommands.offer({
          rules: rulesOnB,
          admin,
          sender: alice,
          receiver: carol,
          amount: '3',
          inputs: [holding],
        }),
      ],
    });
    expect(offer.synchronizerId).toBe(syncB);
    const instruction = await createdBy(p1.node, alice, offer, 'TokenTransferOffer');
    const accept = await submit(p2, {
      actAs: [carol],
      commands: [tokenCommands.instruction(instruction, 'TransferInstruction_Accept')],
    });
    expect(accept.synchronizerId).toBe(syncB);
    // A contract of B named for A: refused before sending.
    const holdingOnB = await createdBy(
      p1.node,
      alice,
      await submit(p1.node, {
        actAs: [admin, alice],
        commands: [tokenCommands.mint(admin, alice, '2')],
        synchronizerId: syncB,
      }),
      'Token',
    );
    const offerWith = (rules: string, commandId: string, synchronizerId?: string) =>
      failure(
        p1.node.submit({
          actAs: [alice],
          readAs: [admin],
          commandId: cmdId(commandId),
          ...(synchronizerId ? { synchronizerId } : {}),
          commands: [
            tokenCommands.offer({
              rules,
              admin,
              sender: alice,
              receiver: carol,
              amount: '1',
              inputs: [holdingOnB],
            }),
          ],
        }),
      );
    const wrong = await offerWith(rulesOnB, 'wrong-sync', syncA);
    expect(wrong.code).toBe(ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION.code);
    // Contracts of two synchronizers in one transaction: no reassignment, so no synchronizer can take it.
    const rulesOnA = await createdBy(
      p1.node,
      admin,
      await submit(p1.node, {
        actAs: [admin],
        commands: [tokenCommands.rules(admin)],
        synchronizerId: syncA,
      }),
      'TokenRules',
    );
    const mixed = await offerWith(rulesOnA, 'mixed');
    expect(mixed.code).toBe(ParticipantErrors.NO_SYNCHRONIZER_FOR_SUBMISSION.code);
    expect(mixed.message).toContain(syncA);
    expect(mixed.message).toContain(syncB);
  });

  it('pings over either synchronizer', async () => {
    expect(await p1.node.ping(p2.id)).toBeGreaterThan(0);
  });

  it('gives the updates of both synchronizers one offset sequence', async () => {
    const updates = await p1.node.updatesUpTo(admin);
    const offsets = updates.map((u) => u.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(new Set(updates.map((u) => u.synchronizerId))).toEqual(new Set([syncA, syncB]));
  });

  it('resumes on both synchronizers after a restart, and keeps working on one after disconnecting the other', async () => {
    const before = await p1.node.activeContracts(alice);
    await netA.stopParticipant(p1);
    p1 = await netA.startParticipant('p1', { config: p1.config });
    await p1.node.connect({ synchronizerId: syncB, endpoints: netB.endpoints, maxBackoffMs: 200 });
    const after = await p1.node.activeContracts(alice);
    expect(after.contracts.map((c) => [c.contract.contractId.coid, c.synchronizerId])).toEqual(
      before.contracts.map((c) => [c.contract.contractId.coid, c.synchronizerId]),
    );
    // Work on both after the restart.
    const mint = (synchronizerId?: string) =>
      p1.node.submit({
        actAs: [admin, alice],
        commands: [tokenCommands.mint(admin, alice, '1')],
        commandId: cmdId('after-restart'),
        ...(synchronizerId ? { synchronizerId } : {}),
      });
    expect(succeeded(await mint(syncA)).synchronizerId).toBe(syncA);
    expect(succeeded(await mint(syncB)).synchronizerId).toBe(syncB);
    await p1.node.disconnect(syncB);
    expect(p1.node.synchronizerIds).toEqual([syncA]);
    expect((await failure(mint(syncB))).code).toBe(ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER.code);
    expect(succeeded(await mint()).synchronizerId).toBe(syncA);
  });

  it('fails the submissions in flight on a synchronizer it disconnects from, freeing their slots; reconnected, completes them', async () => {
    await p1.node.connect({ synchronizerId: syncB, endpoints: netB.endpoints, maxBackoffMs: 200 });
    // Without B's mediator the request stays undecided.
    await netB.stopMediator({ kill: true });
    const commandId = cmdId('abandoned');
    const failed = failure(
      p1.node.submit({
        actAs: [admin, alice],
        commands: [tokenCommands.mint(admin, alice, '1')],
        commandId,
        synchronizerId: syncB,
      }),
    );
    await eventually('p1 validated the request', () => p1.node.pendingRequests === 1);
    await p1.node.validationsSettled();
    expect(p1.node.submissionsInFlight).toBe(1);
    await p1.node.disconnect(syncB);
    const error = await failed;
    expect(error.code).toBe(ParticipantErrors.SYNCHRONIZER_DISCONNECTED.code);
    expect(error.category).toBe('DeadlineExceededRequestStateUnknown');
    expect(p1.node.submissionsInFlight).toBe(0);

    // The command is taken up again on reconnection, and its completion published.
    await netB.startMediator();
    await p1.node.connect({ synchronizerId: syncB, endpoints: netB.endpoints, maxBackoffMs: 200 });
    await eventually('the completion of the abandoned command', async () =>
      (await p1.node.completionsUpTo()).some((c) => c.commandId === commandId),
    );
    expect(p1.node.pendingRequests).toBe(0);
  });
});
