/**
 * Two participants of one synchronizer in this process, each serving the gRPC Ledger API on a loopback port (as the
 * participant daemon assembles it), with the given DARs uploaded: what the trigger and middleware tests run on.
 */
import { readFileSync } from 'node:fs';
import { type LedgerApiAuthConfig, ledgerApiAuthSchema } from '../../src/ledger-api/auth/index.js';
import {
  ledgerApiSchema,
  ledgerApiSettings,
  type ParticipantLedgerApiServers,
  startLedgerApi,
} from '../../src/ledger-api/index.js';
import type { Completion, ParticipantNode } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  tokenCommands,
} from '../../src/participant/testing.js';
import type { StorageConfig } from '../../src/storage/index.js';
import { testLedgerApiHost } from '../ledger-api/json-harness.js';

export interface LedgerNetwork {
  readonly net: ParticipantTestNetwork;
  readonly nodes: readonly ParticipantNode[];
  readonly apis: readonly ParticipantLedgerApiServers[];
  /** `http://127.0.0.1:port` of each participant's gRPC Ledger API. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

function parsed<T>(r: { ok: true; value: T } | { ok: false; problems: unknown }): T {
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

export async function ledgerNetwork(
  seed: string,
  o: { dars: readonly string[]; auth?: Record<string, unknown> },
): Promise<LedgerNetwork> {
  const net = await participantTestNetwork({ seed });
  const started = await Promise.all(['p1', 'p2'].map((name) => net.startParticipant(name)));
  const nodes = started.map((p) => p.node);
  for (const dar of o.dars) await Promise.all(nodes.map((n) => n.uploadDar(readFileSync(dar))));
  const auth: LedgerApiAuthConfig = parsed(ledgerApiAuthSchema.parse(o.auth ?? {}));
  const grpc = await ledgerApiSettings(parsed(ledgerApiSchema.parse({ port: 0, ...(o.auth ?? {}) })));
  const apis = await Promise.all(started.map((p) => startLedgerApi(testLedgerApiHost(p), auth, { grpc })));
  return {
    net,
    nodes,
    apis,
    urls: apis.map((a) => a.grpc!.url),
    close: async () => {
      await Promise.all(apis.map((a) => a.close()));
      await net.close();
    },
  };
}

export function succeeded(c: Completion): Completion {
  if (c.status !== 'succeeded') throw new Error(`${c.commandId} failed: ${c.code} ${c.message}`);
  return c;
}

/** The contracts a committed update created, as `party` on `node` sees them (waits for the update). */
export async function createdIn(node: ParticipantNode, party: string, updateId: string): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const u = (await node.updatesUpTo(party)).find((x) => x.updateId === updateId);
    if (u) return u.events.flatMap((e) => (e.kind === 'created' ? [e.contractId] : []));
    if (Date.now() > deadline) throw new Error(`${node.id} never committed ${updateId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls `check` until it returns a value (not undefined), for up to `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The trigger service config section for a storage config of the tests' backends. */
export function storageSection(c: StorageConfig): Record<string, unknown> {
  return c.kind === 'sqlite'
    ? { type: 'sqlite', file: c.path }
    : { type: 'postgres', url: c.url, ...(c.schema ? { schema: c.schema } : {}) };
}

/**
 * The admin mints `amount` TOK for `sender` on `node`, and `sender` offers them to `receiver` (a party of either
 * participant); resolves with the offer's contract id. `tag` makes the command ids unique.
 */
export async function mintAndOffer(
  node: ParticipantNode,
  o: { admin: string; sender: string; receiver: string; rules: string; amount: string; tag: string },
): Promise<string> {
  const { admin, sender, receiver, rules, amount, tag } = o;
  const minted = succeeded(
    await node.submit({
      commands: [tokenCommands.mint(admin, sender, amount)],
      actAs: [admin, sender],
      commandId: `mint-${tag}`,
    }),
  );
  const [holding] = await createdIn(node, sender, minted.updateId!);
  const offered = succeeded(
    await node.submit({
      commands: [tokenCommands.offer({ rules, admin, sender, receiver, amount, inputs: [holding!] })],
      actAs: [sender],
      readAs: [admin],
      commandId: `offer-${tag}`,
    }),
  );
  return (await createdIn(node, sender, offered.updateId!)).find((c) => c !== holding)!;
}
