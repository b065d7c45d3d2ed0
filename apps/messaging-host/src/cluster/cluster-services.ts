// The cluster parts of this process, built once from the configuration by `cluster.enabled`:
// Redis leases or this node's memory, signed or in-memory SignalR tokens, Redis rate limits or none.
import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import {
  MemoryAgentStateStore,
  SingleNodeActionGate,
  type AgentStateStore,
  type LineActionGate,
} from '@app/messaging';
import type { AppConfig } from '../config/app-config';
import {
  MemoryNegotiationStore,
  type NegotiationStore,
} from '../gateway/signalr/negotiation-store';
import { ClusterNodes } from './cluster-nodes';
import { ClusterRedis } from './cluster-redis';
import { RedisAgentStateStore } from './redis-agent-state.store';
import { RedisLineActionGate } from './redis-line-action.gate';
import { LocalLineOwnership, type LineOwnership } from './line-ownership';
import { RedisLineOwnership } from './redis-line-ownership';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { SignedNegotiationStore } from './signed-negotiation-store';

/** The cluster parts of this process, built once from the configuration. */
export class ClusterServices {
  constructor(
    readonly nodeId: string,
    readonly ownership: LineOwnership,
    readonly negotiation: NegotiationStore,
    /** Undefined on a single node: the throttler keeps its counters in memory. */
    readonly throttlerStorage: ThrottlerStorage | undefined,
    readonly redis: ClusterRedis | undefined,
    /** Who does a line's side effects (libraries ask it). */
    readonly gate: LineActionGate,
    /** The agent state of the lines (libraries keep it there). */
    readonly agents: AgentStateStore,
    readonly nodes: ClusterNodes | undefined,
  ) {}

  get enabled(): boolean {
    return this.redis !== undefined;
  }

  async close(): Promise<void> {
    await this.ownership.close();
    await this.nodes?.close();
    if (this.agents instanceof RedisAgentStateStore) await this.agents.close();
    if (this.throttlerStorage instanceof RedisThrottlerStorage) this.throttlerStorage.close();
    await this.redis?.close();
  }
}

export async function createClusterServices(config: AppConfig): Promise<ClusterServices> {
  const c = config.cluster;
  const nodeId = c.effectiveNodeId();
  if (!c.enabled) {
    return new ClusterServices(
      nodeId,
      new LocalLineOwnership(),
      new MemoryNegotiationStore(),
      undefined,
      undefined,
      new SingleNodeActionGate(),
      new MemoryAgentStateStore(),
      undefined,
    );
  }
  const redis = new ClusterRedis({
    url: config.storage.redis.url,
    keyPrefix: config.storage.redis.keyPrefix,
    commandTimeoutMs: Math.min(2000, Math.max(250, Math.floor(c.leaseMs / 4))),
  });
  await redis.open();
  new Logger('Cluster').log(
    `node ${nodeId} of a cluster: line leases of ${c.leaseMs} ms, signed SignalR tokens, shared REST rate limits`,
  );
  const ownership = new RedisLineOwnership(redis, { nodeId, leaseMs: c.leaseMs });
  const agents = new RedisAgentStateStore(redis, nodeId);
  await agents.open();
  return new ClusterServices(
    nodeId,
    ownership,
    new SignedNegotiationStore(c.secret),
    new RedisThrottlerStorage(redis),
    redis,
    new RedisLineActionGate(redis, ownership, nodeId),
    agents,
    new ClusterNodes(redis, nodeId, c.leaseMs),
  );
}
