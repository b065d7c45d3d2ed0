import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import {
  FakeAmiServer,
  FakeAmiTimers,
  TraceAmiPeer,
  fixtureNames,
  makeSelfSignedCert,
} from '@app/ami/testing';
import { AmiClient, type AmiClientOptions, type AmiStatus } from './ami-client';
import { AmiActionError } from './ami-action-error';
import { AmiError, AmiErrorCode } from './ami.errors';
import type { AmiLogger } from './ami-logger';
import type { AmiPacket } from './protocol';

/** A logger that keeps every line, to check what was (and was not) logged. */
function memoryLogger(): AmiLogger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const clients: AmiClient[] = [];
const servers: FakeAmiServer[] = [];
const peerClosers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(peerClosers.map((close) => close()));
});

async function server(
  opts: Parameters<typeof FakeAmiServer.start>[0] = {},
): Promise<FakeAmiServer> {
  const s = await FakeAmiServer.start(opts);
  servers.push(s);
  return s;
}

function client(ami: FakeAmiServer, opts: Partial<AmiClientOptions> = {}): AmiClient {
  const c = new AmiClient({
    host: ami.host,
    port: ami.port,
    username: 'admin',
    secret: 'secret',
    pingIntervalMs: 0,
    reconnectStrategy: { delay: () => 20 },
    ...opts,
  });
  clients.push(c);
  return c;
}

function until(c: AmiClient, state: AmiStatus['state']): Promise<AmiStatus> {
  return firstValueFrom(c.status$.pipe(filter((s) => s.state === state)));
}

