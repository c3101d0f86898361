// The `weft` commands as an operator runs them: the sandbox, a daemon with a broken config, admin commands with
// bad input. Needs `npm run build` (npm test builds first).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { weft } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The one line a failing command writes to stderr. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('weft', () => {
  it('sandbox --check: a synchronizer and two participants on SQLite; they ping each other; exit 0', async () => {
    const r = await weft([
      'sandbox',
      '--check',
      '--public-port',
      '0',
      '--admin-port',
      '0',
      '--mediator-admin-port',
      '0',
      '--participant-admin-ports',
      '0,0',
      '--participant-ledger-api-ports',
      '0,0',
      '--participant-json-api-ports',
      '0,0',
      '--pings',
      '2',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/synchronizer {2}sandbox::1220[0-9a-f]{64}/);
    expect(r.stdout).toMatch(/mediator {6}MED::sandbox-mediator::1220/);
    expect(r.stdout).toMatch(/public API {2}http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout.match(/admin API {3}http:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(4);
    expect(r.stdout.match(/Ledger API {2}http:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(2);
    expect(r.stdout.match(/JSON API {4}http:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(2);
    expect(r.stdout.match(/metrics {7}http:\/\/127\.0\.0\.1:\d+\/metrics/g)).toHaveLength(4);
    expect(r.stdout).toMatch(/participant1 {2}PAR::participant1::1220[0-9a-f]{64}/);
    expect(r.stdout).toMatch(/participant2 {2}PAR::participant2::1220[0-9a-f]{64}/);
    expect(r.stdout).toMatch(
      /health\.ping participant1 → participant2: 2 pings, p50 [\d.]+ ms, max [\d.]+ ms/,
    );
    expect(r.stdout).toMatch(/health\.ping participant2 → participant1: [\d.]+ ms/);
    expect(r.stdout).toContain('sandbox check passed');
  });

  it('daemon: a config error is one line naming the bad key, exit 1', async () => {
    const file = join(dir, 'bad.conf');
    writeFileSync(
      file,
      `weft.node {
  name = seq
  kind = sequencer
  storage { type = sqlite, file = "${join(dir, 'bad.db')}" }
  public-api.port = 0
  admin-api.prot = 5002
}
`,
    );
    const r = await weft(['daemon', '-c', file]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      `weft daemon: CONFIG_INVALID(8): invalid config ${file} (2 problems): weft.node.admin-api.prot: unknown key (did you mean 'port'?); weft.node.admin-api.port: missing (expected an integer in 0..65535)`,
    );
    const missing = await weft(['daemon', '-c', join(dir, 'nope.conf')]);
    expect(missing.code).toBe(1);
    expect(oneLine(missing.stderr)).toMatch(/^weft daemon: CONFIG_FILE_NOT_FOUND/);
  });

  it("daemon: a port in use is one catalogued line on stderr, without gRPC's own", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    const file = join(dir, 'clash.conf');
    writeFileSync(
      file,
      `weft.node {
  name = clash
  kind = participant
  storage { type = sqlite, file = "${join(dir, 'clash.db')}" }
  admin-api.port = ${port}
  monitoring.http-server.port = 0
}
`,
    );
    try {
      const r = await weft(['daemon', '-c', file]);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toMatch(
        new RegExp(
          `^weft daemon: UNAVAILABLE\\(1\\): cannot bind the admin API to 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`,
        ),
      );
    } finally {
      taken.close();
    }
  });

  it('daemon: node kinds that do not run yet say so', async () => {
    const file = join(dir, 'owner.conf');
    writeFileSync(
      file,
      `weft.node { name = t1, kind = topology, storage { type = sqlite, file = "${join(dir, 't1.db')}" } }\n`,
    );
    const r = await weft(['daemon', '-c', file]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      'weft daemon: FAILED_PRECONDITION(9): topology nodes are not available yet (node t1); this version runs sequencer, mediator and participant nodes',
    );
  });

  it('admin: bad input and unreachable nodes give one line and exit 1', async () => {
    const id = await weft(['admin', 'participants', 'set-state', 'PAR::alice::1220abc']);
    expect(id.code).toBe(1);
    expect(oneLine(id.stderr)).toMatch(
      /^weft admin participants set-state: INVALID_IDENTIFIER\(8\): namespace '1220abc' of .* is not a valid fingerprint/,
    );
    const valid = `PAR::alice::1220${'a'.repeat(64)}`;
    const permission = await weft(['admin', 'participants', 'set-state', valid, 'Admin']);
    expect(oneLine(permission.stderr)).toBe(
      "weft admin participants set-state: INVALID_ARGUMENT(8): permission 'Admin' is not one of Submission, Confirmation, Observation",
    );
    const down = await weft(['admin', '-e', 'http://127.0.0.1:1', 'status']);
    expect(down.code).toBe(1);
    expect(oneLine(down.stderr)).toMatch(
      /^weft admin status: ADMIN_CONNECTION_FAILED\(1\): admin endpoint http:\/\/127\.0\.0\.1:1 failed: UNAVAILABLE/,
    );
    const plaintext = await weft(['admin', '-e', 'http://10.1.2.3:5002', 'status']);
    expect(oneLine(plaintext.stderr)).toMatch(
      /ADMIN_INSECURE_CONNECTION\(8\): admin endpoint http:\/\/10\.1\.2\.3:5002 is plaintext/,
    );
    const type = await weft(['admin', 'topology', 'list', '--type', 'Nope']);
    expect(oneLine(type.stderr)).toMatch(/mapping type 'Nope' is not one of NamespaceDelegation, /);
  });
});
