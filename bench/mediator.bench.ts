/**
 * Mediator benchmark.
 *
 * - `core`: the mediator's event processing alone: pre-built, signed requests (one view, two confirming parties on
 *   two participants) and their responses are handed to `Mediator.handle` in sequencer order, as its sequencer
 *   client would; verdicts are committed to the store (SQLite file or PostgreSQL) and handed to a transport that
 *   counts them. Measures responses aggregated per second, request verdicts per second.
 * - `e2e`: the whole path on loopback gRPC: simulated participants submit requests through a sequencer node (SQLite),
 *   both confirming participants respond when they see the request, and the mediator (SQLite) decides; a window of
 *   requests is kept in flight. Measures verdicts per second and submit→verdict latency at the submitter.
 *
 * Run: npx tsx bench/mediator.bench.ts [--requests 3000] [--seconds 5] [--window 32] [--runs 3]
 *   [--only core|e2e] [--backend sqlite|postgres]
 * PostgreSQL: WEFT_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test (a fresh schema per run).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DeterministicRandom } from '../src/crypto/index.js';
import type { Envelope } from '../src/generated/weft/sequencer/v1/sequencing.js';
import { MediatorId, ParticipantId, SynchronizerId } from '../src/identity/index.js';
import { mediatorSettings } from '../src/mediator/config.js';
import { Mediator } from '../src/mediator/mediator.js';
import { MediatorMetrics } from '../src/mediator/metrics.js';
import { MediatorStore } from '../src/mediator/store.js';
import { mediatorTestNetwork, type SimParticipant } from '../src/mediator/testing.js';
import { createLogger, NodeMetrics, Tracer } from '../src/observability/index.js';
import {
  buildTransactionTree,
  confirmationRequestEnvelopes,
  confirmationResponsesEnvelope,
  hashTree,
  informeeTree,
  localApprove,
  signConfirmationResponses,
  signRootHash,
} from '../src/protocol/index.js';
import type { ReceivedEvent } from '../src/sequencer/index.js';
import { testSynchronizer } from '../src/sequencer/testing.js';
import { openStorage, type StorageConfig } from '../src/storage/index.js';
import { systemClock } from '../src/time/index.js';
import { TopologyProcessor } from '../src/topology/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const REQUESTS = Number(args.get('requests') ?? 3000);
const SECONDS = Number(args.get('seconds') ?? 5);
const WINDOW = Number(args.get('window') ?? 32);
const RUNS = Number(args.get('runs') ?? 3);
const ONLY = args.get('only');
const BACKEND = args.get('backend');
const PG_URL = process.env.WEFT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Measurement {
  readonly bench: 'core' | 'e2e';
  readonly backend: 'sqlite' | 'postgres';
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly responsesPerSec: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly rssMiB: number;
}

async function database(backend: Measurement['backend'], dir: string) {
  if (backend === 'sqlite') {
    return {
      config: { kind: 'sqlite', path: join(dir, `${randomBytes(4).toString('hex')}.db`) } as StorageConfig,
      drop: async () => {},
    };
  }
  const schema = `weft_bench_${randomBytes(6).toString('hex')}`;
  return {
    config: { kind: 'postgres', url: PG_URL, schema } as StorageConfig,
    async drop() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function core(backend: Measurement['backend'], dir: string): Promise<Measurement> {
  const now = systemClock.now();
  const sync = testSynchronizer({ seed: 'mediator-bench', participants: 2, now });
  const db = await database(backend, dir);
  const storage = await openStorage(db.config);
  try {
    const topology = await TopologyProcessor.create({ storage, synchronizerId: sync.synchronizerIdObject });
    await topology.process(sync.genesisTs, sync.genesis);
    const [p0, p1] = sync.participants.map((p) => ({
      ...p,
      party: String(ParticipantId.parse(p.id).adminParty),
    }));
    const random = new DeterministicRandom('mediator-bench-requests');
    // Three events per request: the request, then each participant's response.
    const events: ReceivedEvent[] = [];
    const event = (envelopes: Envelope[]): ReceivedEvent => {
      const counter = BigInt(events.length);
      return {
        counter,
        timestamp: now + counter,
        previousTimestamp: counter === 0n ? undefined : now + counter - 1n,
        messageId: undefined,
        envelopes,
        error: undefined,
        traceparent: undefined,
        proof: {
          member: '',
          event: new Uint8Array(),
          leafIndex: 0,
          siblings: [],
          root: { content: new Uint8Array(), signature: new Uint8Array(), signedBy: '' },
        },
      };
    };
    for (let i = 0; i < REQUESTS; i++) {
      const full = buildTransactionTree(
        {
          submitterMetadata: {
            actAs: [p0!.party],
            userId: 'bench',
            commandId: `c${i}`,
            submissionId: '',
            submittingParticipant: p0!.id,
            maxSequencingTime: now + 60_000_000n,
          },
          commonMetadata: { synchronizerId: sync.synchronizerId, mediatorGroup: 0, requestUuid: `u${i}` },
          participantMetadata: { ledgerTime: now, preparationTime: now, workflowId: '' },
          views: [
            {
              informees: [p0!.party, p1!.party],
              confirmingParties: [p0!.party, p1!.party],
              threshold: 2,
              participantData: randomBytes(200),
            },
          ],
        },
        random,
      );
      const rootHash = hashTree(full).rootHash;
      const requestId = now + BigInt(events.length);
      events.push(
        event(
          confirmationRequestEnvelopes({
            informeeMessage: {
              informeeTree: informeeTree(full),
              submittingParticipantSignature: signRootHash(p0!.key, rootHash),
            },
            rootHash,
            synchronizerId: sync.synchronizerId,
            mediatorGroup: 0,
            informeeParticipants: [p0!.id, p1!.id].sort(),
            views: [],
          }),
        ),
      );
      for (const p of [p0!, p1!]) {
        const signed = signConfirmationResponses(p.key, {
          requestId,
          rootHash: rootHash.toMultihash(),
          synchronizerId: sync.synchronizerId,
          sender: p.id,
          responses: [{ viewPosition: [0], localVerdict: localApprove(), confirmingParties: [p.party] }],
        });
        events.push(event([confirmationResponsesEnvelope(signed, 0)]));
      }
    }
    const store = await MediatorStore.open(storage);
    let sent = 0;
    const mediator = new Mediator({
      mediatorId: MediatorId.parse(sync.mediator.id),
      synchronizerId: SynchronizerId.parse(sync.synchronizerId),
      signingKey: sync.mediator.key,
      topology,
      store,
      loaded: await store.load(),
      transport: {
        send: async (request) => {
          sent++;
          return { messageId: request.messageId!, outcome: new Promise(() => {}) };
        },
        acknowledge: async () => {},
      },
      settings: mediatorSettings(),
      clock: systemClock,
      random,
      tracer: new Tracer(random),
      logger: createLogger({ level: 'silent' }),
      metrics: new MediatorMetrics(new NodeMetrics({ defaultMetrics: false })),
      onFatal: (e) => {
        throw e;
      },
    });
    const started = performance.now();
    for (const e of events) await mediator.handle(e);
    await mediator.stop();
    const seconds = (performance.now() - started) / 1000;
    if (sent !== REQUESTS) throw new Error(`expected ${REQUESTS} verdicts, sent ${sent}`);
    const approved = (await store.verdicts({ limit: REQUESTS })).filter(
      (v) => v.verdict === 'approve',
    ).length;
    if (approved !== REQUESTS) throw new Error(`expected ${REQUESTS} approvals, got ${approved}`);
    return {
      bench: 'core',
      backend,
      requests: REQUESTS,
      requestsPerSec: Math.round(REQUESTS / seconds),
      responsesPerSec: Math.round((2 * REQUESTS) / seconds),
      rssMiB: rss(),
    };
  } finally {
    await storage.close();
    await db.drop();
  }
}

async function e2e(backend: Measurement['backend'], dir: string): Promise<Measurement> {
  const net = await mediatorTestNetwork({ seed: 'mediator-bench-e2e' });
  const db = await database(backend, dir);
  const storage = await openStorage(db.config);
  try {
    await net.startMediator(storage);
    const [p0, p1] = net.participants as [SimParticipant, SimParticipant];
    const latencies: number[] = [];
    const views = [
      {
        informees: [p0.party, p1.party],
        confirmingParties: [p0.party, p1.party],
        threshold: 2,
        participantData: randomBytes(200),
      },
    ];
    const one = async () => {
      const started = performance.now();
      const request = await p0.submit({ views, informeeParticipants: [p0.id, p1.id].sort() });
      const approve = (p: SimParticipant) =>
        p.respond(request, [{ position: [0], verdict: localApprove(), parties: [p.party] }]);
      await Promise.all([approve(p0), approve(p1)]);
      await p0.verdict(request.requestId, 30_000);
      latencies.push(performance.now() - started);
    };
    const deadline = performance.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (performance.now() < deadline) await one();
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      bench: 'e2e',
      backend,
      requests: latencies.length,
      requestsPerSec: Math.round(latencies.length / seconds),
      responsesPerSec: Math.round((2 * latencies.length) / seconds),
      p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
      p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
      rssMiB: rss(),
    };
  } finally {
    await net.close();
    await storage.close();
    await db.drop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'weft-mediator-bench-'));
const results: Measurement[] = [];
try {
  for (const bench of ['core', 'e2e'] as const) {
    if (ONLY && ONLY !== bench) continue;
    for (const backend of ['sqlite', 'postgres'] as const) {
      if (BACKEND && BACKEND !== backend) continue;
      for (let run = 0; run < RUNS; run++) {
        const m = bench === 'core' ? await core(backend, dir) : await e2e(backend, dir);
        results.push(m);
        console.log(JSON.stringify(m));
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('\nbench  backend   runs  requests/s  responses/s  p50 ms  p99 ms  RSS MiB');
for (const bench of ['core', 'e2e'] as const) {
  for (const backend of ['sqlite', 'postgres'] as const) {
    const ms = results.filter((r) => r.bench === bench && r.backend === backend);
    if (ms.length === 0) continue;
    const col = (f: (m: Measurement) => number | undefined) => {
      const xs = ms.map(f).filter((x): x is number => x !== undefined);
      return xs.length ? String(median(xs)) : '-';
    };
    console.log(
      `${bench.padEnd(6)} ${backend.padEnd(9)} ${String(ms.length).padStart(4)}  ${col((m) => m.requestsPerSec).padStart(10)}  ${col((m) => m.responsesPerSec).padStart(11)}  ${col((m) => m.p50Ms).padStart(6)}  ${col((m) => m.p99Ms).padStart(6)}  ${col((m) => m.rssMiB).padStart(7)}`,
    );
  }
}
process.exit(0);
