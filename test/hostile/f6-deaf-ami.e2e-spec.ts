// Finding 6: an AMI peer that keeps sending events but answers no action is deaf (reset and
// reconnect after limits.amiDeafAfterTimeouts timeouts in a row), and bytes after login that are
// not an AMI packet are a protocol error (reset at once, bounded by maxPacketBytes), not a packet
// swallowed until keepalive notices.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filter, firstValueFrom } from 'rxjs';
import { AmiClient, AmiError, AmiErrorCode, type AmiStatus } from '@app/ami';
import { FakeAmiServer, FakeAmiTimers } from '@app/ami/testing';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function rig(opts: { deafAfterTimeouts?: number } = {}) {
  const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
  const timers = new FakeAmiTimers();
  const client = new AmiClient({
    host: ami.host,
    port: ami.port,
    username: 'admin',
    secret: 'secret',
    timers,
    pingIntervalMs: 0,
    actionTimeoutMs: 1000,
    reconnectStrategy: { delay: () => 10 },
    ...opts,
  });
  closers.push(async () => {
    await client.close();
    await ami.close();
  });
  const status = (state: AmiStatus['state']): Promise<AmiStatus> =>
    firstValueFrom(client.status$.pipe(filter((s) => s.state === state)));
  const ready = status('ready');
  client.start();
  await ready;
  return { ami, timers, client, status };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('hostile 6: a deaf or garbling AMI peer', () => {
  it('3 actions in a row without an answer while events flow: reset and reconnected', async () => {
    const { ami, timers, client, status } = await rig();
    ami.onAction('Ping', () => undefined);
    const events: string[] = [];
    client.events$.subscribe((e) => events.push(e.event ?? ''));
    const down = status('disconnected');
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      client.action({ Action: 'Ping' }).catch((e: unknown) => errors.push(e));
      await ami.waitForAction('Ping');
      ami.clearActions();
      ami.broadcast({ Event: 'PeerStatus', Peer: `SIP/30${i}` });
      while (events.length < i + 1) await new Promise((r) => setTimeout(r, 5));
      assert.equal(client.status.state, 'ready', `still ready after ${i} timeouts`);
      timers.tick(1000);
      await flush();
    }
    const s = await down;
    assert.match(s.reason ?? '', /answered none of the last 3 actions/);
    assert.deepEqual(events.slice(0, 3), ['PeerStatus', 'PeerStatus', 'PeerStatus']);
    assert.equal(errors.length, 3);
    for (const e of errors) {
      assert.ok(e instanceof AmiError && e.code === AmiErrorCode.Timeout);
      assert.match(e.message, /: no answer within 1000 ms$/);
    }
    const back = status('ready');
    timers.tick(10);
    await back;
  });

  it('an answer in between starts the count again; 0 turns the check off', async () => {
    const { ami, timers, client } = await rig();
    let answer = false;
    ami.onAction('Ping', (a, conn) => {
      if (answer) conn.respond(a, { Ping: 'Pong' });
    });
    const fire = async (): Promise<void> => {
      const p = client.action({ Action: 'Ping' }).catch(() => undefined);
      await ami.waitForAction('Ping');
      ami.clearActions();
      timers.tick(1000);
      await p;
    };
    await fire();
    await fire();
    answer = true;
    await client.action({ Action: 'Ping' });
    answer = false;
    await fire();
    await fire();
    assert.equal(client.status.state, 'ready');

    const off = await rig({ deafAfterTimeouts: 0 });
    off.ami.onAction('Ping', () => undefined);
    for (let i = 0; i < 5; i++) {
      const p = off.client.action({ Action: 'Ping' }).catch(() => undefined);
      await off.ami.waitForAction('Ping');
      off.ami.clearActions();
      off.timers.tick(1000);
      await p;
    }
    assert.equal(off.client.status.state, 'ready');
  });

  it('80 KB of garbage after login is a protocol error at once; the next packet is not swallowed into it', async () => {
    const { ami, client, status } = await rig();
    const seen: string[] = [];
    client.events$.subscribe((e) => seen.push(e.event ?? ''));
    const down = status('disconnected');
    const garbage = `${'\u0001garbage without a colon '.repeat(3)}\r\n`.repeat(1100);
    ami.loggedIn[0]!.write(garbage + 'Event: PeerStatus\r\nPeer: SIP/305\r\n\r\n');
    const s = await down;
    assert.match(s.reason ?? '', /AMI protocol error: .* neither an event nor a response/);
    assert.deepEqual(seen, [], 'a packet made of garbage was handed out as an event');
  });

  it('a packet with neither Event nor Response (`foo: bar`) is a protocol error too', async () => {
    const { ami, status } = await rig();
    const down = status('disconnected');
    ami.loggedIn[0]!.write('foo: bar\r\nbaz: 1\r\n\r\n');
    assert.match((await down).reason ?? '', /2 header line\(s\) and 0 other line\(s\)/);
  });
});
