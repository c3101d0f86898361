import { readFileSync } from 'node:fs';
import { systemRandom } from '../../src/crypto/index.js';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import { type LedgerApiAuthConfig, ledgerApiAuthSchema } from '../../src/ledger-api/auth/index.js';
import { type LedgerApiHost, participantLedgerApi } from '../../src/ledger-api/index.js';
import { type JsonApiServer, startJsonApi } from '../../src/ledger-api/json/index.js';
import type { UserStore } from '../../src/ledger-api/users/index.js';
import { createLogger } from '../../src/observability/index.js';
import type { ParticipantNode } from '../../src/participant/index.js';
import {
  type ParticipantTestNetwork,
  participantTestNetwork,
  type StartedParticipant,
} from '../../src/participant/testing.js';
import { systemClock } from '../../src/time/index.js';

/** No auth services: every caller has every right, as in the sandbox. */
const NO_AUTH: LedgerApiAuthConfig = (() => {
  const parsed = ledgerApiAuthSchema.parse({});
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
})();

/** A test network's participant as the daemon hosts its Ledger API (system time and randomness, no logs). */
export function testLedgerApiHost(p: StartedParticipant): LedgerApiHost {
  return {
    participant: p.node,
    storage: p.storage,
    clock: systemClock,
    random: systemRandom,
    logger: createLogger({ level: 'silent' }),
    connectedSynchronizers: () =>
      p.node.synchronizerIds.map((synchronizerId) => ({ synchronizerId, alias: 'test' })),
  };
}

/**
 * Two participants of one synchronizer, each serving the JSON Ledger API over the Ledger API's service handlers
 * (the factories the gRPC server binds), with the token DAR uploaded.
 */
export interface JsonApiNetwork {
  readonly net: ParticipantTestNetwork;
  readonly nodes: readonly ParticipantNode[];
  readonly users: readonly UserStore[];
  readonly apis: readonly JsonApiServer[];
  close(): Promise<void>;
}

export async function jsonApiNetwork(
  seed: string,
  o: { auth?: LedgerApiAuthConfig } = {},
): Promise<JsonApiNetwork> {
  const net = await participantTestNetwork({ seed });
  const started = await Promise.all(['p1', 'p2'].map((name) => net.startParticipant(name)));
  const nodes = started.map((p) => p.node);
  const dar = readFileSync(TOKEN_DAR);
  await Promise.all(nodes.map((n) => n.uploadDar(dar)));
  const logger = createLogger({ level: 'silent' });
  // The services and authenticator as the participant daemon assembles them (no auth services: every right).
  const ledgerApis = await Promise.all(
    started.map((p) => participantLedgerApi(testLedgerApiHost(p), o.auth ?? NO_AUTH, logger)),
  );
  const users = ledgerApis.map((l) => l.users);
  const apis = await Promise.all(
    started.map((p, i) =>
      startJsonApi({
        address: '127.0.0.1',
        port: 0,
        services: ledgerApis[i]!.services,
        authenticator: ledgerApis[i]!.authenticator,
        daml: p.node.engine,
        logger,
      }),
    ),
  );
  return {
    net,
    nodes,
    users,
    apis,
    close: async () => {
      await Promise.all(apis.map((a) => a.close()));
      for (const l of ledgerApis) l.authenticator.close();
      await net.close();
    },
  };
}
