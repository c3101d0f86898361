/**
 * The deterministic simulation from the command line (docs/simulation.md):
 * `npm run simulate -- --seed N --runs K [--planted NAME] [--trace]`. Exits 1 when a run breaks an invariant.
 */
import { parseSimulateArgs, simulate } from '../src/simulation/cli.js';

const failed = await simulate(parseSimulateArgs(process.argv.slice(2)), (line) => console.log(line));
process.exitCode = failed.length === 0 ? 0 : 1;
