import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { WeftError } from '../errors/index.js';
import { EnvelopeKind } from '../generated/weft/sequencer/v1/sequencing.js';
import { TopologyTransactionsBroadcast } from '../generated/weft/topology/v1/topology.js';
import { NodeMetrics } from '../observability/index.js';
import { describeBackends } from '../storage/testing.js';
import { systemClock } from '../time/index.js';
import {
  SignedTopologyTransaction,
  TopologyErrors,
  TopologyProcessor,
  TopologyTransaction,
  topologyBroadcastEnvelope,
} from '../topology/index.js';
import { downloadTopologyStateForInit, registerOnboardingTransactions } from './client/onboarding.js';
import { sequencerSettings } from './config.js';
import { SequencerErrors } from './errors.js';
import { SequencerStore } from './store.js';
import {
  connect,
  envelope,
  participantOnboarding,
  type Recorder,
  rejection,
  soon,
  startSequencerNode,
  testSynchronizer,
  texts,
  waitFor,
} from './testing.js';
import { sequencerTopologyOf } from './topology-adapter.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describeBackends('sequencer', (backend) => {
  async function setup(participants = 3, settings = sequencerSettings()) {
    const sync = testSynchronizer({ seed: 'semantics', participants, now: systemClock.now() });
    const storage = await backend.open();
    const metrics = new NodeMetrics({ node: 'seq-a', defaultMetrics: false });
    const { node, topology } = await startSequencerNode(sync, { name: 'seq-a', storage, settings, metrics });
    cleanups.push(() => node.stop());
    const clients: Recorder[] = [];
    for (const p of sync.participants) {
      const r = await connect(sync, p, [node.endpoint]);
      cleanups.push(() => r.client.close());
      clients.push(r);
    }
    return { sync, node, topology, clients, metrics, storage };
  }

  it('delivers each envelope to its recipients only, with receipts, gapless counters and one total order', async () => {
    const { sync, clients, metrics } = await setup();
    const [p0, p1, p2] = clients as [Recorder, Recorder, Recorder];
    const [a0, a1, a2] = sync.participants.map((p) => p.id) as [string, string, string];
    const first = await p0.client.send({
      envelopes: [envelope('for p1', a1), envelope('for p1 and p2', a1, a2)],
      maxSequencingTime: soon(),
    });
    const second = await p2.client.send({
      envelopes: [envelope('back to p0', a0)],
      maxSequencingTime: soon(),
    });
    const third = await p1.client.send({ envelopes: [envelope('to self', a1)], maxSequencingTime: soon() });
    const outcomes = await Promise.all([first.outcome, second.outcome, third.outcome]);
    expect(outcomes.map((o) => o.kind)).toEqual(['delivered', 'delivered', 'delivered']);
    await waitFor(
      'deliveries',
      () => p0.events.length === 2 && p1.events.length === 2 && p2.events.length === 2,
    );

    // p0: its receipt (no envelopes, its message id), then p2's message (no message id: not its send).
    expect(p0.events.map((e) => [e.messageId, texts(e)])).toEqual([
      [first.messageId, []],
      [undefined, ['back to p0']],
    ]);
    expect(p1.events.map(texts)).toEqual([['for p1', 'for p1 and p2'], ['to self']]);
    expect(p1.events[1]!.messageId).toBe(third.messageId);
    expect(p2.events.map((e) => [e.messageId, texts(e)])).toEqual([
      [undefined, ['for p1 and p2']],
      [second.messageId, []],
    ]);
    for (const r of clients) {
      expect(r.events.map((e) => e.counter)).toEqual(r.events.map((_, i) => BigInt(i)));
      expect(r.events[0]!.previousTimestamp).toBeUndefined();
      expect(r.events[1]!.previousTimestamp).toBe(r.events[0]!.timestamp);
      expect(r.events[1]!.timestamp).toBeGreaterThan(r.events[0]!.timestamp);
    }
    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain('weft_sequencer_sends_total{result="sequenced",node="seq-a"} 3');
    expect(exposition).toContain('weft_sequencer_events_delivered_total{node="seq-a"} 6');
    // A request has one timestamp, for every member.
    expect(p1.events[0]!.timestamp).toBe(outcomes[0]!.timestamp);
    expect(p2.events[0]!.timestamp).toBe(outcomes[0]!.timestamp);
    expect(p0.events[1]!.timestamp).toBe(outcomes[1]!.timestamp);
  });

  it('sequences a resent message id once, and answers a late request with a deliver error', async () => {
    const { sync, clients } = await setup(2);
    const [p0, p1] = clients as [Recorder, Recorder];
    const a1 = sync.participants[1]!.id;
    const request = { envelopes: [envelope('once', a1)], maxSequencingTime: soon(), messageId: 'm-1' };
    const sent = await p0.client.send(request);
    await sent.outcome;
    await p0.client.send(request);
    const late = await p0.client.send({ envelopes: [envelope('late', a1)], maxSequencingTime: soon(-1000) });
    const outcome = await late.outcome;
    expect(outcome).toMatchObject({
      kind: 'error',
      code: SequencerErrors.SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED.code,
    });
    const after = await p0.client.send({ envelopes: [envelope('after', a1)], maxSequencingTime: soon() });
    await after.outcome;
    await waitFor('p1 events', () => p1.events.length === 2);
    expect(p1.events.map(texts)).toEqual([['once'], ['after']]);
    expect(p0.events.map((e) => [e.messageId, e.error?.code])).toEqual([
      ['m-1', undefined],
      [late.messageId, SequencerErrors.SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED.code],
      [after.messageId, undefined],
    ]);
  });

  it('batches concurrent sends under the high-throughput preset, sequencing a repeated message id once', async () => {
    const { sync, clients } = await setup(2, sequencerSettings({ writer: { preset: 'high-throughput' } }));
    const [p0, p1] = clients as [Recorder, Recorder];
    const to = sync.participants[1]!.id;
    const handles = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        p0.client.send({
          envelopes: [envelope(`c${i % 30}`, to)],
          maxSequencingTime: soon(),
          messageId: `c${i % 30}`,
        }),
      ),
    );
    const outcomes = await Promise.all(handles.map((h) => h.outcome));
    expect(outcomes.every((o) => o.kind === 'delivered')).toBe(true);
    expect(outcomes[35]).toEqual(outcomes[5]);
    await waitFor('thirty deliveries', () => p1.events.length === 30);
    await (await p0.client.send({ envelopes: [envelope('last', to)], maxSequencingTime: soon() })).outcome;
    await waitFor('the last', () => p1.events.length === 31);
    expect(new Set(p1.events.slice(0, 30).map((e) => texts(e)[0]))).toEqual(
      new Set(Array.from({ length: 30 }, (_, i) => `c${i}`)),
    );
    expect(p1.events.map((e) => e.counter)).toEqual(p1.events.map((_, i) => BigInt(i)));
  });

  it('resumes a subscription exactly after the last processed event', async () => {
    const { sync, node, clients } = await setup(2);
    const [p0, p1] = clients as [Recorder, Recorder];
    const a1 = sync.participants[1]!.id;
    const sendAll = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await (await p0.client.send({ envelopes: [envelope(`m${i}`, a1)], maxSequencingTime: soon() }))
          .outcome;
      }
    };
    await sendAll(0, 3);
    await waitFor('three events', () => p1.events.length === 3);
    await p1.client.close();
    await sendAll(3, 6);
    const last = p1.events[2]!;
    const resumed = await connect(sync, sync.participants[1]!, [node.endpoint], {
      resumeAfter: { counter: last.counter, timestamp: last.timestamp },
    });
    cleanups.push(() => resumed.client.close());
    await waitFor('the rest', () => resumed.events.length === 3);
    expect(resumed.events.map((e) => [e.counter, texts(e)[0]])).toEqual([
      [3n, 'm3'],
      [4n, 'm4'],
      [5n, 'm5'],
    ]);
    expect(resumed.events[0]!.previousTimestamp).toBe(last.timestamp);
  });

  it('rejects unknown members, unknown recipients and oversized requests with typed errors', async () => {
    const { sync, node, clients } = await setup(1);
    const stranger = { id: `PAR::stranger::${sync.participants[0]!.id.split('::')[2]}`, key: sync.newKey() };
    const notActive = await rejection(connect(sync, stranger, [node.endpoint]));
    expect(notActive.code).toBe(SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code);
    expect(notActive.message).toContain(stranger.id);
    const p0 = clients[0]!;
    const unknown = await rejection(
      p0.client.send({ envelopes: [envelope('x', stranger.id)], maxSequencingTime: soon() }),
    );
    expect(unknown.code).toBe(SequencerErrors.SEQUENCER_UNKNOWN_RECIPIENTS.code);
    expect(unknown.message).toContain(stranger.id);
    const huge = await rejection(
      p0.client.send({
        envelopes: [{ ...envelope('', sync.participants[0]!.id), content: new Uint8Array(11 * 1024 * 1024) }],
        maxSequencingTime: soon(),
      }),
    );
    expect(huge.code).toBe(SequencerErrors.SEQUENCER_REQUEST_TOO_LARGE.code);
    // The client is still usable after rejected sends.
    const ok = await p0.client.send({
      envelopes: [envelope('fine', sync.participants[0]!.id)],
      maxSequencingTime: soon(),
    });
    expect((await ok.outcome).kind).toBe('delivered');
  });

  it('resolves a recipient active in the topology but not registered in memory from the store, else as unknown', async () => {
    const { sync, node, topology, clients, storage } = await setup(1);
    const p0 = clients[0]!;
    const key = sync.newKey();
    const late = participantOnboarding(sync.synchronizerIdObject, 'late', key, sync.newEncryptionKey());
    // Processed outside the sequencer (no broadcast): the node's topology has it active, the node never registers it.
    await topology.process(topology.lastSequenced! + 1n, late.transactions);
    const view = sequencerTopologyOf(topology);
    await waitFor('late to be active', () => view.isMemberActive(late.id, systemClock.now()).active);
    const unknown = await rejection(
      p0.client.send({ envelopes: [envelope('lost', late.id)], maxSequencingTime: soon() }),
    );
    expect(unknown.code).toBe(SequencerErrors.SEQUENCER_UNKNOWN_RECIPIENTS.code);
    expect(unknown.message).toContain(late.id);
    // Registered by another node of the sequencer (a row in the shared store): loaded, then delivered to.
    await new SequencerStore(storage).registerMember(late.id, 0n);
    const found = await p0.client.send({
      envelopes: [envelope('found', late.id), envelope('both', late.id, sync.participants[0]!.id)],
      maxSequencingTime: soon(),
    });
    expect((await found.outcome).kind).toBe('delivered');
    const joined = await connect(sync, { id: late.id, key }, [node.endpoint]);
    cleanups.push(() => joined.client.close());
    await waitFor('late to receive', () => joined.events.length === 1);
    expect(texts(joined.events[0]!)).toEqual(['found', 'both']);
  });

  it('reports a topology store that diverged from the sequenced topology as fatal, and stops retrying', async () => {
    const sync = testSynchronizer({ seed: 'diverged', participants: 1, now: systemClock.now() });
    const storage = await backend.open();
    const fatal: WeftError[] = [];
    const logs: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => logs.push(line) });
    const { node } = await startSequencerNode(sync, {
      name: 'seq-d',
      storage,
      logger,
      onFatal: (e) => fatal.push(e),
    });
    cleanups.push(() => node.stop());
    // Another processor on the node's topology store records a different batch where the node's next one goes.
    const stray = await TopologyProcessor.create({
      storage,
      synchronizerId: sync.synchronizerIdObject,
      storeId: 'seq-d',
    });
    const other = participantOnboarding(
      sync.synchronizerIdObject,
      'other',
      sync.newKey(),
      sync.newEncryptionKey(),
    );
    await stray.process(stray.lastSequenced! + 1n, other.transactions);
    const joiner = participantOnboarding(
      sync.synchronizerIdObject,
      'joiner',
      sync.newKey(),
      sync.newEncryptionKey(),
    );
    await registerOnboardingTransactions([node.endpoint], joiner.transactions);
    await waitFor('the divergence to be reported', () => fatal.length > 0);
    expect(fatal.map((e) => e.code)).toEqual([TopologyErrors.TOPOLOGY_STORE_DIVERGED.code]);
    // The node goes on sequencing until its process stops it, but applies no topology any more and never retries.
    const p0 = await connect(sync, sync.participants[0]!, [node.endpoint]);
    cleanups.push(() => p0.client.close());
    for (const text of ['one', 'two']) {
      const sent = await p0.client.send({
        envelopes: [envelope(text, sync.participants[0]!.id)],
        maxSequencingTime: soon(),
      });
      expect((await sent.outcome).kind).toBe('delivered');
    }
    expect(fatal).toHaveLength(1);
    expect(logs.filter((l) => l.includes('retrying'))).toEqual([]);
  });

  it('onboards a participant through a topology broadcast and addresses a mediator group', async () => {
    const { sync, node, topology, clients } = await setup(1);
    const mediator = await connect(sync, sync.mediator, [node.endpoint]);
    cleanups.push(() => mediator.client.close());
    const key = sync.newKey();
    const joiner = participantOnboarding(sync.synchronizerIdObject, 'joiner', key, sync.newEncryptionKey());
    await registerOnboardingTransactions([node.endpoint], joiner.transactions);
    await waitFor('the joiner to be known', () =>
      topology.head.participants().some((p) => String(p) === joiner.id),
    );
    // The joiner gets its initial topology state from the sequencer.
    const state = await downloadTopologyStateForInit([node.endpoint], joiner.id, key);
    const own = await TopologyProcessor.create({
      storage: await backend.open(),
      synchronizerId: sync.synchronizerIdObject,
      storeId: 'joiner',
    });
    await own.importState(state);
    expect(own.head.participants().map(String)).toContain(joiner.id);
    const joined = await connect(sync, { id: joiner.id, key }, [node.endpoint]);
    cleanups.push(() => joined.client.close());
    // Every member received the onboarding broadcast, the joiner included (it is registered from that event on).
    for (const r of [clients[0]!, mediator, joined]) {
      await waitFor('the broadcast', () => r.events.length === 1);
      const [broadcast] = r.events[0]!.envelopes;
      expect(broadcast!.kind).toBe(EnvelopeKind.TOPOLOGY_BROADCAST);
      expect(TopologyTransactionsBroadcast.fromBinary(broadcast!.content).signedTransactions).toHaveLength(3);
    }
    const toMediator = await joined.client.send({
      envelopes: [
        {
          content: Buffer.from('confirm'),
          recipients: [{ recipient: { oneofKind: 'mediatorGroup', mediatorGroup: 0 } }],
          kind: EnvelopeKind.PROTOCOL,
        },
      ],
      maxSequencingTime: soon(),
    });
    await toMediator.outcome;
    await waitFor('the mediator', () => mediator.events.length === 2);
    expect(texts(mediator.events[1]!)).toEqual(['confirm']);
    expect(clients[0]!.events).toHaveLength(1);
  });

  it('ends the subscription of a member that leaves, and refuses it as a recipient', async () => {
    const { sync, clients, topology } = await setup(2);
    const [p0, p1] = clients as [Recorder, Recorder];
    const leaver = sync.participants[1]!;
    const certificate = topology.head
      .transactions('SynchronizerTrustCertificate')
      .find(
        (t) =>
          t.mapping.kind === 'SynchronizerTrustCertificate' && String(t.mapping.participant) === leaver.id,
      )!;
    const removal = SignedTopologyTransaction.sign(
      TopologyTransaction.create('Remove', 2, certificate.mapping),
      [leaver.key],
    );
    await p1.client.send({
      envelopes: [topologyBroadcastEnvelope(sync.synchronizerId, [removal.toBytes()])],
      maxSequencingTime: soon(),
    });
    await waitFor('the leaver to be cut off', () => p1.client.state === 'reconnecting');
    await waitFor('p0 to see the broadcast', () => p0.events.length === 1);
    const refused = await rejection(
      p0.client.send({ envelopes: [envelope('too late', leaver.id)], maxSequencingTime: soon() }),
    );
    expect(refused.code).toBe(SequencerErrors.SEQUENCER_UNKNOWN_RECIPIENTS.code);
    const again = await rejection(connect(sync, leaver, [p0.client.endpoint!]));
    expect(again.code).toBe(SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE.code);
    expect(again.message).toContain(leaver.id);
  });

  it('prunes acknowledged events; subscribing below the lower bound fails, counters continue', async () => {
    const { sync, node, clients } = await setup(2);
    const [p0, p1] = clients as [Recorder, Recorder];
    const a1 = sync.participants[1]!.id;
    for (let i = 0; i < 3; i++) {
      await (await p0.client.send({ envelopes: [envelope(`m${i}`, a1)], maxSequencingTime: soon() })).outcome;
    }
    await waitFor('p1', () => p1.events.length === 3);
    const notYet = await rejection(node.sequencer.prune(p1.events[1]!.timestamp + 1n));
    expect(notYet.code).toBe(SequencerErrors.SEQUENCER_PRUNING_NOT_SAFE.code);
    await p0.client.acknowledge(p0.events[2]!.timestamp);
    await p1.client.acknowledge(p1.events[1]!.timestamp);
    // Every active member holds pruning back until it acknowledges, even one that received nothing.
    expect((await node.sequencer.pruningStatus()).blockingMember).toBe(sync.mediator.id);
    const mediator = await connect(sync, sync.mediator, [node.endpoint]);
    cleanups.push(() => mediator.client.close());
    await mediator.client.acknowledge(p0.events[2]!.timestamp);
    const status = await node.sequencer.pruningStatus();
    expect(status.safeToPrune).toBe(p1.events[1]!.timestamp + 1n);
    await node.sequencer.prune(status.safeToPrune!);
    await p1.client.close();
    const pruned = await rejection(connect(sync, sync.participants[1]!, [node.endpoint]));
    expect(pruned.code).toBe(SequencerErrors.SEQUENCER_SUBSCRIPTION_PRUNED.code);
    const resumed = await connect(sync, sync.participants[1]!, [node.endpoint], {
      resumeAfter: { counter: 1n, timestamp: p1.events[1]!.timestamp },
    });
    cleanups.push(() => resumed.client.close());
    await (await p0.client.send({ envelopes: [envelope('m3', a1)], maxSequencingTime: soon() })).outcome;
    await waitFor('after pruning', () => resumed.events.length === 2);
    expect(resumed.events.map((e) => [e.counter, texts(e)[0]])).toEqual([
      [2n, 'm2'],
      [3n, 'm3'],
    ]);
  });
});

