import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpGet, startService, type ServiceProcess } from './support/service-process';

// Limits from the specification (issue: exit within 5 s), not speed measurements.
const SPEC_LIMIT_MS = 5000;
const SECRET = 's3cr3t-x';

describe('the service process (npm start)', () => {
  const started: ServiceProcess[] = [];
  after(() => started.forEach((p) => p.kill()));

  it('refuses a bad configuration before opening a port, naming every bad key and no secret', async () => {
    const t0 = Date.now();
    const p = startService({
      ASTERISK__PORT: 'abc',
      ASTERISK__URL: '',
      SERVER__PORT: '70000',
      ASTERISK__SECRET: SECRET,
    });
    started.push(p);
    const timer = setTimeout(() => p.kill(), SPEC_LIMIT_MS);
    const { code, at } = await p.exited;
    clearTimeout(timer);
    const out = p.output();
    assert.notEqual(code, 0, `exit code ${code}; output:\n${out}`);
    assert.notEqual(code, null, `not exited within ${SPEC_LIMIT_MS} ms`);
    assert.ok(at - t0 < SPEC_LIMIT_MS, `exited after ${at - t0} ms`);
    assert.match(out, /asterisk\.port/);
    assert.match(out, /asterisk\.url/);
    assert.match(out, /server\.port/);
    assert.ok(!out.includes(SECRET), 'the secret appears in the output');
    assert.doesNotMatch(out, /listening/);
  });

  it('with Asterisk unreachable: live 200, ready 503 naming the reason; SIGTERM exits 0 in time', async () => {
    const port = await freePort();
    const amiPort = await freePort(); // nobody listens there
    const p = startService({
      SERVER__PORT: String(port),
      SERVER__HOST: '127.0.0.1',
      ASTERISK__URL: '127.0.0.1',
      ASTERISK__PORT: String(amiPort),
      ASTERISK__SECRET: SECRET,
      LOGGING__LEVEL: 'debug',
    });
    started.push(p);
    await p.waitForOutput(/listening on/);

    const live = await httpGet(port, '/health/live');
    assert.equal(live.status, 200, live.body);
    assert.equal((JSON.parse(live.body) as { status: string }).status, 'ok');

    const ready = await httpGet(port, '/health/ready');
    assert.equal(ready.status, 503, ready.body);
    const body = JSON.parse(ready.body) as {
      error: { messaging: { status: string; reason: string } };
    };
    assert.equal(body.error.messaging.status, 'down');
    assert.match(body.error.messaging.reason, /ECONNREFUSED|connect/i);

    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.kill(), SPEC_LIMIT_MS + 1000);
    const { code, signal, at } = await p.exited;
    clearTimeout(timer);
    assert.equal(signal, null, `killed by ${signal}; output:\n${p.output()}`);
    assert.equal(code, 0, p.output());
    assert.ok(at - t0 < SPEC_LIMIT_MS, `exit took ${at - t0} ms`);
    assert.ok(!p.output().includes(SECRET), 'the secret appears in the logs');
  });
});
