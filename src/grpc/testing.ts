/** Test helpers for TLS: certificates made with the openssl CLI. Imported by tests only. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A root CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, both issued by the CA; made
 * with the openssl CLI.
 */
export function certificates(
  dir: string,
  name: string,
): { caFile: string; certFile: string; keyFile: string; clientCertFile: string; clientKeyFile: string } {
  const file = (f: string) => join(dir, `${name}-${f}`);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-subj',
    `/CN=${name} CA`,
    '-days',
    '2',
  );
  const issue = (who: string, subject: string, extensions: string) => {
    openssl('req', ...ec, '-keyout', file(`${who}.key`), '-out', file(`${who}.csr`), '-subj', subject);
    writeFileSync(file(`${who}.cnf`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${who}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file(`${who}.crt`),
      '-days',
      '2',
      '-extfile',
      file(`${who}.cnf`),
    );
  };
  issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  issue('client', '/CN=operator', 'extendedKeyUsage=clientAuth\n');
  return {
    caFile: file('ca.crt'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
  };
}
