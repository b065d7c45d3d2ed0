import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { fixturePath } from '@app/ami/testing';
import { freePort, httpGet, startService, type ServiceProcess } from './support/service-process';

interface Envelope {
  eventType: number;
  content: string;
}

/** Opens a plain-WebSocket session for `line` and resolves with the first event of `eventType`. */
function firstEventOnLine(port: number, line: string, eventType: number): Promise<Envelope> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const seen: number[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no event ${eventType} on line ${line}; events seen: ${seen.join(',')}`));
    }, 30_000);
    ws.on('error', reject);
    ws.on('open', () => {
      ws.send(
        JSON.stringify({
          command: 'LoadLibrary',
          parameters: {
            AssemblyName:
              'Terrasoft.Messaging.Asterisk.V2.AsteriskConnector, Terrasoft.Messaging.Asterisk.V2',
          },
        }),
      );
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Envelope & { connectionUId?: string };
      seen.push(msg.eventType);
      if (msg.eventType === 1) {
        ws.send(
          JSON.stringify({
            command: 'OpenConnection',
            libraryInstanceUId: msg.content,
            parameters: {
              connectionParams: JSON.stringify({ ExtensionName: line }),
              sessionServiceParams: JSON.stringify({ UserUId: 'u-305' }),
            },
          }),
        );
      } else if (msg.eventType === eventType) {
        clearTimeout(timer);
        ws.close();
        resolve(msg);
      }
    });
  });
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