describeBackends('sequencer node names in a shared ordering storage', (backend) => {
  it('belong to the sequencer that used them first', async () => {
    const store = new SequencerStore(await backend.open());
    await store.migrate();
    await store.claimNodeName('seq-a', 'SEQ::a::1220aa');
    await store.claimNodeName('seq-b', 'SEQ::b::1220bb');
    // A restart, or another node of the same sequencer (HA) under a name of its own.
    await store.claimNodeName('seq-a', 'SEQ::a::1220aa');
    const taken = await rejection(store.claimNodeName('seq-a', 'SEQ::b::1220bb'));
    expect(taken.code).toBe(SequencerErrors.SEQUENCER_NODE_NAME_TAKEN.code);
    expect(taken.message).toBe(
      'node name seq-a belongs to sequencer SEQ::a::1220aa in the ordering storage, not to SEQ::b::1220bb; give this node another name',
    );
  });

  it('are not taken back by a writer rejoining after a live node of the same name took its slot', async () => {
    const store = new SequencerStore(await backend.open());
    await store.migrate();
    const old = await store.acquireSlot('seq-a', 'old', 4, 0n, true);
    // A node started under the same name took the slot over while the old writer stalled.
    expect(await store.acquireSlot('seq-a', 'new', 4, 0n, true)).toBe(old);
    await store.recoverAndGoOnline(old, 'new', 1000n);
    const refused = await rejection(store.acquireSlot('seq-a', 'old', 4, 0n, false));
    expect(refused.code).toBe(SequencerErrors.SEQUENCER_NODE_NAME_IN_USE.code);
    // Once that node is offline, the name may rejoin (into a free slot, as rejoining writers do).
    await store.goOffline(old, 'new');
    expect(await store.acquireSlot('seq-a', 'old', 4, 0n, false)).toBe(old + 1);
  });
});

describe('sequencer settings', () => {
  it('use the presets of the writer', () => {
    expect(sequencerSettings({ writer: { preset: 'high-throughput' } }).writer.preset).toBe(
      'high-throughput',
    );
    expect(() => sequencerSettings({ writer: { preset: 'fast' } })).toThrow(/sequencer.writer.preset/);
  });

  it('take an ordering storage shaped like the node storage, none by default', () => {
    expect(sequencerSettings().orderingStorage).toBeUndefined();
    const shared = { type: 'postgres', url: 'postgres://db/weft', schema: 'ordering', 'pool-size': 4 };
    expect(sequencerSettings({ 'ordering-storage': shared }).orderingStorage).toEqual({
      type: 'postgres',
      url: 'postgres://db/weft',
      schema: 'ordering',
      poolSize: 4,
    });
    expect(() => sequencerSettings({ 'ordering-storage': { type: 'mysql' } })).toThrow(
      /sequencer.ordering-storage.type/,
    );
    expect(() =>
      sequencerSettings({
        'ordering-storage': { type: 'postgres', url: 'postgres://db/weft', schema: 'a-b' },
      }),
    ).toThrow(/sequencer.ordering-storage.schema/);
  });
});
