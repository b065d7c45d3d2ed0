/**
 * The outbox in Redis (storage.driver `redis`, several nodes). Each node is in charge of the calls
 * it recorded and renews a lease; the calls of a node whose lease ran out (crashed, replaced) are
 * taken over atomically by a live node, so a restart or a lost node loses nothing. Keys, under
 * storage.redis.keyPrefix: crm:call:<id> (JSON), crm:owner (hash id -> node),
 * crm:node-calls:<node> (set), crm:nodes (set), crm:lease:<node> (expiring).
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Readiness } from '@app/messaging';
import { CrmOutboxStore, type InspectedCall } from './crm-outbox.store';
import { parseStoredCall, type StoredCrmCall } from './crm-outbox.types';

/** Moves every call of nodes without a lease to ARGV[2]; returns their JSON. KEYS[1] = crm:nodes. */
const TAKE_OVER = `
local prefix = ARGV[1]
local me = ARGV[2]
local out = {}
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if n ~= me and redis.call('EXISTS', prefix .. 'crm:lease:' .. n) == 0 then
    local set = prefix .. 'crm:node-calls:' .. n
    for _, id in ipairs(redis.call('SMEMBERS', set)) do
      if redis.call('HGET', prefix .. 'crm:owner', id) == n then
        redis.call('HSET', prefix .. 'crm:owner', id, me)
        redis.call('SADD', prefix .. 'crm:node-calls:' .. me, id)
        local j = redis.call('GET', prefix .. 'crm:call:' .. id)
        if j then table.insert(out, j) end
      end
    end
    redis.call('DEL', set)
    redis.call('SREM', KEYS[1], n)
  end
end
return out
`;

/**
 * A call by id: {'mine'|'other', json}, or nil. A call whose owner has no lease becomes ARGV[3]'s.
 * KEYS[1] = crm:call:<id>, KEYS[2] = crm:owner.
 */
const INSPECT = `
local j = redis.call('GET', KEYS[1])
if not j then return nil end
local prefix = ARGV[1]
local id = ARGV[2]
local me = ARGV[3]
local owner = redis.call('HGET', KEYS[2], id)
if owner == me then return {'mine', j} end
if owner and redis.call('EXISTS', prefix .. 'crm:lease:' .. owner) == 1 then return {'other', j} end
redis.call('HSET', KEYS[2], id, me)
if owner then redis.call('SREM', prefix .. 'crm:node-calls:' .. owner, id) end
redis.call('SADD', prefix .. 'crm:node-calls:' .. me, id)
return {'mine', j}
`;

type OutboxRedis = Redis & {
  mhCrmTakeOver(nodes: string, prefix: string, me: string): Promise<string[]>;
  mhCrmInspect(
    callKey: string,
    ownerKey: string,
    prefix: string,
    id: string,
    me: string,
  ): Promise<[string, string] | null>;
};

export interface RedisCrmOutboxOptions {
  url: string;
  keyPrefix: string;
  /** The lease is renewed this often and lasts three times as long (crm.outbox.ownerLeaseMs). */
  leaseMs: number;
  /** This node's id; default a new random one (a restarted process is a new node). */
  nodeId?: string;
}

export class RedisCrmOutboxStore extends CrmOutboxStore {
  private readonly logger = new Logger('CrmOutbox');
  private readonly redis: OutboxRedis;
  readonly nodeId: string;
  private lastError: string | null = null;
  private renewTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: RedisCrmOutboxOptions) {
    super();
    this.nodeId = options.nodeId ?? randomUUID();
    this.redis = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 5000,
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 5000),
    }) as OutboxRedis;
    this.redis.defineCommand('mhCrmTakeOver', { numberOfKeys: 1, lua: TAKE_OVER });
    this.redis.defineCommand('mhCrmInspect', { numberOfKeys: 2, lua: INSPECT });
    this.redis.on('error', (err: Error) => {
      if (err.message !== this.lastError) this.logger.warn(`CRM outbox Redis: ${err.message}`);
      this.lastError = err.message;
    });
    this.redis.on('ready', () => {
      if (this.lastError) this.logger.log('CRM outbox Redis is reachable again');
      this.lastError = null;
      void this.renew();
    });
  }

  async open(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (err) {
      this.lastError = (err as Error).message;
      this.logger.warn(`CRM outbox: Redis not reachable (${this.lastError}); retrying`);
    }
    await this.renew();
    this.renewTimer = setInterval(() => void this.renew(), this.options.leaseMs);
    this.renewTimer.unref();
  }

  async takeOver(): Promise<StoredCrmCall[]> {
    if (this.redis.status !== 'ready') return [];
    const texts = await this.redis.mhCrmTakeOver('crm:nodes', this.options.keyPrefix, this.nodeId);
    const out: StoredCrmCall[] = [];
    for (const t of texts) {
      const call = this.decode(t);
      if (call) out.push(call);
    }
    if (out.length > 0) {
      this.logger.log(`CRM outbox: took over ${out.length} call(s) of nodes that are gone`);
    }
    return out;
  }

  async put(call: StoredCrmCall): Promise<void> {
    this.usable();
    await this.redis
      .multi()
      .set(`crm:call:${call.id}`, JSON.stringify(call))
      .hset('crm:owner', call.id, this.nodeId)
      .sadd(`crm:node-calls:${this.nodeId}`, call.id)
      .exec();
  }

  async remove(id: string): Promise<void> {
    this.usable();
    await this.redis
      .multi()
      .del(`crm:call:${id}`)
      .hdel('crm:owner', id)
      .srem(`crm:node-calls:${this.nodeId}`, id)
      .exec();
  }

  async inspect(id: string): Promise<InspectedCall | undefined> {
    this.usable();
    const r = await this.redis.mhCrmInspect(
      `crm:call:${id}`,
      'crm:owner',
      this.options.keyPrefix,
      id,
      this.nodeId,
    );
    if (!r) return undefined;
    const call = this.decode(r[1]);
    return call ? { call, mine: r[0] === 'mine' } : undefined;
  }

  readiness(): Readiness {
    if (this.redis.status === 'ready') return { ready: true, reason: 'redis' };
    return {
      ready: false,
      reason: `CRM outbox Redis is ${this.redis.status}${this.lastError ? `: ${this.lastError}` : ''}`,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.redis.status === 'ready') {
      // Without a lease, another node (or this one's restart) takes the calls over at once.
      await this.redis.del(`crm:lease:${this.nodeId}`).catch(() => undefined);
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  /** Renews this node's lease (and registers it). */
  private async renew(): Promise<void> {
    if (this.closed || this.redis.status !== 'ready') return;
    try {
      await this.redis
        .multi()
        .sadd('crm:nodes', this.nodeId)
        .set(`crm:lease:${this.nodeId}`, String(Date.now()), 'PX', this.options.leaseMs * 3)
        .exec();
    } catch (err) {
      this.logger.warn(`CRM outbox: lease renewal failed: ${(err as Error).message}`);
    }
  }

  private usable(): void {
    if (this.redis.status !== 'ready') {
      throw new Error(`the CRM outbox's Redis is not connected (${this.redis.status})`);
    }
  }

  private decode(text: string): StoredCrmCall | undefined {
    try {
      return parseStoredCall(JSON.parse(text));
    } catch (err) {
      this.logger.error(`CRM outbox: a stored call in Redis is skipped: ${(err as Error).message}`);
      return undefined;
    }
  }
}
