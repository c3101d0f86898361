import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { valueToJson } from '../../src/daml/index.js';
import { type Completion, type ParticipantNode, PING_TEMPLATE } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  tokenCommands,
} from '../../src/participant/testing.js';
import { ProtocolErrors } from '../../src/protocol/index.js';

/** Faults: a participant that crashes between its confirmation and the verdict, and a confirmer that never answers. */

let net: ParticipantTestNetwork | undefined;

afterEach(async () => {
  await net?.close();
  net = undefined;
});

const ok = (c: Completion) => {
  expect(c.status, c.message).toBe('succeeded');
  return c;
};

async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const createdIn = async (node: ParticipantNode, party: string, updateId: string) =>
  (await node.updatesUpTo(party))
    .find((u) => u.updateId === updateId)!
    .events.flatMap((e) => (e.kind === 'created' ? [e.contractId] : []));

describe('a participant restarted after confirming, before the verdict', () => {
  it('replays the request, commits it once the verdict comes, and agrees with the other participant', async () => {
    net = await participantTestNetwork({ seed: 'participant-recovery' });
    const first = await net.startParticipant('p1');
    let second = await net.startParticipant('p2');
    const p1 = first.node;
    const dar = readFileSync(TOKEN_DAR);
    await Promise.all([p1.uploadDar(dar), second.node.uploadDar(dar)]);
    const admin = await p1.allocateParty('admin');
    const alice = await p1.allocateParty('alice');
    const bob = await second.node.allocateParty('bob');
    const rules = (
      await createdIn(
        p1,
        admin,
        ok(await p1.submit({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' }))
          .updateId!,
      )
    )[0]!;
    const minted = ok(
      await p1.submit({
        commands: [tokenCommands.mint(admin, alice, '10.0')],
        actAs: [admin, alice],
        commandId: 'mint',
      }),
    );
    const token = (await createdIn(p1, alice, minted.updateId!))[0]!;
    const offered = ok(
      await p1.submit({
        commands: [
          tokenCommands.offer({
            rules,
            admin,
            sender: alice,
            receiver: bob,
            amount: '10.0',
            inputs: [token],
          }),
        ],
        actAs: [alice],
        readAs: [admin],
        commandId: 'offer',
      }),
    );
    await until('bob sees the offer', async () => (await second.node.updatesUpTo(bob)).length > 0);
    const offer = (await createdIn(second.node, bob, offered.updateId!))[0]!;

    // Without a mediator the acceptance (confirmed by p1 and p2) stays undecided.
    await net.stopMediator({ kill: true });
    const accepting = second.node.submit({
      commands: [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
      actAs: [bob],
      commandId: 'accept',
    });
    accepting.catch(() => {});
    await until(
      'both participants validated the request',
      () => p1.pendingRequests === 1 && second.node.pendingRequests === 1,
    );
    await Promise.all([p1.validationsSettled(), second.node.validationsSettled()]);
    await net.stopParticipant(second, { kill: true });
    await expect(accepting).rejects.toThrow(/killed/);

    // The mediator decides from the responses it finds; p1 commits; p2 is down meanwhile.
    await net.startMediator();
    // Decided (no request pending) comes before durable (the journal's next commit): wait for the update.
    const archivesOffer = async () =>
      ((await p1.updatesUpTo(alice)).at(-1)?.events ?? []).some(
        (e) => e.kind === 'archived' && e.contractId === offer,
      );
    await until('p1 commits the acceptance', async () => p1.pendingRequests === 0 && (await archivesOffer()));
    const aliceSide = (await p1.updatesUpTo(alice)).at(-1)!;

    second = await net.startParticipant('p2', { config: second.config });
    const p2 = second.node;
    await until('p2 commits the acceptance after its restart', async () =>
      (await p2.updatesUpTo(bob)).some((u) => u.updateId === aliceSide.updateId),
    );
    const bobUpdates = await p2.updatesUpTo(bob);
    expect(bobUpdates.map((u) => u.updateId)).toEqual([offered.updateId, aliceSide.updateId]);
    const completion = (await p2.completionsUpTo()).find((c) => c.commandId === 'accept');
    expect(completion).toMatchObject({ status: 'succeeded', updateId: aliceSide.updateId });
    const holdings = (await p2.activeContracts(bob)).contracts.map((c) => valueToJson(c.contract.arg));
    expect(holdings).toEqual([{ holding: expect.objectContaining({ owner: bob, amount: '10.0000000000' }) }]);
    expect(p2.pendingRequests).toBe(0);
    // The restarted node validated the replayed request itself before committing it.
    const approved = (await p2.metrics.requests.get()).values.find((v) => v.labels.outcome === 'approved');
    expect(approved?.value).toBe(1);
    // Nothing stays locked: bob's new holding can be spent, and the participants still talk.
    expect(await p1.ping(p2.id)).toBeGreaterThan(0);
  });
});

describe('a confirmer that never answers', () => {
  it('makes the mediator time the request out; the submitter completes it as rejected and unlocks', async () => {
    net = await participantTestNetwork({
      seed: 'participant-timeout',
      parameters: { confirmationResponseTimeout: 1_000_000n, mediatorReactionTimeout: 1_000_000n },
    });
    const p1 = (await net.startParticipant('p1')).node;
    const second = await net.startParticipant('p2');
    // bob (on p2) signs a Ping to alice (on p1): alice's Respond needs bob's confirmation.
    const alice = await p1.allocateParty('alice');
    const bob = await second.node.allocateParty('bob');
    const created = ok(
      await second.node.submit({
        commands: [
          {
            CreateCommand: {
              templateId: PING_TEMPLATE,
              createArguments: { id: 'x', initiator: bob, responder: alice },
            },
          },
        ],
        actAs: [bob],
        commandId: 'ping',
      }),
    );
    await until('alice sees the ping', async () =>
      (await p1.updatesUpTo(alice)).some((u) => u.updateId === created.updateId),
    );
    const ping = (await createdIn(p1, alice, created.updateId!))[0]!;
    await net.stopParticipant(second, { kill: true });
    const respond = () =>
      p1.submit({
        commands: [
          {
            ExerciseCommand: {
              templateId: PING_TEMPLATE,
              contractId: ping,
              choice: 'Respond',
              choiceArgument: {},
            },
          },
        ],
        actAs: [alice],
        commandId: `respond-${Date.now()}`,
      });
    const timedOut = await respond();
    expect(timedOut).toMatchObject({
      status: 'failed',
      code: ProtocolErrors.MEDIATOR_REQUEST_TIMED_OUT.code,
    });
    expect(timedOut.message).toMatch(/timed out awaiting confirming parties/);
    expect(p1.pendingRequests).toBe(0);
    // The contract was not archived, and no lock is left behind.
    expect((await p1.activeContracts(alice)).contracts.map((c) => valueToJson(c.contract.arg))).toEqual([
      { id: 'x', initiator: bob, responder: alice },
    ]);
  });
});

describe('verdicts that arrive out of request order', () => {
  it('publish updates and completions in record order: the later request waits for the earlier', async () => {
    net = await participantTestNetwork({ seed: 'participant-record-order' });
    const p1 = (await net.startParticipant('p1')).node;
    let second = await net.startParticipant('p2');
    const alice = await p1.allocateParty('alice');
    const bob = await second.node.allocateParty('bob');
    const pingOf = (id: string, initiator: string, responder: string) => ({
      CreateCommand: { templateId: PING_TEMPLATE, createArguments: { id, initiator, responder } },
    });
    const created = ok(
      await second.node.submit({ commands: [pingOf('x', bob, alice)], actAs: [bob], commandId: 'ping' }),
    );
    await until('alice sees the ping', async () =>
      (await p1.updatesUpTo(alice)).some((u) => u.updateId === created.updateId),
    );
    const ping = (await createdIn(p1, alice, created.updateId!))[0]!;
    const approvals = async () =>
      (await p1.metrics.requests.get()).values.find((v) => v.labels.outcome === 'approved')?.value ?? 0;
    const approvedBefore = await approvals();

    // bob's participant is down: alice's Respond (bob confirms) stays undecided until it is back.
    await net.stopParticipant(second);
    const earlier = p1.submit({
      commands: [
        {
          ExerciseCommand: {
            templateId: PING_TEMPLATE,
            contractId: ping,
            choice: 'Respond',
            choiceArgument: {},
          },
        },
      ],
      actAs: [alice],
      commandId: 'respond',
    });
    await until('p1 validated the earlier request', () => p1.pendingRequests === 1);
    let laterCompleted = false;
    const later = p1
      .submit({ commands: [pingOf('y', alice, alice)], actAs: [alice], commandId: 'later' })
      .then((c) => {
        laterCompleted = true;
        return c;
      });
    await until('the later request is approved', async () => (await approvals()) === approvedBefore + 1);
    // Decided, yet held back: no offset, update, completion or active contract before the earlier request's.
    await new Promise((r) => setTimeout(r, 300));
    expect(laterCompleted).toBe(false);
    expect((await p1.updatesUpTo(alice)).map((u) => u.updateId)).toEqual([created.updateId]);
    const activeIds = async () =>
      (await p1.activeContracts(alice)).contracts.map(
        (c) => (valueToJson(c.contract.arg) as { id: string }).id,
      );
    expect(await activeIds()).toEqual(['x']);

    second = await net.startParticipant('p2', { config: second.config });
    const first = ok(await earlier);
    const next = ok(await later);
    expect(first.offset).toBeLessThan(next.offset);
    const updates = await p1.updatesUpTo(alice);
    expect(updates.map((u) => u.updateId)).toEqual([created.updateId, first.updateId, next.updateId]);
    for (let i = 1; i < updates.length; i++) {
      expect(updates[i]!.offset).toBeGreaterThan(updates[i - 1]!.offset);
      expect(updates[i]!.recordTime).toBeGreaterThan(updates[i - 1]!.recordTime);
    }
    expect((await p1.completionsUpTo()).map((c) => [c.commandId, c.offset])).toEqual([
      ['respond', first.offset],
      ['later', next.offset],
    ]);
    expect(await activeIds()).toEqual(['y']);
  });
});
