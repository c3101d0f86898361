// A mediator daemon and a sequencer daemon in separate processes, each on its own SQLite database, operated with
// `weft admin`: the mediator is onboarded after the bootstrap (mediators add) or at it (bootstrap --mediator),
// becomes ready, and resumes from its own store after a kill. Needs `npm run build` (npm test builds first).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  mediatorConfig,
  startDaemon,
  weft,
} from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-mediator-'));
const clients: AdminClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

function sequencerConfig(name: string, publicPort: number): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(
    file,
    `weft.node {
  name = ${name}
  kind = sequencer
  storage { type = sqlite, file = "${join(dir, `${name}.db`)}" }
  public-api.port = ${publicPort}
  admin-api.port = 0
  sequencer.writer.preset = low-latency
}
`,
  );
  return file;
}

function admin(daemon: Daemon): AdminClient {
  const client = new AdminClient(daemon.adminUrl);
  clients.push(client);
  return client;
}

async function readiness(
  daemon: Daemon,
): Promise<{ status: number; body: { checks: Record<string, string> } }> {
  const r = await fetch(`http://127.0.0.1:${daemon.ports.monitoring}/ready`);
  return { status: r.status, body: (await r.json()) as { checks: Record<string, string> } };
}

async function ok(args: string[]): Promise<string> {
  const r = await weft(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('a mediator daemon', () => {
  it('is onboarded by the owner after the bootstrap, becomes ready, and resumes after a kill', async () => {
    const port = await freePort();
    const medConfig = mediatorConfig(dir, 'mediator1', port);
    const [seq, med] = await Promise.all([
      startDaemon(sequencerConfig('seq1', port), join(dir, 'seq1.ports')),
      startDaemon(medConfig, join(dir, 'mediator1.ports'), { env: { WEFT_DATA_DIR: dir } }),
    ]);
    expect(med.ports.public).toBeUndefined();
    const medAdmin = admin(med);

    // Not onboarded: the admin API answers, readiness says why not (no synchronizer, then not a member of it).
    const before = await medAdmin.status();
    expect(before.synchronizerId).toBe('');
    expect(before.memberId).toMatch(/^MED::mediator1::1220[0-9a-f]{64}$/);
    expect((await readiness(med)).status).toBe(503);
    await eventually('the mediator to find no synchronizer', async () =>
      /has no synchronizer yet/.test((await readiness(med)).body.checks.mediator ?? ''),
    );

    const boot = await ok(['admin', '-e', seq.adminUrl, 'bootstrap', '--name', 'medsync']);
    const synchronizerId = /bootstrapped synchronizer (\S+)/.exec(boot)![1]!;
    expect(boot).not.toContain('mediator');
    await eventually('the mediator to find that it is not onboarded', async () =>
      /^not onboarded yet: .* is not in a mediator group/.test(
        (await readiness(med)).body.checks.mediator ?? '',
      ),
    );

    const added = await ok(['admin', '-e', seq.adminUrl, 'mediators', 'add', '--mediator', med.adminUrl]);
    expect(added).toContain(`added mediator ${before.memberId} to mediator group 0`);
    expect(added).toMatch(/sequenced: MediatorSynchronizerState\(.*\) \(serial 1\), in force since/);
    await eventually('the mediator to be ready', async () => (await medAdmin.status()).ready, 10_000);
    const after = await medAdmin.status();
    expect(after.synchronizerId).toBe(synchronizerId);
    expect(await readiness(med)).toEqual({
      status: 200,
      body: { ready: true, checks: { storage: 'ok', mediator: 'ok' } },
    });
    // The mediator's own topology store has the group with it.
    const groups = await ok([
      'admin',
      '-e',
      med.adminUrl,
      'topology',
      'list',
      '--type',
      'MediatorSynchronizerState',
      '--filter',
      before.memberId,
    ]);
    expect(groups).toMatch(/: 1 transactions\nMediatorSynchronizerState\(medsync::1220[0-9a-f]+, group 0\)/);
    const metrics = await (await fetch(`http://127.0.0.1:${med.ports.monitoring}/metrics`)).text();
    expect(metrics).toMatch(/weft_mediator_outstanding_requests\{node="mediator1"\} 0/);

    // The offline path: the identity exported to a file; the mediator is in the group already.
    const file = join(dir, 'mediator1.identity.json');
    await ok(['admin', '-e', med.adminUrl, 'export-identity', '--out', file]);
    expect(JSON.parse(readFileSync(file, 'utf8')).memberId).toBe(before.memberId);
    expect(await ok(['admin', '-e', seq.adminUrl, 'mediators', 'add', '--identity', file])).toBe(
      `mediator ${before.memberId} is in mediator group 0 already\n`,
    );

    // Killed, it resumes from its own store: no second download of the topology state.
    expect(med.output()).toContain('initialised its topology state from the sequencer');
    await med.stop('SIGKILL');
    const again = await startDaemon(medConfig, join(dir, 'mediator1.ports'), { env: { WEFT_DATA_DIR: dir } });
    const againAdmin = admin(again);
    await eventually('the restarted mediator to be ready', async () => (await againAdmin.status()).ready);
    expect((await againAdmin.status()).synchronizerId).toBe(synchronizerId);
    expect((await readiness(again)).status).toBe(200);
    expect(again.output()).not.toContain('initialised its topology state');
    expect(await again.stop()).toBe(0);
    expect(await seq.stop()).toBe(0);
  });

  it('joins at the bootstrap (bootstrap --mediator) and refuses to bootstrap itself', async () => {
    const port = await freePort();
    const [seq, med] = await Promise.all([
      startDaemon(sequencerConfig('seq2', port), join(dir, 'seq2.ports')),
      startDaemon(mediatorConfig(dir, 'mediator2', port), join(dir, 'mediator2.ports')),
    ]);
    const medAdmin = admin(med);
    const { memberId } = await medAdmin.status();

    const refused = await weft(['admin', '-e', med.adminUrl, 'bootstrap', '--name', 'x']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^weft admin bootstrap: ADMIN_NOT_SUPPORTED\(9\): node mediator2 is a mediator/,
    );
    const notMediator = await weft([
      'admin',
      '-e',
      seq.adminUrl,
      'mediators',
      'add',
      '--mediator',
      seq.adminUrl,
    ]);
    expect(notMediator.stderr).toMatch(
      /the node at http:\/\/127\.0\.0\.1:\d+ is SEQ::seq2::1220[0-9a-f]+, not a mediator/,
    );

    const boot = await ok([
      'admin',
      '-e',
      seq.adminUrl,
      'bootstrap',
      '--name',
      'withmed',
      '--mediator',
      med.adminUrl,
    ]);
    expect(boot).toContain(`mediator  ${memberId}`);
    await eventually('the mediator to be ready', async () => (await medAdmin.status()).ready, 10_000);
    expect((await medAdmin.status()).synchronizerId).toMatch(/^withmed::1220/);
    await Promise.all([med.stop(), seq.stop()]);
  });
});
