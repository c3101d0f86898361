// Exclusive storage and active/passive replicas with real processes (issue 13, item 2). On SQLite files and on
// PostgreSQL schemas: a synchronizer (sequencer, replicated mediator), a replicated participant and a plain one.
// A second node on a leased storage without replication exits 1 with one line; with replication it waits passive
// (/health 200, /ready 503 "passive replica"), and when the active is SIGKILLed it takes over within seconds as a
// fresh start would: same identity, reconnects by itself, pings, the mediator decides. The killed one, restarted,
// comes back passive. A second sequencer node under a live one's name exits 1. A node whose PostgreSQL lock
// connection is cut takes its lease back; one whose lease another took (or whose lock file went) exits 1 with one
// line. Needs `npm run build` (npm test does) and, for the PostgreSQL half, PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import type { PostgresConfig } from '../../src/storage/index.js';
import {
  interceptLease,
  pgTestUrl,
  postgresSkipReason,
  terminateLeaseConnection,
} from '../../src/storage/testing.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  participantConfig,
  startDaemon,
  weft,
  weftOk,
  writeConfig,
} from '../synchronizer/processes.js';

const unavailable = await postgresSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'weft-replicas-'));
const schemas: string[] = [];

afterAll(async () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
  if (unavailable || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: pgTestUrl() });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

type Backend = 'sqlite' | 'postgres';

/** The storage section of node `name` (HOCON). */
function storageOf(backend: Backend, name: string): string {
  if (backend === 'sqlite') return `{ type = sqlite, file = "${join(dir, `${backend}-${name}.db`)}" }`;
  const schema = `weft_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return `{ type = postgres, url = "${pgTestUrl()}", schema = ${schema} }`;
}

interface Replica {
  readonly config: string;
  readonly monitoring: number;
  readonly ports: string;
}

/** Monitoring on a known port, so that a passive replica, which writes no port file, can be asked. */
async function replica(file: string, body: string, tag: string): Promise<Replica> {
  const monitoring = await freePort();
  return {
    config: writeConfig(dir, file, `${body}\nweft.node.monitoring.http-server.port = ${monitoring}\n`),
    monitoring,
    ports: join(dir, `${file}-${tag}.ports`),
  };
}

const REPLICATION =
  'replication { enabled = true, passive-check-interval-ms = 200, health-check-interval-ms = 500 }';

async function readiness(port: number): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`http://127.0.0.1:${port}/ready`);
  return {
    status: response.status,
    checks: ((await response.json()) as { checks: Record<string, string> }).checks,
  };
}

async function expectPassive(r: Replica): Promise<void> {
  // Until its first attempt at the lease has an answer, it says it is starting.
  await eventually('the replica to report passive', () =>
    readiness(r.monitoring).then(
      (ready) => ready.checks.node !== 'starting',
      () => false,
    ),
  );
  expect((await fetch(`http://127.0.0.1:${r.monitoring}/health`)).status).toBe(200);
  const ready = await readiness(r.monitoring);
  expect(ready.status).toBe(503);
  expect(ready.checks.node).toMatch(/^passive replica: .* is leased by .*; taking over when it is released$/);
}

const ping = (from: Daemon, to: string) => weftOk(['admin', '-e', from.adminUrl, 'ping', to]);

