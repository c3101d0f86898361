import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrors,
  DeterministicRandom,
  generateSigningKeyPair,
  signatureCounts,
} from '../crypto/index.js';
import type { WeftError } from '../errors/index.js';
import type { SequencedEventBlock } from '../generated/weft/sequencer/v1/sequencing.js';
import { openStorage } from '../storage/index.js';
import { systemClock } from '../time/index.js';
import { BlockSigner, type EventProof, verifyEventProof } from './blocks.js';
import type { ReceivedEvent } from './client/client.js';
import { type EventStream, GrpcSequencerChannel, type SequencerDialer } from './client/endpoint.js';
import { sequencerSettings } from './config.js';
import { SequencerErrors } from './errors.js';
import type { SequencerNode } from './node.js';
import {
  connect,
  envelope,
  soon,
  startSequencerNode,
  type TestSynchronizer,
  testSynchronizer,
  texts,
  waitFor,
} from './testing.js';

const SYNC = 'weft::1220aa';
const key = generateSigningKeyPair(new DeterministicRandom('blocks')).privateKey;

/** Signs the blocks asked for in one turn, as the node's subscriptions do. */
async function blocks(
  requests: readonly [member: string, events: readonly string[]][],
): Promise<SequencedEventBlock[]> {
  const signer = new BlockSigner(key, SYNC);
  return Promise.all(
    requests.map(([m, events]) =>
      signer.sign(
        m,
        events.map((e) => Buffer.from(e)),
      ),
    ),
  );
}

function proofs(member: string, block: SequencedEventBlock): EventProof[] {
  return block.events.map((e) => ({
    member,
    event: e.event,
    leafIndex: e.leafIndex,
    siblings: e.siblings,
    root: block.signedRoot!,
  }));
}

const check = (proof: EventProof) => verifyEventProof(proof, SYNC, [key.publicKey], 'event');

describe('block signatures', () => {
  it('signs the blocks of one turn once, and every event proves its inclusion for its member only', async () => {
    for (const sizes of [[1], [2], [1, 2], [3, 1, 1], [4, 4, 1], [5, 0, 8, 3]]) {
      const requests = sizes
        .filter((n) => n > 0)
        .map((n, m): [string, string[]] => [`PAR::m${m}`, Array.from({ length: n }, (_, i) => `e${m}.${i}`)]);
      const before = signatureCounts.signed;
      const signed = await blocks(requests);
      expect(signatureCounts.signed - before).toBe(1);
      signed.forEach((block, m) => {
        for (const proof of proofs(`PAR::m${m}`, block)) {
          check(proof);
          // A third party holding the proof finds it bound to the member it was delivered to.
          expect(() => check({ ...proof, member: 'PAR::other' })).toThrow(/not in the block/);
        }
      });
    }
  });

  it('refuses a forged root, a root for another synchronizer and proofs that do not lead to the root', async () => {
    const [block] = await blocks([['PAR::a', ['e0', 'e1', 'e2', 'e3', 'e4']]]);
    const [p0, p1, , , p4] = proofs('PAR::a', block!) as [
      EventProof,
      EventProof,
      EventProof,
      EventProof,
      EventProof,
    ];
    const code = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as WeftError).code;
      }
      return 'accepted';
    };
    const forged = {
      ...p0.root,
      signature: Uint8Array.from(p0.root.signature, (b, i) => (i === 0 ? b ^ 1 : b)),
    };
    expect(code(() => check({ ...p0, root: forged }))).toBe(CryptoErrors.SIGNATURE_INVALID.code);
    expect(code(() => verifyEventProof(p0, 'weft::other', [key.publicKey], 'event'))).toBe(
      SequencerErrors.SEQUENCER_EVENT_INVALID.code,
    );
    const invalid = SequencerErrors.SEQUENCER_EVENT_INVALID.code;
    expect(code(() => check({ ...p1, event: Buffer.from('e9') }))).toBe(invalid);
    expect(code(() => check({ ...p1, leafIndex: 0 }))).toBe(invalid);
    expect(code(() => check({ ...p1, leafIndex: 5 }))).toBe(invalid);
    expect(code(() => check({ ...p1, siblings: [...p1.siblings].reverse() }))).toBe(invalid);
    expect(code(() => check({ ...p1, siblings: p1.siblings.slice(1) }))).toBe(invalid);
    expect(code(() => check({ ...p1, siblings: [...p1.siblings, p1.siblings[0]!] }))).toBe(invalid);
    // The last leaf of five moves up unpaired: its proof is one hash shorter, and no padding passes for it.
    expect(p4.siblings).toHaveLength(1);
    expect(code(() => check({ ...p4, siblings: [p4.siblings[0]!, p4.siblings[0]!] }))).toBe(invalid);
    const [other] = await blocks([['PAR::a', ['e0', 'e1', 'e2', 'e3', 'e4']]]);
    expect(code(() => check({ ...p1, root: other!.signedRoot! }))).toBe('accepted');
    const [different] = await blocks([['PAR::a', ['x0', 'e1', 'e2', 'e3', 'e4']]]);
    expect(code(() => check({ ...p1, root: different!.signedRoot! }))).toBe(invalid);
  });
});

