import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { valueToJson } from '../../src/daml/index.js';
import { WILDCARD_CLAIMS } from '../../src/ledger-api/auth/index.js';
import type { CallContext } from '../../src/ledger-api/service.js';
import { participantReadDeps } from '../../src/ledger-api/services/reads.js';
import { stateService } from '../../src/ledger-api/services/state.js';
import { createLogger } from '../../src/observability/index.js';
import type { ParticipantNode } from '../../src/participant/index.js';
import {
  type CumulativeFilter,
  type EventFormat,
  type LedgerTransaction,
  WILDCARD_FILTER,
} from '../../src/participant/read-model.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  tokenCommands,
} from '../../src/participant/testing.js';
import { created, succeeded } from './expect.js';

/**
 * The Ledger API's read model on participants of a real network (views, hosting and storage as the protocol
 * writes them): p1 hosts the token admin and alice, p2 hosts bob; alice offers bob tokens and bob accepts.
 */

let net: ParticipantTestNetwork;
let p1: ParticipantNode;
let p2: ParticipantNode;
let admin: string;
let alice: string;
let bob: string;
let offer: string;
let acceptedAt: bigint;

const format = (byParty: Record<string, CumulativeFilter>, anyParty?: CumulativeFilter): EventFormat => ({
  byParty: new Map(Object.entries(byParty)),
  anyParty,
  verbose: true,
});
const holdingViews: CumulativeFilter = {
  wildcard: undefined,
  templates: [],
  interfaces: [
    {
      iface: {
        packageName: 'splice-api-token-holding-v1',
        qualifiedName: 'Splice.Api.Token.HoldingV1:Holding',
      },
      includeInterfaceView: true,
      includeCreatedEventBlob: true,
    },
  ],
};
const short = (p: string) => p.split('::')[0];
const summary = (tx: LedgerTransaction) =>
  tx.events.map((e) => `${e.kind} ${e.templateId.name.join('.')} [${e.witnesses.map(short).join(',')}]`);

