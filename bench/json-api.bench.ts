/**
 * The JSON Ledger API's cost, in one run on one participant (SQLite): (1) submit-and-wait of a token mint through
 * the JSON API (HTTP, Canton JSON commands) and through the gRPC Ledger API (protobuf commands), alternating rounds,
 * measuring transactions/s, latency and the process's CPU per transaction (client included: an upper bound); (2) an
 * updates websocket catching up from offset 0 over every transaction, measuring updates/s delivered.
 *
 * Run: npx tsx bench/json-api.bench.ts [--mints 100] [--rounds 3] [--extra 2000]
 */

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import { systemRandom } from '../src/crypto/index.js';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import type { Command as JsonCommand } from '../src/daml/index.js';
import { CommandServiceClient } from '../src/generated/com/daml/ledger/api/v2/command_service.grpc-client.js';
import type { Commands } from '../src/generated/com/daml/ledger/api/v2/commands.js';
import { WILDCARD_CLAIMS } from '../src/ledger-api/auth/index.js';
import { identifierToProto } from '../src/ledger-api/identifiers.js';
import { LEDGER_API_DESCRIPTORS, serveLedgerApi } from '../src/ledger-api/index.js';
import { startJsonApi } from '../src/ledger-api/json/index.js';
import { commandServices } from '../src/ledger-api/services/participant-commands.js';
import { updateService } from '../src/ledger-api/services/updates.js';
import { UserStore } from '../src/ledger-api/users/index.js';
import { recordToProto } from '../src/ledger-api/values.js';
import { createLogger } from '../src/observability/index.js';
import { participantTestNetwork, tokenCommands } from '../src/participant/testing.js';
import { sequencerSettings } from '../src/sequencer/config.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const MINTS = Number(args.get('mints') ?? 100);
const ROUNDS = Number(args.get('rounds') ?? 3);
const EXTRA = Number(args.get('extra') ?? 2000);

const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const net = await participantTestNetwork({
  seed: 'bench-json-api',
  sequencerSettings: sequencerSettings({ writer: { preset: 'high-throughput' } }),
});
const logger = createLogger({ level: 'silent' });
const started = await net.startParticipant('p1');
const node = started.node;
const reads = {
  reads: node.reads,
  packages: node.engine.packages,
  ledgerEnd: () => node.durableEnd,
  prunedUpTo: async () => 0n,
};
const updates = updateService(reads);
const services = [
  updates,
  ...(await commandServices({
    participant: node,
    storage: started.storage,
    users: await UserStore.open(started.storage),
    random: systemRandom,
    getUpdateById: updates.handlers.GetUpdateById as never,
    prunedUpTo: async () => 0n,
  })),
];
const authenticator = { authenticate: async () => WILDCARD_CLAIMS, watchStream: () => () => {} };
const grpcServer = await serveLedgerApi({
  address: '127.0.0.1',
  port: 0,
  maxInboundMessageBytes: 4 * 1024 * 1024,
  maxStreams: 100,
  services,
  authenticator,
  descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
  logger,
});
const json = await startJsonApi({
  address: '127.0.0.1',
  port: 0,
  services,
  authenticator,
  daml: node.engine,
  logger,
});
const grpcClient = new CommandServiceClient(
  `127.0.0.1:${grpcServer.port}`,
  grpc.credentials.createInsecure(),
);

