// The REST rate limit shared by every node (cluster.enabled): @nestjs/throttler's counters in
// Redis, one atomic script per request. While Redis is away each node counts alone (in memory,
// as a single node does) and says so once in the log: the API keeps answering.
import { Logger } from '@nestjs/common';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;
import type { ClusterRedis } from './cluster-redis';

export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RedisThrottlerStorage');
  private readonly local = new ThrottlerStorageService();
  private degraded = false;

  constructor(private readonly redis: ClusterRedis) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (this.redis.isReady) {
      try {
        const base = `throttle:{${key}:${throttlerName}}`;
        const [totalHits, msToExpire, blocked, msToBlockExpire] =
          await this.redis.client.mhThrottle(
            `${base}:hits`,
            `${base}:blocked`,
            ttl,
            limit,
            blockDuration,
          );
        if (this.degraded) {
          this.degraded = false;
          this.logger.log('REST rate limits are counted in Redis again (cluster-wide)');
        }
        return {
          totalHits: Number(totalHits),
          timeToExpire: Math.ceil(Number(msToExpire) / 1000),
          isBlocked: Number(blocked) === 1,
          timeToBlockExpire: Math.ceil(Number(msToBlockExpire) / 1000),
        };
      } catch (err) {
        this.degrade((err as Error).message);
      }
    } else {
      this.degrade(this.redis.describeState());
    }
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  close(): void {
    this.local.onApplicationShutdown();
  }

  private degrade(why: string): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`REST rate limits are counted on this node alone while ${why}`);
  }
}