/** Waits until `node` has committed the transaction: each participant commits on its own schedule. */
async function committed(node: ParticipantNode, party: string, updateId: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await node.updatesUpTo(party)).some((u) => u.updateId === updateId)) {
    if (Date.now() > deadline) throw new Error(`${node.id} did not commit ${updateId}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'ledger-reads' });
  [p1, p2] = (await Promise.all(['p1', 'p2'].map((name) => net.startParticipant(name)))).map(
    (p) => p.node,
  ) as [ParticipantNode, ParticipantNode];
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all([p1.uploadDar(dar), p2.uploadDar(dar)]);
  [admin, alice] = [await p1.allocateParty('admin'), await p1.allocateParty('alice')];
  bob = await p2.allocateParty('bob');
  const rulesTx = succeeded(
    await p1.submit({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' }),
  );
  const rules = (await created(p1, admin, rulesTx.updateId!, 'TokenRules'))[0]!;
  const mintTx = succeeded(
    await p1.submit({
      commands: [tokenCommands.mint(admin, alice, '50.0')],
      actAs: [admin, alice],
      commandId: 'mint',
    }),
  );
  const token = (await created(p1, admin, mintTx.updateId!, 'Token'))[0]!;
  const offerTx = succeeded(
    await p1.submit({
      commands: [
        tokenCommands.offer({ rules, admin, sender: alice, receiver: bob, amount: '20.0', inputs: [token] }),
      ],
      actAs: [alice],
      readAs: [admin],
      commandId: 'offer',
    }),
  );
  offer = (await created(p1, alice, offerTx.updateId!, 'TokenTransferOffer'))[0]!;
  await committed(p2, bob, offerTx.updateId!);
  const accepted = succeeded(
    await p2.submit({
      commands: [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
      actAs: [bob],
      commandId: 'accept',
    }),
  );
  acceptedAt = accepted.offset;
  await committed(p1, alice, accepted.updateId!);
}, 60_000);

afterAll(async () => {
  await net?.close();
});

it("serves bob's participant the offer and its acceptance in both shapes", async () => {
  const reads = p2.reads;
  const bobOnly = reads.eventFilter(format({ [bob]: WILDCARD_FILTER }));
  const delta = await collect(reads.transactions(bobOnly, 'acs-delta', { after: 0n, end: acceptedAt }));
  expect(delta.map(summary)).toEqual([
    ['created TokenTransferOffer [bob]'],
    ['archived TokenTransferOffer [bob]', 'created Token [bob]'],
  ]);
  // bob submitted the acceptance here: its command id; the offer came from p1: none.
  expect(delta.map((t) => t.commandId)).toEqual(['', 'accept']);
  const effects = await collect(
    reads.transactions(bobOnly, 'ledger-effects', { after: 0n, end: acceptedAt }),
  );
  expect(effects.map(summary)).toEqual([
    ['created TokenTransferOffer [bob]'],
    ['exercised TokenTransferOffer [bob]', 'created Token [bob]'],
  ]);
  // The same update id on both participants; p1's alice sees her side of the acceptance.
  const onP1 = await p1.reads.transactionById(
    delta[1]!.updateId,
    p1.reads.eventFilter(format({ [alice]: WILDCARD_FILTER })),
    'acs-delta',
  );
  expect(summary(onP1!)).toEqual(['archived TokenTransferOffer [alice]']);
});

it('checkpoints a tailing stream at the durable end with the synchronizer time processed', async () => {
  const controller = new AbortController();
  const nothing = p2.reads.eventFilter(
    format({
      [bob]: {
        wildcard: undefined,
        templates: [
          {
            template: {
              packageName: 'splice-test-token-v1',
              qualifiedName: 'Splice.Testing.Tokens.TestTokenV1:TokenRules',
            },
            includeCreatedEventBlob: false,
          },
        ],
        interfaces: [],
      },
    }),
  );
  for await (const u of p2.reads.transactions(nothing, 'acs-delta', {
    after: 0n,
    signal: controller.signal,
    checkpoints: true,
  })) {
    expect(u).toMatchObject({ kind: 'checkpoint', offset: p2.durableEnd });
    expect(u.kind === 'checkpoint' && u.synchronizerTimes.map((t) => t.synchronizerId)).toEqual(
      p2.synchronizerIds,
    );
    controller.abort();
  }
});

it("serves bob's active holdings through the Holding interface, with views and blobs", async () => {
  const reads = p2.reads;
  const active = await collect(
    reads.activeContractsAt(reads.eventFilter(format({ [bob]: holdingViews })), acceptedAt),
  );
  expect(active).toHaveLength(1);
  const event = active[0]!.createdEvent;
  expect(event).toMatchObject({ witnesses: [bob], offset: acceptedAt });
  expect(valueToJson(event.interfaceViews[0]!.view!)).toMatchObject({ owner: bob, amount: '20.0000000000' });
  expect(event.blob?.length).toBeGreaterThan(0);
  // Before the acceptance, bob held the offer only (a Holding too).
  const before = await collect(
    reads.activeContractsAt(reads.eventFilter(format({ [bob]: holdingViews })), acceptedAt - 1n),
  );
  expect(before.map((a) => a.createdEvent.contractId)).toEqual([offer]);
});

it('serves the events of the offer on both participants', async () => {
  for (const [node, party] of [
    [p1, alice],
    [p2, bob],
  ] as const) {
    const events = await node.reads.contractEvents(
      offer,
      node.reads.eventFilter(format({ [party]: WILDCARD_FILTER })),
    );
    expect(events.created?.event.witnesses).toEqual([party]);
    expect(events.archived?.event.witnesses).toEqual([party]);
  }
  // admin is a stakeholder but hosted on p1 only: p2 serves any-party reads with every stakeholder as witness.
  const any = await p2.reads.contractEvents(offer, p2.reads.eventFilter(format({}, WILDCARD_FILTER)));
  expect(any.created?.event.witnesses).toEqual([admin, alice, bob].sort());
});

it("answers the state service from the participant's own state", async () => {
  const state = stateService(participantReadDeps(p2, async () => 0n));
  const context: CallContext = {
    claims: WILDCARD_CLAIMS,
    signal: new AbortController().signal,
    correlationId: 'test',
    traceparent: undefined,
    logger: createLogger({ level: 'silent' }),
  };
  const call = (method: string, request: object) =>
    (state.handlers[method] as (r: object, c: CallContext) => Promise<unknown>)(request, context);
  expect(await call('GetLedgerEnd', {})).toEqual({ offset: p2.durableEnd });
  const synchronizerId = p2.synchronizerIds[0]!;
  expect(
    await call('GetConnectedSynchronizers', { party: bob, participantId: '', identityProviderId: '' }),
  ).toEqual({
    connectedSynchronizers: [{ synchronizerAlias: synchronizerId, synchronizerId, permission: 1 }],
  });
  expect(
    await call('GetConnectedSynchronizers', { party: alice, participantId: '', identityProviderId: '' }),
  ).toEqual({
    connectedSynchronizers: [],
  });
});

it('keeps tailing streams open while the participant has no synchronizer connection, and ends them on stop', async () => {
  const bobOnly = p2.reads.eventFilter(format({ [bob]: WILDCARD_FILTER }));
  let ended = false;
  const stream = collect(p2.reads.transactions(bobOnly, 'acs-delta', { after: p2.durableEnd })).then(() => {
    ended = true;
  });
  await p2.disconnect();
  await new Promise((r) => setTimeout(r, 100));
  expect(ended).toBe(false);
  await p2.stop();
  await stream;
  expect(ended).toBe(true);
});
