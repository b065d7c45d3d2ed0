import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePfx } from '@app/ami/testing';
import { TlsFilesConfig } from '../config/app-config';
import { GatewayTlsError, loadTlsOptions } from './gateway-tls';
import { makeTlsTestCert, type TlsTestCert } from './testing/tls-test-cert';

function files(over: Partial<TlsFilesConfig>): TlsFilesConfig {
  return Object.assign(new TlsFilesConfig(), over);
}

describe('TLS certificate files (server.tls)', () => {
  let tls: TlsTestCert;
  let dir: string;
  let cert: string;
  let key: string;
  let pfx: string;
  before(() => {
    tls = makeTlsTestCert('gw-tls-files-');
    ({ dir, certFile: cert, keyFile: key } = tls);
    pfx = writePfx(dir, tls, 'pfx-pass-1');
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
  });
  after(() => tls?.remove());

  const fails = (f: TlsFilesConfig, key: string, re: RegExp): void => {
    assert.throws(
      () => loadTlsOptions(f),
      (e: unknown) => {
        assert.ok(e instanceof GatewayTlsError);
        assert.equal(e.key, key);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('pfx-pass-1'), 'the passphrase appears in the message');
        return true;
      },
    );
  };

  it('is off without files and loads PEM or PFX', () => {
    assert.equal(loadTlsOptions(files({})), undefined);
    assert.ok(loadTlsOptions(files({ certFile: cert, keyFile: key })));
    assert.ok(loadTlsOptions(files({ pfxFile: pfx, passphrase: 'pfx-pass-1' })));
  });
  it('names the key of a bad file', () => {
    fails(
      files({ certFile: join(dir, 'missing.pem'), keyFile: key }),
      'server.tls.certFile',
      /cannot read .*ENOENT/,
    );
    fails(files({ certFile: cert }), 'server.tls.keyFile', /must be set too/);
    fails(
      files({ certFile: join(dir, 'junk.pem'), keyFile: key }),
      'server.tls.certFile',
      /not a PEM certificate/,
    );
    fails(
      files({ certFile: cert, keyFile: join(dir, 'junk.pem') }),
      'server.tls.keyFile',
      /private key/,
    );
    fails(files({ pfxFile: join(dir, 'junk.pem') }), 'server.tls.pfxFile', /PKCS#12/);
    fails(files({ pfxFile: pfx, passphrase: 'wrong' }), 'server.tls.passphrase', /does not open/);
  });
});
