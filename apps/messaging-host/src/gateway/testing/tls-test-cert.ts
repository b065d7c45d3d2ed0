import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSelfSignedCert, type SelfSignedCertFiles } from '@app/ami/testing';

/** A self-signed certificate for 127.0.0.1 written in its own temp dir. */
export interface TlsTestCert extends SelfSignedCertFiles {
  /** The temp dir holding `cert.pem` and `key.pem` (a test may write more there). */
  dir: string;
  /** The certificate, to trust as the CA of a TLS client. */
  ca: Buffer;
  /** Removes the dir. */
  remove(): void;
}

/**
 * Makes a certificate for `CN=127.0.0.1` with `subjectAltName=IP:127.0.0.1` (what a client
 * connecting to 127.0.0.1 checks) in a new temp dir, for `server.tls.certFile`/`keyFile`.
 */
export function makeTlsTestCert(prefix = 'gw-tls-'): TlsTestCert {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const files = writeSelfSignedCert(dir, { cn: '127.0.0.1', ip: '127.0.0.1' });
    return {
      ...files,
      dir,
      ca: Buffer.from(files.cert),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
