/**
 * Owns the resync run of every (re)connect: the lists asked of Asterisk (CoreShowChannels,
 * ParkedCalls, QueueStatus), which run is current (`run`, written only here), the retries of a
 * failed one (not ready meanwhile), then the queue re-pause and readiness. May not touch the
 * tracker's state: it hands the lists to `ResyncTarget`.
 */
import { exponentialBackoff, type AmiClient, type ReconnectStrategy } from '@app/ami';
import type { AsteriskLogger } from '../asterisk.module-definition';
import type { AmiPacketView } from '../asterisk.types';
import type { QueuesCommands } from '../queues/queues.commands';

/** What the resync needs of the call tracker (CallTracker satisfies it). */
export interface ResyncTarget {
  beginResync(): void;
  abortResync(): void;
  applyResync(
    channels: readonly AmiPacketView[],
    parked: readonly AmiPacketView[],
    queueItems: readonly AmiPacketView[] | undefined,
  ): void;
}

export interface ResyncRetry {
  minMs: number;
  maxMs: number;
}

export class ResyncCommands {
  private run = 0;
  /** Failed resyncs in a row on this connection (the backoff's attempt number). */
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: ReconnectStrategy;
  private readonly maxMs: number;

  constructor(
    private readonly client: AmiClient,
    private readonly tracker: ResyncTarget,
    private readonly queues: QueuesCommands,
    private readonly log: AsteriskLogger,
    /** Reports the library ready (after a resync that is still the current one). */
    private readonly ready: () => void,
    /** Reports the library not ready: the calls shown may be stale until a resync succeeds. */
    private readonly notReady: (reason: string) => void,
    retry: ResyncRetry = { minMs: 500, maxMs: 10_000 },
  ) {
    this.backoff = exponentialBackoff({ minMs: retry.minMs, maxMs: retry.maxMs });
    this.maxMs = retry.maxMs;
  }

  /** The connection left `ready`: a resync running now will not be applied, nor retried. */
  invalidate(): void {
    this.run += 1;
    this.failures = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Rebuilds the calls from CoreShowChannels, ParkedCalls and QueueStatus, then reports ready. A
   * failure keeps the library not ready (the panels may show calls that ended meanwhile) and tries
   * again with a growing delay while the connection stays up.
   */
  async resync(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const run = ++this.run;
    this.tracker.beginResync();
    try {
      const [channels, parked, queues] = await Promise.all([
        this.client.list({ Action: 'CoreShowChannels' }),
        this.client.list({ Action: 'ParkedCalls' }),
        this.client.list({ Action: 'QueueStatus' }).catch((err: unknown) => {
          this.log.warn(`QueueStatus failed during resync: ${String(err)}`);
          return undefined;
        }),
      ]);
      if (run !== this.run) return;
      this.tracker.applyResync(channels.items, parked.items, queues?.items);
      this.log.log(
        `resynced: ${channels.items.length} channel(s), ${parked.items.length} parked call(s)`,
      );
      this.queues.reconcilePauses();
    } catch (err) {
      if (run !== this.run) return;
      this.tracker.abortResync();
      this.failures += 1;
      const delay = this.backoff.delay(this.failures) ?? this.maxMs;
      const why = err instanceof Error ? err.message : String(err);
      this.log.warn(
        `resync failed (attempt ${this.failures}), trying again in ${delay} ms: ${why}`,
      );
      this.notReady(`resync failed: ${why}`);
      if (this.client.isReady) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (run === this.run && this.client.isReady) void this.resync();
        }, delay);
        this.retryTimer.unref();
      }
      return;
    }
    this.failures = 0;
    if (run === this.run && this.client.isReady) this.ready();
  }
}
