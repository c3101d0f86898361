import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
// The real CLI entry point, run from source so the test does not depend on a fresh `npm run build`.
const weft = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: process.cwd() }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('weft daml test', () => {
  it('runs a documented scenario and prints each step with its events', async () => {
    const { code, stdout, stderr } = await weft('daml', 'test', 'examples/scenarios/ping.yaml');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^scenario "ping": 6 steps\n\[ok\] step 1 "alice pings bob"\n/);
    expect(stdout).toMatch(
      / {6}create Canton.Internal.Ping:Ping 00[0-9a-f]{10}… signatories \[alice\] observers \[bob\]/,
    );
    expect(stdout).toMatch(/rejected: DAML_CONTRACT_NOT_ACTIVE: contract 00[0-9a-f]+ is archived/);
    expect(stdout).toMatch(/all 6 steps passed\n$/);
  });

  it('exits 1 at the first unmet expectation, naming the step', async () => {
    const { code, stdout, stderr } = await weft(
      'daml',
      'test',
      'examples/scenarios/wrong-expectation.yaml',
      '--json',
    );
    expect(code).toBe(1);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).ok),
    ).toEqual([true, false]);
    expect(stderr).toBe(
      'weft daml test: examples/scenarios/wrong-expectation.yaml: step 2 "carol sees the ping" failed: expected 1 active contract(s), found 0\n',
    );
  });

  it('exits 2 on a scenario file it cannot use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-scenario-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'dars: [missing.dar]\nsteps: []\n');
    const { code, stderr } = await weft('daml', 'test', file);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^weft daml test: .*bad\.yaml: .*missing\.dar/);
  });
});
