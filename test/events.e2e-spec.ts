// Acceptance 3 of issue 13: GET /api/v1/events. A reader gets a replayed call's events in order
// (the whole service: the Asterisk library, the fake AMI server); RAW packets with raw=true; a
// reader that never reads is cut off with its waiting data bounded while the others go on; keys,
// scopes, filters and the stream limit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Module } from '@nestjs/common';
import { CallDirection, CallState } from '@app/messaging';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import { FakeMessagingLibrary } from '../apps/messaging-host/src/gateway/testing/fake-messaging-library';
import { ApiKeyConfig } from '../apps/messaging-host/src/config/app-config';
import { EventStreamService } from '../apps/messaging-host/src/events/event-stream.service';
import { keysEnv, makeKey, startApiApp, type ApiApp, type TestKey } from './support/api-app';
import { SseReader } from './support/sse-reader';
import { until } from './asterisk-harness';

const reader = makeKey('crm-reader', ['read']);
const caller = makeKey('crm-bp', ['calls']);
const settingsOnly = makeKey('settings-admin', ['settings']);

function keyConfig(k: TestKey): ApiKeyConfig {
  const [entry] = JSON.parse(keysEnv([k])) as ApiKeyConfig[];
  return Object.assign(new ApiKeyConfig(), entry);
}

describe('event stream over a replayed trace (the Asterisk library)', () => {
  let app: RealApp;
  let base: string;
  const readers: SseReader[] = [];
  before(async () => {
    app = await startRealApp((c) => {
      c.api.keys = [keyConfig(reader), keyConfig(caller), keyConfig(settingsOnly)];
    });
    base = `http://127.0.0.1:${app.port}/api/v1/events`;
  });
  after(async () => {
    for (const r of readers) r.close();
    await app?.close();
  });
  const open = async (query: string, key = reader.key): Promise<SseReader> => {
    const r = await SseReader.open(`${base}${query}`, key);
    readers.push(r);
    return r;
  };

  it('a reader of line 305 receives the call events in order, then the idle line', async () => {
    const r = await open('?line=305');
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/event-stream/);
    const hello = await r.waitFor((e) => e.event === 'hello', 'hello');
    assert.equal(hello.data['library'], 'asterisk');
    assert.equal(hello.data['ready'], true);
    assert.match(String(hello.data['node']), /-\d+$/);
    assert.deepEqual(hello.data['key'], { name: 'crm-reader', scopes: ['read'] });
    assert.deepEqual(
      (hello.data['lines'] as { line: string; calls: unknown[] }[]).map((l) => [
        l.line,
        l.calls.length,
      ]),
      [['305', 0]],
    );
    const everyLine = await open('', caller.key);
    await everyLine.waitFor((e) => e.event === 'hello', 'hello (every line)');

    await app.ami.replay('c_inbound_answered');
    await r.waitFor(
      (e) => e.event === 'lineState' && e.data['callFeaturesSet'] === 2,
      'the idle line (event 11)',
    );
    const calls = r.calls('305');
    assert.deepEqual(
      calls.map((c) => [c.event, c.state]),
      [
        ['RING_STARTED', CallState.ALERTING],
        ['COMMUTATION_STARTED', CallState.CONNECTED],
        ['RING_FINISHED', CallState.NONE],
      ],
    );
    const ring = r.events.find((e) => e.event === 'call')!.data['call'] as Record<string, unknown>;
    assert.equal(ring['callerId'], '79161234567');
    assert.equal(ring['calledId'], '305');
    assert.equal(ring['direction'], CallDirection.IN);
    // In order: seq grows, and the SSE id is the seq.
    const seqs = r.events.filter((e) => 'seq' in e.data).map((e) => e.data['seq'] as number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    for (const e of r.events.filter((x) => x.id !== undefined)) {
      assert.equal(e.id, String(e.data['seq']));
    }
    // The line's state follows its events: after the last one, it shows no call.
    const lastSeq = calls.at(-1)!.seq;
    const idle = await r.waitFor(
      (e) => e.event === 'line' && (e.data['seq'] as number) > lastSeq,
      "the line's state after the call",
    );
    assert.equal(idle.data['line'], '305');
    assert.deepEqual(idle.data['calls'], []);
    // No event of another line reached the reader of 305.
    assert.ok(r.events.every((e) => !('line' in e.data) || e.data['line'] === '305'));

    // A reader of every line (the Asterisk library streams every line) got the same events.
    const helloAll = everyLine.events[0]!;
    assert.equal(helloAll.event, 'hello');
    assert.equal(helloAll.data['allLines'], 'stream');
    await everyLine.waitFor(
      (e) => e.event === 'call' && e.data['event'] === 'RING_FINISHED' && e.data['line'] === '305',
      'the end on 305',
    );
    assert.deepEqual(
      everyLine.calls('305').map((c) => c.event),
      ['RING_STARTED', 'COMMUTATION_STARTED', 'RING_FINISHED'],
    );
    // ... and the trunk's side of the same call (SIP/trunk-in is a line too), never RAW.
    assert.ok(everyLine.calls('trunk-in').length > 0);
    assert.ok(everyLine.events.every((e) => e.event !== 'raw'));
  });

  it('raw=true adds the RAW AMI packets of the line', async () => {
    const r = await open('?line=305&raw=true');
    await r.waitFor((e) => e.event === 'hello', 'hello');
    await app.ami.replay('d_inbound_missed');
    const raw = await r.waitFor((e) => e.event === 'raw', 'a raw packet');
    assert.equal(raw.data['line'], '305');
    const data = raw.data['data'] as Record<string, string>;
    assert.ok(typeof data['Event'] === 'string', JSON.stringify(data));
    await r.waitFor((e) => e.event === 'call' && e.data['event'] === 'RING_FINISHED', 'the end');
    const names = r.events
      .filter((e) => e.event === 'raw')
      .map((e) => (e.data['data'] as Record<string, string>)['Event']);
    assert.ok(names.includes('Newstate') && names.includes('Hangup'), names.join(','));
  });

  it('refuses: no key 401, a key without read or calls 403, a bad line or parameter 400', async () => {
    const none = await fetch(base);
    assert.equal(none.status, 401);
    const settings = await open('', settingsOnly.key);
    assert.equal(settings.status, 403);
    assert.equal(settings.error?.['code'], 'FORBIDDEN');
    const bad = await open('?line=30%0d5');
    assert.equal(bad.status, 400);
    assert.match(String(bad.error?.['message']), /line must be/);
    const rawAll = await open('?raw=true');
    assert.equal(rawAll.status, 400);
    assert.match(String(rawAll.error?.['message']), /raw=true needs the lines/);
    const unknown = await open('?lines=305');
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.error?.['message']), /unknown query parameter: lines/);
  });
});

