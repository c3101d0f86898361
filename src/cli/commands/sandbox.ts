import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AdminClient } from '../../admin-api/index.js';
import { decodeConfig } from '../../config/index.js';
import { systemRandom } from '../../crypto/index.js';
import { DAEMON_SCHEMAS, type DaemonNode, oneLine, startDaemonNode } from '../../daemon/index.js';
import { CommonErrors, WeftError } from '../../errors/index.js';
import { OnboardingRestriction } from '../../generated/weft/topology/v1/topology.js';
import { createLogger } from '../../observability/index.js';
import { InProcessSequencers } from '../../sequencer/index.js';
import { type Clock, StaticClock, sleep, systemClock } from '../../time/index.js';
import { TriggerService, triggerServiceSettings } from '../../triggers/index.js';

export interface SandboxOptions {
  /** Data directory; a temporary one (removed at the end) when absent. */
  readonly dir?: string;
  /** The sequencer's public API port (0: any free port). */
  readonly publicPort: number;
  /** The Admin API ports of the sequencer, the mediator and the two participants (0: any free port). */
  readonly adminPorts: { sequencer: number; mediator: number; participant1: number; participant2: number };
  /** The Ledger API ports of the two participants (0: any free port). */
  readonly ledgerApiPorts: { participant1: number; participant2: number };
  /** The JSON Ledger API ports of the two participants (0: any free port). */
  readonly jsonApiPorts: { participant1: number; participant2: number };
  /** The trigger service on participant1's Ledger API (its port, 0: any free one; trigger packages loaded at start). */
  readonly triggerService?: { readonly port: number; readonly packagesDir?: string };
  /** How many pings participant1 sends participant2. */
  readonly pings: number;
  /**
   * Static time (`--static-time`, Canton's sim clock): every node runs on one clock that stands at the Unix epoch
   * until the Ledger API's testing TimeService sets it; the participants serve that service.
   */
  readonly staticTime?: boolean;
  readonly version: string;
  readonly out: (line: string) => void;
}

