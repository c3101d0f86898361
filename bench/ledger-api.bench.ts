/**
 * The gRPC Ledger API's cost. First the token transfer of bench/participant.bench.ts submitted in one run through
 * `CommandService.SubmitAndWait` (protobuf commands over real gRPC on loopback, as a client sends them) and through
 * the participant's in-process `submit` (JSON commands), the paths alternating: tx/s, latency p50/p95/p99 and the
 * process's CPU per transaction. The client runs in this process, so the API's extra CPU includes the client's
 * protobuf and gRPC work: an upper bound of the server's share. Then `UpdateService.GetUpdates` streams catching
 * up from offset 0 over p1's ledger (SQLite) to its end, in both transaction shapes: updates/s and CPU per update.
 *
 * Run: npx tsx bench/ledger-api.bench.ts [--transfers 60] [--concurrency 1,8] [--rounds 3] [--updates 3000]
 *      [--streams 5]
 */

import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { TransactionShape } from '../src/generated/com/daml/ledger/api/v2/transaction_filter.js';
import { UpdateServiceClient } from '../src/generated/com/daml/ledger/api/v2/update_service.grpc-client.js';
import type { GetUpdatesResponse } from '../src/generated/com/daml/ledger/api/v2/update_service.js';
import {
  benchArgs,
  comparePaths,
  f1,
  fillLedger,
  grpcPath,
  inProcessPath,
  median,
  tokenBench,
} from './ledger-api-network.js';

const args = benchArgs({ transfers: '60', concurrency: '1,8', rounds: '3', updates: '3000', streams: '5' });
const TRANSFERS = Number(args.get('transfers'));
const CONCURRENCY = args.get('concurrency')!.split(',').map(Number);
const ROUNDS = Number(args.get('rounds'));
const UPDATES = Number(args.get('updates'));
const STREAMS = Number(args.get('streams'));

const bench = await tokenBench({ holdings: (TRANSFERS + 5) * 2 * ROUNDS * CONCURRENCY.length });
const credentials = grpc.credentials.createInsecure();
const grpcSubmit = grpcPath([bench.p1, bench.p2]);
const updatesClient = new UpdateServiceClient(bench.p1.grpcTarget, credentials, {
  'grpc.max_receive_message_length': -1,
});

/** One GetUpdates stream for alice from offset 0 to `end`; counts the transactions it delivers. */
async function catchUp(end: bigint, shape: TransactionShape) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let updates = 0;
  const stream = updatesClient.getUpdates({
    beginExclusive: 0n,
    endInclusive: end,
    updateFormat: {
      includeTransactions: {
        eventFormat: {
          filtersByParty: {
            [bench.alice]: {
              cumulative: [
                {
                  identifierFilter: {
                    oneofKind: 'wildcardFilter',
                    wildcardFilter: { includeCreatedEventBlob: false },
                  },
                },
              ],
            },
          },
          verbose: false,
        },
        transactionShape: shape,
      },
    },
  });
  for await (const r of stream as AsyncIterable<GetUpdatesResponse>)
    if (r.update.oneofKind === 'transaction') updates++;
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { updates, updatesPerSec: updates / seconds, cpuUsPerUpdate: (used.user + used.system) / updates };
}

try {
  await comparePaths(
    bench,
    { 'in-process submit': inProcessPath, 'gRPC SubmitAndWait': grpcSubmit.submit },
    { transfers: TRANSFERS, concurrency: CONCURRENCY, rounds: ROUNDS, name: 'ledger-api' },
  );
  const end = await fillLedger(bench, UPDATES);
  const shapes = { ACS_DELTA: TransactionShape.ACS_DELTA, LEDGER_EFFECTS: TransactionShape.LEDGER_EFFECTS };
  const results = new Map<string, Awaited<ReturnType<typeof catchUp>>[]>();
  for (let i = 0; i < STREAMS; i++) {
    for (const [name, shape] of Object.entries(shapes)) {
      const m = await catchUp(end, shape);
      console.log(
        JSON.stringify({ bench: 'ledger-api-updates', run: i, shape: name, ledgerEnd: Number(end), ...m }),
      );
      results.set(name, [...(results.get(name) ?? []), m]);
    }
  }
  console.log(`\nGetUpdates from offset 0 to ${end} (p1, SQLite), medians of ${STREAMS} streams per shape`);
  console.log('| shape | updates | updates/s (range) | CPU µs/update |');
  console.log('|---|---:|---:|---:|');
  for (const [name, ms] of results) {
    const rates = ms.map((m) => m.updatesPerSec);
    console.log(
      `| ${name} | ${ms[0]!.updates} | ${Math.round(median(rates))} (${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}) | ${f1(median(ms.map((m) => m.cpuUsPerUpdate)))} |`,
    );
  }
} finally {
  grpcSubmit.close();
  updatesClient.close();
  await bench.close();
}
