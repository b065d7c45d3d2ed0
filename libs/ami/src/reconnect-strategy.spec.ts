import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exponentialBackoff } from './reconnect-strategy';

/** A deterministic source of randomness cycling through `values`. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('exponentialBackoff', () => {
  it('grows by the factor from minMs and is capped at maxMs (no jitter)', () => {
    const s = exponentialBackoff({ minMs: 500, maxMs: 10_000, factor: 2, jitter: 0 });
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 50, 10_000].map((n) => s.delay(n));
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it('has the documented defaults: 0.5 s growing to 10 s', () => {
    const s = exponentialBackoff({ random: () => 0.5 });
    assert.equal(s.delay(1), 500);
    assert.equal(s.delay(2), 1000);
    assert.equal(s.delay(100), 10_000);
  });

  it('keeps the jitter within +-jitter of the base delay, never above the cap', () => {
    const lo = exponentialBackoff({ minMs: 1000, maxMs: 5000, jitter: 0.2, random: () => 0 });
    const hi = exponentialBackoff({
      minMs: 1000,
      maxMs: 5000,
      jitter: 0.2,
      random: () => 0.999999,
    });
    assert.equal(lo.delay(1), 800);
    assert.equal(hi.delay(1), 1200);
    assert.equal(lo.delay(2), 1600);
    assert.equal(hi.delay(2), 2400);
    // At the cap: spread downwards only.
    assert.equal(lo.delay(10), 4000);
    assert.equal(hi.delay(10), 5000);
    const s = exponentialBackoff({ minMs: 1000, maxMs: 5000, jitter: 0.2 });
    for (let attempt = 1; attempt <= 12; attempt++) {
      const base = Math.min(5000, 1000 * 2 ** (attempt - 1));
      for (let k = 0; k < 50; k++) {
        const d = s.delay(attempt)!;
        assert.ok(
          d >= Math.floor(base * 0.8) && d <= Math.min(5000, Math.ceil(base * 1.2)),
          `${attempt}: ${d}`,
        );
      }
    }
  });

  it('is deterministic with an injected random', () => {
    const a = exponentialBackoff({ random: sequence(0.1, 0.7, 0.3) });
    const b = exponentialBackoff({ random: sequence(0.1, 0.7, 0.3) });
    const seq = (s: typeof a) => [1, 2, 3, 4, 5, 6].map((n) => s.delay(n));
    assert.deepEqual(seq(a), seq(b));
    assert.deepEqual(
      seq(exponentialBackoff({ random: sequence(0.1, 0.7, 0.3) })),
      [420, 1080, 1840, 3360, 8640, 9200],
    );
  });

  it('treats attempts below 1 as the first, and never gives up', () => {
    const s = exponentialBackoff({ jitter: 0 });
    assert.equal(s.delay(0), 500);
    assert.equal(s.delay(-3), 500);
    assert.equal(s.delay(Number.MAX_SAFE_INTEGER), 10_000);
  });

  it('refuses options that make no sense, naming them', () => {
    assert.throws(() => exponentialBackoff({ minMs: 100, maxMs: 50 }), /minMs <= maxMs/);
    assert.throws(() => exponentialBackoff({ minMs: -1 }), /minMs/);
    assert.throws(() => exponentialBackoff({ factor: 0.5 }), /factor/);
    assert.throws(() => exponentialBackoff({ jitter: 1.5 }), /jitter/);
  });
});