describe.each(['sqlite', 'postgres'] as const)('exclusive storage and replicas on %s', (backend) => {
  it.skipIf(backend === 'postgres' && unavailable !== undefined)(
    'refuse a second node, fail over to a passive replica within seconds, and bring the killed one back passive',
    async () => {
      const tag = backend;
      const sequencerPort = await freePort();
      const sequencerBody = (port: number) => `weft.node {
  name = sequencer1
  kind = sequencer
  storage ${sequencerStorage}
  public-api.port = ${port}
  admin-api.port = 0
  monitoring.http-server.port = 0
}`;
      const sequencerStorage = storageOf(backend, 'sequencer1');
      const sequencer = writeConfig(dir, `${tag}-sequencer`, sequencerBody(sequencerPort));
      const mediatorBody = `weft.node {
  name = mediator1
  kind = mediator
  storage ${storageOf(backend, 'mediator1')}
  sequencer-connection { endpoints = ["http://127.0.0.1:${sequencerPort}"], max-backoff-ms = 200 }
  admin-api.port = 0
  ${REPLICATION}
}`;
      const [m1, m2] = [
        await replica(`${tag}-mediator-1`, mediatorBody, 'a'),
        await replica(`${tag}-mediator-2`, mediatorBody, 'b'),
      ];
      const p1Storage = storageOf(backend, 'participant1');
      const p1Body = `weft.node {
  name = participant1
  kind = participant
  storage ${p1Storage}
  admin-api.port = 0
  participant.max-backoff-ms = 200
  ${REPLICATION}
}`;
      const [p1a, p1b] = [
        await replica(`${tag}-participant1-a`, p1Body, 'a'),
        await replica(`${tag}-participant1-b`, p1Body, 'b'),
      ];
      const p2Config = participantConfig(dir, `${tag}-participant2`, storageOf(backend, 'participant2'));

      const [seq, med, p1, p2] = (await Promise.all([
        startDaemon(sequencer, join(dir, `${tag}-sequencer.ports`)),
        startDaemon(m1.config, m1.ports),
        startDaemon(p1a.config, p1a.ports),
        startDaemon(p2Config, join(dir, `${tag}-participant2.ports`)),
      ])) as [Daemon, Daemon, Daemon, Daemon];

      // Without replication, a second node on a leased storage refuses to start, with one line.
      for (const [name, body] of [
        ['participant1', p1Body],
        ['mediator1', mediatorBody],
      ] as const) {
        const single = writeConfig(
          dir,
          `${tag}-${name}-single`,
          body.replace(REPLICATION, 'monitoring.http-server.port = 0'),
        );
        const refused = await weft(['daemon', '-c', single]);
        expect(refused.code).toBe(1);
        expect(refused.stderr.trim().split('\n')).toHaveLength(1);
        expect(refused.stderr).toMatch(
          /^weft daemon: STORAGE_LEASE_HELD\(9\): .* is leased by .*: stop that node, give this node a storage of its own, or run it as a passive replica \(replication\.enabled = true\)\n$/,
        );
        if (backend === 'postgres') {
          const kind = name.startsWith('mediator') ? 'mediator' : 'participant';
          expect(refused.stderr).toContain(`leased by ${kind} node ${name} (pid`);
        }
      }

      await weftOk([
        'admin',
        '-e',
        seq.adminUrl,
        'bootstrap',
        '--name',
        `${tag}sync`,
        '--mediator',
        med.adminUrl,
      ]);
      // The nodes of one sequencer share a storage, but not a node name while its owner lives.
      const duplicate = await weft([
        'daemon',
        '-c',
        writeConfig(dir, `${tag}-sequencer-again`, sequencerBody(0)),
      ]);
      expect(duplicate.code).toBe(1);
      expect(duplicate.stderr).toMatch(
        /^weft daemon: SEQUENCER_NODE_NAME_IN_USE\(9\): sequencer node name sequencer1 is in use by a live node \(writer slot 0, whose watermark advances\); stop that node first, or give this node another name\n$/,
      );
      const mediatorAdmin = new AdminClient(med.adminUrl);
      try {
        await eventually('the mediator to serve', async () => (await mediatorAdmin.status()).ready, 20_000);
      } finally {
        mediatorAdmin.close();
      }
      const connect = (p: Daemon) =>
        weftOk([
          'admin',
          '-e',
          p.adminUrl,
          'participant',
          'connect',
          '--alias',
          'sync',
          '--sequencer',
          `http://127.0.0.1:${sequencerPort}`,
        ]);
      await connect(p1);
      await connect(p2);
      const memberId = (p: Daemon) => weftOk(['admin', '-e', p.adminUrl, 'id', '--member']);
      const [id1, id2] = [await memberId(p1), await memberId(p2)];
      expect(await ping(p1, id2)).toMatch(/^ping .*: [\d.]+ ms$/);

      // The replicas wait passive while the actives live.
      const passiveMediator = startDaemon(m2.config, m2.ports);
      const passiveParticipant = startDaemon(p1b.config, p1b.ports);
      await expectPassive(m2);
      await expectPassive(p1b);

      // SIGKILL both actives: the replicas take over within seconds.
      const killedAt = Date.now();
      await Promise.all([med.stop('SIGKILL'), p1.stop('SIGKILL')]);
      const [med2, p1again] = await Promise.all([passiveMediator, passiveParticipant]);
      const takeover = Date.now() - killedAt;
      expect(takeover).toBeLessThan(10_000);
      expect(med2.output()).toContain('this replica is now active');
      expect(await memberId(p1again)).toBe(id1);
      // It reconnects to the remembered synchronizer by itself; its pings need the new mediator's verdicts.
      await eventually(
        'the new active participant to reconnect',
        async () =>
          (await weftOk(['admin', '-e', p1again.adminUrl, 'participant', 'list-connected'])).includes(
            '  connected  ',
          ),
        20_000,
      );
      expect(await ping(p1again, id2)).toMatch(/^ping .*: [\d.]+ ms$/);
      expect(await ping(p2, id1)).toMatch(/^ping .*: [\d.]+ ms$/);
      expect((await readiness(p1b.monitoring)).status).toBe(200);

      // The killed one, restarted by its supervisor, comes back as the passive replica.
      const restarted = startDaemon(p1a.config, p1a.ports);
      await expectPassive(p1a);
      await Promise.all([med2.stop(), p1again.stop(), p2.stop(), seq.stop()]);
      // With the active stopped cleanly, the restarted replica takes over.
      const last = await restarted;
      expect(await memberId(last)).toBe(id1);
      expect(await last.stop()).toBe(0);
    },
    180_000,
  );

  it.skipIf(backend === 'postgres' && unavailable !== undefined)(
    'take the lease back after a cut lock connection; stop a node whose lease was taken, exit 1, let its replica take over',
    async () => {
      const storage = storageOf(backend, 'participant3');
      const body = `weft.node {
  name = participant3
  kind = participant
  storage ${storage}
  admin-api.port = 0
  ${REPLICATION}
}`;
      const [a, b] = [
        await replica(`${backend}-participant3-a`, body, 'a'),
        await replica(`${backend}-participant3-b`, body, 'b'),
      ];
      const active = await startDaemon(a.config, a.ports);
      const pgConfig = (): PostgresConfig => ({
        kind: 'postgres',
        url: pgTestUrl(),
        schema: /schema = (\w+)/.exec(storage)![1]!,
      });
      if (backend === 'postgres') {
        // A cut lock connection alone (a network failure, a database restart) heals: nobody took over.
        await terminateLeaseConnection(pgConfig());
        await eventually('the node to take its lease back', () =>
          active.output().includes('took the storage lease back on a new lock connection'),
        );
        expect(active.child.exitCode).toBeNull();
      }
      const passive = startDaemon(b.config, b.ports);
      await expectPassive(b);
      // An operator removing the lock file, or another process grabbing the lock and taking over.
      let other: pg.Client | undefined;
      if (backend === 'sqlite') rmSync(join(dir, `${backend}-participant3.db.lease`));
      else {
        other = await interceptLease(pgConfig());
        await other.query(`UPDATE ${pgConfig().schema}.weft_storage_lease SET epoch = epoch + 1`);
      }
      await eventually('the node to exit', () => active.child.exitCode !== null, 15_000);
      expect(active.child.exitCode).toBe(1);
      expect(active.stderr()).toMatch(
        /^weft daemon: STORAGE_LEASE_LOST\(1\): lost the exclusive lease on .*\n$/,
      );
      await other?.end();
      const took = await passive;
      // Active now: its readiness is the participant's (not connected to a synchronizer in this test).
      expect((await readiness(b.monitoring)).checks).toMatchObject({
        storage: 'ok',
        participant: expect.any(String),
      });
      expect(await took.stop()).toBe(0);
    },
  );
});
