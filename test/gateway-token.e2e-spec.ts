import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { SecurityMode } from '../apps/messaging-host/src/config/app-config';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import { WsCtiClient } from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { connectSignalR } from '../apps/messaging-host/src/gateway/testing/signalr-clients';
import { signGatewayToken } from '../apps/messaging-host/src/gateway/security/gateway-token';

const SECRET = 'e2e-token-secret-0123456789abcdef-XYZ';
const USER = '7f3b2a10-0000-4000-8000-000000000305';
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

describe('gateway e2e: token security mode', () => {
  let t: RealApp;
  before(async () => {
    t = await startRealApp((c) => {
      c.security.mode = SecurityMode.Token;
      c.security.tokenSecret = SECRET;
    });
  });
  after(() => t?.close());

  const attempt = async (
    query: string,
    line = '305',
    sessionServiceParams: Record<string, unknown> = {},
  ) => {
    const c = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/${query}`);
    const e = await c.open(line, USER, { sessionServiceParams });
    return { c, e };
  };

  const refusals: [string, () => string, RegExp][] = [
    ['no token', () => '', /token refused: missing/],
    [
      'a bad signature',
      () =>
        `?token=${signGatewayToken(`${SECRET}-other`, { sub: USER, line: '305', exp: inAnHour() })}`,
      /bad signature/,
    ],
    [
      'an expired token',
      () =>
        `?token=${signGatewayToken(SECRET, { sub: USER, line: '305', exp: Math.floor(Date.now() / 1000) - 5 })}`,
      /expired/,
    ],
    [
      'a token for another line',
      () => `?token=${signGatewayToken(SECRET, { sub: USER, line: '306', exp: inAnHour() })}`,
      /another line/,
    ],
    [
      'a token for another user',
      () =>
        `?token=${signGatewayToken(SECRET, { sub: 'someone-else', line: '305', exp: inAnHour() })}`,
      /another user/,
    ],
  ];
  for (const [what, query, reason] of refusals) {
    it(`refuses ${what} with an error event, then closes the socket`, async () => {
      const { c, e } = await attempt(query());
      assert.equal(e.eventType, 3, e.content);
      const err = e.parsed as { errorType: number; data: string };
      assert.equal(err.errorType, 2);
      assert.match(err.data, reason);
      await c.events.waitClosed();
    });
  }

  it('accepts a good token in the URL or in sessionServiceParams, and over SignalR', async () => {
    const token = signGatewayToken(SECRET, { sub: USER, line: '305', exp: inAnHour() });
    const a = await attempt(`?token=${token}`);
    assert.equal(a.e.eventType, 2, a.e.content);
    const snap = await a.c.reply(await a.c.command('QueryActiveCallSnapshot'));
    assert.equal(snap.eventType, 10);
    await a.c.close();

    const b = await attempt('', '305', { Token: token });
    assert.equal(b.e.eventType, 2, b.e.content);
    await b.c.close();

    const s = await connectSignalR('3.1', `http://127.0.0.1:${t.port}/msg?token=${token}`);
    try {
      const e = await s.open('305', USER);
      assert.equal(e.eventType, 2, e.content);
    } finally {
      await s.close();
    }
    const logs = t.logs.lines.map((l) => l.message).join('\n');
    assert.ok(
      !logs.includes(token) && !logs.includes(SECRET),
      'a token or the secret reached the logs',
    );
  });
});
