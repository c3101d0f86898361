import { decodeJwt } from 'jose';
import type { DestinationStream } from 'pino';
import { GrpcStatus, isWeftError } from '../errors/index.js';
import { createLogger, type Logger, type LogRotation } from './logging.js';

/** Which API a call came through; the `api` field of an audit line. */
export type AuditedApi = 'admin-api' | 'ledger-api' | 'json-api';

/** One audited call: who did what, and how it ended. The time, node and trace id are added by the log. */
export interface AuditCall {
  readonly api: AuditedApi;
  /** The gRPC method (`GetStatus`) or the HTTP route (`POST /v2/commands/submit-and-wait`). */
  readonly method: string;
  /**
   * Who called: `user:<id>` (a Ledger API token's user), `unverified:<sub>` (the subject of a token that was
   * refused), `cert:<subject>` (an Admin API client certificate), `anonymous` (none of these), or `wildcard` (a
   * Ledger API without authorization).
   */
  readonly who: string;
  /** The client's network address. */
  readonly peer: string;
  /** `OK`, or the gRPC status name of the failure (`PERMISSION_DENIED`, ...). */
  readonly outcome: string;
  /** The catalogued error code of a failure, if any. */
  readonly code?: string;
  readonly durationMs: number;
}

/** A topology transaction a node signed and submitted, with the key that signed it. */
export interface AuditTopologyChange {
  /** `propose`, `authorize`, ... the Admin API operation. */
  readonly operation: string;
  readonly mapping: string;
  /** The namespace of the node whose key signed it. */
  readonly signer: string;
  /** The fingerprints of every signature the transaction carries (a proposal gathers them). */
  readonly signedBy: readonly string[];
  readonly hash: string;
}

export interface AuditLogOptions {
  readonly node: string;
  /** The audit file; with `rotation`, numbered files as in {@link LogRotation}. */
  readonly file?: string;
  readonly rotation?: LogRotation;
  /** Instead of a file (tests). */
  readonly destination?: DestinationStream;
}

/**
 * The audit log (docs/monitoring.md, Audit log): JSON lines in a file of its own, appended to and never rewritten,
 * with its own retention, so that operators keep it longer than the debug logs and ship it to another place.
 * Every line has `audit: "call"` or `audit: "topology"`, plus the fields of {@link AuditCall} or
 * {@link AuditTopologyChange}.
 */
export class AuditLog {
  readonly #logger: Logger;

  constructor(options: AuditLogOptions) {
    this.#logger = createLogger({
      node: options.node,
      ...(options.file === undefined ? {} : { file: options.file }),
      ...(options.rotation === undefined ? {} : { rotation: options.rotation }),
      ...(options.destination === undefined ? {} : { destination: options.destination }),
    });
  }

  call(call: AuditCall): void {
    this.#logger.info(
      { audit: 'call', ...call },
      `${call.api} ${call.method} by ${call.who}: ${call.outcome}`,
    );
  }

  topology(change: AuditTopologyChange): void {
    this.#logger.info(
      { audit: 'topology', ...change },
      `topology ${change.operation} ${change.mapping} signed by ${change.signer}`,
    );
  }

  /** Writes what is buffered (before the process exits or a test reads the file). */
  flush(): Promise<void> {
    return new Promise((resolve) => this.#logger.flush(() => resolve()));
  }
}

/** The `who` of a gRPC call: the subject of a verified client certificate, else `anonymous`. */
export function certificateCaller(
  authContext: { sslPeerCertificate?: { subject?: unknown } } | undefined,
): string {
  const subject = authContext?.sslPeerCertificate?.subject;
  if (subject === undefined || subject === null) return 'anonymous';
  const text =
    typeof subject === 'object'
      ? Object.entries(subject as Record<string, unknown>)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(',')
      : String(subject);
  return `cert:${text}`;
}

const STATUS_NAMES = new Map<number, string>(
  Object.entries(GrpcStatus).map(([name, value]) => [value, name]),
);

/** The `outcome` and `code` of a call that ended with `error` (undefined: it succeeded). */
export function outcomeOf(error: unknown): { readonly outcome: string; readonly code?: string } {
  if (error === undefined) return { outcome: 'OK' };
  if (isWeftError(error))
    return { outcome: STATUS_NAMES.get(error.grpcStatus) ?? 'UNKNOWN', code: error.code };
  return { outcome: 'INTERNAL' };
}

/**
 * The `who` of a Ledger API call: from its claims once authenticated; before that (a call refused for its token),
 * the `sub` of the bearer token as `unverified:<sub>`, since who tried matters most for a refused call.
 */
export function ledgerCaller(
  claims: { readonly wildcard: boolean; readonly userId: string | undefined } | undefined,
  authorization: string | undefined,
): string {
  if (claims?.wildcard) return 'wildcard';
  if (claims?.userId !== undefined) return `user:${claims.userId}`;
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (token === undefined) return 'anonymous';
  try {
    const { sub } = decodeJwt(token);
    return typeof sub === 'string' ? `unverified:${sub}` : 'anonymous';
  } catch {
    return 'anonymous';
  }
}
