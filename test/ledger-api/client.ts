/**
 * The Ledger API client the tests use: the project's `LedgerApiClient` (generated protobuf-ts clients over
 * @grpc/grpc-js, nothing else), on a loopback endpoint with an optional token.
 */
import { LedgerApiClient } from '../../src/ledger-api/client.js';

export class TestLedgerClient extends LedgerApiClient {
  constructor(target: string, token?: string) {
    super(`http://${target}`, token === undefined ? {} : { token });
  }
}
