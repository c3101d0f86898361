import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR, TRADING_DAR } from '../../src/daml/dar/testing.js';
import { type FatContract, valueToJson } from '../../src/daml/index.js';
import { commandDecoding } from '../../src/ledger-api/services/commands.js';
import { encodeContract } from '../../src/participant/contracts.js';
import type { Completion, ParticipantNode, SubmitRequest } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  TOKEN,
  tokenCommands,
} from '../../src/participant/testing.js';
import type { Storage } from '../../src/storage/index.js';

/**
 * Delivery versus payment over explicit disclosure. The banks (token admins) are on `banks`, alice on p1, bob on
 * p2, the venue on p3. Neither trader's participant knows its bank's TokenRules: each allocates its leg with the
 * rules disclosed to it as the Ledger API passes them (the created-event blob the bank's participant serializes,
 * decoded by the trader's), and the confirming participants check them. The venue then settles both legs in one
 * transaction. The disclosed rules reach only the participants of the views that use them: never the venue's.
 */

const APP = '#splice-token-test-trading-app:Splice.Testing.Apps.TradingApp';
const meta = { values: {} };
const extraArgs = { context: meta, meta };
const HOUR = 3_600_000_000n;

let net: ParticipantTestNetwork;
let banks: ParticipantNode;
let p1: ParticipantNode;
let p2: ParticipantNode;
let p3: ParticipantNode;
const party: Record<'bankA' | 'bankB' | 'alice' | 'bob' | 'venue', string> = {
  bankA: '',
  bankB: '',
  alice: '',
  bob: '',
  venue: '',
};
let n = 0;

async function submit(node: ParticipantNode, r: Omit<SubmitRequest, 'commandId'>): Promise<Completion> {
  const c = await node.submit({ ...r, commandId: `dvp-${n++}` });
  expect(c.status, c.message).toBe('succeeded');
  return c;
}

