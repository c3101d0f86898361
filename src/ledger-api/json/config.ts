import { apiServerSchema, type Infer, integer, withDefault } from '../../config/index.js';
import { readServerTls, type ServerTls } from '../../grpc/index.js';
import { JSON_API_DEFAULTS } from './server.js';

/** The port Canton's sandbox serves the JSON Ledger API on. */
export const DEFAULT_JSON_API_PORT = 7575;

/**
 * A participant's `json-api` config section: where the JSON Ledger API listens (`address`, `port`, optional
 * `tls`, as every Weft API server), the largest request body (`max-request-bytes`, 1 KiB..1 GiB), Canton's HTTP
 * list bounds (`http-list-max-elements-limit`, `http-list-wait-ms`: the idle time that ends an open-ended list)
 * and the websockets open at once (`max-websockets`). It authenticates with the `ledger-api` section's
 * auth-services.
 */
export const jsonApiSchema = apiServerSchema.extend({
  'max-request-bytes': withDefault(
    integer({ min: 1024, max: 1024 * 1024 * 1024 }),
    JSON_API_DEFAULTS.maxRequestBytes,
  ),
  'http-list-max-elements-limit': withDefault(
    integer({ min: 1, max: 100_000 }),
    JSON_API_DEFAULTS.httpListMaxElementsLimit,
  ),
  'http-list-wait-ms': withDefault(integer({ min: 1, max: 60_000 }), JSON_API_DEFAULTS.httpListWaitMs),
  'max-websockets': withDefault(integer({ min: 1, max: 100_000 }), JSON_API_DEFAULTS.maxWebsockets),
});
export type JsonApiConfig = Infer<typeof jsonApiSchema>;

/** The `json-api` section with its TLS files read, as startJsonApi takes its settings. */
export interface JsonApiSettings extends Omit<JsonApiConfig, 'tls'> {
  readonly tls?: ServerTls;
}

export async function jsonApiSettings(config: JsonApiConfig): Promise<JsonApiSettings> {
  const { tls, ...rest } = config;
  return { ...rest, ...(tls ? { tls: await readServerTls(tls, 'json-api') } : {}) };
}
