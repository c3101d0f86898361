/**
 * The setup the Ledger API benchmarks share: the token network of bench/participant.bench.ts (p1 hosts the token
 * admin and alice, p2 hosts bob; sequencer, mediator and both participants in this process over gRPC loopback,
 * SQLite files), each participant serving its Ledger API services over real gRPC on loopback (and, on request, the
 * JSON API over the same handlers), a token transfer that can go through any submission path, and the statistics
 * every bench prints. Not a benchmark itself.
 */

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { systemRandom } from '../src/crypto/index.js';
import { TOKEN_DAR } from '../src/daml/dar/testing.js';
import { CommandServiceClient } from '../src/generated/com/daml/ledger/api/v2/command_service.grpc-client.js';
import { type Command, Commands } from '../src/generated/com/daml/ledger/api/v2/commands.js';
import type { Value } from '../src/generated/com/daml/ledger/api/v2/value.js';
import { ledgerApiAuthSchema } from '../src/ledger-api/auth/index.js';
import {
  DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
  DEFAULT_MAX_STREAMS,
  LEDGER_API_DESCRIPTORS,
  type LedgerApiServer,
  participantLedgerApi,
  serveLedgerApi,
} from '../src/ledger-api/index.js';
import { type JsonApiServer, startJsonApi } from '../src/ledger-api/json/index.js';
import { createLogger } from '../src/observability/index.js';
import type { ParticipantNode } from '../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  TOKEN,
  tokenCommands,
} from '../src/participant/testing.js';
import { sequencerSettings } from '../src/sequencer/config.js';
import { systemClock } from '../src/time/index.js';

export function benchArgs(defaults: Record<string, string>): Map<string, string> {
  const args = new Map(Object.entries(defaults));
  for (let i = 2; i < process.argv.length; i += 2)
    args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
  return args;
}

export const pct = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
export const median = (xs: readonly number[]) => pct(xs, 50);
export const f1 = (x: number) => x.toFixed(1);

const logger = createLogger({ level: 'silent' });
const noAuth = ledgerApiAuthSchema.parse({});
if (!noAuth.ok) throw new Error(JSON.stringify(noAuth.problems));
/** No auth services, as in the sandbox: every caller has every right (the user id comes from the request). */
const NO_AUTH = noAuth.value;

/** A participant with the Ledger API services it serves and the endpoints serving them. */
export interface ServedParticipant {
  readonly node: ParticipantNode;
  /** host:port of its gRPC Ledger API. */
  readonly grpcTarget: string;
  /** Base URL of its JSON API, when asked for. */
  readonly jsonUrl?: string;
}

/** The token network, its two participants serving their Ledger APIs, parties, the rules and `holdings` tokens. */
export interface TokenBench {
  readonly p1: ServedParticipant;
  readonly p2: ServedParticipant;
  readonly admin: string;
  readonly alice: string;
  readonly bob: string;
  readonly rules: string;
  /** Alice's unspent holdings of 10 TOK. */
  readonly holdings: string[];
  /** Resolves with the contracts `updateId` created, once committed on `node`. */
  createdOn(
    node: ParticipantNode,
    updateId: string,
  ): Promise<readonly { template: string; contractId: string }[]>;
  close(): Promise<void>;
}

