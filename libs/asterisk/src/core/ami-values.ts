/**
 * Owns the small value helpers every room shares: Asterisk's `<unknown>`, string copies that do not
 * pin a socket read, the per-millisecond ISO time. Pure functions; no state but the time cache.
 */

export const UNKNOWN = '<unknown>';

export function known(v: string | undefined): v is string {
  return v !== undefined && v !== '' && v !== UNKNOWN;
}

let isoMs = 0;
let isoText = '';

/** The current time in ISO 8601, formatted once per millisecond (every call event carries it). */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/**
 * A copy of `s` that does not keep its source alive: the decoder's values are slices of a whole
 * socket read, and a channel name kept for the life of a call would pin that read in memory.
 */
export function own(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
