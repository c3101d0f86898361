import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { certificates } from '../grpc/testing.js';
import { createLogger } from '../observability/index.js';
import { WILDCARD_CLAIMS } from './auth/index.js';
import { LedgerApiClient } from './client.js';
import {
  DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
  DEFAULT_MAX_STREAMS,
  ledgerApiSchema,
  ledgerApiSettings,
} from './config.js';
import { LedgerApiErrors } from './errors.js';
import { LEDGER_API_DESCRIPTORS } from './participant.js';
import { serveLedgerApi } from './server.js';
import { versionService } from './services/version.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-ledger-api-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const decode = (raw: unknown) => {
  const r = ledgerApiSchema.parse(raw, 'ledger-api');
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return r.value;
};

describe('the ledger-api config section', () => {
  it("has Canton's defaults: loopback, 64 MiB requests, 1000 streams, no auth", async () => {
    const config = decode({ port: 5011 });
    expect(config).toMatchObject({
      address: '127.0.0.1',
      port: 5011,
      maxInboundMessageBytes: DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
      maxStreams: DEFAULT_MAX_STREAMS,
      authServices: [],
    });
    expect((await ledgerApiSettings(config)).tls).toBeUndefined();
  });

  it('refuses a non-loopback address without auth services, and accepts it with them', async () => {
    const refused = await ledgerApiSettings(decode({ address: '0.0.0.0', port: 0 })).catch((e: unknown) => e);
    expect(isWeftError(refused, LedgerApiErrors.LEDGER_API_AUTH_REQUIRED)).toBe(true);
    const settings = await ledgerApiSettings(
      decode({
        address: '0.0.0.0',
        port: 0,
        'auth-services': [{ type: 'unsafe-jwt-hmac-256', secret: 'secret' }],
      }),
    );
    expect(settings.authServices).toHaveLength(1);
  });

  it('reports a bad key with its path', () => {
    const r = ledgerApiSchema.parse({ port: 1, 'max-streams': 0 }, 'ledger-api');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]).toMatchObject({ path: 'ledger-api.max-streams' });
  });

  it('serves TLS when configured, to a client trusting its CA', async () => {
    const certs = certificates(dir, 'ledger');
    const settings = await ledgerApiSettings(
      decode({ port: 0, tls: { 'cert-chain-file': certs.certFile, 'private-key-file': certs.keyFile } }),
    );
    const server = await serveLedgerApi({
      address: settings.address,
      port: settings.port,
      ...(settings.tls ? { tls: settings.tls } : {}),
      maxInboundMessageBytes: settings.maxInboundMessageBytes,
      maxStreams: settings.maxStreams,
      services: [
        versionService({
          maxRightsPerUser: 1000,
          maxUsersPageSize: 1000,
          maxPartiesPageSize: 10_000,
          maxVettedPackagesPageSize: 100,
          maxOffsetCheckpointEmissionDelayMs: 0,
          staticTime: false,
        }),
      ],
      authenticator: { authenticate: async () => WILDCARD_CLAIMS, watchStream: () => () => {} },
      descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
      logger: createLogger({ level: 'silent' }),
    });
    const client = new LedgerApiClient(server.url, { customTrustCertificates: readFileSync(certs.caFile) });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const r = await client.unary(client.version, client.version.getLedgerApiVersion, {});
      expect(r.version).toBe('3.4.0');
    } finally {
      client.close();
      await server.close();
    }
  });
});
