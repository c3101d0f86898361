import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { encodeTransaction, project, type Transaction } from '../../src/daml/index.js';
import { ProtocolMessage } from '../../src/generated/weft/protocol/v1/protocol_message.js';
import { Envelope, EnvelopeKind } from '../../src/generated/weft/sequencer/v1/sequencing.js';
import { StoredBatch } from '../../src/generated/weft/sequencer/v1/stored_batch.js';
import type { Completion, ParticipantNode } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  tokenCommands,
} from '../../src/participant/testing.js';
import type { Storage } from '../../src/storage/index.js';

/**
 * Privacy end to end. p1 hosts the token admin and alice, p2 hosts bob, p3 hosts carol (with the token DAR, but no
 * part in the transfers). Contract arguments carry unique markers; the sequencer and the mediator must never hold
 * them, p3 must receive no view, and each party's update stream must be exactly its projection (the engine's
 * `project` is the oracle).
 */

const MINT_MARKER = `mint-marker-${randomBytes(8).toString('hex')}`;
const OFFER_MARKER = `offer-marker-${randomBytes(8).toString('hex')}`;

let net: ParticipantTestNetwork;
let p1: ParticipantNode;
let p2: ParticipantNode;
let p3: ParticipantNode;
let stores: Storage[];
const parties: Record<string, string> = {};
const updateIds: string[] = [];

const ok = (c: Completion) => {
  expect(c.status, c.message).toBe('succeeded');
  updateIds.push(c.updateId!);
  return c;
};

async function createdBy(node: ParticipantNode, party: string, updateId: string, template: string) {
  const u = (await node.updatesUpTo(party)).find((x) => x.updateId === updateId);
  return u!.events.flatMap((e) =>
    e.kind === 'created' && e.templateId.name[0] === template ? [e.contractId] : [],
  );
}

async function settled(): Promise<void> {
  const deadline = Date.now() + 10_000;
  const ends = () => [p1, p2, p3].map((p) => p.pendingRequests + (p.ledgerEnd() - p.durableEnd > 0n ? 1 : 0));
  while (ends().some((x) => x > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Every value of every table of a database, as bytes. */
async function everyValue(storage: Storage): Promise<{ table: string; bytes: Buffer }[]> {
  const tables = await storage.query<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
  );
  const out: { table: string; bytes: Buffer }[] = [];
  for (const { name } of tables) {
    for (const row of await storage.query(`SELECT * FROM ${name}`)) {
      for (const v of Object.values(row)) {
        if (v instanceof Uint8Array) out.push({ table: name, bytes: Buffer.from(v) });
        else if (v !== null) out.push({ table: name, bytes: Buffer.from(String(v)) });
      }
    }
  }
  return out;
}

async function tablesHolding(storage: Storage, marker: string): Promise<string[]> {
  const needle = Buffer.from(marker);
  return [
    ...new Set((await everyValue(storage)).filter((v) => v.bytes.includes(needle)).map((v) => v.table)),
  ].sort();
}

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'participant-privacy' });
  const started = await Promise.all(['p1', 'p2', 'p3'].map((n) => net.startParticipant(n)));
  [p1, p2, p3] = started.map((p) => p.node) as [ParticipantNode, ParticipantNode, ParticipantNode];
  // In start order: `net.participants` lists them as their concurrent starts finished.
  stores = started.map((p) => p.storage);
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all([p1, p2, p3].map((p) => p.uploadDar(dar)));
  parties.admin = await p1.allocateParty('admin');
  parties.alice = await p1.allocateParty('alice');
  parties.bob = await p2.allocateParty('bob');
  parties.carol = await p3.allocateParty('carol');
  const { admin, alice, bob } = parties as Record<string, string>;
  const rulesTx = ok(
    await p1.submit({ commands: [tokenCommands.rules(admin!)], actAs: [admin!], commandId: 'rules' }),
  );
  const rules = (await createdBy(p1, admin!, rulesTx.updateId!, 'TokenRules'))[0]!;
  const minted = ok(
    await p1.submit({
      commands: [tokenCommands.mint(admin!, alice!, '100.0', MINT_MARKER)],
      actAs: [admin!, alice!],
      commandId: 'mint',
    }),
  );
  const token = (await createdBy(p1, alice!, minted.updateId!, 'Token'))[0]!;
  const offered = ok(
    await p1.submit({
      commands: [
        tokenCommands.offer({
          rules,
          admin: admin!,
          sender: alice!,
          receiver: bob!,
          amount: '40.0',
          inputs: [token],
          memo: OFFER_MARKER,
        }),
      ],
      actAs: [alice!],
      readAs: [admin!],
      commandId: 'offer',
    }),
  );
  await settled();
  const offer = (await createdBy(p2, bob!, offered.updateId!, 'TokenTransferOffer'))[0]!;
  ok(
    await p2.submit({
      commands: [tokenCommands.instruction(offer, 'TransferInstruction_Accept')],
      actAs: [bob!],
      commandId: 'accept',
    }),
  );
  await p1.ping(p2.id);
  await settled();
}, 60_000);

