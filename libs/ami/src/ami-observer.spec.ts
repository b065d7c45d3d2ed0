import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { FakeAmiServer, fixturesDir } from '@app/ami/testing';
import { AmiClient, type AmiClientOptions, type AmiStatus } from './ami-client';
import { AmiActionError } from './ami-action-error';
import { AmiError, AmiErrorCode } from './ami.errors';
import {
  actionOutcome,
  observeAction,
  type AmiActionOutcome,
  type AmiObserver,
} from './ami-observer';
import type { AmiPacket } from './protocol';

/** An observer that writes down every call, in order. */
function recorder(): AmiObserver & { log: string[]; actions: [string, AmiActionOutcome][] } {
  const log: string[] = [];
  const actions: [string, AmiActionOutcome][] = [];
  return {
    log,
    actions,
    readStart: () => log.push('read'),
    readDone: () => log.push('done'),
    event: (p: AmiPacket) => log.push(`event ${p.event ?? '?'}`),
    action: (name, outcome, ms) => {
      assert.ok(ms >= 0 && Number.isFinite(ms), `latency ${ms}`);
      actions.push([name, outcome]);
    },
    decodeError: (e) => log.push(`decode ${e.code}`),
    reconnecting: (n) => log.push(`reconnecting ${n}`),
    status: (s) => log.push(`status ${s.state}`),
  };
}

const clients: AmiClient[] = [];
const servers: FakeAmiServer[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function rig(
  observer: AmiObserver,
  opts: Partial<AmiClientOptions> = {},
): Promise<{ ami: FakeAmiServer; c: AmiClient }> {
  const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
  servers.push(ami);
  const c = new AmiClient({
    host: ami.host,
    port: ami.port,
    username: 'admin',
    secret: 'secret',
    pingIntervalMs: 0,
    actionTimeoutMs: 200,
    reconnectStrategy: { delay: () => 20 },
    observer,
    ...opts,
  });
  clients.push(c);
  return { ami, c };
}

const until = (c: AmiClient, state: AmiStatus['state']): Promise<AmiStatus> =>
  firstValueFrom(c.status$.pipe(filter((s) => s.state === state)));

describe('AmiObserver: the instrumentation seam', () => {
  it('sees each event inside the read it came in, before the subscribers', async () => {
    const o = recorder();
    const { ami, c } = await rig(o);
    const seen: string[] = [];
    c.events$.subscribe((p) => {
      seen.push(p.event ?? '');
      o.log.push(`subscriber ${p.event ?? ''}`);
    });
    c.start();
    await until(c, 'ready');
    o.log.length = 0;
    ami.broadcast({ Event: 'Newchannel', Channel: 'SIP/305-1', Uniqueid: '1.1' });
    for (let i = 0; i < 100 && !seen.includes('Newchannel'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const i = o.log.indexOf('event Newchannel');
    assert.ok(i > 0, o.log.join(' | '));
    assert.equal(o.log[i + 1], 'subscriber Newchannel');
    assert.equal(o.log.lastIndexOf('read', i), i - 1, 'the read started just before');
    assert.equal(o.log.indexOf('done', i), i + 2, 'and ended after the subscribers');
  });

  it('reports every action with its outcome: success, error, timeout, disconnected', async () => {
    const o = recorder();
    const { ami, c } = await rig(o);
    ami.onAction('Hangup', (a, conn) =>
      conn.respond(a, { Response: 'Error', Message: 'No such channel' }),
    );
    ami.onAction('Park', () => undefined); // never answered: a timeout
    c.start();
    await until(c, 'ready');
    assert.deepEqual(o.actions[0], ['Login', 'success']);
    o.actions.length = 0;
    await c.action({ Action: 'Ping' });
    await assert.rejects(c.action({ Action: 'Hangup', Channel: 'SIP/1-1' }), AmiActionError);
    await assert.rejects(
      c.action({ Action: 'Park', Channel: 'SIP/1-1' }),
      /got no an answer|within/,
    );
    const pending = c.action({ Action: 'Park', Channel: 'SIP/1-2' }, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    ami.dropAll();
    await assert.rejects(pending, AmiError);
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(o.actions, [
      ['Ping', 'success'],
      ['Hangup', 'error'],
      ['Park', 'timeout'],
      ['Park', 'disconnected'],
    ]);
  });

  it('reports reconnection attempts and status changes', async () => {
    const o = recorder();
    const { ami, c } = await rig(o);
    c.start();
    await until(c, 'ready');
    ami.dropAll();
    await until(c, 'disconnected');
    await until(c, 'ready');
    const log = o.log.filter((l) => l.startsWith('status') || l.startsWith('reconnecting'));
    assert.deepEqual(log.slice(0, 3), [
      'status connecting',
      'status authenticating',
      'status ready',
    ]);
    assert.deepEqual(log.slice(3), [
      'status disconnected',
      'reconnecting 1',
      'status connecting',
      'status authenticating',
      'status ready',
    ]);
  });

  it('reports a decode error (bytes that are not AMI)', async () => {
    const o = recorder();
    const { ami, c } = await rig(o, { maxPacketBytes: 1024 });
    c.start();
    await until(c, 'ready');
    ami.broadcast(`Event: Big\r\nData: ${'x'.repeat(4096)}\r\n\r\n`);
    await until(c, 'disconnected');
    assert.ok(o.log.includes(`decode ${AmiErrorCode.Protocol}`), o.log.join(' | '));
  });

  it('brackets each replayed packet as a read', async () => {
    const o = recorder();
    const c = new AmiClient({
      host: '',
      port: 0,
      username: '',
      secret: '',
      replay: { file: join(fixturesDir(), 'c_inbound_answered.jsonl'), speed: 0 },
      observer: o,
    });
    clients.push(c);
    const done = firstValueFrom(c.events$.pipe(filter((p) => p.event === 'Hangup')));
    c.start();
    await done;
    const firstEvent = o.log.findIndex((l) => l.startsWith('event'));
    assert.equal(o.log[firstEvent - 1], 'read');
    assert.equal(o.log[firstEvent + 1], 'done');
  });

  it('observeAction never changes what the caller gets, even when the hook throws', async () => {
    const throwing: AmiObserver = {
      action: () => {
        throw new Error('observer bug');
      },
    };
    assert.equal(await observeAction(throwing, 'Ping', Promise.resolve(7)), 7);
    await assert.rejects(observeAction(throwing, 'Ping', Promise.reject(new Error('x'))), /x/);
    assert.equal(actionOutcome(new AmiError(AmiErrorCode.QueueFull, 'full')), 'refused');
    assert.equal(actionOutcome(new AmiError(AmiErrorCode.Aborted, 'a')), 'aborted');
    assert.equal(actionOutcome(new AmiError(AmiErrorCode.Closed, 'c')), 'disconnected');
    assert.equal(actionOutcome('??'), 'refused');
  });
});
