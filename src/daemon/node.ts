import { CommonErrors, WeftError } from '../errors/index.js';
import { NodeRuntime, type NodeRuntimeOptions } from '../node/index.js';
import type { InProcessSequencers } from '../sequencer/index.js';
import type { DaemonNodeConfig } from './config.js';
import { MediatorDaemon } from './mediator.js';
import { ParticipantDaemon } from './participant.js';
import { SequencerDaemon } from './sequencer.js';

/** A node a process runs: stopping it stops everything it started and closes its storage. */
export interface DaemonNode {
  readonly runtime: NodeRuntime;
  readonly node: SequencerDaemon | MediatorDaemon | ParticipantDaemon;
}

/** What nodes sharing a process share besides the runtime's clock, randomness and logger. */
export interface DaemonOptions extends Omit<NodeRuntimeOptions, 'config'> {
  /**
   * The sequencers of this process, which its nodes reach without gRPC (the sandbox): a sequencer node serves its
   * public API there, and mediators and participants dial it (docs/architecture.md, decision 15).
   */
  readonly inProcess?: InProcessSequencers;
}

/**
 * Starts the node `config` describes. Sequencer, mediator and participant nodes run today: a topology owner node
 * fails with a clear error. `options` overrides the runtime's logger, clock or randomness.
 */
export async function startDaemonNode(
  config: DaemonNodeConfig,
  version: string,
  options: DaemonOptions = {},
): Promise<DaemonNode> {
  if (config.kind === 'topology') {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `${config.kind} nodes are not available yet (node ${config.name}); this version runs sequencer, mediator and participant nodes`,
    );
  }
  const { inProcess, ...runtimeOptions } = options;
  const runtime = await NodeRuntime.start({ config, ...runtimeOptions });
  try {
    const node =
      config.kind === 'sequencer'
        ? await SequencerDaemon.start(runtime, config, version, inProcess)
        : config.kind === 'mediator'
          ? await MediatorDaemon.start(runtime, config, version, inProcess)
          : await ParticipantDaemon.start(runtime, config, version, inProcess);
    return { runtime, node };
  } catch (e) {
    await runtime.stop();
    throw e;
  }
}
