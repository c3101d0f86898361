import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { AdminClient } from '../../admin-api/index.js';
import { decodeConfig } from '../../config/index.js';
import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type RandomSource,
  type SigningPrivateKey,
  SigningPublicKey,
  systemRandom,
} from '../../crypto/index.js';
import { CommonErrors, isWeftError, WeftError } from '../../errors/index.js';
import { KeyPurpose } from '../../generated/weft/admin/v1/node_status_service.js';
import { EnvelopeKind } from '../../generated/weft/sequencer/v1/sequencing.js';
import { OnboardingRestriction } from '../../generated/weft/topology/v1/topology.js';
import { Namespace, ParticipantId, SynchronizerId, UniqueIdentifier } from '../../identity/index.js';
import {
  type ReceivedEvent,
  registerOnboardingTransactions,
  SequencerClient,
  type SequencerClientOptions,
  SequencerErrors,
  sleep,
  systemClock,
} from '../../sequencer/index.js';
import {
  SignedTopologyTransaction,
  type TopologyMapping,
  TopologyTransaction,
} from '../../topology/index.js';
import { DAEMON_SCHEMAS, type DaemonNode, oneLine, startDaemonNode } from './daemon.js';

/** A participant member of the demo: its own namespace key, signing key and encryption key. */
export interface DemoParticipant {
  readonly id: string;
  /** The root key of its namespace, which signs its topology transactions. */
  readonly namespaceKey: SigningPrivateKey;
  readonly signingKey: SigningPrivateKey;
  /** Its onboarding transactions: root delegation, keys, trust certificate for the synchronizer. */
  readonly onboarding: readonly Uint8Array[];
}

/** A new participant identity `PAR::name::<namespace>` with the transactions it joins `synchronizerId` with. */
export function demoParticipant(
  name: string,
  synchronizerId: string,
  random: RandomSource = systemRandom,
): DemoParticipant {
  const namespaceKey = generateSigningKeyPair(random).privateKey;
  const signingKey = generateSigningKeyPair(random).privateKey;
  const namespace = Namespace.fromRootKey(namespaceKey.publicKey);
  const participant = new ParticipantId(UniqueIdentifier.create(name, namespace));
  const sign = (mapping: TopologyMapping, signers: readonly SigningPrivateKey[]) =>
    SignedTopologyTransaction.sign(TopologyTransaction.create('AddReplace', 1, mapping), signers).toBytes();
  return {
    id: String(participant),
    namespaceKey,
    signingKey,
    onboarding: [
      sign(
        {
          kind: 'NamespaceDelegation',
          namespace,
          target: namespaceKey.publicKey,
          restriction: { kind: 'all' },
        },
        [namespaceKey],
      ),
      // Signed by the signing key too: proof that the participant holds the key it publishes.
      sign(
        {
          kind: 'OwnerToKeyMapping',
          member: participant,
          signingKeys: [signingKey.publicKey],
          encryptionKeys: [generateEncryptionKeyPair(random).publicKey],
        },
        [namespaceKey, signingKey],
      ),
      sign(
        {
          kind: 'SynchronizerTrustCertificate',
          participant,
          synchronizerId: SynchronizerId.parse(synchronizerId),
        },
        [namespaceKey],
      ),
    ],
  };
}

/**
 * Connects a member that has just been onboarded: its onboarding takes effect after the topology change delay,
 * so SEQUENCER_MEMBER_NOT_ACTIVE is retried until `timeoutMs`.
 */
export async function connectWhenActive(
  options: SequencerClientOptions,
  timeoutMs = 10_000,
): Promise<SequencerClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await SequencerClient.connect(options);
    } catch (e) {
      if (!isWeftError(e, SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE) || Date.now() > deadline) throw e;
      await sleep(systemClock, 50);
    }
  }
}

export interface SandboxOptions {
  /** Data directory; a temporary one (removed at the end) when absent. */
  readonly dir?: string;
  readonly publicPort: number;
  readonly adminPort: number;
  readonly roundTrips: number;
  readonly version: string;
  readonly out: (line: string) => void;
}

