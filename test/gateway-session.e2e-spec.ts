import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { readTrace } from '@app/ami/testing';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import {
  makeTlsTestCert,
  type TlsTestCert,
} from '../apps/messaging-host/src/gateway/testing/tls-test-cert';
import {
  ENVELOPE_KEYS,
  WsCtiClient,
  type CtiClient,
  type ReceivedEvent,
} from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import {
  connectSignalR,
  SIGNALR_COMBOS,
} from '../apps/messaging-host/src/gateway/testing/signalr-clients';
import { CALL_KEYS } from '../apps/messaging-host/src/gateway/protocol/client-protocol';
import { LineSettingsStore } from '../apps/messaging-host/src/settings/line-settings.store';

const LINE = '305';
const USER = '410006e1-ca4e-4502-a9ec-e54d922d2c00';

interface WireCall {
  id: string;
  state: number;
  callFeaturesSet: number;
  deviceId: string;
}

/** The call events (5..9, 13) and the line's own event 11 (no callId) of a client. */
function lineEvent(e: ReceivedEvent): boolean {
  if ([5, 6, 7, 8, 9, 13].includes(e.eventType)) return true;
  return e.eventType === 11 && !(e.parsed as { callId?: string }).callId;
}

function checkEnvelope(e: ReceivedEvent): void {
  assert.deepEqual(e.keys, ENVELOPE_KEYS, `envelope keys of event ${e.eventType}`);
  assert.equal(typeof e.eventType, 'number');
  if (e.eventType !== 1 && e.eventType !== 4) {
    assert.notEqual(
      e.parsed,
      undefined,
      `event ${e.eventType}: content is not JSON text: ${e.content}`,
    );
  }
  if ([5, 6, 7, 8, 9, 13, 17].includes(e.eventType)) {
    for (const k of Object.keys(e.parsed as object)) {
      assert.ok(
        (CALL_KEYS as readonly string[]).includes(k),
        `event ${e.eventType}: unknown Call key ${k}`,
      );
    }
  }
}

async function expectSequence(c: CtiClient, types: number[]): Promise<ReceivedEvent[]> {
  const got: ReceivedEvent[] = [];
  for (const type of types) {
    const e = await c.events.next(lineEvent);
    assert.equal(
      e.eventType,
      type,
      `expected event ${type}, got ${e.eventType} (${e.content}); so far ${got.map((g) => g.eventType).join(',')}`,
    );
    got.push(e);
  }
  return got;
}

function sameCall(events: ReceivedEvent[]): string {
  const ids = new Set(
    events.filter((e) => e.eventType !== 11).map((e) => (e.parsed as WireCall).id),
  );
  assert.equal(ids.size, 1, `one call id expected, got ${[...ids].join(', ')}`);
  return [...ids][0]!;
}

/** Splits a trace before the first rx record whose text contains `marker`. */
function splitTrace(
  name: string,
  marker: string,
): [ReturnType<typeof readTrace>, ReturnType<typeof readTrace>] {
  const records = readTrace(name);
  const i = records.findIndex(
    (r) => r.dir === 'rx' && Buffer.from(r.b64, 'base64').toString('latin1').includes(marker),
  );
  assert.ok(i > 0, `${marker} not found in ${name}`);
  return [records.slice(0, i), records.slice(i)];
}

