/**
 * The Ledger API's cost on the command path: the token transfer of bench/participant.bench.ts (alice's offer on p1,
 * bob's acceptance on p2) submitted in one run both in-process (`ParticipantNode.submit`, JSON commands) and
 * through each participant's Ledger API over gRPC loopback (CommandService.SubmitAndWait with protobuf commands,
 * as a client sends them), alternating rounds so that both see the same ledger. Measures transactions/s, the
 * latency of each SubmitAndWait, and the CPU time of the whole process per transaction; the Ledger API's extra
 * CPU includes the client's own protobuf and gRPC work, which runs in this process too (an upper bound).
 *
 * Run: npx tsx bench/ledger-api.bench.ts [--transfers 60] [--concurrency 1,8] [--rounds 3]
 */

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { systemRandom } from '../src/crypto/index.js';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import type { Command as JsonCommand } from '../src/daml/index.js';
import { CommandServiceClient } from '../src/generated/com/daml/ledger/api/v2/command_service.grpc-client.js';
import type { Command, Commands } from '../src/generated/com/daml/ledger/api/v2/commands.js';
import { WILDCARD_CLAIMS } from '../src/ledger-api/auth/index.js';
import { identifierToProto } from '../src/ledger-api/identifiers.js';
import { LEDGER_API_DESCRIPTORS, type LedgerApiServer, serveLedgerApi } from '../src/ledger-api/index.js';
import { commandServices } from '../src/ledger-api/services/participant-commands.js';
import { updateService } from '../src/ledger-api/services/updates.js';
import { UserStore } from '../src/ledger-api/users/index.js';
import { recordToProto, valueToProto } from '../src/ledger-api/values.js';
import { createLogger } from '../src/observability/index.js';
import type { ParticipantNode } from '../src/participant/index.js';
import { participantTestNetwork, tokenCommands } from '../src/participant/testing.js';
import { sequencerSettings } from '../src/sequencer/config.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const TRANSFERS = Number(args.get('transfers') ?? 60);
const CONCURRENCY = (args.get('concurrency') ?? '1,8').split(',').map(Number);
const ROUNDS = Number(args.get('rounds') ?? 3);

type Mode = 'in-process' | 'ledger-api';

const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: readonly number[]) => pct(xs, 50);

const net = await participantTestNetwork({
  seed: 'bench-ledger-api',
  sequencerSettings: sequencerSettings({ writer: { preset: 'high-throughput' } }),
});
const logger = createLogger({ level: 'silent' });
const started = [await net.startParticipant('p1'), await net.startParticipant('p2')];
const [p1, p2] = started.map((s) => s.node) as [ParticipantNode, ParticipantNode];
const servers: LedgerApiServer[] = [];
const clients = new Map<ParticipantNode, CommandServiceClient>();
for (const s of started) {
  const reads = {
    reads: s.node.reads,
    packages: s.node.engine.packages,
    ledgerEnd: () => s.node.durableEnd,
    prunedUpTo: async () => 0n,
  };
  const updates = updateService(reads);
  const server = await serveLedgerApi({
    address: '127.0.0.1',
    port: 0,
    maxInboundMessageBytes: 4 * 1024 * 1024,
    maxStreams: 100,
    services: [
      updates,
      ...(await commandServices({
        participant: s.node,
        storage: s.storage,
        users: await UserStore.open(s.storage),
        random: systemRandom,
        getUpdateById: updates.handlers.GetUpdateById as never,
        prunedUpTo: async () => 0n,
      })),
    ],
    authenticator: { authenticate: async () => WILDCARD_CLAIMS, watchStream: () => () => {} },
    descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
    logger,
  });
  servers.push(server);
  clients.set(
    s.node,
    new CommandServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()),
  );
}