export async function tokenBench(o: { holdings: number; json?: boolean }): Promise<TokenBench> {
  const net: ParticipantTestNetwork = await participantTestNetwork({
    seed: `bench-ledger-api-${process.pid}`,
    sequencerSettings: sequencerSettings({ writer: { preset: 'high-throughput' } }),
  });
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
    await net.close();
  };
  try {
    const serve = async (name: string): Promise<ServedParticipant> => {
      const { node, storage } = await net.startParticipant(name);
      // The daemon's assembly of the Ledger API, with authorization off as in the sandbox.
      const api = await participantLedgerApi(
        {
          participant: node,
          storage,
          clock: systemClock,
          random: systemRandom,
          logger,
          connectedSynchronizers: () =>
            node.synchronizerIds.map((synchronizerId) => ({ synchronizerId, alias: 'bench' })),
        },
        NO_AUTH,
        logger,
      );
      closers.push(async () => api.authenticator.close());
      const { services, authenticator } = api;
      const grpc: LedgerApiServer = await serveLedgerApi({
        address: '127.0.0.1',
        port: 0,
        maxInboundMessageBytes: DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
        maxStreams: DEFAULT_MAX_STREAMS,
        services,
        authenticator,
        descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
        logger,
      });
      closers.push(() => grpc.close());
      let json: JsonApiServer | undefined;
      if (o.json) {
        json = await startJsonApi({
          address: '127.0.0.1',
          port: 0,
          services,
          authenticator,
          daml: node.engine,
          logger,
        });
        closers.push(() => json!.close());
      }
      return {
        node,
        grpcTarget: `127.0.0.1:${grpc.port}`,
        ...(json ? { jsonUrl: json.url } : {}),
      };
    };
    const p1 = await serve('p1');
    const p2 = await serve('p2');
    const dar = readFileSync(TOKEN_DAR);
    await Promise.all([p1.node.uploadDar(dar), p2.node.uploadDar(dar)]);
    const admin = await p1.node.allocateParty('admin');
    const alice = await p1.node.allocateParty('alice');
    const bob = await p2.node.allocateParty('bob');
    // Contract ids every path learns the same way: from the committed transactions, by update id.
    const created = new Map<string, { template: string; contractId: string }[]>();
    const waiting = new Map<string, () => void>();
    for (const node of [p1.node, p2.node]) {
      node.onCommitted((c) => {
        const list: { template: string; contractId: string }[] = [];
        for (const n of c.opened.assembled.transaction.nodes.values())
          if (n.tag === 'Create')
            list.push({ template: n.templateId.name.join('.'), contractId: n.contractId.coid });
        const key = `${node.id} ${c.updateId}`;
        created.set(key, list);
        waiting.get(key)?.();
        waiting.delete(key);
      });
    }
    const createdOn = async (node: ParticipantNode, updateId: string) => {
      const key = `${node.id} ${updateId}`;
      if (!created.has(key)) await new Promise<void>((resolve) => waiting.set(key, resolve));
      const list = created.get(key)!;
      created.delete(key);
      return list;
    };
    const submitted = async (
      node: ParticipantNode,
      commands: unknown[],
      actAs: string[],
      commandId: string,
    ) => {
      const c = await node.submit({ commands, actAs, commandId });
      if (c.status !== 'succeeded') throw new Error(`${commandId}: ${c.code}: ${c.message}`);
      return createdOn(node, c.updateId!);
    };
    const rules = (await submitted(p1.node, [tokenCommands.rules(admin)], [admin], 'rules'))[0]!.contractId;
    const holdings: string[] = [];
    for (let left = o.holdings, i = 0; left > 0; left -= 50, i++) {
      const mints = Array.from({ length: Math.min(50, left) }, () =>
        tokenCommands.mint(admin, alice, '10.0'),
      );
      holdings.push(
        ...(await submitted(p1.node, mints, [admin, alice], `mint-${i}`)).map((c) => c.contractId),
      );
    }
    return { p1, p2, admin, alice, bob, rules, holdings, createdOn, close };
  } catch (e) {
    await close();
    throw e;
  }
}

const v = {
  party: (p: string): Value => ({ sum: { oneofKind: 'party', party: p } }),
  text: (t: string): Value => ({ sum: { oneofKind: 'text', text: t } }),
  numeric: (n: string): Value => ({ sum: { oneofKind: 'numeric', numeric: n } }),
  timestamp: (micros: string): Value => ({ sum: { oneofKind: 'timestamp', timestamp: micros } }),
  cids: (cids: readonly string[]): Value => ({
    sum: {
      oneofKind: 'list',
      list: { elements: cids.map((c) => ({ sum: { oneofKind: 'contractId', contractId: c } })) },
    },
  }),
  record: (fields: Record<string, Value>): Value => ({
    sum: {
      oneofKind: 'record',
      record: { fields: Object.entries(fields).map(([label, value]) => ({ label, value })) },
    },
  }),
};
const noMeta = () => v.record({ values: { sum: { oneofKind: 'textMap', textMap: { entries: [] } } } });
const exercise = (templateId: string, contractId: string, choice: string, choiceArgument: Value): Command => {
  const [packageId, moduleName, entityName] = templateId.split(':') as [string, string, string];
  return {
    command: {
      oneofKind: 'exercise',
      exercise: { templateId: { packageId, moduleName, entityName }, contractId, choice, choiceArgument },
    },
  };
};

