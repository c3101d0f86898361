import { readFileSync } from 'node:fs';
import { DeterministicRandom } from '../crypto/index.js';
import { type AggregationFactory, MediatorNode } from '../mediator/index.js';
import { createLogger } from '../observability/index.js';
import { type Committed, ParticipantNode } from '../participant/index.js';
import { Sequencer, SequencerPublicApi, sequencerSettings, sequencerTopologyOf } from '../sequencer/index.js';
import { type TestSynchronizer, testSynchronizer } from '../sequencer/testing.js';
import { openStorage, type Storage } from '../storage/index.js';
import { ManualClock } from '../time/index.js';
import { TopologyProcessor } from '../topology/index.js';
import { SimulatedNetwork } from './network.js';
import type { SimRandom } from './random.js';
import { FaultyStorage } from './storage.js';
import { Trace } from './trace.js';

/** The ping DAR, relative to the repository (Canton's admin workflow; resources/admin-workflow/README.md). */
const PING_DAR = new URL('../../resources/admin-workflow/ping-3.4.0.dar', import.meta.url);

/** Where the simulated sequencer answers; a loopback URL so that the client accepts plaintext. */
export const SEQUENCER_URL = 'http://127.0.0.1:4001';

/** 2026-01-01T00:00:00Z: every run starts at the same simulated time. */
const START = 1_767_225_600_000_000n;

/** Macrotask turns without progress after which the process is taken to wait only on the simulated clock. */
const QUIET_TURNS = 4;

export interface WorldOptions {
  readonly seed: number;
  readonly participants: number;
  readonly maxDelayMs: number;
  readonly random: SimRandom;
  readonly aggregation?: AggregationFactory;
}

/** A node the simulation can crash and restart on the same storage. */
export interface SimParticipant {
  readonly name: string;
  readonly storage: FaultyStorage;
  /** Undefined while crashed. */
  node: ParticipantNode | undefined;
  /** Restarts so far (each incarnation draws from its own random stream). */
  incarnation: number;
  /** A start is under way: a second one would run two nodes on one storage. */
  starting: boolean;
}

/**
 * The whole network in this process: a sequencer, a mediator and participants on the simulated network, the
 * manual clock, and in-memory SQLite per node behind {@link FaultyStorage}. Nothing runs by itself: {@link drive}
 * runs the event loop until it is quiet, then moves the clock to the next timer.
 */
export class World {
  readonly clock = new ManualClock(START);
  readonly trace: Trace;
  readonly network: SimulatedNetwork;
  readonly sync: TestSynchronizer;
  readonly participants: SimParticipant[] = [];
  readonly #logger = createLogger({ level: 'silent' });
  readonly #databases: Storage[] = [];
  readonly #pingDar = readFileSync(PING_DAR);
  #sequencer: Sequencer | undefined;
  #mediator: MediatorNode | undefined;
  #mediatorStorage: FaultyStorage | undefined;
  #sequencerStorage: FaultyStorage | undefined;
  #mediatorIncarnation = 0;
  #mediatorStarting = false;
  readonly #onStarted: ((p: SimParticipant, node: ParticipantNode) => void)[] = [];
  /** Storage writes so far: progress, next to the network's. */
  #writes = 0;
  /** Node restarts under way (a restart runs while the clock moves). */
  readonly restarts = new Set<Promise<void>>();

  constructor(readonly o: WorldOptions) {
    this.trace = new Trace(() => this.clock.now());
    this.network = new SimulatedNetwork(this.clock, o.random, this.trace, { maxDelayMs: o.maxDelayMs });
    this.sync = testSynchronizer({ seed: `simulation-${o.seed}`, participants: 0, now: START });
  }

  /** Storage writes of the mediator and the participants so far. */
  get writes(): number {
    return this.#writes;
  }

  get mediator(): MediatorNode | undefined {
    return this.#mediator;
  }

  get mediatorStorage(): FaultyStorage {
    return this.#mediatorStorage!;
  }

  get sequencerStorage(): FaultyStorage {
    return this.#sequencerStorage!;
  }

