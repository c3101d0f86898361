import { isWeftError } from '../errors/index.js';
import type { AggregationFactory } from '../mediator/index.js';
import { ParticipantErrors, type ParticipantNode, PING_TEMPLATE } from '../participant/index.js';
import { checkInvariants, type Violation } from './invariants.js';
import { SimRandom } from './random.js';
import { type SimParticipant, World } from './world.js';

export interface FaultSettings {
  /** Participant and mediator crashes (each followed by a restart on the same storage) per run, at most. */
  readonly crashes: number;
  /** Network cuts (a node's connections break; its client reconnects) per run, at most. */
  readonly cuts: number;
  /** Failing storage writes (the node crashes and restarts) per run, at most. */
  readonly storageFaults: number;
}

export interface SimulationOptions {
  readonly seed: number;
  /** 2 to 8; default 3. */
  readonly participants?: number;
  /** Pings submitted during the run, 0 to 1000; default 4. */
  readonly pings?: number;
  /** Chance that a responder also answers a ping itself, racing its ping service for the same contract. */
  readonly raceChance?: number;
  /** Largest delay of a message on the network; default 20 ms. */
  readonly maxDelayMs?: number;
  /** Default: up to two of each. */
  readonly faults?: FaultSettings;
  /** Test builds only: a mediator with a planted bug (src/simulation/planted.ts). */
  readonly aggregation?: AggregationFactory;
}

export interface SimulationResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  /** SHA-256 of the event trace: the same seed gives the same hash. */
  readonly traceHash: string;
  readonly trace: readonly string[];
  readonly stats: {
    readonly submitted: number;
    readonly succeeded: number;
    readonly failed: number;
    /** Refused by the submitting participant before anything was sent. */
    readonly rejected: number;
    readonly unsettled: number;
    readonly simulatedMs: number;
  };
}

/** The span of simulated time in which the workload submits and faults strike. */
const WORKLOAD_MS = 2_000;
/** How long the network gets after the workload to finish what is in flight, at most. */
const SETTLE_LIMIT_MS = 60_000;
/** Rounds of resubmitting commands that have no completion. */
const SETTLE_ROUNDS = 3;
/** How long the network must stay idle to count as settled (a commit may still trigger a response). */
const IDLE_MS = 1_000;

interface Command {
  readonly id: string;
  readonly submitter: SimParticipant;
  readonly commands: unknown[];
  readonly actAs: string[];
  /**
   * Set once the command has an answer: a completion, or a refusal before it was sent (`rejected`). A crash or
   * a retryable refusal leaves it open, and the client retries.
   */
  outcome: 'succeeded' | 'failed' | 'rejected' | undefined;
  attempts: number;
  /** The node the last attempt went to, while that attempt has not returned. */
  inFlightOn: ParticipantNode | undefined;
}

/**
 * One seeded run: builds the network, runs a workload of pings (whose responders race to answer some of them)
 * while injecting message delays and reorderings, crashes and restarts, connection cuts and storage faults, lets
 * the network settle, and checks the invariants. Runs of the same options give the same trace.
 */
