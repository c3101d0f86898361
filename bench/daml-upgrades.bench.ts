/**
 * The interpretation cost of smart-contract upgrades: a fetch of a contract through the version it was created
 * with, against the same fetch through another version of its package name (the argument read as the target's
 * type, ensure, signatories and observers evaluated by the target). One run per fetch, as a command or a
 * reinterpreted view does it: each on a fresh machine, compiled code warm.
 *   - DummyHolding (3 fields): created by 0.0.1, fetched through 0.0.1 / 0.0.4 (upcast) / created by 0.0.4
 *     fetched through 0.0.1 (downcast);
 *   - OTCTradeProposal with 20 transfer legs (nested records of a shared dependency): 1.0.0 / through 1.0.2.
 * The variants alternate in rounds so that machine noise hits them alike; medians of the per-round medians.
 * Run: npx tsx bench/daml-upgrades.bench.ts [--seconds 1] [--rounds 5]
 */
import { readDarFile } from '../src/daml/dar/index.js';
import { DUMMY_HOLDING_DARS, TRADING_APP_DARS } from '../src/daml/dar/testing.js';
import { contractStoreOf, type Engine, type FatContract, InMemoryLedger } from '../src/daml/engine/index.js';
import { cidOf, loadEngine } from '../src/daml/engine/testing.js';
import type { Identifier } from '../src/daml/lf/index.js';
import { parseTimestamp } from '../src/daml/values/time.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const SECONDS = arg('seconds', 1);
const ROUNDS = arg('rounds', 5);
const NOW = parseTimestamp('2025-01-01T12:00:00Z')!;
const SEED = new Uint8Array(32);
const mainId = (file: string) => readDarFile(file).main.id;

const engine: Engine = loadEngine(...DUMMY_HOLDING_DARS, ...TRADING_APP_DARS);
const ledger = new InMemoryLedger(engine, { time: NOW });

async function created(templateId: string, arg: unknown, actAs: string[]): Promise<FatContract> {
  const tx = await ledger.submit({
    actAs,
    commands: [{ CreateCommand: { templateId, createArguments: arg } }],
  });
  return ledger.contract(cidOf(tx.results[0]).coid)!.contract;
}

const holdingModule = 'Splice.Api.Token.Test.DummyHolding';
const holding = (pkg: string): Identifier => ({
  packageId: pkg,
  module: holdingModule.split('.'),
  name: ['DummyHolding'],
});
const [H1, H4] = [mainId(DUMMY_HOLDING_DARS[0]!), mainId(DUMMY_HOLDING_DARS[3]!)];
const holdingArg = { owner: 'alice', issuer: 'bank', amount: '10.0' };
const oldHolding = await created(`${H1}:${holdingModule}:DummyHolding`, holdingArg, ['alice', 'bank']);
const newHolding = await created(`${H4}:${holdingModule}:DummyHolding`, holdingArg, ['alice', 'bank']);

const app = 'Splice.Testing.Apps.TradingApp';
const proposalId = (pkg: string): Identifier => ({
  packageId: pkg,
  module: app.split('.'),
  name: ['OTCTradeProposal'],
});
const [A0, A2] = [mainId(TRADING_APP_DARS[0]!), mainId(TRADING_APP_DARS[2]!)];
const legs = Object.fromEntries(
  Array.from({ length: 20 }, (_, i) => [
    `leg-${i}`,
    {
      sender: 'alice',
      receiver: 'bob',
      amount: `${i + 1}.0`,
      instrumentId: { admin: 'bank', id: `I${i}` },
      meta: { values: {} },
    },
  ]),
);
const proposal = await created(
  `${A0}:${app}:OTCTradeProposal`,
  { venue: 'venue', tradeCid: null, transferLegs: legs, approvers: ['alice'] },
  ['alice'],
);

/** One fetch of `contract` through `template`, in a run of its own. */
const fetchOnce = (contract: FatContract, template: Identifier, party: string) => () =>
  engine.run([engine.interpreter.fetchCommand(template, contract.contractId)], contractStoreOf([contract]), {
    committers: [party],
    seeding: { kind: 'transaction', seed: SEED },
    preparationTime: NOW,
    ledgerTime: NOW,
  });

const variants: [string, () => Promise<unknown>][] = [
  ['DummyHolding 0.0.1 → 0.0.1 (same version)', fetchOnce(oldHolding, holding(H1), 'alice')],
  ['DummyHolding 0.0.1 → 0.0.4 (upcast)', fetchOnce(oldHolding, holding(H4), 'alice')],
  ['DummyHolding 0.0.4 → 0.0.1 (downcast)', fetchOnce(newHolding, holding(H1), 'alice')],
  ['OTCTradeProposal (20 legs) 1.0.0 → 1.0.0 (same version)', fetchOnce(proposal, proposalId(A0), 'alice')],
  ['OTCTradeProposal (20 legs) 1.0.0 → 1.0.2 (upgraded)', fetchOnce(proposal, proposalId(A2), 'alice')],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perRound = new Map<string, number[]>(variants.map(([n]) => [n, []]));
for (const [, op] of variants) for (let i = 0; i < 200; i++) await op();
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, op] of variants) {
    const times: number[] = [];
    const start = performance.now();
    while (performance.now() - start < SECONDS * 1000) {
      const t0 = performance.now();
      await op();
      times.push(performance.now() - t0);
    }
    perRound.get(name)!.push(median(times) * 1000);
  }
}
const rows = variants.map(([name]) => ({
  name,
  medianUs: Math.round(median(perRound.get(name)!) * 10) / 10,
}));
const base = (prefix: string) =>
  rows.find((r) => r.name.startsWith(prefix) && r.name.includes('same version'))!.medianUs;
console.log(
  JSON.stringify(
    rows.map((r) => ({ ...r, ratio: Math.round((r.medianUs / base(r.name.split(' ')[0]!)) * 100) / 100 })),
    null,
    2,
  ),
);
