// "May this node act on line X?" in a cluster: the node holding the line's lease; a line nobody
// holds (no panel open anywhere): the lowest live node id, so queue members without a panel are
// still paused once. Redis away: only a node that still holds the lease (locally confirmed) acts;
// lines without a lease get no automatic action until Redis is back.
import { Logger } from '@nestjs/common';
import { LineActionGate } from '@app/messaging';
import type { ClusterRedis } from './cluster-redis';
import { NODES_KEY } from './cluster-nodes';
import { lineKey } from './line-key';
import type { LineOwnership } from './line-ownership';
import { leaseKey } from './redis-line-ownership';

export class RedisLineActionGate extends LineActionGate {
  private readonly logger = new Logger('LineActionGate');

  constructor(
    private readonly redis: ClusterRedis,
    private readonly ownership: LineOwnership,
    private readonly nodeId: string,
  ) {
    super();
  }

  async mayAct(line: string): Promise<boolean> {
    if (this.ownership.isHeldHere(line)) return true;
    if (!this.redis.isReady) return false;
    try {
      const r = await this.redis.client.mhMayAct(leaseKey(lineKey(line)), NODES_KEY, this.nodeId);
      return Number(r) === 1;
    } catch (err) {
      this.logger.warn(`line ${line}: who acts cannot be decided: ${(err as Error).message}`);
      return false;
    }
  }
}
