import { expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import * as pb from '../generated/weft/topology/v1/topology.js';
import type { ParticipantId } from '../identity/index.js';
import { createLogger } from '../observability/index.js';
import type { Storage } from '../storage/index.js';
import { describeBackend, describeBackends } from '../storage/testing.js';
import type { Clock } from '../time/index.js';
import { TopologyErrors } from './errors.js';
import { TopologyManager } from './manager.js';
import { TopologyProcessor } from './processor.js';
import { onboardingTransactions, signed, type TestNode, testSynchronizer } from './testing.js';

const GENESIS = 1_000_000n;
const sync = testSynchronizer({
  seed: 'processor',
  owners: 3,
  ownerThreshold: 2,
  parameters: { onboardingRestriction: 'RestrictedOpen' },
});
const [o1, o2] = sync.owners;
const participants = ['p1', 'p2'].map((n) => sync.participant(n));

/** Genesis, then per participant: onboarding rejected, permission granted, certificate accepted. */
function batches(): [bigint, Uint8Array[]][] {
  const out: [bigint, Uint8Array[]][] = [[GENESIS, [...sync.genesis.batch]]];
  let t = GENESIS;
  for (const p of participants) {
    const [nsd, otk, cert] = onboardingTransactions(p, sync.synchronizerId);
    const grant = signed(
      {
        kind: 'ParticipantSynchronizerPermission',
        synchronizerId: sync.synchronizerId,
        participant: p.id,
        permission: 'Submission',
      },
      [o1!, o2!],
    );
    t += 1_000_000n;
    out.push([t, [nsd!, otk!, cert!]]);
    t += 1_000_000n;
    out.push([t, [grant, cert!]]);
  }
  return out;
}

async function feed(processor: TopologyProcessor, list = batches()): Promise<void> {
  for (const [t, txs] of list) await processor.process(t, txs);
}

function active(processor: TopologyProcessor, p: TestNode<ParticipantId>, t: bigint): boolean {
  return processor.isParticipantActive(p.id, t).active;
}

describeBackends('topology processor', (backend) => {
  const open = (storage: Storage, storeId?: string) =>
    TopologyProcessor.create({ storage, synchronizerId: sync.synchronizerId, ...(storeId && { storeId }) });

  it('persists every outcome and reloads the same state', async () => {
    const config = backend.freshConfig();
    const processor = await open(await backend.open(config));
    await feed(processor);
    const last = processor.lastEffective! + 1n;
    expect(participants.map((p) => active(processor, p, last))).toEqual([true, true]);

    const reopened = await open(await backend.open(config));
    expect(reopened.lastSequenced).toBe(processor.lastSequenced);
    expect(reopened.lastEffective).toBe(processor.lastEffective);
    expect(Buffer.from(reopened.exportState()).equals(processor.exportState())).toBe(true);
    expect(participants.map((p) => active(reopened, p, last))).toEqual([true, true]);
    expect(reopened.head.proposals()).toEqual([]);
    expect(reopened.snapshot(last).synchronizerOwners()?.threshold).toBe(2);

    // A redelivered batch returns what was decided the first time, rejection included.
    const [t, txs] = batches()[1]!;
    const replay = await reopened.process(t, txs);
    expect(replay.replayed).toBe(true);
    expect(replay.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'rejected']);
    expect(replay.results[2]!.error?.code).toBe('TOPOLOGY_ONBOARDING_RESTRICTED');
    expect(replay.results[2]!.error?.message).toContain(String(participants[0]!.id));
    await expect(reopened.process(GENESIS - 1n, txs)).rejects.toSatisfy(
      (e) => isWeftError(e) && e.code === 'TOPOLOGY_OUT_OF_ORDER',
    );
  });

  it('logs each rejection with its code', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ destination: { write: (line) => lines.push(JSON.parse(line)) } });
    const processor = await TopologyProcessor.create({
      storage: await backend.open(),
      synchronizerId: sync.synchronizerId,
      logger,
    });
    await feed(processor, batches().slice(0, 2));
    const rejected = lines.filter((l) => l.code === 'TOPOLOGY_ONBOARDING_RESTRICTED');
    expect(rejected).toHaveLength(1);
    expect(String(rejected[0]!.msg)).toContain(String(participants[0]!.id));
  });

  it('revokes a participant from the effective time of the revocation, also after a restart', async () => {
    const config = backend.freshConfig();
    const processor = await open(await backend.open(config));
    await feed(processor);
    const [p1] = participants;
    const revoke = new TopologyManager(processor).revokeParticipant(p1!.id, { signWith: [o1!, o2!] });
    const sequenced = processor.lastSequenced! + 1_000_000n;
    const { effective, results } = await processor.process(sequenced, [revoke.toBytes()]);
    expect(results[0]!.outcome).toBe('accepted');
    const reopened = await open(await backend.open(config));
    expect(active(reopened, p1!, effective)).toBe(true);
    expect(active(reopened, p1!, effective + 1n)).toBe(false);
    expect(active(reopened, participants[1]!, effective + 1n)).toBe(true);
  });

  it('reads "now" after the last batch when the clock is behind it (static time), at the clock otherwise', async () => {
    const processor = await open(await backend.open(backend.freshConfig()));
    expect(processor.approximateTime(5n)).toBe(5n);
    await feed(processor);
    const last = processor.lastSequenced!;
    const [p1, p2] = participants;
    // A clock standing before every batch still sees what took effect up to the last one.
    expect(processor.approximateTime(0n)).toBe(last + 1n);
    expect(processor.currentSnapshot(0n).isParticipantActive(p1!.id, last + 1n).active).toBe(true);
    // p2's permission, sequenced last, takes effect after the topology change delay: not yet.
    expect(processor.currentSnapshot(0n).isParticipantActive(p2!.id, last + 1n).active).toBe(false);
    expect(processor.approximateTime(last + 300_000n)).toBe(last + 300_000n);
    expect(
      processor.currentSnapshot(last + 300_000n).isParticipantActive(p2!.id, last + 300_000n).active,
    ).toBe(true);
  });

  it('keeps stores apart and gives independent nodes identical state', async () => {
    const storage = await backend.open();
    const a = await open(storage, 'node_a');
    const b = await open(storage, 'node_b');
    await feed(a);
    await feed(b);
    expect(Buffer.from(a.exportState()).equals(b.exportState())).toBe(true);
    for (let t = GENESIS; t <= a.lastEffective! + 1n; t += 250_000n) {
      expect(a.snapshot(t).activeMembers(t).map(String)).toEqual(b.snapshot(t).activeMembers(t).map(String));
    }
    // A third store in the same database is still empty.
    expect((await open(storage, 'node_c')).lastSequenced).toBeUndefined();
  });

  it('lets nodes that process the same batches share one store, and detects a node that diverges', async () => {
    const config = backend.freshConfig();
    const a = await open(await backend.open(config));
    const b = await open(await backend.open(config));
    const stray = await open(await backend.open(config));
    const list = batches();
    await feed(a, list);
    // b lags behind and then writes the same records again; the watermark stays where a left it.
    await feed(b, list.slice(0, 2));
    const restarted = await open(await backend.open(config));
    expect(restarted.lastSequenced).toBe(a.lastSequenced);
    await feed(b, list.slice(2));
    expect(Buffer.from(b.exportState()).equals(a.exportState())).toBe(true);
    expect(Buffer.from(restarted.exportState()).equals(a.exportState())).toBe(true);

    await expect(stray.process(GENESIS, [...sync.genesis.batch].reverse())).rejects.toSatisfy(
      (e) => isWeftError(e) && e.code === 'TOPOLOGY_STORE_DIVERGED',
    );
    expect(stray.lastSequenced).toBeUndefined();
    expect(Buffer.from((await open(await backend.open(config))).exportState()).equals(a.exportState())).toBe(
      true,
    );
  });

  it('lets a node load the shared store while another appends the genesis', async () => {
    const config = backend.freshConfig();
    const a = await open(await backend.open(config));
    const list = batches();
    const [genesisTs, genesis] = list[0]!;
    // b reads the watermark before a's genesis is stored and the rest of the store after it (sequencer nodes
    // starting together), so it finds the store empty and processes the genesis itself, like a's.
    const storage = await backend.open(config);
    let appendGenesis: (() => Promise<unknown>) | undefined = () => a.process(genesisTs, genesis);
    const b = await open(
      new Proxy(storage, {
        get(target, name) {
          const value = Reflect.get(target, name, target);
          if (name !== 'queryOne') return typeof value === 'function' ? value.bind(target) : value;
          return async (sql: string, params?: readonly unknown[]) => {
            const row = await target.queryOne(sql, params as never);
            const between = /topology_watermarks/.test(sql) ? appendGenesis : undefined;
            appendGenesis = undefined;
            await between?.();
            return row;
          };
        },
      }),
    );
    expect(appendGenesis).toBeUndefined();
    expect(b.lastSequenced).toBeUndefined();
    await b.process(genesisTs, genesis);
    // Both continue with the same records: neither finds the other's rows different (TOPOLOGY_STORE_DIVERGED).
    await feed(a, list.slice(1));
    await feed(b, list.slice(1));
    expect(Buffer.from(b.exportState()).equals(a.exportState())).toBe(true);
    const reloaded = await open(await backend.open(config));
    expect(Buffer.from(reloaded.exportState()).equals(a.exportState())).toBe(true);
    const t = a.lastEffective! + 1n;
    expect(participants.map((p) => active(b, p, t))).toEqual([true, true]);
  });

  it('onboards a new node from an exported snapshot, and refuses an altered one', async () => {
    const source = await open(await backend.open());
    await feed(source);
    // A batch with nothing but a rejection still counts as processed.
    const stranger = sync.participant('stranger');
    const [, , cert] = onboardingTransactions(stranger, sync.synchronizerId);
    const rejectedAt = source.lastSequenced! + 1_000_000n;
    expect((await source.process(rejectedAt, [cert!])).results[0]!.outcome).toBe('rejected');
    const exported = source.exportState();

    const target = await open(await backend.open());
    await target.importState(exported);
    expect(target.lastSequenced).toBe(rejectedAt);
    expect(Buffer.from(target.exportState()).equals(exported)).toBe(true);
    const t = source.lastEffective! + 1n;
    expect(participants.map((p) => active(target, p, t))).toEqual([true, true]);
    await expect(target.importState(exported)).rejects.toThrow(/not empty/);

    const altered = pb.TopologyStateSnapshot.fromBinary(exported);
    altered.transactions[altered.transactions.length - 1]!.validFrom += 1n;
    const victim = await open(await backend.open());
    await expect(victim.importState(pb.TopologyStateSnapshot.toBinary(altered))).rejects.toSatisfy(
      (e) =>
        isWeftError(e) && e.code === 'TOPOLOGY_SNAPSHOT_MISMATCH' && /does not reproduce/.test(e.message),
    );
    expect(victim.lastSequenced).toBeUndefined();
    expect(victim.history).toEqual([]);
  });

  it('leaves its state unchanged when a batch cannot be stored', async () => {
    const storage = await backend.open();
    const processor = await open(storage);
    const list = batches();
    await feed(processor, list.slice(0, 2));
    const before = processor.exportState();
    const head = processor.head.transactions().length;
    await storage.close();
    const [t, txs] = list[2]!;
    await expect(processor.process(t, txs)).rejects.toSatisfy((e) => isWeftError(e));
    expect(Buffer.from(processor.exportState()).equals(before)).toBe(true);
    expect(processor.head.transactions()).toHaveLength(head);
    expect(processor.head.participantSynchronizerPermission(participants[0]!.id)).toBeUndefined();
    expect(processor.lastSequenced).toBe(list[1]![0]);
  });

  it('serializes concurrent batches in call order', async () => {
    const processor = await open(await backend.open());
    const list = batches();
    const results = await Promise.all(list.map(([t, txs]) => processor.process(t, txs)));
    expect(results.map((r) => r.sequenced)).toEqual(list.map(([t]) => t));
    expect(results[2]!.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted']);
  });
});

