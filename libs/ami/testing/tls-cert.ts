import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway self-signed certificate and its key, PEM. */
export interface SelfSignedCert {
  cert: string;
  key: string;
}

/** What else a test certificate names. */
export interface SelfSignedCertOptions {
  /** An IP address named as subjectAltName (what a TLS client checks when it connects to an IP). */
  ip?: string;
}

/** A self-signed certificate written as files (what `server.tls` reads), with its PEM text. */
export interface SelfSignedCertFiles extends SelfSignedCert {
  certFile: string;
  keyFile: string;
}

/** Runs the openssl command; fails, saying so, when it is missing: tests never skip silently. */
function openssl(args: string[], input = ''): void {
  try {
    execFileSync('openssl', args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'the openssl command is missing (scripts/install-test-deps.sh installs it)'
        : (err as Error).message;
    throw new Error(`cannot make a test certificate with openssl: ${reason}`, { cause: err });
  }
}

/** Writes a self-signed RSA certificate for `CN=<cn>` valid one day as `cert.pem` and `key.pem` in `dir`. */
function writeCertFiles(
  dir: string,
  cn: string,
  opts: SelfSignedCertOptions,
): { certFile: string; keyFile: string } {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const san = opts.ip === undefined ? [] : ['-addext', `subjectAltName=IP:${opts.ip}`];
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '1'].concat(
      san,
      ['-keyout', keyFile, '-out', certFile],
    ),
  );
  return { certFile, keyFile };
}

/**
 * Makes a self-signed RSA certificate for `CN=<cn>` valid one day, with the openssl command, in a
 * temp dir removed afterwards. Fails, saying so, when openssl is missing
 * (scripts/install-test-deps.sh installs it): tests never skip silently.
 */
export function makeSelfSignedCert(
  cn = 'localhost',
  opts: SelfSignedCertOptions = {},
): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'ami-tls-'));
  try {
    const { certFile, keyFile } = writeCertFiles(dir, cn, opts);
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * As {@link makeSelfSignedCert}, but the files stay in `dir` (the caller removes it): `cert.pem`
 * and `key.pem`.
 */
export function writeSelfSignedCert(
  dir: string,
  opts: SelfSignedCertOptions & { cn?: string } = {},
): SelfSignedCertFiles {
  const { certFile, keyFile } = writeCertFiles(dir, opts.cn ?? 'localhost', opts);
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
}

/** Writes `certificate.pfx` in `dir`: the PKCS#12 bundle of `files` under `passphrase`; its path. */
export function writePfx(dir: string, files: SelfSignedCertFiles, passphrase: string): string {
  const pfxFile = join(dir, 'certificate.pfx');
  openssl(
    ['pkcs12', '-export', '-in', files.certFile, '-inkey', files.keyFile, '-out', pfxFile].concat([
      '-passout',
      'stdin', // not on the command line: an error message would show it
    ]),
    `${passphrase}\n`,
  );
  return pfxFile;
}