export async function runSimulation(o: SimulationOptions): Promise<SimulationResult> {
  const random = new SimRandom(`simulation-${o.seed}/decisions`);
  const faults = o.faults ?? { crashes: 2, cuts: 2, storageFaults: 2 };
  const participants = o.participants ?? 3;
  const pings = o.pings ?? 4;
  // A run is meant to be small: thousands of them run in a few minutes.
  if (!Number.isInteger(participants) || participants < 2 || participants > 8)
    throw new RangeError(`a simulation runs 2 to 8 participants, not ${participants}`);
  if (!Number.isInteger(pings) || pings < 0 || pings > 1000)
    throw new RangeError(`a simulation submits 0 to 1000 pings, not ${pings}`);
  const world = new World({
    seed: o.seed,
    participants,
    maxDelayMs: o.maxDelayMs ?? 20,
    random,
    ...(o.aggregation ? { aggregation: o.aggregation } : {}),
  });
  const started = world.clock.now();
  const commands: Command[] = [];
  const violations: Violation[] = [];
  const submit = (c: Command) => {
    const node = c.submitter.node;
    if (!node || c.outcome || c.inFlightOn === node) return;
    c.attempts++;
    c.inFlightOn = node;
    world.trace.add(`${c.submitter.name} submits ${c.id} (attempt ${c.attempts})`);
    node.submit({ commands: c.commands, actAs: c.actAs, commandId: c.id }).then(
      (completion) => {
        if (c.inFlightOn === node) c.inFlightOn = undefined;
        if (c.outcome) return;
        c.outcome = completion.status;
        world.trace.add(
          `${c.submitter.name} completed ${c.id}: ${completion.status} ${completion.code ?? ''} ${completion.updateId ?? ''}`,
        );
      },
      (e: unknown) => {
        if (c.inFlightOn === node) c.inFlightOn = undefined;
        world.trace.add(
          `${c.submitter.name} submission ${c.id} failed: ${(e as { code?: string }).code ?? e}`,
        );
        // Refused for good (e.g. its contract is consumed already): no transaction to look for. A duplicate has a
        // completion, which the client looks up; the rest (a crash, a retryable error) it tries again.
        if (
          !c.outcome &&
          isWeftError(e) &&
          !e.retryable &&
          e.code !== ParticipantErrors.DUPLICATE_COMMAND.code &&
          e.code !== ParticipantErrors.NOT_CONNECTED_TO_SYNCHRONIZER.code
        )
          c.outcome = 'rejected';
      },
    );
  };
  try {
    // Set up before the nodes start, so that a commit seen while connecting is watched too.
    raceResponses(world, random, o.raceChance ?? 0.5, commands, submit);
    await world.start();
    const admins = world.participants.map((p) => String(p.node!.adminParty));

    // ---- workload -----------------------------------------------------------------------------------------
    for (let i = 0; i < pings; i++) {
      const from = random.int(world.participants.length);
      const to = (from + 1 + random.int(world.participants.length - 1)) % world.participants.length;
      const command: Command = {
        id: `ping-${i}`,
        submitter: world.participants[from]!,
        commands: [
          {
            CreateCommand: {
              templateId: PING_TEMPLATE,
              createArguments: { id: `sim-${o.seed}-${i}`, initiator: admins[from], responder: admins[to] },
            },
          },
        ],
        actAs: [admins[from]!],
        outcome: undefined,
        attempts: 0,
        inFlightOn: undefined,
      };
      commands.push(command);
      world.clock.schedule(random.int(WORKLOAD_MS), () => submit(command));
    }

    // ---- faults -------------------------------------------------------------------------------------------
    const restartAfter = (p: SimParticipant | 'mediator') => {
      world.clock.schedule(50 + random.int(500), () => {
        world.background(
          (async () => {
            if (p === 'mediator') {
              if (!world.mediator) await world.startMediator();
            } else if (!p.node) {
              await world.startParticipant(p);
              // The client resubmits what it has no completion for; deduplication keeps it at most once.
              for (const c of commands) if (c.submitter === p && !c.outcome) submit(c);
            }
          })(),
        );
      });
    };
    const crash = (p: SimParticipant | 'mediator') =>
      world.background(
        (async () => {
          if (p === 'mediator') await world.crashMediator();
          else await world.crashParticipant(p);
          restartAfter(p);
        })(),
      );
    const victims = (): (SimParticipant | 'mediator')[] => [...world.participants, 'mediator'];
    for (let i = random.int(faults.crashes + 1); i > 0; i--) {
      const victim = random.pick(victims());
      world.clock.schedule(random.int(WORKLOAD_MS), () => crash(victim));
    }
    for (let i = random.int(faults.cuts + 1); i > 0; i--) {
      const victim = random.pick([...world.participants.map((p) => p.name), 'mediator']);
      world.clock.schedule(random.int(WORKLOAD_MS), () => world.network.cut(victim));
    }
    for (let i = random.int(faults.storageFaults + 1); i > 0; i--) {
      const victim = random.pick([...victims(), 'sequencer' as const]);
      const storage =
        victim === 'sequencer'
          ? world.sequencerStorage
          : victim === 'mediator'
            ? world.mediatorStorage
            : victim.storage;
      const after = random.int(10);
      const label = typeof victim === 'string' ? victim : victim.name;
      world.clock.schedule(random.int(WORKLOAD_MS), () => {
        if (storage.armed) return;
        world.trace.add(`${label} storage armed to fail in ${after} writes`);
        storage.arm(after, (write) => {
          world.trace.add(`${label} storage fault at write ${write}`);
          // A participant or mediator whose write failed is restarted by its supervisor, whether it noticed the
          // failure or not; the sequencer fails the batch's requests and goes on.
          if (victim !== 'sequencer') crash(victim);
        });
      });
    }

    await world.drive(WORKLOAD_MS);
    // Faults strike during the workload only.
    for (const storage of [world.mediatorStorage, ...world.participants.map((p) => p.storage)])
      storage.disarm();
    // Whatever crashed comes back; the client reads the completions it missed, resubmits the commands that have
    // none, and the network settles.
    const idle = () =>
      world.restarts.size === 0 &&
      commands.every((c) => c.outcome || c.inFlightOn !== c.submitter.node) &&
      world.participants.every((p) => p.node?.pendingRequests === 0) &&
      world.mediator?.outstandingRequests === 0;
    const limit = world.clock.now() + BigInt(SETTLE_LIMIT_MS) * 1000n;
    for (let round = 0; round < SETTLE_ROUNDS && world.clock.now() < limit; round++) {
      await world.ensureUp();
      await world.drive(recoverCompletions(world, commands));
      if (commands.every((c) => c.outcome)) break;
      for (const c of commands) submit(c);
      await world.driveUntil(idle, Number(limit - world.clock.now()) / 1000);
      await world.drive(IDLE_MS);
    }
    await world.ensureUp();
    await world.driveUntil(idle, Number(limit - world.clock.now()) / 1000);
    await world.drive(IDLE_MS);
    for (const p of world.participants) await world.drive(p.node!.validationsSettled());

    // The messages and writes behind the outcomes: two runs that differ only there differ in the hash too.
    world.trace.add(
      `settled after ${world.network.activity} network steps and ${world.writes} storage writes`,
    );
    violations.push(...(await checkInvariants(world)));
    for (const c of commands) {
      if (!c.outcome)
        violations.push({
          invariant: 'liveness',
          detail: `${c.id} on ${c.submitter.name} has no completion after ${c.attempts} attempts`,
        });
    }
  } catch (e) {
    // A run that cannot even finish (a node that fails to restart, a drive that never settles) fails its seed.
    violations.push({ invariant: 'completion', detail: e instanceof Error ? e.message : String(e) });
  } finally {
    await world.close().catch((e: unknown) => {
      violations.push({ invariant: 'completion', detail: `closing the network failed: ${String(e)}` });
    });
  }
  return {
    seed: o.seed,
    violations,
    traceHash: world.trace.hash(),
    trace: world.trace.lines,
    stats: {
      submitted: commands.length,
      succeeded: commands.filter((c) => c.outcome === 'succeeded').length,
      failed: commands.filter((c) => c.outcome === 'failed').length,
      rejected: commands.filter((c) => c.outcome === 'rejected').length,
      unsettled: commands.filter((c) => !c.outcome).length,
      simulatedMs: Number(world.clock.now() - started) / 1000,
    },
  };
}

