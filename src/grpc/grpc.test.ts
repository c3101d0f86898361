import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { CommonErrors, WeftError } from '../errors/index.js';
import { createLogger } from '../observability/index.js';
import { channelCredentials, parseEndpoint } from './client.js';
import { auditedUnary, bindServer, isLoopback, serverCredentials } from './server.js';
import { endpointsFailed, toStatus, transportError, weftErrorOf } from './status.js';
import { certificates } from './testing.js';

const PING = {
  path: '/weft.test.Ping/Ping',
  requestStream: false,
  responseStream: false,
  requestSerialize: (s: string) => Buffer.from(s),
  requestDeserialize: (b: Buffer) => b.toString(),
  responseSerialize: (s: string) => Buffer.from(s),
  responseDeserialize: (b: Buffer) => b.toString(),
};

describe('gRPC helpers', () => {
  it('carry a WeftError across a status with its code in the details', () => {
    const error = new WeftError(CommonErrors.NOT_FOUND, 'no such thing', { what: 'thing' });
    const status = toStatus(error, 'test API');
    expect(status.code).toBe(grpc.status.NOT_FOUND);
    expect(status.details).toBe('NOT_FOUND(11): no such thing');
    const back = weftErrorOf({ ...status, message: status.details })!;
    expect(back.code).toBe('NOT_FOUND');
    expect(back.message).toBe('no such thing');
    expect(back.context).toEqual({ what: 'thing' });
    const internal = toStatus(new Error('secret detail'), 'test API');
    expect(internal.code).toBe(grpc.status.INTERNAL);
    expect(internal.details).toBe('INTERNAL(4): internal error in the test API; see its log');
    expect(weftErrorOf({ code: grpc.status.UNAVAILABLE, details: 'connect failed' })).toBeUndefined();
  });

  it('name the endpoint and hint at the root CA when TLS verification fails', () => {
    const e = transportError(
      { code: grpc.status.UNAVAILABLE, details: 'certificate verify failed' },
      CommonErrors.UNAVAILABLE,
      'admin endpoint',
      'https://x:1',
    );
    expect(e.message).toBe(
      'admin endpoint https://x:1 failed: UNAVAILABLE certificate verify failed (TLS verification failed: check that the endpoint uses https with a certificate issued by the configured root CA)',
    );
  });

  it("keep grpc-js's underlying cause of an unreachable server, and fold endpoints that failed alike", () => {
    const unreachable = (endpoint: string, cause: string) =>
      transportError(
        {
          code: grpc.status.UNAVAILABLE,
          details: `No connection established. Last error: Error: ${cause}. Resolution note: `,
        },
        CommonErrors.UNAVAILABLE,
        'sequencer endpoint',
        endpoint,
      );
    const refused = unreachable('http://a:1', 'connect ECONNREFUSED 127.0.0.1:1');
    expect(refused.message).toBe(
      'sequencer endpoint http://a:1 failed: UNAVAILABLE connect ECONNREFUSED 127.0.0.1:1',
    );
    const same = endpointsFailed(CommonErrors.UNAVAILABLE, 'nobody answered', [
      { endpoint: 'http://a:1', error: unreachable('http://a:1', 'self-signed certificate') },
      { endpoint: 'http://b:1', error: unreachable('http://b:1', 'self-signed certificate') },
    ]);
    expect(same.message).toMatch(
      /^nobody answered: http:\/\/a:1, http:\/\/b:1: UNAVAILABLE self-signed certificate \(TLS verification failed: [^)]+\)$/,
    );
    const different = endpointsFailed(CommonErrors.UNAVAILABLE, 'nobody answered', [
      { endpoint: 'http://a:1', error: refused },
      { endpoint: 'http://b:1', error: new WeftError(CommonErrors.UNAVAILABLE, 'not bootstrapped yet') },
    ]);
    expect(different.message).toBe(
      'nobody answered: http://a:1: UNAVAILABLE connect ECONNREFUSED 127.0.0.1:1; http://b:1: not bootstrapped yet',
    );
    expect(endpointsFailed(CommonErrors.UNAVAILABLE, 'nobody answered', []).message).toBe(
      'nobody answered: no endpoint given',
    );
  });

  it('allow plaintext on loopback only', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', '0.0.0.0', 'example.com'].some(isLoopback)).toBe(false);
    const options = { what: 'test endpoint', insecureCode: CommonErrors.PERMISSION_DENIED };
    expect(parseEndpoint('http://127.0.0.1:5002', options)).toEqual({
      url: 'http://127.0.0.1:5002',
      target: '127.0.0.1:5002',
      secure: false,
    });
    expect(() => parseEndpoint('http://10.0.0.1:5002', options)).toThrow(/plaintext on a non-loopback host/);
    expect(parseEndpoint('http://10.0.0.1:5002', { ...options, insecure: true }).secure).toBe(false);
    expect(parseEndpoint('https://node.example.com', options).target).toBe('node.example.com:443');
    expect(() => parseEndpoint('node:5002', options)).toThrow(/must be http:\/\/host:port/);
    expect(() => parseEndpoint('not a url', options)).toThrow(/is not a URL/);
  });

  it('log one audit line per call with method, caller, trace id, status and duration', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    });
    const server = new grpc.Server();
    server.addService(
      { ping: PING },
      {
        ping: auditedUnary<string, string>(
          { logger, level: 'info', service: 'test API' },
          'Ping',
          async (call) => {
            if (call.request === 'fail') throw new WeftError(CommonErrors.PERMISSION_DENIED, 'not you');
            logger.info('inside the call');
            return `pong ${call.request}`;
          },
        ),
      },
    );
    const port = await bindServer(server, '127.0.0.1', 0, serverCredentials(undefined), 'test API');
    const endpoint = parseEndpoint(`http://127.0.0.1:${port}`, {
      what: 'test endpoint',
      insecureCode: CommonErrors.PERMISSION_DENIED,
    });
    const client = new grpc.Client(endpoint.target, channelCredentials(endpoint));
    const call = (request: string, metadata = new grpc.Metadata()) =>
      new Promise<string>((resolve, reject) =>
        client.makeUnaryRequest(
          PING.path,
          PING.requestSerialize,
          PING.responseDeserialize,
          request,
          metadata,
          (e, v) => (e ? reject(e) : resolve(v!)),
        ),
      );
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const metadata = new grpc.Metadata();
      metadata.set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`);
      expect(await call('a', metadata)).toBe('pong a');
      const failure = await call('fail').catch((e: unknown) => e);
      expect(weftErrorOf(failure)?.code).toBe('PERMISSION_DENIED');
      const [inside, ok, failed] = lines;
      expect(inside).toMatchObject({ msg: 'inside the call', trace_id: traceId });
      expect(ok).toMatchObject({
        method: 'Ping',
        status: 'OK',
        trace_id: traceId,
        msg: 'test API call Ping: OK',
      });
      expect(ok!.peer).toMatch(/127\.0\.0\.1:\d+/);
      expect(typeof ok!.durationMs).toBe('number');
      expect(failed).toMatchObject({
        method: 'Ping',
        status: 'PERMISSION_DENIED',
        code: 'PERMISSION_DENIED',
        error: 'not you',
      });
      expect(failed!.trace_id).not.toBe(traceId);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  describe('over TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-grpc-tls-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const certs = certificates(dir, 'tls');
    const other = certificates(dir, 'other');
    const endpoint = (url: string) =>
      parseEndpoint(url, { what: 'test endpoint', insecureCode: CommonErrors.PERMISSION_DENIED });
    const call = (client: grpc.Client, request: string) =>
      new Promise<string>((resolve, reject) =>
        client.makeUnaryRequest(
          PING.path,
          PING.requestSerialize,
          PING.responseDeserialize,
          request,
          new grpc.Metadata(),
          { deadline: Date.now() + 5000 },
          (e, v) => (e ? reject(e) : resolve(v!)),
        ),
      );

    it('send no TLS ServerName to an IP address (RFC 6066; Node warns DEP0123), but do to a host name', async () => {
      // An HTTP/2 TLS server that records the ServerName of each handshake and answers every call UNIMPLEMENTED.
      const seen: (string | false | null)[] = [];
      const server = createSecureServer({
        key: readFileSync(certs.keyFile),
        cert: readFileSync(certs.certFile),
      });
      server.on('secureConnection', (socket: TLSSocket) => seen.push(socket.servername));
      server.on('stream', (stream) =>
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
          { endStream: true },
        ),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        for (const url of [`https://127.0.0.1:${port}`, `https://localhost:${port}`]) {
          const e = endpoint(url);
          const client = new grpc.Client(e.target, channelCredentials(e, readFileSync(certs.caFile)));
          const failure = (await call(client, 'x').catch((err: unknown) => err)) as grpc.ServiceError;
          client.close();
          expect(failure.code, url).toBe(grpc.status.UNIMPLEMENTED);
        }
        expect(seen).toEqual([false, 'localhost']);
      } finally {
        server.close();
      }
    });

    it('verify the certificate of a server addressed by IP against the root CA and the IP', async () => {
      const server = new grpc.Server();
      server.addService(
        { ping: PING },
        {
          ping: (c: grpc.ServerUnaryCall<string, string>, cb: grpc.sendUnaryData<string>) =>
            cb(null, `pong ${c.request}`),
        },
      );
      const tls = { certChain: readFileSync(certs.certFile), privateKey: readFileSync(certs.keyFile) };
      const port = await bindServer(server, '127.0.0.1', 0, serverCredentials(tls), 'test API');
      const client = (ca: string) => {
        const e = endpoint(`https://127.0.0.1:${port}`);
        return new grpc.Client(e.target, channelCredentials(e, readFileSync(ca)));
      };
      try {
        const trusted = client(certs.caFile);
        expect(await call(trusted, 'a')).toBe('pong a');
        trusted.close();
        const untrusted = client(other.caFile);
        const failure = (await call(untrusted, 'b').catch((e: unknown) => e)) as grpc.ServiceError;
        untrusted.close();
        expect(failure.code).toBe(grpc.status.UNAVAILABLE);
        expect(failure.details).toMatch(/certificate/);
      } finally {
        server.forceShutdown();
      }
    });
  });
});
