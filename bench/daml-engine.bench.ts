/**
 * Daml engine throughput on one core, with the real DARs, through the in-memory ledger (interpretation, transaction
 * building with authorization and contract-id derivation, suffixing and commit):
 *   - Token create: an admin mints a Splice test `Token` (one Create node);
 *   - transfer offer + accept: `TransferFactory_Transfer` on the token rules (fetch, archive, two creates), then
 *     `TransferInstruction_Accept` on the offer (exercise and create): two commands;
 *   - Bong explosion of size N: Canton's ping Bong workflow with `maxLevel` N (2 + 2·(2^N − 1) commands);
 *   - reinterpretation of the transfer offer's root node (what each validating participant does per view).
 * Run: npx tsx bench/daml-engine.bench.ts [--seconds 3] [--levels 10]
 */
import { PING_DAR, TOKEN_DAR } from '../src/daml/dar/testing.js';
import {
  type CommittedTransaction,
  contractStoreOf,
  type Engine,
  InMemoryLedger,
  type LedgerSubmission,
} from '../src/daml/engine/index.js';
import { cidOf, json, loadEngine, viewInputs } from '../src/daml/engine/testing.js';
import { parseTimestamp } from '../src/daml/values/time.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const SECONDS = arg('seconds', 3);
const LEVELS = arg('levels', 10);

interface Measurement {
  readonly name: string;
  readonly commands: number;
  readonly seconds: number;
  readonly commandsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rssMb: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Runs `op` (which performs `commandsPerOp` commands) repeatedly for `SECONDS` after `warmup` calls. */
async function measure(name: string, commandsPerOp: number, op: () => Promise<unknown>, warmup = 20) {
  for (let i = 0; i < warmup; i++) await op();
  const latencies: number[] = [];
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const t0 = performance.now();
    await op();
    latencies.push(performance.now() - t0);
  }
  return result(name, latencies.length * commandsPerOp, (performance.now() - start) / 1000, latencies);
}

