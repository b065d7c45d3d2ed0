// The `cluster` block: several nodes behind a load balancer sharing one Redis (line leases,
// SignalR connection tokens, REST rate limits). Owns the keys and their checks, nothing else;
// hooked into AppConfig with one `@Nested` line (and `@ClusterNeedsRedis()` for the cross-check).
import { hostname } from 'node:os';
import {
  IsBoolean,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';
import { Sensitive, ToBoolean, ToNumber } from './config.decorators';

export class ClusterConfig {
  /** Run as one node of several sharing storage.redis (storage.driver must be "redis"). */
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  enabled = false;

  /** This node's name in leases and logs; empty: host name + process id. */
  @IsString()
  @Matches(/^$|^[A-Za-z0-9_.:@-]{1,100}$/, {
    message: 'must be empty or up to 100 letters, digits and _ . : @ -',
  })
  nodeId = '';

  /** A line lease lives this long without renewal: a dead node's lines are free after it. */
  @ToNumber()
  @IsInt({ message: 'must be a whole number of ms from 1000 to 300000' })
  @Min(1000, { message: 'must be a whole number of ms from 1000 to 300000' })
  @Max(300_000, { message: 'must be a whole number of ms from 1000 to 300000' })
  leaseMs = 10_000;

  /** Shared HMAC key of the SignalR connection tokens: the same on every node. */
  @Sensitive()
  @ValidateIf((o: ClusterConfig) => o.enabled === true)
  @IsString()
  @Matches(/^.{32,}$/s, {
    message:
      'is required when cluster.enabled is true: at least 32 characters, the same on every node',
  })
  secret = '';

  /** nodeId, or host name + pid when none is configured. */
  effectiveNodeId(): string {
    return this.nodeId || `${hostname()}-${process.pid}`;
  }

  /** Never the secret, whatever serialises this block (a log line, an error message). */
  toJSON(): Record<string, unknown> {
    return {
      enabled: this.enabled,
      nodeId: this.nodeId,
      leaseMs: this.leaseMs,
      secret: this.secret ? '***' : '',
    };
  }
}

/**
 * On AppConfig's `cluster` property: a cluster keeps its leases in the settings Redis, so
 * cluster.enabled needs storage.driver "redis".
 */
export function ClusterNeedsRedis(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'clusterNeedsRedis',
      validator: {
        validate: (value: unknown, args) => {
          const cluster = value as Partial<ClusterConfig> | undefined;
          if (cluster?.enabled !== true) return true;
          const storage = (args?.object as { storage?: { driver?: unknown } } | undefined)?.storage;
          return storage?.driver === 'redis';
        },
        defaultMessage: () =>
          'cluster.enabled needs storage.driver "redis": the nodes share line leases through that Redis',
      },
    },
    options,
  );
}
