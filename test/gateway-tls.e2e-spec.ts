import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:https';
import { join } from 'node:path';
import { writePfx } from '@app/ami/testing';
import { WsCtiClient } from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import {
  makeTlsTestCert,
  type TlsTestCert,
} from '../apps/messaging-host/src/gateway/testing/tls-test-cert';
import { freePort, startService, type ServiceProcess } from './support/service-process';

const PASSPHRASE = 'pfx-e2e-passphrase';

function httpsGet(
  port: number,
  path: string,
  ca: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('gateway e2e: TLS listener of the service process', () => {
  let tls: TlsTestCert;
  let dir: string;
  let key: string;
  let pfx: string;
  const started: ServiceProcess[] = [];

  before(() => {
    tls = makeTlsTestCert('gw-tls-e2e-');
    ({ dir, keyFile: key } = tls);
    pfx = writePfx(dir, tls, PASSPHRASE);
  });
  after(() => {
    for (const p of started) p.kill();
    tls?.remove();
  });

  const base = async (): Promise<Record<string, string>> => ({
    ASTERISK__URL: '127.0.0.1',
    ASTERISK__PORT: String(await freePort()),
    ASTERISK__USERNAME: 'nobody',
    SERVER__HOST: '127.0.0.1',
    SERVER__PORT: String(await freePort()),
    SERVER__TLSPORT: String(await freePort()),
    STORAGE__FILE__PATH: join(dir, 'settings.json'),
  });

  it('stops the start on a bad certificate file, naming the key and not the passphrase', async () => {
    const p = startService({
      ...(await base()),
      SERVER__TLS__PFXFILE: pfx,
      SERVER__TLS__PASSPHRASE: 'wrong-one',
    });
    started.push(p);
    const { code } = await p.exited;
    assert.equal(code, 78, p.output());
    assert.match(p.output(), /server\.tls\.passphrase/);
    assert.ok(!p.output().includes('wrong-one'), 'the passphrase is printed');
    assert.doesNotMatch(p.output(), /listening on/);

    const q = startService({
      ...(await base()),
      SERVER__TLS__CERTFILE: join(dir, 'missing.pem'),
      SERVER__TLS__KEYFILE: key,
    });
    started.push(q);
    // Found by the configuration check, before any port opens (exit 78).
    assert.equal((await q.exited).code, 78, q.output());
    assert.match(q.output(), /server\.tls\.certFile: .*file not found: .*missing\.pem/);
  });

  it('serves REST, health and the CTI socket over TLS with a PFX certificate', async () => {
    const env: Record<string, string> = {
      ...(await base()),
      SERVER__TLS__PFXFILE: pfx,
      SERVER__TLS__PASSPHRASE: PASSPHRASE,
    };
    const p = startService(env);
    started.push(p);
    await p.waitForOutput(/listening on/);
    await p.waitForOutput(/TLS listening on/);
    const ca = tls.ca;
    const tlsPort = Number(env['SERVER__TLSPORT']);
    const live = await httpsGet(tlsPort, '/health/live', ca);
    assert.equal(live.status, 200, live.body);
    const c = await WsCtiClient.connect(`wss://127.0.0.1:${tlsPort}`, { ca });
    try {
      const e = await c.command('LoadLibrary', {
        AssemblyName: 'Terrasoft.Messaging.Asterisk.AsteriskManager, Terrasoft.Messaging.Asterisk',
      });
      assert.equal((await c.reply(e)).eventType, 1);
    } finally {
      await c.close();
    }
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0, p.output());
    assert.ok(!p.output().includes(PASSPHRASE), 'the passphrase is printed');
  });
});
