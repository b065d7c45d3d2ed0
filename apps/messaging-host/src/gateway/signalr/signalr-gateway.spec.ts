import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { WebSocket } from 'ws';
import { CallState } from '@app/messaging';
import { SecurityMode } from '../../config/app-config';
import { startGatewayTestApp, type GatewayTestApp } from '../testing/gateway-test-app';
import { WsCtiClient } from '../testing/cti-test-client';
import { connectSignalR, SIGNALR_CLIENTS, SIGNALR_COMBOS } from '../testing/signalr-clients';
import { makeTlsTestCert, type TlsTestCert } from '../testing/tls-test-cert';
import { RECORD_SEPARATOR } from './signalr-protocol';
import { FAKE_ASSEMBLY as FAKE } from '../testing/fake-messaging-library';

const ORIGIN = 'http://crm.example.test';

function rawSignalR(
  url: string,
): Promise<{ ws: WebSocket; records: string[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const records: string[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (d) => {
      for (const r of d.toString('utf8').split(RECORD_SEPARATOR)) if (r) records.push(r);
    });
    ws.once('open', () => resolve({ ws, records, closed }));
    ws.once('error', reject);
  });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

describe('SignalR transport', () => {
  let t: GatewayTestApp;
  let tls: TlsTestCert;

  before(async () => {
    tls = makeTlsTestCert();
    t = await startGatewayTestApp((c) => {
      c.server.tls.certFile = tls.certFile;
      c.server.tls.keyFile = tls.keyFile;
      c.server.heartbeatIntervalMs = 1000;
    });
  });
  after(async () => {
    await t.close();
    tls.remove();
  });

  it('negotiates versions 0 and 1 with CORS for the exact origin, and answers the preflight', async () => {
    const pre = await fetch(`http://127.0.0.1:${t.port}/msg/negotiate?negotiateVersion=1`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'x-requested-with,x-signalr-user-agent',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /x-requested-with/);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);

    const v1 = await fetch(`http://127.0.0.1:${t.port}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { Origin: ORIGIN, 'X-Requested-With': 'XMLHttpRequest' },
    });
    assert.equal(v1.status, 200);
    assert.equal(v1.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(v1.headers.get('access-control-allow-credentials'), 'true');
    const b1 = (await v1.json()) as Record<string, unknown>;
    assert.equal(b1['negotiateVersion'], 1);
    assert.equal(typeof b1['connectionToken'], 'string');
    assert.notEqual(b1['connectionToken'], b1['connectionId']);
    assert.deepEqual(b1['availableTransports'], [
      { transport: 'WebSockets', transferFormats: ['Text'] },
    ]);

    const v0 = await fetch(`http://127.0.0.1:${t.port}/msg/negotiate`, { method: 'POST' });
    const b0 = (await v0.json()) as Record<string, unknown>;
    assert.equal(b0['negotiateVersion'], 0);
    assert.equal(b0['connectionToken'], undefined);
    assert.equal(typeof b0['connectionId'], 'string');

    // Paths that are not a hub's negotiate are left to the REST app (404 from Nest here).
    const other = await fetch(`http://127.0.0.1:${t.port}/api/v1/negotiate`, { method: 'POST' });
    assert.equal(other.status, 404);
    // An unknown connection id is refused like ASP.NET Core does.
    await assert.rejects(rawSignalR(`ws://127.0.0.1:${t.port}/msg?id=nope`), /404/);
  });

  for (const [major, scheme, path] of SIGNALR_COMBOS) {
    it(`runs a session with the real @microsoft/signalr ${major} client over ${scheme} at ${path}`, async () => {
      assert.ok(SIGNALR_CLIENTS[major], `the ${major} client package is missing`);
      const port = scheme === 'https' ? t.gateway.tlsAddress()!.port : t.port;
      const line = `4${major === '3.1' ? 1 : 2}${scheme === 'https' ? 1 : 0}`;
      const c = await connectSignalR(major, `${scheme}://127.0.0.1:${port}${path}`, { ca: tls.ca });
      try {
        assert.equal(await c.connection.invoke('Ping'), 'Pong!');
        const e2 = await c.open(line, `user-${line}`, { assembly: FAKE });
        assert.equal(e2.eventType, 2, e2.content);
        const snap = await c.reply(await c.command('QueryActiveCallSnapshot'));
        assert.deepEqual(snap.parsed, { ActiveCalls: [], CurrentCall: null });
        const call = t.lib.ring(line);
        assert.equal(
          ((await c.events.next((e) => e.eventType === 5)).parsed as { id: string }).id,
          call.id,
        );
        t.lib.move(call.id, CallState.CONNECTED);
        await c.events.next((e) => e.eventType === 7);
        t.lib.move(call.id, CallState.NONE);
        await c.events.next((e) => e.eventType === 6);
        assert.deepEqual((await c.events.next((e) => e.eventType === 11)).parsed, {
          callFeaturesSet: 2,
        });
        assert.deepEqual(c.nonStringArguments, []);
      } finally {
        await c.close();
      }
    });
  }

  it('speaks the hub protocol on a raw socket: handshake, pings both ways, completions, close', async () => {
    const neg = (await (
      await fetch(`http://127.0.0.1:${t.port}/negotiate?negotiateVersion=1`, { method: 'POST' })
    ).json()) as { connectionToken: string };
    const s = await rawSignalR(`ws://127.0.0.1:${t.port}/?id=${neg.connectionToken}`);
    s.ws.send(`{"protocol":"json","version":1}${RECORD_SEPARATOR}`);
    await until(() => s.records.length >= 1);
    assert.equal(s.records[0], '{}');
    s.ws.send(
      `{"type":6}${RECORD_SEPARATOR}{"type":1,"invocationId":"7","target":"Ping","arguments":[]}${RECORD_SEPARATOR}` +
        `{"type":1,"invocationId":"8","target":"Nope","arguments":[]}${RECORD_SEPARATOR}` +
        `{"type":1,"invocationId":"9","target":"SendRawMessage","arguments":[42]}${RECORD_SEPARATOR}` +
        `{"type":1,"invocationId":"10","target":"SendRawMessage","arguments":["{bad"]}${RECORD_SEPARATOR}`,
    );
    await until(() => s.records.some((r) => r.includes('"invocationId":"10"')));
    const parsed = s.records.map((r) => JSON.parse(r) as Record<string, unknown>);
    assert.deepEqual(
      parsed.find((m) => m['invocationId'] === '7'),
      { type: 3, invocationId: '7', result: 'Pong!' },
    );
    assert.match(
      String(parsed.find((m) => m['invocationId'] === '8')?.['error']),
      /Unknown hub method/,
    );
    assert.match(String(parsed.find((m) => m['invocationId'] === '9')?.['error']), /one argument/);
    assert.deepEqual(
      parsed.find((m) => m['invocationId'] === '10'),
      { type: 3, invocationId: '10', result: null },
    );
    const err = parsed.find((m) => m['type'] === 1 && m['target'] === 'ServerMessage');
    assert.ok(err, 'the bad command got a ServerMessage');
    const args = err['arguments'] as unknown[];
    assert.equal(args.length, 1);
    assert.equal(typeof args[0], 'string');
    assert.equal((JSON.parse(args[0] as string) as { eventType: number }).eventType, 3);
    // The server pings on its own (heartbeat 1 s here).
    await until(() => s.records.some((r) => r === '{"type":6}'));
    // A record without its separator is a protocol error: a close message, then the socket closes.
    s.ws.send('{"type":6}');
    assert.equal(await s.closed, 1002);
    assert.ok(s.records.some((r) => (JSON.parse(r) as { type: number }).type === 7));
  });

  it('detects SignalR without negotiation (skipNegotiation) and refuses a wrong handshake', async () => {
    const ok = await rawSignalR(`ws://127.0.0.1:${t.port}/msg`);
    ok.ws.send(`{"protocol":"json","version":1}${RECORD_SEPARATOR}`);
    await until(() => ok.records.length >= 1);
    assert.equal(ok.records[0], '{}');
    ok.ws.close();
    const bad = await rawSignalR(`ws://127.0.0.1:${t.port}/`);
    bad.ws.send(`{"protocol":"messagepack","version":1}${RECORD_SEPARATOR}`);
    await bad.closed;
    assert.match(bad.records[0] ?? '', /"error":".*messagepack/);
  });
});

describe('allow-list security on both transports', () => {
  let t: GatewayTestApp;
  before(async () => {
    t = await startGatewayTestApp((c) => {
      c.security.mode = SecurityMode.AllowList;
      c.security.allowedOrigins = [ORIGIN];
      c.security.allowedServiceUrls = ['https://crm.example.test/0'];
    });
  });
  after(() => t.close());

  it('refuses a foreign origin at negotiate (no CORS headers) and at OpenConnection', async () => {
    const res = await fetch(`http://127.0.0.1:${t.port}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: { Origin: 'http://evil.example' },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.match(((await res.json()) as { error: string }).error, /evil/);

    const evil = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`, {
      origin: 'http://evil.example',
    });
    const e = await evil.open('500', 'u', {
      assembly: FAKE,
      sessionServiceParams: { ServiceUrl: 'https://crm.example.test/0' },
    });
    assert.equal(e.eventType, 3);
    assert.match((e.parsed as { data: string }).data, /allowedOrigins/);
    await evil.events.waitClosed();

    const wrongCrm = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`, { origin: ORIGIN });
    const e2 = await wrongCrm.open('500', 'u', {
      assembly: FAKE,
      sessionServiceParams: { ServiceUrl: 'https://other.example/0' },
    });
    assert.match((e2.parsed as { data: string }).data, /allowedServiceUrls/);

    const good = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`, { origin: ORIGIN });
    const e3 = await good.open('500', 'u', {
      assembly: FAKE,
      sessionServiceParams: { ServiceUrl: 'https://crm.example.test/0/' },
    });
    assert.equal(e3.eventType, 2, e3.content);
    good.terminate();
    wrongCrm.terminate();
  });
});
