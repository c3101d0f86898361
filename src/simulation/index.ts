/**
 * The deterministic simulation (docs/simulation.md): the whole network in one process on a simulated network,
 * clock and storage, driven by a seed, with faults injected and invariants checked after each run.
 */
export type { Invariant, Violation } from './invariants.js';
export {
  type FaultSettings,
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
} from './simulation.js';