try {
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all([p1.uploadDar(dar), p2.uploadDar(dar)]);
  const admin = await p1.allocateParty('admin');
  const alice = await p1.allocateParty('alice');
  const bob = await p2.allocateParty('bob');
  const created = new Map<string, { template: string; contractId: string }[]>();
  const seen = new Map<string, () => void>();
  for (const node of [p1, p2]) {
    node.onCommitted((c) => {
      const list: { template: string; contractId: string }[] = [];
      for (const x of c.opened.assembled.transaction.nodes.values()) {
        if (x.tag === 'Create')
          list.push({ template: x.templateId.name.join('.'), contractId: x.contractId.coid });
      }
      created.set(`${node.id} ${c.updateId}`, list);
      seen.get(`${node.id} ${c.updateId}`)?.();
    });
  }
  const committedOn = (node: ParticipantNode, updateId: string) =>
    created.has(`${node.id} ${updateId}`)
      ? Promise.resolve()
      : new Promise<void>((resolve) => seen.set(`${node.id} ${updateId}`, resolve));

  /** A JSON command as a Ledger API client writes it: protobuf values with labels, typed by the engine. */
  const protoCommand = (node: ParticipantNode, c: unknown): Command => {
    const [prepared] = node.engine.commands.prepare([c as JsonCommand]);
    if (prepared?.kind === 'Create') {
      return {
        command: {
          oneofKind: 'create',
          create: {
            templateId: identifierToProto(prepared.templateId),
            createArguments: recordToProto(prepared.arg, true),
          },
        },
      };
    }
    if (prepared?.kind === 'Exercise') {
      return {
        command: {
          oneofKind: 'exercise',
          exercise: {
            templateId: identifierToProto(prepared.templateId),
            contractId: prepared.contractId.coid,
            choice: prepared.choice,
            choiceArgument: valueToProto(prepared.arg, true),
          },
        },
      };
    }
    throw new Error('the benchmark submits creates and exercises only');
  };

  let n = 0;
  /** Submits one command in `mode`; resolves with the update id once its completion is durable. */
  const submit = async (
    mode: Mode,
    node: ParticipantNode,
    command: unknown,
    actAs: string[],
    readAs: string[] = [],
  ): Promise<string> => {
    const commandId = `cmd-${n++}`;
    if (mode === 'in-process') {
      const c = await node.submit({ commands: [command], actAs, readAs, commandId, userId: 'bench' });
      if (c.status !== 'succeeded') throw new Error(`${commandId}: ${c.code}: ${c.message}`);
      return c.updateId!;
    }
    const commands: Commands = {
      workflowId: '',
      userId: 'bench',
      commandId,
      commands: [protoCommand(node, command)],
      deduplicationPeriod: { oneofKind: undefined },
      actAs,
      readAs,
      submissionId: '',
      disclosedContracts: [],
      synchronizerId: '',
      packageIdSelectionPreference: [],
      prefetchContractKeys: [],
    };
    const client = clients.get(node)!;
    return new Promise((resolve, reject) =>
      client.submitAndWait({ commands }, (err, r) => (err ? reject(err) : resolve(r!.updateId))),
    );
  };

  const rulesTx = await submit('in-process', p1, tokenCommands.rules(admin), [admin]);
  const rules = created.get(`${p1.id} ${rulesTx}`)![0]!.contractId;
  const holdings: string[] = [];
  const needed = (TRANSFERS + 5) * CONCURRENCY.length * ROUNDS * 2;
  for (let left = needed; left > 0; left -= 50) {
    const count = Math.min(50, left);
    const c = await p1.submit({
      commands: Array.from({ length: count }, () => tokenCommands.mint(admin, alice, '10.0')),
      actAs: [admin, alice],
      commandId: `mint-${n++}`,
    });
    holdings.push(...created.get(`${p1.id} ${c.updateId}`)!.map((x) => x.contractId));
  }

  const measure = async (mode: Mode, concurrency: number) => {
    const latencies: number[] = [];
    const transfer = async (holding: string) => {
      let t = performance.now();
      const offer = { rules, admin, sender: alice, receiver: bob, amount: '10.0', inputs: [holding] };
      const offered = await submit(mode, p1, tokenCommands.offer(offer), [alice], [admin]);
      latencies.push(performance.now() - t);
      await committedOn(p2, offered);
      const offerId = created.get(`${p2.id} ${offered}`)!.find((x) => x.template === 'TokenTransferOffer')!;
      t = performance.now();
      await submit(mode, p2, tokenCommands.instruction(offerId.contractId, 'TransferInstruction_Accept'), [
        bob,
      ]);
      latencies.push(performance.now() - t);
    };
    for (let i = 0; i < 5; i++) await transfer(holdings.pop()!);
    latencies.length = 0;
    const queue = holdings.splice(-TRANSFERS);
    const cpu = process.cpuUsage();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let h = queue.pop(); h !== undefined; h = queue.pop()) await transfer(h);
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      txPerSec: (2 * TRANSFERS) / seconds,
      p50: pct(latencies, 50),
      p95: pct(latencies, 95),
      p99: pct(latencies, 99),
      cpuMsPerTx: (used.user + used.system) / 1000 / (2 * TRANSFERS),
    };
  };

  const f = (x: number) => x.toFixed(1);
  const rows: string[] = [];
  for (const concurrency of CONCURRENCY) {
    const results: Record<Mode, Awaited<ReturnType<typeof measure>>[]> = {
      'in-process': [],
      'ledger-api': [],
    };
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of ['in-process', 'ledger-api'] as const) {
        const m = await measure(mode, concurrency);
        console.log(JSON.stringify({ bench: 'ledger-api', round: r, mode, concurrency, ...m }));
        results[mode].push(m);
      }
    }
    const cpu = (mode: Mode) => median(results[mode].map((m) => m.cpuMsPerTx));
    for (const mode of ['in-process', 'ledger-api'] as const) {
      const med = (get: (m: Awaited<ReturnType<typeof measure>>) => number) => median(results[mode].map(get));
      rows.push(
        `| ${mode} | ${concurrency} | ${f(med((m) => m.txPerSec))} | ${f(med((m) => m.p50))} / ${f(med((m) => m.p95))} / ${f(med((m) => m.p99))} | ${f(cpu(mode))} | ${
          mode === 'ledger-api'
            ? `${f(((cpu('ledger-api') - cpu('in-process')) / cpu('in-process')) * 100)} %`
            : ''
        } |`,
      );
    }
  }
  console.log(
    `\nmedians of ${ROUNDS} rounds, ${TRANSFERS} transfers each (2 transactions per transfer), SQLite`,
  );
  console.log('| path | concurrency | tx/s | latency p50 / p95 / p99 ms | CPU ms/tx | extra CPU |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  for (const c of clients.values()) c.close();
  for (const s of servers) await s.close();
  await net.close();
}