/** The contracts an update created, as `party` sees them on `node` (waiting for the update to arrive there). */
async function createdIn(node: ParticipantNode, who: string, updateId: string, template: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const u = (await node.updatesUpTo(who)).find((x) => x.updateId === updateId);
    if (u !== undefined)
      return u.events.flatMap((e) => (e.kind === 'created' && e.templateId.name[0] === template ? [e] : []));
    if (Date.now() > deadline) throw new Error(`update ${updateId} did not reach ${who}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The bank's rules as a trader's Ledger API receives them: a created-event blob, decoded by the trader's engine. */
async function disclosedRules(admin: string, trader: ParticipantNode, contractId?: string) {
  const { contracts } = await banks.activeContracts(admin);
  const rules = contracts.find(
    (c) =>
      c.contract.templateId.name[0] === 'TokenRules' &&
      (contractId === undefined || c.contract.contractId.coid === contractId),
  )!;
  const decoded: FatContract = commandDecoding(trader.engine).disclosedContract(
    encodeContract(rules.contract),
  );
  return { contract: decoded, synchronizerId: rules.synchronizerId };
}

/** Every stored value of a participant, as bytes (text and binary columns alike). */
async function storedBytes(storage: Storage): Promise<Buffer> {
  const tables = await storage.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
  const parts: Buffer[] = [];
  for (const { name } of tables)
    for (const row of await storage.query(`SELECT * FROM ${name}`))
      for (const v of Object.values(row))
        if (v !== null) parts.push(v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v)));
  return Buffer.concat(parts);
}

let rulesA = '';
let settled: Completion;

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'participant-disclosure-dvp' });
  [banks, p1, p2, p3] = (
    await Promise.all(['banks', 'p1', 'p2', 'p3'].map((x) => net.startParticipant(x)))
  ).map((p) => p.node) as [ParticipantNode, ParticipantNode, ParticipantNode, ParticipantNode];
  for (const p of [banks, p1, p2, p3]) {
    await p.uploadDar(readFileSync(TOKEN_DAR));
    await p.uploadDar(readFileSync(TRADING_DAR));
  }
  party.bankA = await banks.allocateParty('bank-a');
  party.bankB = await banks.allocateParty('bank-b');
  party.alice = await p1.allocateParty('alice');
  party.bob = await p2.allocateParty('bob');
  party.venue = await p3.allocateParty('venue');
  const { bankA, bankB, alice, bob, venue } = party;

  // Each bank issues to its trader: a holding of its own, offered and accepted.
  const issue = async (admin: string, trader: string, node: ParticipantNode, amount: string) => {
    const rules = await submit(banks, { actAs: [admin], commands: [tokenCommands.rules(admin)] });
    const [rulesEvent] = await createdIn(banks, admin, rules.updateId!, 'TokenRules');
    const minted = await submit(banks, {
      actAs: [admin],
      commands: [tokenCommands.mint(admin, admin, amount)],
    });
    const [own] = await createdIn(banks, admin, minted.updateId!, 'Token');
    const offer = await submit(banks, {
      actAs: [admin],
      commands: [
        tokenCommands.offer({
          rules: rulesEvent!.contractId,
          admin,
          sender: admin,
          receiver: trader,
          amount,
          inputs: [own!.contractId],
        }),
      ],
    });
    const [offered] = await createdIn(node, trader, offer.updateId!, 'TokenTransferOffer');
    const accepted = await submit(node, {
      actAs: [trader],
      commands: [tokenCommands.instruction(offered!.contractId, 'TransferInstruction_Accept')],
    });
    const [holding] = await createdIn(node, trader, accepted.updateId!, 'Token');
    return { rules: rulesEvent!.contractId, holding: holding!.contractId };
  };
  const a = await issue(bankA, alice, p1, '10.0');
  const b = await issue(bankB, bob, p2, '20.0');
  rulesA = a.rules;

  // The trade: proposed by alice, accepted by bob, turned into a trade by the venue.
  const legs = {
    'leg-a': {
      sender: alice,
      receiver: bob,
      amount: '10.0',
      instrumentId: { admin: bankA, id: 'TOK' },
      meta,
    },
    'leg-b': {
      sender: bob,
      receiver: alice,
      amount: '20.0',
      instrumentId: { admin: bankB, id: 'TOK' },
      meta,
    },
  };
  const exercise = (template: string, contractId: string, choice: string, choiceArgument: unknown) => ({
    ExerciseCommand: { templateId: template, contractId, choice, choiceArgument },
  });
  const proposed = await submit(p1, {
    actAs: [alice],
    commands: [
      {
        CreateCommand: {
          templateId: `${APP}:OTCTradeProposal`,
          createArguments: { venue, tradeCid: null, transferLegs: legs, approvers: [alice] },
        },
      },
    ],
  });
  const [proposal] = await createdIn(p2, bob, proposed.updateId!, 'OTCTradeProposal');
  const acceptedP = await submit(p2, {
    actAs: [bob],
    commands: [
      exercise(`${APP}:OTCTradeProposal`, proposal!.contractId, 'OTCTradeProposal_Accept', { approver: bob }),
    ],
  });
  const [both] = await createdIn(p3, venue, acceptedP.updateId!, 'OTCTradeProposal');
  const now = BigInt(Date.now()) * 1000n;
  const iso = (t: bigint) => new Date(Number(t / 1000n)).toISOString();
  const initiated = await submit(p3, {
    actAs: [venue],
    commands: [
      exercise(`${APP}:OTCTradeProposal`, both!.contractId, 'OTCTradeProposal_InitiateSettlement', {
        prepareUntil: iso(now + HOUR),
        settleBefore: iso(now + 2n * HOUR),
      }),
    ],
  });
  const [trade] = await createdIn(p3, venue, initiated.updateId!, 'OTCTrade');
  const tradeArg = valueToJson(trade!.argument) as Record<string, string>;
  const settlement = {
    executor: venue,
    settlementRef: { id: 'OTCTradeProposal', cid: proposal!.contractId },
    requestedAt: tradeArg.createdAt,
    allocateBefore: tradeArg.prepareUntil,
    settleBefore: tradeArg.settleBefore,
    meta,
  };

  // Each trader allocates its leg through its bank's rules, which its participant knows only as disclosed.
  const allocate = async (
    node: ParticipantNode,
    sender: string,
    admin: string,
    legId: 'leg-a' | 'leg-b',
    t: typeof a,
  ) => {
    const command = exercise(`${TOKEN}:TokenRules`, t.rules, 'AllocationFactory_Allocate', {
      expectedAdmin: admin,
      allocation: { settlement, transferLegId: legId, transferLeg: legs[legId] },
      requestedAt: tradeArg.createdAt,
      inputHoldingCids: [t.holding],
      extraArgs,
    });
    await expect(
      node.submit({ actAs: [sender], commands: [command], commandId: `undisclosed-${legId}` }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/CONTRACT_NOT_FOUND/),
    });
    const done = await submit(node, {
      actAs: [sender],
      commands: [command],
      disclosedContracts: [await disclosedRules(admin, node)],
    });
    const [allocation] = await createdIn(p3, venue, done.updateId!, 'TokenAllocation');
    return allocation!.contractId;
  };
  const allocationA = await allocate(p1, alice, bankA, 'leg-a', a);
  const allocationB = await allocate(p2, bob, bankB, 'leg-b', b);

  settled = await submit(p3, {
    actAs: [venue],
    commands: [
      exercise(`${APP}:OTCTrade`, trade!.contractId, 'OTCTrade_Settle', {
        allocationsWithContext: {
          'leg-a': { _1: allocationA, _2: extraArgs },
          'leg-b': { _1: allocationB, _2: extraArgs },
        },
      }),
    ],
  });
}, 240_000);

afterAll(async () => {
  await net?.close();
});

describe('DvP with disclosed contracts across participants', () => {
  it('settles both legs: each trader holds the other leg', async () => {
    const holdings = async (node: ParticipantNode, who: string) =>
      (await createdIn(node, who, settled.updateId!, 'Token'))
        .map((e) => valueToJson(e.argument) as { holding: { owner: string; amount: string } })
        .filter((h) => h.holding.owner === who)
        .map((h) => h.holding.amount);
    expect(await holdings(p1, party.alice)).toEqual(['20.0000000000']);
    expect(await holdings(p2, party.bob)).toEqual(['10.0000000000']);
  });

  it("is refused by the stakeholders' participant when the disclosed contract is no longer active", async () => {
    const { bankA, alice, bob } = party;
    const made = await submit(banks, { actAs: [bankA], commands: [tokenCommands.rules(bankA)] });
    const [stale] = await createdIn(banks, bankA, made.updateId!, 'TokenRules');
    const disclosed = await disclosedRules(bankA, p2, stale!.contractId);
    await submit(banks, {
      actAs: [bankA],
      commands: [
        {
          ExerciseCommand: {
            templateId: `${TOKEN}:TokenRules`,
            contractId: stale!.contractId,
            choice: 'Archive',
            choiceArgument: {},
          },
        },
      ],
    });
    const [bobsA] = (await createdIn(p2, bob, settled.updateId!, 'Token')).filter(
      (e) => (valueToJson(e.argument) as { holding: { owner: string } }).holding.owner === bob,
    );
    const c = await p2.submit({
      actAs: [bob],
      commands: [
        tokenCommands.offer({
          rules: stale!.contractId,
          admin: bankA,
          sender: bob,
          receiver: alice,
          amount: '1.0',
          inputs: [bobsA!.contractId],
        }),
      ],
      disclosedContracts: [disclosed],
      commandId: 'stale-rules',
    });
    expect(c.status).toBe('failed');
    expect(c.code).toBe('LOCAL_VERDICT_INACTIVE_CONTRACTS');
  });

  it('keeps the disclosed rules from the participants that do not need them', async () => {
    await Promise.all([p1, p2, p3, banks].map((p) => p.validationsSettled()));
    // By node, not by start order: the participants started concurrently.
    const storageOf = (node: ParticipantNode) => net.participants.find((p) => p.node === node)!.storage;
    const stored = await Promise.all([banks, p1, p2, p3].map((p) => storedBytes(storageOf(p))));
    const [atBanks, atP1, atP2, atP3] = stored;
    const has = (bytes: Buffer, cid: string) =>
      bytes.includes(Buffer.from(cid)) || bytes.includes(Buffer.from(cid, 'hex'));
    expect(has(atBanks!, rulesA)).toBe(true);
    expect(has(atP1!, rulesA)).toBe(true); // alice's participant used them (and got them as a view input)
    expect(has(atP2!, rulesA)).toBe(false);
    expect(has(atP3!, rulesA)).toBe(false); // the venue saw the allocation, not the rules it came from
  });
});
