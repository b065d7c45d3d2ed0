/** Decides how long to wait before reconnect attempt `attempt` (1-based), or to give up (null). */
export interface ReconnectStrategy {
  delay(attempt: number, error?: Error): number | null;
}

export interface ExponentialBackoffOptions {
  /** Delay before the first attempt. Default 500 ms. */
  minMs?: number;
  /** Cap on the delay. Default 10000 ms. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random spread as a fraction of the delay, 0..1: 0.2 gives +-20 %. Default 0.2. */
  jitter?: number;
  /** Source of randomness in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * Capped exponential backoff with jitter (ioredis `retryStrategy` style): attempt n waits
 * `min(maxMs, minMs * factor^(n-1))`, spread by +-jitter, never below 0 nor above maxMs.
 * It never gives up: a PBX comes back, and readiness reports the outage meanwhile.
 */
export function exponentialBackoff(opts: ExponentialBackoffOptions = {}): ReconnectStrategy {
  const minMs = opts.minMs ?? 500;
  const maxMs = opts.maxMs ?? 10_000;
  const factor = opts.factor ?? 2;
  const jitter = opts.jitter ?? 0.2;
  const random = opts.random ?? Math.random;
  if (!(minMs >= 0) || !(maxMs >= minMs)) {
    throw new RangeError(`exponentialBackoff: need 0 <= minMs <= maxMs (got ${minMs}, ${maxMs})`);
  }
  if (!(factor >= 1))
    throw new RangeError(`exponentialBackoff: factor must be >= 1 (got ${factor})`);
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`exponentialBackoff: jitter must be within 0..1 (got ${jitter})`);
  }
  return {
    delay(attempt: number): number {
      const n = Math.max(1, Math.floor(attempt));
      // factor^(n-1) overflows to Infinity for large n; min() caps it.
      const base = Math.min(maxMs, minMs * Math.pow(factor, n - 1));
      const spread = base * jitter * (random() * 2 - 1);
      return Math.round(Math.min(maxMs, Math.max(0, base + spread)));
    },
  };
}
