import * as grpc from '@grpc/grpc-js';
import { CommonErrors, type ErrorCode, errorCatalogue, WeftError } from '../errors/index.js';
import { SequencerErrors } from './errors.js';

/** Metadata key of the member id on authenticated calls; the token goes in `authorization` as `Bearer <base64>`. */
export const MEMBER_METADATA_KEY = 'weft-member';
export const AUTHORIZATION_METADATA_KEY = 'authorization';

/** Whether `host` is a loopback address, where plaintext gRPC is allowed for development. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Metadata keys that carry a WeftError across gRPC. */
const CODE_KEY = 'weft-error-code';
const CONTEXT_KEY = 'weft-error-context';

/** A gRPC status for `e`: a WeftError keeps its code, message and context; anything else becomes INTERNAL. */
export function toStatus(e: unknown): Partial<grpc.StatusObject> {
  const error =
    e instanceof WeftError
      ? e
      : new WeftError(
          CommonErrors.INTERNAL,
          'internal error in the sequencer; see its log',
          {},
          { cause: e },
        );
  const metadata = new grpc.Metadata();
  metadata.set(CODE_KEY, error.code);
  metadata.set(CONTEXT_KEY, JSON.stringify(error.toJSON().context));
  return { code: error.grpcStatus, details: error.message, metadata };
}

let catalogue: Map<string, ErrorCode> | undefined;

function codeNamed(code: string): ErrorCode | undefined {
  catalogue ??= new Map(errorCatalogue().map((c) => [c.code, c]));
  return catalogue.get(code) ?? errorCatalogue().find((c) => c.code === code);
}

/**
 * The WeftError a failed call stands for: the server's own when it sent one, else (the server was not reached or
 * failed in transport) SEQUENCER_CONNECTION_FAILED naming the endpoint and what gRPC reported.
 */
export function fromServiceError(e: unknown, endpoint: string): WeftError {
  if (e instanceof WeftError) return e;
  const status = e as Partial<grpc.ServiceError>;
  const code = status.metadata?.get(CODE_KEY)[0];
  const def = typeof code === 'string' ? codeNamed(code) : undefined;
  if (def) {
    let context: Record<string, string> = {};
    try {
      context = JSON.parse(String(status.metadata?.get(CONTEXT_KEY)[0] ?? '{}'));
    } catch {
      // A malformed context only loses detail; the code and message still say what happened.
    }
    return new WeftError(def, status.details ?? '', context, { cause: e });
  }
  const details = status.details ?? (e instanceof Error ? e.message : String(e));
  if (status.code === grpc.status.RESOURCE_EXHAUSTED) {
    // gRPC's own message size limit, before the sequencer saw the request.
    return new WeftError(
      SequencerErrors.SEQUENCER_REQUEST_TOO_LARGE,
      `sequencer endpoint ${endpoint} refused the message: ${details}`,
      { endpoint },
      { cause: e },
    );
  }
  const tls = /certificate|ssl|tls|handshake/i.test(details);
  const hint = tls
    ? ' (TLS verification failed: check that the endpoint uses https with a certificate issued by the configured root CA)'
    : '';
  return new WeftError(
    SequencerErrors.SEQUENCER_CONNECTION_FAILED,
    `sequencer endpoint ${endpoint} failed: ${grpc.status[status.code ?? grpc.status.UNKNOWN]} ${details}${hint}`,
    { endpoint },
    { cause: e },
  );
}