/**
 * A transfer's two commands as a gRPC client writes them (labelled records, templates by package name), the same
 * commands as `tokenCommands.offer` and `tokenCommands.instruction(…, 'TransferInstruction_Accept')`.
 */
export const protoTokenCommands = {
  offer: (o: {
    rules: string;
    admin: string;
    sender: string;
    receiver: string;
    amount: string;
    inputs: string[];
  }) =>
    exercise(
      `${TOKEN}:TokenRules`,
      o.rules,
      'TransferFactory_Transfer',
      v.record({
        expectedAdmin: v.party(o.admin),
        transfer: v.record({
          sender: v.party(o.sender),
          receiver: v.party(o.receiver),
          amount: v.numeric(o.amount),
          instrumentId: v.record({ admin: v.party(o.admin), id: v.text('TOK') }),
          requestedAt: v.timestamp('1735689600000000'),
          executeBefore: v.timestamp('4102444800000000'),
          inputHoldingCids: v.cids(o.inputs),
          meta: noMeta(),
        }),
        extraArgs: v.record({ context: noMeta(), meta: noMeta() }),
      }),
    ),
  accept: (offer: string) =>
    exercise(
      '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferInstruction',
      offer,
      'TransferInstruction_Accept',
      v.record({ extraArgs: v.record({ context: noMeta(), meta: noMeta() }) }),
    ),
};

/** One command in the Ledger API's JSON shape and as protobuf; each path sends the one its client would. */
export interface BenchCommand {
  readonly json: unknown;
  readonly proto: Command;
}

/** Submits one command as `actAs` (reading as `readAs`) and resolves with the update id once it completed. */
export type SubmitPath = (
  node: ServedParticipant,
  command: BenchCommand,
  actAs: string[],
  readAs: string[],
  commandId: string,
) => Promise<string>;

export interface PathMeasurement {
  readonly txPerSec: number;
  readonly latencyMs: { p50: number; p95: number; p99: number };
  /** CPU time of the whole process (nodes, API servers and the benchmark's clients) per transaction. */
  readonly cpuMsPerTx: number;
}

let commandIds = 0;

/**
 * `transfers` token transfers (alice's offer on p1, bob's acceptance on p2: two transactions), `concurrency` of
 * them in flight, through `path`, after 5 warm-up transfers on the same path.
 */
export async function measureTransfers(
  bench: TokenBench,
  path: SubmitPath,
  transfers: number,
  concurrency: number,
): Promise<PathMeasurement> {
  const { p1, p2, admin, alice, bob, rules } = bench;
  const latencies: number[] = [];
  const transfer = async (holding: string) => {
    let t = performance.now();
    const o = { rules, admin, sender: alice, receiver: bob, amount: '10.0', inputs: [holding] };
    const offer = { json: tokenCommands.offer(o), proto: protoTokenCommands.offer(o) };
    const offered = await path(p1, offer, [alice], [admin], `offer-${commandIds++}`);
    latencies.push(performance.now() - t);
    const offerCid = (await bench.createdOn(p2.node, offered)).find(
      (c) => c.template === 'TokenTransferOffer',
    )!;
    t = performance.now();
    const accept = {
      json: tokenCommands.instruction(offerCid.contractId, 'TransferInstruction_Accept'),
      proto: protoTokenCommands.accept(offerCid.contractId),
    };
    await path(p2, accept, [bob], [], `accept-${commandIds++}`);
    latencies.push(performance.now() - t);
  };
  for (let i = 0; i < 5; i++) await transfer(bench.holdings.pop()!);
  latencies.length = 0;
  const queue = bench.holdings.splice(-transfers);
  if (queue.length < transfers) throw new Error('not enough holdings minted');
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
    txPerSec: (2 * transfers) / seconds,
    latencyMs: { p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99) },
    cpuMsPerTx: (used.user + used.system) / 1000 / (2 * transfers),
  };
}

