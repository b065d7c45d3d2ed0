import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsFilesConfig } from '../config/app-config';

export enum GatewayTlsErrorCode {
  Unreadable = 'TLS_FILE_UNREADABLE',
  Invalid = 'TLS_FILE_INVALID',
  Incomplete = 'TLS_FILES_INCOMPLETE',
}

/** A TLS configuration that cannot be used: the message names the configuration key, never a secret. */
export class GatewayTlsError extends Error {
  override name = 'GatewayTlsError';
  constructor(
    readonly code: GatewayTlsErrorCode,
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new GatewayTlsError(GatewayTlsErrorCode.Unreadable, key, `cannot read ${path} (${code})`);
  }
}

/** Short reason of an OpenSSL failure (its message holds no key material). */
function why(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? 'unusable';
}

/**
 * The certificate for server.tlsPort from server.tls: PEM certFile + keyFile, or pfxFile
 * (+ passphrase). Undefined when none is configured (no TLS listener). Every file is read and
 * tried now, so a bad one stops the start naming its key.
 */
export function loadTlsOptions(tls: TlsFilesConfig): SecureContextOptions | undefined {
  const passphrase = tls.passphrase || undefined;
  if (tls.pfxFile) {
    const pfx = read(tls.pfxFile, 'server.tls.pfxFile');
    const options: SecureContextOptions = { pfx, passphrase };
    try {
      createSecureContext(options);
    } catch (err) {
      const reason = why(err);
      const key = /mac verify|password|decrypt|bad decrypt/i.test(String((err as Error).message))
        ? 'server.tls.passphrase'
        : 'server.tls.pfxFile';
      throw new GatewayTlsError(
        GatewayTlsErrorCode.Invalid,
        key,
        key === 'server.tls.passphrase'
          ? `does not open ${tls.pfxFile} (${reason})`
          : `${tls.pfxFile} is not a usable PKCS#12 file (${reason})`,
      );
    }
    return options;
  }
  if (!tls.certFile && !tls.keyFile) return undefined;
  if (!tls.certFile || !tls.keyFile) {
    const missing = tls.certFile ? 'server.tls.keyFile' : 'server.tls.certFile';
    throw new GatewayTlsError(
      GatewayTlsErrorCode.Incomplete,
      missing,
      'must be set too (PEM certFile and keyFile go together)',
    );
  }
  const cert = read(tls.certFile, 'server.tls.certFile');
  const key = read(tls.keyFile, 'server.tls.keyFile');
  try {
    createSecureContext({ cert });
  } catch (err) {
    throw new GatewayTlsError(
      GatewayTlsErrorCode.Invalid,
      'server.tls.certFile',
      `${tls.certFile} is not a PEM certificate (${why(err)})`,
    );
  }
  const options: SecureContextOptions = { cert, key, passphrase };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new GatewayTlsError(
      GatewayTlsErrorCode.Invalid,
      'server.tls.keyFile',
      `${tls.keyFile} is not the PEM private key of the certificate (${why(err)})`,
    );
  }
  return options;
}
