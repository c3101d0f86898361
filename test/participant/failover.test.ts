import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import type { Completion, ParticipantNode } from '../../src/participant/index.js';
import { participantTestNetwork, tokenCommands } from '../../src/participant/testing.js';
import { sequencerSettings } from '../../src/sequencer/index.js';
import { describeBackend } from '../../src/storage/testing.js';

/**
 * `connect_multi`: two sequencer nodes share one PostgreSQL database; the mediator and the participants know both
 * endpoints. One node is killed while transfers are in flight: every transfer still commits, exactly once.
 */
describeBackend('postgres', 'participants on an HA sequencer', (backend) => {
  it('fail over when a sequencer node dies, losing and duplicating no transaction', async () => {
    const net = await participantTestNetwork({
      seed: 'participant-failover',
      synchronizerStorage: () => backend.freshConfig(),
      sequencerNodes: 2,
      sequencerSettings: sequencerSettings({
        'high-availability': {
          'keep-alive-interval-ms': 20,
          'offline-duration-ms': 1000,
          'online-check-interval-ms': 100,
        },
      }),
    });
    try {
      const [a, b] = net.endpoints as [string, string];
      // p1 starts on node a, p2 on node b; each fails over to the other.
      const p1 = (await net.startParticipant('p1', { endpoints: [a, b] })).node;
      const p2 = (await net.startParticipant('p2', { endpoints: [b, a] })).node;
      const dar = readFileSync(TOKEN_DAR);
      await Promise.all([p1.uploadDar(dar), p2.uploadDar(dar)]);
      const admin = await p1.allocateParty('admin');
      const alice = await p1.allocateParty('alice');
      const bob = await p2.allocateParty('bob');
      const ok = (c: Completion) => {
        expect(c.status, `${c.commandId}: ${c.code} ${c.message}`).toBe('succeeded');
        return c;
      };
      const createdIn = async (node: ParticipantNode, party: string, updateId: string) => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const u = (await node.updatesUpTo(party)).find((x) => x.updateId === updateId);
          if (u) return u.events.flatMap((e) => (e.kind === 'created' ? [e.contractId] : []));
          if (Date.now() > deadline) throw new Error(`${node.id} never committed ${updateId}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const rules = (
        await createdIn(
          p1,
          admin,
          ok(await p1.submit({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' }))
            .updateId!,
        )
      )[0]!;
      const TRANSFERS = 8;
      const minted = ok(
        await p1.submit({
          commands: Array.from({ length: TRANSFERS }, () => tokenCommands.mint(admin, alice, '5.0')),
          actAs: [admin, alice],
          commandId: 'mint',
        }),
      );
      const holdings = await createdIn(p1, alice, minted.updateId!);
      const transfer = async (holding: string, i: number) => {
        const offered = ok(
          await p1.submit({
            commands: [
              tokenCommands.offer({
                rules,
                admin,
                sender: alice,
                receiver: bob,
                amount: '5.0',
                inputs: [holding],
              }),
            ],
            actAs: [alice],
            readAs: [admin],
            commandId: `offer-${i}`,
          }),
        );
        const [offer] = (await createdIn(p2, bob, offered.updateId!)).filter((c) => c !== holding);
        return ok(
          await p2.submit({
            commands: [tokenCommands.instruction(offer!, 'TransferInstruction_Accept')],
            actAs: [bob],
            commandId: `accept-${i}`,
          }),
        );
      };
      const running = Promise.all(
        holdings.map((h, i) => new Promise((r) => setTimeout(r, i * 40)).then(() => transfer(h, i))),
      );
      await new Promise((r) => setTimeout(r, 150));
      await net.sequencers[0]!.kill();
      const accepted = await running;
      expect(accepted).toHaveLength(TRANSFERS);

      for (const [node, party] of [
        [p1, alice],
        [p2, bob],
      ] as const) {
        const ids = async () => (await node.updatesUpTo(party)).map((u) => u.updateId);
        const deadline = Date.now() + 20_000;
        const missing = async () => {
          const x = await ids();
          return accepted.filter((c) => !x.includes(c.updateId!)).length;
        };
        while ((await missing()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        const seen = await ids();
        expect(new Set(seen).size).toBe(seen.length);
        for (const c of accepted) expect(seen).toContain(c.updateId);
      }
      const bobTokens = (await p2.activeContracts(bob)).contracts.filter(
        (c) => c.contract.templateId.name[0] === 'Token',
      );
      expect(bobTokens).toHaveLength(TRANSFERS);
      expect(
        (await p1.activeContracts(alice)).contracts.filter((c) => c.contract.templateId.name[0] === 'Token'),
      ).toEqual([]);
    } finally {
      await net.close();
    }
  }, 90_000);
});