export interface Sandbox {
  readonly node: DaemonNode;
  readonly clients: readonly SequencerClient[];
  stop(): Promise<void>;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/**
 * The sandbox: a sequencer node on SQLite, bootstrapped through its Admin API, and two demo participants that join
 * through the public API (onboarding transactions, then SequencerClient) and play ping-pong, timing round trips.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const dir = options.dir ? resolve(options.dir) : mkdtempSync(join(tmpdir(), 'weft-sandbox-'));
  const out = options.out;
  const config = decodeConfig(
    {
      weft: {
        node: {
          name: 'sandbox-sequencer',
          kind: 'sequencer',
          storage: { type: 'sqlite', file: join(dir, 'sequencer.db') },
          'public-api': { address: '127.0.0.1', port: options.publicPort },
          'admin-api': { address: '127.0.0.1', port: options.adminPort },
          monitoring: { logging: { file: join(dir, 'sequencer.log') } },
        },
      },
    },
    { source: 'the sandbox', nodeSchemas: DAEMON_SCHEMAS },
  ).nodes[0]!;
  const clients: SequencerClient[] = [];
  const node = await startDaemonNode(config, options.version);
  const stop = async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await node.runtime.stop();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const endpoints = Object.fromEntries(node.node.endpoints().map((e) => [e.api, e.url]));
    const publicApi = endpoints['public-api']!;
    const admin = new AdminClient(endpoints['admin-api']!);
    let sequencerKey: SigningPublicKey;
    let synchronizerId: string;
    try {
      const boot = await admin.bootstrap('sandbox', {
        onboardingRestriction: OnboardingRestriction.UNRESTRICTED_OPEN,
      });
      synchronizerId = boot.synchronizerId;
      const identity = await admin.identity();
      const key = identity.keys.find((k) => k.purpose === KeyPurpose.SIGNING)!;
      sequencerKey = SigningPublicKey.fromRaw(key.publicKey);
    } finally {
      admin.close();
    }
    out(`Weft sandbox, data in ${dir}`);
    out(`  synchronizer  ${synchronizerId}`);
    out(`  sequencer     ${node.runtime.identity.member}`);
    out(`  public API    ${publicApi}`);
    out(
      `  admin API     ${endpoints['admin-api']}  (try: npx weft admin -e ${endpoints['admin-api']} status)`,
    );
    out(`  metrics       ${endpoints.monitoring}/metrics`);

    const [alice, bob] = ['alice', 'bob'].map((name) => demoParticipant(name, synchronizerId)) as [
      DemoParticipant,
      DemoParticipant,
    ];
    for (const p of [alice, bob]) await registerOnboardingTransactions([publicApi], p.onboarding);
    const pongs = new Map<string, () => void>();
    const connect = (p: DemoParticipant, handler: (e: ReceivedEvent) => Promise<void> | void) =>
      connectWhenActive({
        member: p.id,
        signingKey: p.signingKey,
        endpoints: [publicApi],
        expectedSynchronizerId: synchronizerId,
        sequencerKeys: () => [sequencerKey],
        handler,
      });
    const envelope = (text: string, to: string) => ({
      content: Buffer.from(text),
      recipients: [{ recipient: { oneofKind: 'member' as const, member: to } }],
      kind: EnvelopeKind.PROTOCOL,
    });
    const soon = () => systemClock.now() + 30_000_000n;
    const aliceClient = await connect(alice, (e) => {
      for (const env of e.envelopes)
        pongs.get(Buffer.from(env.content).toString().replace('pong', 'ping'))?.();
    });
    clients.push(aliceClient);
    const bobClient = await connect(bob, async (e) => {
      for (const env of e.envelopes) {
        const text = Buffer.from(env.content).toString();
        if (text.startsWith('ping')) {
          await bobClient.send({
            envelopes: [envelope(text.replace('ping', 'pong'), alice.id)],
            maxSequencingTime: soon(),
          });
        }
      }
    });
    clients.push(bobClient);
    out('participants');
    out(`  alice  ${alice.id}`);
    out(`  bob    ${bob.id}`);

    const rtts: number[] = [];
    for (let i = 0; i < options.roundTrips; i++) {
      const text = `ping ${i}`;
      const started = performance.now();
      const answered = new Promise<void>((resolve) => pongs.set(text, resolve));
      await aliceClient.send({ envelopes: [envelope(text, bob.id)], maxSequencingTime: soon() });
      await answered;
      pongs.delete(text);
      rtts.push(performance.now() - started);
    }
    const sorted = [...rtts].sort((a, b) => a - b);
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    out(
      `ping-pong alice → bob → alice: ${rtts.length} round trips, p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted[sorted.length - 1]!)}`,
    );
    return { node, clients, stop };
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
      'run a sequencer node on embedded SQLite, bootstrap a synchronizer, connect two participants and exchange messages',
    )
    .option('--check', 'exit 0 once the message exchange succeeded (for CI)')
    .option('--dir <dir>', 'keep the data in this directory (default: a temporary one, removed on exit)')
    .option('--public-port <port>', 'port of the sequencer public API (0: any free port)', '5001')
    .option('--admin-port <port>', 'port of the Admin API (0: any free port)', '5002')
    .option('--round-trips <n>', 'ping-pong round trips to time', '20')
    .action(
      async (o: {
        check?: boolean;
        dir?: string;
        publicPort: string;
        adminPort: string;
        roundTrips: string;
      }) => {
        let sandbox: Sandbox;
        try {
          const number = (value: string, option: string) => {
            if (!/^\d+$/.test(value)) {
              throw new WeftError(CommonErrors.INVALID_ARGUMENT, `${option} '${value}' is not a number`);
            }
            return Number(value);
          };
          sandbox = await startSandbox({
            ...(o.dir ? { dir: o.dir } : {}),
            publicPort: number(o.publicPort, '--public-port'),
            adminPort: number(o.adminPort, '--admin-port'),
            roundTrips: Math.max(1, number(o.roundTrips, '--round-trips')),
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
