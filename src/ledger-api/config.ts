import { apiServerSchema, type Infer, integer, withDefault } from '../config/index.js';
import { readServerTls, type ServerTls } from '../grpc/index.js';

/** Canton's default: larger than gRPC's 4 MiB, so that a DAR upload fits in one request. */
export const DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Canton's default limit of streams served at once. */
export const DEFAULT_MAX_STREAMS = 1000;

/**
 * A participant's `ledger-api` config section: where the Ledger API listens (`address`, `port`, optional `tls`
 * as every Weft API server; plaintext is allowed anywhere, as in Canton), `max-inbound-message-bytes` (the largest
 * request, 1 KiB..1 GiB) and `max-streams` (streams served at once).
 */
export const ledgerApiSchema = apiServerSchema.extend({
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

export async function ledgerApiSettings(config: LedgerApiConfig): Promise<LedgerApiSettings> {
  const { tls, ...rest } = config;
  return { ...rest, ...(tls ? { tls: await readServerTls(tls, 'ledger-api') } : {}) };
}
