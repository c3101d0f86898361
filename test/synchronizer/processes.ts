/**
 * Helpers for tests that run the `weft` CLI as real processes (`node dist/cli/main.js`, built by `npm test` or
 * `npm run build`): daemons that report their ports through `--port-file`, one-shot commands, certificates.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(REPO, 'dist/cli/main.js');

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);

export interface Ports {
  readonly admin: number;
  /** Absent for a mediator, which has no public API. */
  readonly public?: number;
  /** A participant's Ledger API, when its config has a `ledger-api` section. */
  readonly ledgerApi?: number;
  /** A participant's JSON Ledger API, when its config has a `json-api` section. */
  readonly jsonApi?: number;
  readonly monitoring: number;
}

export interface Daemon {
  readonly child: ChildProcess;
  readonly ports: Ports;
  readonly adminUrl: string;
  readonly publicUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Kills every daemon a test left running (for afterAll). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Starts `weft daemon -c config` and resolves once it wrote its ports; rejects with its output if it exits. */
export async function startDaemon(
  config: string,
  portFile: string,
  options: {
    readonly env?: NodeJS.ProcessEnv;
    readonly tls?: boolean;
    /** The working directory, against which the config's relative paths resolve. */
    readonly cwd?: string;
    /** The node to run when the config defines several. */
    readonly node?: string;
    /** How long the daemon may take to report its ports; default 20 s. */
    readonly timeoutMs?: number;
  } = {},
): Promise<Daemon> {
  writeFileSync(portFile, '');
  const node = options.node === undefined ? [] : ['--node', options.node];
  const child = spawn(process.execPath, [CLI, 'daemon', '-c', config, ...node, '--port-file', portFile], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  running.add(child);
  let output = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let ports: Ports | undefined;
  while (!ports) {
    if (exitCode !== undefined) throw new Error(`weft daemon exited with ${exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`weft daemon did not report its ports: ${output}`);
    const text = readFileSync(portFile, 'utf8');
    if (text) ports = JSON.parse(text) as Ports;
    else await new Promise((r) => setTimeout(r, 25));
  }
  const scheme = options.tls ? 'https' : 'http';
  return {
    child,
    ports,
    adminUrl: `${scheme}://127.0.0.1:${ports.admin}`,
    publicUrl: `${scheme}://127.0.0.1:${ports.public}`,
    output: () => output,
    stderr: () => stderr,
    stop: (signal = 'SIGTERM') => {
      if (exitCode !== undefined) return Promise.resolve(exitCode);
      child.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `weft ...args` to completion. */
export function weft(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    ),
  );
}

/** Linux's ephemeral range: the kernel gives its ports to outgoing connections and to listen(0). */
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
})();
/** Below it, and above the well-known and the product's default ports (5001, 7575, 8088, ...). */
const FREE_PORT_LOW = 16_384;
const FREE_PORT_ATTEMPTS = 50;

function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port nobody listens on now (bound and released), so a config can name it before the daemon starts. Taken
 * below the ephemeral range: a port from listen(0) could meanwhile become the local end of any outgoing
 * connection on the machine (seen in CI: the daemon's bind failed with EADDRINUSE seconds later).
 */
export async function freePort(): Promise<number> {
  if (EPHEMERAL_LOW > FREE_PORT_LOW) {
    for (let i = 0; i < FREE_PORT_ATTEMPTS; i++) {
      const port = await bindable(randomInt(FREE_PORT_LOW, EPHEMERAL_LOW));
      if (port !== undefined) return port;
    }
  }
  const port = await bindable(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** Polls `condition` every 20 ms until it holds, failing after `timeoutMs` with `what`. */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `weft ...args`, expecting success without stderr; resolves with the trimmed stdout. */
export async function weftOk(args: readonly string[]): Promise<string> {
  const r = await weft(args);
  expect(r.stderr, `weft ${args.join(' ')}`).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

/** Writes `dir/<name>.conf`; resolves its path. */
export function writeConfig(dir: string, name: string, text: string): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, text);
  return file;
}

/**
 * A participant daemon's config: storage (HOCON) default a SQLite file in `dir`, ports chosen by the system, a short
 * reconnection backoff.
 */
export function participantConfig(
  dir: string,
  name: string,
  storage = `{ type = sqlite, file = "${join(dir, `${name}.db`)}" }`,
): string {
  return writeConfig(
    dir,
    name,
    `weft.node {
  name = ${name}
  kind = participant
  storage ${storage}
  admin-api.port = 0
  monitoring.http-server.port = 0
  participant.max-backoff-ms = 200
}
`,
  );
}

/**
 * The example mediator config (`examples/config/mediator.conf`) with its database in `dir`, system-chosen ports and
 * `connection` as its `sequencer-connection` body (HOCON), default the loopback sequencer on `sequencerPort`.
 */
export function mediatorConfig(
  dir: string,
  name: string,
  sequencerPort: number,
  connection = `endpoints = ["http://127.0.0.1:${sequencerPort}"]`,
): string {
  return writeConfig(
    dir,
    name,
    `include required("${relative(dir, join(REPO, 'examples/config/mediator.conf'))}")
weft.node {
  name = ${name}
  storage.file = "${join(dir, `${name}.db`)}"
  sequencer-connection { ${connection}, max-backoff-ms = 200 }
  admin-api.port = 0
  monitoring.http-server.port = 0
}
`,
  );
}
