import { CommonErrors, WeftError } from '../errors/index.js';
import { NodeRuntime, type NodeRuntimeOptions } from '../node/index.js';
import type { DaemonNodeConfig } from './config.js';
import { MediatorDaemon } from './mediator.js';
import { ParticipantDaemon } from './participant.js';
import { SequencerDaemon } from './sequencer.js';

/** A node a process runs: stopping it stops everything it started and closes its storage. */
export interface DaemonNode {
  readonly runtime: NodeRuntime;
  readonly node: SequencerDaemon | MediatorDaemon | ParticipantDaemon;
}

/**
 * Starts the node `config` describes. Sequencer, mediator and participant nodes run today: a topology owner node
 * fails with a clear error. `options` overrides the runtime's logger, clock or randomness.
 */
export async function startDaemonNode(
  config: DaemonNodeConfig,
  version: string,
  options: Omit<NodeRuntimeOptions, 'config'> = {},
): Promise<DaemonNode> {
  if (config.kind === 'topology') {
    throw new WeftError(
      CommonErrors.FAILED_PRECONDITION,
      `${config.kind} nodes are not available yet (node ${config.name}); this version runs sequencer, mediator and participant nodes`,
    );
  }
  const runtime = await NodeRuntime.start({ config, ...options });
  try {
    const node =
      config.kind === 'sequencer'
        ? await SequencerDaemon.start(runtime, config, version)
        : config.kind === 'mediator'
          ? await MediatorDaemon.start(runtime, config, version)
          : await ParticipantDaemon.start(runtime, config, version);
    return { runtime, node };
  } catch (e) {
    await runtime.stop();
    throw e;
  }
}
