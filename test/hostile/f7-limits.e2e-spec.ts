// Finding 7: every door has a limit, each configurable (limits.*), each hit logged once per
// source per minute. Time is the FakeLimitClock's (advance), never real waiting, except for
// Node's own header timeout, whose sweep the test only waits for.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { WsCtiClient } from '../../apps/messaging-host/src/gateway/testing/cti-test-client';
import { head, rawRequest } from './body-client';
import { bearer, limitLines, startHostileRig, type HostileRig } from './hostile-rig';

/** A raw TCP connection: resolves once connected; `closed` resolves when the server closes it. */
function tcp(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    const closed = new Promise<string>((r) => socket.on('close', () => r(data)));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('hostile 7: limits on every door', () => {
  describe('client commands', () => {
    let rig: HostileRig;
    before(async () => {
      rig = await startHostileRig();
    });
    after(() => rig?.close());

    it('3,000 MakeCall at once: 2 Originates reach AMI (limits.originatesPerSecond), the rest are refused; 2 more a second later', async () => {
      const panel = await WsCtiClient.connect(rig.ws);
      try {
        assert.equal((await panel.open('305', 'alice')).eventType, 2);
        const uids: string[] = [];
        for (let i = 0; i < 3000; i++)
          uids.push(await panel.command('MakeCall', { targetAddress: `6${i}` }));
        const refused = await Promise.all(uids.slice(2).map((u) => panel.reply(u)));
        for (const e of refused) {
          assert.equal(e.eventType, 3);
          assert.equal(
            (e.parsed as { internalErrorCode: string }).internalErrorCode,
            'RATE_LIMITED',
          );
        }
        await until(
          () => rig.ami.actions.filter((a) => a.get('Action') === 'Originate').length >= 2,
          '2 Originates',
        );
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(rig.ami.actions.filter((a) => a.get('Action') === 'Originate').length, 2);
        // Once per source per minute: one line for each limit hit, never 2,998.
        assert.equal(limitLines(rig.logs, 'commandsPerSecond').length, 1);
        assert.equal(limitLines(rig.logs, 'originatesPerSecond').length, 1);

        rig.clock.advance(1000);
        for (let i = 0; i < 3; i++) await panel.command('MakeCall', { targetAddress: `7${i}` });
        await until(
          () => rig.ami.actions.filter((a) => a.get('Action') === 'Originate').length >= 4,
          '4 Originates',
        );
        await panel.events.next((e) => e.eventType === 3 && /too many calls/.test(e.content));
        assert.equal(rig.ami.actions.filter((a) => a.get('Action') === 'Originate').length, 4);

        rig.clock.advance(60_000);
        for (let i = 0; i < 25; i++) await panel.command('QueryLineState');
        await until(
          () => limitLines(rig.logs, 'commandsPerSecond').length === 2,
          'a second line a minute later',
        );
        assert.match(
          limitLines(rig.logs, 'commandsPerSecond')[1]!,
          /more hit\(s\) since the last line/,
        );
      } finally {
        await panel.close();
      }
    });

    it('a WebSocket that opens no line within limits.openTimeoutMs is closed (1008), one that does is kept', async () => {
      const idle = await WsCtiClient.connect(rig.ws);
      const busy = await WsCtiClient.connect(rig.ws);
      assert.equal((await busy.open('306', 'bob')).eventType, 2);
      rig.clock.advance(14_999);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(idle.events.closed, undefined);
      rig.clock.advance(1);
      const closed = await idle.events.waitClosed();
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /no line opened within 15000 ms/);
      assert.equal(busy.events.closed, undefined);
      await busy.close();
    });

    it('a REST body trickled slowly answers 408 at limits.bodyTimeoutMs, with or without the rest', async () => {
      const answer = rawRequest(
        rig.port,
        head('POST', '/api/v1/calls', {
          ...bearer(rig.keys.crm),
          'Content-Type': 'application/json',
          'Content-Length': 100,
        }),
        Buffer.from('{"line":'),
      );
      const before = rig.clock.pending;
      await until(() => rig.clock.pending > before, 'the body deadline');
      rig.clock.advance(10_000);
      const r = await answer;
      assert.equal(r.status, 408);
      assert.equal((JSON.parse(r.body) as { code: string }).code, 'REQUEST_TIMEOUT');
      assert.ok(r.closed);
    });
  });

  it('request headers sent too slowly: 408 and closed (limits.headersTimeoutMs)', async () => {
    const rig = await startHostileRig({ LIMITS__HEADERSTIMEOUTMS: '1000' });
    try {
      const { socket, closed } = await tcp(rig.port);
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
      const answer = await closed;
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      await rig.close();
    }
  });

  it('open connections: per address and in all, more are closed at once; logged once', async () => {
    const rig = await startHostileRig({ LIMITS__MAXCONNECTIONSPERADDRESS: '3' });
    try {
      const open = await Promise.all([tcp(rig.port), tcp(rig.port), tcp(rig.port)]);
      const fourth = await tcp(rig.port);
      assert.equal(await fourth.closed, '', 'the 4th connection was served');
      const fifth = await tcp(rig.port);
      assert.equal(await fifth.closed, '');
      assert.equal(limitLines(rig.logs, 'maxConnectionsPerAddress').length, 1);
      open[0]!.socket.destroy();
      await open[0]!.closed;
      // The server learns of the close a moment later: then a new connection is served.
      let again;
      for (let i = 0; i < 100 && !again; i++) {
        again = await rawRequest(
          rig.port,
          head('GET', '/health/live', { Connection: 'close' }),
        ).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 10)));
      }
      assert.equal(again?.status, 200);
      for (const o of open) o.socket.destroy();
    } finally {
      await rig.close();
    }
    const total = await startHostileRig({
      LIMITS__MAXCONNECTIONS: '2',
      LIMITS__MAXCONNECTIONSPERADDRESS: '0',
    });
    try {
      const open = await Promise.all([tcp(total.port), tcp(total.port)]);
      const third = await tcp(total.port);
      assert.equal(await third.closed, '');
      assert.equal(limitLines(total.logs, 'maxConnections').length, 1);
      for (const o of open) o.socket.destroy();
    } finally {
      await total.close();
    }
  });

  it('failed API keys: after limits.authFailuresPerAddress, 429 with Retry-After, even with a right key, until the window ends', async () => {
    const rig = await startHostileRig({ LIMITS__AUTHFAILURESPERADDRESS: '3' });
    try {
      const wrong = { Authorization: 'Bearer not-a-key' };
      await rig.http().get('/api/v1/calls').set(wrong).expect(401);
      await rig.http().get('/api/v1/calls').expect(401);
      await rig.http().get('/api/v1/calls').set(wrong).expect(401);
      const blocked = await rig.http().get('/api/v1/calls').set(bearer(rig.keys.crm));
      assert.equal(blocked.status, 429, blocked.text);
      assert.equal(blocked.headers['retry-after'], '60');
      assert.equal((blocked.body as { code: string }).code, 'RATE_LIMITED');
      rig.clock.advance(30_000);
      const later = await rig.http().get('/api/v1/calls').set(bearer(rig.keys.crm));
      assert.equal(later.status, 429);
      assert.equal(later.headers['retry-after'], '30');
      rig.clock.advance(30_000);
      await rig.http().get('/api/v1/calls').set(bearer(rig.keys.crm)).expect(200);
      assert.equal(limitLines(rig.logs, 'authFailuresPerAddress').length, 1);
    } finally {
      await rig.close();
    }
  });
});
