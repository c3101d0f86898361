/**
 * The JSON Ledger API's cost against the gRPC Ledger API's, both served over the same handlers. First the token
 * transfer of bench/participant.bench.ts submitted through `CommandService.SubmitAndWait` over gRPC (protobuf
 * commands) and through `POST /v2/commands/submit-and-wait` (Canton's JSON commands, node:http with a keep-alive
 * agent), alternating in one run: tx/s, latency p50/p95/p99 and the process's CPU per transaction (clients
 * included, as both run in this process). Then `/v2/updates` websockets (`ws`) catching up from offset 0 over p1's
 * ledger (SQLite) to its end, in both transaction shapes: updates/s and CPU per update.
 *
 * Run: npx tsx bench/json-api.bench.ts [--transfers 60] [--concurrency 1,8] [--rounds 3] [--updates 3000]
 *      [--streams 5]
 */

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import {
  benchArgs,
  comparePaths,
  f1,
  fillLedger,
  grpcPath,
  median,
  type SubmitPath,
  tokenBench,
} from './ledger-api-network.js';

const args = benchArgs({ transfers: '60', concurrency: '1,8', rounds: '3', updates: '3000', streams: '5' });
const TRANSFERS = Number(args.get('transfers'));
const CONCURRENCY = args.get('concurrency')!.split(',').map(Number);
const ROUNDS = Number(args.get('rounds'));
const UPDATES = Number(args.get('updates'));
const STREAMS = Number(args.get('streams'));

const bench = await tokenBench({ holdings: (TRANSFERS + 5) * 2 * ROUNDS * CONCURRENCY.length, json: true });
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

const grpcSubmit = grpcPath([bench.p1, bench.p2]);

/** POST /v2/commands/submit-and-wait with Canton's JSON `JsCommands`; resolves with the update id. */
const jsonPath: SubmitPath = (p, command, actAs, readAs, commandId) =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify({ commands: [command.json], actAs, readAs, userId: 'bench', commandId });
    const req = request(
      `${p.jsonUrl}/v2/commands/submit-and-wait`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`${commandId}: HTTP ${res.statusCode}: ${text}`));
          else resolve((JSON.parse(text) as { updateId: string }).updateId);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

/** One `/v2/updates` websocket for alice from offset 0 to `end`; counts the transactions it delivers. */
async function catchUp(end: bigint, shape: string) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const socket = new WebSocket(`${bench.p1.jsonUrl!.replace(/^http/, 'ws')}/v2/updates`);
  let updates = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () =>
      socket.send(
        JSON.stringify({
          beginExclusive: 0,
          endInclusive: Number(end),
          updateFormat: {
            includeTransactions: {
              eventFormat: {
                filtersByParty: {
                  [bench.alice]: {
                    cumulative: [
                      { identifierFilter: { WildcardFilter: { value: { includeCreatedEventBlob: false } } } },
                    ],
                  },
                },
                verbose: false,
              },
              transactionShape: `TRANSACTION_SHAPE_${shape}`,
            },
          },
        }),
      ),
    );
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { update?: { Transaction?: unknown }; code?: string };
      if (frame.code !== undefined) reject(new Error(`error frame: ${data.toString()}`));
      else if (frame.update?.Transaction !== undefined) updates++;
    });
    socket.on('close', (code) =>
      code === 1000 ? resolve() : reject(new Error(`websocket closed with ${code}`)),
    );
    socket.on('error', reject);
  });
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { updates, updatesPerSec: updates / seconds, cpuUsPerUpdate: (used.user + used.system) / updates };
}

try {
  await comparePaths(
    bench,
    { 'gRPC SubmitAndWait': grpcSubmit.submit, 'JSON submit-and-wait': jsonPath },
    { transfers: TRANSFERS, concurrency: CONCURRENCY, rounds: ROUNDS, name: 'json-api' },
  );
  const end = await fillLedger(bench, UPDATES);
  const results = new Map<string, Awaited<ReturnType<typeof catchUp>>[]>();
  for (let i = 0; i < STREAMS; i++) {
    for (const shape of ['ACS_DELTA', 'LEDGER_EFFECTS']) {
      const m = await catchUp(end, shape);
      console.log(JSON.stringify({ bench: 'json-api-updates', run: i, shape, ledgerEnd: Number(end), ...m }));
      results.set(shape, [...(results.get(shape) ?? []), m]);
    }
  }
  console.log(
    `\n/v2/updates websocket from offset 0 to ${end} (p1, SQLite), medians of ${STREAMS} per shape`,
  );
  console.log('| shape | updates | updates/s (range) | CPU µs/update |');
  console.log('|---|---:|---:|---:|');
  for (const [shape, ms] of results) {
    const rates = ms.map((m) => m.updatesPerSec);
    console.log(
      `| ${shape} | ${ms[0]!.updates} | ${Math.round(median(rates))} (${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}) | ${f1(median(ms.map((m) => m.cpuUsPerUpdate)))} |`,
    );
  }
} finally {
  grpcSubmit.close();
  agent.destroy();
  await bench.close();
}
