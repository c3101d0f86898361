import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type CantonConfig,
  decodeConfig,
  fromCantonLayout,
  isCantonLayout,
  MEDIATOR_SEQUENCER_PENDING,
  type RemoteEndpoint,
  readConfigTree,
} from '../../config/index.js';
import {
  type ConsoleEndpoint,
  type ConsoleNetwork,
  type ConsoleNode,
  ConsoleSession,
  errorLine,
  runConsoleScript,
} from '../../console/index.js';
import {
  DAEMON_SCHEMAS,
  type DaemonNode,
  type DaemonNodeConfig,
  oneLine,
  startDaemonNode,
} from '../../daemon/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { InProcessSequencers } from '../../sequencer/index.js';
import { StaticClock } from '../../time/index.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The nodes a config file defines, run in this process (Canton's `canton -c FILE`), and those it reaches. */
export interface LocalNetwork {
  readonly network: ConsoleNetwork;
  /** Stops the local nodes and removes the data of `memory` storage. */
  close(): Promise<void>;
}

function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `cannot read the certificate file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

function consoleEndpoint(e: RemoteEndpoint): ConsoleEndpoint {
  return {
    url: e.url,
    ...(e.trustCollectionFile ? { ca: readPem(e.trustCollectionFile) } : {}),
    ...(e.clientCert
      ? {
          clientCert: {
            certChain: readPem(e.clientCert.certChainFile),
            privateKey: readPem(e.clientCert.privateKeyFile),
          },
        }
      : {}),
    ...(e.token ? { token: e.token } : {}),
  };
}

/**
 * Canton's files are one config when given together (`-c postgres.conf -c sequencer-a.conf`: substitutions reach
 * across them, later files override earlier ones), as HOCON includes of each in order are.
 */
function combined(files: readonly string[], dataDir: string): string {
  if (files.length === 1) return files[0]!;
  const all = join(dataDir, 'config.conf');
  writeFileSync(
    all,
    files.map((f) => `include required(${JSON.stringify(relative(dataDir, resolve(f)))})\n`).join(''),
  );
  return all;
}

/** A mediator from Canton's layout connects to the first sequencer this process started (see MEDIATOR_SEQUENCER_PENDING). */
function withSequencer(config: DaemonNodeConfig, started: readonly ConsoleNode[]): DaemonNodeConfig {
  if (
    config.kind !== 'mediator' ||
    !config.sequencerConnection.endpoints?.includes(MEDIATOR_SEQUENCER_PENDING)
  )
    return config;
  const sequencer = started.find((n) => n.kind === 'sequencer');
  if (!sequencer?.publicApi) {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `mediator ${config.name}: a Weft mediator connects to a sequencer at start; give a sequencer in the same files`,
    );
  }
  return {
    ...config,
    sequencerConnection: { ...config.sequencerConnection, endpoints: [sequencer.publicApi.url] },
  };
}

/** A running node as the console reaches it, through the URLs it bound. */
function localNode(config: DaemonNodeConfig, running: DaemonNode): ConsoleNode {
  const urls = Object.fromEntries(running.node.endpoints().map((e) => [e.api, e.url]));
  if (config.kind === 'topology')
    throw new WeftError(CommonErrors.FAILED_PRECONDITION, 'topology nodes do not run');
  return {
    name: config.name,
    kind: config.kind,
    local: true,
    admin: { url: urls['admin-api']! },
    ...(urls['ledger-api'] ? { ledgerApi: { url: urls['ledger-api'] } } : {}),
    ...(urls['public-api'] ? { publicApi: { url: urls['public-api'] } } : {}),
  };
}

/**
 * Reads a config in Weft's layout (`weft { … }`) or Canton's (`canton { … }`), starts every node it defines in
 * this process (sequencers first, so that mediators find them, then the others together) and returns the
 * console's view of them and of the remote nodes it names. Canton's `memory` storage lives in a temporary
 * directory removed at close.
 */
export async function startLocalNetwork(files: readonly string[], version: string): Promise<LocalNetwork> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
  const file = files.join(', ');
  const running: DaemonNode[] = [];
  const stop = async () => {
    for (const node of [...running].reverse()) await node.runtime.stop();
    running.length = 0;
  };
  try {
    const tree = await readConfigTree(combined(files, dataDir), process.env);
    const canton: CantonConfig | undefined = isCantonLayout(tree)
      ? fromCantonLayout(tree, file, dataDir)
      : undefined;
    const weftTree = canton ? canton.weftTree : tree;
    const hasLocal = canton === undefined || Object.keys(canton.weftTree.weft).length > 0;
    const configs = hasLocal
      ? decodeConfig(weftTree, { source: file, nodeSchemas: DAEMON_SCHEMAS }).nodes
      : [];
    // Canton's sim clock: one static time for every local node, from the epoch.
    const clock = canton?.staticTime ? new StaticClock(0n) : undefined;
    // The nodes of this process reach its sequencers without gRPC (docs/architecture.md, decision 15).
    const inProcess = new InProcessSequencers();
    const order = ['sequencer', 'mediator', 'participant'];
    const sorted = [...configs].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
    const locals: ConsoleNode[] = [];
    const launch = (config: DaemonNodeConfig, signal?: AbortSignal) =>
      startDaemonNode(withSequencer(config, locals), version, {
        ...(clock ? { clock } : {}),
        inProcess,
        onPassive: (why) => process.stdout.write(`${config.name} (${config.kind}) ${why}\n`),
        ...(signal ? { signal } : {}),
      });
    const start = async () => {
      if (running.length > 0) return;
      locals.length = 0;
      const sequencers = sorted.filter((c) => c.kind === 'sequencer');
      for (const config of sequencers) {
        const node = await launch(config);
        running.push(node);
        locals.push(localNode(config, node));
      }
      // The others together, so that a replica waiting passive for its lease holds back no other node; the first
      // to fail cancels the others' waits.
      const others = sorted.filter((c) => c.kind !== 'sequencer');
      const cancel = new AbortController();
      let cause: unknown;
      const results = await Promise.allSettled(
        others.map((config) =>
          launch(config, cancel.signal).catch((e: unknown) => {
            if (!cancel.signal.aborted) {
              cause = e;
              cancel.abort();
            }
            throw e;
          }),
        ),
      );
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          running.push(r.value);
          locals.push(localNode(others[i]!, r.value));
        }
      });
      if (cancel.signal.aborted) throw cause;
    };
    await start();
    const remote: ConsoleNode[] = (canton?.remote ?? []).map((r) => ({
      name: r.name,
      kind: r.kind,
      local: false,
      admin: consoleEndpoint(r.admin),
      ...(r.ledgerApi ? { ledgerApi: consoleEndpoint(r.ledgerApi) } : {}),
      ...(r.publicApi ? { publicApi: consoleEndpoint(r.publicApi) } : {}),
    }));
    return {
      network: { nodes: [...locals, ...remote], local: { start, stop } },
      close: async () => {
        await stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** Runs a script on `network`; false (after one line on stderr, naming `command`) when it failed. */
export async function runScript(network: ConsoleNetwork, script: string, command: string): Promise<boolean> {
  const session = new ConsoleSession(network, { stopAfterFailure: true });
  try {
    await runConsoleScript(session, script, (line) => process.stdout.write(`${line}\n`));
    return true;
  } catch (e) {
    process.stderr.write(`weft ${command}: ${errorLine(e)}\n`);
    return false;
  } finally {
    session.close();
  }
}

/** `weft run -c FILE [--bootstrap SCRIPT]`: every node of a file in one process, until SIGTERM or SIGINT. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      "run every node a config file defines in one process (Weft's layout or Canton's canton { sequencers, mediators, participants }), optionally with a console bootstrap script",
    )
    .requiredOption(
      '-c, --config <file>',
      'a config file (.conf HOCON, .yaml, .json); repeat to combine files as one config',
      collect,
    )
    .option('--bootstrap <script>', 'a console script (JavaScript) to run once the nodes are up')
    .action(async (o: { config: string[]; bootstrap?: string }) => {
      let local: LocalNetwork;
      try {
        local = await startLocalNetwork(o.config, program.version() ?? 'unknown');
      } catch (e) {
        process.stderr.write(`weft run: ${oneLine(e)}\n`);
        process.exit(1);
      }
      for (const n of local.network.nodes)
        process.stdout.write(`${n.name} (${n.kind}) admin API ${n.admin.url}\n`);
      let stopping = false;
      const stop = async (code: number) => {
        if (stopping) process.exit(1);
        stopping = true;
        await local.close();
        process.exit(code);
      };
      process.on('SIGTERM', () => void stop(0));
      process.on('SIGINT', () => void stop(0));
      if (o.bootstrap && !(await runScript(local.network, o.bootstrap, 'run'))) await stop(1);
      process.stdout.write('running; press Ctrl-C to stop\n');
    });
}
