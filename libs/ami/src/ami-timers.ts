/**
 * The clock and timers libs/ami uses, injectable so that keepalive, backoff and action timeouts
 * can be driven by fake timers in tests (MQTT.js KeepaliveManager style).
 */
export interface AmiTimers {
  setTimeout(fn: () => void, ms: number): AmiTimerHandle;
  clearTimeout(handle: AmiTimerHandle): void;
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Opaque timer handle (a `NodeJS.Timeout` for the real timers). */
export type AmiTimerHandle = unknown;

/**
 * The real timers. The globals are looked up at every call (not captured once), so node's
 * `mock.timers` also drives code that uses this object.
 */
export const realAmiTimers: AmiTimers = Object.freeze({
  setTimeout(fn: () => void, ms: number): AmiTimerHandle {
    const t = setTimeout(fn, ms);
    // Never keep the process alive for a timer alone: sockets do that while they are open.
    t.unref?.();
    return t;
  },
  clearTimeout(handle: AmiTimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  },
  now(): number {
    return Date.now();
  },
});