/** Acceptance 1: the whole session of a CTI panel over replayed fixtures. */
async function fullSession(t: RealApp, c: CtiClient): Promise<void> {
  const opened = await c.open(LINE, USER);
  assert.equal(opened.eventType, 2, opened.content);
  assert.ok(c.connectionUId);
  const snap = await c.reply(await c.command('QueryActiveCallSnapshot'));
  assert.equal(snap.eventType, 10);
  assert.deepEqual(Object.keys(snap.parsed as object), ['ActiveCalls', 'CurrentCall']);
  assert.deepEqual(snap.parsed, { ActiveCalls: [], CurrentCall: null });

  // Incoming answered: 5 -> 7 -> 6, then 11 with DIAL.
  await t.ami.replay('c_inbound_answered');
  const answered = await expectSequence(c, [5, 7, 6, 11]);
  sameCall(answered);
  assert.equal((answered[0]!.parsed as WireCall).deviceId, LINE);
  assert.deepEqual(answered[3]!.parsed, { callFeaturesSet: 2 });

  // Missed: 5 -> 6, then 11.
  await t.ami.replay('d_inbound_missed');
  const missed = await expectSequence(c, [5, 6, 11]);
  sameCall(missed);
  assert.deepEqual(missed[2]!.parsed, { callFeaturesSet: 2 });

  // Click-to-call: MakeCall -> Originate at the PBX -> 5 -> 7 -> 6.
  t.ami.onAction('Originate', (action, conn) => {
    conn.respond(action, { Response: 'Success', Message: 'Originate successfully queued' });
    void t.ami.replay('b2_originate_click_to_call', { mapActionId: () => action.actionId });
  });
  t.ami.clearActions();
  await c.command('MakeCall', { targetAddress: '979161234567' });
  const originate = await t.ami.waitForAction('Originate');
  assert.match(originate.get('Channel') ?? '', /^SIP\/305$/);
  assert.equal(originate.get('Exten'), '979161234567');
  const outgoing = await expectSequence(c, [5, 7, 6]);
  sameCall(outgoing);
  await c.events.next(lineEvent).then((e) => assert.equal(e.eventType, 11));

  // Park and unpark: HoldCall parks the remote party (Park at the PBX); 8 then 9 on the same id.
  const [talk, rest] = splitTrace('e1_park_unpark', 'Event: ParkedCall');
  await t.ami.replay(talk);
  const [ring, connected] = await expectSequence(c, [5, 7]);
  const callId = sameCall([ring!, connected!]);
  t.ami.clearActions();
  await c.callCommand('HoldCall', { id: callId, state: 2 });
  const park = await t.ami.waitForAction('Park');
  assert.ok(park.get('Channel'), 'the Park action names the channel to park');
  await t.ami.replay(rest);
  const held = await c.events.next((e) => e.eventType === 8);
  const back = await c.events.next((e) => e.eventType === 9);
  assert.equal((held.parsed as WireCall).id, callId);
  assert.equal((back.parsed as WireCall).id, callId);
  const ended = await c.events.next((e) => e.eventType === 6);
  assert.equal((ended.parsed as WireCall).id, callId);

  for (const e of c.events.all) checkEnvelope(e);
}

describe('gateway e2e: full session over replayed fixtures (real app, real Asterisk library)', () => {
  let t: RealApp;
  let tls: TlsTestCert;
  before(async () => {
    tls = makeTlsTestCert('gw-e2e-');
    t = await startRealApp((c) => {
      c.server.tls.certFile = tls.certFile;
      c.server.tls.keyFile = tls.keyFile;
    });
  });
  after(async () => {
    await t?.close();
    tls.remove();
  });

  it('plain WebSocket (ws client)', async () => {
    const c = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}`);
    try {
      await fullSession(t, c);
      assert.ok(
        c.frames.every((f) => f.startsWith('{')),
        'one JSON object per frame',
      );
    } finally {
      await c.close();
    }
  });

  it('plain WebSocket over TLS (wss)', async () => {
    const c = await WsCtiClient.connect(`wss://127.0.0.1:${t.gateway.tlsAddress()!.port}`, {
      ca: tls.ca,
    });
    try {
      await fullSession(t, c);
    } finally {
      await c.close();
    }
  });

  for (const [major, scheme, path] of SIGNALR_COMBOS) {
    it(`SignalR, @microsoft/signalr ${major} over ${scheme}, hub ${path}`, async () => {
      const port = scheme === 'https' ? t.gateway.tlsAddress()!.port : t.port;
      const c = await connectSignalR(major, `${scheme}://127.0.0.1:${port}${path}`, { ca: tls.ca });
      try {
        await fullSession(t, c);
        assert.deepEqual(c.nonStringArguments, []);
      } finally {
        await c.close();
      }
    });
  }
});

describe('gateway e2e: per-line settings from the settings store (real app)', () => {
  let t: RealApp;
  before(async () => {
    t = await startRealApp();
  });
  after(() => t?.close());

  it('refuses a line whose stored settings disable the call centre (error 5), applies stored debugMode', async () => {
    const store = t.app.get(LineSettingsStore);
    await store.put('306', { disableCallCentre: true });
    const refused = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}`);
    const e = await refused.open('306', USER);
    assert.equal(e.eventType, 3, e.content);
    assert.equal((e.parsed as { errorType: number }).errorType, 5);
    await refused.events.waitClosed();

    await store.put(LINE, { debugMode: true });
    const c = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}`);
    try {
      assert.equal((await c.open(LINE, USER)).eventType, 2);
      await t.ami.replay('d_inbound_missed');
      await expectSequence(c, [5, 6, 11]);
      const raw = c.events.all.filter((x) => x.eventType === 16);
      assert.ok(raw.length > 0, 'debug mode sends RAW_DATA');
      assert.ok(raw.every((x) => typeof x.parsed === 'object' && x.parsed !== null));
    } finally {
      await c.close();
      await store.delete(LINE);
    }
  });
});
