// The seed's "connect a new participant node" over https with a custom root CA, in separate processes: two sequencer
// daemons of one sequencer (one PostgreSQL schema) serve their public API with a server certificate from a generated
// root CA; a mediator and two participant daemons (SQLite) connect with `weft admin participant connect` to both
// https endpoints (connect_multi) and the root CA. A wrong root CA fails with one line naming the TLS problem; the
// participants keep working (ping) when one sequencer node is killed. Needs `npm run build` and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { certificates } from '../../src/grpc/testing.js';
import { pgTestUrl, postgresSkipReason } from '../../src/storage/testing.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  participantConfig,
  REPO,
  startDaemon,
  weft,
  weftOk,
  writeConfig,
} from './processes.js';

const unavailable = await postgresSkipReason();

const dir = mkdtempSync(join(tmpdir(), 'weft-participant-tls-'));
const schema = `weft_test_${randomBytes(6).toString('hex')}`;

afterAll(async () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
  if (unavailable) return;
  const client = new pg.Client({ connectionString: pgTestUrl() });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const write = (name: string, text: string) => writeConfig(dir, name, text);
const ok = weftOk;

describe.skipIf(unavailable !== undefined)(
  'a participant daemon joining over https with a custom root CA',
  () => {
    it('connects to both https sequencer nodes with the root CA, refuses a wrong one, and survives a node kill', async () => {
      const good = certificates(dir, 'good');
      const other = certificates(dir, 'other');
      const [portA, portB] = [await freePort(), await freePort()];
      const [urlA, urlB] = [`https://127.0.0.1:${portA}`, `https://127.0.0.1:${portB}`];
      const sequencer = (x: 'a' | 'b', port: number) =>
        write(
          `sequencer-${x}`,
          `include required("${relative(dir, join(REPO, `examples/config/sequencer-ha-${x}.conf`))}")
weft.node {
  storage.schema = ${schema}
  public-api { port = ${port}, tls { cert-chain-file = "${good.certFile}", private-key-file = "${good.keyFile}" } }
  admin-api.port = 0
  monitoring.http-server.port = 0
  sequencer.high-availability {
    keep-alive-interval-ms = 20, offline-duration-ms = 1000, online-check-interval-ms = 200, poll-interval-ms = 10
  }
}
`,
        );
      const mediator = write(
        'mediator',
        `weft.node {
  name = mediator1
  kind = mediator
  storage { type = sqlite, file = "${join(dir, 'mediator.db')}" }
  sequencer-connection {
    endpoints = ${JSON.stringify([urlA, urlB])}, trust-collection-file = "${good.caFile}", max-backoff-ms = 200
  }
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
      );
      const participant = (name: string) => participantConfig(dir, name);
      const env = { WEFT_DB_URL: pgTestUrl() };
      const [seqA, seqB, med, p1, p2] = (await Promise.all([
        startDaemon(sequencer('a', portA), join(dir, 'a.ports'), { env }),
        startDaemon(sequencer('b', portB), join(dir, 'b.ports'), { env }),
        startDaemon(mediator, join(dir, 'mediator.ports')),
        startDaemon(participant('participant1'), join(dir, 'p1.ports')),
        startDaemon(participant('participant2'), join(dir, 'p2.ports')),
      ])) as [Daemon, Daemon, Daemon, Daemon, Daemon];

      const boot = await ok([
        'admin',
        '-e',
        seqA.adminUrl,
        'bootstrap',
        '--name',
        'bobsync',
        '--mediator',
        med.adminUrl,
      ]);
      const synchronizerId = /bootstrapped synchronizer (\S+)/.exec(boot)![1]!;
      const medAdmin = new AdminClient(med.adminUrl);
      try {
        await eventually('the mediator to serve', async () => (await medAdmin.status()).ready, 15_000);
      } finally {
        medAdmin.close();
      }

      const connect = (p: Daemon, ca: string, ...endpoints: string[]) =>
        weft([
          'admin',
          '-e',
          p.adminUrl,
          'participant',
          'connect',
          '--alias',
          'bobs-app',
          ...endpoints.flatMap((e) => ['--sequencer', e]),
          '--sequencer-ca',
          ca,
        ]);
      const memberId = (p: typeof p1) => ok(['admin', '-e', p.adminUrl, 'id', '--member']);
      const [id1, id2] = await Promise.all([memberId(p1), memberId(p2)]);

      const joined = await connect(p1, good.caFile, urlA, urlB);
      expect(joined.stderr).toBe('');
      expect(joined.stdout.trim()).toBe(`participant ${id1} is connected to ${synchronizerId} (bobs-app)`);
      expect(await ok(['admin', '-e', p1.adminUrl, 'participant', 'list-connected'])).toBe(
        `bobs-app  ${synchronizerId}  connected  ${urlA}, ${urlB}`,
      );

      // A root CA that did not issue the sequencer's certificate: one line naming the TLS verification failure.
      const wrong = await connect(p2, other.caFile, urlB, urlA);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
      expect(wrong.stderr).toMatch(
        /^weft admin participant connect: SEQUENCER_CONNECTION_FAILED\(\d+\): no sequencer endpoint told its synchronizer id: https:\/\/127\.0\.0\.1:\d+, https:\/\/127\.0\.0\.1:\d+: UNAVAILABLE [^:]*certificate \(TLS verification failed: [^)]*\)\n$/,
      );
      expect(await ok(['admin', '-e', p2.adminUrl, 'participant', 'list-connected'])).toBe(
        'not connected to a synchronizer',
      );
      // The same command with the right root CA then connects.
      expect((await connect(p2, good.caFile, urlB, urlA)).stdout.trim()).toBe(
        `participant ${id2} is connected to ${synchronizerId} (bobs-app)`,
      );
      expect(await ok(['admin', '-e', p1.adminUrl, 'ping', id2])).toMatch(
        new RegExp(`^ping ${id2}: [\\d.]+ ms$`),
      );

      // Node A dies: the participants (and the mediator) fail over to node B over https and keep working.
      expect(await seqA.stop('SIGKILL')).toBeNull();
      expect(await ok(['admin', '-e', p1.adminUrl, 'ping', id2])).toMatch(
        new RegExp(`^ping ${id2}: [\\d.]+ ms$`),
      );
      expect(await ok(['admin', '-e', p2.adminUrl, 'ping', id1])).toMatch(
        new RegExp(`^ping ${id1}: [\\d.]+ ms$`),
      );
      await eventually('participant1 to report connected', async () =>
        (await ok(['admin', '-e', p1.adminUrl, 'participant', 'list-connected'])).includes('  connected  '),
      );
      for (const d of [p1, p2, med, seqB]) expect(await d.stop()).toBe(0);
    }, 60_000);
  },
);
