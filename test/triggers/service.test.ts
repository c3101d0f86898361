/**
 * The trigger service on two participants' gRPC Ledger APIs: the auto-accepter example accepts offers made on one
 * participant to a party of the other; triggers survive a service restart (SQLite and PostgreSQL); a throwing
 * trigger fails alone; rejections are retried; bad input is refused with catalogued errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as dvpSettlerPackage from '../../examples/triggers/dvp-settler.js';
import * as autoAcceptPackage from '../../examples/triggers/token-auto-accept.js';
import { systemRandom } from '../../src/crypto/index.js';
import { TOKEN_DAR, TRADING_DAR } from '../../src/daml/dar/testing.js';
import { LedgerApiClient } from '../../src/ledger-api/index.js';
import { protoToJson } from '../../src/ledger-api/json/index.js';
import { createLogger } from '../../src/observability/index.js';
import { tokenCommands } from '../../src/participant/testing.js';
import { postgresSkipReason, withPostgresSchema } from '../../src/storage/testing.js';
import { systemClock } from '../../src/time/index.js';
import { grpcTriggerLedger, TriggerService, triggerServiceSettings } from '../../src/triggers/index.js';
import {
  createdIn,
  eventually,
  type LedgerNetwork,
  ledgerNetwork,
  mintAndOffer,
  storageSection,
  succeeded,
} from './network.js';

let network: LedgerNetwork;
let admin: string;
let alice: string;
let bob: string;
let rules: string;
let dir: string;
let commandNo = 0;

/** A trigger that throws in its rule once it sees a contract: it must fail alone. */
const failing = {
  broken: () => ({
    registeredTemplates: ['#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1:TokenTransferOffer'],
    initialize: () => 0,
    rule: ({ acs }: { acs: { contracts(): unknown[] } }) => {
      if (acs.contracts().length > 0) throw new Error('cannot handle offers');
      return undefined;
    },
  }),
};

const start = (config: Record<string, unknown>, modules: Record<string, Record<string, unknown>> = {}) =>
  TriggerService.start({
    config: triggerServiceSettings({ port: 0, 'ledger-api': network.urls[1], ...config }),
    clock: systemClock,
    random: systemRandom,
    logger: createLogger({ level: 'silent' }),
    modules: { 'token-auto-accept': autoAcceptPackage, 'dvp-settler': dvpSettlerPackage, ...modules },
  });