function result(name: string, commands: number, seconds: number, latencies: number[]): Measurement {
  latencies.sort((a, b) => a - b);
  return {
    name,
    commands,
    seconds: Math.round(seconds * 100) / 100,
    commandsPerSecond: Math.round(commands / seconds),
    p50Ms: Math.round(quantile(latencies, 0.5) * 1000) / 1000,
    p99Ms: Math.round(quantile(latencies, 0.99) * 1000) / 1000,
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Token

const T = '#splice-test-token-v1:Splice.Testing.Tokens.TestTokenV1';
const TRANSFER_INSTRUCTION =
  '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferInstruction';
const NOW = parseTimestamp('2025-01-01T12:00:00Z')!;
const meta = { values: {} };
const extraArgs = { context: { values: {} }, meta };
const mint = (owner: string, amount: string): LedgerSubmission => ({
  actAs: ['admin', owner],
  commands: [
    {
      CreateCommand: {
        templateId: `${T}:Token`,
        createArguments: {
          holding: { owner, instrumentId: { admin: 'admin', id: 'TOK' }, amount, lock: null, meta },
        },
      },
    },
  ],
});

async function tokenBenchmarks(engine: Engine): Promise<Measurement[]> {
  const ledger = new InMemoryLedger(engine, { time: NOW });
  const rules = cidOf(
    (
      await ledger.submit({
        actAs: ['admin'],
        commands: [{ CreateCommand: { templateId: `${T}:TokenRules`, createArguments: { admin: 'admin' } } }],
      })
    ).results[0],
  ).coid;
  const create = await measure('Token create', 1, () => ledger.submit(mint('alice', '100.0')));

  const transfer = (token: string): LedgerSubmission => ({
    actAs: ['alice'],
    readAs: ['admin'],
    commands: [
      {
        ExerciseCommand: {
          templateId: `${T}:TokenRules`,
          contractId: rules,
          choice: 'TransferFactory_Transfer',
          choiceArgument: {
            expectedAdmin: 'admin',
            transfer: {
              sender: 'alice',
              receiver: 'bob',
              amount: '30.0',
              instrumentId: { admin: 'admin', id: 'TOK' },
              requestedAt: '2025-01-01T11:00:00Z',
              executeBefore: '2025-01-02T00:00:00Z',
              inputHoldingCids: [token],
              meta,
            },
            extraArgs,
          },
        },
      },
    ],
  });
  // Each offer consumes a holding: alice's change from the previous offer is the next input.
  let holding = cidOf((await ledger.submit(mint('alice', '1000000000.0'))).results[0]).coid;
  let lastOffer: CommittedTransaction | undefined;
  const offerAccept = await measure('transfer offer + accept', 2, async () => {
    const offered = await ledger.submit(transfer(holding));
    lastOffer = offered;
    const result = json(offered.results[0]);
    holding = result.senderChangeCids[0];
    await ledger.submit({
      actAs: ['bob'],
      commands: [
        {
          ExerciseCommand: {
            templateId: TRANSFER_INSTRUCTION,
            contractId: result.output.value.transferInstructionCid,
            choice: 'TransferInstruction_Accept',
            choiceArgument: { extraArgs },
          },
        },
      ],
    });
  });

  if (lastOffer === undefined) throw new Error('no transfer was offered');
  const store = contractStoreOf(viewInputs(lastOffer));
  const request = {
    transaction: lastOffer.transaction,
    nodeId: 0,
    nodeSeed: lastOffer.metadata.nodeSeeds.get(0),
    preparationTime: lastOffer.metadata.preparationTime,
    ledgerTime: lastOffer.metadata.ledgerTime,
  };
  const reinterpret = await measure('reinterpret transfer offer (5 nodes)', 1, async () => {
    const r = await engine.reinterpret(request, store);
    if (!r.matches) throw new Error(r.reason);
  });
  return [create, offerAccept, reinterpret];
}

// ---------------------------------------------------------------------------------------------------------------
// Bong

const BONG = '#canton-builtin-admin-workflow-ping:Canton.Internal.Bong';

/** Plays the whole Bong workflow of `levels` levels; returns the latency of each command. */
async function bong(engine: Engine, levels: number): Promise<number[]> {
  const ledger = new InMemoryLedger(engine, { time: NOW });
  const latencies: number[] = [];
  const submit = async (s: LedgerSubmission) => {
    const t0 = performance.now();
    const r = await ledger.submit(s);
    latencies.push(performance.now() - t0);
    return r;
  };
  const exercise = (template: string, contractId: string, choice: string, choiceArgument: unknown) => ({
    actAs: ['bob'],
    commands: [
      { ExerciseCommand: { templateId: `${BONG}:${template}`, contractId, choice, choiceArgument } },
    ],
  });
  const proposal = await submit({
    actAs: ['alice'],
    commands: [
      {
        CreateCommand: {
          templateId: `${BONG}:BongProposal`,
          createArguments: {
            id: 'bench',
            initiator: 'alice',
            candidates: ['alice'],
            validators: [],
            responders: ['bob'],
            maxLevel: String(levels),
            timeout: '2025-01-01T13:00:00Z',
          },
        },
      },
    ],
  });
  const accepted = await submit({
    ...exercise('BongProposal', cidOf(proposal.results[0]).coid, 'Accept', { validator: 'alice' }),
    actAs: ['alice'],
  });
  // Explode breadth first; remember per path the merge and the two collapses below it.
  const merges = new Map<string, string>();
  const collapses = new Map<string, string[]>();
  let frontier: [string, string][] = [[json(accepted.results[0]).value, '']];
  while (frontier.length > 0) {
    const next: [string, string][] = [];
    for (const [cid, path] of frontier) {
      const r = json(
        (await submit(exercise('Explode', cid, 'ProcessExplode', { winner: 'bob' }))).results[0],
      );
      merges.set(path, r._1);
      if (r._2.tag === 'Left') next.push([r._2.value._1, `${path}L`], [r._2.value._2, `${path}R`]);
      else collapses.set(path, [r._2.value._1, r._2.value._2]);
    }
    frontier = next;
  }
  const paths = [...merges.keys()].sort((a, b) => b.length - a.length);
  for (const path of paths) {
    const [left, right] = collapses.get(path)!;
    const r = json(
      (
        await submit(
          exercise('Merge', merges.get(path)!, 'ProcessMerge', {
            winner: 'bob',
            leftId: left,
            rightId: right,
          }),
        )
      ).results[0],
    );
    if (path !== '') {
      const parent = path.slice(0, -1);
      collapses.set(parent, [...(collapses.get(parent) ?? []), r.value]);
    }
  }
  return latencies;
}

async function bongBenchmark(engine: Engine, levels: number): Promise<Measurement> {
  await bong(engine, 3); // warm-up
  const start = performance.now();
  const latencies = await bong(engine, levels);
  return result(
    `Bong explosion, ${levels} levels`,
    latencies.length,
    (performance.now() - start) / 1000,
    latencies,
  );
}

// ---------------------------------------------------------------------------------------------------------------

const measurements = [
  ...(await tokenBenchmarks(loadEngine(TOKEN_DAR))),
  await bongBenchmark(loadEngine(PING_DAR), LEVELS),
];

console.log(`Daml engine, one core, ${SECONDS}s per measurement`);
console.log('| benchmark | commands | commands/s | p50 ms | p99 ms | RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const m of measurements)
  console.log(
    `| ${m.name} | ${m.commands} | ${m.commandsPerSecond} | ${m.p50Ms} | ${m.p99Ms} | ${m.rssMb} |`,
  );
for (const m of measurements) console.log(JSON.stringify({ bench: 'daml-engine', ...m }));
