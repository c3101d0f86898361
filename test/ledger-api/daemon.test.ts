// The Ledger API of participant daemons as applications reach it: a synchronizer (a sequencer and a mediator
// daemon) and two participant daemons, separate processes on SQLite, each serving the Ledger API on its own port;
// the client is built only from the project's protos (generated protobuf-ts clients over @grpc/grpc-js). Needs `npm
// run build` (npm test builds first).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/admin-api/index.js';
import { LEDGER_API_VERSION } from '../../src/ledger-api/index.js';
import {
  type Daemon,
  eventually,
  freePort,
  killAll,
  mediatorConfig,
  startDaemon,
  weft,
  weftOk,
  writeConfig,
} from '../synchronizer/processes.js';
import { TestLedgerClient } from './client.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-ledger-api-'));
const clients: TestLedgerClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const participantConfig = (name: string, ledgerApi = 'ledger-api.port = 0') =>
  writeConfig(
    dir,
    name,
    `weft.node {
  name = ${name}
  kind = participant
  storage { type = sqlite, file = "${join(dir, `${name}.db`)}" }
  admin-api.port = 0
  ${ledgerApi}
  monitoring.http-server.port = 0
  participant.max-backoff-ms = 200
}
`,
  );

function client(daemon: Daemon, token?: string): TestLedgerClient {
  const c = new TestLedgerClient(`127.0.0.1:${daemon.ports.ledgerApi}`, token);
  clients.push(c);
  return c;
}

describe('the Ledger API of participant daemons', () => {
  const participants: Daemon[] = [];

  beforeAll(async () => {
    const port = await freePort();
    const sequencer = await startDaemon(
      writeConfig(
        dir,
        'sequencer',
        `weft.node {
  name = sequencer
  kind = sequencer
  storage { type = sqlite, file = "${join(dir, 'sequencer.db')}" }
  public-api.port = ${port}
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
      ),
      join(dir, 'sequencer.ports'),
    );
    const [mediator, p1, p2] = await Promise.all([
      startDaemon(mediatorConfig(dir, 'mediator', port), join(dir, 'mediator.ports')),
      startDaemon(participantConfig('participant1'), join(dir, 'p1.ports')),
      startDaemon(participantConfig('participant2'), join(dir, 'p2.ports')),
    ]);
    participants.push(p1!, p2!);
    await weftOk([
      'admin',
      '-e',
      sequencer.adminUrl,
      'bootstrap',
      '--name',
      'ledger',
      '--mediator',
      mediator!.adminUrl,
    ]);
    const admin = new AdminClient(mediator!.adminUrl);
    try {
      await eventually('the mediator to serve', async () => (await admin.status()).ready, 15_000);
    } finally {
      admin.close();
    }
    for (const p of participants) {
      await weftOk([
        'admin',
        '-e',
        p.adminUrl,
        'participant',
        'connect',
        '--alias',
        'ledger',
        '--sequencer',
        sequencer.publicUrl,
      ]);
    }
  }, 60_000);

  it('answers VersionService on each participant', async () => {
    for (const p of participants) {
      const c = client(p);
      const r = await c.unary(c.version, c.version.getLedgerApiVersion, {});
      expect(r.version).toBe(LEDGER_API_VERSION);
      expect(r.features?.userManagement?.supported).toBe(true);
    }
  });

  it('refuses to serve the Ledger API without auth on a non-loopback address', async () => {
    const r = await weft([
      'daemon',
      '-c',
      participantConfig('exposed', 'ledger-api { address = "0.0.0.0", port = 0 }'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^weft daemon: LEDGER_API_AUTH_REQUIRED\(8\): the Ledger API on 0\.0\.0\.0 has no auth-services/,
    );
  });
});
