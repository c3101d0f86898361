// Canton's config layout: Canton's examples 01 (simple topology) and 02 (multiple sequencers and mediators) start
// with their settings unmodified, in one process each, and their simple-ping runs as a console script (weft run --bootstrap, weft
// console --script); the sandbox opens under the console's handle names; a key Weft does not support is reported
// by its path; example 04 runs as two processes whose second one's replicas wait passive and take over when the first
// dies. Needs `npm run build`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
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

function weft(args: readonly string[], until?: RegExp, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: dir, timeout: 90_000, ...(env ? { env: { ...process.env, ...env } } : {}) },
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
    'starts example 04 unmodified on PostgreSQL in two processes; the passive replicas take over when the first dies',
    async () => {
      await onServer(databases.map((d) => `CREATE DATABASE ${d}`));
      const keys = ['SEQ_A_PUBLIC', 'SEQ_A_ADMIN', 'MED_A_ADMIN', 'PART_A_ADMIN', 'PART_A_LEDGER'];
      const keysB = ['SEQ_B_PUBLIC', 'SEQ_B_ADMIN', 'MED_B_ADMIN', 'PART_B_ADMIN', 'PART_B_LEDGER'];
      const ports = Object.fromEntries(
        await Promise.all([...keys, ...keysB].map(async (k) => [k, await freePort()] as const)),
      );
      const [dbSeqA, dbSeqB, dbDriver, dbMediator, dbParticipant] = databases;
      const db = (path: string, name: string | undefined) =>
        `canton.${path}.config.properties.databaseName = ${name}`;
      const server = new URL(pgTestUrl());
      const env = {
        ...process.env,
        CANTON_DB_HOST: server.hostname,
        CANTON_DB_PORT: server.port || '5432',
        CANTON_DB_USER: decodeURIComponent(server.username),
      };
      /** Side `x` (a or b) of example 04: its sequencer, mediator replica and participant replica, in one process. */
      const side = (x: 'a' | 'b') => {
        const X = x.toUpperCase();
        const [seq, med, part] = [`sequencer_${x}`, `mediator_${x}`, `participant_${x}`];
        const overrides = join(dir, `ports-04-${x}.conf`);
        writeFileSync(
          overrides,
          [
            `canton.sequencers.${seq} { public-api.port = ${ports[`SEQ_${X}_PUBLIC`]}, admin-api.port = ${ports[`SEQ_${X}_ADMIN`]} }`,
            `canton.mediators.${med}.admin-api.port = ${ports[`MED_${X}_ADMIN`]}`,
            `canton.participants.${part} { admin-api.port = ${ports[`PART_${X}_ADMIN`]}, ledger-api.port = ${ports[`PART_${X}_LEDGER`]} }`,
            db(`sequencers.${seq}.storage`, x === 'a' ? dbSeqA : dbSeqB),
            db(`sequencers.${seq}.sequencer.config.storage`, dbDriver),
            db(`mediators.${med}.storage`, dbMediator),
            db(`participants.${part}.storage`, dbParticipant),
            '',
          ].join('\n'),
        );
        const files = ['postgres', `sequencer-${x}`, `mediator-${x}`, `participant-${x}`].flatMap((f) => [
          '-c',
          example(`04-high-availability/${f}.conf`),
        ]);
        const run = spawn(process.execPath, [CLI, 'run', ...files, '-c', overrides], { cwd: dir, env });
        stops.push(() => run.kill('SIGKILL'));
        const output = { text: '' };
        run.stdout.on('data', (d) => {
          output.text += d;
        });
        run.stderr.on('data', (d) => {
          output.text += d;
        });
        return { run, output };
      };
      const until = async (
        what: string,
        p: { run: ChildProcess; output: { text: string } },
        text: string,
      ) => {
        const deadline = Date.now() + 60_000;
        while (!p.output.text.includes(text)) {
          if (p.run.exitCode !== null || Date.now() > deadline) throw new Error(`${what}: ${p.output.text}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const console04 = (remotes: readonly string[], file: string) =>
        weft(
          [
            'console',
            ...remotes.flatMap((f) => ['-c', example(`04-high-availability/admin/remote-${f}.conf`)]),
            '--script',
            file,
          ],
          undefined,
          Object.fromEntries(
            [
              ['SEQUENCER_A_PUBLIC', 'SEQ_A_PUBLIC'],
              ['SEQUENCER_A_ADMIN', 'SEQ_A_ADMIN'],
              ['SEQUENCER_B_PUBLIC', 'SEQ_B_PUBLIC'],
              ['SEQUENCER_B_ADMIN', 'SEQ_B_ADMIN'],
              ['MEDIATOR_A_ADMIN', 'MED_A_ADMIN'],
              ['PARTICIPANT_A_ADMIN', 'PART_A_ADMIN'],
              ['PARTICIPANT_A_LEDGER', 'PART_A_LEDGER'],
              ['PARTICIPANT_B_ADMIN', 'PART_B_ADMIN'],
              ['PARTICIPANT_B_LEDGER', 'PART_B_LEDGER'],
            ].map(([canton, k]) => [`CANTON_${canton}_PORT`, String(ports[k!])]),
          ),
        );
      // Side a first, so that its replicas are the active ones; side b's wait passive on the same databases.
      const a = side('a');
      await until('side a did not start', a, 'running; press Ctrl-C to stop');
      const b = side('b');
      await until('side b did not wait passive', b, 'mediator_b (mediator) passive replica');
      await until('side b did not wait passive', b, 'participant_b (participant) passive replica');
      for (const kind of ['mediator', 'participant'])
        expect(b.output.text).toMatch(
          new RegExp(
            `^${kind}_b \\(${kind}\\) passive replica: .* is leased by ${kind} node ${kind}_a \\(pid \\d+ `,
            'm',
          ),
        );
      const r = await console04(
        ['sequencer-a', 'sequencer-b', 'mediator-a', 'participant-a'],
        script('ha-bootstrap.js'),
      );
      expect(r.stderr, a.output.text + b.output.text).toBe('');
      expect(r.stdout).toMatch(
        /^Bootstrapping synchronizer\nConnecting participant to synchronizer\nha-synchronizer::1220[0-9a-f]{64}: ping \d+ ms\n$/,
      );
      // Side a dies: side b's replicas take the leases and serve with a's identities and state.
      a.run.kill('SIGKILL');
      await until('side b did not take over', b, 'running; press Ctrl-C to stop');
      const takeover = join(dir, 'takeover.js');
      writeFileSync(
        takeover,
        [
          'print((await participant_b.id).toProtoPrimitive())',
          "print('ping ' + (await participant_b.health.ping(participant_b)).toFixed(0) + ' ms')",
          '',
        ].join('\n'),
      );
      const after = await console04(['sequencer-b', 'participant-b'], takeover);
      expect(after.stderr, b.output.text).toBe('');
      expect(after.stdout).toMatch(/^PAR::participant_a::1220[0-9a-f]{64}\nping \d+ ms\n$/);
      b.run.kill('SIGTERM');
    },
    180_000,
  );
});
