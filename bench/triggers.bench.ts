/**
 * How fast a trigger reacts: alice (on p1) offers a token; bob's auto-accept trigger, run by the trigger service
 * against p2's gRPC Ledger API, sees the offer on its transaction stream and accepts it. Measured from the offer's
 * completion on p1 to bob's token being active on p2. The baseline is a hand-written client that waits for the
 * offer on p2 and accepts it directly (to carol, another party of p2, so that the trigger stays out of it); the two
 * alternate transfer by transfer, so that the machine's noise hits both alike.
 *
 * Run: npx tsx bench/triggers.bench.ts [--transfers 30]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as autoAccept from '../examples/triggers/token-auto-accept.js';
import { systemRandom } from '../src/crypto/index.js';
import { createLogger } from '../src/observability/index.js';
import { tokenCommands } from '../src/participant/testing.js';
import { systemClock } from '../src/time/index.js';
import { TriggerService, triggerServiceSettings } from '../src/triggers/index.js';
import { benchArgs, f1, median, pct, tokenBench } from './ledger-api-network.js';

const TRANSFERS = Number(benchArgs({ transfers: '30' }).get('transfers'));
const WARMUP = 3;

const bench = await tokenBench({ holdings: 2 * (TRANSFERS + WARMUP) });
const dir = mkdtempSync(join(tmpdir(), 'weft-bench-triggers-'));
const { p1, p2, admin, alice, bob, rules, holdings, createdOn } = bench;
const carol = await p2.node.allocateParty('carol');
const service = await TriggerService.start({
  config: triggerServiceSettings({
    port: 0,
    'ledger-api': `http://${p2.grpcTarget}`,
    storage: { type: 'sqlite', file: join(dir, 'triggers.db') },
  }),
  clock: systemClock,
  random: systemRandom,
  logger: createLogger({ level: 'silent' }),
  modules: { 'token-auto-accept': autoAccept },
});
const started = await fetch(`${service.url}/v1/triggers`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ triggerName: 'token-auto-accept:autoAccept', party: bob }),
});
if (started.status !== 200) throw new Error(`the trigger did not start: ${await started.text()}`);

let n = 0;
const offer = async (receiver: string) => {
  const c = await p1.node.submit({
    commands: [
      tokenCommands.offer({ rules, admin, sender: alice, receiver, amount: '10.0', inputs: [holdings[n]!] }),
    ],
    actAs: [alice],
    readAs: [admin],
    commandId: `bench-offer-${n++}`,
  });
  if (c.status !== 'succeeded') throw new Error(`offer failed: ${c.message}`);
  return c.updateId!;
};
const tokensOf = async (party: string) =>
  (await p2.node.activeContracts(party)).contracts.filter(
    (c) => c.contract.templateId.name.join('.') === 'Token',
  ).length;

/** Offer to bob; resolves once the trigger's acceptance made bob's token active on p2. */
async function viaTrigger(): Promise<number> {
  const before = await tokensOf(bob);
  await offer(bob);
  const t0 = performance.now();
  while ((await tokensOf(bob)) === before) await new Promise((r) => setTimeout(r, 1));
  return performance.now() - t0;
}

/** Offer to carol; a client waits for the offer on p2 and accepts it directly. */
async function direct(): Promise<number> {
  const updateId = await offer(carol);
  const t0 = performance.now();
  const created = await createdOn(p2.node, updateId);
  const instruction = created.find((c) => c.template.endsWith('TokenTransferOffer'))!;
  const c = await p2.node.submit({
    commands: [tokenCommands.instruction(instruction.contractId, 'TransferInstruction_Accept')],
    actAs: [carol],
    commandId: `bench-accept-${n}`,
  });
  if (c.status !== 'succeeded') throw new Error(`accept failed: ${c.message}`);
  return performance.now() - t0;
}

const trigger: number[] = [];
const baseline: number[] = [];
for (let i = 0; i < TRANSFERS + WARMUP; i++) {
  const [t, d] = [await viaTrigger(), await direct()];
  if (i >= WARMUP) {
    trigger.push(t);
    baseline.push(d);
  }
}
const status = (await (
  await fetch(`${service.url}/v1/triggers?party=${encodeURIComponent(bob)}`)
).json()) as {
  result: { triggerIds: string[] };
};
console.log(`transfers ${TRANSFERS} (after ${WARMUP} warm-up), trigger ${status.result.triggerIds[0]}`);
console.log(`trigger reaction  p50 ${f1(median(trigger))} ms  p95 ${f1(pct(trigger, 95))} ms`);
console.log(`direct client     p50 ${f1(median(baseline))} ms  p95 ${f1(pct(baseline, 95))} ms`);
console.log(`ratio (p50)       ${(median(trigger) / median(baseline)).toFixed(2)}`);
await service.close();
await bench.close();
rmSync(dir, { recursive: true, force: true });
