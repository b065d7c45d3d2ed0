import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAmiTimers } from '@app/ami/testing';
import { AmiKeepalive } from './ami-keepalive';
import { AmiActionError } from './ami-action-error';
import { AmiError, AmiErrorCode } from './ami.errors';
import { AmiPacket } from './protocol';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A keepalive on fake timers whose pings wait until the test answers them. */
function setup(intervalMs = 1000, timeoutMs = 300) {
  const timers = new FakeAmiTimers();
  const pings: { timeoutMs: number; at: number; answer(): void; fail(e: Error): void }[] = [];
  const dead: AmiError[] = [];
  const keepalive = new AmiKeepalive({
    intervalMs,
    timeoutMs,
    timers,
    ping: (ms) =>
      new Promise((resolve, reject) => {
        pings.push({
          timeoutMs: ms,
          at: timers.now(),
          answer: () => resolve(undefined),
          fail: reject,
        });
      }),
    onDead: (e) => dead.push(e),
  });
  return { keepalive, timers, pings, dead };
}

describe('AmiKeepalive', () => {
  it('never pings a busy connection', async () => {
    const { keepalive, timers, pings } = setup(1000, 300);
    keepalive.start();
    for (let i = 0; i < 50; i++) {
      timers.tick(400);
      keepalive.activity();
      await flush();
    }
    assert.equal(pings.length, 0);
    assert.equal(keepalive.isRunning, true);
  });

  it('pings an idle connection every interval, counting from the last activity', async () => {
    const { keepalive, timers, pings, dead } = setup(1000, 300);
    const t0 = timers.now();
    keepalive.start();
    timers.tick(999);
    assert.equal(pings.length, 0);
    timers.tick(1);
    assert.equal(pings.length, 1);
    assert.equal(pings[0]!.at - t0, 1000);
    assert.equal(pings[0]!.timeoutMs, 300);

    timers.tick(100);
    pings[0]!.answer();
    await flush();
    // Traffic half-way through the next interval postpones the next ping.
    timers.tick(500);
    keepalive.activity();
    const lastActivity = timers.now();
    timers.tick(999);
    assert.equal(pings.length, 1);
    timers.tick(1);
    assert.equal(pings.length, 2);
    assert.equal(pings[1]!.at - lastActivity, 1000);
    pings[1]!.answer();
    await flush();
    timers.tick(1000);
    assert.equal(pings.length, 3);
    assert.equal(dead.length, 0);
  });

  it('declares the peer dead once when a ping is not answered in time, and stops', async () => {
    const { keepalive, timers, pings, dead } = setup(1000, 300);
    keepalive.start();
    timers.tick(1000);
    assert.equal(pings.length, 1);
    timers.tick(299);
    assert.equal(dead.length, 0);
    timers.tick(1);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.code, AmiErrorCode.Timeout);
    assert.match(dead[0]!.message, /Ping.*300 ms/);
    assert.equal(keepalive.isRunning, false);

    // Whatever comes later changes nothing: no new ping, no second onDead.
    pings[0]!.fail(new AmiError(AmiErrorCode.Timeout, 'late'));
    await flush();
    timers.tick(10_000);
    keepalive.activity();
    timers.tick(10_000);
    assert.equal(pings.length, 1);
    assert.equal(dead.length, 1);
    assert.equal(timers.pending, 0);
  });

  it('takes a ping answered with an error as a sign of life', async () => {
    const { keepalive, timers, pings, dead } = setup(1000, 300);
    keepalive.start();
    timers.tick(1000);
    pings[0]!.fail(
      new AmiActionError(
        'Ping',
        AmiPacket.from([
          ['Response', 'Error'],
          ['Message', 'x'],
        ]),
      ),
    );
    await flush();
    timers.tick(300);
    assert.equal(dead.length, 0);
    timers.tick(700);
    assert.equal(pings.length, 2);
  });

  it('does nothing after stop(), even when the pending ping is answered later', async () => {
    const { keepalive, timers, pings, dead } = setup(1000, 300);
    keepalive.start();
    timers.tick(1000);
    keepalive.stop();
    assert.equal(timers.pending, 0);
    pings[0]!.answer();
    await flush();
    timers.tick(10_000);
    assert.equal(pings.length, 1);
    assert.equal(dead.length, 0);

    // A new start() begins a fresh round.
    keepalive.start();
    timers.tick(1000);
    assert.equal(pings.length, 2);
  });

  it('refuses intervals that are not positive', () => {
    const ping = () => Promise.resolve();
    const onDead = () => undefined;
    assert.throws(
      () => new AmiKeepalive({ intervalMs: 0, timeoutMs: 1, ping, onDead }),
      RangeError,
    );
    assert.throws(
      () => new AmiKeepalive({ intervalMs: 1, timeoutMs: -1, ping, onDead }),
      RangeError,
    );
  });
});
