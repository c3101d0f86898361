import {
  type Infer,
  integer,
  list,
  object,
  optional,
  string,
  tagged,
  withDefault,
} from '../../config/index.js';

const audienceAndScope = {
  /** Accept only tokens whose `aud` contains this (audience-based tokens of another issuer than Canton's default). */
  'target-audience': optional(string()),
  /** Accept only tokens whose `scope`/`scp` contains this instead of `daml_ledger_api`. */
  'target-scope': optional(string()),
  /** Refuse tokens that live longer than this (their `exp` further ahead than it), and tokens without `exp`. */
  'max-token-lifetime-ms': optional(integer({ min: 1 })),
};

/**
 * How the Ledger API verifies tokens, as Canton's `ledger-api.auth-services`: each entry is a way a token may be
 * signed; a token valid under any of them is accepted. No entries: authorization is off (every caller has every
 * right, as Canton's wildcard), which a participant allows only on a loopback address.
 */
export const authServicesSchema = list(
  tagged('type', {
    /** HS256 with a shared secret: for development and tests only, as anyone with the secret can mint tokens. */
    'unsafe-jwt-hmac-256': object({ secret: string(), ...audienceAndScope }),
    /** RS256, the public key from an X.509 certificate file (PEM). */
    'jwt-rs-256': object({ certificate: string(), ...audienceAndScope }),
    /** ES256, the public key from an X.509 certificate file (PEM). */
    'jwt-es-256': object({ certificate: string(), ...audienceAndScope }),
    /** ES512, the public key from an X.509 certificate file (PEM). */
    'jwt-es-512': object({ certificate: string(), ...audienceAndScope }),
    /** RS256/ES256/ES512 with keys from a JWKS URL, fetched on demand and cached. */
    'jwt-jwks': object({ url: string(), ...audienceAndScope }),
  }),
);

/**
 * Canton's `jwt-timestamp-leeway`: seconds of clock skew tolerated on `exp`, `nbf` and `iat`; `default` for each
 * that is not given.
 */
export const jwtTimestampLeewaySchema = object({
  default: optional(integer({ min: 0, max: 86_400 })),
  'expires-at': optional(integer({ min: 0, max: 86_400 })),
  'not-before': optional(integer({ min: 0, max: 86_400 })),
  'issued-at': optional(integer({ min: 0, max: 86_400 })),
});

/**
 * The authorization keys of a `ledger-api` section, for the section's schema to spread in: `auth-services`,
 * `jwt-timestamp-leeway`, `max-token-lifetime-ms` (for every auth service without its own), and how JWKS are
 * fetched (`jwks-timeout-ms`, `jwks-cache-max-age-ms`).
 */
export const ledgerApiAuthShape = {
  'auth-services': withDefault(authServicesSchema, []),
  'jwt-timestamp-leeway': withDefault(jwtTimestampLeewaySchema, {}),
  'max-token-lifetime-ms': optional(integer({ min: 1 })),
  'jwks-timeout-ms': withDefault(integer({ min: 100, max: 600_000 }), 10_000),
  'jwks-cache-max-age-ms': withDefault(integer({ min: 1000, max: 86_400_000 }), 300_000),
};

export const ledgerApiAuthSchema = object(ledgerApiAuthShape);

export type LedgerApiAuthConfig = Infer<typeof ledgerApiAuthSchema>;
export type AuthServiceConfig = LedgerApiAuthConfig['authServices'][number];
