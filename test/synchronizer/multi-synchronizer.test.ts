// A participant daemon connected to two synchronizers at once, in separate processes on SQLite: two synchronizers
// (each a sequencer and a mediator daemon) and two participant daemons that connect to both under two aliases.
// Parties are enabled per synchronizer, pings work, and a participant killed with SIGKILL reconnects to both by
// itself. Needs `npm run build` (npm test builds first).
import { mkdtempSync, rmSync } from 'node:fs';
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
  participantConfig,
  startDaemon,
  weft,
  weftOk,
  writeConfig,
} from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-multi-sync-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, text: string) => writeConfig(dir, name, text);

const sequencerConfig = (name: string, port: number) =>
  write(
    name,
    `weft.node {
  name = ${name}
  kind = sequencer
  storage { type = sqlite, file = "${join(dir, `${name}.db`)}" }
  public-api.port = ${port}
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
  );

const ok = weftOk;

describe('a participant daemon on two synchronizers', () => {
  it('connects to both, hosts parties per synchronizer, pings, reconnects to both after a kill, disconnects from one', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const p1Config = participantConfig(dir, 'participant1');
    const [seqA, seqB, medA, medB, p2] = (await Promise.all([
      startDaemon(sequencerConfig('seq-a', portA), join(dir, 'seq-a.ports')),
      startDaemon(sequencerConfig('seq-b', portB), join(dir, 'seq-b.ports')),
      startDaemon(mediatorConfig(dir, 'med-a', portA), join(dir, 'med-a.ports')),
      startDaemon(mediatorConfig(dir, 'med-b', portB), join(dir, 'med-b.ports')),
      startDaemon(participantConfig(dir, 'participant2'), join(dir, 'p2.ports')),
    ])) as [Daemon, Daemon, Daemon, Daemon, Daemon];
    let p1 = await startDaemon(p1Config, join(dir, 'p1.ports'));
    const bootstrap = async (seq: Daemon, med: Daemon, name: string) => {
      const out = await ok([
        'admin',
        '-e',
        seq.adminUrl,
        'bootstrap',
        '--name',
        name,
        '--mediator',
        med.adminUrl,
      ]);
      const admin = new AdminClient(med.adminUrl);
      try {
        await eventually(`mediator of ${name} to serve`, async () => (await admin.status()).ready, 15_000);
      } finally {
        admin.close();
      }
      return /bootstrapped synchronizer (\S+)/.exec(out)![1]!;
    };
    const [syncA, syncB] = await Promise.all([
      bootstrap(seqA, medA, 'app-a'),
      bootstrap(seqB, medB, 'app-b'),
    ]);
    const connectBoth = async (p: Daemon) => {
      await ok([
        'admin',
        '-e',
        p.adminUrl,
        'participant',
        'connect',
        '--alias',
        'a',
        '--sequencer',
        seqA.publicUrl,
      ]);
      await ok([
        'admin',
        '-e',
        p.adminUrl,
        'participant',
        'connect',
        '--alias',
        'b',
        '--sequencer',
        seqB.publicUrl,
      ]);
    };
    await connectBoth(p1);
    await connectBoth(p2);
    const connected = async (p: Daemon) =>
      (await ok(['admin', '-e', p.adminUrl, 'participant', 'list-connected'])).split('\n');
    expect(await connected(p1)).toEqual([
      `a  ${syncA}  connected  ${seqA.publicUrl}`,
      `b  ${syncB}  connected  ${seqB.publicUrl}`,
    ]);
    // One alias per synchronizer.
    const again = await weft([
      'admin',
      '-e',
      p1.adminUrl,
      'participant',
      'connect',
      '--alias',
      'other',
      '--sequencer',
      seqB.publicUrl,
    ]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`is connected to ${syncB} under alias b already`);
    expect(await ok(['admin', '-e', p1.adminUrl, 'status'])).toContain(
      `synchronizers ${[syncA, syncB].sort().join(', ')}`,
    );

    // Parties: the synchronizer is named when there are several.
    const ambiguous = await weft(['admin', '-e', p1.adminUrl, 'parties', 'enable', 'alice']);
    expect(ambiguous.code).not.toBe(0);
    expect(ambiguous.stderr).toMatch(
      /INVALID_ARGUMENT\(8\): .*connected to several synchronizers .*; name one/,
    );
    const alice = await ok([
      'admin',
      '-e',
      p1.adminUrl,
      'parties',
      'enable',
      'alice',
      '--synchronizer',
      syncB,
    ]);
    expect(await ok(['admin', '-e', p1.adminUrl, 'parties', 'list'])).toContain(
      `${alice}  Submission  on ${syncB}`,
    );
    const topologyOfB = await ok([
      'admin',
      '-e',
      p1.adminUrl,
      'topology',
      'list',
      '--type',
      'PartyToParticipant',
      '--synchronizer',
      syncB,
    ]);
    expect(topologyOfB).toContain(alice);

    const id2 = await ok(['admin', '-e', p2.adminUrl, 'id', '--member']);
    expect(await ok(['admin', '-e', p1.adminUrl, 'ping', id2])).toMatch(
      /^ping PAR::participant2::\S+: [\d.]+ ms$/,
    );

    // Killed: it remembers both connections and resumes on both.
    await p1.stop('SIGKILL');
    p1 = await startDaemon(p1Config, join(dir, 'p1.ports'));
    await eventually(
      'participant1 to reconnect to both synchronizers',
      async () => (await connected(p1)).filter((l) => l.includes('  connected  ')).length === 2,
      20_000,
    );
    expect(await ok(['admin', '-e', p1.adminUrl, 'ping', id2])).toMatch(
      /^ping PAR::participant2::\S+: [\d.]+ ms$/,
    );

    // Disconnected from B: it keeps working on A, and stays away from B after a restart.
    expect(await ok(['admin', '-e', p1.adminUrl, 'participant', 'disconnect', '--alias', 'b'])).toBe(
      `disconnected from ${syncB} (b)`,
    );
    expect(await connected(p1)).toEqual([`a  ${syncA}  connected  ${seqA.publicUrl}`]);
    const unknown = await weft(['admin', '-e', p1.adminUrl, 'participant', 'disconnect', '--alias', 'b']);
    expect(unknown.stderr).toMatch(/NOT_FOUND\(\d+\): .* has no synchronizer connection under alias b/);
    expect(await p1.stop()).toBe(0);
    p1 = await startDaemon(p1Config, join(dir, 'p1.ports'));
    await eventually(
      'participant1 to reconnect to A',
      async () => (await connected(p1))[0]?.includes('  connected  ') ?? false,
    );
    expect(await connected(p1)).toEqual([`a  ${syncA}  connected  ${seqA.publicUrl}`]);
    expect(await ok(['admin', '-e', p1.adminUrl, 'ping', id2])).toMatch(
      /^ping PAR::participant2::\S+: [\d.]+ ms$/,
    );
  }, 120_000);
});
