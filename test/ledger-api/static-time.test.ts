// The sandbox on static time (`weft sandbox --static-time`, Canton's sim clock), in this process: every node on one
// clock standing at the Unix epoch, transactions on it without anyone setting it, testing.TimeService moving it
// forward for both participants at once; and without static time the service is not served.
import { readFileSync } from 'node:fs';
import { type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { type Sandbox, startSandbox } from '../../src/cli/commands/sandbox.js';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { loadEngine } from '../../src/daml/engine/testing.js';
import type { Timestamp } from '../../src/generated/google/protobuf/timestamp.js';
import { TopologyMappingCode } from '../../src/generated/weft/topology/v1/topology.js';
import { ledgerApiErrorOf } from '../../src/ledger-api/index.js';
import { timestampMicros, timestampToProto } from '../../src/ledger-api/services/protobuf-time.js';
import { instantString } from '../../src/ledger-api/services/time.js';
import { eventually } from '../../src/mediator/testing.js';
import { ParticipantErrors } from '../../src/participant/errors.js';
import { tokenCommands } from '../../src/participant/testing.js';
import { TestLedgerClient } from './client.js';
import { protoCommands } from './commands.js';

const engine = loadEngine(TOKEN_DAR);
const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

async function sandbox(
  staticTime: boolean,
): Promise<{ p1: TestLedgerClient; p2: TestLedgerClient; s: Sandbox }> {
  const s = await startSandbox({
    publicPort: 0,
    adminPorts: { sequencer: 0, mediator: 0, participant1: 0, participant2: 0 },
    ledgerApiPorts: { participant1: 0, participant2: 0 },
    jsonApiPorts: { participant1: 0, participant2: 0 },
    pings: 1,
    version: 'test',
    out: () => {},
    ...(staticTime ? { staticTime } : {}),
  });
  closers.push(() => s.stop());
  const [p1, p2] = s.nodes
    .filter((n) => n.runtime.config.kind === 'participant')
    .map((n) => {
      const url = n.node.endpoints().find((e) => e.api === 'ledger-api')!.url;
      const c = new TestLedgerClient(url.replace(/^http:\/\//, ''));
      closers.push(() => c.close());
      return c;
    }) as [TestLedgerClient, TestLedgerClient];
  return { p1, p2, s };
}

/** The synchronizer's topology change delay (µs), as the sequencer lists its parameters. */
async function topologyChangeDelay(s: Sandbox): Promise<bigint | undefined> {
  const sequencer = s.nodes.find((n) => n.runtime.config.kind === 'sequencer')!;
  const admin = new AdminClient(sequencer.node.endpoints().find((e) => e.api === 'admin-api')!.url);
  try {
    const [current] = (
      await admin.listTopology({ mappingCode: TopologyMappingCode.SYNCHRONIZER_PARAMETERS_STATE })
    ).transactions;
    const mapping = current?.mapping?.mapping;
    return mapping?.oneofKind === 'synchronizerParametersState'
      ? mapping.synchronizerParametersState.parameters?.topologyChangeDelayMicros
      : undefined;
  } finally {
    admin.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('the call succeeded');
}

const at = (iso: string) => timestampToProto(BigInt(Date.parse(iso)) * 1000n);
const EPOCH = at('1970-01-01T00:00:00Z');

const time = async (c: TestLedgerClient) => (await c.unary(c.time, c.time.getTime, {})).currentTime;
const setTime = (c: TestLedgerClient, currentTime: Timestamp, newTime: Timestamp) =>
  c.unary(c.time, c.time.setTime, { currentTime, newTime });

describe('the sandbox on static time', () => {
  let p1: TestLedgerClient;
  let p2: TestLedgerClient;
  let alice: string;
  let bob: string;
  let s: Sandbox;

  beforeAll(async () => {
    ({ p1, p2, s } = await sandbox(true));
    const admins = s.nodes
      .filter((n) => n.runtime.config.kind === 'participant')
      .map((n) => new AdminClient(n.node.endpoints().find((e) => e.api === 'admin-api')!.url));
    for (const a of admins) closers.push(() => a.close());
    // Canton's default for a sim clock: changes take effect at once.
    expect(await topologyChangeDelay(s)).toBe(0n);
    for (const a of admins) await a.uploadDar(readFileSync(TOKEN_DAR));
    alice = await admins[0]!.enableParty('alice');
    bob = await admins[1]!.enableParty('bob');
  }, 120_000);

  const submit = (c: TestLedgerClient, commandId: string, commands: readonly unknown[], actAs: string[]) =>
    c.unary(c.commands, c.commands.submitAndWaitForTransaction, {
      commands: {
        workflowId: '',
        userId: 'static-time-test',
        commandId,
        commands: protoCommands(engine, commands),
        actAs,
        readAs: [],
        submissionId: '',
        disclosedContracts: [],
        synchronizerId: '',
        packageIdSelectionPreference: [],
        prefetchContractKeys: [],
        deduplicationPeriod: { oneofKind: undefined },
      },
    });
  type Submitted = Awaited<ReturnType<typeof submit>>;
  const created = (r: Submitted, template: string): string =>
    (r.transaction?.events ?? []).flatMap((e) =>
      e.event.oneofKind === 'created' && e.event.created.templateId?.entityName === template
        ? [e.event.created.contractId]
        : [],
    )[0]!;
  /** The transaction's ledger effective time, after checking its record time is within the tolerance of it. */
  const effectiveAt = (r: Submitted): Timestamp => {
    const let_ = timestampMicros(r.transaction!.effectiveAt!);
    const recorded = timestampMicros(r.transaction!.recordTime!);
    expect(recorded - let_).toBeGreaterThanOrEqual(0n);
    expect(recorded - let_).toBeLessThan(60_000_000n);
    return r.transaction!.effectiveAt!;
  };

  /** Waits until participant2 sees `offer` active for bob. */
  const reachesBob = (offer: string) =>
    eventually('the offer to reach bob', async () => {
      const { offset } = await p2.unary(p2.state, p2.state.getLedgerEnd, {});
      const acs = await p2.collect(p2.state, p2.state.getActiveContracts, {
        activeAtOffset: offset,
        eventFormat: { filtersByParty: { [bob]: { cumulative: [] } }, verbose: false },
      });
      return acs.some(
        (r) =>
          r.contractEntry.oneofKind === 'activeContract' &&
          r.contractEntry.activeContract.createdEvent?.contractId === offer,
      );
    });

  it('runs transactions on the standing time, and on the time SetTime moves it to', async () => {
    expect(await time(p1)).toEqual(EPOCH);
    expect(await time(p2)).toEqual(EPOCH);
    const version = await p1.unary(p1.version, p1.version.getLedgerApiVersion, {});
    expect(version.features?.experimental?.staticTime?.supported).toBe(true);

    // A create and an exercise while nobody moves the time: ledger time is the static time.
    const rules = await submit(p1, 'rules', [tokenCommands.rules(alice)], [alice]);
    expect(effectiveAt(rules)).toEqual(EPOCH);
    const minted = await submit(p1, 'mint-1', [tokenCommands.mint(alice, alice, '10.0')], [alice]);
    expect(effectiveAt(minted)).toEqual(EPOCH);
    const archived = await submit(
      p1,
      'archive',
      [
        {
          ExerciseCommand: {
            templateId: tokenCommands.mint(alice, alice, '0').CreateCommand.templateId,
            contractId: created(minted, 'Token'),
            choice: 'Archive',
            choiceArgument: {},
          },
        },
      ],
      [alice],
    );
    expect(archived.transaction?.events.map((e) => e.event.oneofKind)).toEqual(['archived']);
    expect(effectiveAt(archived)).toEqual(EPOCH);
    expect(await time(p1)).toEqual(EPOCH);

    // SetTime on participant1 moves the one clock of every node: participant2 reads the same time.
    const later = at('2026-01-01T00:00:00Z');
    await setTime(p1, EPOCH, later);
    expect(await time(p1)).toEqual(later);
    expect(await time(p2)).toEqual(later);

    // The token offer wants its request time (2025) in the past: true from now on. Bob, on participant2, accepts.
    const holding = await submit(p1, 'mint-2', [tokenCommands.mint(alice, alice, '5.0')], [alice]);
    expect(effectiveAt(holding)).toEqual(later);
    const offered = await submit(
      p1,
      'offer',
      [
        tokenCommands.offer({
          rules: created(rules, 'TokenRules'),
          admin: alice,
          sender: alice,
          receiver: bob,
          amount: '5.0',
          inputs: [created(holding, 'Token')],
        }),
      ],
      [alice],
    );
    expect(effectiveAt(offered)).toEqual(later);
    const offer = created(offered, 'TokenTransferOffer');
    await reachesBob(offer);
    const accepted = await submit(
      p2,
      'accept',
      [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
      [bob],
    );
    expect(effectiveAt(accepted)).toEqual(later);
  }, 60_000);

  it('refuses to set the time backwards or from a time that is not the current one', async () => {
    const before = (await time(p1))!;
    const now = timestampToProto(timestampMicros(before) + 3_600_000_000n);
    await setTime(p1, before, now);
    const iso = (t: Timestamp) => instantString(timestampMicros(t));
    const back = await failure(setTime(p1, now, before));
    expect(back.code).toBe(status.INVALID_ARGUMENT);
    expect(ledgerApiErrorOf(back)?.message).toBe(
      `new_time [${iso(before)}] is before current_time [${iso(now)}]. Setting time backwards is not allowed.`,
    );
    const stale = await failure(setTime(p1, before, timestampToProto(timestampMicros(now) + 1_000_000n)));
    expect(stale.code).toBe(status.INVALID_ARGUMENT);
    expect(ledgerApiErrorOf(stale)?.message).toBe(
      `current_time mismatch. Provided: ${iso(before)}. Actual: ${iso(now)}`,
    );
    expect(await time(p1)).toEqual(now);
  });

  it('times a request out only once SetTime passes its decision time, noticed with the next event', async () => {
    // The offer wants a time after 2025 (run alone, this test starts at the epoch).
    const current = (await time(p1))!;
    const june = at('2026-06-01T00:00:00Z');
    await setTime(p1, current, timestampMicros(current) > timestampMicros(june) ? current : june);
    const rules = await submit(p1, 'rules-2', [tokenCommands.rules(alice)], [alice]);
    const holding = await submit(p1, 'mint-3', [tokenCommands.mint(alice, alice, '1.0')], [alice]);
    const offered = await submit(
      p1,
      'offer-2',
      [
        tokenCommands.offer({
          rules: created(rules, 'TokenRules'),
          admin: alice,
          sender: alice,
          receiver: bob,
          amount: '1.0',
          inputs: [created(holding, 'Token')],
        }),
      ],
      [alice],
    );
    const offer = created(offered, 'TokenTransferOffer');
    await reachesBob(offer);
    // Alice's participant stops: bob's acceptance waits for a confirmation that never comes.
    await s.nodes.find((n) => n.runtime.config.name === 'participant1')!.runtime.stop();
    let outcome: 'pending' | ServiceError = 'pending';
    const accepting = submit(
      p2,
      'accept-2',
      [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
      [bob],
    ).then(
      () => {
        throw new Error('the acceptance committed without its signatory');
      },
      (e: ServiceError) => {
        outcome = e;
      },
    );
    // Real time passes, the ledger's time stands: nothing times out.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(outcome).toBe('pending');
    const now = (await time(p2))!;
    await setTime(p2, now, timestampToProto(timestampMicros(now) + 300_000_000n));
    // The next event, sequenced after the decision time, tells participant2 the stuck request timed out.
    await submit(p2, 'bob-rules', [tokenCommands.rules(bob)], [bob]);
    await accepting;
    expect(ledgerApiErrorOf(outcome)?.code).toBe(ParticipantErrors.LOCAL_VERDICT_TIMEOUT.code);
  }, 60_000);
});

describe('the sandbox on wall-clock time', () => {
  it('does not serve the TimeService (UNIMPLEMENTED, as Canton)', async () => {
    const { p1, s } = await sandbox(false);
    expect(await topologyChangeDelay(s)).toBe(250_000n);
    const e = await failure(time(p1));
    expect(e.code).toBe(status.UNIMPLEMENTED);
    const version = await p1.unary(p1.version, p1.version.getLedgerApiVersion, {});
    expect(version.features?.experimental?.staticTime?.supported ?? false).toBe(false);
  }, 60_000);
});