@Module({ providers: [FakeMessagingLibrary], exports: [FakeMessagingLibrary] })
class FakeLibraryModule {}

describe('event stream: slow readers and limits (fake library)', () => {
  let api: ApiApp;
  let lib: FakeMessagingLibrary;
  let base: string;
  const readers: SseReader[] = [];
  const sockets: Socket[] = [];
  const CAP = 64 * 1024;
  before(async () => {
    api = await startApiApp({
      env: {
        API__KEYS: keysEnv([reader]),
        SERVER__MAXBUFFEREDBYTES: String(CAP),
        EVENTS__MAXCLIENTS: '3',
        API__RATELIMIT__LIMIT: '1000',
      },
      defaultLibrary: 'fake',
      libraryModules: [FakeLibraryModule],
    });
    lib = api.app.get(FakeMessagingLibrary);
    base = `${api.url}/api/v1/events`;
  });
  after(async () => {
    for (const r of readers) r.close();
    for (const s of sockets) s.destroy();
    await api?.close();
  });

  /** A reader that sends its request and then never reads a byte. */
  function stalledReader(path: string): Promise<Socket> {
    const { hostname, port } = new URL(api.url);
    return new Promise((resolve, reject) => {
      const s = connect(Number(port), hostname, () => {
        s.write(
          `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${reader.key}\r\n\r\n`,
        );
        s.pause();
        resolve(s);
      });
      s.on('error', reject);
      sockets.push(s);
    });
  }

  it('cuts off a reader that never reads, with bounded waiting data, while a reader that reads gets every event in order', async () => {
    const streams = api.app.get(EventStreamService);
    const good = await SseReader.open(`${base}?line=305`, reader.key);
    readers.push(good);
    await good.waitFor((e) => e.event === 'hello', 'hello');
    await stalledReader('/api/v1/events?line=305');
    await until(() => streams.readers().length === 2, 'two readers');
    const stalled = streams.readers()[1]!;

    // Far more than the socket buffers and the cap hold: ~ 20 MB of call events.
    let sent = 0;
    const pad = 'x'.repeat(40);
    for (let i = 0; i < 6000 && stalled.isOpen; i++) {
      const call = lib.ring('305', CallDirection.IN, `7916${pad}${i}`.slice(0, 60));
      lib.move(call.id, CallState.CONNECTED);
      lib.move(call.id, CallState.NONE);
      sent += 3;
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    await until(() => !stalled.isOpen, 'the stalled reader to be cut off', 10_000);
    assert.equal(streams.readers().length, 1, 'only the reader that reads is left');
    // What waited for it never went much past the cap: one frame at most.
    assert.ok(
      stalled.peakBuffered <= CAP + 2048,
      `peak waiting data ${stalled.peakBuffered} bytes, cap ${CAP}`,
    );
    // The reader that reads got every call event of the calls made, in order, none lost.
    const total = sent;
    await until(() => good.calls('305').length >= total, `${total} call events`, 20_000);
    const calls = good.calls('305');
    assert.equal(calls.length, total);
    for (let i = 0; i < calls.length; i += 3) {
      assert.deepEqual(
        calls.slice(i, i + 3).map((c) => c.event),
        ['RING_STARTED', 'COMMUTATION_STARTED', 'RING_FINISHED'],
      );
    }
    const seqs = calls.map((c) => c.seq);
    assert.ok(
      seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
      'seq grows',
    );
  });

  it('every line: from the library stream when it has one, else found as calls appear', async () => {
    const all = await SseReader.open(base, reader.key);
    readers.push(all);
    const hello = await all.waitFor((e) => e.event === 'hello', 'hello');
    assert.equal(hello.data['allLines'], 'stream');
    const c = lib.ring('401');
    lib.move(c.id, CallState.NONE);
    await all.waitFor((e) => e.event === 'call' && e.data['line'] === '401', 'a call on 401');
    all.close();
    await until(() => api.app.get(EventStreamService).readers().length <= 1, 'reader gone');

    lib.allLines = false;
    try {
      const found = await SseReader.open(base, reader.key);
      readers.push(found);
      const h = await found.waitFor((e) => e.event === 'hello', 'hello');
      assert.equal(h.data['allLines'], 'discovered');
      const ringing = lib.ring('402');
      // Its state shows once the line is found; from then on its events come in order.
      await found.waitFor(
        (e) =>
          e.event === 'line' &&
          e.data['line'] === '402' &&
          (e.data['calls'] as unknown[]).length === 1,
        "402's ringing call",
      );
      lib.move(ringing.id, CallState.CONNECTED);
      lib.move(ringing.id, CallState.NONE);
      await found.waitFor(
        (e) =>
          e.event === 'call' && e.data['line'] === '402' && e.data['event'] === 'RING_FINISHED',
        '402 ends',
      );
      found.close();
    } finally {
      lib.allLines = true;
    }
  });

  it('refuses a stream beyond events.maxClients with 503', async () => {
    const streams = api.app.get(EventStreamService);
    await until(() => streams.readers().length <= 1, 'earlier readers gone');
    const open: SseReader[] = [];
    while (streams.readers().length < 3) {
      const r = await SseReader.open(`${base}?line=305`, reader.key);
      readers.push(r);
      open.push(r);
      await r.waitFor((e) => e.event === 'hello', 'hello');
    }
    const refused = await SseReader.open(`${base}?line=305`, reader.key);
    assert.equal(refused.status, 503);
    assert.equal(refused.error?.['code'], 'TOO_MANY_STREAMS');
    for (const r of open) r.close();
  });
});
