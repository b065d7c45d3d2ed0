// The cluster's connection to Redis (the storage.redis one, keys under storage.redis.keyPrefix):
// the Lua scripts of leases and rate limits, whether Redis is usable now, and "it is back" hooks.
// Commands are never queued while Redis is away: they fail at once and callers decide.
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Readiness } from '@app/messaging';
import { describeRedisUrl } from '../settings/redis-line-settings.store';
import {
  AGENT_SET_SCRIPT,
  MAY_ACT_SCRIPT,
  NODE_BEAT_SCRIPT,
  LEASE_CLAIM_SCRIPT,
  LEASE_RELEASE_SCRIPT,
  LEASE_RENEW_SCRIPT,
  THROTTLE_SCRIPT,
} from './cluster-scripts';

/** ioredis with the cluster's scripts (defineCommand: EVALSHA, keys prefixed). */
export type ClusterRedisClient = Redis & {
  mhLeaseClaim(key: string, user: string, value: string, ttlMs: number): Promise<[number, string]>;
  mhLeaseRenew(
    key: string,
    user: string,
    value: string,
    ttlMs: number,
    session: string,
  ): Promise<[number, string]>;
  mhLeaseRelease(key: string, session: string): Promise<number>;
  mhThrottle(
    hitKey: string,
    blockKey: string,
    ttlMs: number,
    limit: number,
    blockMs: number,
  ): Promise<[number, number, number, number]>;
  mhNodeBeat(nodesKey: string, node: string, ttlMs: number): Promise<number>;
  mhMayAct(leaseKey: string, nodesKey: string, node: string): Promise<number>;
  mhAgentSet(
    agentsKey: string,
    line: string,
    json: string,
    channel: string,
    message: string,
  ): Promise<number>;
};

export interface ClusterRedisOptions {
  /** redis://[:password@]host:port/db (a secret: only host:port is ever shown). */
  url: string;
  keyPrefix: string;
  /** A command that gets no answer within this fails (ms). */
  commandTimeoutMs: number;
}

export class ClusterRedis {
  private readonly logger = new Logger('ClusterRedis');
  readonly client: ClusterRedisClient;
  /** host:port only. */
  readonly where: string;
  /** storage.redis.keyPrefix (pub/sub channel names are not prefixed by ioredis). */
  readonly keyPrefix: string;
  private readonly url: string;
  private lastError: string | null = null;
  private readonly readyListeners = new Set<() => void>();
  private closed = false;

  constructor(options: ClusterRedisOptions) {
    this.where = describeRedisUrl(options.url);
    this.keyPrefix = options.keyPrefix;
    this.url = options.url;
    this.client = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1000, options.commandTimeoutMs),
      // Back within a second of Redis returning: leases are re-established then.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 1000),
    }) as ClusterRedisClient;
    this.client.defineCommand('mhLeaseClaim', { numberOfKeys: 1, lua: LEASE_CLAIM_SCRIPT });
    this.client.defineCommand('mhLeaseRenew', { numberOfKeys: 1, lua: LEASE_RENEW_SCRIPT });
    this.client.defineCommand('mhLeaseRelease', { numberOfKeys: 1, lua: LEASE_RELEASE_SCRIPT });
    this.client.defineCommand('mhThrottle', { numberOfKeys: 2, lua: THROTTLE_SCRIPT });
    this.client.defineCommand('mhNodeBeat', { numberOfKeys: 1, lua: NODE_BEAT_SCRIPT });
    this.client.defineCommand('mhMayAct', { numberOfKeys: 2, lua: MAY_ACT_SCRIPT });
    this.client.defineCommand('mhAgentSet', { numberOfKeys: 1, lua: AGENT_SET_SCRIPT });
    this.client.on('error', (err: Error) => {
      if (err.message !== this.lastError) this.logger.warn(`Redis ${this.where}: ${err.message}`);
      this.lastError = err.message;
    });
    this.client.on('ready', () => {
      if (this.lastError) this.logger.log(`Redis ${this.where} is reachable again`);
      this.lastError = null;
      for (const l of this.readyListeners) l();
    });
  }

  /** Starts connecting; an unreachable Redis does not stop the start (readiness says why). */
  async open(): Promise<void> {
    try {
      await this.client.connect();
      this.logger.log(`cluster: Redis ${this.where}`);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.logger.warn(
        `cluster: Redis ${this.where} is not reachable (${this.lastError}); retrying, readiness is down`,
      );
    }
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** Why Redis cannot be used now, for readiness and refusals ("redis host:port is ..."). */
  describeState(): string {
    if (this.isReady) return `redis ${this.where}`;
    return `redis ${this.where} is ${this.client.status}${this.lastError ? ` (${this.lastError})` : ''}`;
  }

  readiness(): Readiness {
    return { ready: this.isReady, reason: this.describeState() };
  }

  /** A second connection for SUBSCRIBE (a subscribed connection takes no other command). */
  subscriber(): Redis {
    const sub = new Redis(this.url, {
      lazyConnect: true,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 1000),
      maxRetriesPerRequest: 0,
    });
    // Errors are logged once by the main connection; this one follows the same Redis.
    sub.on('error', () => undefined);
    return sub;
  }

  /** Called every time the connection is (again) ready. */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.readyListeners.clear();
    if (this.isReady) await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}
