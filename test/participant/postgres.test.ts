import { expect, it } from 'vitest';
import { PING_TEMPLATE } from '../../src/participant/index.js';
import { participantTestNetwork } from '../../src/participant/testing.js';
import { describeBackend } from '../../src/storage/testing.js';

/** The whole network on PostgreSQL (one schema per node): a workflow, ping, and a participant restart. */
describeBackend('postgres', 'participants on PostgreSQL', (backend) => {
  it('commit transactions, answer pings and keep their state across a restart', async () => {
    const net = await participantTestNetwork({
      seed: 'participant-postgres',
      synchronizerStorage: () => backend.freshConfig(),
    });
    try {
      const first = await net.startParticipant('p1', { config: backend.freshConfig() });
      const p2 = (await net.startParticipant('p2', { config: backend.freshConfig() })).node;
      const alice = await first.node.allocateParty('alice');
      const bob = await p2.allocateParty('bob');
      const created = await first.node.submit({
        commands: [
          {
            CreateCommand: {
              templateId: PING_TEMPLATE,
              createArguments: { id: 'pg', initiator: alice, responder: bob },
            },
          },
        ],
        actAs: [alice],
        commandId: 'create',
      });
      expect(created.status).toBe('succeeded');
      expect(await first.node.ping(p2.id)).toBeGreaterThan(0);

      await net.stopParticipant(first);
      const p1 = (await net.startParticipant('p1', { config: first.config })).node;
      expect(p1.ledgerEnd()).toBeGreaterThanOrEqual(created.offset);
      const [ping] = (await p1.activeContracts(alice)).contracts;
      expect(ping?.contract.contractId.coid).toBeDefined();
      expect((await p1.updatesUpTo(alice)).map((u) => u.updateId)).toContain(created.updateId);
      const responded = await p2.submit({
        commands: [
          {
            ExerciseCommand: {
              templateId: PING_TEMPLATE,
              contractId: ping!.contract.contractId.coid,
              choice: 'Respond',
              choiceArgument: {},
            },
          },
        ],
        actAs: [bob],
        commandId: 'respond',
      });
      expect(responded.status).toBe('succeeded');
      expect(await p2.ping(p1.id)).toBeGreaterThan(0);
      const deadline = Date.now() + 10_000;
      while ((await p1.activeContracts(alice)).contracts.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await p1.activeContracts(alice)).contracts).toEqual([]);
    } finally {
      await net.close();
    }
  }, 60_000);
});