// ---- a sequencer client behind a tampering network -------------------------------------------------------------

let dir: string;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-blocks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The blocks that went through so far: the receiver's own, and the sender's (its receipts). */
interface Seen {
  readonly own: readonly SequencedEventBlock[];
  readonly sender: readonly SequencedEventBlock[];
}
/** Rewrites a block the receiver is sent into the blocks it receives instead (none, itself, others). */
type Tamper = (block: SequencedEventBlock, seen: Seen) => SequencedEventBlock[];

/** Dials gRPC as usual, with `tamper` between the sequencer and the client on the subscription. */
function tampering(
  seen: SequencedEventBlock[],
  tamper: Tamper = (b) => [b],
  sender: readonly SequencedEventBlock[] = [],
): SequencerDialer {
  return (endpoint) => {
    const channel = new GrpcSequencerChannel(endpoint, {}, systemClock);
    const subscribe = channel.subscribe.bind(channel);
    channel.subscribe = (request, auth): EventStream => {
      const inner = subscribe(request, auth);
      const listeners = new Map<string, ((...args: unknown[]) => void)[]>();
      const emit = (event: string, ...args: unknown[]) => {
        for (const l of listeners.get(event) ?? []) l(...args);
      };
      inner.on('metadata', () => emit('metadata'));
      inner.on('error', (e) => emit('error', e));
      inner.on('end', () => emit('end'));
      inner.on('data', (response) => {
        for (const block of tamper(response.block!, { own: seen, sender })) emit('data', { block });
        seen.push(response.block!);
      });
      return {
        on(event: string, listener: (...args: never[]) => void) {
          listeners.set(event, [...(listeners.get(event) ?? []), listener as (...args: unknown[]) => void]);
          return this;
        },
        pause: () => inner.pause(),
        resume: () => inner.resume(),
        cancel: () => inner.cancel(),
      } as EventStream;
    };
    return channel;
  };
}

async function network(seed: string): Promise<{ sync: TestSynchronizer; node: SequencerNode }> {
  const sync = testSynchronizer({ seed, participants: 2, now: systemClock.now() });
  const storage = await openStorage({ kind: 'sqlite', path: join(dir, `${seed}.sqlite`) });
  cleanups.push(() => storage.close());
  const { node } = await startSequencerNode(sync, { name: 'seq', storage, settings: sequencerSettings() });
  cleanups.push(() => node.stop());
  return { sync, node };
}

/** The receiver's outcome: the events it handled and the error it stopped with. */
async function receive(
  seed: string,
  tamper: Tamper,
  options: { live: boolean },
): Promise<{
  sync: TestSynchronizer;
  events: ReceivedEvent[];
  fatal: WeftError | undefined;
  blocks: number;
  /** Signatures verified in this process while the receiver took its events. */
  verified: number;
}> {
  const { sync, node } = await network(seed);
  const [sender, receiver] = sync.participants as [
    TestSynchronizer['participants'][0],
    TestSynchronizer['participants'][0],
  ];
  // The sender's own blocks (its receipts), for tampering that splices them into the receiver's stream.
  const senderBlocks: SequencedEventBlock[] = [];
  const s = await connect(sync, sender, [node.endpoint], { dial: tampering(senderBlocks) });
  cleanups.push(() => s.client.close());
  const sendAll = async () => {
    for (let i = 0; i < 4; i++) {
      await (await s.client.send({ envelopes: [envelope(`m${i}`, receiver.id)], maxSequencingTime: soon() }))
        .outcome;
    }
  };
  // Sent before the receiver subscribes, the four events reach it in one block.
  if (!options.live) await sendAll();
  let fatal: WeftError | undefined;
  const receiverBlocks: SequencedEventBlock[] = [];
  const r = await connect(sync, receiver, [node.endpoint], {
    dial: tampering(receiverBlocks, tamper, senderBlocks),
    onFatal: (e) => {
      fatal = e;
    },
  });
  cleanups.push(() => r.client.close());
  const verifiedBefore = signatureCounts.verified;
  if (options.live) await sendAll();
  await waitFor('the receiver to take all four or stop', () => r.events.length === 4 || fatal !== undefined);
  return {
    sync,
    events: r.events,
    fatal,
    blocks: receiverBlocks.length,
    verified: signatureCounts.verified - verifiedBefore,
  };
}

const swap = <T>(xs: readonly T[], i: number, j: number): T[] => {
  const out = [...xs];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
};
const eventsOf = (
  block: SequencedEventBlock,
  change: (events: SequencedEventBlock['events']) => SequencedEventBlock['events'],
) => ({
  ...block,
  events: change(block.events),
});

