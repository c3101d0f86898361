// Canton's config layout: Canton's examples 01 (simple topology) and 02 (multiple sequencers and mediators) start
// with their settings unmodified, in one process each, and their simple-ping runs as a console script (weft run --bootstrap, weft
// console --script); the sandbox opens under the console's handle names; a key Weft does not support is reported
// by its path. Needs `npm run build`.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { pgTestUrl, postgresSkipReason } from '../../src/storage/testing.js';
import { CLI, type CliResult, freePort, REPO } from '../synchronizer/processes.js';

const unavailable = await postgresSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'weft-canton-layout-'));
const suffix = randomBytes(4).toString('hex');
/** Example 04's databases, each with the test's suffix (the server is shared). */
const databases = ['sequencer_a', 'sequencer_b', 'driver', 'mediator', 'participant'].map(
  (d) => `${d}_${suffix}`,
);
const stops: Array<() => void> = [];

async function onServer(statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: pgTestUrl() });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const stop of stops) stop();
  rmSync(dir, { recursive: true, force: true });
  if (!unavailable) await onServer(databases.map((d) => `DROP DATABASE IF EXISTS ${d} WITH (FORCE)`));
});

const example = (path: string) => join(REPO, 'test/console/canton-examples', path);
const script = (name: string) => join(REPO, 'examples/console', name);

function weft(args: readonly string[], until?: RegExp): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: dir, timeout: 90_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    // weft run keeps running: stop it once it printed what the test waits for.
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (until?.test(out)) child.kill('SIGTERM');
    });
  });
}