describe('AmiClient against the fake AMI server', () => {
  it('logs in, reports ready with the server version, and sends the event filter', async () => {
    const ami = await server();
    const c = client(ami);
    c.start();
    const ready = await until(c, 'ready');
    assert.equal(ready.serverVersion, '9.0.0');
    const login = await ami.waitForAction('Login');
    assert.equal(login.get('Username'), 'admin');
    assert.equal(login.get('Secret'), 'secret');
    const filters = ami.actions
      .filter((a) => a.get('Action') === 'Filter')
      .map((a) => a.get('Filter'));
    assert.ok(filters.includes('!Event: VarSet'), filters.join(','));
  });

  it('reports auth-failed with the server message, logs it once across retries, and never logs the secret', async () => {
    const ami = await server({ secret: 'right' });
    const logger = memoryLogger();
    const c = client(ami, { secret: 'wrong-s3cr3t', logger });
    c.start();
    const st = await until(c, 'auth-failed');
    assert.match(st.reason ?? '', /Authentication failed/);
    // Let it retry a few times.
    await firstValueFrom(
      c.status$.pipe(filter((s) => s.state === 'auth-failed' && s.attempt >= 3)),
    );
    const errors = logger.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.ok(!JSON.stringify(logger.lines).includes('wrong-s3cr3t'));
  });

  it('logs in with the MD5 challenge', async () => {
    const ami = await server();
    const c = client(ami, { authType: 'md5' });
    c.start();
    await until(c, 'ready');
    const login = await ami.waitForAction('Login');
    assert.equal(login.get('AuthType'), 'md5');
    assert.equal(login.get('Secret'), undefined);
    assert.match(login.get('Key') ?? '', /^[0-9a-f]{32}$/);
  });

  it('resolves a list action with all its items', async () => {
    const ami = await server();
    ami.setList('CoreShowChannels', [
      { Event: 'CoreShowChannel', Channel: 'SIP/305-00000001', Uniqueid: '1.1' },
      { Event: 'CoreShowChannel', Channel: 'SIP/trunk-in-00000002', Uniqueid: '1.2' },
    ]);
    const c = client(ami);
    c.start();
    await until(c, 'ready');
    const r = await c.list({ Action: 'CoreShowChannels' });
    assert.deepEqual(
      r.items.map((i) => i.get('Channel')),
      ['SIP/305-00000001', 'SIP/trunk-in-00000002'],
    );
    assert.equal(r.complete.get('ListItems'), '2');
  });

  it('fails an action that gets no answer with a timeout, and one answered with Error with AmiActionError', async () => {
    const ami = await server();
    ami.onAction('Status', () => undefined); // never answered
    ami.onAction('Hangup', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'No such channel' }),
    );
    const c = client(ami);
    c.start();
    await until(c, 'ready');
    await assert.rejects(c.action({ Action: 'Status' }, { timeoutMs: 100 }), (e: unknown) => {
      return e instanceof AmiError && e.code === AmiErrorCode.Timeout;
    });
    await assert.rejects(c.action({ Action: 'Hangup', Channel: 'SIP/999-1' }), (e: unknown) => {
      return e instanceof AmiActionError && e.serverMessage === 'No such channel';
    });
  });

  it('fails every pending action with ConnectionClosed when the connection drops, then reconnects and is ready again', async () => {
    const ami = await server();
    ami.onAction('Status', () => undefined);
    const c = client(ami);
    c.start();
    await until(c, 'ready');
    const pending = [1, 2, 3].map(() => c.action({ Action: 'Status' }, { timeoutMs: 60_000 }));
    await ami.waitForAction('Status');
    const states: string[] = [];
    const sub = c.status$.subscribe((s) => states.push(s.state));
    ami.dropAll();
    for (const p of pending) {
      await assert.rejects(
        p,
        (e: unknown) => e instanceof AmiError && e.code === AmiErrorCode.ConnectionClosed,
      );
    }
    await until(c, 'ready');
    sub.unsubscribe();
    assert.deepEqual(states.slice(0, 2), ['ready', 'disconnected']);
    assert.ok(states.includes('connecting') && states.includes('authenticating'), states.join(','));
    assert.equal(ami.accepted, 2);
    // Logged in again on the new connection.
    assert.equal(ami.actions.filter((a) => a.get('Action') === 'Login').length, 2);
  });

  it('finds a half-open peer by keepalive and reconnects', async () => {
    const ami = await server();
    const c = client(ami, { pingIntervalMs: 50, pingTimeoutMs: 50 });
    c.start();
    await until(c, 'ready');
    ami.stall();
    const down = await until(c, 'disconnected');
    assert.match(down.reason ?? '', /Ping/);
    ami.stall(false);
    await until(c, 'ready');
    assert.ok(ami.accepted >= 2);
  });

  it('backs off between reconnects as its strategy says', async () => {
    const ami = await server();
    const asked: number[] = [];
    const c = client(ami, {
      reconnectStrategy: {
        delay: (attempt) => {
          asked.push(attempt);
          return 10 * attempt;
        },
      },
    });
    ami.refuse();
    c.start();
    await firstValueFrom(c.status$.pipe(filter((s) => s.attempt >= 3)));
    ami.refuse(false);
    const ready = await until(c, 'ready');
    assert.equal(ready.attempt, 0);
    assert.deepEqual(asked.slice(0, 3), [1, 2, 3]);
  });

  it('refuses an action with CR/LF in a value before sending anything', async () => {
    const ami = await server();
    const c = client(ami);
    c.start();
    await until(c, 'ready');
    ami.clearActions();
    await assert.rejects(
      c.action({
        Action: 'Originate',
        Channel: 'SIP/305',
        Exten: '600\r\nAction: Command\r\nCommand: core stop now',
      }),
      (e: unknown) =>
        e instanceof AmiError &&
        e.code === AmiErrorCode.Injection &&
        !e.message.includes('core stop'),
    );
    await c.action({ Action: 'Ping' });
    assert.deepEqual(
      ami.actions.map((a) => a.get('Action')),
      ['Ping'],
    );
  });

  it('resolves an async Originate with its OriginateResponse', async () => {
    const ami = await server();
    const c = client(ami);
    c.start();
    await until(c, 'ready');
    const r = await c.originate({
      Action: 'Originate',
      Channel: 'SIP/305',
      Context: 'from-internal',
      Exten: '600',
      Priority: 1,
      Async: true,
    });
    assert.equal(r.originateResponse?.get('Response'), 'Success');
    assert.equal(r.originateResponse?.get('Channel'), 'SIP/305');
  });

  it('streams the broadcast events of a replayed fixture in order', async () => {
    assert.ok(fixtureNames().includes('c_inbound_answered'));
    const ami = await server();
    const c = client(ami);
    c.start();
    await until(c, 'ready');
    const got = firstValueFrom(
      c.events$.pipe(
        filter((e: AmiPacket) => e.event === 'Hangup'),
        take(2),
        toArray(),
      ),
    );
    const sent = await ami.replay('c_inbound_answered');
    assert.ok(sent > 10);
    const hangups = await got;
    assert.equal(hangups.length, 2);
  });

  it('works over TLS', async () => {
    const cert = makeSelfSignedCert('localhost');
    const ami = await server({ tls: cert });
    const c = client(ami, { tls: { ca: cert.cert, servername: 'localhost' } });
    c.start();
    await until(c, 'ready');
    const pong = await c.action({ Action: 'Ping' });
    assert.equal(pong.get('Ping'), 'Pong');
  });

  it('reports auth-failed on the a0 trace and keeps retrying without logging it again', async () => {
    const peer = await TraceAmiPeer.start('a0_login_failed', { repeatLast: true });
    peerClosers.push(() => peer.close());
    const logger = memoryLogger();
    const c = new AmiClient({
      host: peer.host,
      port: peer.port,
      username: 'terrasoft',
      secret: 'wrong',
      pingIntervalMs: 0,
      reconnectStrategy: { delay: () => 5 },
      logger,
    });
    clients.push(c);
    const states: string[] = [];
    c.status$.subscribe((s) => states.push(s.state));
    c.start();
    const st = await firstValueFrom(
      c.status$.pipe(filter((s) => s.state === 'auth-failed' && s.attempt >= 3)),
    );
    assert.equal(st.reason, 'authentication failed: Authentication failed');
    assert.ok(!states.includes('ready'));
    assert.ok(!states.slice(1).includes('disconnected'), states.join(','));
    assert.equal(logger.lines.filter((l) => l.level === 'error').length, 1);
    assert.ok(peer.accepted >= 3);
  });

  it('rides out the h_core_restart trace: Shutdown, EOF, resets before the banner, then ready again', async () => {
    const peer = await TraceAmiPeer.start('h_core_restart', { pauseAt: /core restart/ });
    peerClosers.push(() => peer.close());
    const asked: number[] = [];
    const c = new AmiClient({
      host: peer.host,
      port: peer.port,
      username: 'terrasoft',
      secret: 'terrasoft',
      pingIntervalMs: 0,
      reconnectStrategy: {
        delay: (attempt) => {
          asked.push(attempt);
          return 5;
        },
      },
    });
    clients.push(c);
    const events: AmiPacket[] = [];
    c.events$.subscribe((e) => events.push(e));
    const states: string[] = [];
    c.status$.subscribe((s) => states.push(s.state));
    c.start();
    await until(c, 'ready');
    peer.resume();
    await until(c, 'disconnected');
    const again = await until(c, 'ready');
    assert.equal(again.attempt, 0);
    // One lost connection, then two refused attempts, then the third succeeds.
    assert.deepEqual(asked, [1, 2, 3]);
    assert.equal(peer.accepted, 4);
    assert.deepEqual(
      events.map((e) => `${e.event}:${e.get('Uptime') ?? e.get('Shutdown')}`),
      ['FullyBooted:203', 'Shutdown:Cleanly', 'FullyBooted:0'],
    );
    assert.equal(
      peer.actions.filter((a) => a.action.get('Action') === 'Login').length,
      2,
      'logged in again on the new connection',
    );
  });

  it('drops the late answer of a timed-out list: its items never show up as events', async () => {
    const ami = await server();
    let late: (() => void) | undefined;
    ami.onAction('Status', (action, conn) => {
      late = () =>
        conn.respondList(
          action,
          [{ Event: 'Status', Channel: 'SIP/305-00000001', Uniqueid: '1.1' }],
          'StatusComplete',
        );
    });
    const c = client(ami);
    c.start();
    await until(c, 'ready');
    const events: AmiPacket[] = [];
    c.events$.subscribe((e) => events.push(e));
    await assert.rejects(
      c.list({ Action: 'Status' }, { timeoutMs: 50 }),
      (e: unknown) => e instanceof AmiError && e.code === AmiErrorCode.Timeout,
    );
    late!();
    ami.broadcast({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'after' });
    await firstValueFrom(c.events$.pipe(filter((e) => e.get('UserEvent') === 'after')));
    assert.deepEqual(
      events.map((e) => e.event),
      ['UserEvent'],
    );
  });

  it('on fake timers: never pings a busy connection, pings an idle one, reconnects when a ping is not answered', async () => {
    const ami = await server();
    const timers = new FakeAmiTimers();
    const c = client(ami, {
      timers,
      pingIntervalMs: 10_000,
      pingTimeoutMs: 3_000,
      reconnectStrategy: { delay: () => 1_000 },
    });
    c.start();
    await until(c, 'ready');
    const seen = (n: number) =>
      firstValueFrom(c.events$.pipe(filter((e) => e.get('UserEvent') === `busy-${n}`)));
    // Busy: an event every 4 s for a minute; no Ping goes out.
    for (let i = 0; i < 15; i++) {
      timers.tick(4_000);
      const got = seen(i);
      ami.broadcast({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: `busy-${i}` });
      await got;
    }
    assert.equal(ami.actions.filter((a) => a.get('Action') === 'Ping').length, 0);

    // Idle: a Ping after 10 s of silence, answered (the marker comes after the Pong on the wire).
    timers.tick(10_000);
    await ami.waitForAction('Ping');
    const marker = seen(99);
    ami.broadcast({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'busy-99' });
    await marker;
    // Half-open: the next Ping gets no answer; 3 s later the connection is made again.
    ami.stall();
    const down = until(c, 'disconnected');
    timers.tick(10_000);
    timers.tick(3_000);
    assert.match((await down).reason ?? '', /no answer to Ping within 3000 ms/);
    ami.stall(false);
    const ready = until(c, 'ready');
    timers.tick(1_000);
    await ready;
    assert.equal(ami.accepted, 2);
  });
});