describe('a sequencer client', () => {
  it('receives a block of events in one message and keeps a proof a third party can check', async () => {
    const { sync, events, fatal, blocks, verified } = await receive('blocks-intact', (b) => [b], {
      live: false,
    });
    expect(fatal).toBeUndefined();
    expect(events.map(texts)).toEqual([['m0'], ['m1'], ['m2'], ['m3']]);
    expect(blocks).toBe(1);
    // One signature checked for the four events: the block's.
    expect(verified).toBe(1);
    for (const e of events)
      verifyEventProof(e.proof, sync.synchronizerId, [sync.sequencer.key.publicKey], 'event');
  });

  it('splits a page of large events into messages of at most 4 MiB, each under its own signed root', async () => {
    const { sync, node } = await network('blocks-large');
    const [sender, receiver] = sync.participants as [
      TestSynchronizer['participants'][0],
      TestSynchronizer['participants'][0],
    ];
    const s = await connect(sync, sender, [node.endpoint]);
    cleanups.push(() => s.client.close());
    for (const fill of ['a', 'b', 'c']) {
      const big = { ...envelope('', receiver.id), content: Buffer.alloc(1536 * 1024, fill) };
      await (await s.client.send({ envelopes: [big], maxSequencingTime: soon() })).outcome;
    }
    const received: SequencedEventBlock[] = [];
    const r = await connect(sync, receiver, [node.endpoint], { dial: tampering(received) });
    cleanups.push(() => r.client.close());
    await waitFor('three events', () => r.events.length === 3);
    // 1.5 + 1.5 MiB fit in one message, the third would pass 4 MiB.
    expect(received.map((b) => b.events.length)).toEqual([2, 1]);
    expect(received[0]!.signedRoot).not.toEqual(received[1]!.signedRoot);
    expect(r.events.map((e) => e.envelopes[0]!.content[0])).toEqual([...Buffer.from('abc')]);
  });

  const flipSignature = (b: SequencedEventBlock) => ({
    ...b,
    signedRoot: {
      ...b.signedRoot!,
      signature: Uint8Array.from(b.signedRoot!.signature, (x, i) => (i === 5 ? x ^ 1 : x)),
    },
  });
  /** How the client refuses: an error code and what its message says. */
  type Refusal = { code: string; message: RegExp };
  const FORGED: Refusal = { code: CryptoErrors.SIGNATURE_INVALID.code, message: /signature/ };
  const NOT_INCLUDED: Refusal = {
    code: SequencerErrors.SEQUENCER_EVENT_INVALID.code,
    message: /not in the block/,
  };
  const OUT_OF_ORDER: Refusal = {
    code: SequencerErrors.SEQUENCER_EVENT_INVALID.code,
    message: /expected event counter/,
  };
  const cases: [string, Tamper, boolean, Refusal][] = [
    ['a forged root signature', (b) => [flipSignature(b)], false, FORGED],
    [
      'a wrong sibling hash',
      (b) => [
        eventsOf(b, (es) =>
          es.map((e, i) => (i === 1 ? { ...e, siblings: [e.siblings[1]!, e.siblings[1]!] } : e)),
        ),
      ],
      false,
      NOT_INCLUDED,
    ],
    [
      'reordered sibling hashes',
      (b) => [eventsOf(b, (es) => es.map((e) => ({ ...e, siblings: [...e.siblings].reverse() })))],
      false,
      NOT_INCLUDED,
    ],
    [
      'a truncated inclusion proof',
      (b) => [eventsOf(b, (es) => es.map((e) => ({ ...e, siblings: e.siblings.slice(1) })))],
      false,
      NOT_INCLUDED,
    ],
    [
      'a wrong leaf index',
      (b) => [eventsOf(b, (es) => es.map((e, i) => (i === 0 ? { ...e, leafIndex: 1 } : e)))],
      false,
      NOT_INCLUDED,
    ],
    ['a reordered block', (b) => [eventsOf(b, (es) => swap(es, 1, 2))], false, OUT_OF_ORDER],
    [
      'a truncated block (an event left out)',
      (b) => [eventsOf(b, (es) => es.filter((_, i) => i !== 1))],
      false,
      OUT_OF_ORDER,
    ],
    [
      'an old block replayed',
      (b, seen) => (seen.own.length > 0 ? [seen.own[0]!, b] : [b]),
      true,
      OUT_OF_ORDER,
    ],
    [
      // Its first event is the sender's receipt of the same request: counter 0, same timestamp, a valid proof.
      "another member's event spliced in, with its proof",
      (b, seen) => [{ ...seen.sender[0]!, events: [seen.sender[0]!.events[0]!, ...b.events.slice(1)] }],
      false,
      NOT_INCLUDED,
    ],
    [
      "an event under another block's root",
      (b, seen) => (seen.own.length > 0 ? [{ ...b, signedRoot: seen.own[0]!.signedRoot! }] : [b]),
      true,
      NOT_INCLUDED,
    ],
  ];

  it.each(cases)('stops on %s', async (name, tamper, live, refusal) => {
    const { events, fatal } = await receive(`blocks-${name.replace(/\W+/g, '-')}`, tamper, { live });
    expect(fatal).toMatchObject(refusal);
    expect(events.length).toBeLessThan(4);
  });
});