/** The in-process submission every path is compared with: `ParticipantNode.submit` with JSON commands. */
export const inProcessPath: SubmitPath = async (p, command, actAs, readAs, commandId) => {
  const c = await p.node.submit({ commands: [command.json], actAs, readAs, commandId, userId: 'bench' });
  if (c.status !== 'succeeded') throw new Error(`${commandId}: ${c.code}: ${c.message}`);
  return c.updateId!;
};

/** SubmitAndWait over the participants' gRPC Ledger API, one plaintext client per participant (`close` them). */
export function grpcPath(participants: readonly ServedParticipant[]): { submit: SubmitPath; close(): void } {
  const clients = new Map(
    participants.map((p) => [p, new CommandServiceClient(p.grpcTarget, grpc.credentials.createInsecure())]),
  );
  const submit: SubmitPath = (p, command, actAs, readAs, commandId) =>
    new Promise((resolve, reject) =>
      clients.get(p)!.submitAndWait(
        {
          commands: Commands.create({ userId: 'bench', commandId, commands: [command.proto], actAs, readAs }),
        },
        (err, r) => (err ? reject(err) : resolve(r!.updateId)),
      ),
    );
  return {
    submit,
    close: () => {
      for (const c of clients.values()) c.close();
    },
  };
}

/**
 * Compares submission paths in one process: `rounds` rounds per concurrency, the paths alternating within each
 * round so that both see the same ledger and the same machine load. Prints one JSON line per measurement and a
 * Markdown table of medians with each path's CPU per transaction relative to the first path's.
 */
export async function comparePaths(
  bench: TokenBench,
  paths: Record<string, SubmitPath>,
  o: { transfers: number; concurrency: readonly number[]; rounds: number; name: string },
): Promise<void> {
  const names = Object.keys(paths);
  const rows: string[] = [];
  for (const concurrency of o.concurrency) {
    const results = new Map<string, PathMeasurement[]>(names.map((n) => [n, []]));
    for (let round = 0; round < o.rounds; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const m = await measureTransfers(bench, paths[name]!, o.transfers, concurrency);
        console.log(JSON.stringify({ bench: o.name, round, path: name, concurrency, ...m }));
        results.get(name)!.push(m);
      }
    }
    const med = (name: string, get: (m: PathMeasurement) => number) => median(results.get(name)!.map(get));
    const base = med(names[0]!, (m) => m.cpuMsPerTx);
    for (const name of names) {
      const cpu = med(name, (m) => m.cpuMsPerTx);
      rows.push(
        `| ${name} | ${concurrency} | ${f1(med(name, (m) => m.txPerSec))} | ` +
          `${f1(med(name, (m) => m.latencyMs.p50))} / ${f1(med(name, (m) => m.latencyMs.p95))} / ${f1(med(name, (m) => m.latencyMs.p99))} | ` +
          `${f1(cpu)} | ${name === names[0] ? '—' : `${cpu >= base ? '+' : ''}${f1(((cpu - base) / base) * 100)} %`} |`,
      );
    }
  }
  console.log(
    `\n${o.name}: medians of ${o.rounds} rounds, ${o.transfers} transfers each (2 transactions per transfer)`,
  );
  console.log(
    `| path | transfers in flight | tx/s | latency p50 / p95 / p99 ms | CPU ms/tx | CPU vs ${names[0]} |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
}

/**
 * Pads p1's ledger with token mints to alice (one create per transaction, 50 transactions in flight) until its
 * ledger end reaches `offset`; resolves with the ledger end.
 */
export async function fillLedger(bench: TokenBench, offset: number): Promise<bigint> {
  const { p1, admin, alice } = bench;
  let next = Number(p1.node.durableEnd);
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next++ < offset) {
        const c = await p1.node.submit({
          commands: [tokenCommands.mint(admin, alice, '1.0')],
          actAs: [admin, alice],
          commandId: `fill-${commandIds++}`,
        });
        if (c.status !== 'succeeded') throw new Error(`fill: ${c.code}: ${c.message}`);
      }
    }),
  );
  return p1.node.durableEnd;
}
