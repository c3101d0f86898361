import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import type { ConfirmationResultMessage } from '../../src/generated/weft/protocol/v1/confirmation_result.js';
import { eventually, mediatorTestNetwork, type SimParticipant } from '../../src/mediator/testing.js';
import { localApprove, summarizeVerdict, type ViewInput } from '../../src/protocol/index.js';
import type { PostgresConfig, SqliteConfig } from '../../src/storage/index.js';
import { describeBackend, pgTestUrl } from '../../src/storage/testing.js';

/**
 * Storage faults heal, for the mediator (issue 13): its verdict writer and topology processing wait out a database
 * that fails transiently, report it as not ready meanwhile, and deliver each verdict once afterwards.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const view = (informees: readonly string[], confirming: readonly string[]): ViewInput => ({
  informees,
  confirmingParties: confirming,
  threshold: confirming.length,
  participantData: Buffer.from('view data'),
  subviews: [],
});

function expectApprove(v: ConfirmationResultMessage): void {
  expect(summarizeVerdict(v.verdict)).toEqual({ kind: 'approve' });
}

/** Submits a request confirmed by p0 alone, and its response. */
async function approved(p0: SimParticipant, p1: SimParticipant) {
  const request = await p0.submit({
    views: [view([p0.party, p1.party], [p0.party])],
    informeeParticipants: [p0.id, p1.id],
  });
  await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
  return request;
}

describeBackend('sqlite', 'the mediator and its storage', (backend) => {
  it('waits out another process holding its SQLite file past the busy timeout', async () => {
    const net = await mediatorTestNetwork({ seed: 'faults-mediator-sqlite' });
    cleanups.push(() => net.close());
    const config = { ...(backend.freshConfig() as SqliteConfig), busyTimeoutMs: 300 };
    const storage = await backend.open(config);
    const mediator = await net.startMediator(storage);
    const [p0, p1] = net.participants as [SimParticipant, SimParticipant];
    const intruder = new Database(config.path);
    intruder.exec('BEGIN IMMEDIATE');
    const request = await approved(p0, p1);
    await eventually(
      'the mediator waiting for its storage',
      async () => (await mediator.readiness())?.startsWith('waiting for the storage') === true,
    );
    // The verdict goes out while its write waits for the database: the send does not wait for the write.
    for (const p of [p0, p1]) expectApprove(await p.verdict(request.requestId));
    expect(await mediator.verdict(request.requestId)).toBeUndefined();
    intruder.exec('COMMIT');
    intruder.close();
    await eventually('the mediator ready again', async () => (await mediator.readiness()) === undefined);
    await eventually(
      'the audit record',
      async () => (await mediator.verdict(request.requestId)) !== undefined,
    );
    // A later request: by then a second copy of the first verdict would have arrived.
    const next = await approved(p0, p1);
    expectApprove(await p0.verdict(next.requestId));
    expect(p0.verdicts(request.requestId)).toHaveLength(1);
    expect(mediator.mediator.failure).toBeUndefined();
  });
});

describeBackend('postgres', 'the mediator and its storage', (backend) => {
  it('decides every request once while its PostgreSQL connections are terminated', async () => {
    const net = await mediatorTestNetwork({ seed: 'faults-mediator-postgres' });
    cleanups.push(() => net.close());
    const tag = `weft_faults_mediator_${randomBytes(4).toString('hex')}`;
    const fresh = backend.freshConfig() as PostgresConfig;
    const url = new URL(fresh.url);
    url.searchParams.set('application_name', tag);
    const storage = await backend.open({ ...fresh, url: url.toString() });
    const mediator = await net.startMediator(storage);
    const [p0, p1] = net.participants as [SimParticipant, SimParticipant];
    const killer = new pg.Client({ connectionString: pgTestUrl() });
    killer.on('error', () => {});
    await killer.connect();
    cleanups.push(() => killer.end());
    let terminated = 0;
    const requests = [];
    for (let i = 0; i < 6; i++) {
      const { rowCount } = await killer.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [tag],
      );
      terminated += rowCount ?? 0;
      requests.push(await approved(p0, p1));
      await sleep(50);
    }
    expect(terminated).toBeGreaterThan(0);
    for (const request of requests) {
      for (const p of [p0, p1]) expectApprove(await p.verdict(request.requestId));
    }
    await eventually('the mediator ready', async () => (await mediator.readiness()) === undefined);
    const next = await approved(p0, p1);
    expectApprove(await p0.verdict(next.requestId));
    for (const request of requests) expect(p0.verdicts(request.requestId)).toHaveLength(1);
    expect(mediator.mediator.failure).toBeUndefined();
    await eventually('every verdict recorded', async () => (await mediator.verdicts()).length === 7);
  });
});
