import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { CommonErrors, WeftError } from '../errors/index.js';
import { AuditLog, certificateCaller, ledgerCaller, outcomeOf } from './audit.js';
import { withSpan } from './tracing.js';

describe('the audit log', () => {
  it('writes calls and topology changes as JSON lines with the node and the trace id', async () => {
    const lines: Record<string, unknown>[] = [];
    const audit = new AuditLog({ node: 'p1', destination: { write: (s) => lines.push(JSON.parse(s)) } });
    const span = await withSpan('call', async (s) => {
      audit.call({
        api: 'admin-api',
        method: 'Ping',
        who: 'anonymous',
        peer: '127.0.0.1:1',
        ...outcomeOf(new WeftError(CommonErrors.PERMISSION_DENIED, 'no')),
        durationMs: 1.5,
      });
      return s;
    });
    audit.topology({ operation: 'propose', mapping: 'm', signer: 'ns', signedBy: ['ns'], hash: 'h' });
    expect(lines[0]).toMatchObject({
      audit: 'call',
      node: 'p1',
      outcome: 'PERMISSION_DENIED',
      code: 'PERMISSION_DENIED',
      trace_id: span.traceId,
    });
    expect(lines[1]).toMatchObject({ audit: 'topology', operation: 'propose', signer: 'ns' });
  });

  it('names the caller', async () => {
    const token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new Uint8Array(32));
    expect(ledgerCaller({ wildcard: false, userId: 'bob' }, `Bearer ${token}`)).toBe('user:bob');
    expect(ledgerCaller({ wildcard: true, userId: undefined }, undefined)).toBe('wildcard');
    expect(ledgerCaller(undefined, `Bearer ${token}`)).toBe('unverified:alice');
    expect(ledgerCaller(undefined, 'Bearer not-a-jwt')).toBe('anonymous');
    expect(ledgerCaller(undefined, undefined)).toBe('anonymous');
    expect(certificateCaller({ sslPeerCertificate: { subject: { CN: 'ops', O: 'acme' } } })).toBe(
      'cert:CN=ops,O=acme',
    );
    expect(certificateCaller(undefined)).toBe('anonymous');
    expect(outcomeOf(undefined)).toEqual({ outcome: 'OK' });
    expect(outcomeOf(new Error('x'))).toEqual({ outcome: 'INTERNAL' });
  });
});