afterAll(async () => {
  await net?.close();
});

describe('privacy', () => {
  it('keeps contract arguments out of the sequencer and the mediator, and out of uninvolved participants', async () => {
    // Positive controls: the markers are stored where they may be, so the scan can find them.
    expect(await tablesHolding(stores[0]!, MINT_MARKER)).toEqual([
      'participant_contracts',
      'participant_updates',
    ]);
    expect(await tablesHolding(stores[1]!, OFFER_MARKER)).toEqual([
      'participant_contracts',
      'participant_updates',
    ]);
    for (const marker of [MINT_MARKER, OFFER_MARKER]) {
      expect(await tablesHolding(net.sequencerStorage, marker)).toEqual([]);
      expect(await tablesHolding(net.mediatorStorage, marker)).toEqual([]);
      expect(await tablesHolding(stores[2]!, marker)).toEqual([]);
    }
    // bob's participant sees the offer, never alice's holding it was paid from.
    expect(await tablesHolding(stores[1]!, MINT_MARKER)).toEqual([]);
  });

  it('sends every view only to the participants hosting its informees (or those of an ancestor view), a session key only to one group', async () => {
    const members = new Map(
      (
        await net.sequencerStorage.query<{ id: bigint; member: string }>(
          'SELECT id, member FROM sequencer_members',
        )
      ).map((r) => [r.id, r.member]),
    );
    const p3Key = p3.identity.encryptionKey.publicKey.fingerprint.value;
    const recipientSets: string[] = [];
    // Each wrapped session key, by the recipient set of the views it came with.
    const groupOfWrapped = new Map<string, string>();
    for (const { content } of await net.sequencerStorage.query<{ content: Uint8Array }>(
      'SELECT content FROM sequencer_payloads',
    )) {
      for (const stored of StoredBatch.fromBinary(content).envelopes) {
        const envelope = Envelope.fromBinary(stored.envelope);
        if (envelope.kind !== EnvelopeKind.PROTOCOL) continue;
        const message = ProtocolMessage.fromBinary(envelope.content).message;
        if (message.oneofKind !== 'encryptedViewMessage') continue;
        const to = stored.memberIds.map((id) => members.get(id)!).sort();
        expect(to).not.toContain(String(p3.id));
        expect(message.encryptedViewMessage.sessionKeys.map((k) => k.keyFingerprint)).not.toContain(p3Key);
        expect(message.encryptedViewMessage.sessionKeys).toHaveLength(to.length);
        recipientSets.push(to.join(' '));
        for (const k of message.encryptedViewMessage.sessionKeys) {
          const id = Buffer.from(k.encryptedKey).toString('hex');
          // A session key is reused only among views to the very same participants.
          expect(groupOfWrapped.get(id) ?? to.join(' ')).toBe(to.join(' '));
          groupOfWrapped.set(id, to.join(' '));
        }
      }
    }
    // The offer's root view (alice's holding and change) went to p1 alone, its subview (the offer) to p1 and p2.
    expect(recipientSets).toContain(String(p1.id));
    expect(recipientSets).toContain([String(p1.id), String(p2.id)].sort().join(' '));
    expect(await p3.updatesUpTo(parties.carol!)).toEqual([]);
  });

  it('gives each party exactly its projection of every transaction', async () => {
    const hosts: [string, ParticipantNode][] = [
      [parties.admin!, p1],
      [parties.alice!, p1],
      [parties.bob!, p2],
      [parties.carol!, p3],
      [String(p1.adminParty), p1],
      [String(p2.adminParty), p2],
      [String(p3.adminParty), p3],
    ];
    const hex = (tx: Transaction) => Buffer.from(encodeTransaction(tx)).toString('hex');
    let checked = 0;
    for (const updateId of updateIds) {
      // The submitter hosts the informees of every root view, so its part is the whole transaction.
      const trees = await Promise.all([p1, p2, p3].map((p) => p.transactionTree(updateId)));
      const full = trees.filter((t) => t !== undefined).sort((a, b) => b.nodes.size - a.nodes.size)[0]!;
      for (const [party, node] of hosts) {
        const expected = project(full, [party]).transaction;
        const update = (await node.updatesUpTo(party)).find((u) => u.updateId === updateId);
        if (expected.roots.length === 0) expect(update, `${party} sees ${updateId}`).toBeUndefined();
        else {
          expect(update, `${party} misses ${updateId}`).toBeDefined();
          expect(hex(update!.transaction)).toBe(hex(expected));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(updateIds.length * 2);
    // bob sees the offer's creation but not how alice paid for it.
    const bobOffer = (await p2.updatesUpTo(parties.bob!)).find((u) => u.updateId === updateIds[2]);
    expect(bobOffer!.events.map((e) => `${e.kind} ${e.templateId.name.join('.')}`)).toEqual([
      'created TokenTransferOffer',
    ]);
  });
});
