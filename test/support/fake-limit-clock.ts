import { Global, Module, type DynamicModule } from '@nestjs/common';
import { LimitClock } from '../../apps/messaging-host/src/limits/limit-clock';

/**
 * A clock for the limits that moves only when the test says (advance): time-dependent limits
 * (rates, open and body deadlines, auth windows) are tested without waiting and without timing
 * thresholds.
 */
export class FakeLimitClock extends LimitClock {
  private t = 1_700_000_000_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Timers waiting (tests check that a deadline is armed). */
  get pending(): number {
    return this.timers.size;
  }
  /** Moves the clock by ms, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

/** Provides `clock` as the LimitClock of every limit in an app (import it beside AppModule). */
@Global()
@Module({})
export class FakeLimitClockModule {
  static with(clock: FakeLimitClock): DynamicModule {
    return {
      module: FakeLimitClockModule,
      global: true,
      providers: [{ provide: LimitClock, useValue: clock }],
      exports: [LimitClock],
    };
  }
}