async function call(service: TriggerService, method: string, path: string, body?: unknown) {
  const r = await fetch(`${service.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : typeof body === 'string'
        ? { body, headers: { 'content-type': 'application/javascript' } }
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await r.text();
  // biome-ignore lint/suspicious/noExplicitAny: the answers' result shapes are checked by the assertions
  type Body = { result?: any; errors?: string[]; status: number };
  return {
    status: r.status,
    body: (r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : { text }) as Body,
  };
}

/** Alice (on p1) offers `amount` TOK to bob (on p2); resolves with the offer's contract id. */
const offer = (amount: string) =>
  mintAndOffer(network.nodes[0]!, {
    admin,
    sender: alice,
    receiver: bob,
    rules,
    amount,
    tag: `${commandNo++}`,
  });

/** Bob's token amounts on p2 (what accepted offers gave him), read through p2's Ledger API. */
async function bobsTokens(): Promise<string[]> {
  const ledger = grpcTriggerLedger(new LedgerApiClient(network.urls[1]!));
  try {
    const events = await ledger.activeContracts(bob, await ledger.ledgerEnd());
    return events
      .filter((e) => e.templateId?.entityName === 'Token' && e.createArguments)
      .map((e) => {
        const arg = protoToJson({ sum: { oneofKind: 'record', record: e.createArguments! } });
        return (arg as { holding: { amount: string } }).holding.amount;
      })
      .sort();
  } finally {
    ledger.close();
  }
}

const hasTokens = (n: number) => async () => ((await bobsTokens()).length >= n ? true : undefined);

async function triggerStatus(service: TriggerService, id: string) {
  return (await call(service, 'GET', `/v1/triggers/${id}`)).body.result as {
    status: string;
    error?: string;
    submitted: number;
    rejected: number;
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-triggers-'));
  network = await ledgerNetwork('trigger-service', { dars: [TOKEN_DAR, TRADING_DAR] });
  const [p1, p2] = network.nodes as [(typeof network.nodes)[0], (typeof network.nodes)[0]];
  admin = await p1.allocateParty('admin');
  alice = await p1.allocateParty('alice');
  bob = await p2.allocateParty('bob');
  const created = succeeded(
    await p1.submit({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' }),
  );
  [rules] = (await createdIn(p1, admin, created.updateId!)) as [string];
}, 120_000);

afterAll(async () => {
  await network?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('trigger service', () => {
  it('runs the auto-accepter across two participants and again after a restart', async () => {
    const storage = { type: 'sqlite', file: join(dir, 'triggers.sqlite') };
    let service = await start({ storage });
    try {
      expect((await call(service, 'GET', '/livez')).body).toEqual({ status: 'pass' });
      const started = await call(service, 'POST', '/v1/triggers', {
        triggerName: 'token-auto-accept:autoAccept',
        party: bob,
        applicationId: 'auto-accept',
      });
      expect(started.status).toBe(200);
      const id = started.body.result.triggerId as string;
      expect(
        (await call(service, 'GET', `/v1/triggers?party=${encodeURIComponent(bob)}`)).body.result,
      ).toEqual({
        triggerIds: [id],
      });
      await offer('30.0');
      await eventually(hasTokens(1), 'bob to hold the accepted 30 TOK');
      const status = await eventually(async () => {
        const s = await triggerStatus(service, id);
        return s.submitted === 1 && s.status === 'running' ? s : undefined;
      }, 'the trigger status');
      expect(status.rejected).toBe(0);

      // A restarted service runs the persisted trigger again: an offer made while it was down is accepted.
      await service.close();
      await offer('5.0');
      service = await start({ storage });
      expect(
        (await call(service, 'GET', `/v1/triggers?party=${encodeURIComponent(bob)}`)).body.result.triggerIds,
      ).toEqual([id]);
      await eventually(hasTokens(2), 'bob to hold the 5 TOK offered while the service was down');
      expect(await bobsTokens()).toContain('5.0000000000');

      // Stopped: deleted, and not restarted.
      expect((await call(service, 'DELETE', `/v1/triggers/${id}`)).body.result).toEqual({ triggerId: id });
      expect((await call(service, 'GET', `/v1/triggers/${id}`)).status).toBe(404);
    } finally {
      await service.close();
    }
  });

  it('stops a throwing trigger with its error, retries rejected commands, and refuses bad input', async () => {
    const service = await start(
      { storage: { type: 'sqlite', file: join(dir, 'failing.sqlite') } },
      { failing },
    );
    try {
      // A contending trigger: it emits each acceptance twice without hiding the offer, so one is rejected.
      const uploaded = await call(
        service,
        'POST',
        '/v1/packages?name=contender',
        `export const twice = ({ ledger }) => ({
           registeredTemplates: ['#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1:TokenTransferOffer'],
           initialize: () => null,
           rule: ({ acs, emit }) => {
             const noMeta = ledger.record({ values: ledger.textMap({}) });
             const arg = ledger.record({ extraArgs: ledger.record({ context: noMeta, meta: noMeta }) });
             for (const o of acs.contracts()) for (let i = 0; i < 2; i++) emit([ledger.exercise(
               '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferInstruction',
               o.contractId, 'TransferInstruction_Accept', arg)]);
           },
         });`,
      );
      expect(uploaded.body.result).toEqual({ packageName: 'contender', triggers: ['contender:twice'] });
      const broken = (
        await call(service, 'POST', '/v1/triggers', { triggerName: 'failing:broken', party: bob })
      ).body.result.triggerId as string;
      const contender = (
        await call(service, 'POST', '/v1/triggers', { triggerName: 'contender:twice', party: bob })
      ).body.result.triggerId as string;
      const before = (await bobsTokens()).length;
      await offer('7.0');
      const failed = await eventually(async () => {
        const s = await triggerStatus(service, broken);
        return s.status === 'failed' ? s : undefined;
      }, 'the throwing trigger to fail');
      expect(failed.error).toMatch(/^TRIGGER_FAILED\(9\): rule threw: cannot handle offers/);
      const retried = await eventually(async () => {
        const s = await triggerStatus(service, contender);
        return s.rejected >= 1 ? s : undefined;
      }, 'a rejected acceptance');
      expect(retried.status).toBe('running');
      await eventually(hasTokens(before + 1), 'the contender to accept the offer');
      expect((await bobsTokens()).length).toBe(before + 1);

      // Bad input: each refused with a catalogued error, nothing started.
      const unknown = await call(service, 'POST', '/v1/triggers', {
        triggerName: 'nope:nothing',
        party: bob,
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.errors![0]).toMatch(/^TRIGGER_NOT_FOUND/);
      const noParty = await call(service, 'POST', '/v1/triggers', {
        triggerName: 'contender:twice',
        party: 'not a party id',
      });
      expect(noParty.status).toBe(400);
      expect(noParty.body.errors![0]).toMatch(/^INVALID_FIELD\(8\)/);
      const missing = await call(service, 'POST', '/v1/triggers', { triggerName: 'contender:twice' });
      expect(missing.status).toBe(400);
      expect(missing.body.errors![0]).toMatch(/^INVALID_ARGUMENT.*party/);
      const notModule = await call(service, 'POST', '/v1/packages?name=bad', 'this is not javascript');
      expect(notModule.body.errors![0]).toMatch(/^TRIGGER_PACKAGE_INVALID/);
      const noTrigger = await call(service, 'POST', '/v1/packages?name=empty', 'export const x = 1;');
      expect(noTrigger.body.errors![0]).toMatch(/^TRIGGER_PACKAGE_INVALID.*not a trigger/);
      expect((await call(service, 'GET', '/v1/packages')).body.result.packages).toEqual([
        'contender',
        'dvp-settler',
        'failing',
        'token-auto-accept',
      ]);
      expect(
        (await call(service, 'GET', `/v1/triggers?party=${encodeURIComponent(bob)}`)).body.result.triggerIds,
      ).toHaveLength(2);
    } finally {
      await service.close();
    }
  });

  it('persists triggers in PostgreSQL and restarts them', async (ctx) => {
    if (await postgresSkipReason()) return ctx.skip();
    await withPostgresSchema(async (pg) => {
      const storage = storageSection(pg);
      let service = await start({ storage });
      try {
        const id = (
          await call(service, 'POST', '/v1/triggers', {
            triggerName: 'token-auto-accept:autoAccept',
            party: bob,
          })
        ).body.result.triggerId as string;
        await service.close();
        service = await start({ storage });
        const s = await eventually(async () => {
          const st = await triggerStatus(service, id);
          return st.status === 'running' ? st : undefined;
        }, 'the restarted trigger to run');
        expect(s.error).toBeUndefined();
        expect((await call(service, 'GET', '/readyz')).status).toBe(200);
      } finally {
        await service.close();
      }
    });
  });

  it('settles a DvP of traders on one participant as the venue on the other, on a heartbeat', async () => {
    const [p1, p2] = network.nodes as [(typeof network.nodes)[0], (typeof network.nodes)[0]];
    const [bankA, bankB, seller, buyer] = await Promise.all(
      ['bank-a', 'bank-b', 'seller', 'buyer'].map((h) => p1.allocateParty(h)),
    );
    const venue = await p2.allocateParty('venue');
    const TOKEN = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1';
    const APP = '#splice-token-test-trading-app:Splice.Testing.Apps.TradingApp';
    const noMeta = { values: {} };
    let n = 0;
    const submit = async (node: typeof p1, actAs: string[], commands: unknown[], readAs: string[] = []) => {
      const c = succeeded(await node.submit({ commands, actAs, readAs, commandId: `dvp-${n++}` }));
      return createdIn(node, actAs[0]!, c.updateId!);
    };
    const rules = async (admin: string) =>
      (
        await submit(
          p1,
          [admin],
          [{ CreateCommand: { templateId: `${TOKEN}:TokenRules`, createArguments: { admin } } }],
        )
      )[0]!;
    const mint = async (admin: string, owner: string, id: string, amount: string) =>
      (
        await submit(
          p1,
          [admin, owner],
          [
            {
              CreateCommand: {
                templateId: `${TOKEN}:Token`,
                createArguments: {
                  holding: { owner, instrumentId: { admin, id }, amount, lock: null, meta: noMeta },
                },
              },
            },
          ],
        )
      )[0]!;
    const [rulesA, rulesB] = [await rules(bankA!), await rules(bankB!)];
    const [sellerA, buyerB] = [
      await mint(bankA!, seller!, 'A', '100.0'),
      await mint(bankB!, buyer!, 'B', '50.0'),
    ];
    const legs = {
      'leg-a': {
        sender: seller,
        receiver: buyer,
        amount: '10.0',
        instrumentId: { admin: bankA, id: 'A' },
        meta: noMeta,
      },
      'leg-b': {
        sender: buyer,
        receiver: seller,
        amount: '20.0',
        instrumentId: { admin: bankB, id: 'B' },
        meta: noMeta,
      },
    };
    const [proposal] = await submit(
      p1,
      [seller!],
      [
        {
          CreateCommand: {
            templateId: `${APP}:OTCTradeProposal`,
            createArguments: { venue, tradeCid: null, approvers: [seller], transferLegs: legs },
          },
        },
      ],
    );
    const [approved] = await submit(
      p1,
      [buyer!],
      [
        {
          ExerciseCommand: {
            templateId: `${APP}:OTCTradeProposal`,
            contractId: proposal,
            choice: 'OTCTradeProposal_Accept',
            choiceArgument: { approver: buyer },
          },
        },
      ],
    );
    const hour = 3_600_000;
    const [prepareUntil, settleBefore] = [new Date(Date.now() + hour), new Date(Date.now() + 2 * hour)].map(
      (d) => d.toISOString(),
    );
    await createdIn(
      p2,
      venue,
      succeeded(
        await p2.submit({
          commands: [
            {
              ExerciseCommand: {
                templateId: `${APP}:OTCTradeProposal`,
                contractId: approved,
                choice: 'OTCTradeProposal_InitiateSettlement',
                choiceArgument: { prepareUntil, settleBefore },
              },
            },
          ],
          actAs: [venue],
          commandId: 'initiate',
        }),
      ).updateId!,
    );
    // Each trader allocates its leg for the trade the venue created (the allocation repeats the trade's creation time).
    const ledger = grpcTriggerLedger(new LedgerApiClient(network.urls[1]!));
    const trade = (await ledger.activeContracts(venue, await ledger.ledgerEnd())).find(
      (e) => e.templateId?.entityName === 'OTCTrade',
    )!;
    ledger.close();
    const { createdAt } = protoToJson({ sum: { oneofKind: 'record', record: trade.createArguments! } }) as {
      createdAt: string;
    };
    const allocate = (
      sender: string,
      admin: string,
      rulesCid: string,
      holding: string,
      legId: 'leg-a' | 'leg-b',
    ) =>
      submit(
        p1,
        [sender],
        [
          {
            ExerciseCommand: {
              templateId: `${TOKEN}:TokenRules`,
              contractId: rulesCid,
              choice: 'AllocationFactory_Allocate',
              choiceArgument: {
                expectedAdmin: admin,
                requestedAt: createdAt,
                inputHoldingCids: [holding],
                extraArgs: { context: noMeta, meta: noMeta },
                allocation: {
                  transferLegId: legId,
                  transferLeg: legs[legId],
                  settlement: {
                    executor: venue,
                    settlementRef: { id: 'OTCTradeProposal', cid: proposal },
                    requestedAt: createdAt,
                    allocateBefore: prepareUntil,
                    settleBefore,
                    meta: noMeta,
                  },
                },
              },
            },
          },
        ],
        [admin],
      );
    await allocate(seller!, bankA!, rulesA, sellerA, 'leg-a');
    await allocate(buyer!, bankB!, rulesB, buyerB, 'leg-b');

    const service = await start({ storage: { type: 'sqlite', file: join(dir, 'dvp.sqlite') } });
    try {
      const started = await call(service, 'POST', '/v1/triggers', {
        triggerName: 'dvp-settler:dvpSettler',
        party: venue,
      });
      const id = started.body.result.triggerId as string;
      // Each trader keeps its change and receives the other leg: a holding of the other bank's instrument.
      const instruments = async (owner: string) =>
        (await p1.activeContracts(owner)).contracts
          .filter((c) => c.contract.templateId.name.join('.') === 'Token')
          .map((c) => JSON.stringify(c.contract.arg, (_k, v) => (typeof v === 'bigint' ? String(v) : v)))
          .map((arg) => (arg.includes(bankA!) ? 'A' : 'B'))
          .sort();
      await eventually(
        async () => ((await instruments(buyer!)).join() === 'A,B' ? true : undefined),
        'the settlement',
      );
      expect(await instruments(seller!)).toEqual(['A', 'B']);
      const status = await triggerStatus(service, id);
      expect([status.status, status.submitted, status.rejected]).toEqual(['running', 1, 0]);
    } finally {
      await service.close();
    }
  });
});
