import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ILLFORMED_DAR, TOKEN_DAR, testDar } from '../../src/daml/dar/testing.js';
import { readDar } from '../../src/daml/index.js';
import { CommonErrors } from '../../src/errors/index.js';
import { type Completion, ParticipantErrors, type ParticipantNode } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  tokenCommands,
} from '../../src/participant/testing.js';
import { systemClock } from '../../src/time/index.js';
import { created, failure, succeeded } from './expect.js';

/**
 * What the Ledger API's command, completion, inspection, package and party services ask of a participant: p1 hosts
 * the token admin and alice, p2 hosts bob; both have the token DAR.
 */

let net: ParticipantTestNetwork;
let p1: ParticipantNode;
let p2: ParticipantNode;
let admin: string;
let alice: string;
let bob: string;
let rules: string;
let n = 0;

const cmdId = (what: string) => `${what}-${n++}`;
const mintCommand = (owner = alice, amount = '1.0') => ({
  commands: [tokenCommands.mint(admin, owner, amount)],
  actAs: [admin, owner],
  commandId: cmdId('mint'),
});

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'participant-commands' });
  [p1, p2] = (await Promise.all(['p1', 'p2'].map((name) => net.startParticipant(name)))).map(
    (p) => p.node,
  ) as [ParticipantNode, ParticipantNode];
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all([p1.uploadDar(dar), p2.uploadDar(dar)]);
  [admin, alice] = [await p1.allocateParty('admin'), await p1.allocateParty('alice')];
  bob = await p2.allocateParty('bob');
  const c = succeeded(
    await p1.submit({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' }),
  );
  rules = (await created(p1, admin, c.updateId!, 'TokenRules'))[0]!;
}, 60_000);

afterAll(async () => {
  await net?.close();
});

