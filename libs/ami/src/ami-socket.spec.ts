import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  FakeAmiServer,
  FakeAmiTimers,
  TraceAmiPeer,
  makeSelfSignedCert,
  type SelfSignedCert,
} from '@app/ami/testing';
import {
  AmiSocket,
  DEFAULT_AMI_EVENT_FILTER,
  type AmiSocketOptions,
  type AmiWireRecord,
} from './ami-socket';
import { AmiError, AmiErrorCode } from './ami.errors';
import type { AmiPacket } from './protocol';

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function fake(opts: Parameters<typeof FakeAmiServer.start>[0] = {}): Promise<FakeAmiServer> {
  const s = await FakeAmiServer.start(opts);
  closers.push(() => s.close());
  return s;
}

/** A raw TCP peer on 127.0.0.1:0 that does what `onConnection` says. */
async function rawPeer(
  onConnection: (s: Socket) => void,
): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, server };
}

interface Harness {
  socket: AmiSocket;
  events: AmiPacket[];
  closes: AmiError[];
}

function amiSocket(port: number, opts: Partial<AmiSocketOptions> = {}): Harness {
  const events: AmiPacket[] = [];
  const closes: AmiError[] = [];
  const socket = new AmiSocket(
    { host: '127.0.0.1', port, username: 'admin', secret: 'secret', ...opts },
    { onEvent: (p) => events.push(p), onClose: (e) => closes.push(e) },
  );
  closers.push(() => socket.destroy());
  return { socket, events, closes };
}