/**
 * A responder that sometimes answers a ping itself (a second `Respond` besides its ping service's): two requests
 * consume one contract, and the protocol must commit exactly one of them.
 */
function raceResponses(
  world: World,
  random: SimRandom,
  chance: number,
  commands: Command[],
  submit: (c: Command) => void,
): void {
  world.onParticipantStarted((p, node) => {
    const admin = String(node.adminParty);
    node.onCommitted((c) => {
      for (const n of c.opened.assembled.transaction.nodes.values()) {
        if (n.tag !== 'Create' || n.templateId.name.join('.') !== 'Ping') continue;
        const responder = n.stakeholders.find((s) => !n.signatories.includes(s));
        if (responder !== admin || !random.chance(chance)) continue;
        const command: Command = {
          id: `race-${n.contractId.coid.slice(0, 16)}`,
          submitter: p,
          commands: [
            {
              ExerciseCommand: {
                templateId: PING_TEMPLATE,
                contractId: n.contractId.coid,
                choice: 'Respond',
                choiceArgument: {},
              },
            },
          ],
          actAs: [admin],
          outcome: undefined,
          attempts: 0,
          inFlightOn: undefined,
        };
        commands.push(command);
        submit(command);
      }
    });
  });
}

/** What a client does after losing its submissions' answers: looks its commands up in the completion stream. */
async function recoverCompletions(world: World, commands: readonly Command[]): Promise<void> {
  for (const p of world.participants) {
    const open = commands.filter((c) => c.submitter === p && !c.outcome);
    if (open.length === 0 || !p.node) continue;
    for (const completion of await p.node.completionsUpTo()) {
      const c = open.find((o) => o.id === completion.commandId);
      if (!c || c.outcome) continue;
      c.outcome = completion.status;
      world.trace.add(`${p.name} completion of ${c.id} found: ${completion.status} ${completion.code ?? ''}`);
    }
  }
}
