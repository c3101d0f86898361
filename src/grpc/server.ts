import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { ApiServerConfig } from '../config/index.js';
import { CommonErrors, type ErrorCode, isWeftError, WeftError } from '../errors/index.js';
import {
  type ApiMetrics,
  type AuditedApi,
  type AuditLog,
  certificateCaller,
  type Logger,
  withSpan,
} from '../observability/index.js';
import { type Clock, startStopwatch, systemClock } from '../time/index.js';
import { asWeftError, toStatus, weftErrorOf } from './status.js';

/** PEM-encoded server certificate chain and private key, and optionally the CAs that client certificates need. */
export interface ServerTls {
  readonly certChain: Uint8Array | string;
  readonly privateKey: Uint8Array | string;
  /** CA certificates a client's certificate must chain to; absent: clients present no certificate. */
  readonly clientCa?: Uint8Array | string;
}

/** Whether `host` is a loopback address, where plaintext gRPC is allowed for development. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Refuses to serve plaintext off loopback unless `insecure` (a TLS-terminating proxy in front): `def` is the
 * component's error code, `hint` says which settings fix it.
 */
export function requireTransportSecurity(
  address: string,
  tls: ServerTls | undefined,
  insecure: boolean,
  def: ErrorCode,
  what: string,
  hint: string,
): void {
  if (!tls && !isLoopback(address) && !insecure) {
    throw new WeftError(def, `the ${what} on ${address} has no TLS; ${hint}`);
  }
}

/** Reads the PEM files a config's `tls` section names; `section` (e.g. `admin-api`) names them in errors. */
export async function readServerTls(
  tls: NonNullable<ApiServerConfig['tls']>,
  section: string,
): Promise<ServerTls> {
  const read = async (file: string, key: string) => {
    try {
      return await readFile(file);
    } catch (e) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `cannot read ${section}.tls.${key} ${file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  };
  return {
    certChain: await read(tls.certChainFile, 'cert-chain-file'),
    privateKey: await read(tls.privateKeyFile, 'private-key-file'),
    ...(tls.trustCollectionFile === undefined
      ? {}
      : { clientCa: await read(tls.trustCollectionFile, 'trust-collection-file') }),
  };
}

export function serverCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.clientCa === undefined ? null : Buffer.from(tls.clientCa),
    [{ cert_chain: Buffer.from(tls.certChain), private_key: Buffer.from(tls.privateKey) }],
    tls.clientCa !== undefined,
  );
}

/** Binds `server` to `address:port` (port 0 picks a free one) and returns the bound port. */
export function bindServer(
  server: grpc.Server,
  address: string,
  port: number,
  credentials: grpc.ServerCredentials,
  what: string,
): Promise<number> {
  const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials, (e, bound) =>
      e
        ? reject(
            new WeftError(
              CommonErrors.UNAVAILABLE,
              `cannot bind the ${what} to ${host}:${port}: ${e.message}`,
            ),
          )
        : resolve(bound),
    ),
  );
}

/** The URL a client uses for a server bound to `address:port`; a wildcard address is reached on loopback. */
export function endpointUrl(address: string, port: number, tls: boolean): string {
  const host =
    address === '0.0.0.0' || address === '::'
      ? '127.0.0.1'
      : address.includes(':') && !address.startsWith('[')
        ? `[${address}]`
        : address;
  return `${tls ? 'https' : 'http'}://${host}:${port}`;
}

/** How an API logs its calls (Canton's ApiRequestLogger): every call at `level`, with the service's name. */
export interface CallLogging {
  readonly logger: Logger;
  /** The level of the line written for each call; failures other than WeftErrors are always logged as errors. */
  readonly level: 'info' | 'debug';
  /** For messages, e.g. 'admin API'. */
  readonly service: string;
  /** Times the calls; default the system clock. */
  readonly clock?: Clock;
  /** Where each call is audited (who, what, outcome), besides its log line. */
  readonly audit?: { readonly log: AuditLog; readonly api: AuditedApi };
  /** Counts and times the calls. */
  readonly metrics?: ApiMetrics;
}

/**
 * A unary handler that runs `handle` in a span continuing the caller's `traceparent` (so every line it logs has
 * the trace id), maps a thrown WeftError to its gRPC status, and logs one audit line per call: method, caller
 * address, trace id, status and duration.
 */
export function auditedUnary<Req, Res>(
  logging: CallLogging,
  method: string,
  handle: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const traceparent = call.metadata.get('traceparent')[0];
    auditedCall(
      logging,
      method,
      call,
      typeof traceparent === 'string' ? traceparent : undefined,
      () => handle(call),
      (outcome) => (outcome.ok ? callback(null, outcome.response) : callback(outcome.status)),
    );
  };
}

/** How an audited call ended: its response, or the error as the client is told it and its gRPC status. */
export type CallOutcome<Res> =
  | { readonly ok: true; readonly response: Res }
  | { readonly ok: false; readonly error: WeftError; readonly status: Partial<grpc.StatusObject> };

/**
 * One call as {@link auditedUnary} runs it, for calls that are not a gRPC call of their own (the messages of a
 * stream that carries calls): `handle` runs in a span continuing `traceparent`, the call is logged, counted and
 * audited under `method`, and `respond` gets the outcome.
 */
export function auditedCall<Res>(
  logging: CallLogging,
  method: string,
  call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'getPeer' | 'getAuthContext'>,
  traceparent: string | undefined,
  handle: () => Promise<Res>,
  respond: (outcome: CallOutcome<Res>) => void,
): void {
  withSpan(
    method,
    async () => {
      const watch = startStopwatch(logging.clock ?? systemClock);
      const log = (status: string, extra: { code?: string; error?: string } = {}) => {
        const durationMs = Math.round(watch.elapsedMs() * 1000) / 1000;
        logging.logger[logging.level](
          { method, peer: call.getPeer(), status, durationMs, ...extra },
          `${logging.service} call ${method}: ${status}`,
        );
        logging.metrics?.observe(method, status, watch.elapsedMs());
        logging.audit?.log.call({
          api: logging.audit.api,
          method,
          who: certificateCaller(call.getAuthContext?.()),
          peer: call.getPeer(),
          outcome: status,
          ...(extra.code === undefined ? {} : { code: extra.code }),
          durationMs,
        });
      };
      try {
        const response = await handle();
        log('OK');
        respond({ ok: true, response });
      } catch (e) {
        const told = asWeftError(e, logging.service);
        const status = toStatus(told, logging.service);
        const error = weftErrorOf(e);
        if (!isWeftError(e))
          logging.logger.error({ err: e, method }, `${logging.service} call ${method} failed`);
        log(grpc.status[status.code ?? grpc.status.UNKNOWN] ?? 'UNKNOWN', {
          ...(error ? { code: error.code, error: error.message } : {}),
        });
        respond({ ok: false, error: told, status });
      }
    },
    traceparent === undefined ? {} : { parent: traceparent },
  );
}

/**
 * Service implementations that answer every call with `error` (e.g. the public API of a node that has no
 * synchronizer yet), so clients get a clear status instead of a refused connection.
 */
export function failingService(
  definition: grpc.ServiceDefinition,
  error: WeftError,
  service: string,
): grpc.UntypedServiceImplementation {
  const status = () => toStatus(error, service);
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    implementation[name] = method.responseStream
      ? (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', status())
      : (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(status());
  }
  return implementation;
}
