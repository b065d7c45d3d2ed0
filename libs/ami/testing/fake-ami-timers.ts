import type { AmiTimerHandle, AmiTimers } from '@app/ami';

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * Fake AmiTimers for tests: time stands still until `tick(ms)` moves it, firing the timers that
 * fall due in order of their due time (then of creation). Deterministic: no wall clock involved.
 */
export class FakeAmiTimers implements AmiTimers {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();
  /** Every delay passed to setTimeout, in order. */
  readonly requested: number[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): AmiTimerHandle {
    this.seq += 1;
    const delay = Math.max(0, Number.isFinite(ms) ? ms : 0);
    this.requested.push(delay);
    this.timers.set(this.seq, { id: this.seq, at: this.current + delay, fn });
    return this.seq;
  }

  clearTimeout(handle: AmiTimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers set and not yet fired nor cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Milliseconds until the next timer is due, or undefined when none is set. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers.values()) if (min === undefined || t.at < min) min = t.at;
    return min === undefined ? undefined : min - this.current;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (also those set meanwhile). */
  tick(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.timers.values()) {
        if (t.at <= end && (next === undefined || t.at < next.at)) next = t;
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = end;
  }
}
