import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixturePath } from '@app/ami/testing';
import {
  WsCtiClient,
  type ReceivedEvent,
} from '../apps/messaging-host/src/gateway/testing/cti-test-client';
import { freePort, httpGet, startService, type ServiceProcess } from './support/service-process';

/** Opens a plain-WebSocket session for `line` and resolves with the first event of `eventType`. */
async function firstEventOnLine(
  port: number,
  line: string,
  eventType: number,
): Promise<ReceivedEvent> {
  const c = await WsCtiClient.connect(`ws://127.0.0.1:${port}/`);
  try {
    const opened = await c.open(line, 'u-305');
    assert.equal(opened.eventType, 2, `OpenConnection: ${opened.content}`);
    return await c.events.next((e) => e.eventType === eventType, 30_000);
  } finally {
    await c.close();
  }
}

describe('replay (asterisk.filePath): the service without a network', () => {
  const started: ServiceProcess[] = [];
  after(() => started.forEach((p) => p.kill()));

  it('starts with ASTERISK__FILEPATH set to a fixture, reports ready, and the replayed calls reach a client', async () => {
    const port = await freePort();
    const p = startService({
      SERVER__PORT: String(port),
      SERVER__HOST: '127.0.0.1',
      ASTERISK__URL: '',
      ASTERISK__USERNAME: '',
      ASTERISK__FILEPATH: fixturePath('c_inbound_answered'),
      ASTERISK__REPLAYSPEED: '20',
      ASTERISK__REPLAYLOOP: 'true',
      STORAGE__FILE__PATH: `/tmp/messaging-host-replay-${process.pid}.json`,
    });
    started.push(p);
    await p.waitForOutput(/listening on/);
    const ready = await httpGet(port, '/health/ready');
    assert.equal(ready.status, 200, ready.body);
    assert.match(ready.body, /replaying/);

    // The replayed Newstate Ringing of SIP/305 becomes RING_STARTED for line 305.
    const ring = await firstEventOnLine(port, '305', 5);
    const call = JSON.parse(ring.content) as { deviceId: string; callerId: string };
    assert.equal(call.deviceId, '305');
    assert.equal(call.callerId, '79161234567');
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0, p.output());
  });
});
