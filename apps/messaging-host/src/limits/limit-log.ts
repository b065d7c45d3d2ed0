/**
 * Owns the logging of limit hits: one warning per limit and source (a remote address, a client)
 * per minute, never one per event; the next line says how many hits it did not log. Bounded: the
 * memory of who was logged forgets sources quiet for a minute.
 */
import type { LimitClock } from './limit-clock';

export interface LimitLogSink {
  warn(message: string): void;
}

interface Entry {
  loggedAt: number;
  unlogged: number;
}

/** Sources remembered at most; beyond, entries quiet for a period are dropped first. */
const MAX_ENTRIES = 10_000;

export class LimitLog {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly sink: LimitLogSink,
    private readonly clock: LimitClock,
    private readonly periodMs = 60_000,
  ) {}

  /** A hit of `limit` by `source`: logs `message` unless this pair was logged within the period. */
  hit(limit: string, source: string, message: string): void {
    const key = `${limit}\u0000${source}`;
    const now = this.clock.now();
    const e = this.entries.get(key);
    if (e && now - e.loggedAt < this.periodMs) {
      e.unlogged += 1;
      return;
    }
    const more = e && e.unlogged > 0 ? ` (${e.unlogged} more hit(s) since the last line)` : '';
    this.sink.warn(`limit ${limit} hit by ${source}: ${message}${more}`);
    this.entries.delete(key);
    this.entries.set(key, { loggedAt: now, unlogged: 0 });
    if (this.entries.size > MAX_ENTRIES) this.prune(now);
  }

  /** Sources remembered now (tests, diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    // Insertion order is oldest first: drop what is quiet for a period, then the oldest anyway.
    for (const [k, e] of this.entries)
      if (now - e.loggedAt >= this.periodMs) this.entries.delete(k);
    for (const k of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(k);
    }
  }
}

/** A remote address for logs and per-address counts (`::ffff:10.0.0.1` is `10.0.0.1`). */
export function addressOf(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}
