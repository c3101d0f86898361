import { apiServerSchema, type Infer, integer, withDefault } from '../config/index.js';
import { WeftError } from '../errors/index.js';
import { isLoopback, readServerTls, type ServerTls } from '../grpc/index.js';
import { ledgerApiAuthShape } from './auth/index.js';
import { LedgerApiErrors } from './errors.js';

/** Canton's default: larger than gRPC's 4 MiB, so that a DAR upload fits in one request. */
export const DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Canton's default limit of streams served at once. */
export const DEFAULT_MAX_STREAMS = 1000;

/**
 * A participant's `ledger-api` config section: where the Ledger API listens (`address`, `port`, optional `tls`
 * as every Weft API server; plaintext is allowed anywhere, as in Canton), `max-inbound-message-bytes` (the largest
 * request, 1 KiB..1 GiB), `max-streams` (streams served at once) and how tokens are verified (`auth-services`,
 * `jwt-timestamp-leeway`, `max-token-lifetime-ms`, JWKS fetching; none: authorization is off).
 */
export const ledgerApiSchema = apiServerSchema.extend({
  ...ledgerApiAuthShape,
  'max-inbound-message-bytes': withDefault(
    integer({ min: 1024, max: 1024 * 1024 * 1024 }),
    DEFAULT_MAX_INBOUND_MESSAGE_BYTES,
  ),
  'max-streams': withDefault(integer({ min: 1, max: 100_000 }), DEFAULT_MAX_STREAMS),
});
export type LedgerApiConfig = Infer<typeof ledgerApiSchema>;

/** The `ledger-api` section with its TLS files read. */
export interface LedgerApiSettings extends Omit<LedgerApiConfig, 'tls'> {
  readonly tls?: ServerTls;
}

/**
 * The settings of a `ledger-api` section, reading its TLS files. Without auth services every caller would have
 * every right: that is refused off loopback (before the participant starts).
 */
export async function ledgerApiSettings(config: LedgerApiConfig): Promise<LedgerApiSettings> {
  if (config.authServices.length === 0 && !isLoopback(config.address)) {
    throw new WeftError(
      LedgerApiErrors.LEDGER_API_AUTH_REQUIRED,
      `the Ledger API on ${config.address} has no auth-services: anyone reaching it could act as any party; configure ledger-api.auth-services or bind it to a loopback address`,
      { address: config.address },
    );
  }
  const { tls, ...rest } = config;
  return { ...rest, ...(tls ? { tls: await readServerTls(tls, 'ledger-api') } : {}) };
}
