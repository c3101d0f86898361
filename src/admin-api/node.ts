import type { NodeRuntime } from '../node/index.js';
import type { BootstrapOutcome, BootstrapRequest } from './genesis.js';
import type { ParticipantHost } from './participant.js';
import type { AdminSynchronizer } from './topology.js';

/** An API a node serves, as its status reports it. */
export interface NodeEndpoint {
  /** `admin-api`, `public-api`, `monitoring`. */
  readonly api: string;
  readonly url: string;
  readonly port: number;
}

/** What the Admin API serves from: implemented by the daemons (`src/daemon`) that run a node. */
export interface AdminNode {
  readonly runtime: NodeRuntime;
  /** The Weft version the node runs. */
  readonly version: string;
  /** µs since the Unix epoch. */
  readonly startedAt: bigint;
  endpoints(): readonly NodeEndpoint[];
  /**
   * The node's synchronizer, once it has one; on a participant connected to several, the one named (undefined
   * when it is not named or not connected).
   */
  synchronizer(synchronizerId?: string): AdminSynchronizer | undefined;
  /** Creates the synchronizer; nodes other than sequencers throw ADMIN_NOT_SUPPORTED. */
  bootstrap(request: BootstrapRequest): Promise<BootstrapOutcome>;
  /** On a participant node: the participant and its synchronizer connections (ParticipantAdminService). */
  readonly participantHost?: ParticipantHost;
}
