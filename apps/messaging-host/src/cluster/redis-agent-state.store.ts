// The agent state of the lines in Redis (cluster.enabled): one hash `agents` (line -> JSON), a
// local copy for synchronous reads, kept current by a pub/sub message per change and reloaded
// whenever Redis is (again) reachable. A change made while Redis is away is kept here and written
// when it returns; after Redis restarted empty, the nodes put back what they know.
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AgentStateStore, type SharedAgentState } from '@app/messaging';
import type { ClusterRedis } from './cluster-redis';

const AGENTS_KEY = 'agents';

interface Change {
  line: string;
  state: SharedAgentState | null;
  node: string;
}

export class RedisAgentStateStore extends AgentStateStore {
  private readonly logger = new Logger('AgentStates');
  private readonly cache = new Map<string, SharedAgentState>();
  /** Lines changed while Redis was away: written when it is back. */
  private readonly pending = new Set<string>();
  private readonly sub: Redis;
  private readonly channel: string;
  private readonly stopReady: () => void;
  private closed = false;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly nodeId: string,
  ) {
    super();
    this.channel = `${redis.keyPrefix}agents`;
    this.sub = redis.subscriber();
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onMessage(message);
    });
    this.stopReady = redis.onReady(() => void this.sync());
  }

  async open(): Promise<void> {
    try {
      await this.sub.connect();
      await this.sub.subscribe(this.channel);
    } catch (err) {
      this.logger.warn(`agent state changes: cannot subscribe yet (${(err as Error).message})`);
    }
    this.sub.on('ready', () => void this.sub.subscribe(this.channel).catch(() => undefined));
    await this.sync();
  }

  get(line: string): SharedAgentState | undefined {
    const s = this.cache.get(line);
    return s ? { ...s } : undefined;
  }

  lines(): string[] {
    return [...this.cache.keys()];
  }

  async set(line: string, state: SharedAgentState): Promise<void> {
    this.cache.set(line, { ...state });
    this.pending.add(line);
    await this.flush(line);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopReady();
    this.sub.disconnect();
  }

  /** Writes what changed while Redis was away, then takes the others' states. */
  private async sync(): Promise<void> {
    if (this.closed || !this.redis.isReady) return;
    for (const line of [...this.pending]) await this.flush(line);
    try {
      // Redis restarted empty: what this node knows comes back (never over a newer state).
      if (this.cache.size > 0) {
        const pipe = this.redis.client.pipeline();
        for (const [line, state] of this.cache) {
          if (!this.pending.has(line)) pipe.hsetnx(AGENTS_KEY, line, JSON.stringify(state));
        }
        await pipe.exec();
      }
      const all = await this.redis.client.hgetall(AGENTS_KEY);
      for (const [line, json] of Object.entries(all)) {
        if (this.pending.has(line)) continue;
        const s = parse(json);
        if (s) this.cache.set(line, s);
      }
    } catch (err) {
      this.logger.warn(`reading the agent states failed: ${(err as Error).message}`);
    }
  }

  private async flush(line: string): Promise<void> {
    if (!this.redis.isReady) return;
    const state = this.cache.get(line) ?? null;
    const change: Change = { line, state, node: this.nodeId };
    try {
      await this.redis.client.mhAgentSet(
        AGENTS_KEY,
        line,
        state ? JSON.stringify(state) : '',
        this.channel,
        JSON.stringify(change),
      );
      if (this.cache.get(line) === state || state === null) this.pending.delete(line);
    } catch (err) {
      this.logger.warn(
        `line ${line}: the agent state is kept here until Redis takes it: ${(err as Error).message}`,
      );
    }
  }

  private onMessage(message: string): void {
    let change: Change;
    try {
      change = JSON.parse(message) as Change;
    } catch {
      return;
    }
    if (change.node === this.nodeId || typeof change.line !== 'string') return;
    if (this.pending.has(change.line)) return; // ours is newer and on its way
    if (change.state === null) this.cache.delete(change.line);
    else {
      const s = parse(JSON.stringify(change.state));
      if (s) this.cache.set(change.line, s);
    }
  }
}

function parse(json: string): SharedAgentState | undefined {
  try {
    const v = JSON.parse(json) as Partial<SharedAgentState>;
    if (typeof v.code !== 'string') return undefined;
    return {
      code: v.code,
      ...(typeof v.reason === 'string' && v.reason ? { reason: v.reason } : {}),
      wrapUp: v.wrapUp === true,
      autoPaused: v.autoPaused === true,
    };
  } catch {
    return undefined;
  }
}