export interface Sandbox {
  readonly nodes: readonly DaemonNode[];
  stop(): Promise<void>;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** How long the sandbox waits for the mediator to process after the bootstrap. */
const MEDIATOR_READY_TIMEOUT_MS = 30_000;

/**
 * The sandbox: a local network on embedded SQLite, every node a real node with its own database and keys, in this
 * process (the members reach the sequencer's public API by method calls, {@link InProcessSequencers}; it also
 * serves gRPC on loopback): a synchronizer (a sequencer node and a mediator node, bootstrapped
 * through the sequencer's Admin API with the mediator in the genesis) and two participant nodes that connect
 * through their Admin APIs (uploading the ping DAR as their admin workflow) and `health.ping` each other. Each
 * participant serves the Ledger API for applications, over gRPC and as the JSON Ledger API (no auth: every caller
 * has every right, on loopback only). On static time the nodes share one {@link StaticClock} (and so the
 * synchronizer has no topology change delay, see `SequencerDaemon.bootstrap`).
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'weft-sandbox-'));
  const out = options.out;
  // Canton's sim clock starts at the epoch.
  const clock: Clock = options.staticTime ? new StaticClock(0n) : systemClock;
  // The members reach the sequencer without gRPC (docs/architecture.md, decision 15); applications use the APIs.
  const inProcess = new InProcessSequencers();
  const nodes: DaemonNode[] = [];
  const clients: AdminClient[] = [];
  let triggers: TriggerService | undefined;
  const stop = async () => {
    await triggers?.close();
    for (const c of clients) c.close();
    // Participants first, the sequencer last: members leave before their synchronizer.
    for (const node of [...nodes].reverse()) await node.runtime.stop();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  };
  const start = async (name: string, kind: string, section: Record<string, unknown>) => {
    const config = decodeConfig(
      {
        weft: {
          node: {
            name,
            kind,
            storage: { type: 'sqlite', file: join(dir, `${name}.db`) },
            monitoring: { logging: { file: join(dir, `${name}.log`) } },
            ...section,
          },
        },
      },
      { source: 'the sandbox', nodeSchemas: DAEMON_SCHEMAS },
    ).nodes[0]!;
    const node = await startDaemonNode(config, options.version, { clock, inProcess });
    nodes.push(node);
    const urls = Object.fromEntries(node.node.endpoints().map((e) => [e.api, e.url]));
    const admin = new AdminClient(urls['admin-api']!);
    clients.push(admin);
    return { node, urls, admin };
  };
  try {
    const { adminPorts, ledgerApiPorts, jsonApiPorts } = options;
    const sequencer = await start('sandbox-sequencer', 'sequencer', {
      'public-api': { address: '127.0.0.1', port: options.publicPort },
      'admin-api': { address: '127.0.0.1', port: adminPorts.sequencer },
    });
    const publicApi = sequencer.urls['public-api']!;
    const mediator = await start('sandbox-mediator', 'mediator', {
      'sequencer-connection': { endpoints: [publicApi], 'max-backoff-ms': 200 },
      'admin-api': { address: '127.0.0.1', port: adminPorts.mediator },
    });
    const participants = [
      await start('participant1', 'participant', {
        'admin-api': { address: '127.0.0.1', port: adminPorts.participant1 },
        'ledger-api': { address: '127.0.0.1', port: ledgerApiPorts.participant1 },
        'json-api': { address: '127.0.0.1', port: jsonApiPorts.participant1 },
      }),
      await start('participant2', 'participant', {
        'admin-api': { address: '127.0.0.1', port: adminPorts.participant2 },
        'ledger-api': { address: '127.0.0.1', port: ledgerApiPorts.participant2 },
        'json-api': { address: '127.0.0.1', port: jsonApiPorts.participant2 },
      }),
    ] as const;

    const boot = await sequencer.admin.bootstrap(
      'sandbox',
      { onboardingRestriction: OnboardingRestriction.UNRESTRICTED_OPEN },
      { mediators: [await mediator.admin.identityTransactions()] },
    );
    const deadline = systemClock.now() + BigInt(MEDIATOR_READY_TIMEOUT_MS) * 1000n;
    while (!(await mediator.admin.status()).ready) {
      if (systemClock.now() > deadline) {
        throw new WeftError(
          CommonErrors.UNAVAILABLE,
          `the sandbox mediator did not start processing within ${MEDIATOR_READY_TIMEOUT_MS / 1000} s; see ${join(dir, 'sandbox-mediator.log')}`,
        );
      }
      await sleep(systemClock, 50);
    }
    const ids: string[] = [];
    for (const p of participants) {
      const r = await p.admin.connectSynchronizer({ alias: 'sandbox', endpoints: [publicApi] });
      ids.push(r.participantId);
    }
    const [id1, id2] = ids as [string, string];
    if (options.triggerService) {
      triggers = await TriggerService.start({
        config: triggerServiceSettings({
          port: options.triggerService.port,
          'ledger-api': participants[0].urls['ledger-api'],
          storage: { type: 'sqlite', file: join(dir, 'trigger-service.db') },
          ...(options.triggerService.packagesDir
            ? { 'packages-dir': resolve(options.triggerService.packagesDir) }
            : {}),
        }),
        clock: systemClock,
        random: systemRandom,
        logger: createLogger({ file: join(dir, 'trigger-service.log') }),
      });
    }

    out(`Weft sandbox, data and logs in ${dir}`);
    out(`  synchronizer  ${boot.synchronizerId}`);
    if (options.staticTime) {
      out(
        `  static time   ${new Date(Number(clock.now() / 1000n)).toISOString()} (set with the Ledger API's testing.TimeService)`,
      );
    }
    out(`  sequencer     ${boot.sequencerId}`);
    out(`    public API  ${publicApi}`);
    out(`    admin API   ${sequencer.urls['admin-api']}`);
    out(`  mediator      ${boot.mediatorIds[0]}`);
    out(`    admin API   ${mediator.urls['admin-api']}`);
    for (const [i, p] of participants.entries()) {
      out(`  participant${i + 1}  ${ids[i]}`);
      out(`    Ledger API  ${p.urls['ledger-api']}`);
      out(`    JSON API    ${p.urls['json-api']}`);
      out(`    admin API   ${p.urls['admin-api']}`);
    }
    for (const { node, urls } of [sequencer, mediator, ...participants]) {
      out(`  metrics       ${urls.monitoring}/metrics  (${node.runtime.config.name})`);
    }
    if (triggers) out(`  trigger service ${triggers.url}  (on participant1's Ledger API)`);
    out(`  try: npx weft admin -e ${participants[0].urls['admin-api']} ping ${id2}`);
    out(
      `       grpcurl -plaintext ${participants[0].urls['ledger-api']!.replace(/^http:\/\//, '')} com.daml.ledger.api.v2.VersionService/GetLedgerApiVersion`,
    );
    out(`       curl ${participants[0].urls['json-api']}/v2/version`);

    const rtts: number[] = [];
    for (let i = 0; i < options.pings; i++) rtts.push(await participants[0].admin.ping(id2));
    const back = await participants[1].admin.ping(id1);
    const sorted = [...rtts].sort((a, b) => a - b);
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    out(
      `health.ping participant1 → participant2: ${rtts.length} pings, p50 ${ms(percentile(sorted, 50))}, max ${ms(sorted[sorted.length - 1]!)}`,
    );
    out(`health.ping participant2 → participant1: ${ms(back)}`);
    return { nodes, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** `weft sandbox [--check]`: the README's first command. */
export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description(
      'run a local network on embedded SQLite: a synchronizer (sequencer and mediator) and two participants that ping each other and serve the Ledger API',
    )
    .option('--check', 'exit 0 once the participants pinged each other (for CI)')
    .option('--dir <dir>', 'keep the data in this directory (default: a temporary one, removed on exit)')
    .option('--public-port <port>', 'port of the sequencer public API (0: any free port)', '5001')
    .option('--admin-port <port>', "port of the sequencer's Admin API (0: any free port)", '5002')
    .option('--mediator-admin-port <port>', "port of the mediator's Admin API", '5202')
    .option('--participant-admin-ports <ports>', "ports of the participants' Admin APIs", '5012,5022')
    .option('--participant-ledger-api-ports <ports>', "ports of the participants' Ledger APIs", '5011,5021')
    .option(
      '--participant-json-api-ports <ports>',
      "ports of the participants' JSON Ledger APIs",
      '7575,7576',
    )
    .option(
      '--trigger-service-port <port>',
      "also run the trigger service on participant1's Ledger API, on this port (0: any free port; Daml's is 8088)",
    )
    .option('--trigger-packages <dir>', 'trigger packages the trigger service loads at start')
    .option('--pings <n>', 'pings participant1 sends participant2', '3')
    .option(
      '--static-time',
      "run every node on static time, from the Unix epoch, set through the Ledger API's testing.TimeService",
    )
    .action(
      async (o: {
        check?: boolean;
        dir?: string;
        publicPort: string;
        adminPort: string;
        mediatorAdminPort: string;
        participantAdminPorts: string;
        participantLedgerApiPorts: string;
        participantJsonApiPorts: string;
        pings: string;
        triggerServicePort?: string;
        triggerPackages?: string;
        staticTime?: boolean;
      }) => {
        let sandbox: Sandbox;
        try {
          const number = (value: string, option: string) => {
            if (!/^\d+$/.test(value)) {
              throw new WeftError(CommonErrors.INVALID_ARGUMENT, `${option} '${value}' is not a number`);
            }
            return Number(value);
          };
          const two = (value: string, option: string, example: string) => {
            const ports = value.split(',');
            if (ports.length !== 2) {
              throw new WeftError(
                CommonErrors.INVALID_ARGUMENT,
                `${option} '${value}' is not two ports like ${example}`,
              );
            }
            return { participant1: number(ports[0]!, option), participant2: number(ports[1]!, option) };
          };
          sandbox = await startSandbox({
            ...(o.dir ? { dir: o.dir } : {}),
            publicPort: number(o.publicPort, '--public-port'),
            adminPorts: {
              sequencer: number(o.adminPort, '--admin-port'),
              mediator: number(o.mediatorAdminPort, '--mediator-admin-port'),
              ...two(o.participantAdminPorts, '--participant-admin-ports', '5012,5022'),
            },
            ledgerApiPorts: two(o.participantLedgerApiPorts, '--participant-ledger-api-ports', '5011,5021'),
            jsonApiPorts: two(o.participantJsonApiPorts, '--participant-json-api-ports', '7575,7576'),
            ...(o.triggerServicePort !== undefined
              ? {
                  triggerService: {
                    port: number(o.triggerServicePort, '--trigger-service-port'),
                    ...(o.triggerPackages ? { packagesDir: o.triggerPackages } : {}),
                  },
                }
              : {}),
            pings: Math.max(1, number(o.pings, '--pings')),
            ...(o.staticTime ? { staticTime: true } : {}),
            version: program.version() ?? 'unknown',
            out: (line) => process.stdout.write(`${line}\n`),
          });
        } catch (e) {
          process.stderr.write(`weft sandbox: ${oneLine(e)}\n`);
          process.exit(1);
        }
        if (o.check) {
          await sandbox.stop();
          process.stdout.write('sandbox check passed\n');
          process.exit(0);
        }
        process.stdout.write('running; press Ctrl-C to stop\n');
        let stopping = false;
        const stop = async () => {
          if (stopping) process.exit(1);
          stopping = true;
          await sandbox.stop();
          process.exit(0);
        };
        process.on('SIGINT', () => void stop());
        process.on('SIGTERM', () => void stop());
      },
    );
}
