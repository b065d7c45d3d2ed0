// Finding 9: reserved names in a body are refused like any unknown field; the action-timeout
// message reads right; after SIGTERM /health/ready answers 503 while the service drains.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { AmiActionQueue, AmiError } from '@app/ami';
import { FakeAmiServer, FakeAmiTimers } from '@app/ami/testing';
import { WsCtiClient } from '../../apps/messaging-host/src/gateway/testing/cti-test-client';
import { freePort, startService } from '../support/service-process';
import { ClientGateway } from '../../apps/messaging-host/src/gateway/client-gateway.service';
import { bearer, openRaw, startHostileRig, type HostileRig } from './hostile-rig';

describe('hostile 9: smaller ones', () => {
  describe('in the service', () => {
    let rig: HostileRig;
    before(async () => {
      rig = await startHostileRig();
    });
    after(() => rig?.close());

    it('__proto__ and constructor keys are refused with 400 naming them, like other unknown keys', async () => {
      const cases: [string, string][] = [
        ['{"line":"305","number":"600","__proto__":{"x":1}}', '__proto__'],
        ['{"line":"305","number":"600","constructor":"x"}', 'constructor'],
        ['{"line":"305","number":"600","variables":{"constructor":"x"}}', 'variables.constructor'],
        [
          '{"line":"305","number":"600","variables":{"__proto__":{"A":"1"}}}',
          'variables.__proto__',
        ],
      ];
      for (const [body, field] of cases) {
        const r = await rig
          .http()
          .post('/api/v1/calls')
          .set(bearer(rig.keys.crm))
          .set('Content-Type', 'application/json')
          .send(body);
        assert.equal(r.status, 400, `${body}: ${r.text}`);
        assert.deepEqual((r.body as { fields: string[] }).fields, [field], r.text);
        assert.match(r.text, /unknown field/);
      }
      const patch = await rig
        .http()
        .patch('/api/v1/lines/305/settings')
        .set(bearer(rig.keys.crm))
        .set('Content-Type', 'application/json')
        .send('{"__proto__":{"userUId":"mallory"}}');
      assert.equal(patch.status, 400, patch.text);
      assert.equal(rig.ami.actions.filter((a) => a.get('Action') === 'Originate').length, 0);
    });

    it('ExtensionName 1e400 binds no line called "Infinity"', async () => {
      const p = await WsCtiClient.connect(rig.ws);
      try {
        const e = await openRaw(p, '{"ExtensionName":1e400}', 'zed');
        assert.equal(e.eventType, 3, e.content);
        assert.equal((e.parsed as { errorType: number }).errorType, 2);
        const lines = rig.app.get(ClientGateway).stats().lines;
        assert.ok(!lines.some((l) => l.line === 'Infinity'), JSON.stringify(lines));
      } finally {
        await p.close();
      }
    });
  });

  it('an action timeout says "no answer within", not "got no an answer"', async () => {
    const timers = new FakeAmiTimers();
    const q = new AmiActionQueue({ write: () => undefined, timers, defaultTimeoutMs: 500 });
    const p = q.send({ Action: 'Ping' });
    timers.tick(500);
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof AmiError);
      assert.equal(e.message, 'AMI action Ping (ActionID ping-1): no answer within 500 ms');
      return true;
    });
  });

  it('after SIGTERM, /health/ready answers 503 while the service drains, then the port closes', async () => {
    const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
    const port = await freePort();
    const p = startService({
      SERVER__PORT: String(port),
      SERVER__HOST: '127.0.0.1',
      ASTERISK__URL: '127.0.0.1',
      ASTERISK__PORT: String(ami.port),
      ASTERISK__USERNAME: 'admin',
      ASTERISK__SECRET: 'secret',
      ASTERISK__PINGINTERVALMS: '0',
      SERVER__SHUTDOWNDRAINMS: '1500',
    });
    try {
      await p.waitForOutput(/listening on/);
      const get = (): Promise<number | string> =>
        new Promise((resolve) => {
          const req = httpRequest(
            { port, host: '127.0.0.1', path: '/health/ready', agent: false },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
          req.end();
        });
      for (let i = 0; (await get()) !== 200; i++) {
        if (i > 500) throw new Error(`never ready:\n${p.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      p.child.kill('SIGTERM');
      const seen: (number | string)[] = [];
      for (;;) {
        const r = await get();
        seen.push(r);
        if (typeof r === 'string') break;
      }
      // 200 until the signal is handled, then 503 while draining; only the last request, the one
      // the listener closes under, gets no answer (refused, or reset in the listen backlog).
      const answers = seen.slice(0, -1).filter((s) => s !== 200);
      assert.ok(answers.length > 0, `no 503 after SIGTERM: ${JSON.stringify(seen)}`);
      assert.deepEqual(new Set(answers), new Set([503]), JSON.stringify(seen));
      const { code } = await p.exited;
      assert.equal(code, 0, p.output());
    } finally {
      p.kill();
      await ami.close();
    }
  });
});