/** A clock the test moves by hand: timers fire when the time passes them. */
function handClock(start: bigint): Clock & { advance(ms: number): void } {
  let now = start;
  let timers: { at: bigint; fn: () => void }[] = [];
  return {
    now: () => now,
    schedule(ms, fn) {
      const timer = { at: now + BigInt(ms) * 1000n, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    advance(ms) {
      now += BigInt(ms) * 1000n;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

describeBackend('sqlite', 'waiting until a topology change is in force', (backend) => {
  const start = async (clock: Clock) => {
    const processor = await TopologyProcessor.create({
      storage: await backend.open(),
      synchronizerId: sync.synchronizerId,
      clock,
    });
    const list = batches();
    await feed(processor, list.slice(0, 1));
    return { processor, list };
  };
  const settled = async (p: Promise<unknown>) => {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    await new Promise((r) => setImmediate(r));
    return done;
  };

  it('resolves when the processor processes the batch and the clock passed its effective time', async () => {
    const t1 = GENESIS + 1_000_000n;
    const clock = handClock(t1);
    const { processor, list } = await start(clock);
    const waiting = processor.whenEffective(t1, 10_000);
    expect(await settled(waiting)).toBe(false);
    await processor.process(t1, list[1]![1]);
    // Processed, not yet effective: the default topology change delay is 250 ms.
    expect(await settled(waiting)).toBe(false);
    clock.advance(251);
    const result = await waiting;
    expect(result.sequenced).toBe(t1);
    expect(result.effective).toBe(t1 + 250_000n);
    expect(result.results.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'rejected']);
    expect(result.replayed).toBe(false);
    // A caller that learns the time after the processing is answered at once.
    expect(await processor.whenEffective(t1, 10_000)).toBe(result);
  });

  it('fails with TOPOLOGY_CHANGE_LOST when the processor goes past the time without a batch there', async () => {
    const clock = handClock(GENESIS);
    const { processor, list } = await start(clock);
    const dropped = GENESIS + 500_000n;
    const waiting = processor.whenEffective(dropped, 10_000);
    await processor.process(GENESIS + 1_000_000n, list[1]![1]);
    await expect(waiting).rejects.toSatisfy((e) => isWeftError(e, TopologyErrors.TOPOLOGY_CHANGE_LOST));
    await expect(processor.whenEffective(dropped, 10_000)).rejects.toSatisfy((e) =>
      isWeftError(e, TopologyErrors.TOPOLOGY_CHANGE_LOST),
    );
  });

  it('times out with TOPOLOGY_CHANGE_TIMEOUT, and bounds the callers waiting', async () => {
    const clock = handClock(GENESIS);
    const { processor } = await start(clock);
    const waiting = processor.whenEffective(GENESIS + 1_000_000n, 1000);
    expect(await settled(waiting)).toBe(false);
    clock.advance(1000);
    await expect(waiting).rejects.toSatisfy((e) => isWeftError(e, TopologyErrors.TOPOLOGY_CHANGE_TIMEOUT));
    const many = Array.from({ length: 1024 }, (_, i) =>
      processor.whenEffective(GENESIS + BigInt(i + 1), 1000).catch((e: unknown) => e),
    );
    await expect(processor.whenEffective(GENESIS + 2_000_000n, 1000)).rejects.toSatisfy((e) =>
      isWeftError(e, TopologyErrors.TOPOLOGY_TOO_MANY_WAITERS),
    );
    clock.advance(1000);
    expect(
      (await Promise.all(many)).every((e) => isWeftError(e, TopologyErrors.TOPOLOGY_CHANGE_TIMEOUT)),
    ).toBe(true);
  });
});
