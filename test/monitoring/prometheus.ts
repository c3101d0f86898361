/**
 * A real Prometheus for the monitoring test: Debian's `prometheus` package (2.42, with promtool), installed with
 * `apt-get install -y prometheus` when the binaries are missing (as root; CI runs the tests as root), and started
 * as a plain process on a free loopback port with a temporary data directory, never as the package's systemd
 * service.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const BIN = ['/usr/bin/prometheus', '/usr/bin/promtool'];

/** Installs Debian's prometheus package unless its binaries are there. */
export function ensurePrometheus(): void {
  if (BIN.every((b) => existsSync(b))) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'prometheus is not installed and the test is not root: run apt-get install -y prometheus',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // The package's post-install starts its service where systemd runs; policy-rc.d is not ours to change, and a
  // failed start there does not fail the install.
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], {
      env,
      stdio: 'pipe',
    });
  try {
    install();
  } catch {
    // A fresh machine may not have the package lists yet.
    execFileSync('apt-get', ['update'], { env, stdio: 'pipe' });
    install();
  }
  for (const b of BIN) if (!existsSync(b)) throw new Error(`apt-get install prometheus did not provide ${b}`);
}

/** Runs `promtool args…`; resolves its output, throws with it on failure. */
export function promtool(args: readonly string[]): string {
  return execFileSync('/usr/bin/promtool', args, { encoding: 'utf8', stdio: 'pipe' });
}

export interface RunningPrometheus {
  readonly url: string;
  stop(): void;
}

/** Starts prometheus with `config` on `127.0.0.1:port`, its data in `dataDir`; resolves once it is ready. */
export async function startPrometheus(
  config: string,
  port: number,
  dataDir: string,
): Promise<RunningPrometheus> {
  const child: ChildProcess = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus did not get ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => child.kill('SIGKILL') };
}
