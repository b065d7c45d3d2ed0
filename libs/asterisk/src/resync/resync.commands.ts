/**
 * Owns the resync run of every (re)connect: the lists asked of Asterisk (CoreShowChannels,
 * ParkedCalls, QueueStatus), which run is current (`run`, written only here), then the queue
 * re-pause and readiness. May not touch the tracker's state: it hands the lists to `ResyncTarget`.
 */
import type { AmiClient } from '@app/ami';
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

export class ResyncCommands {
  private run = 0;

  constructor(
    private readonly client: AmiClient,
    private readonly tracker: ResyncTarget,
    private readonly queues: QueuesCommands,
    private readonly log: AsteriskLogger,
    /** Reports the library ready (after a resync that is still the current one). */
    private readonly ready: () => void,
  ) {}

  /** The connection left `ready`: a resync running now will not be applied. */
  invalidate(): void {
    this.run += 1;
  }

  /** Rebuilds the calls from CoreShowChannels, ParkedCalls and QueueStatus, then reports ready. */
  async resync(): Promise<void> {
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
      this.log.warn(`resync failed (calls kept as they were): ${String(err)}`);
    }
    if (run === this.run && this.client.isReady) this.ready();
  }
}
