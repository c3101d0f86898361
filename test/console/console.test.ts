// The console against daemons, as the seed's operators use it: two nodes of one sequencer serving their public API
// over https with a certificate from a custom root CA (one PostgreSQL schema), a mediator, the provider's
// participant (participantBob) and the user's (participantAlise, whose Admin API is https too), each a `weft daemon`.
// The provider and the user each run examples/console's scripts with `weft console -c … --script …` — the seed's
// two lines verbatim among them — and a person drives the REPL in a pseudo-terminal. Needs `npm run build` and
// PostgreSQL.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import * as pty from 'node-pty';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { certificates } from '../../src/grpc/testing.js';
import { pgTestUrl, postgresSkipReason } from '../../src/storage/testing.js';
import {
  CLI,
  type CliResult,
  type Daemon,
  freePort,
  killAll,
  participantConfig,
  REPO,
  startDaemon,
  writeConfig,
} from '../synchronizer/processes.js';

const unavailable = await postgresSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'weft-console-'));
const schema = `weft_console_${randomBytes(6).toString('hex')}`;

afterAll(async () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
  if (unavailable) return;
  const client = new pg.Client({ connectionString: pgTestUrl() });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

/** `weft …args` in the test directory (where the scripts' relative files are), to completion. */
function weftIn(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) =>
    execFile(process.execPath, [CLI, ...args], { cwd: dir, timeout: 90_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    ),
  );
}

const example = (name: string) => join(REPO, 'examples/console', name);

/** Runs an examples/console script on a console config; expects success and resolves with its output. */
async function script(config: string, name: string): Promise<string> {
  const r = await weftIn(['console', '-c', config, '--script', example(name)]);
  expect(r.stderr, `${name}: ${r.stderr}`).toBe('');
  expect(r.code, `${name}: ${r.stdout}`).toBe(0);
  return r.stdout;
}

/** Five daemons starting at once on a busy machine take their time. */
const STARTUP_MS = 60_000;

/** The seed's two console lines, as its documentation writes them. */
const SEED_LINES = {
  'provider-allow-list.js':
    'domainManager1.participants.set_state(participantIdFromString, ParticipantPermission.Submission, TrustLevel.Ordinary)',
  'user-connect.js': 'participantAlise.domains.connect_multi("AliceDomainName", Seq(sequencer1, sequencer2))',
};

let provider: string;
let alice: string;

