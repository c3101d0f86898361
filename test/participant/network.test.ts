import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ILLFORMED_DAR, LEGACY_LF1_DAR } from '../../src/daml/dar/testing.js';
import { Engine } from '../../src/daml/engine/index.js';
import { valueToJson } from '../../src/daml/index.js';
import { WeftError } from '../../src/errors/index.js';
import {
  type Completion,
  ParticipantErrors,
  type ParticipantNode,
  PING_TEMPLATE,
} from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  tokenCommands,
} from '../../src/participant/testing.js';
import { GrpcSequencerChannel } from '../../src/sequencer/client/endpoint.js';
import { StorageErrors } from '../../src/storage/index.js';
import { systemClock } from '../../src/time/index.js';
import { created, failure, succeeded, tokenParties } from './expect.js';

/**
 * Three participants on a real sequencer and mediator over loopback gRPC: p1 hosts the token admin and alice, p2
 * hosts bob, p3 hosts carol and has no token DAR.
 */

let net: ParticipantTestNetwork;
let p1: ParticipantNode;
let p2: ParticipantNode;
let p3: ParticipantNode;
let admin: string;
let alice: string;
let bob: string;
let carol: string;
let rules: string;
let n = 0;

const cmdId = (what: string) => `${what}-${n++}`;

/** Waits until `node` has committed the transaction (its commit may lag behind the submitter's). */
async function committed(node: ParticipantNode, party: string, updateId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await node.updatesUpTo(party)).some((u) => u.updateId === updateId)) {
    if (Date.now() > deadline) throw new Error(`${node.id} did not commit ${updateId}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function tokens(node: ParticipantNode, party: string): Promise<string[]> {
  return (await node.activeContracts(party)).contracts
    .filter((c) => c.contract.templateId.name.join('.') === 'Token')
    .map((c) => {
      const h = (valueToJson(c.contract.arg) as { holding: { owner: string; amount: string } }).holding;
      return `${h.owner.split('::')[0]} ${h.amount}`;
    })
    .sort();
}

async function mint(owner: string, amount: string): Promise<string> {
  const c = succeeded(
    await p1.submit({
      commands: [tokenCommands.mint(admin, owner, amount)],
      actAs: [admin, owner],
      commandId: cmdId('mint'),
    }),
  );
  return (await created(p1, admin, c.updateId!, 'Token'))[0]!;
}

/** alice offers bob `amount` out of a fresh holding; returns the offer's contract id. */
async function offerToBob(amount: string): Promise<string> {
  const token = await mint(alice, amount);
  const c = succeeded(
    await p1.submit({
      commands: [
        tokenCommands.offer({ rules, admin, sender: alice, receiver: bob, amount, inputs: [token] }),
      ],
      actAs: [alice],
      readAs: [admin],
      commandId: cmdId('offer'),
    }),
  );
  await committed(p2, bob, c.updateId!);
  return (await created(p2, bob, c.updateId!, 'TokenTransferOffer'))[0]!;
}

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'participant-network' });
  [p1, p2, p3] = (await Promise.all(['p1', 'p2', 'p3'].map((name) => net.startParticipant(name)))).map(
    (p) => p.node,
  ) as [ParticipantNode, ParticipantNode, ParticipantNode];
  ({ admin, alice, bob, carol, rules } = await tokenParties(p1, p2, p3));
}, 60_000);

afterAll(async () => {
  await net?.close();
});

describe('a participant', () => {
  it('hosts parties and keeps its DARs, the ping workflow among them', async () => {
    expect(p1.parties().map((p) => p.party)).toEqual([String(p1.adminParty), admin, alice]);
    expect(p1.parties()[0]).toMatchObject({ admin: true, permission: 'Submission' });
    const dars = await p1.dars();
    expect(dars.map((d) => [d.name, d.adminWorkflow])).toEqual([
      ['canton-builtin-admin-workflow-ping', true],
      ['splice-test-token-v1', false],
    ]);
    expect(p3.parties().map((p) => p.party)).toEqual([String(p3.adminParty), carol]);
  });

  it('refuses ill-formed and legacy DARs, storing nothing', async () => {
    const before = await p3.dars();
    const illformed = await failure(p3.uploadDar(readFileSync(ILLFORMED_DAR)));
    expect(illformed.code).toMatch(/^DAR_|^DAML_LF/);
    const legacy = await failure(p3.uploadDar(readFileSync(LEGACY_LF1_DAR)));
    expect(legacy.message).toMatch(/1\.15/);
    expect(await p3.dars()).toEqual(before);
  });

  it('transfers tokens to another participant: offer, accept, updates and active contracts on both', async () => {
    const offer = await offerToBob('30.0');
    const accepted = succeeded(
      await p2.submit({
        commands: [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
        actAs: [bob],
        commandId: cmdId('accept'),
      }),
    );
    await committed(p1, alice, accepted.updateId!);
    expect(await tokens(p2, bob)).toEqual(['bob 30.0000000000']);
    expect(
      (await p2.activeContracts(bob)).contracts.map((c) => c.contract.templateId.name.join('.')),
    ).toEqual(['Token']);
    // Both participants record the acceptance under the same update id; bob's command id only for bob.
    const bobView = (await p2.updatesUpTo(bob)).find((u) => u.updateId === accepted.updateId)!;
    const aliceView = (await p1.updatesUpTo(alice)).find((u) => u.updateId === accepted.updateId)!;
    expect(bobView.commandId).toBe(accepted.commandId);
    expect(aliceView.commandId).toBeUndefined();
    expect(bobView.events.map((e) => e.kind)).toEqual(['exercised', 'archived', 'created']);
    expect(aliceView.events.filter((e) => e.kind === 'archived').map((e) => e.contractId)).toEqual([offer]);
    // Completions and updates share one offset sequence.
    expect(bobView.offset).toBe(accepted.offset);
    expect((await p2.completionsUpTo()).map((c) => c.commandId)).toContain(accepted.commandId);
  });

  it('leaves model conformance of its own request to the other participants: it interpreted it itself', async () => {
    const reinterpret = vi.spyOn(Engine.prototype, 'reinterpret');
    try {
      await offerToBob('1.0');
      const engines = new Set(reinterpret.mock.contexts);
      expect(engines.has(p2.engine)).toBe(true);
      expect(engines.has(p1.engine)).toBe(false);
    } finally {
      reinterpret.mockRestore();
    }
  });

  it('streams a party’s updates as they are committed, from an offset', async () => {
    const controller = new AbortController();
    const stream = p2.updates(bob, { after: p2.durableEnd, signal: controller.signal });
    const next = stream.next();
    const offer = await offerToBob('1.0');
    const first = await next;
    if (first.done) throw new Error('the stream ended');
    expect(first.value.events.map((e) => e.kind === 'created' && e.contractId)).toContain(offer);
    controller.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it('answers health.ping in both directions', async () => {
    const there = await p1.ping(p2.id);
    const back = await p2.ping(p1.id);
    expect(there).toBeGreaterThan(0);
    expect(back).toBeGreaterThan(0);
    expect(await p3.ping(p1.id)).toBeGreaterThan(0);
  });

  it('deduplicates commands by user, acting parties and command id', async () => {
    const command = {
      commands: [tokenCommands.mint(admin, alice, '1.0')],
      actAs: [admin, alice],
      commandId: cmdId('dedup'),
    };
    // Of concurrent submissions of one change id exactly one proceeds, the others are refused before interpretation.
    const results = await Promise.allSettled([p1.submit(command), p1.submit(command), p1.submit(command)]);
    const [first, ...others] = results;
    expect(first.status).toBe('fulfilled');
    expect(others.map((o) => o.status === 'rejected' && (o.reason as WeftError).code)).toEqual([
      ParticipantErrors.SUBMISSION_ALREADY_IN_FLIGHT.code,
      ParticipantErrors.SUBMISSION_ALREADY_IN_FLIGHT.code,
    ]);
    const completion = succeeded((first as PromiseFulfilledResult<Completion>).value);
    const again = await failure(p1.submit(command));
    expect(again.code).toBe(ParticipantErrors.DUPLICATE_COMMAND.code);
    expect(again.message).toMatch(/within the deduplication window/);
    expect(again.context).toMatchObject({
      offset: completion.offset,
      status: 'succeeded',
      updateId: completion.updateId,
    });
    const mints = (await p1.completionsUpTo()).filter((c) => c.commandId === command.commandId);
    expect(mints.map((c) => c.updateId)).toEqual([completion.updateId]);
    // The acting parties are a set: their order does not make another command.
    expect(await p1.completionOf({ ...command, actAs: [alice, admin, alice] })).toMatchObject({
      offset: completion.offset,
      status: 'succeeded',
      updateId: completion.updateId,
    });
    // Another user may use the same command id.
    succeeded(await p1.submit({ ...command, userId: 'another-user' }));
  });

  it('answers a resubmitted committed command with its outcome, without interpreting it again', async () => {
    const offer = await offerToBob('1.5');
    const command = {
      commands: [tokenCommands.instruction(offer, 'TransferInstruction_Reject')],
      actAs: [bob],
      commandId: cmdId('retry'),
    };
    const completion = succeeded(await p2.submit(command));
    // Interpreted again, the command would fail: its offer is archived (DAML_CONTRACT_NOT_ACTIVE).
    const retry = await failure(p2.submit(command));
    expect(retry.code).toBe(ParticipantErrors.DUPLICATE_COMMAND.code);
    expect(retry.context).toMatchObject({
      commandId: command.commandId,
      offset: completion.offset,
      status: 'succeeded',
      updateId: completion.updateId,
    });
    expect(retry.message).toContain(String(completion.offset));
    expect(retry.message).toContain(completion.updateId!);
    expect((await p2.completionOf(command))?.updateId).toBe(completion.updateId);
    expect(await p2.completionOf({ ...command, userId: 'another-user' })).toBeUndefined();
  });

  it('commits a command once when its send failed after the sequencer stored it', async () => {
    // The sequencer client resends a request whose answer it lost; the sequencer stored the first copy and fails
    // the resend (its write failing): the send fails although the request is sequenced.
    let failNextSend = false;
    const p4 = (
      await net.startParticipant('p4', {
        transport: {
          dial: (endpoint) => {
            const channel = new GrpcSequencerChannel(endpoint, {}, systemClock);
            const send = channel.sendAsync.bind(channel);
            channel.sendAsync = async (request, auth) => {
              const sent = await send(request, auth);
              if (!failNextSend) return sent;
              failNextSend = false;
              throw new WeftError(StorageErrors.STORAGE_UNAVAILABLE, 'the write of a resent request failed');
            };
            return channel;
          },
        },
      })
    ).node;
    const command = {
      commands: [
        {
          CreateCommand: {
            templateId: PING_TEMPLATE,
            createArguments: {
              id: 'ambiguous',
              initiator: String(p4.adminParty),
              responder: String(p1.adminParty),
            },
          },
        },
      ],
      actAs: [String(p4.adminParty)],
      commandId: cmdId('ambiguous'),
    };
    failNextSend = true;
    const completion = succeeded(await p4.submit(command));
    expect(failNextSend).toBe(false);
    expect((await failure(p4.submit(command))).code).toBe(ParticipantErrors.DUPLICATE_COMMAND.code);
    const completions = await p4.completionsUpTo();
    expect(completions.filter((c) => c.commandId === command.commandId).map((c) => c.updateId)).toEqual([
      completion.updateId,
    ]);
  });

  it('refuses commands it cannot send, before sequencing', async () => {
    const notHosted = await failure(
      p2.submit({
        commands: [tokenCommands.mint(admin, alice, '1.0')],
        actAs: [alice],
        commandId: cmdId('x'),
      }),
    );
    expect(notHosted.code).toBe(ParticipantErrors.SUBMITTER_NOT_HOSTED.code);
    const token = await mint(alice, '5.0');
    const toCarol = await failure(
      p1.submit({
        commands: [
          tokenCommands.offer({
            rules,
            admin,
            sender: alice,
            receiver: carol,
            amount: '5.0',
            inputs: [token],
          }),
        ],
        actAs: [alice],
        readAs: [admin],
        commandId: cmdId('carol'),
      }),
    );
    expect(toCarol.code).toBe(ParticipantErrors.PACKAGE_NOT_VETTED_BY_RECIPIENTS.code);
    expect(toCarol.message).toMatch(
      new RegExp(
        `participant ${String(p3.id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has not vetted package`,
      ),
    );
    const offer = await offerToBob('2.0');
    succeeded(
      await p2.submit({
        commands: [tokenCommands.instruction(offer, 'TransferInstruction_Reject')],
        actAs: [bob],
        commandId: cmdId('r'),
      }),
    );
    const archived = await failure(
      p2.submit({
        commands: [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
        actAs: [bob],
        commandId: cmdId('a'),
      }),
    );
    expect(archived.code).toBe('DAML_CONTRACT_NOT_ACTIVE');
  });

  it('commits exactly one of two concurrent consuming exercises of a contract', async () => {
    const offer = await offerToBob('3.0');
    // Each with a period of its own, which its completion reports, accepted or rejected.
    const periods = [
      { kind: 'duration', micros: 60_000_000n },
      { kind: 'offset', offset: 1n },
    ] as const;
    const results = await Promise.all(
      (['TransferInstruction_Accept', 'TransferInstruction_Reject'] as const).map((choice, i) =>
        p2.submit({
          commands: [tokenCommands.instruction(offer, choice)],
          actAs: [bob],
          commandId: cmdId(choice),
          deduplicationPeriod: periods[i]!,
        }),
      ),
    );
    expect(results.map((c) => c.deduplicationPeriod)).toEqual(periods);
    const ok = results.filter((c) => c.status === 'succeeded');
    const failed = results.filter((c) => c.status === 'failed');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect([
      ParticipantErrors.LOCAL_VERDICT_LOCKED_CONTRACTS.code,
      ParticipantErrors.LOCAL_VERDICT_INACTIVE_CONTRACTS.code,
    ]).toContain(failed[0]!.code);
    expect(failed[0]!.message).toContain(offer);
    // A rejected command is not deduplicated (as in Canton): its command id may be submitted again.
    const rejected = { actAs: [bob], commandId: failed[0]!.commandId };
    expect(await p2.completionOf(rejected)).toMatchObject({
      code: failed[0]!.code,
      deduplicationPeriod: failed[0]!.deduplicationPeriod,
    });
    const retry = succeeded(
      await p2.submit({
        ...rejected,
        commands: [tokenCommands.instruction(await offerToBob('3.5'), 'TransferInstruction_Reject')],
      }),
    );
    expect(await p2.completionOf(rejected)).toMatchObject({ status: 'succeeded', updateId: retry.updateId });
    // Both requests are decided everywhere: no locks or pending requests remain.
    const deadline = Date.now() + 10_000;
    while (p1.pendingRequests + p2.pendingRequests > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(p1.pendingRequests + p2.pendingRequests).toBe(0);
  });
});
