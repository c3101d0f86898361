import * as grpc from '@grpc/grpc-js';
import { CATEGORIES, CommonErrors, type ErrorCode, errorCatalogue, WeftError } from '../errors/index.js';

/** Metadata keys that carry a WeftError across gRPC. */
const CODE_KEY = 'weft-error-code';
const CONTEXT_KEY = 'weft-error-context';

/**
 * A gRPC status for `e`. A WeftError keeps its code, message and context: the status details read
 * `CODE(category): message` (so any gRPC client sees the code), and the metadata `weft-error-code` /
 * `weft-error-context` let a Weft client rethrow the same error. Anything else becomes INTERNAL, naming `service`.
 */
export function toStatus(e: unknown, service: string): Partial<grpc.StatusObject> {
  const error = asWeftError(e, service);
  const metadata = new grpc.Metadata();
  metadata.set(CODE_KEY, error.code);
  metadata.set(CONTEXT_KEY, JSON.stringify(error.toJSON().context));
  return { code: error.grpcStatus, details: error.toString(), metadata };
}

/** What a server tells a client about a failure: the WeftError itself, or INTERNAL for anything else (logged apart). */
export function asWeftError(e: unknown, service: string): WeftError {
  return e instanceof WeftError
    ? e
    : new WeftError(CommonErrors.INTERNAL, `internal error in the ${service}; see its log`, {}, { cause: e });
}

let catalogue: Map<string, ErrorCode> | undefined;

function codeNamed(code: string): ErrorCode | undefined {
  // Components define codes at module load; a code defined after the first lookup is found by the slow path.
  catalogue ??= new Map(errorCatalogue().map((c) => [c.code, c]));
  return catalogue.get(code) ?? errorCatalogue().find((c) => c.code === code);
}

/**
 * The WeftError a server reported by its code, message and context (in a response rather than a status); a code
 * this build does not know is INTERNAL, naming it.
 */
export function weftErrorNamed(code: string, message: string, context: Record<string, string>): WeftError {
  const def = codeNamed(code);
  return def
    ? new WeftError(def, message, context)
    : new WeftError(CommonErrors.INTERNAL, `${code}: ${message}`, { ...context, code });
}

/** The WeftError a server sent with a failed call (see {@link toStatus}), or undefined when it sent none. */
export function weftErrorOf(e: unknown): WeftError | undefined {
  if (e instanceof WeftError) return e;
  const status = e as Partial<grpc.ServiceError>;
  const code = status.metadata?.get(CODE_KEY)[0];
  const def = typeof code === 'string' ? codeNamed(code) : undefined;
  if (!def) return undefined;
  let context: Record<string, string> = {};
  try {
    context = JSON.parse(String(status.metadata?.get(CONTEXT_KEY)[0] ?? '{}'));
  } catch {
    // A malformed context only loses detail; the code and message still say what happened.
  }
  const prefix = `${def.code}(${CATEGORIES[def.category].id}): `;
  const details = status.details ?? '';
  const message = details.startsWith(prefix) ? details.slice(prefix.length) : details;
  return new WeftError(def, message, context, { cause: e });
}

/**
 * A failure of the transport (the server was not reached, or failed before it could answer) as a WeftError of
 * `def`: `<what> <endpoint> failed: <reason>`, the reason (also in the context) being the gRPC status and the
 * underlying error, with a hint when TLS verification failed.
 */
export function transportError(e: unknown, def: ErrorCode, what: string, endpoint: string): WeftError {
  const status = e as Partial<grpc.ServiceError>;
  const raw = status.details ?? (e instanceof Error ? e.message : String(e));
  // grpc-js words an unreachable server as `No connection established. Last error: Error: <cause>. Resolution
  // note: …`: the cause is what the operator needs.
  const details = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(raw)?.[1]?.trim() || raw;
  const tls = /certificate|ssl|tls|handshake/i.test(details);
  const hint = tls
    ? ' (TLS verification failed: check that the endpoint uses https with a certificate issued by the configured root CA)'
    : '';
  const reason = `${grpc.status[status.code ?? grpc.status.UNKNOWN]} ${details}${hint}`;
  return new WeftError(def, `${what} ${endpoint} failed: ${reason}`, { endpoint, reason }, { cause: e });
}

/**
 * One error for a call that failed on every endpoint: `<summary>: <endpoint>: <reason>; …`, or, when every endpoint
 * failed for the same reason, `<summary>: <endpoint>, <endpoint>: <reason>`.
 */
export function endpointsFailed(
  def: ErrorCode,
  summary: string,
  failures: readonly { readonly endpoint: string; readonly error: WeftError }[],
): WeftError {
  if (failures.length === 0) return new WeftError(def, `${summary}: no endpoint given`);
  const reasons = failures.map((f) => {
    const reason = f.error.context.reason;
    return typeof reason === 'string' ? reason : f.error.message;
  });
  const same = reasons.every((r) => r === reasons[0]);
  const message = same
    ? `${failures.map((f) => f.endpoint).join(', ')}: ${reasons[0]}`
    : failures.map((f, i) => `${f.endpoint}: ${reasons[i]}`).join('; ');
  return new WeftError(def, `${summary}: ${message}`, {
    endpoints: failures.map((f) => f.endpoint).join(', '),
  });
}
