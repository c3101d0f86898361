import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDarFile } from '../../src/daml/dar/index.js';
import { DUMMY_HOLDING_DARS, relabelledDar, TRADING_APP_DARS } from '../../src/daml/dar/testing.js';
import { type ExerciseNode, getNode } from '../../src/daml/index.js';
import type { Completion, ParticipantNode, SubmitRequest } from '../../src/participant/index.js';
import { type ParticipantTestNetwork, participantTestNetwork } from '../../src/participant/testing.js';

/**
 * Smart-contract upgrades across participants. p1 has the trading app 1.0.0–1.0.2, p2 only 1.0.0 and 1.0.1. A
 * proposal of alice (p1) with bob and the venue (p2) as observers is created with the oldest version, accepted by
 * bob through the newest version p2 has, and exercised by alice through `#name` (topology-aware selection picks
 * 1.0.1, the newest that both vetted) and back through 1.0.0; every confirming participant reinterprets the
 * upgraded contract. A pin to 1.0.2 is refused (p2 has not vetted it), as is an invalid upgrade upload.
 */

const NAME = 'splice-token-test-trading-app';
const APP = 'Splice.Testing.Apps.TradingApp';
const [V0, V1, V2] = TRADING_APP_DARS.map((f) => readDarFile(f).main.id) as [string, string, string];
const meta = { values: {} };

let net: ParticipantTestNetwork;
let p1: ParticipantNode;
let p2: ParticipantNode;
let alice: string;
let bob: string;
let venue: string;

const submit = async (node: ParticipantNode, r: Omit<SubmitRequest, 'commandId'>, commandId: string) => {
  const c = await node.submit({ ...r, commandId });
  return c;
};
const ok = (c: Completion) => {
  expect(c.status, c.message).toBe('succeeded');
  return c;
};

/** The package of the root exercise of an update, as p2 (a confirming participant) recorded it. */
async function rootPackage(node: ParticipantNode, updateId: string): Promise<string> {
  // The other participant commits the update in its own time.
  const deadline = Date.now() + 30_000;
  let tx = await node.transactionTree(updateId);
  while (tx === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    tx = await node.transactionTree(updateId);
  }
  if (tx === undefined) throw new Error(`update ${updateId} did not reach the participant`);
  return (getNode(tx, tx.roots[0]!) as ExerciseNode).templateId.packageId;
}

async function created(node: ParticipantNode, party: string, updateId: string): Promise<string> {
  const u = (await node.updatesUpTo(party)).find((x) => x.updateId === updateId)!;
  return u.events.flatMap((e) => (e.kind === 'created' ? [e.contractId] : []))[0]!;
}

const proposal = (pkg: string) => ({
  CreateCommand: {
    templateId: `${pkg}:${APP}:OTCTradeProposal`,
    createArguments: {
      venue,
      tradeCid: null,
      transferLegs: {
        leg: { sender: alice, receiver: bob, amount: '1.0', instrumentId: { admin: venue, id: 'X' }, meta },
      },
      approvers: [alice],
    },
  },
});
const exercise = (pkg: string, contractId: string, choice: string, choiceArgument: object) => ({
  ExerciseCommand: { templateId: `${pkg}:${APP}:OTCTradeProposal`, contractId, choice, choiceArgument },
});

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'participant-upgrades' });
  [p1, p2] = (await Promise.all(['p1', 'p2'].map((n) => net.startParticipant(n)))).map((p) => p.node) as [
    ParticipantNode,
    ParticipantNode,
  ];
  for (const f of TRADING_APP_DARS) await p1.uploadDar(readFileSync(f));
  for (const f of TRADING_APP_DARS.slice(0, 2)) await p2.uploadDar(readFileSync(f));
  alice = await p1.allocateParty('alice');
  bob = await p2.allocateParty('bob');
  venue = await p2.allocateParty('venue');
}, 120_000);

afterAll(async () => {
  await net?.close();
});

describe('smart-contract upgrades across participants', () => {
  it('creates with the oldest version, exercises through newer ones and back, as each participant vetted', async () => {
    const made = ok(await submit(p1, { actAs: [alice], commands: [proposal(V0)] }, 'create-1.0.0'));
    const first = await created(p1, alice, made.updateId!);
    // bob on p2: `#name` is 1.0.1 there, the newest p2 has; p1 confirms alice's part of it with 1.0.1.
    const accepted = ok(
      await submit(
        p2,
        {
          actAs: [bob],
          commands: [exercise(`#${NAME}`, first, 'OTCTradeProposal_Accept', { approver: bob })],
        },
        'accept',
      ),
    );
    expect(await rootPackage(p1, accepted.updateId!)).toBe(V1);
    const second = await created(p1, alice, accepted.updateId!);

    // A pin to 1.0.2 is refused: bob's and the venue's participant has not vetted it.
    await expect(
      submit(
        p1,
        { actAs: [alice], commands: [exercise(V2, second, 'OTCTradeProposal_Reject', { trader: alice })] },
        'pinned-1.0.2',
      ),
    ).rejects.toMatchObject({
      code: 'PACKAGE_NOT_VETTED_BY_RECIPIENTS',
      message: expect.stringContaining(V2),
    });

    // alice on p1 by name: p1 would take 1.0.2, topology-aware selection takes 1.0.1, vetted by both.
    const byName = ok(
      await submit(
        p1,
        {
          actAs: [alice],
          commands: [exercise(`#${NAME}`, second, 'OTCTradeProposal_Reject', { trader: alice })],
        },
        'reject-by-name',
      ),
    );
    expect(await rootPackage(p2, byName.updateId!)).toBe(V1);
    // And back: a proposal created by name (1.0.1, as both vetted) is rejected through 1.0.0, by preference.
    const third = ok(
      await submit(p1, { actAs: [alice], commands: [proposal(`#${NAME}`)] }, 'create-by-name'),
    );
    const event = (await p1.updatesUpTo(alice))
      .find((u) => u.updateId === third.updateId)!
      .events.find((e) => e.kind === 'created')!;
    expect(event.kind === 'created' && event.templateId.packageId).toBe(V1);
    const back = ok(
      await submit(
        p1,
        {
          actAs: [alice],
          commands: [exercise(`#${NAME}`, event.contractId, 'OTCTradeProposal_Reject', { trader: alice })],
          packagePreference: [V0],
        },
        'reject-1.0.0',
      ),
    );
    expect(await rootPackage(p2, back.updateId!)).toBe(V0);
  }, 120_000);

  it('refuses an upload that is not a valid upgrade, and keeps what it had', async () => {
    await p2.uploadDar(readFileSync(DUMMY_HOLDING_DARS[3]!));
    const before = (await p2.knownPackages()).length;
    const bad = relabelledDar(DUMMY_HOLDING_DARS[0]!, '0.0.1', '0.0.5');
    await expect(p2.uploadDar(bad)).rejects.toMatchObject({ code: 'DAR_NOT_VALID_UPGRADE' });
    expect((await p2.knownPackages()).length).toBe(before);
    expect(
      p2.vetting().packages.some((p) => p.packageId === readDarFile(DUMMY_HOLDING_DARS[3]!).main.id),
    ).toBe(true);
  }, 60_000);
});