function isAmiError(code: AmiErrorCode, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AmiError, `not an AmiError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('AmiSocket', () => {
  it('checks the banner, logs in, sends the event filter and waits for FullyBooted', async () => {
    const ami = await fake();
    const { socket, events } = amiSocket(ami.port);
    const hs = await socket.open();
    assert.equal(hs.serverVersion, '9.0.0');
    assert.equal(hs.banner, 'Asterisk Call Manager/9.0.0');
    assert.equal(hs.fullyBooted, true);
    assert.deepEqual(hs.rejectedFilters, []);
    assert.equal(socket.isOpen, true);
    assert.deepEqual(
      ami.actions.map((a) => a.get('Action')),
      ['Login', ...DEFAULT_AMI_EVENT_FILTER.map(() => 'Filter')],
    );
    assert.deepEqual(
      ami.actions.slice(1).map((a) => a.get('Filter')),
      [...DEFAULT_AMI_EVENT_FILTER],
    );
    assert.equal(ami.actions[0]!.get('Events'), 'on');
    assert.deepEqual(
      events.map((e) => e.event),
      ['FullyBooted'],
    );
  });

  it('refuses a peer that is not AMI with AMI_PROTOCOL, before sending anything', async () => {
    let received = '';
    const { port } = await rawPeer((s) => {
      s.on('data', (d) => (received += d.toString()));
      s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
    });
    const { socket } = amiSocket(port);
    await assert.rejects(socket.open(), isAmiError(AmiErrorCode.Protocol, /not an AMI server/));
    assert.equal(received, '');

    const http = await rawPeer((s) =>
      s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
    );
    await assert.rejects(amiSocket(http.port).socket.open(), isAmiError(AmiErrorCode.Protocol));
  });

  it('fails with Timeout when the peer sends no banner within the handshake budget', async () => {
    let accepted!: () => void;
    const connected = new Promise<void>((resolve) => (accepted = resolve));
    const { port } = await rawPeer(() => accepted());
    const timers = new FakeAmiTimers();
    const { socket } = amiSocket(port, { timers, connectTimeoutMs: 3000 });
    const opened = socket.open();
    await connected;
    await flush();
    timers.tick(2999);
    await flush();
    assert.equal(socket.isOpen, false);
    timers.tick(1);
    await assert.rejects(opened, isAmiError(AmiErrorCode.Timeout, /3000 ms \(banner\)/));
  });

  it('fails with Timeout when the login is not answered within the handshake budget', async () => {
    const ami = await fake();
    ami.onAction('Login', () => undefined);
    const timers = new FakeAmiTimers();
    const { socket } = amiSocket(ami.port, { timers, connectTimeoutMs: 5000 });
    const opened = socket.open();
    await ami.waitForAction('Login');
    timers.tick(5000);
    await assert.rejects(opened, isAmiError(AmiErrorCode.Timeout, /\(login\)/));
  });

  it('goes on without FullyBooted when it does not come within the budget', async () => {
    const ami = await fake({ fullyBooted: false });
    const { socket } = amiSocket(ami.port, { connectTimeoutMs: 100 });
    const hs = await socket.open();
    assert.equal(hs.fullyBooted, false);
    assert.equal(socket.isOpen, true);
  });

  it('does not wait for FullyBooted when the session does not receive system events', async () => {
    const ami = await fake({ fullyBooted: false });
    const { socket } = amiSocket(ami.port, { events: 'call,agent', connectTimeoutMs: 60_000 });
    const hs = await socket.open();
    assert.equal(hs.fullyBooted, false);
    assert.equal(ami.actions[0]!.get('Events'), 'call,agent');
  });

  it('fails with AuthFailed and the server message on the a0 trace (wrong secret, then EOF)', async () => {
    const peer = await TraceAmiPeer.start('a0_login_failed', { repeatLast: true });
    closers.push(() => peer.close());
    // Asterisk answers and closes at once: the answer must win over the EOF every time.
    for (let i = 0; i < 10; i++) {
      const { socket, closes } = amiSocket(peer.port, { username: 'terrasoft', secret: 'wrong' });
      await assert.rejects(
        socket.open(),
        isAmiError(AmiErrorCode.AuthFailed, /^Authentication failed$/),
      );
      assert.deepEqual(closes, [], 'onClose is only for connections that were open');
    }
    assert.equal(peer.actions[0]!.action.get('Secret'), 'wrong');
  });

  it('logs in with the MD5 challenge and never sends the secret', async () => {
    const ami = await fake({ secret: 'md5-s3cret' });
    const tapped: AmiWireRecord[] = [];
    const { socket } = amiSocket(ami.port, {
      secret: 'md5-s3cret',
      authType: 'md5',
      tap: (r) => tapped.push(r),
    });
    await socket.open();
    assert.equal(ami.actions[0]!.get('Action'), 'Challenge');
    assert.equal(ami.actions[1]!.get('AuthType'), 'md5');
    const sent = Buffer.concat(tapped.filter((r) => r.dir === 'tx').map((r) => r.bytes)).toString();
    assert.ok(!sent.includes('md5-s3cret'));
  });

  it('refuses CR/LF in the secret without sending it or naming it', async () => {
    const ami = await fake();
    const { socket } = amiSocket(ami.port, { secret: 'x\r\nAction: Command' });
    await assert.rejects(socket.open(), (e: unknown) => {
      isAmiError(AmiErrorCode.Injection)(e);
      assert.ok(!(e as Error).message.includes('Command'));
      return true;
    });
    assert.equal(ami.actions.length, 0);
  });

  it('fails with ConnectionClosed when the peer resets before any banner (a dying Asterisk)', async () => {
    const { port } = await rawPeer((s) => s.resetAndDestroy());
    await assert.rejects(amiSocket(port).socket.open(), isAmiError(AmiErrorCode.ConnectionClosed));
    const closing = await rawPeer((s) => s.end());
    await assert.rejects(
      amiSocket(closing.port).socket.open(),
      isAmiError(AmiErrorCode.ConnectionClosed),
    );
  });

  it('fails with ConnectionClosed naming the address when nobody listens', async () => {
    const { port, server } = await rawPeer(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(
      amiSocket(port).socket.open(),
      isAmiError(
        AmiErrorCode.ConnectionClosed,
        new RegExp(`ECONNREFUSED.*${port}|${port}.*ECONNREFUSED`),
      ),
    );
  });

  it('tells the owner once when an open connection drops, failing what is pending', async () => {
    const ami = await fake();
    ami.onAction('Status', () => undefined);
    const { socket, closes } = amiSocket(ami.port);
    await socket.open();
    const pending = socket.queue.send({ Action: 'Status' });
    await ami.waitForAction('Status');
    ami.dropAll();
    await assert.rejects(pending, isAmiError(AmiErrorCode.ConnectionClosed));
    await flush();
    assert.equal(closes.length, 1);
    assert.equal(closes[0]!.code, AmiErrorCode.ConnectionClosed);
    assert.equal(socket.isOpen, false);
    await assert.rejects(
      socket.queue.send({ Action: 'Ping' }),
      isAmiError(AmiErrorCode.ConnectionClosed),
    );
  });

  it('logs off: sends Logoff, waits for Goodbye, closes', async () => {
    const ami = await fake();
    const { socket } = amiSocket(ami.port);
    await socket.open();
    await socket.logoff();
    await ami.waitForAction('Logoff');
    assert.equal(socket.isOpen, false);
    assert.equal(ami.loggedIn.length, 0);
  });

  it('logs off a peer that does not answer within the logoff timeout', async () => {
    const ami = await fake();
    const timers = new FakeAmiTimers();
    const { socket } = amiSocket(ami.port, { timers });
    await socket.open();
    ami.stall();
    const done = socket.logoff(500);
    timers.tick(500);
    await flush();
    timers.tick(500);
    await done;
    assert.equal(socket.isOpen, false);
  });

  it('shows every chunk to the tap: meta on connect, rx as read, tx as written', async () => {
    const ami = await fake();
    const tapped: AmiWireRecord[] = [];
    const { socket } = amiSocket(ami.port, { tap: (r) => tapped.push(r) });
    await socket.open();
    await socket.queue.send({ Action: 'Ping' });
    assert.equal(tapped[0]!.dir, 'meta');
    assert.match(tapped[0]!.note ?? '', /connected to 127\.0\.0\.1/);
    const rx = Buffer.concat(tapped.filter((r) => r.dir === 'rx').map((r) => r.bytes)).toString();
    assert.ok(rx.startsWith('Asterisk Call Manager/9.0.0\r\n'));
    assert.match(rx, /Ping: Pong/);
    const tx = tapped.filter((r) => r.dir === 'tx');
    assert.equal(tx[0]!.action, 'Login');
    assert.equal(tx.at(-1)!.action, 'Ping');
    await socket.logoff();
    assert.equal(tapped.filter((r) => r.dir === 'tx').at(-1)!.action, 'Logoff');
    assert.equal(tapped.at(-1)!.dir, 'meta');
    assert.match(tapped.at(-1)!.note ?? '', /^closed: /);
  });

  it('opens once: a second open() is refused', async () => {
    const ami = await fake();
    const { socket } = amiSocket(ami.port);
    await socket.open();
    await assert.rejects(socket.open(), /twice/);
  });
});

describe('AmiSocket over TLS', () => {
  let cert: SelfSignedCert;
  let ami: FakeAmiServer;
  before(async () => {
    cert = makeSelfSignedCert('localhost');
    ami = await fake({ tls: cert });
  });

  it('logs in and runs actions when the certificate is trusted', async () => {
    const { socket } = amiSocket(ami.port, { tls: { ca: cert.cert, servername: 'localhost' } });
    const hs = await socket.open();
    assert.equal(hs.serverVersion, '9.0.0');
    const pong = await socket.queue.send({ Action: 'Ping' });
    assert.equal(pong.get('Ping'), 'Pong');
    await socket.logoff();
  });

  it('refuses a server whose certificate it cannot verify, saying why', async () => {
    const { socket } = amiSocket(ami.port, { tls: true });
    await assert.rejects(socket.open(), isAmiError(AmiErrorCode.ConnectionClosed, /certificate/i));
  });
});
