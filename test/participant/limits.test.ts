import { afterAll, beforeAll, expect, it } from 'vitest';
import { ParticipantErrors, type ParticipantNode, PING_TEMPLATE } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  tokenCommands,
} from '../../src/participant/testing.js';
import { describeBackends, postgresUnavailableReason } from '../../src/storage/testing.js';
import { created, failure, succeeded, tokenParties } from './expect.js';

/**
 * The participant's bounds, each hit on a network whose participants store on the backend: p1 (the token admin and
 * alice) admits two submissions at a time and caches two contracts, p3 (carol) validates one request at a time;
 * p2 hosts bob.
 */
describeBackends('participant limits', (backend) => {
  let net: ParticipantTestNetwork | undefined;
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

  const value = async (
    metric: { get(): Promise<{ values: { labels: object; value: number }[] }> },
    labels = {},
  ) =>
    (await metric.get()).values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))?.value ?? 0;

  const mint = (amount: string) =>
    p1.submit({
      commands: [tokenCommands.mint(admin, alice, amount)],
      actAs: [admin, alice],
      commandId: cmdId('mint'),
    });

  const offer = (token: string) =>
    p1.submit({
      commands: [
        tokenCommands.offer({ rules, admin, sender: alice, receiver: bob, amount: '1.0', inputs: [token] }),
      ],
      actAs: [alice],
      readAs: [admin],
      commandId: cmdId('offer'),
    });

  beforeAll(async () => {
    if (backend.kind === 'postgres' && (await postgresUnavailableReason()) !== undefined) return;
    net = await participantTestNetwork({ seed: `participant-limits-${backend.kind}` });
    const start = (name: string, settings: Parameters<ParticipantTestNetwork['startParticipant']>[1] = {}) =>
      net!.startParticipant(name, { config: backend.freshConfig(), ...settings });
    p1 = (await start('p1', { node: { settings: { maxSubmissionsInFlight: 2, contractCacheSize: 2 } } }))
      .node;
    p2 = (await start('p2')).node;
    p3 = (await start('p3', { node: { settings: { maxValidationsInFlight: 1 } } })).node;
    ({ admin, alice, bob, carol, rules } = await tokenParties(p1, p2, p3));
  }, 60_000);

  afterAll(async () => {
    await net?.close();
  });

  it('refuses a submission beyond maxSubmissionsInFlight with PARTICIPANT_OVERLOADED, then takes new ones', async () => {
    const admitted = [mint('1.0'), mint('2.0')];
    const refused = await failure(mint('3.0'));
    expect(refused.code).toBe(ParticipantErrors.PARTICIPANT_OVERLOADED.code);
    expect(refused.category).toBe('ContentionOnSharedResources');
    for (const c of await Promise.all(admitted)) succeeded(c);
    expect(p1.submissionsInFlight).toBe(0);
    expect(await value(p1.metrics.submissionsInFlight)).toBe(0);
    expect(await value(p1.metrics.submissions, { result: 'PARTICIPANT_OVERLOADED' })).toBe(1);
    succeeded(await mint('3.0'));
  });

  it('back-pressures event processing at maxValidationsInFlight, and loses no request', async () => {
    const pings = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        p3.submit({
          commands: [
            {
              CreateCommand: {
                templateId: PING_TEMPLATE,
                createArguments: { id: `burst-${i}`, initiator: carol, responder: carol },
              },
            },
          ],
          actAs: [carol],
          commandId: cmdId('burst'),
        }),
      ),
    );
    for (const c of pings) succeeded(c);
    expect(await value(p3.metrics.validationWaits)).toBeGreaterThan(0);
    await p3.validationsSettled();
    expect(await value(p3.metrics.validationsInFlight)).toBe(0);
    expect(await p3.ping(p2.id)).toBeGreaterThan(0);
  });

  it('detects conflicts right with a contract cache smaller than the active contract set', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = succeeded(await mint('1.0'));
      tokens.push((await created(p1, alice, c.updateId!, 'Token'))[0]!);
    }
    // Each offer archives a holding the cache evicted long ago: conflict detection reads it from the database.
    for (const token of tokens.slice(0, 4)) succeeded(await offer(token));
    const last = tokens[4]!;
    const results = await Promise.all([offer(last), offer(last)]);
    expect(results.filter((c) => c.status === 'succeeded')).toHaveLength(1);
    expect([
      ParticipantErrors.LOCAL_VERDICT_LOCKED_CONTRACTS.code,
      ParticipantErrors.LOCAL_VERDICT_INACTIVE_CONTRACTS.code,
    ]).toContain(results.find((c) => c.status === 'failed')?.code);
    // Spent already: the submitter finds it archived in the database.
    expect((await failure(offer(tokens[0]!))).code).toBe('DAML_CONTRACT_NOT_ACTIVE');
    const active = (await p1.activeContracts(alice)).contracts.map((c) => c.contract.contractId.coid);
    for (const token of tokens) expect(active).not.toContain(token);
    expect(await value(p1.metrics.cachedContracts)).toBeLessThanOrEqual(2);
    expect(await value(p1.metrics.contractLookups, { source: 'database' })).toBeGreaterThan(0);
    expect(p1.pendingRequests).toBe(0);
  });
});
