/**
 * Owns the count of failed authentications per remote address: `limit` failures within a window
 * block the address until the window ends (REST answers 429 with Retry-After, even to a right
 * key: guessing must not go on). Bounded: windows that ended are forgotten.
 */
import type { LimitClock } from './limit-clock';

interface Window {
  start: number;
  failures: number;
}

/** Addresses remembered at most (past that, ended windows go first, then the oldest). */
const MAX_ADDRESSES = 10_000;

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: LimitClock,
  ) {}

  /** Ms until `address` may try again; 0 when it is not blocked. */
  blockedFor(address: string): number {
    const w = this.current(address);
    if (!w || w.failures < this.limit) return 0;
    return w.start + this.windowMs - this.clock.now();
  }

  /** A failed authentication from `address`; returns true when it is blocked from now on. */
  fail(address: string): boolean {
    let w = this.current(address);
    if (!w) {
      w = { start: this.clock.now(), failures: 0 };
      this.windows.set(address, w);
      if (this.windows.size > MAX_ADDRESSES) this.prune();
    }
    w.failures += 1;
    return w.failures >= this.limit;
  }

  /** Failures that block an address. */
  get limitCount(): number {
    return this.limit;
  }

  /** Addresses remembered now (tests, diagnostics). */
  get size(): number {
    return this.windows.size;
  }

  private current(address: string): Window | undefined {
    const w = this.windows.get(address);
    if (w && this.clock.now() - w.start >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [a, w] of this.windows) {
      if (this.windows.size <= MAX_ADDRESSES) break;
      if (now - w.start >= this.windowMs) this.windows.delete(a);
    }
    for (const a of this.windows.keys()) {
      if (this.windows.size <= MAX_ADDRESSES) break;
      this.windows.delete(a);
    }
  }
}
