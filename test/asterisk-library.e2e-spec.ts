import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { FakeAmiServer } from '@app/ami/testing';
import { Test } from '@nestjs/testing';
import { AsteriskLibrary, AsteriskModule } from '@app/asterisk';
import {
  CallDirection,
  CallFeature,
  CallState,
  MessagingModule,
  MessagingRegistry,
  MsgEventType,
  type CallEvent,
  type LineEvent,
} from '@app/messaging';
import {
  EventLog,
  libraryOptions,
  replayTalking,
  rigsClosedAfterAll,
  whenNotReady,
  whenReady,
  NOTHING_TRACKED,
} from './asterisk-harness';

const up = rigsClosedAfterAll();

function callEvents(events: LineEvent[]): CallEvent[] {
  return events.filter((e): e is CallEvent => 'call' in e);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('Asterisk library: readiness and line sessions', () => {
  it('is not ready while Asterisk refuses the connection, naming why', async () => {
    const ami = await FakeAmiServer.start();
    const port = await freePort();
    const opts = libraryOptions(ami);
    const lib = new AsteriskLibrary({ ...opts, ami: { ...opts.ami, port } });
    lib.start();
    try {
      const reason = await whenNotReady(lib);
      assert.equal(lib.readiness().ready, false);
      await new Promise((r) => setTimeout(r, 50));
      assert.match(lib.readiness().reason ?? reason, /^AMI: .*(ECONNREFUSED|connect)/);
    } finally {
      await lib.close();
      await ami.close();
    }
  });

  it('is not ready when the login is refused, with the server message', async () => {
    const ami = await FakeAmiServer.start({ username: 'admin', secret: 'other' });
    const lib = new AsteriskLibrary(libraryOptions(ami));
    lib.start();
    try {
      const t0 = Date.now();
      while (!/auth/i.test(lib.readiness().reason ?? '') && Date.now() - t0 < 5000) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(lib.readiness().ready, false);
      assert.match(lib.readiness().reason ?? '', /^AMI: .*auth.*/i);
      assert.ok(
        !(lib.readiness().reason ?? '').includes('secret'),
        'the secret leaks into the reason',
      );
    } finally {
      await lib.close();
      await ami.close();
    }
  });

  it('is ready once logged in and resynced (CoreShowChannels, ParkedCalls, QueueStatus sent)', async () => {
    const r = await up();
    assert.deepEqual(r.lib.readiness().ready, true);
    for (const a of ['CoreShowChannels', 'ParkedCalls', 'QueueStatus'])
      await r.ami.waitForAction(a);
  });

  it('streams an answered incoming call (c_inbound_answered) to the line session, and DIAL at the end', async () => {
    const r = await up();
    const l305 = r.open('305');
    const other = r.open('306');
    await r.ami.replay('c_inbound_answered');
    await l305.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED, 'event 11');
    const calls = callEvents(l305.events);
    assert.deepEqual(
      calls.map((e) => [e.type, e.call.state, e.call.oldState]),
      [
        [MsgEventType.RING_STARTED, CallState.ALERTING, CallState.NONE],
        [MsgEventType.COMMUTATION_STARTED, CallState.CONNECTED, CallState.ALERTING],
        [MsgEventType.RING_FINISHED, CallState.NONE, CallState.CONNECTED],
      ],
    );
    const ids = new Set(calls.map((e) => e.call.id));
    assert.equal(ids.size, 1, 'one stable call id');
    for (const e of calls) {
      assert.equal(e.call.callerId, '79161234567');
      assert.equal(e.call.calledId, '305');
      assert.equal(e.call.deviceId, '305');
      assert.equal(e.call.direction, CallDirection.IN);
    }
    assert.deepEqual(
      calls.map((e) => e.call.callFeaturesSet),
      [
        CallFeature.DROP,
        CallFeature.DROP |
          CallFeature.HOLD |
          CallFeature.DTMF |
          CallFeature.MAKE_CONSULT_CALL |
          CallFeature.BLIND_TRANSFER,
        0,
      ],
    );
    const last = l305.events.at(-1)!;
    assert.deepEqual(last, {
      type: MsgEventType.LINE_STATE_CHANGED,
      line: '305',
      callFeaturesSet: CallFeature.DIAL,
    });
    assert.equal(other.events.length, 0, 'line 306 saw events of 305');
    assert.deepEqual(l305.session.activeCalls(), []);
    assert.deepEqual(r.lib.tracker.sizes(), NOTHING_TRACKED);
  });

  it('registers with the messaging registry under its name and both Creatio assembly names', async () => {
    const ami = await FakeAmiServer.start({ username: 'admin', secret: 'secret' });
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot({
          defaultLibrary:
            'Terrasoft.Messaging.Asterisk.AsteriskManager, Terrasoft.Messaging.Asterisk',
        }),
        AsteriskModule.forRoot(libraryOptions(ami)),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const registry = app.get(MessagingRegistry);
      const lib = registry.active();
      assert.ok(lib instanceof AsteriskLibrary);
      assert.equal(registry.activeName(), 'asterisk');
      assert.equal(
        registry.resolve(
          'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2',
        ),
        lib,
      );
      assert.equal(registry.resolve('ASTERISK'), lib);
      await whenReady(lib);
      assert.equal(lib.readiness().ready, true);
    } finally {
      await app.close();
      await ami.close();
    }
  });

  it('REST views: findCall, busyLines, lineStatus and activeCalls without a session', async () => {
    const r = await up();
    const log = r.open('305');
    await replayTalking(r.ami);
    const e = (await log.waitFor((x) => x.type === MsgEventType.COMMUTATION_STARTED)) as CallEvent;
    const found = r.lib.findCall(e.call.id);
    assert.equal(found?.line, '305');
    assert.equal(found?.call.state, CallState.CONNECTED);
    assert.ok(r.lib.busyLines().includes('305'));
    assert.deepEqual(
      r.lib.activeCalls('305').map((c) => c.id),
      [e.call.id],
    );
    const status = r.lib.lineStatus('305');
    assert.equal(status.line, '305');
    assert.deepEqual(
      status.calls.map((c) => c.id),
      [e.call.id],
    );
    assert.equal(status.agentState.code, 'Active');
    assert.equal(log.session.currentCall()?.id, e.call.id);
    assert.equal(log.session.lineFeatures(), CallFeature.NONE);
    assert.equal(r.lib.findCall('nope'), undefined);
    assert.deepEqual(r.lib.capabilities(), {
      answerCall: false,
      hold: true,
      blindTransfer: true,
      consultTransfer: true,
      dtmf: true,
      agentState: true,
      dnd: false,
    });
  });

  it('two nodes watching the same Asterisk give a call the same id (any node can serve the client)', async () => {
    const r = await up();
    const second = new AsteriskLibrary(libraryOptions(r.ami));
    second.start();
    try {
      await whenReady(second);
      const a = r.open('305');
      const b = new EventLog(second.openLine('305'));
      await r.ami.replay('e1_park_unpark');
      await a.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
      await b.waitFor((e) => e.type === MsgEventType.LINE_STATE_CHANGED);
      const ids = (log: EventLog) => callEvents(log.events).map((e) => e.call.id);
      assert.deepEqual(ids(a), ids(b));
      assert.equal(new Set(ids(a)).size, 1);
      assert.match(
        ids(a)[0]!,
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    } finally {
      await second.close();
    }
  });

  it('refuses a bad line name with InvalidArgument', async () => {
    const r = await up();
    assert.throws(() => r.lib.openLine('30 5\r\n'), { code: 'INVALID_ARGUMENT' });
  });

  it('after close, commands of a session fail with LINE_CLOSED', async () => {
    const r = await up();
    const s = r.lib.openLine('305');
    s.close();
    await assert.rejects(s.makeCall('600'), { code: 'LINE_CLOSED' });
    await whenReady(r.lib);
  });
});
