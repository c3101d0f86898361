import { CommonErrors, WeftError } from '../errors/index.js';
import { PLANTED } from './planted.js';
import { runSimulation, type SimulationResult } from './simulation.js';

/** `npm run simulate -- --seed N --runs K [--planted NAME] [--trace]`. */
export interface SimulateArgs {
  readonly seed: number;
  readonly runs: number;
  /** A bug planted in this run's mediator (test builds): one of {@link PLANTED}. */
  readonly planted?: string;
  /** Print each run's event trace. */
  readonly trace: boolean;
}

/** Most seeds one invocation runs: a bound on a mistyped --runs. */
const MAX_RUNS = 100_000;

export function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  let seed = 1;
  let runs = 1;
  let planted: string | undefined;
  let trace = false;
  const integer = (flag: string, value: string | undefined, min: number, max: number) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new WeftError(CommonErrors.INVALID_ARGUMENT, `${flag} takes an integer from ${min} to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--seed') seed = integer(flag, argv[++i], 0, Number.MAX_SAFE_INTEGER);
    else if (flag === '--runs') runs = integer(flag, argv[++i], 1, MAX_RUNS);
    else if (flag === '--trace') trace = true;
    else if (flag === '--planted') {
      planted = argv[++i];
      if (planted === undefined || !(planted in PLANTED))
        throw new WeftError(
          CommonErrors.INVALID_ARGUMENT,
          `--planted takes one of ${Object.keys(PLANTED).join(', ')}`,
        );
    } else throw new WeftError(CommonErrors.INVALID_ARGUMENT, `unknown argument ${flag}`);
  }
  return { seed, runs, ...(planted ? { planted } : {}), trace };
}

/** The command line that runs exactly `seed` again. */
export function reproduction(args: SimulateArgs, seed: number): string {
  return `npm run simulate -- --seed ${seed} --runs 1${args.planted ? ` --planted ${args.planted}` : ''}`;
}

/**
 * Runs seeds `seed` to `seed + runs - 1`; prints one line per run, and for a run that breaks an invariant the
 * seed, the invariants and the command that reproduces it. Returns the failing runs.
 */
export async function simulate(
  args: SimulateArgs,
  print: (line: string) => void,
): Promise<SimulationResult[]> {
  const failed: SimulationResult[] = [];
  const aggregation = args.planted ? PLANTED[args.planted] : undefined;
  for (let seed = args.seed; seed < args.seed + args.runs; seed++) {
    const r = await runSimulation({ seed, ...(aggregation ? { aggregation } : {}) });
    const s = r.stats;
    print(
      `seed ${seed}: ${r.violations.length === 0 ? 'ok' : 'FAILED'} (${s.succeeded} succeeded, ${s.failed} failed, ${s.rejected} refused, ${s.simulatedMs} ms simulated, trace ${r.traceHash.slice(0, 16)})`,
    );
    if (args.trace) for (const line of r.trace) print(`  ${line}`);
    if (r.violations.length === 0) continue;
    failed.push(r);
    for (const v of r.violations) print(`  violated ${v.invariant}: ${v.detail}`);
    print(`  reproduce: ${reproduction(args, seed)}`);
  }
  print(`${args.runs - failed.length} of ${args.runs} runs kept every invariant`);
  return failed;
}
