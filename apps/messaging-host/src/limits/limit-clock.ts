/**
 * Owns the time the limits see: now, and one-shot timers. The system clock by default; tests
 * provide a fake one under this token (fake timers where time matters, never real waiting).
 */
export abstract class LimitClock {
  abstract now(): number;
  abstract setTimeout(fn: () => void, ms: number): unknown;
  abstract clearTimeout(handle: unknown): void;
}

/** Date.now() and the global timers (unref'ed: a pending limit never keeps the process alive). */
export class SystemLimitClock extends LimitClock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

export const systemLimitClock: LimitClock = new SystemLimitClock();
