/**
 * Owns a rate limit of "n per second": a bucket of n tokens, refilled continuously at n per
 * second; each event takes one. A burst of n passes at once, then n per second.
 */
import type { LimitClock } from './limit-clock';

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly clock: LimitClock,
  ) {
    this.tokens = perSecond;
    this.last = clock.now();
  }

  /** Takes a token: false when none is left (the event is over the limit). */
  take(): boolean {
    const now = this.clock.now();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0)
      this.tokens = Math.min(this.perSecond, this.tokens + (elapsed * this.perSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
