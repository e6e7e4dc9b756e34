/**
 * A throwaway PKI for TLS tests, made with the openssl command line (Debian's `openssl` package): a CA, a server
 * certificate for 127.0.0.1, and client certificates (CN = device id) in the layout `provisionDevice` writes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CREDENTIAL_FILES } from '../../../ops/devices/files';

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  readonly serverKey: Buffer;
  readonly serverCert: Buffer;
  /** `<dir>/devices/<id>/certificate.pem.crt` and `private.pem.key` for each client. */
  readonly credentialsDir: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates a CA, a server certificate and one client certificate per device id. EC P-256 keys: fast to make. */
export function createPki(deviceIds: readonly string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'sim-pki-'));
  const key = (file: string) => openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file], dir);
  key('ca.key');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Test CA', '-days', '2', '-out', 'ca.pem'], dir);
  const issue = (name: string, subject: string, extensions: string) => {
    key(`${name}.key`);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.pem`,
      ],
      dir,
    );
  };
  issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  const credentialsDir = join(dir, 'devices');
  for (const id of deviceIds) {
    issue(`client-${id}`, `/CN=${id}`, 'extendedKeyUsage=clientAuth\n');
    mkdirSync(join(credentialsDir, id), { recursive: true });
    writeFileSync(join(credentialsDir, id, CREDENTIAL_FILES.certificate), readFileSync(join(dir, `client-${id}.pem`)));
    writeFileSync(join(credentialsDir, id, CREDENTIAL_FILES.privateKey), readFileSync(join(dir, `client-${id}.key`)));
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem')),
    serverKey: readFileSync(join(dir, 'server.key')),
    serverCert: readFileSync(join(dir, 'server.pem')),
    credentialsDir,
  };
}
