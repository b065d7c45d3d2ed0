import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAmiTimers, readTrace, rxChunks } from '@app/ami/testing';
import { AmiActionQueue, type AmiActionQueueOptions } from './ami-action-queue';
import { AmiActionError } from './ami-action-error';
import { AmiError, AmiErrorCode } from './ami.errors';
import { AmiDecoder, AmiPacket, type AmiActionFields } from './protocol';

/** A queue whose writes are kept (decoded back into packets) and whose clock is fake. */
function setup(opts: Partial<AmiActionQueueOptions> = {}) {
  const timers = new FakeAmiTimers();
  const written: AmiPacket[] = [];
  const decoder = new AmiDecoder(
    {
      onPacket: (p) => written.push(p),
      onError: (e) => {
        throw e;
      },
    },
    { expectBanner: false },
  );
  const queue = new AmiActionQueue({
    write: (bytes) => decoder.push(bytes),
    timers,
    ...opts,
  });
  return { queue, timers, written };
}

/** A packet from header pairs, as the decoder would give it. */
function packet(fields: Record<string, string>): AmiPacket {
  return AmiPacket.from(Object.entries(fields));
}

/** Decodes AMI text (a server's answer) into packets. */
function decodeAll(chunks: readonly Buffer[], expectBanner = false): AmiPacket[] {
  const out: AmiPacket[] = [];
  const d = new AmiDecoder(
    {
      onPacket: (p) => out.push(p),
      onError: (e) => {
        throw e;
      },
    },
    { expectBanner },
  );
  for (const c of chunks) d.push(c);
  return out;
}

function isAmiError(code: AmiErrorCode) {
  return (e: unknown) => e instanceof AmiError && e.code === code;
}