  /** Starts the sequencer, the mediator and the participants, and connects them. */
  async start(): Promise<void> {
    const storage = await this.#database();
    const topology = await TopologyProcessor.create({
      storage,
      synchronizerId: this.sync.synchronizerIdObject,
      storeId: 'sequencer',
    });
    await topology.process(this.sync.genesisTs, this.sync.genesis);
    // The sequencer survives a failed write (the batch's senders resend), so it is never restarted.
    this.#sequencerStorage = this.#faulty(storage);
    const sequencerTopology = sequencerTopologyOf(topology);
    const logger = this.#logger;
    this.#sequencer = await Sequencer.start({
      nodeName: 'sequencer',
      synchronizerId: this.sync.synchronizerId,
      sequencerId: this.sync.sequencer.id,
      signingKey: this.sync.sequencer.key,
      storage: this.#sequencerStorage,
      topology: sequencerTopology,
      // One sequencer node: nobody else's watermark to poll for, so poll and keep alive rarely (fewer clock steps).
      settings: sequencerSettings({
        'high-availability': { 'poll-interval-ms': 1000, 'keep-alive-interval-ms': 200 },
      }),
      clock: this.clock,
      random: this.#random('sequencer'),
      logger,
    });
    this.network.serve(
      SEQUENCER_URL,
      new SequencerPublicApi({
        sequencer: this.#sequencer,
        topology: sequencerTopology,
        synchronizerId: this.sync.synchronizerId,
        sequencerId: this.sync.sequencer.id,
        clock: this.clock,
        logger,
      }),
    );
    const mediatorDb = await this.#database();
    this.#mediatorStorage = this.#faulty(mediatorDb);
    const mediatorTopology = await TopologyProcessor.create({
      storage: mediatorDb,
      synchronizerId: this.sync.synchronizerIdObject,
      storeId: 'mediator',
    });
    await mediatorTopology.process(this.sync.genesisTs, this.sync.genesis);
    await this.drive(this.startMediator());
    for (let i = 0; i < this.o.participants; i++) {
      const p: SimParticipant = {
        name: `p${i}`,
        storage: this.#faulty(await this.#database()),
        starting: false,
        node: undefined,
        incarnation: 0,
      };
      this.participants.push(p);
      await this.drive(this.startParticipant(p));
    }
  }

  /** Calls `listener` whenever a participant (re)started and connected. */
  onParticipantStarted(listener: (p: SimParticipant, node: ParticipantNode) => void): void {
    this.#onStarted.push(listener);
  }

  /** Starts whatever is down (a restart may have failed on a storage fault). */
  async ensureUp(): Promise<void> {
    while (this.restarts.size > 0) await this.drive(Promise.all([...this.restarts]));
    if (!this.#mediator) await this.drive(this.startMediator());
    for (const p of this.participants) if (!p.node) await this.drive(this.startParticipant(p));
  }

  /** Starts the mediator on its storage (again, after a crash), unless it is up or starting. */
  async startMediator(): Promise<void> {
    if (this.#mediator || this.#mediatorStarting) return;
    this.#mediatorStarting = true;
    try {
      await this.#startMediator();
    } finally {
      this.#mediatorStarting = false;
    }
  }

  async #startMediator(): Promise<void> {
    const storage = this.#mediatorStorage!;
    this.#mediator = await MediatorNode.start({
      mediatorId: this.sync.mediator.id,
      synchronizerId: this.sync.synchronizerId,
      signingKey: this.sync.mediator.key,
      storage,
      topology: await TopologyProcessor.create({
        storage,
        synchronizerId: this.sync.synchronizerIdObject,
        storeId: 'mediator',
      }),
      sequencer: { endpoints: [SEQUENCER_URL], dial: this.network.dialer('mediator'), maxBackoffMs: 200 },
      clock: this.clock,
      random: this.#random(`mediator/${this.#mediatorIncarnation++}`),
      logger: this.#logger,
      ...(this.o.aggregation ? { aggregation: this.o.aggregation } : {}),
    });
    this.trace.add('mediator started');
  }

  /** Kills the mediator as if its process died; its storage stays. */
  async crashMediator(): Promise<void> {
    const mediator = this.#mediator;
    if (!mediator) return;
    this.#mediator = undefined;
    this.trace.add('mediator crashed');
    await mediator.kill();
  }

  /** Starts (or restarts) a participant on its storage and connects it, unless it is up or starting. */
  async startParticipant(p: SimParticipant): Promise<void> {
    if (p.node || p.starting) return;
    p.starting = true;
    try {
      await this.#startParticipant(p);
    } finally {
      p.starting = false;
    }
  }

  async #startParticipant(p: SimParticipant): Promise<void> {
    const node = await ParticipantNode.start({
      name: p.name,
      storage: p.storage,
      logger: this.#logger,
      adminWorkflowDar: this.#pingDar,
      clock: this.clock,
      random: this.#random(`${p.name}/${p.incarnation++}`),
    });
    await node.connect({
      synchronizerId: this.sync.synchronizerId,
      endpoints: [SEQUENCER_URL],
      transport: { dial: this.network.dialer(p.name) },
      maxBackoffMs: 200,
    });
    p.node = node;
    node.onCommitted((c: Committed) => this.trace.add(`${p.name} committed ${c.updateId}`));
    this.trace.add(`${p.name} started`);
    for (const listener of this.#onStarted) listener(p, node);
  }

  /** Kills a participant as if its process died; its storage stays. */
  async crashParticipant(p: SimParticipant): Promise<void> {
    const node = p.node;
    if (!node) return;
    p.node = undefined;
    this.trace.add(`${p.name} crashed`);
    await node.kill();
  }

  /** Runs `task` in the background (a restart) while the simulation goes on. */
  background(task: Promise<void>): void {
    const tracked = task.catch((e: unknown) => {
      this.trace.add(`background task failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    this.restarts.add(tracked);
    void tracked.finally(() => this.restarts.delete(tracked));
  }

  /**
   * Runs the event loop and the clock until `until` settles (or, for a number, that many simulated ms pass):
   * whenever the process has nothing left to do but wait for a timer, the clock jumps to the next one.
   */
  async drive<T>(until: Promise<T> | number, limitMs = 600_000): Promise<T | undefined> {
    let settled = false;
    let outcome: { value: T } | { error: unknown } | undefined;
    const end = this.clock.now() + BigInt(typeof until === 'number' ? until : limitMs) * 1000n;
    if (typeof until !== 'number') {
      until.then(
        (value) => {
          settled = true;
          outcome = { value };
        },
        (error: unknown) => {
          settled = true;
          outcome = { error };
        },
      );
    }
    await this.#run(() => settled, end);
    if (typeof until === 'number') return undefined;
    if (!outcome) throw new Error(`not settled within ${limitMs} simulated ms`);
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  /** Runs until `done()` holds when the process is quiet; false when `limitMs` of simulated time passed first. */
  async driveUntil(done: () => boolean, limitMs: number): Promise<boolean> {
    return this.#run(done, this.clock.now() + BigInt(limitMs) * 1000n);
  }

  async #run(done: () => boolean, end: bigint): Promise<boolean> {
    for (;;) {
      await this.#quiesce();
      if (done()) return true;
      const next = this.clock.nextDue();
      if (next === undefined || next > end) {
        this.clock.advanceTo(end);
        await this.#quiesce();
        return done();
      }
      this.clock.advanceTo(next);
    }
  }

  /** Stops every node and closes the databases. */
  async close(): Promise<void> {
    for (const p of this.participants) await this.drive(p.node?.stop() ?? Promise.resolve(), 60_000);
    await this.drive(this.#mediator?.stop() ?? Promise.resolve(), 60_000);
    await this.drive(this.#sequencer?.stop(true) ?? Promise.resolve(), 60_000);
    for (const db of this.#databases) await db.close();
  }

  /** Lets microtasks and immediates run until a few macrotask turns pass without network or storage activity. */
  async #quiesce(): Promise<void> {
    let last = -1;
    for (let quiet = 0; quiet < QUIET_TURNS; ) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const progress = this.network.activity + this.#writes;
      quiet = progress === last ? quiet + 1 : 0;
      last = progress;
    }
  }

  async #database(): Promise<Storage> {
    const db = await openStorage({ kind: 'sqlite', path: ':memory:' }, this.clock);
    this.#databases.push(db);
    return db;
  }

  #faulty(db: Storage): FaultyStorage {
    return new FaultyStorage(db, () => this.#writes++);
  }

  #random(stream: string): DeterministicRandom {
    return new DeterministicRandom(`simulation-${this.o.seed}/${stream}`);
  }
}