/** A file that moves every port `nodes` names to a free one (port 0), and nothing else. */
function freePorts(name: string, nodes: Record<string, string[]>): string {
  const file = join(dir, `${name}.conf`);
  const lines = Object.entries(nodes).flatMap(([path, apis]) =>
    apis.map((api) => `canton.${path}.${api}.port = 0`),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const participantApis = ['admin-api', 'ledger-api', 'http-ledger-api'];

describe("Canton's config layout", () => {
  it('starts examples 01 and 02 unmodified and runs their simple-ping; opens the sandbox under its handles', async () => {
    const ports01 = freePorts('ports-01', {
      'sequencers.sequencer1': ['public-api', 'admin-api'],
      'mediators.mediator1': ['admin-api'],
      'participants.participant1': participantApis,
      'participants.participant2': participantApis,
    });
    const ports02 = freePorts('ports-02', {
      ...Object.fromEntries(
        [1, 2, 3, 4].map((i) => [`sequencers.sequencer${i}`, ['public-api', 'admin-api']]),
      ),
      'mediators.mediator1': ['admin-api'],
      'mediators.mediator2': ['admin-api'],
      'participants.participant1': participantApis,
      'participants.participant2': participantApis,
    });
    const sandboxScript = join(dir, 'sandbox.js');
    writeFileSync(
      sandboxScript,
      [
        'print((await synchronizerOwner1.id).toProtoPrimitive() === (await domainManager1.id).toProtoPrimitive())',
        'print((await sequencer1.id).toProtoPrimitive(), (await mediator1.id).toProtoPrimitive())',
        "print((await participants.all.dars.list()).map((d) => d.node).join(','))",
        "print('ping ' + (await participant1.health.ping(participant2)).toFixed(0) + ' ms')",
        '',
      ].join('\n'),
    );
    const [run01, console02, sandbox] = await Promise.all([
      weft(
        [
          'run',
          '-c',
          example('01-simple-topology/simple-topology.conf'),
          '-c',
          ports01,
          '--bootstrap',
          script('simple-ping.js'),
        ],
        /running; press Ctrl-C to stop/,
      ),
      weft([
        'console',
        '-c',
        example('02-multiple-sequencers-and-mediators/multiple-sequencers-and-mediators.conf'),
        '-c',
        ports02,
        '--script',
        script('multiple-sequencers-ping.js'),
      ]),
      weft(['console', '--sandbox', '--script', sandboxScript]),
    ]);
    expect(run01.stderr).toBe('');
    expect(run01.stdout).toMatch(
      /^sequencer1 \(sequencer\) admin API http:\/\/127\.0\.0\.1:\d+\n(.*\n){3}participant2 → participant1: \d+ ms\nparticipant1 → participant2: \d+ ms\nrunning; press Ctrl-C to stop\n$/,
    );
    expect(console02.stderr).toBe('');
    expect(console02.code).toBe(0);
    expect(console02.stdout).toMatch(
      /^participant2 → participant1: \d+ ms\nparticipant1 → participant2: \d+ ms\n$/,
    );
    expect(sandbox.code).toBe(0);
    expect(sandbox.stdout).toMatch(
      /^true\nSEQ::sandbox-sequencer::1220[0-9a-f]{64} MED::sandbox-mediator::1220[0-9a-f]{64}\nparticipant1,participant2\nping \d+ ms\n$/,
    );
  }, 120_000);

  it('reports each key it does not support by its path, and starts nothing', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(
      bad,
      `canton {
  participants.participant1 {
    storage.type = memory
    caching.contract-store.maximum-size = 1000
  }
  monitoring.metrics.reporters = []
}
`,
    );
    const r = await weft(['run', '-c', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^weft run: CONFIG_INVALID\(8\): .*bad\.conf: not supported in Canton's layout \(2 problems\): /,
    );
    expect(r.stderr).toContain('canton.monitoring');
    expect(r.stderr).toContain('canton.participants.participant1.caching');
  });

  it.skipIf(unavailable !== undefined)(
    'starts example 04 (its active replicas) unmodified on PostgreSQL and bootstraps it through its remote configs',
    async () => {
      await onServer(databases.map((d) => `CREATE DATABASE ${d}`));
      const [seqA, seqB, med, part] = ['sequencer_a', 'sequencer_b', 'mediator_a', 'participant_a'];
      const ports = Object.fromEntries(
        await Promise.all(
          [
            'SEQ_A_PUBLIC',
            'SEQ_A_ADMIN',
            'SEQ_B_PUBLIC',
            'SEQ_B_ADMIN',
            'MED_ADMIN',
            'PART_ADMIN',
            'PART_LEDGER',
          ].map(async (k) => [k, await freePort()] as const),
        ),
      );
      const [dbSeqA, dbSeqB, dbDriver, dbMediator, dbParticipant] = databases;
      const overrides = join(dir, 'ports-04.conf');
      const db = (path: string, name: string | undefined) =>
        `canton.${path}.config.properties.databaseName = ${name}`;
      writeFileSync(
        overrides,
        [
          `canton.sequencers.${seqA} { public-api.port = ${ports.SEQ_A_PUBLIC}, admin-api.port = ${ports.SEQ_A_ADMIN} }`,
          `canton.sequencers.${seqB} { public-api.port = ${ports.SEQ_B_PUBLIC}, admin-api.port = ${ports.SEQ_B_ADMIN} }`,
          `canton.mediators.${med}.admin-api.port = ${ports.MED_ADMIN}`,
          `canton.participants.${part} { admin-api.port = ${ports.PART_ADMIN}, ledger-api.port = ${ports.PART_LEDGER} }`,
          db(`sequencers.${seqA}.storage`, dbSeqA),
          db(`sequencers.${seqB}.storage`, dbSeqB),
          db(`sequencers.${seqA}.sequencer.config.storage`, dbDriver),
          db(`sequencers.${seqB}.sequencer.config.storage`, dbDriver),
          db(`mediators.${med}.storage`, dbMediator),
          db(`participants.${part}.storage`, dbParticipant),
          '',
        ].join('\n'),
      );
      const server = new URL(pgTestUrl());
      const env = {
        ...process.env,
        CANTON_DB_HOST: server.hostname,
        CANTON_DB_PORT: server.port || '5432',
        CANTON_DB_USER: decodeURIComponent(server.username),
      };
      const files = ['postgres', 'sequencer-a', 'sequencer-b', 'mediator-a', 'participant-a'].flatMap((f) => [
        '-c',
        example(`04-high-availability/${f}.conf`),
      ]);
      const run = spawn(process.execPath, [CLI, 'run', ...files, '-c', overrides], { cwd: dir, env });
      stops.push(() => run.kill('SIGKILL'));
      let output = '';
      run.stdout.on('data', (d) => {
        output += d;
      });
      run.stderr.on('data', (d) => {
        output += d;
      });
      const deadline = Date.now() + 60_000;
      while (!output.includes('running; press Ctrl-C to stop')) {
        if (run.exitCode !== null || Date.now() > deadline)
          throw new Error(`weft run did not start: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const remote = ['sequencer-a', 'sequencer-b', 'mediator-a', 'participant-a'].flatMap((f) => [
        '-c',
        example(`04-high-availability/admin/remote-${f}.conf`),
      ]);
      const r = await new Promise<CliResult>((resolve) =>
        execFile(
          process.execPath,
          [CLI, 'console', ...remote, '--script', script('ha-bootstrap.js')],
          {
            cwd: dir,
            timeout: 90_000,
            env: {
              ...process.env,
              CANTON_SEQUENCER_A_PUBLIC_PORT: String(ports.SEQ_A_PUBLIC),
              CANTON_SEQUENCER_A_ADMIN_PORT: String(ports.SEQ_A_ADMIN),
              CANTON_SEQUENCER_B_PUBLIC_PORT: String(ports.SEQ_B_PUBLIC),
              CANTON_SEQUENCER_B_ADMIN_PORT: String(ports.SEQ_B_ADMIN),
              CANTON_MEDIATOR_A_ADMIN_PORT: String(ports.MED_ADMIN),
              CANTON_PARTICIPANT_A_ADMIN_PORT: String(ports.PART_ADMIN),
              CANTON_PARTICIPANT_A_LEDGER_PORT: String(ports.PART_LEDGER),
            },
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        ),
      );
      expect(r.stderr, output).toBe('');
      expect(r.stdout).toMatch(
        /^Bootstrapping synchronizer\nConnecting participant to synchronizer\nha-synchronizer::1220[0-9a-f]{64}: ping \d+ ms\n$/,
      );
      run.kill('SIGTERM');
    },
    120_000,
  );
});
