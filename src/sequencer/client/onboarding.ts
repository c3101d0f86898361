import type { SigningPrivateKey } from '../../crypto/index.js';
import type { WeftError } from '../../errors/index.js';
import { endpointsFailed } from '../../grpc/index.js';
import { type Clock, systemClock } from '../../time/index.js';
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
