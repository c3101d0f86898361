import {
  boolean,
  ConfigErrors,
  formatProblems,
  type Infer,
  integer,
  list,
  object,
  optional,
  port,
  readConfigTree,
  string,
  withDefault,
} from '../config/index.js';
import { WeftError } from '../errors/index.js';

/**
 * The OAuth2 middleware's config file: `oauth2-middleware { … }`. It logs users in at an OpenID provider
 * (authorization code with PKCE) and hands out the provider's access tokens, which the participant verifies with
 * the provider's JWKS (`ledger-api.auth-services = [{ type = jwt-jwks, … }]`).
 */
export const oauth2MiddlewareSchema = object({
  address: withDefault(string(), '127.0.0.1'),
  /** Daml's auth middleware default. */
  port: withDefault(port(), 3000),
  /** The OpenID provider's issuer URL (its discovery document is `/.well-known/openid-configuration` under it). */
  issuer: string(),
  'client-id': string(),
  /** Absent: a public client (PKCE alone). */
  'client-secret': optional(string()),
  /** This middleware's `/cb` as browsers reach it; registered at the provider as the client's redirect URI. */
  'callback-uri': string(),
  /**
   * Where `/login` may send the browser back to: each entry a URL prefix (scheme, host, port and path). Anything
   * else is refused, so that the middleware is no open redirect.
   */
  'allowed-redirect-uris': list(string(), { min: 1 }),
  /** The resource indicator (RFC 8707) asked for, which providers put in the token's `aud`. */
  resource: optional(string()),
  /** Scopes asked for besides `openid`. */
  scope: withDefault(string(), 'daml_ledger_api'),
  /** The participant's gRPC Ledger API, asked for the user's rights when `/auth` checks claims. */
  'ledger-api': string(),
  'cookie-name': withDefault(string(), 'daml-ledger-token'),
  /** Send the token cookie over HTTPS only; leave false only for a loopback deployment. */
  'cookie-secure': withDefault(boolean(), true),
  /** Logins between /login and /cb held at once (each a PKCE verifier). */
  'max-pending-logins': withDefault(integer({ min: 1, max: 1_000_000 }), 10_000),
  /** How long a login may take from /login to /cb. */
  'login-timeout-ms': withDefault(integer({ min: 1000, max: 3_600_000 }), 300_000),
});
export type OAuth2MiddlewareConfig = Infer<typeof oauth2MiddlewareSchema>;

/** Validates an `oauth2-middleware` section (kebab-case keys). */
export function oauth2MiddlewareSettings(raw: unknown): OAuth2MiddlewareConfig {
  const parsed = oauth2MiddlewareSchema.parse(raw, 'oauth2-middleware');
  if (!parsed.ok) throw new WeftError(ConfigErrors.CONFIG_INVALID, formatProblems(parsed.problems));
  return parsed.value;
}

/** Reads a config file (HOCON, YAML or JSON) whose `oauth2-middleware` section configures the middleware. */
export async function loadOAuth2MiddlewareConfig(path: string): Promise<OAuth2MiddlewareConfig> {
  const tree = (await readConfigTree(path, process.env)) as { 'oauth2-middleware'?: unknown } | null;
  if (!tree || tree['oauth2-middleware'] === undefined) {
    throw new WeftError(ConfigErrors.CONFIG_INVALID, `${path}: it has no oauth2-middleware section`);
  }
  return oauth2MiddlewareSettings(tree['oauth2-middleware']);
}
