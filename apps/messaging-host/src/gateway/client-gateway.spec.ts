import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import 'reflect-metadata';
import { CallState, MsgEventType } from '@app/messaging';
import {
  MemoryLineSettingsStore,
  startGatewayTestApp,
  type GatewayTestApp,
} from './testing/gateway-test-app';
import { ENVELOPE_KEYS, WsCtiClient, type ReceivedEvent } from './testing/cti-test-client';
import { CALL_KEYS } from './protocol/client-protocol';
import { FAKE_ASSEMBLY as FAKE } from './testing/fake-messaging-library';

function errorOf(e: ReceivedEvent): {
  errorType: number;
  internalErrorCode: string;
  data: string;
  source: string;
} {
  assert.equal(
    e.eventType,
    MsgEventType.ERROR,
    `expected an ERROR event, got ${e.eventType}: ${e.content}`,
  );
  return e.parsed as never;
}

describe('ClientGateway over plain WebSocket (fake library)', () => {
  let t: GatewayTestApp;
  const store = new MemoryLineSettingsStore();
  const clients: WsCtiClient[] = [];
  const connect = async (path = '/'): Promise<WsCtiClient> => {
    const c = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}${path}`);
    clients.push(c);
    return c;
  };

  before(async () => {
    t = await startGatewayTestApp((c) => {
      c.server.maxBufferedBytes = 64 * 1024;
      c.server.heartbeatIntervalMs = 1000;
    }, store);
  });
  after(async () => {
    for (const c of clients) c.terminate();
    await t.close();
  });

  it('runs a session: 1, 2, 10, then call events to every tab of the user, content as JSON strings', async () => {
    const tab1 = await connect('/');
    const tab2 = await connect('/any/path');
    const e2 = await tab1.open('305', 'user-a', { assembly: FAKE });
    assert.equal(e2.eventType, 2);
    assert.match(e2.connectionUId, /^[0-9a-f-]{36}$/);
    assert.match(tab1.libraryInstanceUId, /^[0-9a-f-]{36}$/);
    assert.equal((await tab2.open('305', 'USER-A', { assembly: FAKE })).eventType, 2);

    const snap = await tab1.reply(await tab1.command('QueryActiveCallSnapshot'));
    assert.equal(snap.eventType, 10);
    assert.deepEqual(snap.parsed, { ActiveCalls: [], CurrentCall: null });

    const call = t.lib.ring('305');
    for (const tab of [tab1, tab2]) {
      const ring = await tab.events.next((e) => e.eventType === 5);
      assert.deepEqual(ring.keys, ENVELOPE_KEYS);
      assert.equal(typeof ring.content, 'string');
      const c = ring.parsed as Record<string, unknown>;
      assert.equal(c['id'], call.id);
      assert.equal(c['state'], CallState.ALERTING);
      for (const k of Object.keys(c))
        assert.ok((CALL_KEYS as readonly string[]).includes(k), `unknown key ${k}`);
      assert.equal(ring.connectionUId, tab.connectionUId);
    }
    const snap2 = await tab2.reply(await tab2.command('QueryActiveCallSnapshot'));
    const s2 = snap2.parsed as { ActiveCalls: { id: string }[]; CurrentCall: { id: string } };
    assert.equal(s2.ActiveCalls[0]!.id, call.id);
    assert.equal(s2.CurrentCall.id, call.id);

    t.lib.move(call.id, CallState.CONNECTED);
    t.lib.move(call.id, CallState.NONE);
    for (const tab of [tab1, tab2]) {
      assert.equal((await tab.events.next((e) => e.eventType === 7)).eventType, 7);
      assert.equal((await tab.events.next((e) => e.eventType === 6)).eventType, 6);
      const ls = await tab.events.next((e) => e.eventType === 11);
      assert.deepEqual(ls.parsed, { callFeaturesSet: 2 });
    }
    const line = await tab1.reply(await tab1.command('QueryLineState'));
    assert.deepEqual(line.parsed, { callFeaturesSet: 2 });
    assert.ok(
      tab1.frames.every((f) => !f.startsWith('[')),
      'one envelope per frame',
    );
  });

  it('refuses another user on a bound line with error 2 and closes that socket', async () => {
    const owner = await connect();
    assert.equal((await owner.open('306', 'owner', { assembly: FAKE })).eventType, 2);
    const intruder = await connect();
    const refused = await intruder.open('306', 'someone-else', { assembly: FAKE });
    const err = errorOf(refused);
    assert.equal(err.errorType, 2);
    assert.match(err.data, /in use by another user/);
    await intruder.events.waitClosed();
    // The owner keeps the line and its events.
    const call = t.lib.ring('306');
    assert.equal(
      ((await owner.events.next((e) => e.eventType === 5)).parsed as { id: string }).id,
      call.id,
    );
    t.lib.move(call.id, CallState.NONE);
  });

  it('answers bad input with ERROR events and keeps the socket open', async () => {
    const c = await connect();
    const cases: [string | Buffer, boolean, number, RegExp][] = [
      ['{not json', false, 3, /BAD_JSON/],
      ['[1,2]', false, 3, /BAD_JSON/],
      ['{"commandUId":"x"}', false, 3, /MISSING_FIELD/],
      ['{"command":"Bogus","commandUId":"b"}', false, 3, /UNKNOWN_COMMAND/],
      ['{"command":"QueryActiveCallSnapshot","commandUId":"q"}', false, 3, /NOT_CONNECTED/],
      ['{"command":"MakeCall","parameters":{"targetAddress":"1"}}', false, 3, /NOT_CONNECTED/],
      [
        JSON.stringify({ command: 'MakeCall', pad: 'x'.repeat(5000) }),
        false,
        3,
        /COMMAND_TOO_LONG/,
      ],
      [Buffer.from([1, 2, 3]), true, 3, /BINARY_FRAME/],
      [
        '{"command":"LoadLibrary","parameters":{"AssemblyName":"Nope, Nope"}}',
        false,
        1,
        /UNKNOWN_LIBRARY/,
      ],
      ['{"command":"LoadLibrary","parameters":{}}', false, 1, /MISSING_FIELD/],
    ];
    for (const [frame, binary, type, code] of cases) {
      await c.sendRaw(frame, binary);
      const e = await c.events.next();
      const err = errorOf(e);
      assert.equal(err.errorType, type, `${String(frame).slice(0, 40)}: ${e.content}`);
      assert.match(err.internalErrorCode, code);
    }
    const bogus = c.events.all.find((e) => e.commandUId === 'b');
    assert.ok(bogus, 'the error names the commandUId of the bad command');
    assert.equal((await c.open('307', 'user-c', { assembly: FAKE })).eventType, 2);
    const dnd = await c.reply(await c.command('SetDnd', { isDnd: true }));
    assert.equal(errorOf(dnd).errorType, 4);
    const answer = await c.reply(await c.callCommand('AnswerCall', { id: 'x' }));
    assert.equal(errorOf(answer).errorType, 4);
    const hold = await c.reply(await c.callCommand('HoldCall', { id: 'no-such-call' }));
    assert.equal(errorOf(hold).errorType, 3);
    assert.equal(errorOf(hold).internalErrorCode, 'NO_SUCH_CALL');
    assert.equal(c.events.closed, undefined);
  });

  it('closes after error 2 even when its text is long non-ASCII (close reason capped at 123 bytes)', async () => {
    // The refusal names the line; 80 Cyrillic letters are 160 bytes, over the close frame's limit.
    const line = '\u0436'.repeat(80);
    const c = await connect();
    const e = await c.open(line, 'u-utf8', { assembly: FAKE });
    assert.equal(errorOf(e).errorType, 2);
    const closed = await c.events.waitClosed();
    assert.equal(closed.code, 1008);
    assert.ok(Buffer.byteLength(closed.reason) <= 123);
    // The server is still there for the next client.
    const next = await connect();
    assert.equal((await next.open('308', 'u-308', { assembly: FAKE })).eventType, 2);
  });

  it('answers a request target that is not a URL (negotiate: 4xx, upgrade: 400) and keeps serving', async () => {
    const raw = (request: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = netConnect(t.port, '127.0.0.1', () => s.write(request));
        let text = '';
        s.on('data', (d: Buffer) => {
          text += d.toString('latin1');
        });
        s.on('end', () => s.end());
        s.on('close', () => resolve(text));
        s.on('error', reject);
      });
    const upgrade =
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    for (const target of ['//[/negotiate', 'http://[::1/msg/negotiate']) {
      const answer = await raw(
        `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      assert.match(answer, /^HTTP\/1\.1 4\d\d /, `POST ${target}: ${answer.slice(0, 80)}`);
    }
    for (const target of ['//[', 'http://[::1']) {
      const answer = await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n`);
      assert.match(answer, /^HTTP\/1\.1 400 /, `upgrade ${target}: ${answer.slice(0, 80)}`);
    }
    const c = await connect();
    assert.equal((await c.open('309', 'u-309', { assembly: FAKE })).eventType, 2);
  });

  it('dispatches call commands by the executor id, never trusting its state', async () => {
    const c = await connect();
    assert.equal((await c.open('310', 'user-d', { assembly: FAKE })).eventType, 2);
    await c.command('MakeCall', { targetAddress: '79161234567' });
    const ring = await c.events.next((e) => e.eventType === 5);
    const call = ring.parsed as { id: string };
    assert.deepEqual(t.lib.commands.find((x) => x.name === 'makeCall')?.args, ['79161234567']);
    t.lib.move(call.id, CallState.CONNECTED);
    await c.events.next((e) => e.eventType === 7);
    // The panel's executor says HOLDED (3): the server goes by the id and the real state.
    await c.callCommand('HoldCall', { id: call.id, state: 3 });
    assert.equal(
      ((await c.events.next((e) => e.eventType === 8)).parsed as { id: string }).id,
      call.id,
    );
    await c.callCommand('HoldCall', { id: call.id, state: 3 });
    assert.equal(
      ((await c.events.next((e) => e.eventType === 9)).parsed as { id: string }).id,
      call.id,
    );
    await c.callCommand('SendDtmf', { id: call.id }, { digits: '12#' });
    await c.callCommand('BlindTransferCall', { id: call.id }, { targetAddress: '306' });
    await c.command(
      'TransferCall',
      { consultationCall: JSON.stringify({ id: 'consult-1' }) },
      {
        commandExecutorId: call.id,
      },
    );
    await c.command('CancelTransfer', {
      currentCall: JSON.stringify({ id: call.id }),
      consultCall: JSON.stringify({ id: 'consult-1' }),
    });
    const st = await c.reply(await c.command('SetMsgUserState', { code: 'Away', reason: 'lunch' }));
    assert.equal(st.eventType, 12);
    assert.equal(st.content, '"Away"');
    await c.callCommand('DropCall', { id: call.id });
    await c.events.next((e) => e.eventType === 6);
    const names = t.lib.commands
      .filter((x) => x.line === '310')
      .map((x) => `${x.name}:${x.args.join(',')}`);
    assert.deepEqual(names, [
      'makeCall:79161234567',
      `holdCall:${call.id}`,
      `holdCall:${call.id}`,
      `sendDtmf:${call.id},12#`,
      `blindTransferCall:${call.id},306`,
      `transferCall:${call.id},consult-1`,
      `cancelTransfer:${call.id},consult-1`,
      'setAgentState:Away,lunch',
      `dropCall:${call.id}`,
    ]);
  });

  it('refuses with error 5 when the call centre is disabled (string, boolean or stored) and closes', async () => {
    for (const value of ['true', true]) {
      const c = await connect();
      const e = await c.open('320', 'u', {
        assembly: FAKE,
        connectionParams: { disableCallCentre: value },
      });
      assert.equal(errorOf(e).errorType, 5);
      await c.events.waitClosed();
    }
    store.data.set('321', { disableCallCentre: true });
    const c = await connect();
    assert.equal(errorOf(await c.open('321', 'u', { assembly: FAKE })).errorType, 5);
  });

  it('refuses with error 2 a line the store assigns to another user, a claim without UserUId included', async () => {
    store.data.set('322', { userUId: 'Owner-322' });
    for (const user of ['someone-else', '']) {
      const c = await connect();
      const e = await c.open('322', user, { assembly: FAKE });
      const err = errorOf(e);
      assert.equal(err.errorType, 2, `UserUId '${user}': ${e.content}`);
      assert.match(err.data, /assigned to another user/);
      await c.events.waitClosed();
    }
    const owner = await connect();
    assert.equal((await owner.open('322', 'owner-322', { assembly: FAKE })).eventType, 2);
  });

  it('merges stored settings: debugMode from the store sends RAW_DATA to that line only', async () => {
    store.data.set('330', { debugMode: true, originateContext: 'ctx-330' });
    const debug = await connect();
    assert.equal((await debug.open('330', 'u330', { assembly: FAKE })).eventType, 2);
    const plain = await connect();
    assert.equal((await plain.open('331', 'u331', { assembly: FAKE })).eventType, 2);
    assert.deepEqual(t.lib.opened.find((o) => o.line === '330')?.settings, {
      originateContext: 'ctx-330',
      debugMode: true,
    });
    assert.deepEqual(t.lib.opened.find((o) => o.line === '331')?.settings, { debugMode: false });
    t.lib.emit({
      type: MsgEventType.RAW_DATA,
      line: '330',
      data: { Event: 'Newstate', Channel: 'SIP/330-1' },
    });
    t.lib.emit({ type: MsgEventType.RAW_DATA, line: '331', data: { Event: 'Newstate' } });
    const raw = await debug.events.next((e) => e.eventType === 16);
    assert.deepEqual(raw.parsed, { Event: 'Newstate', Channel: 'SIP/330-1' });
    await plain.reply(await plain.command('QueryLineState'));
    assert.ok(!plain.events.all.some((e) => e.eventType === 16));
  });

  it('falls back to connectionParams when the store fails, and logs it', async () => {
    store.failing = true;
    try {
      const c = await connect();
      assert.equal((await c.open('340', 'u340', { assembly: FAKE })).eventType, 2);
      assert.ok(t.logs.lines.some((l) => /per-line settings unavailable/.test(l.message)));
    } finally {
      store.failing = false;
    }
  });

  it('runs a command sent right after OpenConnection once the line is bound (slow store)', async () => {
    store.delayMs = 50;
    try {
      const c = await connect();
      const load = await c.command('LoadLibrary', { AssemblyName: FAKE });
      const open = await c.command('OpenConnection', {
        connectionParams: JSON.stringify({ ExtensionName: '345' }),
        sessionServiceParams: JSON.stringify({ UserUId: 'u345' }),
      });
      const snap = await c.command('QueryActiveCallSnapshot');
      assert.equal((await c.reply(load)).eventType, 1);
      assert.equal((await c.reply(open)).eventType, 2);
      assert.equal((await c.reply(snap)).eventType, 10);
    } finally {
      store.delayMs = 0;
    }
  });

  it('disconnects a client that does not read, with a log line, and keeps serving the others', async () => {
    const slow = await connect();
    const debugParams = { connectionParams: { debugMode: true } };
    assert.equal((await slow.open('350', 'u350', { assembly: FAKE, ...debugParams })).eventType, 2);
    const other = await connect();
    assert.equal((await other.open('351', 'u351', { assembly: FAKE })).eventType, 2);
    const raw = (slow.ws as unknown as { _socket: { pause(): void } })._socket;
    raw.pause();
    const big = 'x'.repeat(8 * 1024);
    for (let i = 0; i < 2000 && t.gateway.stats().lines.some((l) => l.line === '350'); i++) {
      t.lib.emit({ type: MsgEventType.RAW_DATA, line: '350', data: { big } });
      t.lib.emit({ type: MsgEventType.AGENT_STATE_CHANGED, line: '350', code: 'Active' });
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(
      t.logs.lines.some((l) => /does not read/.test(l.message)),
      'the disconnect is logged',
    );
    assert.ok(!t.gateway.stats().lines.some((l) => l.line === '350'), 'the line was released');
    const call = t.lib.ring('351');
    assert.equal(
      ((await other.events.next((e) => e.eventType === 5)).parsed as { id: string }).id,
      call.id,
    );
    t.lib.move(call.id, CallState.NONE);
  });

  it('finds dead sockets with heartbeats', async () => {
    const dead = await connect();
    assert.equal((await dead.open('360', 'u360', { assembly: FAKE })).eventType, 2);
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    while (t.gateway.stats().lines.some((l) => l.line === '360')) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(t.logs.lines.some((l) => /did not answer the heartbeat/.test(l.message)));
  });
});