describe('submissions', () => {
  it('get a random submission id unless they bring one', async () => {
    const generated = succeeded(await p1.submit(mintCommand()));
    expect(generated.submissionId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const given = succeeded(await p1.submit({ ...mintCommand(), submissionId: 'mine' }));
    expect(given.submissionId).toBe('mine');
  });

  it('are deduplicated within the period they name, by duration or by offset', async () => {
    const command = mintCommand();
    const first = succeeded(await p1.submit({ ...command, submissionId: 'first' }));
    const dup = await failure(p1.submit(command));
    expect(dup.code).toBe(ParticipantErrors.DUPLICATE_COMMAND.code);
    expect(dup.context).toMatchObject({ existing_submission_id: 'first', offset: first.offset });
    // A period that starts at the accepted command's offset (exclusive) does not contain it.
    const afterIt = succeeded(
      await p1.submit({ ...command, deduplicationPeriod: { kind: 'offset', offset: first.offset } }),
    );
    const byOffset = await failure(
      p1.submit({ ...command, deduplicationPeriod: { kind: 'offset', offset: afterIt.offset - 1n } }),
    );
    expect(byOffset.code).toBe(ParticipantErrors.DUPLICATE_COMMAND.code);
    expect(byOffset.context).toMatchObject({ offset: afterIt.offset });
    // An empty duration deduplicates nothing that completed.
    succeeded(await p1.submit({ ...command, deduplicationPeriod: { kind: 'duration', micros: 0n } }));
    const tooLong = await failure(
      p1.submit({
        ...command,
        deduplicationPeriod: {
          kind: 'duration',
          micros: BigInt(p1.settings.deduplicationWindowMs + 1) * 1000n,
        },
      }),
    );
    expect(tooLong.code).toBe(ParticipantErrors.INVALID_DEDUPLICATION_PERIOD.code);
    expect(tooLong.context).toMatchObject({
      longest_duration: `${p1.settings.deduplicationWindowMs / 1000}s`,
    });
  });

  it('take the minimum ledger time they ask for', async () => {
    const before = systemClock.now();
    const c = succeeded(await p1.submit({ ...mintCommand(), minLedgerTimeRel: 2_000_000n }));
    const update = (await p1.updatesUpTo(admin)).find((u) => u.updateId === c.updateId)!;
    expect(update.ledgerTime).toBeGreaterThanOrEqual(before + 2_000_000n);
    const both = await failure(
      p1.submit({ ...mintCommand(), minLedgerTimeRel: 1n, minLedgerTimeAbs: systemClock.now() }),
    );
    expect(both.code).toBe(CommonErrors.INVALID_ARGUMENT.code);
  });

  it('use contracts disclosed to them that their participant does not know', async () => {
    // bob gets a holding from alice, then offers it back through the admin's rules, which p2 has never seen.
    const token = succeeded(await p1.submit(mintCommand(alice, '3.0')));
    const [holding] = await created(p1, admin, token.updateId!, 'Token');
    const offer = succeeded(
      await p1.submit({
        commands: [
          tokenCommands.offer({
            rules,
            admin,
            sender: alice,
            receiver: bob,
            amount: '3.0',
            inputs: [holding!],
          }),
        ],
        actAs: [alice],
        readAs: [admin],
        commandId: cmdId('offer'),
      }),
    );
    const [offerId] = await created(p1, alice, offer.updateId!, 'TokenTransferOffer');
    const accepted = succeeded(
      await p2.submit({
        commands: [tokenCommands.instruction(offerId!, 'TransferInstruction_Accept')],
        actAs: [bob],
        commandId: cmdId('accept'),
      }),
    );
    const [bobs] = await created(p2, bob, accepted.updateId!, 'Token');
    const offerBack = {
      commands: [
        tokenCommands.offer({ rules, admin, sender: bob, receiver: alice, amount: '3.0', inputs: [bobs!] }),
      ],
      actAs: [bob],
      commandId: cmdId('offer-back'),
    };
    const unknown = await failure(p2.submit(offerBack));
    expect(unknown.code).toMatch(/CONTRACT_NOT_FOUND|NOT_ACTIVE/);
    const rulesContract = (await p1.activeContracts(admin)).contracts.find(
      (c) => c.contract.contractId.coid === rules,
    )!;
    const tampered = { ...rulesContract.contract, createdAt: rulesContract.contract.createdAt! + 1n };
    const forged = await failure(
      p2.submit({ ...offerBack, disclosedContracts: [{ contract: tampered, synchronizerId: undefined }] }),
    );
    expect(forged.code).toBe(ParticipantErrors.DISCLOSED_CONTRACT_AUTHENTICATION_FAILED.code);
    const disclosed = succeeded(
      await p2.submit({
        ...offerBack,
        disclosedContracts: [
          { contract: rulesContract.contract, synchronizerId: rulesContract.synchronizerId },
        ],
      }),
    );
    expect(await created(p2, bob, disclosed.updateId!, 'TokenTransferOffer')).toHaveLength(1);
  });
});

describe('completions', () => {
  it('stream per user and acting parties, from an offset, and as they come', async () => {
    const start = p1.ledgerEnd();
    const abort = new AbortController();
    const seen: Completion[] = [];
    const streamed = (async () => {
      for await (const c of p1.completions(
        { userId: 'u1', parties: new Set([alice]) },
        { after: start, signal: abort.signal },
      )) {
        seen.push(c);
        if (seen.length === 2) abort.abort();
      }
    })();
    const mine = succeeded(await p1.submit({ ...mintCommand(), userId: 'u1' }));
    succeeded(await p1.submit({ ...mintCommand(), userId: 'u2' }));
    succeeded(
      await p1.submit({
        commands: [tokenCommands.rules(admin)],
        actAs: [admin],
        userId: 'u1',
        commandId: cmdId('rules'),
      }),
    );
    const last = succeeded(await p1.submit({ ...mintCommand(), userId: 'u1' }));
    await streamed;
    expect(seen.map((c) => c.offset)).toEqual([mine.offset, last.offset]);
    expect(seen.every((c) => c.userId === 'u1')).toBe(true);
    // From an offset: the first is left out.
    const replay: Completion[] = [];
    const again = new AbortController();
    for await (const c of p1.completions(
      { userId: 'u1', parties: new Set([alice]) },
      { after: mine.offset, signal: again.signal },
    )) {
      replay.push(c);
      again.abort();
    }
    expect(replay.map((c) => c.offset)).toEqual([last.offset]);
  });
});

describe('command inspection', () => {
  it('shows recent submissions with their state, effects and request size', async () => {
    const ok = succeeded(await p1.submit({ ...mintCommand(), commandId: 'inspect-ok' }));
    await failure(
      p1.submit({
        ...mintCommand(),
        commandId: 'inspect-bad',
        commands: [{ CreateCommand: { templateId: '#nope:A:B', createArguments: {} } }],
      }),
    );
    const all = p1.commandStatuses({ commandIdPrefix: 'inspect-', state: undefined, limit: 10 });
    expect(all.map((s) => [s.commandId, s.state])).toEqual([
      ['inspect-bad', 'failed'],
      ['inspect-ok', 'succeeded'],
    ]);
    const [bad, good] = all;
    expect(bad!.completion).toMatchObject({ status: 'failed', code: 'DAML_COMMAND_INVALID' });
    expect(good!.completion).toMatchObject({ offset: ok.offset, updateId: ok.updateId });
    expect(good!.updates?.created.map((c) => c.templateId.name.join('.'))).toEqual(['Token']);
    expect(good!.statistics?.envelopes).toBeGreaterThan(0);
    expect(good!.commands).toHaveLength(1);
    expect(p1.commandStatuses({ commandIdPrefix: 'inspect-', state: 'succeeded', limit: 10 })).toHaveLength(
      1,
    );
    expect(p1.commandStatuses({ commandIdPrefix: 'inspect-', state: undefined, limit: 1 })).toHaveLength(1);
  });
});

describe('parties and packages', () => {
  it('knows the parties of the synchronizer, hosted here or not', () => {
    const known = p2.knownParties();
    expect(known).toContainEqual({ party: bob, local: true });
    expect(known).toContainEqual({ party: alice, local: false });
    expect(known).toContainEqual({ party: String(p1.adminParty), local: false });
    expect(known).toContainEqual({ party: String(p2.adminParty), local: true });
  });

  it('validates a DAR without storing it, and serves the packages it stores', async () => {
    const holding = readFileSync(testDar('splice-token-test-dummy-holding-0.0.1.dar'));
    const before = (await p2.dars()).length;
    p2.validateDar(holding);
    expect((await p2.dars()).length).toBe(before);
    expect(() => p2.validateDar(readFileSync(ILLFORMED_DAR))).toThrow(/DAML_LF|type/i);
    const known = await p2.knownPackages();
    const main = readDar(readFileSync(TOKEN_DAR)).main;
    const token = known.find((p) => p.packageId === main.id)!;
    expect(token).toMatchObject({ name: main.metadata.name, version: main.metadata.version });
    const payload = (await p2.packagePayload(main.id))!;
    expect(payload.byteLength).toBe(token.size);
    expect(createHash('sha256').update(payload).digest('hex')).toBe(main.id);
    expect(await p2.packagePayload('00'.repeat(32))).toBeUndefined();
  });

  it('vets and unvets packages, guarded by the serial of its last vetting', async () => {
    const dar = readFileSync(testDar('splice-token-test-dummy-holding-0.0.1.dar'));
    const mainId = await p2.uploadDar(dar, { vet: false });
    const before = p2.vetting();
    expect(before.packages.map((p) => p.packageId)).not.toContain(mainId);
    const stale = await failure(
      p2.updateVetting([...before.packages, { packageId: mainId }], {
        dryRun: false,
        expectedSerial: before.serial - 1,
      }),
    );
    expect(stale.code).toBe(CommonErrors.FAILED_PRECONDITION.code);
    const dry = await p2.updateVetting([...before.packages, { packageId: mainId }], { dryRun: true });
    expect(dry.after.serial).toBe(before.serial + 1);
    expect(p2.vetting().serial).toBe(before.serial);
    const { after } = await p2.updateVetting([...before.packages, { packageId: mainId }], {
      dryRun: false,
      expectedSerial: before.serial,
    });
    expect(after.serial).toBe(before.serial + 1);
    expect(p2.vetting().packages.map((p) => p.packageId)).toContain(mainId);
    await p2.updateVetting(before.packages, { dryRun: false });
    expect(p2.vetting().packages.map((p) => p.packageId)).not.toContain(mainId);
  });
});
