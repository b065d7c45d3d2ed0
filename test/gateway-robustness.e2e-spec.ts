import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import 'reflect-metadata';
import { startRealApp, type RealApp } from '../apps/messaging-host/src/gateway/testing/real-app';
import {
  WsCtiClient,
  type ReceivedEvent,
} from '../apps/messaging-host/src/gateway/testing/cti-test-client';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const BAD_FRAMES = 10_000;
/** Heap growth allowed after 10,000 refused frames and a full GC (a leak of ~1 KiB a frame would show). */
const HEAP_GROWTH_LIMIT = 8 * 1024 * 1024;

/** Bad frames of varied kinds; each must get exactly one ERROR event and leave the socket open. */
function badFrame(i: number, maxCommandLength: number): { data: string | Buffer; binary: boolean } {
  const kinds: (() => string | Buffer)[] = [
    () => '{"command": "MakeCall", ',
    () => '[]',
    () => 'null',
    () => '"LoadLibrary"',
    () => '{}',
    () => '{"command":42}',
    () => `{"command":"NoSuchCommand${i}","commandUId":"u${i}"}`,
    () => `{"command":"MakeCall","pad":"${'x'.repeat(maxCommandLength)}"}`,
    () => Buffer.from([0xde, 0xad, 0xbe, 0xef, i & 0xff]),
    () => '{"command":"MakeCall"}',
    () => `{"command":"HoldCall","commandExecutorId":"no-such-call-${i}"}`,
    () => '{"command":"LoadLibrary","parameters":{"AssemblyName":"Vendor.Unknown, Vendor"}}',
    () => '['.repeat(1500) + ']'.repeat(1500),
    () =>
      '{"command":"TransferCall","commandExecutorId":"x","parameters":{"consultationCall":"{bad"}}',
    () => '{"command":"\u0000\uffff\u202e"}',
    () => '{"command":"DropCall","commandExecutor":"{\\"state\\":3}"}',
    () => '{"command":"SetWrapUpUserState","parameters":{"isWrapUpActive":"maybe"}}',
    () => '{"command":"CancelTransfer","parameters":{"currentCall":"[]","consultCall":"{}"}}',
    () => '{"command":"SendDtmf","commandExecutorId":"x","parameters":{"digits":{}}}',
    () => '{"command":"Hookup","commandUId":"h"}',
  ];
  const data = kinds[i % kinds.length]!();
  return { data, binary: Buffer.isBuffer(data) };
}

describe('gateway e2e: malformed input does not disturb other clients', () => {
  let t: RealApp;
  before(async () => {
    // Malformed input, not its rate: the per-connection command limit (test/hostile) is off here.
    t = await startRealApp((c) => {
      c.limits.commandsPerSecond = 0;
    });
  });
  after(() => t?.close());

  it(`answers ${BAD_FRAMES} bad frames with errors while another line receives its events in order`, async () => {
    const victim = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/`);
    assert.equal((await victim.open('305', 'victim')).eventType, 2);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const socketsBefore = t.gateway.stats().sockets;

    const attacker = await WsCtiClient.connect(`ws://127.0.0.1:${t.port}/attack`);
    const max = 4096;
    const sends: Promise<void>[] = [];
    const replays = (async () => {
      await t.ami.replay('c_inbound_answered');
      await t.ami.replay('d_inbound_missed');
    })();
    for (let i = 0; i < BAD_FRAMES; i++) {
      if (i === BAD_FRAMES / 5) {
        // Part of the frames come before OpenConnection, the rest on a bound line.
        const e2 = await attacker.open('306', 'attacker');
        assert.equal(e2.eventType, 2, e2.content);
      }
      const { data, binary } = badFrame(i, max);
      sends.push(attacker.sendRaw(data, binary));
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sends);
    await replays;

    // The other line's events, in order, complete.
    const seq: number[] = [];
    const want = [5, 7, 6, 11, 5, 6, 11];
    while (seq.length < want.length) {
      const e: ReceivedEvent = await victim.events.next(
        (x) =>
          [5, 6, 7, 8, 9].includes(x.eventType) ||
          (x.eventType === 11 && !(x.parsed as { callId?: string }).callId),
      );
      seq.push(e.eventType);
    }
    assert.deepEqual(seq, want);

    // One ERROR per bad frame, and the socket still works.
    const errorCount = (): number => attacker.events.all.filter((e) => e.eventType === 3).length;
    while (errorCount() < BAD_FRAMES) await new Promise((r) => setTimeout(r, 20));
    assert.equal(errorCount(), BAD_FRAMES);
    const codes = new Set(
      attacker.events.all
        .filter((e) => e.eventType === 3)
        .map((e) => (e.parsed as { internalErrorCode: string }).internalErrorCode),
    );
    for (const code of [
      'BAD_JSON',
      'MISSING_FIELD',
      'UNKNOWN_COMMAND',
      'COMMAND_TOO_LONG',
      'BINARY_FRAME',
      'NOT_CONNECTED',
      'UNKNOWN_LIBRARY',
      'BAD_PARAMETER',
      'NOT_IMPLEMENTED',
    ]) {
      assert.ok(codes.has(code), `no ${code} among ${[...codes].join(', ')}`);
    }
    assert.equal(attacker.events.closed, undefined, 'the attacker socket was closed');
    const ls = await attacker.reply(await attacker.command('QueryLineState'));
    assert.equal(ls.eventType, 11);

    // The process still serves, and nothing stays behind once the attacker leaves.
    const live = await fetch(`http://127.0.0.1:${t.port}/health/live`);
    assert.equal(live.status, 200);
    await attacker.close();
    while (t.gateway.stats().sockets !== socketsBefore) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(t.gateway.stats().lines, [{ line: '305', members: 1 }]);
    // Drop what this test itself kept (every frame and event of the attacker) before measuring.
    attacker.events.all.length = 0;
    attacker.frames.length = 0;
    sends.length = 0;
    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(growth < HEAP_GROWTH_LIMIT, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MiB`);
    await victim.close();
  });
});