describe.skipIf(unavailable !== undefined)('the console on daemons', () => {
  beforeAll(async () => {
    const tls = certificates(dir, 'root');
    const [portA, portB] = [await freePort(), await freePort()];
    const sequencer = (x: 'a' | 'b', port: number) =>
      writeConfig(
        dir,
        `sequencer-${x}`,
        `include required("${relative(dir, join(REPO, `examples/config/sequencer-ha-${x}.conf`))}")
weft.node {
  storage.schema = ${schema}
  public-api { port = ${port}, tls { cert-chain-file = "${tls.certFile}", private-key-file = "${tls.keyFile}" } }
  admin-api.port = 0
  monitoring.http-server.port = 0
  sequencer.high-availability {
    keep-alive-interval-ms = 20, offline-duration-ms = 1000, online-check-interval-ms = 200, poll-interval-ms = 10
  }
}
`,
      );
    const mediator = writeConfig(
      dir,
      'mediator',
      `weft.node {
  name = mediator1
  kind = mediator
  storage { type = sqlite, file = "${join(dir, 'mediator.db')}" }
  sequencer-connection {
    endpoints = ["https://127.0.0.1:${portA}", "https://127.0.0.1:${portB}"]
    trust-collection-file = "${tls.caFile}"
    max-backoff-ms = 200
  }
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
    );
    const env = { WEFT_DB_URL: pgTestUrl() };
    /** A participant on SQLite with a Ledger API; participantAlise's Admin API is https with the same root CA. */
    const participant = (name: string, extra = '') => {
      participantConfig(dir, name);
      return writeConfig(
        dir,
        `${name}-ledger`,
        `include required("${name}.conf")\nweft.node.ledger-api.port = 0\n${extra}`,
      );
    };
    const aliseTls = `weft.node.admin-api.tls { cert-chain-file = "${tls.certFile}", private-key-file = "${tls.keyFile}" }\n`;
    const [seqA, seqB, med, bob, alise] = (await Promise.all([
      startDaemon(sequencer('a', portA), join(dir, 'a.ports'), { env, timeoutMs: STARTUP_MS }),
      startDaemon(sequencer('b', portB), join(dir, 'b.ports'), { env, timeoutMs: STARTUP_MS }),
      startDaemon(mediator, join(dir, 'mediator.ports'), { timeoutMs: STARTUP_MS }),
      startDaemon(participant('participantBob'), join(dir, 'bob.ports'), { timeoutMs: STARTUP_MS }),
      startDaemon(participant('participantAlise', aliseTls), join(dir, 'alise.ports'), {
        timeoutMs: STARTUP_MS,
      }),
    ])) as [Daemon, Daemon, Daemon, Daemon, Daemon];
    const gone = await freePort();
    const sequencers = `remote-sequencers {
    sequencer1 {
      admin-api.port = ${seqA.ports.admin}
      public-api { port = ${portA}, transport-security = true, custom-trust-certificates.pem-file = "${tls.caFile}" }
    }
    sequencer2 {
      admin-api.port = ${seqB.ports.admin}
      public-api { port = ${portB}, transport-security = true, custom-trust-certificates.pem-file = "${tls.caFile}" }
    }
  }`;
    const bobRemote = `participantBob { admin-api.port = ${bob.ports.admin}, ledger-api.port = ${bob.ports.ledgerApi} }`;
    provider = writeConfig(
      dir,
      'provider-console',
      `# The provider's console: the synchronizer's nodes and participantBob (and a node that is down).
canton {
  ${sequencers}
  remote-mediators.mediator1.admin-api.port = ${med.ports.admin}
  remote-participants {
    ${bobRemote}
    participantGone.admin-api.port = ${gone}
  }
}
`,
    );
    alice = writeConfig(
      dir,
      'alice-console',
      `# The user's console: her participant over https, the provider's sequencer endpoints and participant.
canton {
  ${sequencers}
  remote-participants {
    participantAlise {
      admin-api { port = ${alise.ports.admin}, tls.trust-collection-file = "${tls.caFile}" }
      ledger-api.port = ${alise.ports.ledgerApi}
    }
    ${bobRemote}
  }
}
`,
    );
    copyFileSync(TOKEN_DAR, join(dir, 'app.dar'));
  }, 90_000);

  it("runs the provider's and the user's steps as console scripts, the seed's two lines verbatim", async () => {
    for (const [file, line] of Object.entries(SEED_LINES))
      expect(readFileSync(example(file), 'utf8').split('\n')).toContain(line);
    expect(await script(provider, 'provider-deploy.js')).toMatch(/^synchronizer seed::1220[0-9a-f]{64}\n$/);
    const aliseId = (await script(alice, 'user-export-id.js')).trim();
    expect(aliseId).toMatch(/^PAR::participantAlise::1220[0-9a-f]{64}$/);
    expect(readFileSync(join(dir, 'alice-participant.id'), 'utf8').trim()).toBe(aliseId);

    // Before the provider allow-lists her, Alice's connect_multi is refused: the script stops at that line.
    const refused = await weftIn(['console', '-c', alice, '--script', example('user-connect.js')]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^weft console: CONSOLE_SCRIPT_FAILED\\(9\\): \\S+user-connect\\.js:5: .*${aliseId}.*RestrictedOpen.*\\n$`,
      ),
    );

    const listed = await script(provider, 'provider-allow-list.js');
    expect(listed).toContain(`ParticipantSynchronizerPermission(${aliseId}`);
    expect(listed).toMatch(/ParticipantSynchronizerPermission\(PAR::participantBob::/);
    const bobParty = await script(provider, 'provider-connect.js');
    expect(bobParty).toMatch(/^bob::1220[0-9a-f]{64}\n$/);

    const connected = await script(alice, 'user-connect.js');
    expect(connected).toMatch(
      /^alias +synchronizerId +healthy +endpoints\nAliceDomainName +seed::1220[0-9a-f]{64} +true +https:\/\/127\.0\.0\.1:\d+, https:\/\/127\.0\.0\.1:\d+\nping \d+ ms\n$/,
    );

    // Her application's party, user and first contract through the Ledger API.
    const ledger = (await script(alice, 'user-ledger.js')).split('\n');
    expect(ledger[0]).toMatch(/^contractId +template +arguments$/);
    expect(ledger[1]).toMatch(
      /^[0-9a-f]{40,} +Splice\.Testing\.Tokens\.TestTokenV1:TokenRules +\{"admin":"alice::1220[0-9a-f]{64}"\}$/,
    );
    expect(ledger[2]).toMatch(/^offset +updateId +commandId +events$/);
    expect(ledger[3]).toMatch(/^\d+ +\S+ +alice-rules +1$/);
  }, 120_000);

  it('stops a script at the first failed command, naming its line; later lines do not run', async () => {
    const bad = join(dir, 'bad.js');
    writeFileSync(
      bad,
      [
        'participantBob.dars.list()',
        '// a typo in the id the user sent:',
        'domainManager1.participants.set_state("PAR::participantAlise::12", ParticipantPermission.Submission)',
        "utils.write_to_file('never', 'not-written.txt')",
        '',
      ].join('\n'),
    );
    const r = await weftIn(['console', '-c', provider, '--script', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^weft console: CONSOLE_SCRIPT_FAILED\(9\): \S+bad\.js:3: CONSOLE_INVALID_ARGUMENT\(8\): domainManager1\.participants\.set_state: argument participant takes a participant handle or id, got the string 'PAR::participantAlise::12': .*\n$/,
    );
    expect(existsSync(join(dir, 'not-written.txt'))).toBe(false);
    const typo = join(dir, 'typo.js');
    writeFileSync(
      typo,
      'participantBob.health.ping(participantBob)\nparticipantBob.domains.conect_multi("x", Seq())\n',
    );
    const t = await weftIn(['console', '-c', provider, '--script', typo]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(
      /typo\.js:2: CONSOLE_UNKNOWN_COMMAND\(8\): .*conect_multi; did you mean connect_multi\?/,
    );
  }, 60_000);

  it('writes a health dump of a node through its Admin API (health.dump)', async () => {
    const dumpScript = join(dir, 'dump.js');
    writeFileSync(dumpScript, 'mediator1.health.dump("mediator1-dump.zip")\n');
    const r = await weftIn(['console', '-c', provider, '--script', dumpScript]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = unzipSync(readFileSync(join(dir, 'mediator1-dump.zip')));
    expect(Object.keys(files)).toContain('status.json');
    expect(JSON.parse(strFromU8(files['status.json']!))).toMatchObject({ name: 'mediator1' });
  }, 60_000);

  it('drives the REPL in a pseudo-terminal: completion, help, one-line errors, a node that is down, Ctrl-C', async () => {
    const history = join(dir, 'history');
    const term = pty.spawn(process.execPath, [CLI, 'console', '-c', provider, '--history', history], {
      cols: 220,
      rows: 50,
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => {
      screen += d;
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
    const plain = () => screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    let seen = 0;
    /** Waits until the screen shows `pattern` after what the previous wait consumed. */
    const waitFor = async (pattern: RegExp, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = plain().slice(seen);
        const m = pattern.exec(text);
        if (m) {
          seen += m.index + m[0].length;
          return m;
        }
        if (Date.now() > deadline)
          throw new Error(`the screen never showed ${pattern}:\n${plain().slice(seen)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    try {
      await waitFor(/Weft console: .*participantBob.*domainManager1; help\(\) lists the commands/);
      await waitFor(/weft> $/);
      // Tab completes a handle's group, then a command.
      term.write('participantBob.hea\t');
      await waitFor(/participantBob\.health/);
      term.write('.sta\t');
      await waitFor(/\.status/);
      term.write('\r');
      await waitFor(/member: 'PAR::participantBob::1220[0-9a-f]{64}'/);
      await waitFor(/weft> $/);
      term.write('help(participantBob.parties)\r');
      await waitFor(/participantBob\.parties\.enable\(name, synchronizer\?\) +allocate a party/);
      await waitFor(/weft> $/);
      // The seed's 2.x spelling with a typo: the nearest name, in one line.
      term.write('participantBob.domains.conect_multi\r');
      await waitFor(
        /CONSOLE_UNKNOWN_COMMAND\(8\): participantBob\.domains has no command or group conect_multi; did you mean connect_multi\?/,
      );
      await waitFor(/weft> $/);
      term.write('participantGone.health.status\r');
      const down = await waitFor(/(.*ADMIN_CONNECTION_FAILED[^\r\n]*)\r?\n/);
      expect(down[1]).not.toMatch(/\bat\b.*\.js:\d+/);
      await waitFor(/weft> $/);
      // Ctrl-C cancels the running command, not the console.
      term.write('utils.retry_until_true(() => false, 600000)\r');
      await new Promise((r) => setTimeout(r, 500));
      term.write('\x03');
      await waitFor(/CONSOLE_COMMAND_CANCELLED\(9\): cancelled with Ctrl-C/);
      await waitFor(/weft> $/);
      term.write('participantBob.id\r');
      await waitFor(/PAR::participantBob::1220[0-9a-f]{64}/);
      await waitFor(/weft> $/);
      term.write('.exit\r');
      expect(await exited).toBe(0);
    } finally {
      term.kill();
    }
    expect(readFileSync(history, 'utf8')).toContain('participantBob.id');
  }, 90_000);
});
