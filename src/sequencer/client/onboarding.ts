import type { SigningPrivateKey } from '../../crypto/index.js';
import { isWeftError, type WeftError } from '../../errors/index.js';
import { endpointsFailed } from '../../grpc/index.js';
import { type Clock, realTime, sleep, systemClock } from '../../time/index.js';
import { SequencerErrors } from '../errors.js';
import { PROTOCOL_VERSION } from '../topology.js';
import { EndpointConnection, parseSequencerEndpoint, type TransportOptions } from './endpoint.js';

/**
 * Asks the sequencer behind `endpoints` (the first that answers) for its synchronizer id, so that an operator
 * connects by endpoint alone, as with Canton's `connect_multi`.
 */
export async function synchronizerIdAt(
  endpoints: readonly string[],
  transport: TransportOptions = {},
  clock: Clock = systemClock,
): Promise<string> {
  return onFirstReachable(
    endpoints,
    transport,
    clock,
    'no sequencer endpoint told its synchronizer id',
    async (conn) => (await conn.handshake([PROTOCOL_VERSION])).synchronizerId,
  );
}

/**
 * For a participant that is not a member yet: hands its onboarding topology transactions (trust certificate,
 * OwnerToKeyMapping, NamespaceDelegations) to the first reachable endpoint, which checks them against the onboarding
 * restriction and sequences them. The participant becomes active once they take effect.
 */
export async function registerOnboardingTransactions(
  endpoints: readonly string[],
  signedTransactions: readonly Uint8Array[],
  transport: TransportOptions = {},
  clock: Clock = systemClock,
): Promise<void> {
  await onFirstReachable(
    endpoints,
    transport,
    clock,
    'no sequencer endpoint accepted the onboarding transactions',
    (conn) => conn.registerOnboarding(signedTransactions),
  );
}

/**
 * For a member that just joined and has no topology state yet: authenticates with its signing key and downloads
 * the sequencer's topology state (an encoded TopologyStateSnapshot) from the first reachable endpoint.
 */
export function downloadTopologyStateForInit(
  endpoints: readonly string[],
  member: string,
  signingKey: SigningPrivateKey,
  transport: TransportOptions = {},
  clock: Clock = systemClock,
): Promise<Uint8Array> {
  return onFirstReachable(
    endpoints,
    transport,
    clock,
    `no sequencer endpoint answered the topology download of ${member}`,
    async (conn) => {
      const handshake = await conn.handshake([PROTOCOL_VERSION]);
      await conn.authenticate(member, signingKey, handshake.synchronizerId, handshake.sequencerId, [
        PROTOCOL_VERSION,
      ]);
      return conn.downloadTopologyState(member);
    },
  );
}

/**
 * Runs `call` on each endpoint in turn until one answers. Only transient failures (unreachable, unavailable) move on
 * to the next endpoint; any other error is the answer. `failure` leads the error when none answers.
 */
async function onFirstReachable<T>(
  endpoints: readonly string[],
  transport: TransportOptions,
  clock: Clock,
  failure: string,
  call: (conn: EndpointConnection) => Promise<T>,
): Promise<T> {
  const failures: { endpoint: string; error: WeftError }[] = [];
  for (const url of endpoints) {
    const conn = new EndpointConnection(parseSequencerEndpoint(url, transport.insecure), transport, clock);
    try {
      return await call(conn);
    } catch (e) {
      const error = conn.error(e);
      if (error.category !== 'TransientServerFailure') throw error;
      failures.push({ endpoint: url, error });
    } finally {
      conn.close();
    }
  }
  throw endpointsFailed(SequencerErrors.SEQUENCER_CONNECTION_FAILED, failure, failures);
}

export interface UntilActiveOptions {
  readonly clock: Clock;
  /** How long to wait between attempts. */
  readonly intervalMs: number;
  /** Give up after this long with the last failure; by default only `signal` ends the attempts. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Which failures mean "try again": by default SEQUENCER_MEMBER_NOT_ACTIVE, the sequencer's answer while the
   * member's onboarding has not taken effect yet.
   */
  readonly retry?: (error: unknown) => boolean;
  /** Told every failure that is tried again (for logs and readiness). */
  readonly onRetry?: (error: unknown) => void;
}

/**
 * Runs `attempt` (a member's first contact with its synchronizer, e.g. {@link downloadTopologyStateForInit}) until it
 * succeeds, waiting `intervalMs` between attempts while it fails with a failure `retry` accepts. Resolves with its
 * result, or undefined when `signal` aborted first; rejects with any other failure, or the last one after
 * `timeoutMs`. The one onboarding retry loop of the member nodes (participant and mediator).
 */
export async function untilActive<T>(
  attempt: () => Promise<T>,
  o: UntilActiveOptions,
): Promise<T | undefined> {
  const retry = o.retry ?? ((e) => isWeftError(e, SequencerErrors.SEQUENCER_MEMBER_NOT_ACTIVE));
  // The timeout is real time: on static time the clock would never reach it.
  const wall = realTime(o.clock);
  const deadline = o.timeoutMs === undefined ? undefined : wall.now() + BigInt(o.timeoutMs) * 1000n;
  while (!o.signal?.aborted) {
    try {
      return await attempt();
    } catch (e) {
      if (!retry(e) || (deadline !== undefined && wall.now() >= deadline)) throw e;
      o.onRetry?.(e);
    }
    await sleep(o.clock, o.intervalMs, o.signal);
  }
  return undefined;
}
