import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway self-signed certificate and its key, PEM. */
export interface SelfSignedCert {
  cert: string;
  key: string;
}

/**
 * Makes a self-signed RSA certificate for `CN=<cn>` valid one day, with the openssl command, in a
 * temp dir removed afterwards. Fails, saying so, when openssl is missing
 * (scripts/install-test-deps.sh installs it): tests never skip silently.
 */
export function makeSelfSignedCert(cn = 'localhost'): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'ami-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '1'].concat([
        '-keyout',
        key,
        '-out',
        cert,
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'the openssl command is missing (scripts/install-test-deps.sh installs it)'
        : (err as Error).message;
    throw new Error(`cannot make a test certificate with openssl: ${reason}`, { cause: err });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
