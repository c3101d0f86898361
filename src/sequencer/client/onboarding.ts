import { WeftError } from '../../errors/index.js';
import { type Clock, systemClock } from '../clock.js';
import { SequencerErrors } from '../errors.js';
import { EndpointConnection, parseEndpoint, type TransportOptions } from './endpoint.js';

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
  const failures: string[] = [];
  for (const url of endpoints) {
    const conn = new EndpointConnection(parseEndpoint(url, transport.insecure), transport, clock);
    try {
      await conn.registerOnboarding(signedTransactions);
      return;
    } catch (e) {
      const error = conn.error(e);
      if (error.category !== 'TransientServerFailure') throw error;
      failures.push(error.message);
    } finally {
      conn.close();
    }
  }
  throw new WeftError(
    SequencerErrors.SEQUENCER_CONNECTION_FAILED,
    `no sequencer endpoint accepted the onboarding transactions: ${failures.join('; ') || 'no endpoint configured'}`,
  );
}