/** Lets promise callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('AmiActionQueue', () => {
  it('gives every action its own ActionID, replacing the caller’s, Action first', () => {
    const { queue, written } = setup();
    void queue.send({ Action: 'Ping' });
    void queue.send({ Action: 'Ping', ActionID: 'mine' });
    void queue.sendList({ Action: 'CoreShowChannels' });
    void queue.send({ Action: 'Hangup', Channel: 'SIP/305-1', actionid: 'x' });

    const ids = written.map((p) => p.actionId);
    assert.equal(new Set(ids).size, 4, ids.join(','));
    assert.ok(!ids.includes('mine') && !ids.includes('x'));
    assert.deepEqual(written[3]!.keys, ['Action', 'ActionID', 'Channel']);
    assert.equal(queue.size, 4);
  });

  it('routes answers by ActionID, whatever their order', async () => {
    const { queue, written } = setup();
    const a = queue.send({ Action: 'Ping' });
    const b = queue.send({ Action: 'CoreStatus' });

    assert.equal(
      queue.handle(
        packet({ Response: 'Success', ActionID: written[1]!.actionId!, CoreUptime: '9' }),
      ),
      true,
    );
    assert.equal(
      queue.handle(packet({ Response: 'Success', ActionID: written[0]!.actionId!, Ping: 'Pong' })),
      true,
    );

    assert.equal((await b).get('CoreUptime'), '9');
    assert.equal((await a).get('Ping'), 'Pong');
    assert.equal(queue.size, 0);
  });

  it('leaves packets of no pending action to the caller (events, other sessions’ ids)', () => {
    const { queue } = setup();
    void queue.send({ Action: 'Ping' });
    assert.equal(queue.handle(packet({ Event: 'Newchannel', Channel: 'SIP/305-1' })), false);
    assert.equal(
      queue.handle(packet({ Event: 'UserEvent', ActionID: 'someone-else-1', UserEvent: 'x' })),
      false,
    );
    assert.equal(queue.size, 1);
  });

  it('rejects with AmiActionError carrying the server message on Response: Error', async () => {
    const { queue, written } = setup();
    const p = queue.send({ Action: 'Hangup', Channel: 'SIP/999-1' });
    queue.handle(
      packet({ Response: 'Error', ActionID: written[0]!.actionId!, Message: 'No such channel' }),
    );
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof AmiActionError);
      assert.equal(e.code, AmiErrorCode.ActionFailed);
      assert.equal(e.serverMessage, 'No such channel');
      assert.equal(e.action, 'Hangup');
      return true;
    });
  });

  it('resolves a list action with its items once the Complete event arrived', async () => {
    const { queue, written } = setup();
    const p = queue.sendList({ Action: 'CoreShowChannels' });
    const id = written[0]!.actionId!;
    assert.equal(
      queue.handle(packet({ Response: 'Success', ActionID: id, EventList: 'start' })),
      true,
    );
    assert.equal(
      queue.handle(packet({ Event: 'CoreShowChannel', ActionID: id, Channel: 'SIP/305-1' })),
      true,
    );
    // A broadcast event in between is not an item.
    assert.equal(queue.handle(packet({ Event: 'Hangup', Channel: 'SIP/306-2' })), false);
    assert.equal(
      queue.handle(packet({ Event: 'CoreShowChannel', ActionID: id, Channel: 'SIP/trunk-2' })),
      true,
    );
    assert.equal(
      queue.handle(
        packet({
          Event: 'CoreShowChannelsComplete',
          ActionID: id,
          EventList: 'Complete',
          ListItems: '2',
        }),
      ),
      true,
    );
    const r = await p;
    assert.deepEqual(
      r.items.map((i) => i.get('Channel')),
      ['SIP/305-1', 'SIP/trunk-2'],
    );
    assert.equal(r.complete.event, 'CoreShowChannelsComplete');
    assert.equal(r.response.get('EventList'), 'start');
  });

  it('resolves a list action answered without a list (no EventList: start) with no items', async () => {
    const { queue, written } = setup();
    const p = queue.sendList({ Action: 'QueueStatus', Queue: 'none' });
    queue.handle(packet({ Response: 'Success', ActionID: written[0]!.actionId!, Message: 'ok' }));
    const r = await p;
    assert.deepEqual(r.items, []);
    assert.equal(r.complete, r.response);
  });

  it('answers every action of the a1 trace (lists with their items) from the recorded bytes', async () => {
    const records = readTrace('a1_idle_login_status');
    const { queue, written } = setup();
    const lists = new Set([
      'coreshowchannels',
      'status',
      'queuestatus',
      'queuesummary',
      'sippeers',
      'parkedcalls',
      'parkinglots',
    ]);
    const results: Promise<unknown>[] = [];
    const sent = decodeAll(
      records.filter((r) => r.dir === 'tx').map((r) => Buffer.from(r.b64, 'base64')),
    );
    for (const action of sent) {
      const fields = Object.fromEntries(action.entries()) as AmiActionFields;
      const name = action.get('Action')!.toLowerCase();
      results.push(lists.has(name) ? queue.sendList(fields) : queue.send(fields));
    }
    // The recording client numbered its actions as this queue does: the answers route as recorded.
    assert.deepEqual(
      written.map((p) => p.actionId),
      sent.map((p) => p.actionId),
    );
    const events: AmiPacket[] = [];
    for (const p of decodeAll(rxChunks(records), true)) if (!queue.handle(p)) events.push(p);

    const settled = await Promise.all(results);
    assert.equal(queue.size, 0);
    const byAction = new Map(sent.map((a, i) => [a.get('Action')!, settled[i]]));
    const peers = byAction.get('SIPpeers') as { items: AmiPacket[]; complete: AmiPacket };
    assert.equal(peers.items.length, Number(peers.complete.get('ListItems')));
    assert.ok(peers.items.length > 0);
    assert.ok(peers.items.every((i) => i.event === 'PeerEntry'));
    const queues = byAction.get('QueueStatus') as { items: AmiPacket[] };
    assert.ok(queues.items.some((i) => i.event === 'QueueMember'));
    // What is left is broadcast events only (FullyBooted after the Login answer).
    assert.ok(events.length > 0);
    assert.ok(events.every((e) => e.event !== undefined && e.actionId === undefined));
  });

  it('resolves an async Originate on its OriginateResponse and leaves that event to the caller', async () => {
    const { queue, written } = setup();
    const p = queue.sendOriginate({
      Action: 'Originate',
      Channel: 'SIP/305',
      Context: 'from-internal',
      Exten: '600',
      Priority: 1,
      Async: true,
    });
    const id = written[0]!.actionId!;
    queue.handle(
      packet({ Response: 'Success', ActionID: id, Message: 'Originate successfully queued' }),
    );
    assert.equal(queue.size, 1, 'waits for the OriginateResponse after the Response');
    const ev = packet({
      Event: 'OriginateResponse',
      ActionID: id,
      Response: 'Success',
      Channel: 'SIP/305',
      Reason: '4',
      Uniqueid: '1795582091.9',
    });
    assert.equal(queue.handle(ev), false, 'OriginateResponse is broadcast: the caller sees it too');
    const r = await p;
    assert.equal(r.response.get('Message'), 'Originate successfully queued');
    assert.equal(r.originateResponse, ev);
  });

  it('resolves the b3 trace’s async Originate with its Failure (Reason 3, Uniqueid <unknown>)', async () => {
    const records = readTrace('b3_originate_noanswer');
    const { queue, written } = setup();
    const sent = decodeAll(
      records.filter((r) => r.dir === 'tx').map((r) => Buffer.from(r.b64, 'base64')),
    );
    const login = queue.send(Object.fromEntries(sent[0]!.entries()) as AmiActionFields);
    const originate = queue.sendOriginate(
      Object.fromEntries(sent[1]!.entries()) as AmiActionFields,
    );
    assert.equal(written[1]!.actionId, sent[1]!.actionId);
    for (const p of decodeAll(rxChunks(records), true)) queue.handle(p);

    await login;
    const r = await originate;
    assert.equal(r.response.get('Response'), 'Success');
    const ev = r.originateResponse!;
    assert.equal(ev.get('Response'), 'Failure');
    assert.equal(ev.get('Reason'), '3');
    assert.equal(ev.get('Uniqueid'), '<unknown>');
    assert.equal(ev.get('Channel'), 'SIP/305');
  });

  it('resolves a synchronous Originate on its Response', async () => {
    const { queue, written } = setup();
    const p = queue.sendOriginate({ Action: 'Originate', Channel: 'SIP/305', Exten: '600' });
    queue.handle(packet({ Response: 'Success', ActionID: written[0]!.actionId! }));
    const r = await p;
    assert.equal(r.originateResponse, undefined);
  });

  it('times out an async Originate whose OriginateResponse never comes (ring time + timeout)', async () => {
    const { queue, written, timers } = setup({ defaultTimeoutMs: 1000 });
    const p = queue.sendOriginate({
      Action: 'Originate',
      Channel: 'SIP/305',
      Exten: '600',
      Timeout: 2000,
      Async: 'yes',
    });
    queue.handle(packet({ Response: 'Success', ActionID: written[0]!.actionId! }));
    timers.tick(2999);
    await flush();
    assert.equal(queue.size, 1);
    timers.tick(1);
    await assert.rejects(p, isAmiError(AmiErrorCode.Timeout));
    assert.equal(queue.size, 0);
  });

  it('refuses an action with QueueFull when maxPending actions wait, sending nothing', async () => {
    const { queue, written } = setup({ maxPending: 2 });
    void queue.send({ Action: 'Ping' });
    void queue.send({ Action: 'Ping' });
    await assert.rejects(queue.send({ Action: 'Status' }), (e: unknown) => {
      assert.ok(isAmiError(AmiErrorCode.QueueFull)(e));
      assert.match((e as Error).message, /Status.*maxPendingActions 2/);
      return true;
    });
    assert.equal(written.length, 2);
    // Room again once an answer came.
    queue.handle(packet({ Response: 'Success', ActionID: written[0]!.actionId! }));
    void queue.send({ Action: 'Status' });
    assert.equal(written.length, 3);
  });

  it('rejects with Aborted when the signal fires, and drops the answer that comes later', async () => {
    const { queue, written, timers } = setup();
    const ctl = new AbortController();
    const p = queue.sendList({ Action: 'Status' }, { signal: ctl.signal });
    const id = written[0]!.actionId!;
    ctl.abort(new Error('operator went away'));
    await assert.rejects(p, isAmiError(AmiErrorCode.Aborted));
    assert.equal(queue.size, 0);
    assert.equal(timers.pending, 0, 'the timeout timer is released');

    // The late answer: response, item and complete are all dropped, not taken for events.
    assert.equal(
      queue.handle(packet({ Response: 'Success', ActionID: id, EventList: 'start' })),
      true,
    );
    assert.equal(queue.handle(packet({ Event: 'Status', ActionID: id, Channel: 'x' })), true);
    assert.equal(
      queue.handle(packet({ Event: 'StatusComplete', ActionID: id, EventList: 'Complete' })),
      true,
    );
    // Then the id is forgotten.
    assert.equal(queue.handle(packet({ Event: 'Status', ActionID: id })), false);
  });

  it('rejects at once, sending nothing, when the signal is already aborted', async () => {
    const { queue, written } = setup();
    await assert.rejects(
      queue.send({ Action: 'Ping' }, { signal: AbortSignal.abort() }),
      isAmiError(AmiErrorCode.Aborted),
    );
    assert.equal(written.length, 0);
  });

  it('times out an action with no answer, at its own timeout or the default, and drops the late answer', async () => {
    const { queue, written, timers } = setup({ defaultTimeoutMs: 500 });
    const a = queue.send({ Action: 'Ping' });
    const b = queue.send({ Action: 'Status' }, { timeoutMs: 100 });
    timers.tick(99);
    await flush();
    assert.equal(queue.size, 2);
    timers.tick(1);
    await assert.rejects(b, (e: unknown) => {
      assert.ok(isAmiError(AmiErrorCode.Timeout)(e));
      assert.match((e as Error).message, /Status.*100 ms/);
      return true;
    });
    assert.equal(queue.size, 1);
    timers.tick(400);
    await assert.rejects(a, isAmiError(AmiErrorCode.Timeout));
    assert.equal(
      queue.handle(packet({ Response: 'Success', ActionID: written[0]!.actionId! })),
      true,
    );
  });

  it('restarts a list’s timeout at every item, so a long list is not cut', async () => {
    const { queue, written, timers } = setup({ defaultTimeoutMs: 100 });
    const p = queue.sendList({ Action: 'SIPpeers' });
    const id = written[0]!.actionId!;
    queue.handle(packet({ Response: 'Success', ActionID: id, EventList: 'start' }));
    for (let i = 0; i < 5; i++) {
      timers.tick(90);
      queue.handle(packet({ Event: 'PeerEntry', ActionID: id, ObjectName: String(300 + i) }));
    }
    timers.tick(90);
    queue.handle(packet({ Event: 'PeerlistComplete', ActionID: id, EventList: 'Complete' }));
    assert.equal((await p).items.length, 5);
  });

  it('end() fails everything pending with ConnectionClosed and refuses later actions', async () => {
    const { queue, timers } = setup();
    const pending = [
      queue.send({ Action: 'Ping' }),
      queue.sendList({ Action: 'CoreShowChannels' }),
      queue.sendOriginate({ Action: 'Originate', Channel: 'SIP/305', Exten: '1', Async: true }),
    ];
    const closed = new AmiError(AmiErrorCode.ConnectionClosed, 'AMI connection closed by peer');
    queue.end(closed);
    for (const p of pending) await assert.rejects(p, (e: unknown) => e === closed);
    assert.equal(queue.size, 0);
    assert.equal(timers.pending, 0);
    assert.equal(queue.ended, true);
    await assert.rejects(queue.send({ Action: 'Ping' }), (e: unknown) => e === closed);
  });

  it('flushAll() fails what is pending and stays usable', async () => {
    const { queue, written } = setup();
    const p = queue.send({ Action: 'Ping' });
    queue.flushAll(new AmiError(AmiErrorCode.ConnectionClosed, 'dropped'));
    await assert.rejects(p, isAmiError(AmiErrorCode.ConnectionClosed));
    const q = queue.send({ Action: 'Ping' });
    queue.handle(packet({ Response: 'Success', ActionID: written[1]!.actionId! }));
    assert.equal((await q).response, 'Success');
  });

  it('fails with ConnectionClosed when the write throws, and with Injection before writing a CR/LF value', async () => {
    const failing = new AmiActionQueue({
      write: () => {
        throw new Error('socket gone');
      },
    });
    await assert.rejects(
      failing.send({ Action: 'Ping' }),
      isAmiError(AmiErrorCode.ConnectionClosed),
    );
    assert.equal(failing.size, 0);

    const { queue, written } = setup();
    await assert.rejects(
      queue.send({ Action: 'Setvar', Variable: 'x', Value: 'a\r\nAction: Command' }),
      isAmiError(AmiErrorCode.Injection),
    );
    assert.equal(written.length, 0);
    assert.equal(queue.size, 0);
  });

  it('prefixes ActionIDs when asked', () => {
    const { queue, written } = setup({ idPrefix: 'mh1-' });
    void queue.send({ Action: 'Ping' });
    assert.match(written[0]!.actionId!, /^mh1-ping-\d+$/);
  });
});