try {
  await node.uploadDar(readFileSync(TOKEN_DAR));
  const admin = await node.allocateParty('admin');
  const alice = await node.allocateParty('alice');
  let n = 0;
  const mint = () => tokenCommands.mint(admin, alice, '1.0');

  const viaJson = async () => {
    const r = await fetch(`${json.url}/v2/commands/submit-and-wait`, {
      method: 'POST',
      body: JSON.stringify({
        commands: [mint()],
        actAs: [admin, alice],
        userId: 'bench',
        commandId: `j-${n++}`,
      }),
    });
    if (r.status !== 200) throw new Error(`JSON submit-and-wait: ${r.status} ${await r.text()}`);
    await r.json();
  };
  const viaGrpc = async () => {
    const [prepared] = node.engine.commands.prepare([mint() as JsonCommand]);
    if (prepared?.kind !== 'Create') throw new Error('expected a create');
    const commands: Commands = {
      workflowId: '',
      userId: 'bench',
      commandId: `g-${n++}`,
      commands: [
        {
          command: {
            oneofKind: 'create',
            create: {
              templateId: identifierToProto(prepared.templateId),
              createArguments: recordToProto(prepared.arg, true),
            },
          },
        },
      ],
      deduplicationPeriod: { oneofKind: undefined },
      actAs: [admin, alice],
      readAs: [],
      submissionId: '',
      disclosedContracts: [],
      synchronizerId: '',
      packageIdSelectionPreference: [],
      prefetchContractKeys: [],
    };
    await new Promise<void>((resolve, reject) =>
      grpcClient.submitAndWait({ commands }, (e) => (e ? reject(e) : resolve())),
    );
  };

  const results = new Map<string, { tps: number[]; latency: number[]; cpu: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [mode, submit] of [
      ['gRPC', viaGrpc],
      ['JSON', viaJson],
    ] as const) {
      const r = results.get(mode) ?? { tps: [], latency: [], cpu: [] };
      results.set(mode, r);
      const cpu0 = cpuMs();
      const t0 = performance.now();
      for (let i = 0; i < MINTS; i++) {
        const s = performance.now();
        await submit();
        r.latency.push(performance.now() - s);
      }
      const elapsed = performance.now() - t0;
      r.tps.push((MINTS / elapsed) * 1000);
      r.cpu.push((cpuMs() - cpu0) / MINTS);
    }
  }
  console.log('| path | tx/s | median latency ms | CPU ms / tx |');
  console.log('|---|---|---|---|');
  for (const [mode, r] of results) {
    console.log(
      `| ${mode} | ${median(r.tps).toFixed(1)} | ${median(r.latency).toFixed(1)} | ${median(r.cpu).toFixed(2)} |`,
    );
  }
  const g = median(results.get('gRPC')!.cpu);
  const j = median(results.get('JSON')!.cpu);
  console.log(`JSON CPU per transaction vs gRPC: ${(((j - g) / g) * 100).toFixed(1)} %`);

  // More history for the catch-up, submitted concurrently in-process.
  for (let done = 0; done < EXTRA; done += 50) {
    await Promise.all(
      Array.from({ length: 50 }, () =>
        node.submit({ commands: [mint()], actAs: [admin, alice], userId: 'bench', commandId: `x-${n++}` }),
      ),
    );
  }
  const end = Number(node.durableEnd);
  const filter = {
    filtersByParty: { [alice]: { cumulative: [{ identifierFilter: { WildcardFilter: { value: {} } } }] } },
  };
  // The same stream read from the handler directly: what the participant's read path alone delivers.
  const request = {
    beginExclusive: 0n,
    endInclusive: BigInt(end),
    updateFormat: {
      includeTransactions: {
        eventFormat: {
          filtersByParty: {
            [alice]: {
              cumulative: [
                {
                  identifierFilter: {
                    oneofKind: 'wildcardFilter' as const,
                    wildcardFilter: { includeCreatedEventBlob: false },
                  },
                },
              ],
            },
          },
          verbose: true,
        },
        transactionShape: 1,
      },
    },
  };
  const direct0 = performance.now();
  let direct = 0;
  const ctx = {
    claims: WILDCARD_CLAIMS,
    signal: new AbortController().signal,
    correlationId: 'bench',
    traceparent: undefined,
    logger,
  };
  for await (const _ of (updates.handlers.GetUpdates as (r: object, c: object) => AsyncIterable<object>)(
    request,
    ctx,
  ))
    direct++;
  const directMs = performance.now() - direct0;
  console.log(
    `the handler alone: ${direct} updates in ${directMs.toFixed(0)} ms = ${((direct / directMs) * 1000).toFixed(0)} updates/s`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const ws = new WebSocket(`${json.url.replace(/^http/, 'ws')}/v2/updates`, ['daml.ws.auth']);
    await new Promise((resolve) => ws.once('open', resolve));
    let count = 0;
    const t0 = performance.now();
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.on('message', () => count++);
    ws.send(JSON.stringify({ beginExclusive: 0, endInclusive: end, filter, verbose: true }));
    await closed;
    const elapsed = performance.now() - t0;
    console.log(
      `websocket catch-up from 0: ${count} updates in ${elapsed.toFixed(0)} ms = ${((count / elapsed) * 1000).toFixed(0)} updates/s`,
    );
  }
} finally {
  grpcClient.close();
  await json.close();
  await grpcServer.close();
  await net.close();
}
