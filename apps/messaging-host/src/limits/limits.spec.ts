import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitClock } from './limit-clock';
import { addressOf, LimitLog } from './limit-log';
import { TokenBucket } from './token-bucket';
import { AuthFailureLimiter } from './auth-failure-limiter';

class Clock extends LimitClock {
  t = 0;
  now(): number {
    return this.t;
  }
  setTimeout(): unknown {
    return undefined;
  }
  clearTimeout(): void {}
}

describe('limits', () => {
  it('TokenBucket: a burst of n, then n per second, never more than n saved up', () => {
    const c = new Clock();
    const b = new TokenBucket(3, c);
    assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
    c.t += 334; // one token back (3 per second)
    assert.deepEqual([b.take(), b.take()], [true, false]);
    c.t += 60_000;
    assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false]);
  });

  it('LimitLog: one line per limit and source per period, then one with the count in between', () => {
    const c = new Clock();
    const lines: string[] = [];
    const log = new LimitLog({ warn: (m) => lines.push(m) }, c);
    for (let i = 0; i < 1000; i++) log.hit('commandsPerSecond', '10.0.0.1', 'too many');
    log.hit('commandsPerSecond', '10.0.0.2', 'too many');
    log.hit('openTimeoutMs', '10.0.0.1', 'closed');
    assert.equal(lines.length, 3);
    c.t += 59_999;
    log.hit('commandsPerSecond', '10.0.0.1', 'too many');
    assert.equal(lines.length, 3);
    c.t += 1;
    log.hit('commandsPerSecond', '10.0.0.1', 'too many');
    assert.equal(lines.length, 4);
    assert.equal(
      lines[3],
      'limit commandsPerSecond hit by 10.0.0.1: too many (1000 more hit(s) since the last line)',
    );
  });

  it('LimitLog: bounded memory however many sources', () => {
    const c = new Clock();
    const log = new LimitLog({ warn: () => undefined }, c);
    for (let i = 0; i < 50_000; i++) {
      c.t += 1;
      log.hit('x', `source-${i}`, 'm');
    }
    assert.ok(log.size <= 10_000, `${log.size} sources remembered`);
  });

  it('AuthFailureLimiter: n failures block an address until the window ends; others are not touched', () => {
    const c = new Clock();
    const l = new AuthFailureLimiter(3, 60_000, c);
    assert.deepEqual([l.fail('a'), l.fail('a'), l.fail('a')], [false, false, true]);
    assert.equal(l.blockedFor('a'), 60_000);
    assert.equal(l.blockedFor('b'), 0);
    c.t += 59_000;
    assert.equal(l.blockedFor('a'), 1000);
    c.t += 1000;
    assert.equal(l.blockedFor('a'), 0);
    assert.equal(l.fail('a'), false);
    for (let i = 0; i < 30_000; i++) l.fail(`x${i}`);
    assert.ok(l.size <= 10_000, `${l.size} addresses remembered`);
  });

  it('addressOf: IPv4-mapped IPv6 is the IPv4 address', () => {
    assert.equal(addressOf('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(addressOf('::1'), '::1');
    assert.equal(addressOf(undefined), 'unknown');
  });
});
