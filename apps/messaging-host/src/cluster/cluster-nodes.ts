// Which nodes are alive: every node adds itself to the `nodes` set in Redis every leaseMs/3 with
// an expiry of leaseMs (Redis's clock), and leaves it at shutdown. Used to pick the node that acts
// on a line nobody holds (the lowest live node id).
import { Logger } from '@nestjs/common';
import type { ClusterRedis } from './cluster-redis';

export const NODES_KEY = 'nodes';

export class ClusterNodes {
  private readonly logger = new Logger('ClusterNodes');
  private readonly timer: NodeJS.Timeout;
  private readonly stopReady: () => void;
  private failing = false;

  constructor(
    private readonly redis: ClusterRedis,
    readonly nodeId: string,
    private readonly leaseMs: number,
  ) {
    this.timer = setInterval(() => void this.beat(), Math.max(200, leaseMs / 3));
    this.timer.unref();
    this.stopReady = redis.onReady(() => void this.beat());
    void this.beat();
  }

  /** The live nodes, sorted (diagnostics, tests). */
  async live(): Promise<string[]> {
    const time = await this.redis.client.time();
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    return (await this.redis.client.zrangebyscore(NODES_KEY, now, '+inf')).sort();
  }

  async beat(): Promise<void> {
    if (!this.redis.isReady) return;
    try {
      await this.redis.client.mhNodeBeat(NODES_KEY, this.nodeId, this.leaseMs);
      if (this.failing) this.logger.log('node heartbeat is written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn(`node heartbeat failed: ${(err as Error).message}`);
      this.failing = true;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stopReady();
    if (this.redis.isReady) {
      await this.redis.client.zrem(NODES_KEY, this.nodeId).catch(() => undefined);
    }
  }
}
