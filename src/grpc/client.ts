import { isIP, type Socket } from 'node:net';
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CommonErrors, type ErrorCode, WeftError } from '../errors/index.js';
import { isLoopback } from './server.js';

export interface ParsedEndpoint {
  /** As configured, for messages. */
  readonly url: string;
  /** host:port for gRPC. */
  readonly target: string;
  readonly secure: boolean;
}

/**
 * Parses `http://host:port` or `https://host:port`. Plaintext is refused off loopback unless `insecure`, with
 * `insecureCode`; `what` names the endpoint in messages ('sequencer endpoint', 'admin endpoint').
 */
export function parseEndpoint(
  url: string,
  options: { readonly insecure?: boolean; readonly what: string; readonly insecureCode: ErrorCode },
): ParsedEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `${options.what} '${url}' is not a URL like https://host:port`,
    );
  }
  const secure = parsed.protocol === 'https:';
  if ((!secure && parsed.protocol !== 'http:') || (parsed.pathname !== '/' && parsed.pathname !== '')) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `${options.what} '${url}' must be http://host:port or https://host:port, without a path`,
    );
  }
  if (!secure && !options.insecure && !isLoopback(parsed.hostname)) {
    throw new WeftError(
      options.insecureCode,
      `${options.what} ${url} is plaintext on a non-loopback host; use https:// or allow insecure connections explicitly`,
    );
  }
  const port = parsed.port || (secure ? '443' : '80');
  return { url, target: `${parsed.hostname}:${port}`, secure };
}

/** A client certificate chain and key (PEM), for servers that authenticate clients by certificate. */
export interface ClientCertificate {
  readonly certChain: Uint8Array | string;
  readonly privateKey: Uint8Array | string;
}

/**
 * Channel credentials for an endpoint: plaintext for http, else TLS trusting `customTrustCertificates` (PEM) or,
 * when absent, the system's public CAs.
 */
export function channelCredentials(
  endpoint: ParsedEndpoint,
  customTrustCertificates?: Uint8Array | string,
  clientCertificate?: ClientCertificate,
): grpc.ChannelCredentials {
  if (!endpoint.secure) return grpc.credentials.createInsecure();
  const host = endpoint.target.slice(0, endpoint.target.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    return new IpAddressTlsCredentials(
      host,
      createSecureContext({
        ...(customTrustCertificates === undefined ? {} : { ca: Buffer.from(customTrustCertificates) }),
        ...(clientCertificate
          ? { key: Buffer.from(clientCertificate.privateKey), cert: Buffer.from(clientCertificate.certChain) }
          : {}),
      }),
    );
  }
  return grpc.credentials.createSsl(
    customTrustCertificates === undefined ? null : Buffer.from(customTrustCertificates),
    clientCertificate ? Buffer.from(clientCertificate.privateKey) : null,
    clientCertificate ? Buffer.from(clientCertificate.certChain) : null,
  );
}

/**
 * TLS to a server addressed by an IP address. grpc-js sends the target host as the TLS ServerName (SNI), which RFC
 * 6066 forbids for IP addresses (Node warns: DEP0123), so for these endpoints the handshake is made here, as
 * grpc-js makes it but without a ServerName; Node then checks the certificate against the IP (an IP SAN).
 */
class IpAddressTlsCredentials extends grpc.ChannelCredentials {
  constructor(
    private readonly host: string,
    private readonly context: SecureContext,
  ) {
    super();
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(
    _target: unknown,
    _options: unknown,
    callCredentials = grpc.credentials.createEmpty(),
  ): ReturnType<grpc.ChannelCredentials['_createSecureConnector']> {
    const { host, context } = this;
    return {
      connect: (socket: Socket) =>
        new Promise((resolve, reject) => {
          const tls = connect({ socket, host, secureContext: context, ALPNProtocols: ['h2'] }, () =>
            tls.authorized ? resolve({ socket: tls, secure: true }) : reject(tls.authorizationError),
          );
          tls.on('error', reject);
        }),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials,
      destroy: () => {},
    };
  }
}

/** A generated client's unary method, as grpc-js declares it. */
export type Unary<Req, Res> = (
  input: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, value?: Res) => void,
) => grpc.ClientUnaryCall;

/** Calls a unary method as a promise; a failure (or an empty response) is turned into an error by `toError`. */
export function callUnary<Req, Res>(
  method: Unary<Req, Res>,
  request: Req,
  metadata: grpc.Metadata,
  deadline: Date,
  toError: (e: unknown) => Error,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline }, (err, value) => {
      if (err || value === undefined) reject(toError(err ?? new Error('empty response')));
      else resolve(value);
    });
  });
}
